//! Console passwords: argon2id with a random salt (PHC string); callers hash off the async threads.

use argon2::Argon2;
use argon2::password_hash::PasswordHasher;

/// Hashes a password with argon2id and a random salt (PHC string).
pub fn hash(password: &str) -> anyhow::Result<String> {
    if password.chars().count() < 8 {
        anyhow::bail!("the password must be at least 8 characters");
    }
    let hash = Argon2::default()
        .hash_password(password.as_bytes())
        .map_err(|e| anyhow::anyhow!("cannot hash the password: {e}"))?;
    Ok(hash.to_string())
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
    }
}
