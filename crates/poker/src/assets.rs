//! The static files of the pages (CSS, JS, vendored libraries), embedded in the
//! binary and served from `/static/…` under content-versioned names, so browsers
//! may cache them forever.

use litebase::assets::{AssetFile, EmbeddedAssets};
use serde::Serialize;

/// The files, by logical name; see [`AssetFile`] for how names are versioned.
const FILES: &[AssetFile] = &[
    (
        "app.css",
        include_bytes!("../../../templates/static/app.css"),
        "text/css; charset=utf-8",
    ),
    (
        "app.js",
        include_bytes!("../../../templates/static/app.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "vendor/htmx-2.0.11.min.js",
        include_bytes!("../../../templates/static/vendor/htmx-2.0.11.min.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "vendor/htmx-ext-ws-2.0.4.min.js",
        include_bytes!("../../../templates/static/vendor/htmx-ext-ws-2.0.4.min.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "vendor/alpinejs-3.14.9.min.js",
        include_bytes!("../../../templates/static/vendor/alpinejs-3.14.9.min.js"),
        "text/javascript; charset=utf-8",
    ),
];

/// The URLs templates link to, by role (`assets.css`, `assets.htmx`, …).
#[derive(Debug, Clone, Serialize)]
pub struct AssetUrls {
    /// Our stylesheet.
    pub css: String,
    /// Our script (theme, shortcuts, connection state, countdown).
    pub js: String,
    /// htmx.
    pub htmx: String,
    /// htmx's WebSocket extension.
    pub htmx_ws: String,
    /// Alpine.js.
    pub alpine: String,
}

/// The embedded files, served under `/static/`, with the URLs pages use.
pub type Assets = EmbeddedAssets<AssetUrls>;

/// Indexes the embedded files under their versioned names.
pub fn embedded() -> Assets {
    EmbeddedAssets::new(FILES, "/static/").with_urls(|a| AssetUrls {
        css: a.url("app.css"),
        js: a.url("app.js"),
        htmx: a.url("vendor/htmx-2.0.11.min.js"),
        htmx_ws: a.url("vendor/htmx-ext-ws-2.0.4.min.js"),
        alpine: a.url("vendor/alpinejs-3.14.9.min.js"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_files_get_a_content_hash_and_vendored_keep_their_name() {
        let assets = embedded();
        assert!(assets.urls().css.starts_with("/static/app."));
        assert!(assets.urls().css.ends_with(".css"));
        assert_ne!(assets.urls().css, "/static/app.css");
        assert_eq!(assets.urls().htmx, "/static/vendor/htmx-2.0.11.min.js");
        let path = assets.urls().css.trim_start_matches("/static/").to_string();
        assert_eq!(assets.respond(&path).status(), 200);
        assert_eq!(assets.respond("app.css").status(), 404);
    }
}
