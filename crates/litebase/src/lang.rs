//! The language of an HTTP request, for server-rendered pages: `?lang=`, then a
//! cookie remembering an earlier choice, then `Accept-Language`, then English.
//! The admin UI (cookie `lb_lang`) and apps' own pages (their own cookie) share it.

use std::collections::BTreeMap;

use actix_web::HttpRequest;
use actix_web::http::header;

pub use crate::mail::Lang;

/// The language from a `?lang=` value, else a cookie value, else an
/// `Accept-Language` header, else English. Unsupported values are skipped.
///
/// ```
/// use litebase::lang::{negotiate, Lang};
/// assert_eq!(negotiate(Some("de"), Some("fr"), Some("en")), Lang::Fr);
/// ```
pub fn negotiate(query: Option<&str>, cookie: Option<&str>, accept: Option<&str>) -> Lang {
    query
        .and_then(Lang::parse)
        .or_else(|| cookie.and_then(Lang::parse))
        .unwrap_or_else(|| Lang::from_accept_language(accept))
}

/// The supported language a request's `?lang=` parameter asks for, if any (a
/// page then remembers it in its cookie).
pub fn query_lang(req: &HttpRequest) -> Option<Lang> {
    req.query_string()
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == "lang")
        .and_then(|(_, v)| Lang::parse(v))
}

/// [`negotiate`] for a request whose remembered choice is in cookie `cookie_name`.
pub fn request_lang(req: &HttpRequest, cookie_name: &str) -> Lang {
    let query = query_lang(req);
    let cookie = crate::cookie::read(req.headers(), cookie_name);
    let accept = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    negotiate(query.map(Lang::code), cookie.as_deref(), accept)
}

/// A UI's strings in every [`Lang`], built once from a `(key, English, French)`
/// table; templates read [`Translations::all`] as `t.key`.
///
/// ```
/// use litebase::lang::{Lang, Translations};
/// let t = Translations::new(&[("hello", "Hello", "Bonjour")]);
/// assert_eq!(t.text(Lang::Fr, "hello"), "Bonjour");
/// assert_eq!(t.text(Lang::En, "missing"), "missing");
/// ```
pub struct Translations {
    by_lang: [BTreeMap<&'static str, &'static str>; 2],
}

impl Translations {
    /// Indexes `rows` by language (`(key, English, French)` each).
    pub fn new(rows: &[(&'static str, &'static str, &'static str)]) -> Self {
        let en = rows.iter().map(|(k, en, _)| (*k, *en)).collect();
        let fr = rows.iter().map(|(k, _, fr)| (*k, *fr)).collect();
        Self { by_lang: [en, fr] }
    }

    /// Every string of `lang`, by key.
    pub fn all(&self, lang: Lang) -> &BTreeMap<&'static str, &'static str> {
        &self.by_lang[lang.index()]
    }

    /// One string of `lang`; the key itself when missing (visible, not a crash).
    pub fn text(&self, lang: Lang, key: &'static str) -> &'static str {
        self.all(lang).get(key).copied().unwrap_or(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn query_beats_cookie_beats_header() {
        assert_eq!(negotiate(Some("fr"), Some("en"), None), Lang::Fr);
        assert_eq!(negotiate(Some("de"), Some("fr"), Some("en")), Lang::Fr);
        assert_eq!(
            negotiate(None, None, Some("de-DE,fr;q=0.8,en;q=0.5")),
            Lang::Fr
        );
        assert_eq!(negotiate(None, None, Some("de")), Lang::En);
        assert_eq!(negotiate(None, None, None), Lang::En);
    }

    #[test]
    fn a_request_is_read_with_the_callers_cookie() {
        let req = TestRequest::default()
            .insert_header((header::COOKIE, "lang=en; lb_lang=fr"))
            .insert_header((header::ACCEPT_LANGUAGE, "en"))
            .to_http_request();
        assert_eq!(request_lang(&req, "lb_lang"), Lang::Fr);
        assert_eq!(request_lang(&req, "lang"), Lang::En);
        let req = TestRequest::with_uri("/?x=1&lang=fr")
            .insert_header((header::COOKIE, "lang=en"))
            .to_http_request();
        assert_eq!(query_lang(&req), Some(Lang::Fr));
        assert_eq!(request_lang(&req, "lang"), Lang::Fr);
    }
}
