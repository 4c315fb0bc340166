//! The admin UI's static files (CSS, JS, vendored htmx and Alpine), embedded in the
//! binary and served from `/_/static/…` under content-versioned names, so browsers
//! may cache them forever.

use crate::assets::{AssetFile, EmbeddedAssets};
use serde::Serialize;

/// The files, by logical name; see [`AssetFile`] for how names are versioned.
const FILES: &[AssetFile] = &[
    (
        "admin.css",
        include_bytes!("../../../../admin-ui/static/admin.css"),
        "text/css; charset=utf-8",
    ),
    (
        "admin.js",
        include_bytes!("../../../../admin-ui/static/admin.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "vendor/htmx-2.0.11.min.js",
        include_bytes!("../../../../admin-ui/static/vendor/htmx-2.0.11.min.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "vendor/alpinejs-3.14.9.min.js",
        include_bytes!("../../../../admin-ui/static/vendor/alpinejs-3.14.9.min.js"),
        "text/javascript; charset=utf-8",
    ),
];

/// The URLs templates link to, by role (`assets.css`, `assets.htmx`, …).
#[derive(Debug, Clone, Serialize)]
pub struct AssetUrls {
    /// The admin stylesheet.
    pub css: String,
    /// The admin script (theme toggle, sidebar, toasts).
    pub js: String,
    /// htmx.
    pub htmx: String,
    /// Alpine.js.
    pub alpine: String,
}

/// The embedded files, served under `/_/static/`, with the URLs pages use.
pub type Assets = EmbeddedAssets<AssetUrls>;

/// Indexes the embedded files under their versioned names.
pub fn embedded() -> Assets {
    EmbeddedAssets::new(FILES, "/_/static/").with_urls(|a| AssetUrls {
        css: a.url("admin.css"),
        js: a.url("admin.js"),
        htmx: a.url("vendor/htmx-2.0.11.min.js"),
        alpine: a.url("vendor/alpinejs-3.14.9.min.js"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_files_get_a_content_hash_and_vendored_keep_their_name() {
        let assets = embedded();
        assert!(assets.urls().css.starts_with("/_/static/admin."));
        assert_ne!(assets.urls().css, "/_/static/admin.css");
        assert_eq!(assets.urls().htmx, "/_/static/vendor/htmx-2.0.11.min.js");
        let path = assets
            .urls()
            .css
            .trim_start_matches("/_/static/")
            .to_string();
        assert_eq!(assets.respond(&path).status(), 200);
        assert_eq!(assets.respond("admin.css").status(), 404);
    }
}
