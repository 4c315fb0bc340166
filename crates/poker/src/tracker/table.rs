//! Reading CSV: the delimiter, quoted fields (with delimiters, doubled quotes and
//! line breaks inside), and the line each record starts on.
//!
//! RFC 4180 as spreadsheets and trackers actually write it, read leniently: any of
//! `\n`, `\r\n`, `\r` ends a record; spaces before an opening quote are allowed; text
//! after a closing quote is kept; a record with fewer fields than the header is
//! padded. The one fatal defect is a quote that never closes, since it swallows the
//! rest of the file. Records are streamed, so a file of a million short lines
//! never becomes a million allocations at once.

use super::ImportError;

/// The delimiters sniffed, in the order ties are broken.
const DELIMITERS: [u8; 3] = [b',', b';', b'\t'];

/// One CSV record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Record {
    /// The line (1-based) the record starts on.
    pub line: usize,
    /// Its fields, raw (not trimmed).
    pub fields: Vec<String>,
}

/// The records of a CSV text, blank ones left out.
pub(super) struct Records<'a> {
    text: &'a str,
    delimiter: u8,
    pos: usize,
    line: usize,
    max_fields: usize,
}

impl<'a> Records<'a> {
    /// Reads `text` with a sniffed delimiter, keeping at most `max_fields` fields
    /// of each record (the rest are read and dropped).
    pub fn new(text: &'a str, max_fields: usize) -> Self {
        Self {
            text,
            delimiter: sniff(text),
            pos: 0,
            line: 1,
            max_fields,
        }
    }

    /// Keeps at most `n` fields of each further record.
    pub fn set_max_fields(&mut self, n: usize) {
        self.max_fields = n;
    }

    fn record(&mut self) -> Result<Record, ImportError> {
        let bytes = self.text.as_bytes();
        let len = bytes.len();
        let line = self.line;
        let mut fields = Vec::new();
        let mut field = String::new();
        let mut i = self.pos;
        let max_fields = self.max_fields;
        let keep = |fields: &mut Vec<String>, field: String| {
            if fields.len() < max_fields {
                fields.push(field);
            }
        };
        'record: loop {
            // At the start of a field: an opening quote after optional spaces?
            let mut j = i;
            while j < len && bytes[j] == b' ' {
                j += 1;
            }
            if j < len && bytes[j] == b'"' {
                let opened_on = self.line;
                i = j + 1;
                loop {
                    let Some(q) = find(bytes, i, |b| b == b'"') else {
                        return Err(ImportError::UnclosedQuote { line: opened_on });
                    };
                    self.line += count_lines(&bytes[i..q]);
                    field.push_str(&self.text[i..q]);
                    if bytes.get(q + 1) == Some(&b'"') {
                        field.push('"');
                        i = q + 2;
                    } else {
                        i = q + 1;
                        break;
                    }
                }
            }
            // Unquoted text, or what follows a closing quote, up to the field's end.
            let delimiter = self.delimiter;
            let end = find(bytes, i, |b| b == delimiter || b == b'\n' || b == b'\r');
            let end = end.unwrap_or(len);
            field.push_str(&self.text[i..end]);
            keep(&mut fields, std::mem::take(&mut field));
            i = end;
            match bytes.get(i) {
                None => break 'record,
                Some(&b) if b == delimiter => i += 1,
                Some(b'\r') => {
                    i += if bytes.get(i + 1) == Some(&b'\n') {
                        2
                    } else {
                        1
                    };
                    self.line += 1;
                    break 'record;
                }
                Some(_) => {
                    i += 1;
                    self.line += 1;
                    break 'record;
                }
            }
        }
        self.pos = i;
        Ok(Record { line, fields })
    }
}

impl Iterator for Records<'_> {
    type Item = Result<Record, ImportError>;

    fn next(&mut self) -> Option<Self::Item> {
        while self.pos < self.text.len() {
            match self.record() {
                Err(e) => {
                    self.pos = self.text.len();
                    return Some(Err(e));
                }
                Ok(r) if r.fields.iter().all(|f| f.trim().is_empty()) => continue,
                Ok(r) => return Some(Ok(r)),
            }
        }
        None
    }
}

/// The header: the first non-blank record, with at least one named column.
pub(super) fn header(records: &mut Records<'_>) -> Result<Vec<String>, ImportError> {
    let max = records.max_fields.saturating_sub(1);
    let first = records.next().ok_or(ImportError::NoHeader)??;
    if first.fields.len() > max {
        return Err(ImportError::TooManyColumns { max });
    }
    records.set_max_fields(first.fields.len());
    Ok(first.fields)
}

fn find(bytes: &[u8], from: usize, pred: impl Fn(u8) -> bool) -> Option<usize> {
    bytes[from..]
        .iter()
        .position(|&b| pred(b))
        .map(|p| from + p)
}

/// Line breaks in a span: `\n`, and `\r` not followed by `\n`.
fn count_lines(span: &[u8]) -> usize {
    span.iter()
        .enumerate()
        .filter(|&(k, &b)| b == b'\n' || (b == b'\r' && span.get(k + 1) != Some(&b'\n')))
        .count()
}

/// The delimiter of the first record: the most frequent of `,` `;` tab outside
/// quotes (`,` when there is none, a one-column file).
fn sniff(text: &str) -> u8 {
    let mut counts = [0usize; DELIMITERS.len()];
    let mut quoted = false;
    for &b in text.as_bytes() {
        match b {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => break,
            _ if !quoted => {
                if let Some(k) = DELIMITERS.iter().position(|&d| d == b) {
                    counts[k] += 1;
                }
            }
            _ => {}
        }
    }
    let best = (0..DELIMITERS.len())
        .max_by_key(|&k| (counts[k], std::cmp::Reverse(k)))
        .unwrap_or(0);
    DELIMITERS[best]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Vec<(usize, Vec<&'static str>)> {
        Records::new(text, 100)
            .map(|r| {
                let r = r.unwrap();
                let fields = r
                    .fields
                    .into_iter()
                    .map(|f| &*Box::leak(f.into_boxed_str()))
                    .collect();
                (r.line, fields)
            })
            .collect()
    }

    #[test]
    fn sniffs_the_delimiter_from_the_header() {
        assert_eq!(sniff("a,b,c\n1;2;3;4;5"), b',');
        assert_eq!(sniff("Titre;Clé;Points"), b';');
        assert_eq!(sniff("Title\tKey"), b'\t');
        assert_eq!(sniff("Title"), b',');
        assert_eq!(
            sniff("\"a;b;c\",d"),
            b',',
            "delimiters inside quotes do not count"
        );
        assert_eq!(sniff("a;b,c"), b',', "a tie goes to the comma");
    }

    #[test]
    fn reads_quoted_fields_with_everything_inside() {
        let text =
            "Title,Description\r\n\"Log in, fast\",\"Say \"\"hi\"\"\r\nthen go\"\r\nNext,plain\n";
        assert_eq!(
            read(text),
            [
                (1, vec!["Title", "Description"]),
                (2, vec!["Log in, fast", "Say \"hi\"\r\nthen go"]),
                (4, vec!["Next", "plain"]),
            ]
        );
    }

    #[test]
    fn counts_lines_across_every_line_ending_and_skips_blank_records() {
        let text = "a\n\n\"x\ny\"\r\rb\r\n , \nc";
        assert_eq!(
            read(text),
            [
                (1, vec!["a"]),
                (3, vec!["x\ny"]),
                (6, vec!["b"]),
                (8, vec!["c"])
            ]
        );
    }

    #[test]
    fn is_lenient_about_spaces_and_text_after_quotes() {
        assert_eq!(
            read("a, \"b\" ,\"c\"d,e\"f\""),
            [(1, vec!["a", "b ", "cd", "e\"f\""])]
        );
        assert_eq!(read("a,"), [(1, vec!["a", ""])]);
    }

    #[test]
    fn an_unclosed_quote_is_an_error_with_its_line() {
        let mut r = Records::new("Title\nok\n\"never\nclosed,\n", 10);
        assert!(r.next().unwrap().is_ok());
        assert!(r.next().unwrap().is_ok());
        assert_eq!(
            r.next().unwrap(),
            Err(ImportError::UnclosedQuote { line: 3 })
        );
        assert!(r.next().is_none(), "nothing after a fatal error");
    }

    #[test]
    fn the_header_caps_fields_of_every_record() {
        let mut r = Records::new("a,b\n1,2,3,4\n", 10);
        assert_eq!(header(&mut r).unwrap(), ["a", "b"]);
        assert_eq!(r.next().unwrap().unwrap().fields, ["1", "2"]);
        let mut r = Records::new("a,b,c\n", 3);
        assert_eq!(header(&mut r), Err(ImportError::TooManyColumns { max: 2 }));
        assert_eq!(
            header(&mut Records::new("\n\n", 3)),
            Err(ImportError::NoHeader)
        );
    }
}
