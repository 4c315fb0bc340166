//! The title rule of a note, applied by a record hook: a title is one line of
//! words, so surrounding and repeated whitespace goes, and a title of nothing but
//! whitespace is refused like a missing one.
//!
//! litebase's own `required` check runs before hooks and only refuses an empty
//! string; this hook catches `"   "`, which would otherwise be stored as a blank
//! title.

use litebase::ApiError;
use litebase::hooks::{Next, RecordAction, RecordEvent};
use serde_json::{Map, Value, json};

/// The field the rule applies to.
pub const FIELD: &str = "title";

/// `raw` as a title is stored: words separated by single spaces, or `None` when
/// there are no words at all.
///
/// ```
/// assert_eq!(notes::title::tidy("  Buy \n milk "), Some("Buy milk".to_string()));
/// assert_eq!(notes::title::tidy(" \t "), None);
/// ```
pub fn tidy(raw: &str) -> Option<String> {
    let words: Vec<&str> = raw.split_whitespace().collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// The record hook: tidies the title before the write, or aborts the write with
/// [`blank_title`]. Registered with `App::on_record` for creates and updates of
/// notes.
pub fn normalise(e: &mut RecordEvent<'_>, next: Next<'_>) -> Result<(), ApiError> {
    let raw = e.record.get(FIELD).and_then(Value::as_str).unwrap_or("");
    let title = tidy(raw).ok_or_else(|| blank_title(e.action))?;
    e.record.insert(FIELD.into(), Value::String(title));
    next.run(e)
}

/// The 400 for a blank title: the same answer litebase gives for an empty
/// required field, so a client shows it next to the title the same way.
pub fn blank_title(action: RecordAction) -> ApiError {
    let message = match action {
        RecordAction::Create => "Failed to create record.",
        RecordAction::Update => "Failed to update record.",
        RecordAction::Delete => "Failed to delete record.",
    };
    let mut data = Map::new();
    data.insert(
        FIELD.into(),
        json!({"code": "validation_required", "message": "Cannot be blank."}),
    );
    ApiError::bad_request(message).with_data(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tidy_keeps_words_and_single_spaces_only() {
        let cases = [
            ("Buy milk", Some("Buy milk")),
            ("  Buy milk  ", Some("Buy milk")),
            ("Buy\t\tmilk\n", Some("Buy milk")),
            ("\u{a0}Buy\u{2003}milk", Some("Buy milk")),
            ("x", Some("x")),
            ("", None),
            ("   ", None),
            ("\n\t\r ", None),
        ];
        for (raw, want) in cases {
            assert_eq!(tidy(raw).as_deref(), want, "tidy({raw:?})");
        }
    }

    #[test]
    fn a_blank_title_is_a_400_on_the_title_field() {
        let err = blank_title(RecordAction::Create);
        assert_eq!(
            err.body(),
            json!({
                "status": 400,
                "message": "Failed to create record.",
                "data": {"title": {"code": "validation_required", "message": "Cannot be blank."}}
            })
        );
        assert_eq!(
            blank_title(RecordAction::Update).message,
            "Failed to update record."
        );
    }
}
