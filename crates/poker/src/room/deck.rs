//! Decks: the cards a room votes with.
//!
//! A [`DeckSpec`] is what a host picks (a built-in scale or custom labels, plus the
//! `?`, `☕` and `∞` toggles) and what the database stores; a [`Deck`] is the
//! validated, expanded list of [`Card`]s built from it. Only a `Deck` can reach a
//! room, so every deck a room holds has passed validation.
//!
//! ```
//! use poker::room::deck::{Deck, DeckKind, DeckSpec};
//!
//! let deck = Deck::new(DeckSpec::new(DeckKind::ModifiedFibonacci).with_question(true)).unwrap();
//! assert_eq!(deck.card("½").and_then(|c| c.value), Some(0.5));
//! assert_eq!(deck.card("?").and_then(|c| c.value), None);
//! ```

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The most cards a custom deck may list (toggles come on top).
pub const MAX_CUSTOM_CARDS: usize = 24;
/// The longest custom card, in Unicode scalar values, so cards fit on a button.
pub const MAX_CARD_CHARS: usize = 8;
/// The "I don't know" card: an abstention, never an estimate.
pub const QUESTION: &str = "?";
/// The "I need a break" card: an abstention, never an estimate.
pub const COFFEE: &str = "☕";
/// The "too big to estimate" card: an estimate, but not a number.
pub const INFINITY: &str = "∞";

const FIBONACCI: &[&str] = &["0", "1", "2", "3", "5", "8", "13", "21", "34", "55", "89"];
const MODIFIED_FIBONACCI: &[&str] = &["0", "½", "1", "2", "3", "5", "8", "13", "20", "40", "100"];
const TSHIRT: &[&str] = &["XS", "S", "M", "L", "XL", "XXL"];
const POWERS_OF_TWO: &[&str] = &["0", "1", "2", "4", "8", "16", "32", "64"];

/// Which scale a deck is built from; stored as its snake-case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DeckKind {
    /// 0 1 2 3 5 8 13 21 34 55 89.
    #[serde(rename = "fibonacci")]
    Fibonacci,
    /// 0 ½ 1 2 3 5 8 13 20 40 100.
    #[serde(rename = "modified")]
    ModifiedFibonacci,
    /// XS S M L XL XXL: ordered, but not numeric.
    #[serde(rename = "tshirt")]
    TShirt,
    /// 0 1 2 4 8 16 32 64.
    #[serde(rename = "powers2")]
    PowersOfTwo,
    /// The labels in [`DeckSpec::custom`].
    #[serde(rename = "custom")]
    Custom,
}

/// What a host asks for; the persisted form of a deck.
///
/// `custom` is read only when `kind` is [`DeckKind::Custom`]; [`Deck::new`] stores a
/// normalised copy (trimmed labels, `custom` emptied for built-in kinds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeckSpec {
    /// The scale.
    pub kind: DeckKind,
    /// Labels of a custom deck, in the order they are shown.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub custom: Vec<String>,
    /// Adds the `?` card.
    #[serde(default)]
    pub question: bool,
    /// Adds the `☕` card.
    #[serde(default)]
    pub coffee: bool,
    /// Adds the `∞` card.
    #[serde(default)]
    pub infinity: bool,
}

impl DeckSpec {
    /// A built-in deck without toggles (for a custom one, use [`DeckSpec::custom`]).
    pub fn new(kind: DeckKind) -> Self {
        Self {
            kind,
            custom: Vec::new(),
            question: false,
            coffee: false,
            infinity: false,
        }
    }

    /// A custom deck from its labels, without toggles.
    pub fn custom<S: Into<String>>(labels: impl IntoIterator<Item = S>) -> Self {
        Self {
            custom: labels.into_iter().map(Into::into).collect(),
            ..Self::new(DeckKind::Custom)
        }
    }

    /// Toggles the `?` card.
    pub fn with_question(mut self, on: bool) -> Self {
        self.question = on;
        self
    }

    /// Toggles the `☕` card.
    pub fn with_coffee(mut self, on: bool) -> Self {
        self.coffee = on;
        self
    }

    /// Toggles the `∞` card.
    pub fn with_infinity(mut self, on: bool) -> Self {
        self.infinity = on;
        self
    }
}

impl Default for DeckSpec {
    /// Fibonacci with `?` and `☕`: what most teams expect.
    fn default() -> Self {
        Self::new(DeckKind::Fibonacci)
            .with_question(true)
            .with_coffee(true)
    }
}

/// Why a deck was refused; each message says how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DeckError {
    /// A custom deck needs cards.
    #[error("a custom deck needs at least one card")]
    Empty,
    /// A custom deck has more than [`MAX_CUSTOM_CARDS`] cards.
    #[error("a custom deck holds at most {max} cards; remove some")]
    TooManyCards {
        /// The limit.
        max: usize,
    },
    /// A custom card is blank once trimmed.
    #[error("custom cards cannot be blank")]
    BlankCard,
    /// A custom card is longer than [`MAX_CARD_CHARS`].
    #[error("card {card:?} is too long: at most {max} characters")]
    CardTooLong {
        /// The offending card.
        card: String,
        /// The limit.
        max: usize,
    },
    /// A custom card holds a control character (newline, tab, …).
    #[error("card {card:?} holds a control character")]
    ControlCharacter {
        /// The offending card.
        card: String,
    },
    /// Two custom cards are equal once trimmed.
    #[error("card {card:?} appears twice; cards must be unique")]
    DuplicateCard {
        /// The repeated card.
        card: String,
    },
}

/// One card of a deck: its label and, when it has one, its numeric value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Card {
    /// What is shown and what a vote stores.
    pub label: String,
    /// The number the card stands for (`½` = 0.5); `None` for `?`, `☕`, `∞`, sizes.
    pub value: Option<f64>,
}

impl Card {
    fn new(label: &str) -> Self {
        Self {
            label: label.to_owned(),
            value: numeric_value(label),
        }
    }

    /// Whether the card is an abstention (`?` or `☕`) rather than an estimate;
    /// abstentions count as votes but never towards the mode or agreement.
    pub fn is_abstention(&self) -> bool {
        is_abstention(&self.label)
    }
}

/// Whether a card label is an abstention (`?` or `☕`).
pub fn is_abstention(label: &str) -> bool {
    label == QUESTION || label == COFFEE
}

/// The numeric value of a card label, if it is a plain number.
///
/// Accepts `½`, `¼`, `¾` and decimal numbers written with digits and at most one `.`
/// or `,` (so `0,5` works for French decks). Anything else — `∞`, `?`, `XL`, `1e3`,
/// `-1` — is non-numeric, so a custom card never becomes a number by accident.
pub fn numeric_value(label: &str) -> Option<f64> {
    match label {
        "½" => return Some(0.5),
        "¼" => return Some(0.25),
        "¾" => return Some(0.75),
        _ => {}
    }
    let separators = label.chars().filter(|c| *c == '.' || *c == ',').count();
    let digits = label.chars().filter(char::is_ascii_digit).count();
    if digits == 0 || separators > 1 || digits + separators != label.chars().count() {
        return None;
    }
    label
        .replace(',', ".")
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
}

/// A validated deck: the cards a round accepts, in the order they are shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "DeckSpec", into = "DeckSpec")]
pub struct Deck {
    spec: DeckSpec,
    cards: Vec<Card>,
}

impl Deck {
    /// Validates a spec and expands it into cards.
    ///
    /// Custom labels are trimmed and must be non-blank, at most [`MAX_CARD_CHARS`]
    /// long, free of control characters and unique; at most [`MAX_CUSTOM_CARDS`].
    /// A toggle whose card a custom deck already lists adds nothing.
    pub fn new(spec: DeckSpec) -> Result<Self, DeckError> {
        let labels: Vec<String> = match spec.kind {
            DeckKind::Fibonacci => to_owned(FIBONACCI),
            DeckKind::ModifiedFibonacci => to_owned(MODIFIED_FIBONACCI),
            DeckKind::TShirt => to_owned(TSHIRT),
            DeckKind::PowersOfTwo => to_owned(POWERS_OF_TWO),
            DeckKind::Custom => validate_custom(&spec.custom)?,
        };
        let mut cards: Vec<Card> = labels.iter().map(|l| Card::new(l)).collect();
        for (on, label) in [
            (spec.infinity, INFINITY),
            (spec.question, QUESTION),
            (spec.coffee, COFFEE),
        ] {
            if on && !cards.iter().any(|c| c.label == label) {
                cards.push(Card::new(label));
            }
        }
        let custom = if spec.kind == DeckKind::Custom {
            labels
        } else {
            Vec::new()
        };
        Ok(Self {
            spec: DeckSpec { custom, ..spec },
            cards,
        })
    }

    /// The normalised spec this deck was built from (what to persist).
    pub fn spec(&self) -> &DeckSpec {
        &self.spec
    }

    /// The cards, in display order.
    pub fn cards(&self) -> &[Card] {
        &self.cards
    }

    /// The card with this exact label.
    pub fn card(&self, label: &str) -> Option<&Card> {
        self.cards.iter().find(|c| c.label == label)
    }

    /// Whether a vote for `label` is valid in this deck.
    pub fn contains(&self, label: &str) -> bool {
        self.card(label).is_some()
    }

    /// The distinct numeric values of the deck, ascending: the "steps" that the
    /// outlier rule in [`crate::room::stats`] counts.
    pub fn numeric_steps(&self) -> Vec<f64> {
        let mut steps: Vec<f64> = self.cards.iter().filter_map(|c| c.value).collect();
        steps.sort_by(f64::total_cmp);
        steps.dedup();
        steps
    }
}

impl Default for Deck {
    fn default() -> Self {
        let spec = DeckSpec::default();
        let cards = FIBONACCI
            .iter()
            .chain([QUESTION, COFFEE].iter())
            .map(|l| Card::new(l))
            .collect();
        Self { spec, cards }
    }
}

impl TryFrom<DeckSpec> for Deck {
    type Error = DeckError;

    fn try_from(spec: DeckSpec) -> Result<Self, DeckError> {
        Self::new(spec)
    }
}

impl From<Deck> for DeckSpec {
    fn from(deck: Deck) -> Self {
        deck.spec
    }
}

fn to_owned(labels: &[&str]) -> Vec<String> {
    labels.iter().map(|l| (*l).to_owned()).collect()
}

fn validate_custom(raw: &[String]) -> Result<Vec<String>, DeckError> {
    if raw.is_empty() {
        return Err(DeckError::Empty);
    }
    if raw.len() > MAX_CUSTOM_CARDS {
        return Err(DeckError::TooManyCards {
            max: MAX_CUSTOM_CARDS,
        });
    }
    let mut labels: Vec<String> = Vec::with_capacity(raw.len());
    for card in raw {
        let card = card.trim();
        if card.is_empty() {
            return Err(DeckError::BlankCard);
        }
        if card.chars().count() > MAX_CARD_CHARS {
            return Err(DeckError::CardTooLong {
                card: card.to_owned(),
                max: MAX_CARD_CHARS,
            });
        }
        if card.chars().any(char::is_control) {
            return Err(DeckError::ControlCharacter {
                card: card.to_owned(),
            });
        }
        if labels.iter().any(|l| l == card) {
            return Err(DeckError::DuplicateCard {
                card: card.to_owned(),
            });
        }
        labels.push(card.to_owned());
    }
    Ok(labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(deck: &Deck) -> Vec<&str> {
        deck.cards().iter().map(|c| c.label.as_str()).collect()
    }

    #[test]
    fn built_in_decks_list_their_cards_in_order() {
        let cases: [(DeckKind, &[&str]); 4] = [
            (DeckKind::Fibonacci, FIBONACCI),
            (DeckKind::ModifiedFibonacci, MODIFIED_FIBONACCI),
            (DeckKind::TShirt, TSHIRT),
            (DeckKind::PowersOfTwo, POWERS_OF_TWO),
        ];
        for (kind, expected) in cases {
            let deck = Deck::new(DeckSpec::new(kind)).unwrap();
            assert_eq!(labels(&deck), expected, "{kind:?}");
        }
        let fib = Deck::new(DeckSpec::new(DeckKind::Fibonacci)).unwrap();
        assert_eq!(
            labels(&fib),
            ["0", "1", "2", "3", "5", "8", "13", "21", "34", "55", "89"]
        );
    }

    #[test]
    fn toggles_append_infinity_question_coffee() {
        let spec = DeckSpec::new(DeckKind::PowersOfTwo)
            .with_question(true)
            .with_coffee(true)
            .with_infinity(true);
        let deck = Deck::new(spec).unwrap();
        assert_eq!(
            labels(&deck),
            ["0", "1", "2", "4", "8", "16", "32", "64", "∞", "?", "☕"]
        );
        let only_coffee = Deck::new(DeckSpec::new(DeckKind::TShirt).with_coffee(true)).unwrap();
        assert_eq!(
            labels(&only_coffee),
            ["XS", "S", "M", "L", "XL", "XXL", "☕"]
        );
    }

    #[test]
    fn cards_know_their_numeric_value() {
        let deck = Deck::new(
            DeckSpec::new(DeckKind::ModifiedFibonacci)
                .with_infinity(true)
                .with_question(true)
                .with_coffee(true),
        )
        .unwrap();
        let value = |l: &str| deck.card(l).unwrap().value;
        assert_eq!(value("½"), Some(0.5));
        assert_eq!(value("100"), Some(100.0));
        assert_eq!(value("0"), Some(0.0));
        assert_eq!(value("∞"), None);
        assert_eq!(value("?"), None);
        assert_eq!(value("☕"), None);
        let tshirt = Deck::new(DeckSpec::new(DeckKind::TShirt)).unwrap();
        assert!(tshirt.cards().iter().all(|c| c.value.is_none()));
    }

    #[test]
    fn numeric_value_accepts_only_plain_numbers() {
        assert_eq!(numeric_value("0,5"), Some(0.5));
        assert_eq!(numeric_value("2.5"), Some(2.5));
        assert_eq!(numeric_value(".5"), Some(0.5));
        assert_eq!(numeric_value("¾"), Some(0.75));
        for not_a_number in [
            "", ".", "1e3", "-1", "inf", "NaN", "1.2.3", "1,5.0", "XL", "٣",
        ] {
            assert_eq!(numeric_value(not_a_number), None, "{not_a_number:?}");
        }
    }

    #[test]
    fn abstentions_are_question_and_coffee_only() {
        assert!(is_abstention("?"));
        assert!(is_abstention("☕"));
        assert!(!is_abstention("∞"));
        assert!(!is_abstention("XL"));
        assert!(Card::new("?").is_abstention());
    }

    #[test]
    fn custom_decks_are_trimmed_and_accept_any_unicode() {
        let deck = Deck::new(DeckSpec::custom([" 🐜 ", "🐕", "🐘", "½", "1,5", "Ω"])).unwrap();
        assert_eq!(labels(&deck), ["🐜", "🐕", "🐘", "½", "1,5", "Ω"]);
        assert_eq!(deck.card("1,5").unwrap().value, Some(1.5));
        assert_eq!(deck.spec().custom[0], "🐜");
        assert_eq!(deck.numeric_steps(), [0.5, 1.5]);
    }

    #[test]
    fn custom_decks_are_validated() {
        let cases: [(Vec<&str>, DeckError); 6] = [
            (vec![], DeckError::Empty),
            (vec!["1", "  "], DeckError::BlankCard),
            (
                vec!["123456789"],
                DeckError::CardTooLong {
                    card: "123456789".into(),
                    max: 8,
                },
            ),
            (
                vec!["a\nb"],
                DeckError::ControlCharacter {
                    card: "a\nb".into(),
                },
            ),
            (
                vec!["a", " a"],
                DeckError::DuplicateCard { card: "a".into() },
            ),
            (
                (0..25).map(|_| "x").collect(),
                DeckError::TooManyCards { max: 24 },
            ),
        ];
        for (cards, error) in cases {
            assert_eq!(
                Deck::new(DeckSpec::custom(cards.clone())),
                Err(error),
                "{cards:?}"
            );
        }
        // Eight characters (not bytes) is fine; 24 cards is fine.
        assert!(Deck::new(DeckSpec::custom(["ÉÉÉÉÉÉÉÉ"])).is_ok());
        assert!(Deck::new(DeckSpec::custom((0..24).map(|i| i.to_string()))).is_ok());
    }

    #[test]
    fn a_toggle_does_not_duplicate_a_custom_card() {
        let deck = Deck::new(DeckSpec::custom(["1", "?"]).with_question(true)).unwrap();
        assert_eq!(labels(&deck), ["1", "?"]);
    }

    #[test]
    fn built_in_specs_drop_custom_labels() {
        let mut spec = DeckSpec::new(DeckKind::Fibonacci);
        spec.custom = vec!["ignored".into()];
        let deck = Deck::new(spec).unwrap();
        assert!(deck.spec().custom.is_empty());
        assert!(!deck.contains("ignored"));
    }

    #[test]
    fn decks_round_trip_through_json_as_their_spec() {
        let deck = Deck::new(DeckSpec::custom(["S", "M"]).with_coffee(true)).unwrap();
        let json = serde_json::to_value(&deck).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"kind": "custom", "custom": ["S", "M"], "question": false, "coffee": true, "infinity": false})
        );
        let back: Deck = serde_json::from_value(json).unwrap();
        assert_eq!(back, deck);
        let bad = serde_json::json!({"kind": "custom", "custom": []});
        assert!(serde_json::from_value::<Deck>(bad).is_err());
        let short: Deck = serde_json::from_value(serde_json::json!({"kind": "modified"})).unwrap();
        assert!(short.contains("½"));
    }

    #[test]
    fn the_default_deck_is_fibonacci_with_abstentions() {
        assert_eq!(Deck::default(), Deck::new(DeckSpec::default()).unwrap());
    }

    #[test]
    fn numeric_steps_are_sorted_and_distinct() {
        let deck = Deck::new(DeckSpec::custom(["8", "1", "1.0", "?", "3"])).unwrap();
        assert_eq!(deck.numeric_steps(), [1.0, 3.0, 8.0]);
    }
}
