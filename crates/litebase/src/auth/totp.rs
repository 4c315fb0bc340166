//! Time-based one-time passwords (RFC 6238 over RFC 4226's HOTP), the codes
//! authenticator apps show: HMAC-SHA1, 6 digits, 30-second steps, the shape
//! every app accepts from an `otpauth://` URI. Pure: the clock and the secret
//! are arguments, so the tests run the RFC's vectors.
//!
//! ```
//! use litebase::auth::totp;
//! let secret = b"12345678901234567890";
//! assert_eq!(totp::code_at(secret, 59), "287082");
//! assert_eq!(totp::matching_step(secret, "287082", 59), Some(1));
//! ```

use hmac::{Hmac, Mac};

/// Seconds one code is shown for.
pub const PERIOD: u64 = 30;
/// Digits in a code.
pub const DIGITS: u32 = 6;
/// Steps before and after the current one also accepted (clock drift, slow typing).
pub const SKEW: u64 = 1;
/// Bytes of a new secret (160 bits, RFC 4226's recommendation for SHA-1).
pub const SECRET_BYTES: usize = 20;

/// A fresh random secret.
pub fn new_secret() -> Vec<u8> {
    let mut secret = vec![0u8; SECRET_BYTES];
    // Without OS randomness no secret can be made safely at all.
    getrandom::fill(&mut secret).expect("the OS random number generator failed");
    secret
}

/// The secret as authenticator apps take it: base32 without padding.
pub fn encode_secret(secret: &[u8]) -> String {
    data_encoding::BASE32_NOPAD.encode(secret)
}

/// The secret back from its base32 text (spaces and case ignored); `None` if malformed.
pub fn decode_secret(text: &str) -> Option<Vec<u8>> {
    let clean: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '=')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    data_encoding::BASE32_NOPAD.decode(clean.as_bytes()).ok()
}

/// The HOTP value of `counter` (RFC 4226, section 5.3), as `DIGITS` digits.
pub fn hotp(secret: &[u8], counter: u64) -> String {
    // HMAC takes keys of any length, so this never fails.
    let Ok(mut mac) = Hmac::<sha1::Sha1>::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = (digest[digest.len() - 1] & 0x0f) as usize;
    let binary = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    format!(
        "{:0width$}",
        binary % 10u32.pow(DIGITS),
        width = DIGITS as usize
    )
}

/// The time step `unix_seconds` falls in.
pub fn step_at(unix_seconds: u64) -> u64 {
    unix_seconds / PERIOD
}

/// The code an app shows at `unix_seconds`.
pub fn code_at(secret: &[u8], unix_seconds: u64) -> String {
    hotp(secret, step_at(unix_seconds))
}

/// The step (within `SKEW` of now) whose code is `given`, if any. The caller
/// keeps the newest accepted step and refuses steps not after it, so a code
/// works once. Compares in constant time.
pub fn matching_step(secret: &[u8], given: &str, unix_seconds: u64) -> Option<u64> {
    let given: String = given.chars().filter(|c| !c.is_whitespace()).collect();
    if given.len() != DIGITS as usize || !given.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = step_at(unix_seconds);
    let mut found = None;
    for step in now.saturating_sub(SKEW)..=now + SKEW {
        if constant_time_eq(hotp(secret, step).as_bytes(), given.as_bytes()) {
            found = Some(step);
        }
    }
    found
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The `otpauth://` URI an app scans: `issuer` (the app's name) and `account`
/// (the record's email) label the entry.
pub fn otpauth_uri(secret: &[u8], issuer: &str, account: &str) -> String {
    let label = format!("{}:{}", encode_component(issuer), encode_component(account));
    format!(
        "otpauth://totp/{label}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={PERIOD}",
        encode_secret(secret),
        encode_component(issuer)
    )
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The QR code of `text` as an SVG document (black on white, crisp edges).
pub fn qr_svg(text: &str) -> Option<String> {
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    Some(
        code.render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(200, 200)
            .quiet_zone(true)
            .build(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238, appendix B: the SHA-1 rows (8-digit codes; ours are their last 6).
    #[test]
    fn rfc_6238_vectors() {
        let secret = b"12345678901234567890";
        for (time, eight) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(code_at(secret, time), eight[2..], "at {time}");
        }
    }

    #[test]
    fn rfc_4226_hotp_vectors() {
        let secret = b"12345678901234567890";
        let expected = ["755224", "287082", "359152", "969429", "338314"];
        for (counter, code) in expected.iter().enumerate() {
            assert_eq!(hotp(secret, counter as u64), *code);
        }
    }

    #[test]
    fn neighbouring_steps_match_and_farther_ones_do_not() {
        let secret = new_secret();
        let now = 1_700_000_000;
        let step = step_at(now);
        assert_eq!(
            matching_step(&secret, &code_at(&secret, now), now),
            Some(step)
        );
        let before = code_at(&secret, now - PERIOD);
        assert_eq!(matching_step(&secret, &before, now), Some(step - 1));
        let long_ago = code_at(&secret, now - 5 * PERIOD);
        if long_ago != code_at(&secret, now) && long_ago != before {
            assert_eq!(matching_step(&secret, &long_ago, now), None);
        }
        assert_eq!(matching_step(&secret, "12345", now), None, "too short");
        assert_eq!(matching_step(&secret, "abcdef", now), None, "not digits");
        assert_eq!(matching_step(&secret, "", now), None);
    }

    #[test]
    fn secrets_round_trip_through_base32() {
        let secret = new_secret();
        let text = encode_secret(&secret);
        assert_eq!(text.len(), 32);
        assert_eq!(decode_secret(&text.to_lowercase()), Some(secret));
        assert_eq!(decode_secret("not base32!"), None);
    }

    #[test]
    fn the_uri_names_issuer_and_account() {
        let uri = otpauth_uri(b"12345678901234567890", "My App", "ann@example.com");
        assert_eq!(
            uri,
            "otpauth://totp/My%20App:ann%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &issuer=My%20App&algorithm=SHA1&digits=6&period=30"
        );
        let svg = qr_svg(&uri).unwrap_or_default();
        assert!(svg.starts_with("<?xml") && svg.contains("<svg"), "{svg}");
    }
}
