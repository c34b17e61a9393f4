//! Authentication: till keys (API) and console passwords.

pub mod password;
pub mod session;
pub mod till_key;
