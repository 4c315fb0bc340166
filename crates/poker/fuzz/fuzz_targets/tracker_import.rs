//! Reads arbitrary bytes with every story importer (and `detect`, `columns`,
//! `guess_map`): none may panic, every story read keeps the limits, and what was
//! read goes back out through every export, whose re-importable files read back
//! to the same titles (and keys, for the trackers' CSVs).
//!
//! Run (stable toolchain), starting from the committed sample files; new finds go
//! to the ignored `corpus/tracker_import`, listed first so libFuzzer writes there:
//! `cd crates/poker/fuzz && mkdir -p corpus/tracker_import && RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer none tracker_import corpus/tracker_import ../../../tests/fixtures/tracker -- -dict=tracker.dict -max_total_time=20`
#![no_main]

use libfuzzer_sys::fuzz_target;
use poker::tracker::{
    self, EstimatedStory, MAX_ESTIMATE_CHARS, MAX_KEY_CHARS, MAX_STORIES, MAX_TITLE_CHARS,
    MAX_URL_CHARS, Parsed, Source, Target,
};

fn check_limits(parsed: &Parsed) {
    assert!(parsed.stories.len() <= MAX_STORIES);
    assert!(parsed.skipped.len() <= 52);
    for s in &parsed.stories {
        assert!(!s.title.is_empty() && s.title.chars().count() <= MAX_TITLE_CHARS);
        assert!(!s.title.contains(|c: char| c.is_control()), "{:?}", s.title);
        assert!(
            s.key
                .as_ref()
                .is_none_or(|k| k.chars().count() <= MAX_KEY_CHARS)
        );
        assert!(s.url.as_ref().is_none_or(|u| u.len() <= MAX_URL_CHARS
            && (u.to_ascii_lowercase().starts_with("https://")
                || u.to_ascii_lowercase().starts_with("http://"))));
        assert!(
            s.estimate
                .as_ref()
                .is_none_or(|e| e.chars().count() <= MAX_ESTIMATE_CHARS)
        );
    }
}

fn check_exports(stories: &[EstimatedStory]) {
    for target in Target::ALL {
        let out = tracker::export(target, stories);
        let Some(source) = target.reimport_source() else {
            continue;
        };
        let back = tracker::parse(source, &out.body, None)
            .unwrap_or_else(|e| panic!("{target} does not read back: {e}"));
        let kept: Vec<&EstimatedStory> = stories
            .iter()
            .enumerate()
            .filter(|(i, _)| !out.left_out.iter().any(|l| l.index == *i))
            .map(|(_, s)| s)
            .collect();
        assert_eq!(back.stories.len(), kept.len(), "{target}");
        for (b, s) in back.stories.iter().zip(&kept) {
            assert_eq!(b.title, s.title, "{target}");
            if target != Target::GithubJson {
                assert_eq!(b.key, s.key, "{target}");
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let _ = tracker::detect(data);
    if let Ok(columns) = tracker::columns(data) {
        let map = tracker::guess_map(&columns);
        assert!(map.title < columns.len().max(1));
        let _ = tracker::parse(Source::Csv, data, Some(&map));
    }
    for source in Source::ALL {
        let Ok(parsed) = tracker::parse(source, data, None) else {
            continue;
        };
        check_limits(&parsed);
        let stories: Vec<EstimatedStory> =
            parsed.stories.iter().map(EstimatedStory::from).collect();
        check_exports(&stories);
    }
});
