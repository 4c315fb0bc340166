//! Static files embedded in the binary and served under content-versioned names,
//! so browsers may cache them forever. The admin UI and any app's own pages use
//! the same [`EmbeddedAssets`]; each gives its own file table and URL prefix.
//!
//! ```
//! use litebase::assets::EmbeddedAssets;
//! static FILES: &[(&str, &[u8], &str)] = &[("app.css", b"body{}", "text/css; charset=utf-8")];
//! let assets = EmbeddedAssets::new(FILES, "/static/");
//! assert!(assets.url("app.css").starts_with("/static/app."));
//! ```

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use sha2::{Digest, Sha256};

/// One embedded file: (logical name, bytes, content type). Names under `vendor/`
/// already carry a version and are served as they are; the others get a content
/// hash before their extension (`app.css` → `app.1a2b3c4d5e.css`).
pub type AssetFile = (&'static str, &'static [u8], &'static str);

/// One embedded file as served.
struct Asset {
    bytes: &'static [u8],
    content_type: &'static str,
}

/// Every embedded file by its served path, the URL of each logical name, and
/// the URLs a site's templates use by role (`U`, attached by
/// [`EmbeddedAssets::with_urls`]).
pub struct EmbeddedAssets<U = ()> {
    by_path: HashMap<String, Asset>,
    by_name: HashMap<&'static str, String>,
    urls: U,
}

/// The served path of `name`: vendored names as they are, ours with a content hash.
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

impl EmbeddedAssets {
    /// Indexes `files` under their versioned names; URLs are `prefix` + that name
    /// (`prefix` ends with `/`, e.g. `"/static/"`).
    pub fn new(files: &'static [AssetFile], prefix: &str) -> Self {
        let mut by_path = HashMap::new();
        let mut by_name = HashMap::new();
        for (name, bytes, content_type) in files {
            let path = versioned(name, bytes);
            by_name.insert(*name, format!("{prefix}{path}"));
            by_path.insert(
                path,
                Asset {
                    bytes,
                    content_type,
                },
            );
        }
        Self {
            by_path,
            by_name,
            urls: (),
        }
    }
}

impl<U> EmbeddedAssets<U> {
    /// Attaches the URLs templates use by role (`css`, `htmx`, …), read from
    /// this table with [`EmbeddedAssets::url`].
    pub fn with_urls<V>(self, urls: impl FnOnce(&Self) -> V) -> EmbeddedAssets<V> {
        let urls = urls(&self);
        EmbeddedAssets {
            by_path: self.by_path,
            by_name: self.by_name,
            urls,
        }
    }

    /// The URLs attached by [`EmbeddedAssets::with_urls`], for templates.
    pub fn urls(&self) -> &U {
        &self.urls
    }

    /// The URL pages link to for the logical `name`, or an empty string when the
    /// table has no such file (a page then shows without it rather than failing).
    pub fn url(&self, name: &str) -> String {
        self.by_name.get(name).cloned().unwrap_or_default()
    }

    /// The response for a served `path` (the part after the prefix): the file
    /// with a year-long immutable cache, or 404.
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

#[cfg(test)]
mod tests {
    use super::*;

    static FILES: &[AssetFile] = &[
        ("app.css", b"body{}", "text/css; charset=utf-8"),
        ("LICENSE", b"text", "text/plain; charset=utf-8"),
        ("vendor/lib-1.0.js", b"x", "text/javascript; charset=utf-8"),
    ];

    #[test]
    fn our_files_get_a_content_hash_and_vendored_keep_their_name() {
        let assets = EmbeddedAssets::new(FILES, "/s/");
        let css = assets.url("app.css");
        assert!(css.starts_with("/s/app.") && css.ends_with(".css"), "{css}");
        assert_eq!(css.len(), "/s/app.".len() + 10 + ".css".len());
        assert!(assets.url("LICENSE").starts_with("/s/LICENSE."));
        assert_eq!(assets.url("vendor/lib-1.0.js"), "/s/vendor/lib-1.0.js");
        assert_eq!(assets.url("missing.js"), "");
        let assets = assets.with_urls(|a| a.url("app.css"));
        assert_eq!(assets.urls(), &css);
    }

    #[test]
    fn served_with_type_and_immutable_cache_or_404() {
        let assets = EmbeddedAssets::new(FILES, "/s/");
        let path = assets.url("app.css").trim_start_matches("/s/").to_string();
        let found = assets.respond(&path);
        assert_eq!(found.status(), 200);
        let headers = found.headers();
        assert_eq!(
            headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok()),
            Some("text/css; charset=utf-8")
        );
        assert_eq!(
            headers
                .get(header::CACHE_CONTROL)
                .and_then(|v| v.to_str().ok()),
            Some("public, max-age=31536000, immutable")
        );
        assert_eq!(assets.respond("app.css").status(), 404);
    }
}
