//! Stored file names as PocketBase makes them: the uploaded name's base turned
//! into snake_case (at most 100 bytes, padded with random characters when shorter
//! than 3), `_`, ten random lowercase letters and digits, and the cleaned
//! extension (double extensions such as `.tar.gz` kept, at most 20 bytes). The
//! random part makes every stored name new, so a name removed from a record can
//! never point at someone else's file later.

const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// `n` random characters of `[a-z0-9]`.
pub fn random_suffix(n: usize) -> String {
    (0..n)
        .map(|_| ALPHABET[fastrand::usize(..ALPHABET.len())] as char)
        .collect()
}

/// The stored name for an upload called `original`; `detected_ext` (with its
/// dot, from the content) stands in when the name has no usable extension.
///
/// ```
/// let name = litebase::files::name::stored_name("My Photo.PNG", "");
/// assert!(name.starts_with("my_photo_") && name.ends_with(".PNG"), "{name}");
/// assert_eq!(name.len(), "my_photo_".len() + 10 + ".PNG".len());
/// ```
pub fn stored_name(original: &str, detected_ext: &str) -> String {
    // Only the end of a very long name matters (its extension); cut on a char
    // boundary.
    let mut start = original.len().saturating_sub(300);
    while !original.is_char_boundary(start) {
        start += 1;
    }
    let name = &original[start..];
    let ext = extension(name);
    let mut clean_ext = format!(
        ".{}",
        ext.chars()
            .filter(|c| c.is_ascii_alphanumeric() || "_.*-+=#".contains(*c))
            .collect::<String>()
            .trim_matches('.')
    );
    if clean_ext == "." {
        clean_ext = detected_ext.to_string();
    }
    if clean_ext.len() > 20 {
        let mut cut = clean_ext.len() - 20;
        while !clean_ext.is_char_boundary(cut) {
            cut += 1;
        }
        clean_ext = format!(".{}", clean_ext[cut..].trim_matches('.'));
    }
    let base = name.strip_suffix(ext).unwrap_or(name).trim_matches('.');
    let mut clean = snake_case(base);
    if clean.len() < 3 {
        clean.push_str(&random_suffix(10));
    } else if clean.len() > 100 {
        let mut cut = 100;
        while !clean.is_char_boundary(cut) {
            cut -= 1;
        }
        clean.truncate(cut);
    }
    format!("{clean}_{}{clean_ext}", random_suffix(10))
}

/// The extension with its dot, including a second one (`a.tar.gz` → `.tar.gz`);
/// `""` when there is none.
fn extension(name: &str) -> &str {
    let Some(last) = name.rfind('.') else {
        return "";
    };
    match name[..last].rfind('.') {
        Some(second) => &name[second..],
        None => &name[last..],
    }
}

/// Words split at anything that is not an ASCII letter or digit, joined with `_`, an
/// `_` also before an upper-case letter that follows a lower-case one; lower case.
fn snake_case(s: &str) -> String {
    let mut out = String::new();
    for word in s.split(|c: char| !c.is_ascii_alphanumeric()) {
        if word.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push('_');
        }
        let mut prev_upper = true;
        for (i, c) in word.chars().enumerate() {
            if c.is_uppercase() && i > 0 && !prev_upper {
                out.push('_');
            }
            prev_upper = c.is_uppercase();
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// Whether `name` may be a stored file's name: not empty, at most 150 bytes, no
/// leading dot, no slash or backslash (so it never leaves its record's folder),
/// no quote or control character (so it fits a header as it is).
pub fn is_safe(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 150
        && !name.starts_with('.')
        && !name.contains(['/', '\\', '"'])
        && !name.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(stored: &str) -> (String, String, String) {
        let (base, rest) = stored.rsplit_once('_').unwrap_or(("", stored));
        let (random, ext) = rest.split_at(10.min(rest.len()));
        (base.to_string(), random.to_string(), ext.to_string())
    }

    #[test]
    fn names_like_pocketbase() {
        for (original, base, ext) in [
            ("test.txt", "test", ".txt"),
            ("My Photo.PNG", "my_photo", ".PNG"),
            ("archive.tar.gz", "archive", ".tar.gz"),
            ("helloWorld.js", "hello_world", ".js"),
            ("a b  c.json", "a_b_c", ".json"),
            ("weird.p$n!g", "weird", ".png"),
        ] {
            let stored = stored_name(original, "");
            let (b, random, e) = shape(&stored);
            assert_eq!(
                (b.as_str(), e.as_str()),
                (base, ext),
                "{original} → {stored}"
            );
            assert_eq!(random.len(), 10);
            assert!(random.bytes().all(|c| ALPHABET.contains(&c)));
            assert!(is_safe(&stored), "{stored}");
        }
    }

    #[test]
    fn short_long_and_extensionless_names() {
        let short = stored_name("a.txt", "");
        assert_eq!(short.len(), 1 + 10 + 1 + 10 + 4, "{short}");
        assert!(short.starts_with('a'));
        let long = stored_name(&format!("{}.txt", "x".repeat(500)), "");
        assert!(long.len() <= 100 + 1 + 10 + 4, "{long}");
        let detected = stored_name("noext", ".png");
        assert!(detected.ends_with(".png") && detected.starts_with("noext_"));
        let many = stored_name("x.y.z.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "");
        assert!(
            many.rsplit_once('_')
                .is_some_and(|(_, r)| r.len() <= 10 + 1 + 20)
        );
        for hostile in ["../../etc/passwd", "..\\win.ini", "a/../../b.png", "\0.png"] {
            let stored = stored_name(hostile, "");
            assert!(
                is_safe(&stored) && !stored.contains(".."),
                "{hostile} → {stored}"
            );
        }
        let unicode = stored_name(&"é".repeat(400), "");
        assert!(is_safe(&unicode));
    }

    #[test]
    fn unsafe_names() {
        for bad in [
            "",
            ".hidden",
            "a/b",
            "a\\b",
            "..",
            "a\"b",
            "a\r\nb",
            "a\0",
            &"x".repeat(151),
        ] {
            assert!(!is_safe(bad), "{bad}");
        }
    }
}
