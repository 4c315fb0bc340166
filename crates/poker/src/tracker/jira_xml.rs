//! Jira's XML export ("Export XML" of a search): an RSS document.
//!
//! ```xml
//! <rss version="0.92"><channel>
//!   <item>
//!     <title>[SHOP-1] Checkout page</title>
//!     <link>https://example.atlassian.net/browse/SHOP-1</link>
//!     <key id="10001">SHOP-1</key>
//!     <summary>Checkout page</summary>
//!     <type id="10001">Story</type>
//!     <description>&lt;p&gt;As a buyer…&lt;/p&gt;</description>
//!     <customfields>
//!       <customfield id="customfield_10016" key="…">
//!         <customfieldname>Story point estimate</customfieldname>
//!         <customfieldvalues><customfieldvalue>5.0</customfieldvalue></customfieldvalues>
//!       </customfield>
//!     </customfields>
//!   </item>
//! </channel></rss>
//! ```
//!
//! Only `rss/channel/item` elements and their direct fields are read; comments,
//! attachments and the rest are passed over. quick-xml reads the document as a
//! stream: a DOCTYPE is skipped, and of entity references only the five predefined
//! ones and character references are turned into text (anything else, `&xxe;`,
//! is dropped), so nothing is fetched or expanded.

use quick_xml::Reader;
use quick_xml::events::{BytesRef, Event};

use super::collect::{Collector, RawStory};
use super::{ImportError, Parsed, Place, clean, mapping};

/// Deeper than any Jira export nests (rss/channel/item/customfields/…: 6).
const MAX_DEPTH: usize = 64;
/// `rss/channel/item` is at this depth.
const ITEM_DEPTH: usize = 3;

/// The fields of one `<item>`, as text.
#[derive(Default)]
struct Item {
    title: String,
    link: String,
    key: String,
    summary: String,
    description: String,
    kind: String,
    estimate: Option<String>,
    field_name: String,
    /// The current custom field's first value, and how many values it has.
    field_value: String,
    field_values: usize,
}

/// Which text the reader is inside.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Slot {
    None,
    Title,
    Link,
    Key,
    Summary,
    Description,
    Kind,
    FieldName,
    FieldValue,
}

/// Reads a Jira XML export.
pub(super) fn parse(text: &str) -> Result<Parsed, ImportError> {
    let mut reader = Reader::from_str(text);
    let mut path: Vec<String> = Vec::new();
    let mut out = Collector::default();
    let mut item: Option<Item> = None;
    let mut items = 0usize;
    let mut slot = Slot::None;
    let mut seen_root = false;
    let fail = |reader: &Reader<&[u8]>, what: String| {
        let at = usize::try_from(reader.buffer_position())
            .unwrap_or(usize::MAX)
            .min(text.len());
        let line = text.as_bytes()[..at]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        ImportError::NotJiraXml {
            reason: format!("line {line}: {what}"),
        }
    };
    loop {
        let event = reader
            .read_event()
            .map_err(|e| fail(&reader, e.to_string()))?;
        match event {
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if !seen_root {
                    seen_root = true;
                    if name != "rss" {
                        return Err(fail(
                            &reader,
                            format!("the root element is <{name}>, not <rss>"),
                        ));
                    }
                }
                path.push(name);
                if path.len() > MAX_DEPTH {
                    return Err(fail(&reader, "elements are nested too deeply".into()));
                }
                if path.len() == ITEM_DEPTH && path_is(&path, &["rss", "channel", "item"]) {
                    item = Some(Item::default());
                }
                slot = slot_of(&path);
                if slot == Slot::FieldValue {
                    if let Some(it) = item.as_mut() {
                        it.field_values += 1;
                    }
                }
            }
            Event::Empty(e) => {
                if !seen_root {
                    let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                    return Err(fail(
                        &reader,
                        format!("the root element is <{name}>, not <rss>"),
                    ));
                }
            }
            Event::End(_) => {
                let depth = path.len();
                let ended = path.pop();
                let field_ended =
                    depth == ITEM_DEPTH + 2 && ended.as_deref() == Some("customfield");
                if let Some(it) = item.as_mut().filter(|_| field_ended) {
                    let value = std::mem::take(&mut it.field_value);
                    it.field_values = 0;
                    let name = mapping::normalise(&std::mem::take(&mut it.field_name));
                    if it.estimate.is_none()
                        && !value.trim().is_empty()
                        && mapping::ESTIMATE.contains(&name.as_str())
                    {
                        it.estimate = Some(value);
                    }
                }
                if depth == ITEM_DEPTH && ended.as_deref() == Some("item") {
                    if let Some(it) = item.take() {
                        items += 1;
                        finish_item(&mut out, items, it);
                    }
                }
                slot = slot_of(&path);
            }
            Event::Text(t) => {
                let text = t
                    .xml10_content()
                    .map_err(|e| fail(&reader, e.to_string()))?;
                push(&mut item, slot, &text);
            }
            Event::CData(t) => {
                let text = t
                    .xml10_content()
                    .map_err(|e| fail(&reader, e.to_string()))?;
                push(&mut item, slot, &text);
            }
            Event::GeneralRef(r) => {
                if let Some(c) = resolve(&r) {
                    push(&mut item, slot, c.encode_utf8(&mut [0; 4]));
                }
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if !seen_root {
        return Err(ImportError::NotJiraXml {
            reason: "it has no <rss> element".into(),
        });
    }
    Ok(out.finish())
}

/// The predefined entities and character references; every other entity is
/// dropped (never expanded).
fn resolve(r: &BytesRef<'_>) -> Option<char> {
    if r.is_char_ref() {
        return r.resolve_char_ref().ok().flatten();
    }
    match r.decode().ok()?.as_ref() {
        "lt" => Some('<'),
        "gt" => Some('>'),
        "amp" => Some('&'),
        "apos" => Some('\''),
        "quot" => Some('"'),
        _ => None,
    }
}

fn path_is(path: &[String], expected: &[&str]) -> bool {
    path.len() == expected.len() && path.iter().zip(expected).all(|(a, b)| a == b)
}

/// The field the text at `path` belongs to.
fn slot_of(path: &[String]) -> Slot {
    if path.len() < ITEM_DEPTH || !path_is(&path[..ITEM_DEPTH], &["rss", "channel", "item"]) {
        return Slot::None;
    }
    let rest: Vec<&str> = path[ITEM_DEPTH..].iter().map(String::as_str).collect();
    match rest.as_slice() {
        ["title"] => Slot::Title,
        ["link"] => Slot::Link,
        ["key"] => Slot::Key,
        ["summary"] => Slot::Summary,
        ["description"] => Slot::Description,
        ["type"] => Slot::Kind,
        ["customfields", "customfield", "customfieldname"] => Slot::FieldName,
        [
            "customfields",
            "customfield",
            "customfieldvalues",
            "customfieldvalue",
        ] => Slot::FieldValue,
        _ => Slot::None,
    }
}

fn push(item: &mut Option<Item>, slot: Slot, text: &str) {
    let Some(it) = item.as_mut() else { return };
    let target = match slot {
        Slot::None => return,
        Slot::Title => &mut it.title,
        Slot::Link => &mut it.link,
        Slot::Key => &mut it.key,
        Slot::Summary => &mut it.summary,
        Slot::Description => &mut it.description,
        Slot::Kind => &mut it.kind,
        Slot::FieldName => &mut it.field_name,
        // Only a custom field's first value counts.
        Slot::FieldValue if it.field_values == 1 => &mut it.field_value,
        Slot::FieldValue => return,
    };
    target.push_str(text);
}

fn finish_item(out: &mut Collector, n: usize, it: Item) {
    // The summary alone; older exports only have "[KEY-1] Summary" as the title.
    let title = if it.summary.trim().is_empty() {
        let t = it.title.trim_start();
        match t.strip_prefix('[').and_then(|r| r.split_once(']')) {
            Some((_, rest)) => rest.to_owned(),
            None => t.to_owned(),
        }
    } else {
        it.summary
    };
    let description = clean::html_to_text(&it.description);
    out.story(
        Place::Item(n),
        RawStory {
            title: &title,
            key: &it.key,
            url: &it.link,
            description: &description,
            estimate: it.estimate.as_deref().unwrap_or(""),
            kind: &it.kind,
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tracker::SkipReason;

    const ONE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!-- RSS generated by JIRA -->
<rss version="0.92"><channel><title>Jira</title><link>https://x.atlassian.net</link>
<item>
  <title>[SHOP-1] Checkout &amp; pay</title>
  <link>https://x.atlassian.net/browse/SHOP-1</link>
  <key id="10001">SHOP-1</key>
  <summary>Checkout &amp; pay</summary>
  <type id="10001">Story</type>
  <description>&lt;p&gt;As a &lt;b&gt;buyer&lt;/b&gt;&lt;/p&gt;</description>
  <comments><comment id="1"><title>not the title</title></comment></comments>
  <customfields>
    <customfield id="customfield_10020"><customfieldname>Sprint</customfieldname>
      <customfieldvalues><customfieldvalue>Sprint 4</customfieldvalue></customfieldvalues></customfield>
    <customfield id="customfield_10016"><customfieldname>Story point estimate</customfieldname>
      <customfieldvalues><customfieldvalue>5.0</customfieldvalue></customfieldvalues></customfield>
  </customfields>
</item>
</channel></rss>"#;

    #[test]
    fn reads_an_item() {
        let parsed = parse(ONE).unwrap();
        assert_eq!(parsed.skipped, []);
        let s = &parsed.stories[0];
        assert_eq!(s.title, "Checkout & pay");
        assert_eq!(s.key.as_deref(), Some("SHOP-1"));
        assert_eq!(
            s.url.as_deref(),
            Some("https://x.atlassian.net/browse/SHOP-1")
        );
        assert_eq!(s.description.as_deref(), Some("As a buyer"));
        assert_eq!(s.estimate.as_deref(), Some("5"));
        assert_eq!(s.kind.as_deref(), Some("Story"));
    }

    #[test]
    fn takes_the_first_value_of_a_story_points_field() {
        let xml = "<rss><channel><item><summary>S</summary><customfields><customfield>\
                   <customfieldname>Story Points</customfieldname><customfieldvalues>\
                   <customfieldvalue>3</customfieldvalue><customfieldvalue>8</customfieldvalue>\
                   </customfieldvalues></customfield></customfields></item></channel></rss>";
        assert_eq!(
            parse(xml).unwrap().stories[0].estimate.as_deref(),
            Some("3")
        );
    }

    #[test]
    fn falls_back_to_the_bracketed_title_and_skips_empty_items() {
        let xml = "<rss><channel><item><title>[A-1] Old style</title><key>A-1</key></item>\
                   <item><title>  </title></item></channel></rss>";
        let parsed = parse(xml).unwrap();
        assert_eq!(parsed.stories[0].title, "Old style");
        assert_eq!(parsed.skipped[0].at, Place::Item(2));
        assert_eq!(parsed.skipped[0].reason, SkipReason::EmptyTitle);
    }

    #[test]
    fn never_expands_declared_entities() {
        let xml = r#"<?xml version="1.0"?>
<!DOCTYPE rss [
  <!ENTITY xxe SYSTEM "file:///etc/passwd">
  <!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
]>
<rss><channel><item><summary>a&xxe;b&lol2;c&#65;&#x42;</summary></item></channel></rss>"#;
        let parsed = parse(xml).unwrap();
        assert_eq!(parsed.stories[0].title, "abcAB");
    }

    #[test]
    fn refuses_what_is_not_jira_xml() {
        for (xml, why) in [
            (
                "<html><body/></html>",
                "line 1: the root element is <html>, not <rss>",
            ),
            ("<feed/>", "line 1: the root element is <feed>, not <rss>"),
            ("no xml at all", "it has no <rss> element"),
            ("<rss><channel>\n<item></channel></rss>", "line 2:"),
        ] {
            match parse(xml) {
                Err(ImportError::NotJiraXml { reason }) => {
                    assert!(reason.starts_with(why), "{xml}: {reason}")
                }
                other => panic!("{xml}: {other:?}"),
            }
        }
    }

    #[test]
    fn deep_nesting_is_refused_without_recursion() {
        let xml = format!("<rss>{}", "<a>".repeat(100_000));
        assert!(matches!(parse(&xml), Err(ImportError::NotJiraXml { .. })));
    }
}
