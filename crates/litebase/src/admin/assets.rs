//! The admin UI's static files (CSS, JS, vendored htmx and Alpine), embedded in the
//! binary and served from `/_/static/…` under content-versioned names, so browsers
//! may cache them forever.

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// One embedded file.
struct Asset {
    bytes: &'static [u8],
    content_type: &'static str,
}

/// (logical name, bytes, content type). Vendored names already carry a version;
/// ours get a content hash appended by [`Assets::new`].
const FILES: &[(&str, &[u8], &str)] = &[
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

/// Every embedded file by its served path, and the URLs pages use.
pub struct Assets {
    by_path: HashMap<String, Asset>,
    urls: AssetUrls,
}

fn versioned(name: &str, bytes: &[u8]) -> String {
    if name.starts_with("vendor/") {
        return name.to_string();
    }
    let digest = Sha256::digest(bytes);
    let hash: String = digest.iter().take(5).map(|b| format!("{b:02x}")).collect();
    match name.rsplit_once('.') {
        Some((stem, ext)) => format!("{stem}.{hash}.{ext}"),
        None => format!("{name}.{hash}"),
    }
}

impl Assets {
    /// Indexes the embedded files under their versioned names.
    pub fn new() -> Self {
        let mut by_path = HashMap::new();
        let mut url = HashMap::new();
        for (name, bytes, content_type) in FILES {
            let path = versioned(name, bytes);
            url.insert(*name, format!("/_/static/{path}"));
            by_path.insert(
                path,
                Asset {
                    bytes,
                    content_type,
                },
            );
        }
        let get = |name: &str| url.get(name).cloned().unwrap_or_default();
        let urls = AssetUrls {
            css: get("admin.css"),
            js: get("admin.js"),
            htmx: get("vendor/htmx-2.0.11.min.js"),
            alpine: get("vendor/alpinejs-3.14.9.min.js"),
        };
        Self { by_path, urls }
    }

    /// The URLs for templates.
    pub fn urls(&self) -> &AssetUrls {
        &self.urls
    }

    /// The response for `/_/static/{path}`: the file with a year-long immutable
    /// cache, or 404.
    pub fn respond(&self, path: &str) -> HttpResponse {
        match self.by_path.get(path) {
            Some(asset) => HttpResponse::Ok()
                .insert_header((header::CONTENT_TYPE, asset.content_type))
                .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
                .body(web::Bytes::from_static(asset.bytes)),
            None => HttpResponse::NotFound()
                .content_type("text/plain; charset=utf-8")
                .body("no such file; asset names change with each release, reload the page"),
        }
    }
}

impl Default for Assets {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_files_get_a_content_hash_and_vendored_keep_their_name() {
        let assets = Assets::new();
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
