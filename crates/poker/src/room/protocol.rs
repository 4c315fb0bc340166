//! The client → server wire protocol: one JSON object per text frame, tagged by
//! `type`. See CONTRACT.md ("Wire protocol").
//!
//! Parsing is hand-written rather than derived because htmx's ws extension sends
//! form fields: every boolean may arrive as `"on"`, `"true"`, `"1"`, `"false"`,
//! `"off"`, `""` or be missing (false), numbers may arrive as strings, a deck's
//! custom cards as one comma-separated string, and htmx adds a top-level
//! `"HEADERS"` object, which is ignored. Anything else unexpected (an unknown
//! `type`, an unknown field, a wrong value) is an error whose message says what
//! to send instead.
//!
//! ```
//! use poker::room::protocol::{parse, ClientMsg};
//! use poker::room::hub::Action;
//! let msg = parse(r#"{"type":"lock","value":"on","HEADERS":{"HX-Request":"true"}}"#).unwrap();
//! assert!(matches!(msg, ClientMsg::Act(Action::Lock(true))));
//! ```

use serde_json::{Map, Value};

use super::deck::{DeckKind, DeckSpec};
use super::hub::{Action, StoryText};
use super::results_hook::{Kind, WebhookRequest};
use super::{ParticipantId, Permission, Role, Settings};

/// A parsed client frame.
#[derive(Debug, Clone)]
pub enum ClientMsg {
    /// Take a seat (or resume one with `token`); JSON mode only.
    Join {
        /// Display name.
        name: String,
        /// Voter or spectator; voter when absent.
        role: Option<Role>,
        /// A token from an earlier `welcome` or room creation.
        token: Option<String>,
    },
    /// Anything a joined participant asks the room.
    Act(Action),
    /// The host sets, removes or tests the room's results webhook (not a room
    /// command: the webhook lives beside the room's state).
    Webhook(WebhookRequest),
}

/// Why a frame was refused; the message is sent back in an error frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid message: {0}")]
pub struct ProtocolError(String);

fn bad(message: impl Into<String>) -> ProtocolError {
    ProtocolError(message.into())
}

/// The fields of one message, consumed one by one so leftovers can be reported.
struct Fields {
    kind: String,
    map: Map<String, Value>,
}

impl Fields {
    fn take(&mut self, name: &str) -> Option<Value> {
        self.map.remove(name).filter(|v| !v.is_null())
    }

    fn string(&mut self, name: &str) -> Result<String, ProtocolError> {
        self.opt_string(name)?.ok_or_else(|| {
            bad(format!(
                "\"{}\" needs a \"{name}\" field (a string)",
                self.kind
            ))
        })
    }

    fn opt_string(&mut self, name: &str) -> Result<Option<String>, ProtocolError> {
        match self.take(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(other) => Err(bad(format!("\"{name}\" must be a string, not {other}"))),
        }
    }

    fn participant(&mut self) -> Result<ParticipantId, ProtocolError> {
        self.string("participant").map(ParticipantId::from)
    }

    /// A form-friendly boolean; missing means false.
    fn flag(&mut self, name: &str) -> Result<bool, ProtocolError> {
        match self.take(name) {
            None => Ok(false),
            Some(v) => parse_bool(&v).ok_or_else(|| {
                bad(format!(
                    "\"{name}\" must be true or false (or \"on\"/\"off\"), not {v}"
                ))
            }),
        }
    }

    fn permission(&mut self, name: &str) -> Result<Permission, ProtocolError> {
        match self.string(name)?.trim() {
            "hosts" => Ok(Permission::Hosts),
            "everyone" => Ok(Permission::Everyone),
            other => Err(bad(format!(
                "\"{name}\" must be \"hosts\" or \"everyone\", not {other:?}"
            ))),
        }
    }

    fn role(&mut self, name: &str) -> Result<Option<Role>, ProtocolError> {
        match self.opt_string(name)?.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some("voter") => Ok(Some(Role::Voter)),
            Some("spectator") => Ok(Some(Role::Spectator)),
            Some(other) => Err(bad(format!(
                "\"{name}\" must be \"voter\" or \"spectator\", not {other:?}"
            ))),
        }
    }

    /// Fails on any field nobody consumed.
    fn finish(self) -> Result<(), ProtocolError> {
        match self.map.keys().next() {
            None => Ok(()),
            Some(field) => Err(bad(format!(
                "unknown field \"{field}\" in \"{}\"; remove it",
                self.kind
            ))),
        }
    }
}

fn parse_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => match n.as_u64() {
            Some(1) => Some(true),
            Some(0) => Some(false),
            _ => None,
        },
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "on" | "true" | "1" => Some(true),
            "off" | "false" | "0" | "" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// Parses one text frame.
pub fn parse(text: &str) -> Result<ClientMsg, ProtocolError> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| bad(format!("not JSON ({e}); send a JSON object")))?;
    let Value::Object(mut map) = value else {
        return Err(bad("send a JSON object with a \"type\" field"));
    };
    map.remove("HEADERS");
    let kind = match map.remove("type") {
        Some(Value::String(kind)) => kind,
        _ => return Err(bad("a message needs a \"type\" field (a string)")),
    };
    let mut f = Fields { kind, map };
    let kind = f.kind.clone();
    let msg = match kind.as_str() {
        "join" => ClientMsg::Join {
            name: f.string("name")?,
            role: f.role("role")?,
            token: f.opt_string("token")?.filter(|t| !t.is_empty()),
        },
        "webhook" => ClientMsg::Webhook(WebhookRequest::Set {
            url: f.opt_string("url")?.unwrap_or_default().trim().to_string(),
            kind: webhook_kind(&mut f)?,
        }),
        "webhook_test" => ClientMsg::Webhook(WebhookRequest::Test),
        other => ClientMsg::Act(action(other, &mut f)?),
    };
    f.finish()?;
    Ok(msg)
}

fn action(kind: &str, f: &mut Fields) -> Result<Action, ProtocolError> {
    Ok(match kind {
        "vote" => Action::Vote(f.string("value")?),
        "clear" => Action::Clear,
        "reveal" => Action::Reveal,
        "reset" => Action::Reset,
        "next" => Action::Next(f.opt_string("topic")?),
        "topic" => Action::Topic(f.string("text")?),
        "estimate" => Action::Estimate(f.string("value")?),
        "kick" => Action::Kick(f.participant()?),
        "cohost" => Action::CoHost {
            participant: f.participant()?,
            value: f.flag("value")?,
        },
        "transfer" => Action::Transfer(f.participant()?),
        "lock" => Action::Lock(f.flag("value")?),
        "rename" => Action::Rename(f.opt_string("name")?.unwrap_or_default()),
        "settings" => Action::Settings(Settings {
            reveal: f.permission("reveal")?,
            reset: f.permission("reset")?,
            next_round: f.permission("next_round")?,
            edit_topic: f.permission("edit_topic")?,
            auto_reveal: f.flag("auto_reveal")?,
            allow_spectators: f.flag("allow_spectators")?,
        }),
        "deck" => deck(f)?,
        "timer" => Action::Timer(timer_seconds(f.take("seconds"))?),
        "timer_start" => Action::TimerStart,
        "timer_stop" => Action::TimerStop,
        "role" => Action::Role {
            role: f.role("role")?.ok_or_else(|| {
                bad("\"role\" needs a \"role\" field: \"voter\" or \"spectator\"")
            })?,
            participant: f
                .opt_string("participant")?
                .filter(|p| !p.is_empty())
                .map(ParticipantId::from),
        },
        "name" => Action::Name(f.string("name")?),
        "leave" => Action::Leave,
        "story_add" => story_add(f)?,
        "story_edit" => Action::StoryEdit {
            story: f.string("story")?.into(),
            title: f.string("title")?,
            key: f.opt_string("key")?,
            url: f.opt_string("url")?,
        },
        "story_move" => Action::StoryMove {
            story: f.string("story")?.into(),
            to: position(f.take("to"))?,
        },
        "story_remove" => Action::StoryRemove(f.string("story")?.into()),
        "story_play" => Action::StoryPlay(f.string("story")?.into()),
        "story_skip" => Action::StorySkip,
        other => {
            return Err(bad(format!(
                "unknown message type {other:?}; see the wire protocol for the list"
            )));
        }
    })
}

/// A webhook's `kind`; generic when missing or blank.
fn webhook_kind(f: &mut Fields) -> Result<Kind, ProtocolError> {
    match f.opt_string("kind")?.as_deref().map(str::trim) {
        None | Some("") => Ok(Kind::Generic),
        Some(name) => Kind::parse(name).ok_or_else(|| {
            bad(format!(
                "\"kind\" must be generic, slack or teams, not {name:?}"
            ))
        }),
    }
}

fn deck(f: &mut Fields) -> Result<Action, ProtocolError> {
    let kind = match f.string("kind")?.trim() {
        "fibonacci" => DeckKind::Fibonacci,
        "modified" => DeckKind::ModifiedFibonacci,
        "tshirt" => DeckKind::TShirt,
        "powers2" => DeckKind::PowersOfTwo,
        "custom" => DeckKind::Custom,
        other => {
            return Err(bad(format!(
                "\"kind\" must be fibonacci, modified, tshirt, powers2 or custom, not {other:?}"
            )));
        }
    };
    let custom: Vec<String> = match f.take("custom") {
        None => Vec::new(),
        Some(Value::String(s)) => s
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect(),
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s),
                Value::Number(n) => Ok(n.to_string()),
                other => Err(bad(format!("a custom card must be a string, not {other}"))),
            })
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(bad(format!(
                "\"custom\" must be a comma-separated string or an array, not {other}"
            )));
        }
    };
    let spec = DeckSpec {
        kind,
        // A form sends its custom text field whatever the kind; only custom decks use it.
        custom: if kind == DeckKind::Custom {
            custom
        } else {
            Vec::new()
        },
        question: f.flag("question")?,
        coffee: f.flag("coffee")?,
        infinity: f.flag("infinity")?,
    };
    Ok(Action::Deck {
        spec,
        reset_votes: f.flag("reset_votes")?,
    })
}

/// `story_add`: `title` holds one story, or several on separate lines (a pasted
/// list; bullets are removed); `key` and `url` go with a single story only.
fn story_add(f: &mut Fields) -> Result<Action, ProtocolError> {
    let titles = super::stories::titles_from_text(&f.string("title")?);
    let key = f.opt_string("key")?.filter(|k| !k.trim().is_empty());
    let url = f.opt_string("url")?.filter(|u| !u.trim().is_empty());
    if titles.is_empty() {
        return Err(bad("\"story_add\" needs a non-blank \"title\""));
    }
    if titles.len() > 1 && (key.is_some() || url.is_some()) {
        return Err(bad(
            "\"key\" and \"url\" go with a single story; send one title, or leave them out",
        ));
    }
    Ok(Action::StoryAdd(
        titles
            .into_iter()
            .map(|title| StoryText {
                title,
                key: key.clone(),
                url: url.clone(),
                kind: None,
            })
            .collect(),
    ))
}

fn position(v: Option<Value>) -> Result<usize, ProtocolError> {
    let n = match v {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
        _ => None,
    };
    n.map(|n| usize::try_from(n).unwrap_or(usize::MAX))
        .ok_or_else(|| bad("\"to\" must be the story's new position, a whole number from 0"))
}

fn timer_seconds(v: Option<Value>) -> Result<Option<u32>, ProtocolError> {
    let seconds = match v {
        None => return Ok(None),
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
        Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
        Some(_) => None,
    };
    match seconds {
        Some(0) => Ok(None),
        Some(s) => Ok(Some(u32::try_from(s).unwrap_or(u32::MAX))),
        None => Err(bad(
            "\"seconds\" must be a whole number of seconds, or null to remove the timer",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn act(text: &str) -> Action {
        match parse(text) {
            Ok(ClientMsg::Act(a)) => a,
            other => panic!("{text}: {other:?}"),
        }
    }

    fn err(text: &str) -> String {
        match parse(text) {
            Err(e) => e.to_string(),
            Ok(m) => panic!("{text} parsed as {m:?}"),
        }
    }

    #[test]
    fn the_existing_messages_still_parse() {
        assert!(matches!(
            parse(r#"{"type":"join","name":"Ada","role":"spectator","token":"t"}"#),
            Ok(ClientMsg::Join {
                role: Some(Role::Spectator),
                token: Some(_),
                ..
            })
        ));
        assert!(matches!(act(r#"{"type":"vote","value":"5"}"#), Action::Vote(v) if v == "5"));
        assert!(matches!(act(r#"{"type":"vote","value":5}"#), Action::Vote(v) if v == "5"));
        assert!(matches!(act(r#"{"type":"next"}"#), Action::Next(None)));
        assert!(matches!(
            act(r#"{"type":"topic","text":"x"}"#),
            Action::Topic(_)
        ));
        assert!(matches!(
            act(r#"{"type":"estimate","value":"8"}"#),
            Action::Estimate(_)
        ));
    }

    #[test]
    fn form_booleans_are_accepted() {
        for (value, expected) in [
            ("true", true),
            ("\"on\"", true),
            ("\"true\"", true),
            ("\"1\"", true),
            ("1", true),
            ("false", false),
            ("\"off\"", false),
            ("\"false\"", false),
            ("\"\"", false),
        ] {
            let a = act(&format!(r#"{{"type":"lock","value":{value}}}"#));
            assert!(matches!(a, Action::Lock(b) if b == expected), "{value}");
        }
        assert!(matches!(act(r#"{"type":"lock"}"#), Action::Lock(false)));
        assert!(err(r#"{"type":"lock","value":"maybe"}"#).contains("true or false"));
    }

    #[test]
    fn htmx_headers_are_ignored_but_other_extras_are_not() {
        let a = act(r#"{"type":"reveal","HEADERS":{"HX-Request":"true","HX-Trigger":"b"}}"#);
        assert!(matches!(a, Action::Reveal));
        assert!(err(r#"{"type":"reveal","extra":1}"#).contains("unknown field \"extra\""));
        assert!(err(r#"{"type":"dance"}"#).contains("unknown message type"));
        assert!(err(r#"{"value":1}"#).contains("\"type\""));
        assert!(err("[1]").contains("JSON object"));
        assert!(err("nope").contains("not JSON"));
    }

    #[test]
    fn settings_take_permissions_and_form_flags() {
        let a = act(
            r#"{"type":"settings","reveal":"hosts","reset":"everyone","next_round":"hosts",
                "edit_topic":"everyone","auto_reveal":"on"}"#,
        );
        let Action::Settings(s) = a else {
            panic!("{a:?}")
        };
        assert_eq!(s.reveal, Permission::Hosts);
        assert_eq!(s.edit_topic, Permission::Everyone);
        assert!(s.auto_reveal);
        assert!(!s.allow_spectators, "a missing checkbox is false");
        assert!(
            err(r#"{"type":"settings","reveal":"all","reset":"hosts","next_round":"hosts","edit_topic":"hosts"}"#)
                .contains("\"hosts\" or \"everyone\"")
        );
        assert!(err(r#"{"type":"settings"}"#).contains("\"reveal\""));
    }

    #[test]
    fn decks_take_custom_cards_as_text_or_array() {
        let a = act(r#"{"type":"deck","kind":"custom","custom":" S, M ,L,, ","coffee":"on"}"#);
        let Action::Deck { spec, reset_votes } = a else {
            panic!("{a:?}")
        };
        assert_eq!(spec.custom, ["S", "M", "L"]);
        assert!(spec.coffee && !spec.question && !reset_votes);
        let a = act(r#"{"type":"deck","kind":"custom","custom":["1",2],"reset_votes":true}"#);
        assert!(
            matches!(&a, Action::Deck { spec, reset_votes: true } if spec.custom == ["1", "2"])
        );
        let a = act(r#"{"type":"deck","kind":"tshirt","custom":"a,b"}"#);
        assert!(
            matches!(&a, Action::Deck { spec, .. } if spec.custom.is_empty() && spec.kind == DeckKind::TShirt)
        );
        assert!(err(r#"{"type":"deck","kind":"tarot"}"#).contains("fibonacci"));
        assert!(err(r#"{"type":"deck","kind":"custom","custom":{"a":1}}"#).contains("comma"));
    }

    #[test]
    fn timers_take_numbers_strings_or_nothing() {
        assert!(matches!(
            act(r#"{"type":"timer","seconds":60}"#),
            Action::Timer(Some(60))
        ));
        assert!(matches!(
            act(r#"{"type":"timer","seconds":"90"}"#),
            Action::Timer(Some(90))
        ));
        assert!(matches!(
            act(r#"{"type":"timer","seconds":null}"#),
            Action::Timer(None)
        ));
        assert!(matches!(
            act(r#"{"type":"timer","seconds":0}"#),
            Action::Timer(None)
        ));
        assert!(matches!(
            act(r#"{"type":"timer","seconds":""}"#),
            Action::Timer(None)
        ));
        assert!(matches!(act(r#"{"type":"timer"}"#), Action::Timer(None)));
        assert!(err(r#"{"type":"timer","seconds":"soon"}"#).contains("whole number"));
        assert!(err(r#"{"type":"timer","seconds":-3}"#).contains("whole number"));
        assert!(matches!(
            act(r#"{"type":"timer_start"}"#),
            Action::TimerStart
        ));
        assert!(matches!(act(r#"{"type":"timer_stop"}"#), Action::TimerStop));
    }

    #[test]
    fn people_commands_parse() {
        assert!(
            matches!(act(r#"{"type":"kick","participant":"p1"}"#), Action::Kick(p) if p.0 == "p1")
        );
        assert!(matches!(
            act(r#"{"type":"cohost","participant":"p1","value":"on"}"#),
            Action::CoHost { value: true, .. }
        ));
        assert!(matches!(
            act(r#"{"type":"transfer","participant":"p2"}"#),
            Action::Transfer(_)
        ));
        assert!(
            matches!(act(r#"{"type":"rename","name":"Team"}"#), Action::Rename(n) if n == "Team")
        );
        assert!(matches!(
            act(r#"{"type":"role","role":"spectator"}"#),
            Action::Role {
                role: Role::Spectator,
                participant: None
            }
        ));
        assert!(matches!(
            act(r#"{"type":"role","role":"voter","participant":"p3"}"#),
            Action::Role {
                role: Role::Voter,
                participant: Some(_)
            }
        ));
        assert!(matches!(
            act(r#"{"type":"name","name":"Bo"}"#),
            Action::Name(_)
        ));
        assert!(matches!(act(r#"{"type":"leave"}"#), Action::Leave));
        assert!(err(r#"{"type":"kick"}"#).contains("\"participant\""));
        assert!(err(r#"{"type":"role","role":"king"}"#).contains("voter"));
    }

    #[test]
    fn webhook_messages_parse() {
        let webhook = |text: &str| match parse(text) {
            Ok(ClientMsg::Webhook(r)) => r,
            other => panic!("{text}: {other:?}"),
        };
        assert_eq!(
            webhook(r#"{"type":"webhook","url":" https://hooks.slack.com/x ","kind":"slack"}"#),
            WebhookRequest::Set {
                url: "https://hooks.slack.com/x".into(),
                kind: Kind::Slack
            }
        );
        assert_eq!(
            webhook(r#"{"type":"webhook","url":"https://x.example.com","kind":""}"#),
            WebhookRequest::Set {
                url: "https://x.example.com".into(),
                kind: Kind::Generic
            }
        );
        assert_eq!(
            webhook(r#"{"type":"webhook","url":""}"#),
            WebhookRequest::Set {
                url: String::new(),
                kind: Kind::Generic
            },
            "an empty URL removes the webhook"
        );
        assert_eq!(webhook(r#"{"type":"webhook_test"}"#), WebhookRequest::Test);
        assert!(
            err(r#"{"type":"webhook","url":"https://x.example.com","kind":"discord"}"#)
                .contains("generic, slack or teams")
        );
        assert!(err(r#"{"type":"webhook","url":7.5e300,"secret":"x"}"#).contains("unknown field"));
        assert!(err(r#"{"type":"webhook","url":["x"]}"#).contains("must be a string"));
    }
}
