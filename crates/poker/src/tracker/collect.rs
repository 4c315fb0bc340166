//! Gathering stories: cleaning each one, and the caps on stories and on the list
//! of skipped rows. Every format's reader ends here, so the limits hold for all.

use super::{ImportedStory, MAX_STORIES, Parsed, Place, SkipReason, Skipped, clean};

/// The most skipped entries listed one by one; the rest are counted.
const MAX_SKIPPED: usize = 50;

/// A story's fields as a file has them, before cleaning.
#[derive(Debug, Default)]
pub(super) struct RawStory<'a> {
    pub title: &'a str,
    pub key: &'a str,
    pub url: &'a str,
    pub description: &'a str,
    pub estimate: &'a str,
    pub kind: &'a str,
}

/// Collects the stories of one file.
#[derive(Default)]
pub(super) struct Collector {
    parsed: Parsed,
    /// The first story past [`MAX_STORIES`], and how many followed it.
    over: Option<(Place, usize)>,
    more_skipped: usize,
}

impl Collector {
    /// Cleans a story and keeps it, or records why not.
    pub fn story(&mut self, at: Place, raw: RawStory<'_>) {
        if self.parsed.stories.len() >= MAX_STORIES {
            // Past the cap only the count matters: no cleaning, no allocation.
            if !clean::has_text(raw.title) {
                self.skip(at, SkipReason::EmptyTitle);
            } else if let Some((_, more)) = &mut self.over {
                *more += 1;
            } else {
                self.over = Some((at, 0));
            }
            return;
        }
        let Some(title) = clean::title(raw.title) else {
            self.skip(at, SkipReason::EmptyTitle);
            return;
        };
        self.parsed.stories.push(ImportedStory {
            title,
            key: clean::key(raw.key),
            url: clean::url(raw.url),
            description: clean::description(raw.description),
            estimate: clean::estimate(raw.estimate),
            kind: clean::kind(raw.kind),
        });
    }

    /// Records a row or item that is not a story.
    pub fn skip(&mut self, at: Place, reason: SkipReason) {
        if self.parsed.skipped.len() < MAX_SKIPPED {
            self.parsed.skipped.push(Skipped { at, reason });
        } else {
            self.more_skipped += 1;
        }
    }

    /// The stories and skipped entries, with the cap's entries last.
    pub fn finish(mut self) -> Parsed {
        if self.more_skipped > 0 {
            let at = self.parsed.skipped.last().map_or(Place::Line(0), |s| s.at);
            self.parsed.skipped.push(Skipped {
                at,
                reason: SkipReason::AndMore {
                    count: self.more_skipped,
                },
            });
        }
        if let Some((at, more)) = self.over {
            self.parsed.skipped.push(Skipped {
                at,
                reason: SkipReason::TooMany { more },
            });
        }
        self.parsed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_500_stories_and_says_how_many_were_left_out() {
        let mut c = Collector::default();
        for n in 1..=512 {
            let title = format!("Story {n}");
            c.story(
                Place::Line(n + 1),
                RawStory {
                    title: &title,
                    ..RawStory::default()
                },
            );
        }
        let parsed = c.finish();
        assert_eq!(parsed.stories.len(), MAX_STORIES);
        assert_eq!(parsed.stories[499].title, "Story 500");
        assert_eq!(
            parsed.skipped,
            [Skipped {
                at: Place::Line(502),
                reason: SkipReason::TooMany { more: 11 }
            }]
        );
        assert_eq!(
            parsed.skipped[0].to_string(),
            "line 502: a room takes at most 500 stories per import: this one and the 11 after it were left out (split the file)"
        );
    }

    #[test]
    fn lists_50_skipped_rows_then_counts() {
        let mut c = Collector::default();
        for n in 1..=80 {
            c.story(Place::Item(n), RawStory::default());
        }
        let parsed = c.finish();
        assert!(parsed.stories.is_empty());
        assert_eq!(parsed.skipped.len(), MAX_SKIPPED + 1);
        assert_eq!(parsed.skipped[0].to_string(), "item 1: the title is empty");
        assert_eq!(
            parsed.skipped[MAX_SKIPPED].reason,
            SkipReason::AndMore { count: 30 }
        );
        assert_eq!(
            parsed.skipped[MAX_SKIPPED].to_string(),
            "30 more were skipped"
        );
    }

    #[test]
    fn cleans_every_field() {
        let mut c = Collector::default();
        c.story(
            Place::Line(2),
            RawStory {
                title: " Pay\nnow ",
                key: " SHOP-1 ",
                url: "javascript:alert(1)",
                description: " ",
                estimate: "3.0",
                kind: "Story",
            },
        );
        assert_eq!(
            c.finish().stories,
            [ImportedStory {
                title: "Pay now".into(),
                key: Some("SHOP-1".into()),
                url: None,
                description: None,
                estimate: Some("3".into()),
                kind: Some("Story".into()),
            }]
        );
    }
}
