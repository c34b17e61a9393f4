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

/// Argon2's working memory for `verify_with` (19 MiB with the default parameters): kept and
/// reused by the caller, because a fresh allocation per sign-in is retained by the allocator per
/// thread and 40 parallel sign-ins grew the server by hundreds of megabytes.
pub type Memory = Vec<argon2::Block>;

/// `verify`, hashing in `memory` (grown to the hash's parameters when smaller).
pub fn verify_with(phc: &str, password: &str, memory: &mut Memory) -> bool {
    use argon2::password_hash::phc::{Output, PasswordHash};
    let Ok(hash) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else {
        return false;
    };
    let Ok(params) = argon2::Params::try_from(&hash) else {
        return false;
    };
    let Ok(algorithm) = argon2::Algorithm::try_from(hash.algorithm.as_str()) else {
        return false;
    };
    let version = match hash.version.map(argon2::Version::try_from) {
        None => argon2::Version::default(),
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    let argon = Argon2::new(algorithm, version, params);
    let blocks = argon.params().block_count();
    if memory.len() < blocks {
        memory.resize(blocks, argon2::Block::default());
    }
    let mut out = vec![0u8; expected.len()];
    if argon
        .hash_password_into_with_memory(
            password.as_bytes(),
            salt.as_ref(),
            &mut out,
            &mut memory[..blocks],
        )
        .is_err()
    {
        return false;
    }
    // `Output`'s equality is constant-time.
    Output::new(&out).is_ok_and(|o| o == *expected)
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
        let mut memory = super::Memory::new();
        assert!(super::verify_with(&a, "correct horse", &mut memory));
        assert!(!super::verify_with(&a, "correct horse!", &mut memory));
        assert!(!super::verify_with(
            "not a hash",
            "correct horse",
            &mut memory
        ));
        assert!(super::verify_with(&b, "correct horse", &mut memory));
    }
}
