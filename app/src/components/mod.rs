pub mod layout;
pub mod page_error;
