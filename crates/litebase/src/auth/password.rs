//! Password hashing with argon2id (PHC string format, salt included).

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

use super::AuthError;

/// Shortest password we accept (PocketBase's default for auth collections).
pub const MIN_LENGTH: usize = 8;
/// Longest password we accept; hashing cost grows with length, so bound it.
pub const MAX_LENGTH: usize = 256;

/// argon2id v19 with OWASP's recommended minimum: 19 MiB, 2 passes, 1 lane.
fn hasher() -> Argon2<'static> {
    #[allow(clippy::expect_used)]
    let params = Params::new(19 * 1024, 2, 1, None).expect("constant argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Checks a new password's length, counted in characters.
pub fn validate(password: &str) -> Result<(), AuthError> {
    let len = password.chars().count();
    if len < MIN_LENGTH {
        return Err(AuthError::Invalid {
            field: "password",
            message: format!("Must be at least {MIN_LENGTH} character(s)."),
        });
    }
    if len > MAX_LENGTH {
        return Err(AuthError::Invalid {
            field: "password",
            message: format!("Must be no more than {MAX_LENGTH} character(s)."),
        });
    }
    Ok(())
}

/// Hashes `password` with a fresh random salt. CPU-heavy (~20 ms optimised): call it
/// from a blocking thread, never from an async task.
pub fn hash(password: &str) -> Result<String, AuthError> {
    hasher()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Hash(e.to_string()))
}

/// Whether `password` matches `phc` (constant-time comparison inside argon2).
/// A malformed stored hash never matches.
pub fn verify(password: &str, phc: &str) -> bool {
    hasher().verify_password(password.as_bytes(), phc).is_ok()
}

/// At most this many hashes run at once (one per core): each takes 19 MiB and a
/// core, so more in parallel only adds memory and latency, never throughput.
fn permits() -> &'static tokio::sync::Semaphore {
    static PERMITS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    PERMITS.get_or_init(|| {
        tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
    })
}

/// [`hash`] on a blocking thread, limited to one hash per core at a time.
pub async fn hash_async(password: &str) -> Result<String, AuthError> {
    let _permit = permits()
        .acquire()
        .await
        .map_err(|e| AuthError::Hash(e.to_string()))?;
    let password = password.to_string();
    tokio::task::spawn_blocking(move || hash(&password))
        .await
        .map_err(|e| AuthError::Hash(e.to_string()))?
}

/// [`verify`] on a blocking thread, limited like [`hash_async`]. An empty stored
/// hash never matches.
pub async fn verify_async(password: &str, phc: &str) -> bool {
    if phc.is_empty() {
        return false;
    }
    let Ok(_permit) = permits().acquire().await else {
        return false;
    };
    let (password, phc) = (password.to_string(), phc.to_string());
    tokio::task::spawn_blocking(move || verify(&password, &phc))
        .await
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_salted_argon2id_and_verify() -> Result<(), AuthError> {
        let a = hash("correct horse")?;
        let b = hash("correct horse")?;
        assert_ne!(a, b, "each hash has its own salt");
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert!(verify("correct horse", &a));
        assert!(!verify("correct horsE", &a));
        assert!(!verify("correct horse", "not a hash"));
        Ok(())
    }

    #[test]
    fn length_limits_count_characters() {
        assert!(validate("1234567").is_err());
        assert!(validate("12345678").is_ok());
        assert!(validate(&"é".repeat(MAX_LENGTH)).is_ok());
        assert!(validate(&"é".repeat(MAX_LENGTH + 1)).is_err());
    }
}
