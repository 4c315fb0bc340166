//! Reading one cookie from a request's `Cookie` headers. actix-web's own cookie
//! support is a feature we leave off; this is all the admin UI and apps need.

use actix_web::http::header::{self, HeaderMap};

/// The value of cookie `name` (surrounding quotes and spaces removed), or `None`
/// when it is absent or empty.
///
/// ```
/// use actix_web::http::header::{HeaderMap, HeaderValue, COOKIE};
/// let mut headers = HeaderMap::new();
/// headers.insert(COOKIE, HeaderValue::from_static("a=1; lang=\"fr\""));
/// assert_eq!(litebase::cookie::read(&headers, "lang").as_deref(), Some("fr"));
/// assert_eq!(litebase::cookie::read(&headers, "b"), None);
/// ```
pub fn read(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().trim_matches('"').to_string())
        .filter(|v| !v.is_empty())
}
