//! The signature a receiver checks to know a delivery came from us, unchanged:
//! `X-Litebase-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`, with
//! the timestamp (unix seconds) in `X-Litebase-Timestamp`. Signing the timestamp
//! with the body lets a receiver refuse old deliveries replayed by someone who
//! saw one.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "X-Litebase-Signature";
/// The header carrying the signed timestamp.
pub const TIMESTAMP_HEADER: &str = "X-Litebase-Timestamp";

/// The `X-Litebase-Signature` value of `body` sent at `timestamp` with `secret`.
pub fn sign(secret: &str, timestamp: u64, body: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let mut out = String::with_capacity(7 + digest.len() * 2);
    out.push_str("sha256=");
    for byte in digest {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

/// Whether `signature` is the one [`sign`] makes (in constant time), as a
/// receiver written in Rust would check it.
pub fn verify(secret: &str, timestamp: u64, body: &[u8], signature: &str) -> bool {
    let Some(hex) = signature.strip_prefix("sha256=") else {
        return false;
    };
    let Some(bytes) = decode_hex(hex) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(&bytes).is_ok()
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_a_known_hmac() {
        // HMAC-SHA256(key "key", message "1.{}"), computed with Python's hmac.
        assert_eq!(
            sign("key", 1, b"{}"),
            "sha256=1ba6b8171186efc613e8bcc0cbdab2748f24984d7c5a84faa2637afa0e40d224"
        );
    }

    #[test]
    fn verifies_its_own_and_nothing_else() {
        let s = sign("secret", 1_700_000_000, b"{\"a\":1}");
        assert!(verify("secret", 1_700_000_000, b"{\"a\":1}", &s));
        assert!(!verify("other", 1_700_000_000, b"{\"a\":1}", &s));
        assert!(!verify("secret", 1_700_000_001, b"{\"a\":1}", &s));
        assert!(!verify("secret", 1_700_000_000, b"{\"a\":2}", &s));
        assert!(!verify("secret", 1_700_000_000, b"{\"a\":1}", "sha256=zz"));
        assert!(!verify("secret", 1_700_000_000, b"{\"a\":1}", &s[7..]));
    }
}
