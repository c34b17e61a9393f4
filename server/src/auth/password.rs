//! Console passwords: argon2id with a random salt (PHC string); callers hash off the async threads.

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use std::sync::OnceLock;

/// Hashes a password with argon2id and a random salt (PHC string).
pub fn hash(password: &str) -> anyhow::Result<String> {
    if password.chars().count() < app::api::session::MIN_PASSWORD_CHARS {
        anyhow::bail!(
            "the password must be at least {} characters",
            app::api::session::MIN_PASSWORD_CHARS
        );
    }
    let hash = Argon2::default()
        .hash_password(password.as_bytes())
        .map_err(|e| anyhow::anyhow!("cannot hash the password: {e}"))?;
    Ok(hash.to_string())
}

/// True when `password` matches the PHC string; a malformed hash never matches.
pub fn verify(phc: &str, password: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), phc)
        .is_ok()
}

/// A hash with the same parameters as real ones: unknown logins are verified against it so that
/// they take as long as known ones.
pub fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        hash("no user has this password").expect("BUG: a fixed long password hashes")
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn hashes_are_argon2id_salted_and_short_passwords_are_refused() {
        let a = super::hash("correct horse").unwrap();
        let b = super::hash("correct horse").unwrap();
        assert!(a.starts_with("$argon2id$"));
        assert_ne!(a, b);
        assert!(super::hash("short").is_err());
        assert!(super::verify(&a, "correct horse"));
        assert!(!super::verify(&a, "correct horse!"));
        assert!(!super::verify("not a hash", "correct horse"));
        assert!(!super::verify(super::dummy_hash(), "correct horse"));
    }
}
