//! Bytes to text: the size cap, byte order marks, and the encodings exports
//! really come in.
//!
//! UTF-8 (with or without a BOM) is what every tracker writes; UTF-16 with a BOM is
//! what Excel's "Unicode text" writes; anything else that is not valid UTF-8 is
//! read as Windows-1252, what Excel's plain "CSV" writes on Western Windows (so
//! `é` typed in a French spreadsheet survives). Binary data is refused.

use std::borrow::Cow;

use super::{ImportError, MAX_INPUT_BYTES, Source};

/// Decodes an imported file, or says why it cannot be text.
pub(super) fn decode(bytes: &[u8], format: Source) -> Result<Cow<'_, str>, ImportError> {
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(ImportError::TooLarge {
            size: bytes.len(),
            max: MAX_INPUT_BYTES,
        });
    }
    let text: Cow<'_, str> = if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        String::from_utf8_lossy(rest)
    } else if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        utf16(rest, u16::from_le_bytes).into()
    } else if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        utf16(rest, u16::from_be_bytes).into()
    } else {
        match std::str::from_utf8(bytes) {
            Ok(s) => s.into(),
            Err(_) => windows_1252(bytes).into(),
        }
    };
    if text.trim().is_empty() {
        return Err(ImportError::Empty);
    }
    if looks_binary(&text) {
        return Err(ImportError::Binary { format });
    }
    Ok(text)
}

fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> String {
    let units = bytes.chunks_exact(2).map(|c| unit([c[0], c[1]]));
    char::decode_utf16(units)
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

/// Windows-1252: Latin-1 plus typographic characters in 0x80–0x9F (the five
/// unassigned bytes become U+FFFD).
fn windows_1252(bytes: &[u8]) -> String {
    const HIGH: [char; 32] = [
        '€', '\u{FFFD}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{FFFD}', 'Ž',
        '\u{FFFD}', '\u{FFFD}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ',
        '\u{FFFD}', 'ž', 'Ÿ',
    ];
    bytes
        .iter()
        .map(|&b| match b {
            0x80..=0x9F => HIGH[usize::from(b - 0x80)],
            _ => char::from(b),
        })
        .collect()
}

/// A NUL anywhere, or more than 1 in 100 characters being control characters other
/// than tab, line breaks and form feed: no export of stories looks like that.
fn looks_binary(text: &str) -> bool {
    let mut controls = 0usize;
    let mut total = 0usize;
    for c in text.chars() {
        total += 1;
        if c == '\0' {
            return true;
        }
        if c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\u{0C}') {
            controls += 1;
        }
    }
    controls * 100 > total
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(bytes: &[u8]) -> String {
        decode(bytes, Source::Csv).unwrap().into_owned()
    }

    #[test]
    fn strips_a_utf8_bom() {
        assert_eq!(ok(b"\xEF\xBB\xBFTitle\nA"), "Title\nA");
    }

    #[test]
    fn reads_utf16_with_a_bom() {
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("Titre\té".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert_eq!(ok(&le), "Titre\té");
        let be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain("Titre".encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        assert_eq!(ok(&be), "Titre");
    }

    #[test]
    fn falls_back_to_windows_1252() {
        assert_eq!(
            ok(b"Titre;Co\xFBt\n\x93Caf\xE9\x94 \x80"),
            "Titre;Coût\n“Café” €"
        );
    }

    #[test]
    fn refuses_binary_empty_and_huge_files() {
        assert_eq!(
            decode(b"PK\x03\x04\x00\x00", Source::Csv),
            Err(ImportError::Binary {
                format: Source::Csv
            })
        );
        let png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR";
        assert!(matches!(
            decode(png, Source::JiraXml),
            Err(ImportError::Binary { .. })
        ));
        assert_eq!(decode(b"", Source::Csv), Err(ImportError::Empty));
        assert_eq!(decode(b" \r\n\t", Source::Csv), Err(ImportError::Empty));
        let huge = vec![b'a'; MAX_INPUT_BYTES + 1];
        assert_eq!(
            decode(&huge, Source::Csv),
            Err(ImportError::TooLarge {
                size: MAX_INPUT_BYTES + 1,
                max: MAX_INPUT_BYTES
            })
        );
        assert!(
            decode(&huge[1..], Source::Csv).is_ok(),
            "exactly 2 MiB is fine"
        );
    }

    #[test]
    fn a_few_stray_controls_are_text() {
        let mut s = "x".repeat(200);
        s.push('\u{1}');
        assert!(decode(s.as_bytes(), Source::Csv).is_ok());
    }
}
