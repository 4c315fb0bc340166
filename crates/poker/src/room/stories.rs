//! The room's story queue: what the team means to estimate, in order, and what
//! became of each story (waiting, on the table, estimated, skipped).
//!
//! Pure data and checks; [`super::state`] decides when a story moves (a round
//! takes it, an estimate settles it, the host skips it) and keeps the queue's
//! invariants together with the round's:
//!
//! - story ids are unique; at most [`MAX_STORIES`] stories;
//! - at most one story is [`StoryStatus::Active`], and it is the current
//!   round's story;
//! - an estimated story has an estimate.
//!
//! A story's votes and statistics are the history entries that name it, so a
//! story voted on twice ("re-estimated") shows both rounds.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Most stories a room's queue holds (imports are cut there, with a warning).
pub const MAX_STORIES: usize = 500;
/// Longest story title, in characters (the round topic's limit).
pub const MAX_TITLE_CHARS: usize = super::state::MAX_TOPIC_CHARS;
/// Longest tracker key (`PROJ-123`, `#42`), in characters.
pub const MAX_KEY_CHARS: usize = 64;
/// Longest link to the story in its tracker, in characters.
pub const MAX_URL_CHARS: usize = 500;

/// A story's stable id (its record id in the `stories` collection).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StoryId(pub String);

impl From<&str> for StoryId {
    fn from(id: &str) -> Self {
        Self(id.to_owned())
    }
}

impl From<String> for StoryId {
    fn from(id: String) -> Self {
        Self(id)
    }
}

impl fmt::Display for StoryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What became of a story.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoryStatus {
    /// Waiting in the queue.
    Pending,
    /// The current round's story.
    Active,
    /// The room recorded an estimate.
    Estimated,
    /// Left without an estimate (skipped, or revealed and passed over).
    Skipped,
}

impl StoryStatus {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            StoryStatus::Pending => "pending",
            StoryStatus::Active => "active",
            StoryStatus::Estimated => "estimated",
            StoryStatus::Skipped => "skipped",
        }
    }

    /// Reads a stored name; anything unknown is a pending story.
    pub fn parse(text: &str) -> Self {
        match text {
            "active" => StoryStatus::Active,
            "estimated" => StoryStatus::Estimated,
            "skipped" => StoryStatus::Skipped,
            _ => StoryStatus::Pending,
        }
    }
}

/// A story of the queue.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Story {
    /// Stable id.
    pub id: StoryId,
    /// What people see and vote on (becomes the round's topic).
    pub title: String,
    /// The tracker's key, for exports back into it.
    pub key: Option<String>,
    /// A link to the story in its tracker (http or https only).
    pub url: Option<String>,
    /// The tracker's issue or work item type (`Story`, `Bug`), kept from an
    /// import: Azure DevOps needs it to take an estimate back.
    #[serde(default)]
    pub kind: Option<String>,
    /// Where it stands.
    pub status: StoryStatus,
    /// The last recorded estimate (kept when a re-estimate is left unfinished).
    pub estimate: Option<String>,
    /// How many rounds voted on it (its entries in the history); two or more
    /// means it was re-estimated.
    #[serde(default)]
    pub rounds: u32,
}

/// A story to add: the text people typed or a file held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStory {
    /// Its new id (made by the caller, so the state machine stays pure).
    pub id: StoryId,
    /// Title, 1–200 characters once trimmed.
    pub title: String,
    /// Optional tracker key.
    pub key: Option<String>,
    /// Optional link.
    pub url: Option<String>,
    /// Optional issue type, from an imported file.
    pub kind: Option<String>,
}

/// Why a story's text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoryError {
    /// Blank or too long.
    #[error("a story needs a title of 1 to {max} characters")]
    InvalidTitle {
        /// The limit.
        max: usize,
    },
    /// Too long or holding control characters.
    #[error("a story key has at most {max} characters and no line breaks")]
    InvalidKey {
        /// The limit.
        max: usize,
    },
    /// Not an http(s) address, or too long.
    #[error("a story link must start with http:// or https:// and have at most {max} characters")]
    InvalidUrl {
        /// The limit.
        max: usize,
    },
    /// The queue is full.
    #[error("a room holds at most {max} stories; remove some first")]
    QueueFull {
        /// The limit.
        max: usize,
    },
    /// No story has this id.
    #[error("no story {story} in this room")]
    UnknownStory {
        /// The id asked for.
        story: StoryId,
    },
}

/// Trims and checks a title.
pub fn title_text(raw: &str) -> Result<String, StoryError> {
    let title = raw.trim();
    let len = title.chars().count();
    if len == 0 || len > MAX_TITLE_CHARS {
        return Err(StoryError::InvalidTitle {
            max: MAX_TITLE_CHARS,
        });
    }
    Ok(title.to_owned())
}

/// Trims and checks a key; blank means none.
pub fn key_text(raw: Option<&str>) -> Result<Option<String>, StoryError> {
    let key = raw.unwrap_or("").trim();
    if key.chars().count() > MAX_KEY_CHARS || key.chars().any(char::is_control) {
        return Err(StoryError::InvalidKey { max: MAX_KEY_CHARS });
    }
    Ok((!key.is_empty()).then(|| key.to_owned()))
}

/// Trims and checks a link; blank means none. Only http(s) addresses are kept,
/// so a link in the room can never run script.
pub fn url_text(raw: Option<&str>) -> Result<Option<String>, StoryError> {
    let url = raw.unwrap_or("").trim();
    if url.is_empty() {
        return Ok(None);
    }
    let lower = url.to_ascii_lowercase();
    let scheme_ok = lower.starts_with("https://") || lower.starts_with("http://");
    if !scheme_ok
        || url.chars().count() > MAX_URL_CHARS
        || url.chars().any(|c| c.is_control() || c.is_whitespace())
    {
        return Err(StoryError::InvalidUrl { max: MAX_URL_CHARS });
    }
    Ok(Some(url.to_owned()))
}

/// The ordered queue of a room.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Queue(Vec<Story>);

impl Queue {
    /// A queue of stored stories, in their stored order.
    pub fn from_stories(stories: Vec<Story>) -> Self {
        Self(stories)
    }

    /// Every story, in queue order.
    pub fn stories(&self) -> &[Story] {
        &self.0
    }

    /// One story.
    pub fn get(&self, id: &StoryId) -> Option<&Story> {
        self.0.iter().find(|s| &s.id == id)
    }

    /// Where a story sits, from 0.
    pub fn position(&self, id: &StoryId) -> Option<usize> {
        self.0.iter().position(|s| &s.id == id)
    }

    /// How many stories are still waiting.
    pub fn pending_count(&self) -> usize {
        self.0
            .iter()
            .filter(|s| s.status == StoryStatus::Pending)
            .count()
    }

    /// The first waiting story: what "next round" takes.
    pub fn next_pending(&self) -> Option<&Story> {
        self.0.iter().find(|s| s.status == StoryStatus::Pending)
    }

    pub(super) fn get_mut(&mut self, id: &StoryId) -> Result<&mut Story, StoryError> {
        self.0
            .iter_mut()
            .find(|s| &s.id == id)
            .ok_or_else(|| StoryError::UnknownStory { story: id.clone() })
    }

    /// Checks and appends `new`, all or nothing.
    pub(super) fn add(&mut self, new: Vec<NewStory>) -> Result<usize, StoryError> {
        if self.0.len() + new.len() > MAX_STORIES {
            return Err(StoryError::QueueFull { max: MAX_STORIES });
        }
        let mut checked = Vec::with_capacity(new.len());
        for story in new {
            if self.get(&story.id).is_some() || checked.iter().any(|s: &Story| s.id == story.id) {
                // Ids come from the caller's generator; a clash is a caller bug,
                // refused rather than silently merged.
                return Err(StoryError::UnknownStory { story: story.id });
            }
            checked.push(Story {
                id: story.id,
                title: title_text(&story.title)?,
                key: key_text(story.key.as_deref())?,
                url: url_text(story.url.as_deref())?,
                kind: key_text(story.kind.as_deref()).ok().flatten(),
                status: StoryStatus::Pending,
                estimate: None,
                rounds: 0,
            });
        }
        let added = checked.len();
        self.0.extend(checked);
        Ok(added)
    }

    /// Moves a story to position `to` (clamped to the end).
    pub(super) fn move_to(&mut self, id: &StoryId, to: usize) -> Result<bool, StoryError> {
        let from = self
            .position(id)
            .ok_or_else(|| StoryError::UnknownStory { story: id.clone() })?;
        let to = to.min(self.0.len().saturating_sub(1));
        if from == to {
            return Ok(false);
        }
        let story = self.0.remove(from);
        self.0.insert(to, story);
        Ok(true)
    }

    /// Removes a story; returns it.
    pub(super) fn remove(&mut self, id: &StoryId) -> Result<Story, StoryError> {
        let at = self
            .position(id)
            .ok_or_else(|| StoryError::UnknownStory { story: id.clone() })?;
        Ok(self.0.remove(at))
    }

    /// Broken invariants of the queue alone (the state adds the round's).
    pub fn violations(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.0.len() > MAX_STORIES {
            problems.push("too many stories".to_owned());
        }
        for (i, s) in self.0.iter().enumerate() {
            if self.0[..i].iter().any(|t| t.id == s.id) {
                problems.push(format!("story {} appears twice", s.id));
            }
            if title_text(&s.title).as_deref() != Ok(s.title.as_str()) {
                problems.push(format!("story {} has an invalid title", s.id));
            }
            if s.status == StoryStatus::Estimated && s.estimate.is_none() {
                problems.push(format!("story {} is estimated without an estimate", s.id));
            }
        }
        if self
            .0
            .iter()
            .filter(|s| s.status == StoryStatus::Active)
            .count()
            > 1
        {
            problems.push("more than one active story".to_owned());
        }
        problems
    }
}

/// Splits pasted text into story titles: one per non-blank line, a leading
/// bullet (`-`, `*`, `•`, `1.`) removed, so a list copied from a document or a
/// chat becomes a queue.
pub fn titles_from_text(text: &str) -> Vec<String> {
    text.lines()
        .map(strip_bullet)
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect()
}

fn strip_bullet(line: &str) -> &str {
    let line = line.trim();
    for bullet in ["- [ ] ", "- [x] ", "- ", "* ", "• "] {
        if let Some(rest) = line.strip_prefix(bullet) {
            return rest.trim();
        }
    }
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 && digits <= 3 {
        let rest = &line[digits..];
        if let Some(rest) = rest.strip_prefix(". ").or_else(|| rest.strip_prefix(") ")) {
            return rest.trim();
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(id: &str, title: &str) -> NewStory {
        NewStory {
            id: id.into(),
            title: title.into(),
            key: None,
            url: None,
            kind: None,
        }
    }

    #[test]
    fn adds_all_or_nothing() {
        let mut q = Queue::default();
        assert_eq!(q.add(vec![new("a", " A "), new("b", "B")]), Ok(2));
        assert_eq!(q.stories()[0].title, "A");
        let before = q.clone();
        assert!(q.add(vec![new("c", "C"), new("d", "  ")]).is_err());
        assert_eq!(q, before);
        assert!(q.add(vec![new("a", "again")]).is_err());
    }

    #[test]
    fn caps_the_queue() {
        let mut q = Queue::default();
        let many: Vec<NewStory> = (0..MAX_STORIES)
            .map(|i| new(&format!("s{i}"), "t"))
            .collect();
        assert_eq!(q.add(many), Ok(MAX_STORIES));
        assert_eq!(
            q.add(vec![new("x", "one more")]),
            Err(StoryError::QueueFull { max: MAX_STORIES })
        );
    }

    #[test]
    fn moves_and_clamps() {
        let mut q = Queue::default();
        q.add(vec![new("a", "A"), new("b", "B"), new("c", "C")])
            .unwrap_or_default();
        assert_eq!(q.move_to(&"c".into(), 0), Ok(true));
        let order: Vec<&str> = q.stories().iter().map(|s| s.id.0.as_str()).collect();
        assert_eq!(order, ["c", "a", "b"]);
        assert_eq!(q.move_to(&"c".into(), 99), Ok(true));
        let order: Vec<&str> = q.stories().iter().map(|s| s.id.0.as_str()).collect();
        assert_eq!(order, ["a", "b", "c"]);
        assert_eq!(q.move_to(&"c".into(), 2), Ok(false));
        assert!(q.move_to(&"zz".into(), 0).is_err());
    }

    #[test]
    fn links_must_be_web_addresses() {
        assert_eq!(
            url_text(Some(" https://x.test/1 ")),
            Ok(Some("https://x.test/1".into()))
        );
        assert_eq!(url_text(Some("")), Ok(None));
        for bad in [
            "javascript:alert(1)",
            "data:text/html,x",
            "ftp://x",
            "https://a b",
            "//x.test",
        ] {
            assert!(url_text(Some(bad)).is_err(), "{bad}");
        }
        assert!(url_text(Some(&format!("https://{}", "a".repeat(600)))).is_err());
    }

    #[test]
    fn keys_and_titles_are_checked() {
        assert_eq!(key_text(Some(" PROJ-1 ")), Ok(Some("PROJ-1".into())));
        assert_eq!(key_text(None), Ok(None));
        assert!(key_text(Some("a\nb")).is_err());
        assert!(key_text(Some(&"k".repeat(65))).is_err());
        assert!(title_text(&"t".repeat(201)).is_err());
        assert_eq!(title_text(&"t".repeat(200)).map(|t| t.len()), Ok(200));
    }

    #[test]
    fn pasted_lists_become_titles() {
        let text = "- Login page\n\n* Logout\n• Reset password\n1. Sign up\n12) Profile\n  plain  \n- [ ] todo\n2024 budget";
        assert_eq!(
            titles_from_text(text),
            [
                "Login page",
                "Logout",
                "Reset password",
                "Sign up",
                "Profile",
                "plain",
                "todo",
                "2024 budget"
            ]
        );
    }

    #[test]
    fn statuses_round_trip() {
        for s in [
            StoryStatus::Pending,
            StoryStatus::Active,
            StoryStatus::Estimated,
            StoryStatus::Skipped,
        ] {
            assert_eq!(StoryStatus::parse(s.as_str()), s);
        }
        assert_eq!(StoryStatus::parse("nonsense"), StoryStatus::Pending);
    }
}
