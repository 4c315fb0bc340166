//! Hides secrets that clients put in URLs (`?token=…`, `?password=…`) before a
//! request's URL is stored in the log.

/// Query keys whose values never reach the log (matched case-insensitively,
/// as substrings: `resetToken`, `oldPassword`…).
const SECRET_KEYS: [&str; 5] = ["token", "password", "secret", "otp", "code"];

/// `path_and_query` with the value of every secret-looking query parameter
/// replaced by `***`.
///
/// ```
/// use litebase::logs::redact_url;
/// assert_eq!(redact_url("/api/x?token=abc&page=2"), "/api/x?token=***&page=2");
/// assert_eq!(redact_url("/api/x"), "/api/x");
/// ```
pub fn redact_url(path_and_query: &str) -> String {
    let Some((path, query)) = path_and_query.split_once('?') else {
        return path_and_query.to_string();
    };
    let mut out = String::with_capacity(path_and_query.len());
    out.push_str(path);
    out.push('?');
    for (i, pair) in query.split('&').enumerate() {
        if i > 0 {
            out.push('&');
        }
        match pair.split_once('=') {
            Some((key, _)) if is_secret(key) => {
                out.push_str(key);
                out.push_str("=***");
            }
            _ => out.push_str(pair),
        }
    }
    out
}

fn is_secret(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    SECRET_KEYS.iter().any(|s| key.contains(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hides_only_secret_values() {
        assert_eq!(
            redact_url("/a?filter=x%3D1&resetToken=t&Password=p&otpId=9&sort=-created"),
            "/a?filter=x%3D1&resetToken=***&Password=***&otpId=***&sort=-created"
        );
        assert_eq!(redact_url("/a?token"), "/a?token");
        assert_eq!(redact_url("/a?"), "/a?");
    }
}
