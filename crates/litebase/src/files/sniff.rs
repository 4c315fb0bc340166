//! Content types read from a file's first bytes, as PocketBase detects them on
//! upload (for `mimeTypes` checks) and serves them: magic numbers for binary
//! formats, `text/plain; charset=utf-8` for text, `application/octet-stream`
//! for anything else.

/// How many leading bytes the detection reads.
pub const SNIFF_LEN: usize = 3072;

/// The content type of a file starting with `head`.
///
/// ```
/// use litebase::files::sniff::content_type;
/// assert_eq!(content_type(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), "image/png");
/// assert_eq!(content_type(b"hello"), "text/plain; charset=utf-8");
/// ```
pub fn content_type(head: &[u8]) -> String {
    if let Some(kind) = infer::get(head) {
        let mime = kind.mime_type();
        return if mime.starts_with("text/") && is_text(head) {
            format!("{mime}; charset=utf-8")
        } else {
            mime.to_string()
        };
    }
    let trimmed = head.trim_ascii_start();
    if trimmed.starts_with(b"<svg") || (trimmed.starts_with(b"<?xml") && contains(head, b"<svg")) {
        return "image/svg+xml".into();
    }
    if is_text(head) {
        if starts_with_ignore_case(trimmed, b"<!doctype html")
            || starts_with_ignore_case(trimmed, b"<html")
        {
            return "text/html; charset=utf-8".into();
        }
        if (trimmed.starts_with(b"{") || trimmed.starts_with(b"["))
            && head.len() < SNIFF_LEN
            && serde_json::from_slice::<serde_json::Value>(head).is_ok()
        {
            return "application/json".into();
        }
        return "text/plain; charset=utf-8".into();
    }
    "application/octet-stream".into()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn starts_with_ignore_case(s: &[u8], prefix: &[u8]) -> bool {
    s.len() >= prefix.len() && s[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// UTF-8 without control bytes other than whitespace (a multi-byte character cut
/// at the end of the sample still counts).
fn is_text(head: &[u8]) -> bool {
    let valid = match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none() && e.valid_up_to() + 4 > head.len(),
    };
    valid
        && head
            .iter()
            .all(|b| *b >= 0x20 || matches!(b, b'\n' | b'\r' | b'\t' | 0x0c))
}

/// The extension (with its dot) a content type usually has, for uploads whose
/// name has none.
pub fn extension_for(content_type: &str) -> &'static str {
    match base(content_type) {
        "image/png" => ".png",
        "image/jpeg" => ".jpg",
        "image/gif" => ".gif",
        "image/webp" => ".webp",
        "image/svg+xml" => ".svg",
        "application/pdf" => ".pdf",
        "application/zip" => ".zip",
        "application/json" => ".json",
        "text/html" => ".html",
        "text/plain" => ".txt",
        _ => "",
    }
}

/// The type without parameters, lower case (`text/plain; charset=utf-8` →
/// `text/plain`).
pub fn base(content_type: &str) -> &str {
    content_type.split(';').next().unwrap_or_default().trim()
}

/// Whether a detected type is one of the `allowed` ones (parameters ignored,
/// `image/jpg` taken as `image/jpeg`), as a file field's `mimeTypes` check.
pub fn is_allowed(detected: &str, allowed: &[String]) -> bool {
    let norm = |t: &str| {
        let t = base(t).to_ascii_lowercase();
        if t == "image/jpg" {
            "image/jpeg".to_string()
        } else {
            t
        }
    };
    let detected = norm(detected);
    allowed.iter().any(|a| norm(a) == detected)
}

/// The content type a file is served with: the detected one, except for a few
/// extensions browsers need named (SVG, CSS, JavaScript, Office documents), as
/// PocketBase does.
pub fn served_type(detected: &str, name: &str) -> String {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    let by_ext = match ext.as_deref() {
        Some("svg") => "image/svg+xml",
        Some("css") => "text/css",
        Some("js" | "mjs") => "text/javascript",
        Some("xlsx") => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        Some("docx") => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        Some("pptx") => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        _ => return detected.to_string(),
    };
    by_ext.to_string()
}

/// Whether a detected type is shown inline by browsers (images, audio, video,
/// PDF); anything else is served as an attachment, as PocketBase does.
pub fn is_inline(detected: &str) -> bool {
    matches!(
        base(detected),
        "image/png"
            | "image/jpg"
            | "image/jpeg"
            | "image/gif"
            | "image/webp"
            | "image/x-icon"
            | "image/bmp"
            | "video/webm"
            | "video/mp4"
            | "video/3gpp"
            | "video/quicktime"
            | "video/x-ms-wmv"
            | "audio/basic"
            | "audio/aiff"
            | "audio/mpeg"
            | "audio/midi"
            | "audio/mp3"
            | "audio/wave"
            | "audio/wav"
            | "audio/x-wav"
            | "audio/x-mpeg"
            | "audio/x-m4a"
            | "audio/aac"
            | "application/pdf"
            | "application/x-pdf"
    )
}

/// Whether thumbs can be made of a file of this type (PocketBase: PNG, JPEG,
/// GIF, WebP).
pub fn is_thumbable(detected: &str) -> bool {
    matches!(
        base(detected),
        "image/png" | "image/jpg" | "image/jpeg" | "image/gif" | "image/webp"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_common_types() {
        assert_eq!(content_type(b"\xff\xd8\xff\xe0\0\x10JFIF\0"), "image/jpeg");
        assert_eq!(content_type(b"GIF89a\x01\0\x01\0"), "image/gif");
        assert_eq!(content_type(b"RIFF\0\0\0\0WEBPVP8 "), "image/webp");
        assert_eq!(content_type(b"%PDF-1.4\n"), "application/pdf");
        assert_eq!(content_type(b"<svg xmlns='x'></svg>"), "image/svg+xml");
        assert_eq!(content_type(br#"{"a": 1}"#), "application/json");
        assert_eq!(
            content_type(b"<!DOCTYPE html><p>"),
            "text/html; charset=utf-8"
        );
        assert_eq!(
            content_type(b"\x00\x01\x02binary"),
            "application/octet-stream"
        );
        assert_eq!(
            content_type("caf\u{e9}".as_bytes()),
            "text/plain; charset=utf-8"
        );
        assert_eq!(content_type(b""), "text/plain; charset=utf-8");
    }

    #[test]
    fn mime_checks_ignore_parameters_and_alias_jpg() {
        let allowed = vec!["text/plain".to_string(), "image/jpg".to_string()];
        assert!(is_allowed("text/plain; charset=utf-8", &allowed));
        assert!(is_allowed("image/jpeg", &allowed));
        assert!(!is_allowed("image/png", &allowed));
        assert!(is_inline("image/png") && !is_inline("text/plain; charset=utf-8"));
        assert_eq!(
            served_type("text/plain; charset=utf-8", "a.css"),
            "text/css"
        );
    }
}
