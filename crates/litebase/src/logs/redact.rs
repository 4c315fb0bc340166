//! Hides secrets that clients put in URLs (`?token=…`, `?password=…`, the
//! one-time setup link) before a request's URL is stored in the log.

/// Query keys whose values never reach the log (matched case-insensitively,
/// as substrings: `resetToken`, `oldPassword`…).
const SECRET_KEYS: [&str; 5] = ["token", "password", "secret", "otp", "code"];

/// Path segments after which the next segment is a secret: the admin UI's
/// one-time setup link (`/_/setup/{token}`) and seat links (`…/seat/{token}`,
/// which let whoever holds them take a seat, as poker's host links do).
const SECRET_PATH_MARKERS: [&str; 2] = ["/_/setup/", "/seat/"];

/// `path_and_query` with the value of every secret-looking query parameter, and
/// every secret path segment, replaced by `***`.
///
/// ```
/// use litebase::logs::redact_url;
/// assert_eq!(redact_url("/api/x?token=abc&page=2"), "/api/x?token=***&page=2");
/// assert_eq!(redact_url("/_/setup/abc123"), "/_/setup/***");
/// assert_eq!(redact_url("/api/x"), "/api/x");
/// ```
pub fn redact_url(path_and_query: &str) -> String {
    let (path, query) = match path_and_query.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (path_and_query, None),
    };
    let mut out = String::with_capacity(path_and_query.len());
    push_redacted_path(&mut out, path);
    let Some(query) = query else {
        return out;
    };
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

/// Appends `path`, hiding the segment that follows each secret marker.
fn push_redacted_path(out: &mut String, path: &str) {
    let mut rest = path;
    while let Some((at, marker)) = SECRET_PATH_MARKERS
        .iter()
        .filter_map(|m| rest.find(m).map(|at| (at, *m)))
        .min_by_key(|(at, _)| *at)
    {
        let after = at + marker.len();
        out.push_str(&rest[..after]);
        let secret_len = rest[after..].find('/').unwrap_or(rest.len() - after);
        if secret_len > 0 {
            out.push_str("***");
        }
        rest = &rest[after + secret_len..];
    }
    out.push_str(rest);
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

    #[test]
    fn hides_secret_path_segments() {
        assert_eq!(redact_url("/_/setup/tok3n"), "/_/setup/***");
        assert_eq!(redact_url("/_/setup/"), "/_/setup/");
        assert_eq!(
            redact_url("/r/ABCD/seat/s3cret?lang=fr&token=x"),
            "/r/ABCD/seat/***?lang=fr&token=***"
        );
        assert_eq!(
            redact_url("/r/ABCD/seat/s/x/seat/t"),
            "/r/ABCD/seat/***/x/seat/***"
        );
        assert_eq!(redact_url("/api/seats"), "/api/seats");
    }
}
