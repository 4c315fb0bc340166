//! The summary of a revealed round, computed by one pure function: [`compute`].
//!
//! Live results, history entries and exports all call [`compute`], so the numbers a
//! player sees can never disagree between two screens.
//!
//! Definitions:
//! - **numeric votes**: votes for a card with a numeric value (`½` = 0.5). `?`, `☕`,
//!   `∞` and T-shirt sizes are ignored by `average`, `median`, `min`, `max` and
//!   `outliers`.
//! - **estimates**: every vote except the abstentions `?` and `☕` (so `∞` and
//!   T-shirt sizes are estimates). `mode` and `agreement` are taken over estimates,
//!   which makes them meaningful for T-shirt decks too.
//! - **mode**: the estimate card(s) with the highest count, in deck order; several
//!   when tied (a 2–2 split shows both); empty when there is no estimate, and when
//!   every estimate card got a single vote and there are at least two of them (three
//!   people voting 2, 3 and 13 have no "most voted" card: listing all three says
//!   nothing).
//! - **agreement**: the share of estimates that equal a mode card, in percent
//!   (`100 × top count / estimates`); 100 when everyone picked the same card, 50 for
//!   a 2–2 split. `None` without estimates.
//! - **outliers**: with at least three numeric votes, a numeric vote is an outlier
//!   when it is more than one *deck step* away from the median step. The steps are
//!   the deck's distinct numeric values in ascending order (Fibonacci: 0→0, 1→1,
//!   2→2, 3→3, 5→4, 8→5, …); the median step is the median of the votes' steps.
//!   Counting steps instead of raw distance treats 1 vs 3 and 21 vs 55 alike, which
//!   is how estimators read a scale. With fewer than three numeric votes nobody is
//!   an outlier: two people who disagree are a discussion, not an outlier.
//! - **distribution**: every card of the deck, in deck order, with its count (zero
//!   included, so a chart has stable columns).

use serde::{Deserialize, Serialize};

use super::ParticipantId;
use super::deck::{Deck, is_abstention};

/// The summary of a set of revealed votes; see the [module docs](self) for the
/// definitions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Every vote, including abstentions and non-numeric cards.
    pub votes: usize,
    /// Votes for numeric cards.
    pub numeric_votes: usize,
    /// Mean of the numeric votes.
    pub average: Option<f64>,
    /// Median of the numeric votes (mean of the two middle ones when even).
    pub median: Option<f64>,
    /// Lowest numeric vote.
    pub min: Option<f64>,
    /// Highest numeric vote.
    pub max: Option<f64>,
    /// The most frequent estimate card(s), in deck order; empty when no card got
    /// more votes than another (see the [module docs](self)).
    pub mode: Vec<String>,
    /// Percentage (0–100) of estimates that equal the mode.
    pub agreement: Option<f64>,
    /// Participants whose numeric vote is more than one deck step from the median,
    /// sorted by id.
    pub outliers: Vec<ParticipantId>,
    /// Every card of the deck with its count, in deck order.
    pub distribution: Vec<CardCount>,
}

/// One column of the distribution chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardCount {
    /// The card label.
    pub card: String,
    /// How many votes it got.
    pub count: usize,
}

/// Summarises revealed votes given as `(participant, card label)` pairs.
///
/// The result does not depend on the order of `votes`. A label that is not in
/// `deck` counts as a vote but as neither a number nor an estimate (the state
/// machine never lets one in).
///
/// ```
/// use poker::room::{Deck, ParticipantId, stats};
///
/// let deck = Deck::default();
/// let (a, b, c) = (ParticipantId::from("a"), ParticipantId::from("b"), ParticipantId::from("c"));
/// let s = stats::compute(&deck, [(&a, "3"), (&b, "5"), (&c, "?")]);
/// assert_eq!(s.average, Some(4.0));
/// assert_eq!(s.agreement, Some(50.0));
/// ```
pub fn compute<'a>(
    deck: &Deck,
    votes: impl IntoIterator<Item = (&'a ParticipantId, &'a str)>,
) -> Stats {
    let votes: Vec<(&ParticipantId, &str)> = votes.into_iter().collect();

    let numeric: Vec<(&ParticipantId, f64)> = votes
        .iter()
        .filter_map(|(who, label)| deck.card(label).and_then(|c| c.value).map(|v| (*who, v)))
        .collect();
    let mut values: Vec<f64> = numeric.iter().map(|(_, v)| *v).collect();
    values.sort_by(f64::total_cmp);

    let distribution: Vec<CardCount> = deck
        .cards()
        .iter()
        .map(|card| CardCount {
            card: card.label.clone(),
            count: votes.iter().filter(|(_, l)| *l == card.label).count(),
        })
        .collect();
    let estimates = || distribution.iter().filter(|c| !is_abstention(&c.card));
    let estimate_count: usize = estimates().map(|c| c.count).sum();
    let top = estimates().map(|c| c.count).max().unwrap_or(0);
    let distinct = estimates().filter(|c| c.count > 0).count();
    let mode = if top == 0 || (top == 1 && distinct >= 2) {
        Vec::new()
    } else {
        estimates()
            .filter(|c| c.count == top)
            .map(|c| c.card.clone())
            .collect()
    };
    let agreement = (estimate_count > 0).then(|| 100.0 * top as f64 / estimate_count as f64);

    Stats {
        votes: votes.len(),
        numeric_votes: values.len(),
        average: (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64),
        median: median(&values),
        min: values.first().copied(),
        max: values.last().copied(),
        mode,
        agreement,
        outliers: outliers(deck, &numeric),
        distribution,
    }
}

/// The median of sorted values.
fn median(sorted: &[f64]) -> Option<f64> {
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

fn outliers(deck: &Deck, numeric: &[(&ParticipantId, f64)]) -> Vec<ParticipantId> {
    if numeric.len() < 3 {
        return Vec::new();
    }
    let steps = deck.numeric_steps();
    let step_of = |v: f64| steps.iter().position(|s| *s == v).unwrap_or(0) as f64;
    let mut ranks: Vec<f64> = numeric.iter().map(|(_, v)| step_of(*v)).collect();
    ranks.sort_by(f64::total_cmp);
    let Some(median_step) = median(&ranks) else {
        return Vec::new();
    };
    let mut out: Vec<ParticipantId> = numeric
        .iter()
        .filter(|(_, v)| (step_of(*v) - median_step).abs() > 1.0)
        .map(|(who, _)| (*who).clone())
        .collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::room::deck::{DeckKind, DeckSpec};

    fn deck(kind: DeckKind) -> Deck {
        Deck::new(
            DeckSpec::new(kind)
                .with_question(true)
                .with_coffee(true)
                .with_infinity(true),
        )
        .unwrap()
    }

    /// Votes `cards[i]` by participant `p{i}`.
    fn run(deck: &Deck, cards: &[&str]) -> Stats {
        let ids: Vec<ParticipantId> = (0..cards.len()).map(|i| format!("p{i}").into()).collect();
        compute(deck, ids.iter().zip(cards.iter().copied()))
    }

    fn ids(names: &[&str]) -> Vec<ParticipantId> {
        names.iter().map(|n| ParticipantId::from(*n)).collect()
    }

    fn count_of(s: &Stats, card: &str) -> usize {
        s.distribution
            .iter()
            .find(|c| c.card == card)
            .map_or(usize::MAX, |c| c.count)
    }

    #[test]
    fn a_typical_fibonacci_round() {
        let s = run(&deck(DeckKind::Fibonacci), &["3", "5", "5", "8", "?"]);
        assert_eq!(s.votes, 5);
        assert_eq!(s.numeric_votes, 4);
        assert_eq!(s.average, Some(5.25));
        assert_eq!(s.median, Some(5.0));
        assert_eq!((s.min, s.max), (Some(3.0), Some(8.0)));
        assert_eq!(s.mode, ["5"]);
        assert_eq!(s.agreement, Some(50.0));
        assert!(s.outliers.is_empty());
        assert_eq!(count_of(&s, "5"), 2);
        assert_eq!(count_of(&s, "?"), 1);
        assert_eq!(count_of(&s, "89"), 0);
        assert_eq!(s.distribution.len(), 14);
        assert_eq!(s.distribution[0].card, "0");
        assert_eq!(s.distribution[13].card, "☕");
    }

    #[test]
    fn half_counts_as_a_half() {
        let s = run(&deck(DeckKind::ModifiedFibonacci), &["½", "1", "½"]);
        assert_eq!(s.numeric_votes, 3);
        assert_eq!(s.average, Some(2.0 / 3.0));
        assert_eq!(s.median, Some(0.5));
        assert_eq!(s.min, Some(0.5));
        assert_eq!(s.mode, ["½"]);
        assert!(s.outliers.is_empty());
    }

    #[test]
    fn infinity_is_an_estimate_but_not_a_number() {
        let s = run(&deck(DeckKind::Fibonacci), &["∞", "∞", "13"]);
        assert_eq!(s.numeric_votes, 1);
        assert_eq!(s.average, Some(13.0));
        assert_eq!(s.mode, ["∞"]);
        assert_eq!(s.agreement, Some(100.0 * 2.0 / 3.0));
        assert!(s.outliers.is_empty());
    }

    #[test]
    fn abstentions_only() {
        let s = run(&deck(DeckKind::Fibonacci), &["?", "☕", "?"]);
        assert_eq!(s.votes, 3);
        assert_eq!(s.numeric_votes, 0);
        assert_eq!(s.average, None);
        assert_eq!(s.median, None);
        assert_eq!((s.min, s.max), (None, None));
        assert!(s.mode.is_empty());
        assert_eq!(s.agreement, None);
        assert_eq!(count_of(&s, "?"), 2);
        assert_eq!(count_of(&s, "☕"), 1);
    }

    #[test]
    fn tshirt_sizes_have_a_mode_but_no_numbers() {
        let s = run(&deck(DeckKind::TShirt), &["M", "L", "M", "XL", "☕"]);
        assert_eq!(s.numeric_votes, 0);
        assert_eq!(s.average, None);
        assert_eq!(s.mode, ["M"]);
        assert_eq!(s.agreement, Some(50.0));
        assert!(s.outliers.is_empty());
        let sizes: Vec<&str> = s.distribution.iter().map(|c| c.card.as_str()).collect();
        assert_eq!(sizes, ["XS", "S", "M", "L", "XL", "XXL", "∞", "?", "☕"]);
    }

    #[test]
    fn everyone_agrees() {
        let s = run(&deck(DeckKind::Fibonacci), &["8", "8", "8", "8"]);
        assert_eq!(s.average, Some(8.0));
        assert_eq!(s.median, Some(8.0));
        assert_eq!((s.min, s.max), (Some(8.0), Some(8.0)));
        assert_eq!(s.mode, ["8"]);
        assert_eq!(s.agreement, Some(100.0));
        assert!(s.outliers.is_empty());
    }

    #[test]
    fn one_vote() {
        let s = run(&deck(DeckKind::PowersOfTwo), &["16"]);
        assert_eq!(s.votes, 1);
        assert_eq!(s.average, Some(16.0));
        assert_eq!(s.median, Some(16.0));
        assert_eq!(s.mode, ["16"]);
        assert_eq!(s.agreement, Some(100.0));
        assert!(s.outliers.is_empty());
    }

    #[test]
    fn no_votes() {
        let s = run(&deck(DeckKind::Fibonacci), &[]);
        assert_eq!(s.votes, 0);
        assert_eq!(s.average, None);
        assert!(s.mode.is_empty());
        assert_eq!(s.agreement, None);
        assert!(s.distribution.iter().all(|c| c.count == 0));
    }

    #[test]
    fn ties_give_several_modes_in_deck_order() {
        let s = run(&deck(DeckKind::Fibonacci), &["5", "3", "5", "3", "8"]);
        assert_eq!(s.mode, ["3", "5"]);
        assert_eq!(s.agreement, Some(40.0));
        assert_eq!(s.median, Some(5.0));
    }

    #[test]
    fn one_vote_each_has_no_most_voted_card() {
        let s = run(&deck(DeckKind::Fibonacci), &["13", "3", "2"]);
        assert!(s.mode.is_empty(), "{:?}", s.mode);
        assert_eq!(s.agreement, Some(100.0 / 3.0));
        // Abstentions do not count as a second card: one estimate is the mode.
        let s = run(&deck(DeckKind::Fibonacci), &["5", "?", "☕"]);
        assert_eq!(s.mode, ["5"]);
        // Two different estimates, one vote each: no mode either.
        let s = run(&deck(DeckKind::TShirt), &["S", "XL", "?"]);
        assert!(s.mode.is_empty());
        // A 2–2 tie names both; a 2–1–1 round names its leader.
        let s = run(&deck(DeckKind::Fibonacci), &["3", "5", "3", "5"]);
        assert_eq!(s.mode, ["3", "5"]);
        let s = run(&deck(DeckKind::Fibonacci), &["3", "5", "8", "5"]);
        assert_eq!(s.mode, ["5"]);
    }

    #[test]
    fn even_count_median_is_the_mean_of_the_middle_two() {
        let s = run(&deck(DeckKind::Fibonacci), &["2", "3", "5", "8"]);
        assert_eq!(s.median, Some(4.0));
        assert_eq!(s.average, Some(4.5));
    }

    #[test]
    fn outliers_are_more_than_one_step_from_the_median() {
        // Steps: 1→1, 5→4, 21→7. Median step 4.
        let s = run(&deck(DeckKind::Fibonacci), &["1", "5", "5", "5", "21"]);
        assert_eq!(s.outliers, ids(&["p0", "p4"]));
        // 3 and 8 are one step from 5: not outliers.
        let s = run(&deck(DeckKind::Fibonacci), &["3", "5", "8"]);
        assert!(s.outliers.is_empty());
        // A clean split marks everyone: the room has to talk.
        let s = run(&deck(DeckKind::Fibonacci), &["1", "1", "21", "21"]);
        assert_eq!(s.outliers, ids(&["p0", "p1", "p2", "p3"]));
    }

    #[test]
    fn outliers_need_three_numeric_votes() {
        let s = run(&deck(DeckKind::Fibonacci), &["0", "89", "?", "∞"]);
        assert_eq!(s.numeric_votes, 2);
        assert!(s.outliers.is_empty());
    }

    #[test]
    fn outliers_ignore_non_numeric_votes() {
        let s = run(&deck(DeckKind::Fibonacci), &["0", "13", "13", "∞", "?"]);
        assert_eq!(s.outliers, ids(&["p0"]));
    }

    #[test]
    fn steps_come_from_the_deck_not_the_distance() {
        // Modified: 0, ½, 1, 2, 3 → steps 0..4; 0 vs 2 is two steps.
        let s = run(&deck(DeckKind::ModifiedFibonacci), &["0", "2", "2"]);
        assert_eq!(s.outliers, ids(&["p0"]));
        let s = run(&deck(DeckKind::ModifiedFibonacci), &["½", "1", "1"]);
        assert!(s.outliers.is_empty());
    }

    #[test]
    fn the_result_does_not_depend_on_vote_order() {
        let d = deck(DeckKind::ModifiedFibonacci);
        let ids = ids(&["a", "b", "c", "d", "e"]);
        let cards = ["0", "½", "40", "100", "?"];
        let forward = compute(&d, ids.iter().zip(cards));
        let backward = compute(&d, ids.iter().zip(cards).rev());
        assert_eq!(forward, backward);
    }

    #[test]
    fn unknown_labels_count_as_votes_only() {
        let s = run(&deck(DeckKind::Fibonacci), &["4", "5"]);
        assert_eq!(s.votes, 2);
        assert_eq!(s.numeric_votes, 1);
        assert_eq!(s.mode, ["5"]);
        assert_eq!(s.distribution.iter().map(|c| c.count).sum::<usize>(), 1);
    }
}
