//! Field cleaning and limits: what any file's text becomes before it is a story,
//! and the spreadsheet-formula guard that CSV exports add and imports remove.

use std::borrow::Cow;

use super::{
    MAX_DESCRIPTION_CHARS, MAX_ESTIMATE_CHARS, MAX_KEY_CHARS, MAX_TITLE_CHARS, MAX_URL_CHARS,
};

/// Characters that make text misleading on screen without being visible: bidi
/// overrides and isolates, and a stray byte order mark.
fn invisible(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// One line: line breaks, tabs and other control characters become spaces, runs
/// of whitespace one space, no leading or trailing space.
pub(super) fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars().filter(|&c| !invisible(c)) {
        if c.is_whitespace() || c.is_control() {
            space = !out.is_empty();
        } else {
            if space {
                out.push(' ');
                space = false;
            }
            out.push(c);
        }
    }
    out
}

/// Whether [`title`] would keep anything of the text.
pub(super) fn has_text(text: &str) -> bool {
    text.chars()
        .any(|c| !(c.is_whitespace() || c.is_control() || invisible(c)))
}

/// A story title: one line, cut to [`MAX_TITLE_CHARS`]; `None` when empty.
pub(super) fn title(text: &str) -> Option<String> {
    let line = one_line(text);
    let cut: String = line.chars().take(MAX_TITLE_CHARS).collect();
    Some(cut.trim_end().to_owned()).filter(|t| !t.is_empty())
}

/// A key: one line; `None` when empty or longer than [`MAX_KEY_CHARS`].
pub(super) fn key(text: &str) -> Option<String> {
    let line = one_line(text);
    (!line.is_empty() && line.chars().count() <= MAX_KEY_CHARS).then_some(line)
}

/// An issue type: one line; `None` when empty or longer than 64 characters.
pub(super) fn kind(text: &str) -> Option<String> {
    key(text)
}

/// A link: an absolute `http` or `https` URL with a host, no spaces, at most
/// [`MAX_URL_CHARS`]; anything else (`javascript:`, relative paths) is `None`.
pub(super) fn url(text: &str) -> Option<String> {
    let url = text.trim();
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &url[8..]
    } else if lower.starts_with("http://") {
        &url[7..]
    } else {
        return None;
    };
    let bad = |c: char| c.is_whitespace() || c.is_control() || matches!(c, '"' | '<' | '>');
    let host_ok = rest
        .chars()
        .next()
        .is_some_and(|c| !matches!(c, '/' | '?' | '#'));
    (host_ok && url.len() <= MAX_URL_CHARS && !url.contains(bad)).then(|| url.to_owned())
}

/// A description: line breaks kept (as `\n`), other control characters dropped,
/// at most two blank lines in a row, cut to [`MAX_DESCRIPTION_CHARS`].
pub(super) fn description(text: &str) -> Option<String> {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut out = String::new();
    let mut blank_run = 0;
    for line in text.split('\n') {
        let line: String = line
            .chars()
            .map(|c| if c == '\t' { ' ' } else { c })
            .filter(|&c| !c.is_control() && !invisible(c))
            .collect();
        let line = line.trim_end();
        if line.trim().is_empty() {
            blank_run += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank_run > 0 { "\n\n" } else { "\n" });
        }
        blank_run = 0;
        out.push_str(line);
    }
    let cut: String = out.chars().take(MAX_DESCRIPTION_CHARS).collect();
    Some(cut.trim().to_owned()).filter(|d| !d.is_empty())
}

/// An estimate: one line, at most [`MAX_ESTIMATE_CHARS`]; a decimal number loses
/// trailing zeros (`5.0` → `5`, `2.50` → `2.5`: Jira writes story points so).
pub(super) fn estimate(text: &str) -> Option<String> {
    let line = one_line(text);
    if line.is_empty() || line.chars().count() > MAX_ESTIMATE_CHARS {
        return None;
    }
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match line.split_once('.') {
        Some((int, frac)) if digits(int) && digits(frac) => {
            let frac = frac.trim_end_matches('0');
            Some(if frac.is_empty() {
                int.to_owned()
            } else {
                format!("{int}.{frac}")
            })
        }
        _ => Some(line),
    }
}

/// Whether a spreadsheet would run the text as a formula (`=`, `+`, `-`, `@`, tab
/// or CR first), once leading apostrophes are set aside.
fn formula_like(text: &str) -> bool {
    matches!(
        text.trim_start_matches('\'').chars().next(),
        Some('=' | '+' | '-' | '@' | '\t' | '\r')
    )
}

/// The export side: a text cell a spreadsheet could run as a formula gets a
/// leading `'` (as the room's history CSV does). Text that is already
/// apostrophes-then-formula gets one more, so [`unguard`] gives it back exactly.
pub(super) fn guard(text: &str) -> Cow<'_, str> {
    if text.starts_with('\'') && formula_like(text) {
        format!("'{text}").into()
    } else {
        crate::room::export::defuse_formula(text)
    }
}

/// The import side: removes the `'` that [`guard`] (or a careful person) put
/// before a formula-like cell, so exported titles come back unchanged.
pub(super) fn unguard(text: &str) -> &str {
    match text.strip_prefix('\'') {
        Some(rest) if formula_like(text) => rest,
        _ => text,
    }
}

/// HTML (Jira XML and Azure DevOps descriptions) to plain text: as in a browser,
/// whitespace in the source is one space; blocks and `<br>` become line breaks,
/// list items `- ` lines; tags are dropped and common entities decoded.
pub(super) fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let push_text = |out: &mut String, text: &str| {
        let mut words = text.split(|c: char| c.is_ascii_whitespace());
        if let Some(first) = words.next() {
            out.push_str(first);
        }
        for word in words {
            if !(out.is_empty() || out.ends_with([' ', '\n'])) {
                out.push(' ');
            }
            out.push_str(word);
        }
    };
    let mut rest = html;
    while let Some(i) = rest.find(['<', '&']) {
        push_text(&mut out, &rest[..i]);
        rest = &rest[i..];
        if rest.starts_with('<') {
            let Some(end) = rest.find('>') else {
                push_text(&mut out, rest);
                return out;
            };
            let closing = rest[1..].starts_with('/');
            let name: String = rest[1..end]
                .trim_start_matches('/')
                .chars()
                .take_while(char::is_ascii_alphanumeric)
                .collect::<String>()
                .to_ascii_lowercase();
            if name == "li" {
                if !closing {
                    out.push_str("\n- ");
                }
            } else if matches!(
                name.as_str(),
                "br" | "p"
                    | "div"
                    | "tr"
                    | "ul"
                    | "ol"
                    | "table"
                    | "pre"
                    | "blockquote"
                    | "h1"
                    | "h2"
                    | "h3"
                    | "h4"
                    | "h5"
                    | "h6"
            ) {
                out.push('\n');
            }
            rest = &rest[end + 1..];
        } else {
            // Entity names are short: look no further, or `&&&…` would be quadratic.
            let entity = rest.as_bytes()[1..]
                .iter()
                .take(11)
                .position(|&b| b == b';')
                .and_then(|e| entity(&rest[1..=e]).map(|c| (c, e + 2)));
            match entity {
                Some((c, used)) => {
                    out.push(c);
                    rest = &rest[used..];
                }
                None => {
                    out.push('&');
                    rest = &rest[1..];
                }
            }
        }
    }
    push_text(&mut out, rest);
    out
}

/// The character of an HTML entity name (`amp`, `#39`, `#x2F`), if known.
fn entity(name: &str) -> Option<char> {
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        _ => {
            let num = name.strip_prefix('#')?;
            let code = match num.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => num.parse().ok()?,
            };
            return char::from_u32(code).filter(|&c| c != '\0');
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_one_trimmed_line_of_at_most_200_chars() {
        assert_eq!(
            title("  Log\tin\r\n  fast \u{202E}now \u{202E} x").as_deref(),
            Some("Log in fast now x")
        );
        assert_eq!(title(" \n\t \u{202E}"), None);
        assert!(!has_text(" \n\t \u{202E}") && has_text(" x"));
        let long = "é".repeat(250);
        assert_eq!(title(&long).unwrap().chars().count(), MAX_TITLE_CHARS);
        let cut_at_space = format!("{} tail", "a".repeat(199));
        assert_eq!(title(&cut_at_space).unwrap(), "a".repeat(199));
    }

    #[test]
    fn keys_over_the_limit_are_dropped_not_cut() {
        assert_eq!(key(" SHOP-12 ").as_deref(), Some("SHOP-12"));
        assert_eq!(key(&"K".repeat(64)).map(|k| k.len()), Some(64));
        assert_eq!(key(&"K".repeat(65)), None);
        assert_eq!(key(""), None);
    }

    #[test]
    fn only_http_and_https_urls_are_kept() {
        for good in [
            "https://example.atlassian.net/browse/SHOP-1",
            "HTTP://x.org",
            " https://github.com/o/r/issues/3 ",
        ] {
            assert_eq!(url(good).as_deref(), Some(good.trim()), "{good}");
        }
        for bad in [
            "javascript:alert(1)",
            "ftp://x.org",
            "//x.org",
            "/browse/X-1",
            "https://",
            "https:///path",
            "https://x.org/a b",
            "https://x.org/\"onmouseover=",
            "data:text/html,<script>",
            "",
        ] {
            assert_eq!(url(bad), None, "{bad}");
        }
        let long = format!("https://x.org/{}", "a".repeat(MAX_URL_CHARS));
        assert_eq!(url(&long), None);
    }

    #[test]
    fn estimates_are_short_text_with_tidy_numbers() {
        assert_eq!(estimate(" 5 ").as_deref(), Some("5"));
        assert_eq!(estimate("5.0").as_deref(), Some("5"));
        assert_eq!(estimate("2.50").as_deref(), Some("2.5"));
        assert_eq!(estimate("0.5").as_deref(), Some("0.5"));
        assert_eq!(estimate("XL").as_deref(), Some("XL"));
        assert_eq!(estimate("½").as_deref(), Some("½"));
        assert_eq!(estimate("1.2.3").as_deref(), Some("1.2.3"));
        assert_eq!(estimate(".5").as_deref(), Some(".5"));
        assert_eq!(estimate(""), None);
        assert_eq!(estimate(&"9".repeat(25)), None);
        assert_eq!(estimate(&"9".repeat(24)).map(|e| e.len()), Some(24));
    }

    #[test]
    fn descriptions_keep_paragraphs() {
        assert_eq!(
            description("  First\r\nline\t1\r\n\r\n\r\n\r\nSecond\u{7}  \n").as_deref(),
            Some("First\nline 1\n\nSecond")
        );
        assert_eq!(description(" \n \n"), None);
        let long = "x".repeat(MAX_DESCRIPTION_CHARS + 10);
        assert_eq!(
            description(&long).unwrap().chars().count(),
            MAX_DESCRIPTION_CHARS
        );
    }

    #[test]
    fn guard_and_unguard_are_inverse() {
        for text in [
            "=1+1", "+1", "-2", "@SUM(A1)", "\tx", "\rx", "'=x", "''-x", "'x", "x", "", "'", "a=b",
        ] {
            assert_eq!(unguard(&guard(text)), text, "{text:?}");
        }
        assert_eq!(guard("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(guard("'=x"), "''=x");
        assert_eq!(guard("'x"), "'x");
        assert_eq!(unguard("'x"), "'x", "a plain leading apostrophe stays");
        assert_eq!(unguard("'-1 bug"), "-1 bug");
    }

    #[test]
    fn html_becomes_text() {
        assert_eq!(
            html_to_text(
                "<p>As a <b>buyer</b> I pay &amp; go.</p><ul><li>card</li><li>cash&#39;s &#x263A;</li></ul>a<br/>b &bogus; &"
            ),
            "\nAs a buyer I pay & go.\n\n\n- card\n- cash's ☺\na\nb &bogus; &"
        );
        assert_eq!(html_to_text("1 < 2 <unclosed"), "1 < 2 <unclosed");
        assert_eq!(
            description(&html_to_text(
                "<p>One\n  line</p>\n<p>Two</p><ul>\n\t<li>a</li>\n\t<li>b</li>\n</ul>"
            ))
            .as_deref(),
            Some("One line\n\nTwo\n\n- a\n- b")
        );
    }
}
