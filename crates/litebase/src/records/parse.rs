//! The text formats PocketBase accepts in record input, parsed the way its Go
//! libraries parse them, so the same body is read the same way by both servers:
//! numbers in Go's float syntax, JSON text, the date layouts it knows and the email
//! grammar it checks against. Written from their documented and observed
//! behaviour (PocketBase 0.40.6), not from their code.

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// serde_json gives up at this many levels of nested arrays/objects (it protects the
/// stack), so a JSON text nested this deep cannot become a value here, although it
/// is valid JSON.
pub const JSON_DEPTH_LIMIT: usize = 128;

/// A number in the syntax of Go's `strconv.ParseFloat`, which PocketBase applies to
/// strings sent for number fields: no surrounding whitespace, `_` between digits,
/// hexadecimal mantissas with a binary exponent (`0x1p4`), and `inf`/`infinity`
/// (signed or not) and `nan` (unsigned) in any case. `None` when Go reports an error:
/// bad syntax, or a magnitude too large for an f64.
pub fn go_float(s: &str) -> Option<f64> {
    let (negative, unsigned) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let signed = unsigned.len() != s.len();
    if unsigned.eq_ignore_ascii_case("inf") || unsigned.eq_ignore_ascii_case("infinity") {
        return Some(if negative {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    if !signed && unsigned.eq_ignore_ascii_case("nan") {
        return Some(f64::NAN);
    }
    if !underscores_ok(unsigned) {
        return None;
    }
    let clean: String = unsigned.chars().filter(|&c| c != '_').collect();
    let magnitude = match clean
        .strip_prefix("0x")
        .or_else(|| clean.strip_prefix("0X"))
    {
        Some(hex) => hex_float(hex)?,
        None => decimal_float(&clean)?,
    };
    if magnitude.is_infinite() {
        return None; // Go: a range error, which PocketBase turns into 0
    }
    Some(if negative { -magnitude } else { magnitude })
}

/// Go allows `_` only between digits (or right after a `0x`/`0b`/`0o` prefix).
fn underscores_ok(s: &str) -> bool {
    let b = s.as_bytes();
    let mut hex = false;
    let mut i = 0;
    // What came last: 'd' a digit (or prefix), '_' an underscore, 'o' anything
    // else, '^' nothing yet.
    let mut last = b'^';
    if b.len() >= 2 && b[0] == b'0' && matches!(b[1] | 0x20, b'b' | b'o' | b'x') {
        hex = b[1] | 0x20 == b'x';
        i = 2;
        last = b'd';
    }
    for &c in &b[i..] {
        if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) {
            last = b'd';
        } else if c == b'_' {
            if last != b'd' {
                return false;
            }
            last = b'_';
        } else {
            if last == b'_' {
                return false;
            }
            last = b'o';
        }
    }
    last != b'_'
}

/// `digits[.digits][e[+-]digits]` with at least one mantissa digit.
fn decimal_float(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut digits = 0;
    let mut dot = false;
    while let Some(&c) = b.get(i) {
        match c {
            b'0'..=b'9' => digits += 1,
            b'.' if !dot => dot = true,
            _ => break,
        }
        i += 1;
    }
    if digits == 0 {
        return None;
    }
    if i < b.len() {
        if b[i] | 0x20 != b'e' {
            return None;
        }
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start || i != b.len() {
            return None;
        }
    }
    s.parse::<f64>().ok()
}

/// The part after `0x`: hex digits with an optional point, then a required
/// `p[+-]digits` binary exponent.
fn hex_float(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let mut mantissa: u64 = 0;
    let mut exponent: i64 = 0;
    let mut digits = 0;
    let mut dot = false;
    let mut dropped_bits = false;
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'.' && !dot {
            dot = true;
            i += 1;
            continue;
        }
        let Some(d) = char::from(c).to_digit(16) else {
            break;
        };
        digits += 1;
        if mantissa >> 60 == 0 {
            mantissa = mantissa * 16 + u64::from(d);
            if dot {
                exponent -= 4;
            }
        } else {
            // More digits than an f64 can use: keep their weight, remember they
            // were not all zero (for rounding).
            if !dot {
                exponent += 4;
            }
            dropped_bits |= d != 0;
        }
        i += 1;
    }
    if digits == 0 || b.get(i).is_none_or(|&c| c | 0x20 != b'p') {
        return None;
    }
    i += 1;
    let negative = b.get(i) == Some(&b'-');
    if matches!(b.get(i), Some(b'+' | b'-')) {
        i += 1;
    }
    let start = i;
    let mut power: i64 = 0;
    while let Some(&c) = b.get(i).filter(|c| c.is_ascii_digit()) {
        power = (power * 10 + i64::from(c - b'0')).min(1_000_000);
        i += 1;
    }
    if i == start || i != b.len() {
        return None;
    }
    exponent += if negative { -power } else { power };
    let mut value = (mantissa | u64::from(dropped_bits)) as f64;
    // Scale in steps that stay finite and normal, until done or 0/inf.
    while exponent != 0 && value != 0.0 && value.is_finite() {
        let step = exponent.clamp(-1000, 1000);
        value *= 2f64.powi(step as i32);
        exponent -= step;
    }
    Some(value)
}

/// Whether `s` is one JSON text (RFC 8259, as Go's `encoding/json` checks it), and
/// if so how deeply its arrays/objects nest (0 for a scalar). Iterative, so any
/// depth is measured without recursion.
pub fn json_depth(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 0;
    // The open containers: b'[' or b'{'.
    let mut open: Vec<u8> = Vec::new();
    let mut deepest = 0;
    'value: loop {
        skip_ws(b, &mut i);
        match *b.get(i)? {
            c @ (b'[' | b'{') => {
                i += 1;
                open.push(c);
                deepest = deepest.max(open.len());
                skip_ws(b, &mut i);
                let close = if c == b'[' { b']' } else { b'}' };
                if b.get(i) == Some(&close) {
                    i += 1;
                    open.pop();
                } else if c == b'{' {
                    object_key(b, &mut i)?;
                    continue 'value;
                } else {
                    continue 'value;
                }
            }
            b'"' => json_string(b, &mut i)?,
            b't' => literal(b, &mut i, b"true")?,
            b'f' => literal(b, &mut i, b"false")?,
            b'n' => literal(b, &mut i, b"null")?,
            b'-' | b'0'..=b'9' => json_number(b, &mut i)?,
            _ => return None,
        }
        // After a value: close containers until one continues with a comma.
        loop {
            skip_ws(b, &mut i);
            let Some(&container) = open.last() else {
                return (i == b.len()).then_some(deepest);
            };
            let close = if container == b'[' { b']' } else { b'}' };
            match *b.get(i)? {
                b',' => {
                    i += 1;
                    if container == b'{' {
                        object_key(b, &mut i)?;
                    }
                    continue 'value;
                }
                c if c == close => {
                    i += 1;
                    open.pop();
                }
                _ => return None,
            }
        }
    }
}

fn skip_ws(b: &[u8], i: &mut usize) {
    while matches!(b.get(*i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        *i += 1;
    }
}

/// `"key" :` inside an object.
fn object_key(b: &[u8], i: &mut usize) -> Option<()> {
    skip_ws(b, i);
    if b.get(*i) != Some(&b'"') {
        return None;
    }
    json_string(b, i)?;
    skip_ws(b, i);
    if b.get(*i) != Some(&b':') {
        return None;
    }
    *i += 1;
    Some(())
}

fn literal(b: &[u8], i: &mut usize, word: &[u8]) -> Option<()> {
    if b.get(*i..*i + word.len())? != word {
        return None;
    }
    *i += word.len();
    Some(())
}

fn json_string(b: &[u8], i: &mut usize) -> Option<()> {
    *i += 1; // the opening quote
    loop {
        match *b.get(*i)? {
            b'"' => {
                *i += 1;
                return Some(());
            }
            b'\\' => match *b.get(*i + 1)? {
                b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => *i += 2,
                b'u' => {
                    if !b.get(*i + 2..*i + 6)?.iter().all(u8::is_ascii_hexdigit) {
                        return None;
                    }
                    *i += 6;
                }
                _ => return None,
            },
            c if c < 0x20 => return None,
            _ => *i += 1,
        }
    }
}

fn json_number(b: &[u8], i: &mut usize) -> Option<()> {
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i > start
    };
    if b.get(*i) == Some(&b'-') {
        *i += 1;
    }
    match b.get(*i)? {
        b'0' => *i += 1,
        b'1'..=b'9' => {
            digits(i);
        }
        _ => return None,
    }
    if b.get(*i) == Some(&b'.') {
        *i += 1;
        if !digits(i) {
            return None;
        }
    }
    if matches!(b.get(*i), Some(b'e' | b'E')) {
        *i += 1;
        if matches!(b.get(*i), Some(b'+' | b'-')) {
            *i += 1;
        }
        if !digits(i) {
            return None;
        }
    }
    Some(())
}

/// A date in one of the numeric layouts PocketBase reads: `YYYY-MM-DD`, then
/// optionally `T` or a space, `HH:MM:SS`, a fraction of any length, and a zone
/// (`Z`, `±HH:MM`, `±HHMM`; after a space-separated time also ` ±HH:MM`/` ±HHMM`).
/// Nothing is trimmed and letters are case-sensitive, as in Go. (PocketBase also
/// reads layouts with month names, such as RFC 1123; those are not supported.)
pub fn parse_date(s: &str) -> Option<OffsetDateTime> {
    let b = s.as_bytes();
    let num = |from: usize, to: usize| -> Option<u32> {
        let part = b.get(from..to)?;
        part.iter().try_fold(0u32, |n, d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = i32::try_from(num(0, 4)?).ok()?;
    let month = Month::try_from(u8::try_from(num(5, 7)?).ok()?).ok()?;
    let date = Date::from_calendar_date(year, month, u8::try_from(num(8, 10)?).ok()?).ok()?;
    if b.len() == 10 {
        return Some(date.midnight().assume_utc());
    }
    let spaced = match b[10] {
        b'T' => false,
        b' ' => true,
        _ => return None,
    };
    if b.len() < 19 || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let hms = |from| num(from, from + 2).and_then(|n| u8::try_from(n).ok());
    let mut time = Time::from_hms(hms(11)?, hms(14)?, hms(17)?).ok()?;
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return None;
        }
        let used = &s[start..i.min(start + 9)];
        let nanos = used.parse::<u32>().ok()? * 10u32.pow(9 - used.len() as u32);
        time = time.replace_nanosecond(nanos).ok()?;
    }
    let offset = parse_zone(&s[i..], spaced)?;
    Some(PrimitiveDateTime::new(date, time).assume_offset(offset))
}

fn parse_zone(zone: &str, spaced: bool) -> Option<UtcOffset> {
    if zone.is_empty() || zone == "Z" {
        return Some(UtcOffset::UTC);
    }
    let zone = match zone.strip_prefix(' ') {
        Some(rest) if spaced => rest,
        Some(_) => return None,
        None => zone,
    };
    let b = zone.as_bytes();
    let sign: i8 = match b.first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (h, m) = match b.len() {
        6 if b[3] == b':' => (&b[1..3], &b[4..6]),
        5 => (&b[1..3], &b[3..5]),
        _ => return None,
    };
    let two = |d: &[u8]| -> Option<i8> {
        d.iter()
            .all(u8::is_ascii_digit)
            .then(|| (d[0] - b'0') as i8 * 10 + (d[1] - b'0') as i8)
    };
    let (h, m) = (two(h)?, two(m)?);
    if h > 23 || m > 59 {
        return None;
    }
    UtcOffset::from_hms(sign * h, sign * m, 0).ok()
}

/// The host of an `http://` or `https://` URL (for the domain lists), or `None`
/// when the URL is refused. Besides the scheme, these are the structural rules of
/// PocketBase's URL check that litebase applies (PocketBase also takes other
/// schemes and has quirks around numeric hosts, which are not copied): no
/// whitespace; host labels non-empty (one final dot allowed), made of letters,
/// digits, `-` and `_`, not starting or ending with `-`/`_`; a top-level label of
/// letters only; a host of digits and dots only as an IPv4 address (first octet
/// 1-223 or 240-255, as PocketBase takes them); a port of 1 to 5 digits;
/// `%` followed by two hex digits in the path and fragment. An IPv6 host in
/// brackets is taken as it is.
pub fn http_url_host(s: &str) -> Option<&str> {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))?;
    if s.contains(char::is_whitespace) {
        return None;
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    let (host, port) = if host_port.starts_with('[') {
        let close = host_port.find(']')?;
        host_port.split_at(close + 1)
    } else {
        host_port.split_at(host_port.rfind(':').unwrap_or(host_port.len()))
    };
    if !port.is_empty() {
        let digits = port.strip_prefix(':')?;
        if digits.is_empty() || digits.len() > 5 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
    }
    if host.is_empty() || (!host.starts_with('[') && !url_hostname(host)) {
        return None;
    }
    let (before_fragment, fragment) = tail.split_once('#').unwrap_or((tail, ""));
    let path = before_fragment.split('?').next().unwrap_or_default();
    (percent_escapes_ok(path) && percent_escapes_ok(fragment)).then_some(host)
}

fn url_hostname(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host);
    let labels: Vec<&str> = host.split('.').collect();
    let label_ok = |label: &&str| {
        let edge = |c: Option<char>| c.is_some_and(|c| c != '-' && c != '_');
        edge(label.chars().next())
            && edge(label.chars().last())
            && label
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || !c.is_ascii())
    };
    if !labels.iter().all(label_ok) {
        return false;
    }
    let numeric = labels.iter().all(|l| l.bytes().all(|b| b.is_ascii_digit()));
    match labels.as_slice() {
        [_] => true,
        [_, .., top] if !numeric => top
            .chars()
            .all(|c| c.is_ascii_alphabetic() || !c.is_ascii()),
        _ => ipv4(&labels),
    }
}

fn ipv4(octets: &[&str]) -> bool {
    let values: Vec<u16> = octets
        .iter()
        .filter(|o| o.len() <= 3)
        .filter_map(|o| o.parse().ok())
        .filter(|&v| v <= 255)
        .collect();
    match values.as_slice() {
        [first, _, _, _] => !octets[0].starts_with('0') && matches!(first, 1..=223 | 240..=255),
        _ => false,
    }
}

fn percent_escapes_ok(part: &str) -> bool {
    let b = part.as_bytes();
    b.iter().enumerate().all(|(i, &c)| {
        c != b'%'
            || b.get(i + 1..i + 3)
                .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
    })
}

/// Letters beyond ASCII that the email grammar allows wherever it allows a letter.
fn wide(c: char) -> bool {
    matches!(c, '\u{A0}'..='\u{D7FF}' | '\u{F900}'..='\u{FDCF}' | '\u{FDF0}'..='\u{FFEF}')
}

/// Whether `s` is an email address by the grammar PocketBase checks email fields
/// with: a dot-atom local part (no quoted ones: PocketBase refuses `"a"@b.co`), `@`,
/// and dot-separated domain labels that start and end with a letter or digit, the
/// last one (the top level) with a letter, and an optional final dot. No
/// whitespace anywhere, no IP literals, no length limits.
pub fn is_email(s: &str) -> bool {
    s.split_once('@')
        .is_some_and(|(local, domain)| dot_atom(local) && email_domain(domain))
}

fn dot_atom(local: &str) -> bool {
    let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c) || wide(c);
    !local.is_empty()
        && local
            .split('.')
            .all(|atom| !atom.is_empty() && atom.chars().all(atext))
}

fn email_domain(domain: &str) -> bool {
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    let edge = |c: char| c.is_ascii_alphanumeric() || wide(c);
    let top_edge = |c: char| c.is_ascii_alphabetic() || wide(c);
    let inner = |c: char| edge(c) || matches!(c, '-' | '.' | '_' | '~');
    let chars: Vec<char> = domain.chars().collect();
    let (Some(&first), Some(&last)) = (chars.first(), chars.last()) else {
        return false;
    };
    // Labels may hold `.`, `-`, `_`, `~` inside, so the rule comes down to: some
    // dot separates a part ending in a letter/digit from a top level starting with
    // a letter.
    edge(first)
        && top_edge(last)
        && chars.iter().all(|&c| inner(c))
        && chars
            .windows(3)
            .any(|w| w[1] == '.' && edge(w[0]) && top_edge(w[2]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_float_accepts_what_go_accepts() {
        let cases: &[(&str, Option<f64>)] = &[
            ("12", Some(12.0)),
            ("-1.5", Some(-1.5)),
            ("+5", Some(5.0)),
            (".5", Some(0.5)),
            ("5.", Some(5.0)),
            ("1E3", Some(1000.0)),
            ("1e-3", Some(0.001)),
            ("1_000", Some(1000.0)),
            ("0_7", Some(7.0)),
            ("1e1_0", Some(1e10)),
            ("0x1p4", Some(16.0)),
            ("0x1.8p1", Some(3.0)),
            ("0X_1P-2", Some(0.25)),
            ("-0x10p0", Some(-16.0)),
            ("1e-400", Some(0.0)),
            // errors: PocketBase stores 0
            (" 12", None),
            ("12 ", None),
            ("\t12", None),
            ("12\n", None),
            ("", None),
            (".", None),
            ("1e", None),
            ("e5", None),
            ("1__0", None),
            ("_1", None),
            ("1_", None),
            ("1_.5", None),
            ("0x10", None),
            ("0xp1", None),
            ("0b101", None),
            ("0o7", None),
            ("12abc", None),
            ("1,5", None),
            ("+-1", None),
            ("1e400", None),
            ("-1e400", None),
            ("0x1p2000", None),
            ("+nan", None),
            ("-nan", None),
            ("infin", None),
        ];
        for (input, want) in cases {
            assert_eq!(go_float(input), *want, "{input:?}");
        }
        for special in ["inf", "Inf", "+INF", "infinity", "Infinity", "-Infinity"] {
            assert!(go_float(special).is_some_and(f64::is_infinite), "{special}");
        }
        for nan in ["NaN", "nan", "NAN"] {
            assert!(go_float(nan).is_some_and(f64::is_nan), "{nan}");
        }
        assert!(go_float("-Infinity").is_some_and(f64::is_sign_negative));
    }

    #[test]
    fn json_depth_checks_syntax_and_measures_nesting() {
        assert_eq!(json_depth("5"), Some(0));
        assert_eq!(json_depth(" 5 "), Some(0));
        assert_eq!(json_depth("\"x\\u00e9\\n\""), Some(0));
        assert_eq!(json_depth("[]"), Some(1));
        assert_eq!(json_depth("{}"), Some(1));
        assert_eq!(json_depth("[1, [2, {\"a\": [null]}], true]"), Some(4));
        assert_eq!(json_depth("{\"a\": 1, \"b\": {\"c\": []}}"), Some(3));
        assert_eq!(
            json_depth("1e400"),
            Some(0),
            "valid syntax, even if too big"
        );
        assert_eq!(json_depth("-0.5E+3"), Some(0));
        let deep = format!("{}{}", "[".repeat(500), "]".repeat(500));
        assert_eq!(json_depth(&deep), Some(500));
        for bad in [
            "",
            " ",
            "01",
            "1.",
            ".5",
            "-",
            "+1",
            "[1,]",
            "[1 2]",
            "{\"a\"}",
            "{\"a\":}",
            "{a:1}",
            "{\"a\":1,}",
            "[",
            "]",
            "[1] x",
            "'a'",
            "\"a",
            "\"\\x\"",
            "\"\\u12\"",
            "\"a\u{1}\"",
            "tru",
            "nul",
            "NaN",
            "Infinity",
            "[1]]",
            "{\"a\":1}}",
        ] {
            assert_eq!(json_depth(bad), None, "{bad:?}");
        }
    }

    fn date(s: &str) -> Option<String> {
        parse_date(s).map(crate::query::format_datetime)
    }

    #[test]
    fn dates_in_pocketbase_layouts() {
        let ok = [
            ("2024-01-02", "2024-01-02 00:00:00.000Z"),
            ("2024-01-02 10:00:00", "2024-01-02 10:00:00.000Z"),
            ("2024-01-02 10:00:00.123Z", "2024-01-02 10:00:00.123Z"),
            ("2024-01-02 10:00:00.123456Z", "2024-01-02 10:00:00.123Z"),
            ("2024-01-02 10:00:00.5", "2024-01-02 10:00:00.500Z"),
            ("2024-01-02T10:00:00Z", "2024-01-02 10:00:00.000Z"),
            ("2024-01-02T10:00:00", "2024-01-02 10:00:00.000Z"),
            ("2024-01-02T10:00:00.5Z", "2024-01-02 10:00:00.500Z"),
            ("2024-01-02T10:00:00+02:00", "2024-01-02 08:00:00.000Z"),
            ("2024-01-02T10:00:00+0200", "2024-01-02 08:00:00.000Z"),
            ("2024-01-02 10:00:00-0130", "2024-01-02 11:30:00.000Z"),
            ("2024-01-02 10:00:00 +02:00", "2024-01-02 08:00:00.000Z"),
            ("2024-01-02 10:00:00 +0200", "2024-01-02 08:00:00.000Z"),
            ("2024-02-29", "2024-02-29 00:00:00.000Z"),
        ];
        for (input, want) in ok {
            assert_eq!(date(input).as_deref(), Some(want), "{input:?}");
        }
        for bad in [
            "",
            " 2024-01-02",
            "2024-01-02 ",
            "2024-01-02 10:00",
            "2024-01-02T10:00",
            "2024-01-02T10:00Z",
            "2024-01-02t10:00:00z",
            "2024-01-02T10:00:00z",
            "2024-01-02ZZ",
            "2024-01-02T10:00:00 +02:00",
            "2024-01-02 10:00:00+02",
            "2024-01-02 10:00:60",
            "2024-01-02 24:00:00",
            "2024-1-2",
            "2024/01/02",
            "2024-13-02",
            "2023-02-29",
            "10000-01-01",
            "2024-01-02 10:00:00.",
            "1700000000",
        ] {
            assert_eq!(date(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn url_structure() {
        for ok in [
            "http://a.b",
            "https://a.b/x?q=%zz#f",
            "http://a.b.",
            "http://a_b.cd",
            "http://a--b.cd",
            "http://xn--nxasmq6b.com",
            "http://é.de",
            "http://a.é",
            "http://a.B",
            "http://123",
            "http://10.0.0.1",
            "http://255.255.255.255",
            "http://127.0.0.1:8090/x",
            "http://localhost:8090",
            "http://a.b:0",
            "http://a.b:99999/x",
            "http://u:p@a.b",
            "http://u@p@a.b",
            "http://[::1]:80",
            "http://a.b/%41#a%20b",
            "http://a.b/\\",
            "http://a.b.c1.de",
        ] {
            assert!(http_url_host(ok).is_some(), "{ok:?}");
        }
        assert_eq!(http_url_host("http://u@a.b:80/x"), Some("a.b"));
        for bad in [
            "",
            "a.b",
            "//a.b",
            "ftp://a.b",
            "HTTP://A.B",
            "http://",
            "http://a.b/ x",
            " http://a.b",
            "http://a.b\t",
            "http://.a.b",
            "http://a..b.cd",
            "http://a.b..",
            "http://-a.b",
            "http://a-.b",
            "http://a.-b",
            "http://a.b-",
            "http://ab_.cd",
            "http://user@-a.b",
            "http://a\\b.cd",
            "http://a.b1",
            "http://a.123",
            "http://a.b_c",
            "http://1.2",
            "http://1.2.3",
            "http://1.2.3.4.5",
            "http://999.1.1.1",
            "http://1.2.3.256",
            "http://0.1.2.3",
            "http://230.1.1.1",
            "http://a.b:",
            "http://a.b:abc",
            "http://a.b:123456",
            "http://a.b/%zz",
            "http://a.b/%2",
            "http://a.b/x%",
            "http://a.b#%zz",
            "http://a.b/x?q#%2",
            "http://[::1",
        ] {
            assert_eq!(http_url_host(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn email_grammar() {
        for ok in [
            "a@b.co",
            "A@B.CO",
            "a+b@c.de",
            "a.b@c.de",
            "a@b.co.",
            "a@b_c.de",
            "a@b-c.de",
            "ü@b.co",
            "a@ü.co",
            "a'b@c.de",
            "a@b~c.de",
            "x@b..c.co",
            "a@b.c",
        ] {
            assert!(is_email(ok), "{ok:?}");
        }
        for bad in [
            "",
            "a",
            "a@b",
            "@b.co",
            "a@",
            " a@b.co",
            "a@b.co ",
            "a@b.co\n",
            ".a@b.co",
            "a.@b.co",
            "a..b@c.de",
            "a@b..co",
            "a@-b.cd",
            "a@b.-cd",
            "a@b.cd-",
            "a@1.2.3.4",
            "a@[1.2.3.4]",
            "a(b)@c.de",
            "a@@b.co",
            "a b@c.de",
            "a@b.c1",
            "\"ab\"@c.de",
            "\"a b\"@c.de",
            "\"a@b\"@c.de",
            "a@b-.co",
            "a@b.co..",
        ] {
            assert!(!is_email(bad), "{bad:?}");
        }
    }
}
