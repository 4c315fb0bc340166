//! What to type to pick each card of a deck: [`key_sequences`].
//!
//! The rule, meant to be guessed without reading it:
//! - a number is typed as written: `8` picks 8, `1` then `3` picks 13, `0.5` picks
//!   0.5;
//! - the symbols have a letter: `h` for ½ (half), `c` for ☕ (coffee), `i` for ∞
//!   (infinity); `?` is `?`;
//! - a name (`XS`, `M`, `Large`) is typed by its first letters, as few as tell it
//!   from the other cards' names: `s`, `m`, `l`, `xs`, `xl`, `xx` in the T-shirt
//!   deck (typing a name in full works too: the page ignores the rest of a name
//!   already picked);
//! - a card with nothing typeable (`🐜`), or whose name another card already takes
//!   (`S` and `s`), gets a free letter or digit.
//!
//! The page shows each card's sequence on the card and picks a card as soon as
//! what was typed is its whole sequence and no other sequence goes on from there;
//! when one does (`1` and `13`), it waits [`PICK_DELAY_MS`] for the next key, then
//! picks the shorter. So every card can be picked, and a sequence that is a prefix
//! of another is always a whole card's (never half of one).

use super::deck::{COFFEE, Card, INFINITY, QUESTION};

/// How long the page waits for the next key when what was typed picks a card but
/// could also go on to another (`1` on the way to `13`).
pub const PICK_DELAY_MS: u32 = 600;

/// The symbols and the key that picks each.
const SYMBOLS: [(&str, &str); 4] = [("½", "h"), (COFFEE, "c"), (INFINITY, "i"), (QUESTION, "?")];

/// Keys handed to cards that have no sequence of their own, in this order.
const SPARE: &str = "abcdefghijklmnopqrstuvwxyz0123456789";

/// What `label` reads as typed, if every character can be typed as it is: a
/// number as written, a symbol's letter, or a plain ASCII name in lower case.
fn typed_form(card: &Card) -> Option<(String, bool)> {
    if let Some((_, key)) = SYMBOLS.iter().find(|(symbol, _)| *symbol == card.label) {
        return Some(((*key).to_owned(), true));
    }
    let label = &card.label;
    if !label.chars().all(|c| c.is_ascii_graphic()) {
        return None;
    }
    // Numbers are typed whole: "3" must never pick 32.
    let whole = card.value.is_some();
    Some((label.to_ascii_lowercase(), whole))
}

/// The key sequence of each card of `cards`, in order: lower-case ASCII, unique,
/// and never a trap (a sequence that begins another is a whole card's own). `None`
/// only when a deck had more cards without a sequence than there are spare keys,
/// which the deck limits rule out; such a card is still picked by click or tab.
///
/// ```
/// use poker::room::{Deck, DeckKind, DeckSpec, keys::key_sequences};
///
/// let deck = Deck::new(DeckSpec::new(DeckKind::TShirt).with_coffee(true)).unwrap();
/// let keys: Vec<String> = key_sequences(deck.cards()).into_iter().flatten().collect();
/// assert_eq!(keys, ["xs", "s", "m", "l", "xl", "xx", "c"]);
/// ```
pub fn key_sequences(cards: &[Card]) -> Vec<Option<String>> {
    // What each card reads as typed; a repeat of an earlier card's goes spare.
    let mut targets: Vec<Option<(String, bool)>> = Vec::with_capacity(cards.len());
    for card in cards {
        let target = typed_form(card)
            .filter(|(t, _)| !t.is_empty())
            .filter(|(t, _)| !targets.iter().flatten().any(|(other, _)| other == t));
        targets.push(target);
    }
    let mut keys: Vec<Option<String>> = targets
        .iter()
        .enumerate()
        .map(|(i, target)| {
            let (text, whole) = target.as_ref()?;
            if *whole {
                return Some(text.clone());
            }
            // The shortest beginning of the name that no other card's begins with.
            let others = || {
                targets
                    .iter()
                    .enumerate()
                    .filter(move |(j, _)| *j != i)
                    .filter_map(|(_, t)| t.as_ref().map(|(t, _)| t.as_str()))
            };
            let unique = text
                .char_indices()
                .map(|(at, c)| &text[..at + c.len_utf8()])
                .find(|prefix| others().all(|other| !other.starts_with(prefix)));
            Some(unique.unwrap_or(text).to_owned())
        })
        .collect();
    // Spare keys: one that begins no card's sequence nor name.
    let mut taken: Vec<char> = targets
        .iter()
        .flatten()
        .filter_map(|(t, _)| t.chars().next())
        .collect();
    for key in keys.iter_mut().filter(|k| k.is_none()) {
        if let Some(spare) = SPARE.chars().find(|c| !taken.contains(c)) {
            taken.push(spare);
            *key = Some(spare.to_string());
        }
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::room::deck::{Deck, DeckKind, DeckSpec};
    use proptest::prelude::*;

    fn keys_of(spec: DeckSpec) -> Vec<(String, String)> {
        let deck = Deck::new(spec).unwrap();
        deck.cards()
            .iter()
            .zip(key_sequences(deck.cards()))
            .map(|(c, k)| (c.label.clone(), k.unwrap_or_default()))
            .collect()
    }

    fn all_toggles(kind: DeckKind) -> DeckSpec {
        DeckSpec::new(kind)
            .with_question(true)
            .with_coffee(true)
            .with_infinity(true)
    }

    /// The sequences of `spec`'s cards, as `label=keys` words.
    fn table(spec: DeckSpec) -> String {
        keys_of(spec)
            .iter()
            .map(|(l, k)| format!("{l}={k}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn numbers_are_typed_as_written() {
        assert_eq!(
            table(all_toggles(DeckKind::Fibonacci)),
            "0=0 1=1 2=2 3=3 5=5 8=8 13=13 21=21 34=34 55=55 89=89 ∞=i ?=? ☕=c"
        );
        assert_eq!(
            table(all_toggles(DeckKind::ModifiedFibonacci)),
            "0=0 ½=h 1=1 2=2 3=3 5=5 8=8 13=13 20=20 40=40 100=100 ∞=i ?=? ☕=c"
        );
        assert_eq!(
            table(DeckSpec::new(DeckKind::PowersOfTwo)),
            "0=0 1=1 2=2 4=4 8=8 16=16 32=32 64=64"
        );
        assert_eq!(
            table(DeckSpec::custom(["0,5", "1.5", "2"])),
            "0,5=0,5 1.5=1.5 2=2"
        );
    }

    #[test]
    fn names_are_typed_by_their_first_letters() {
        assert_eq!(
            table(all_toggles(DeckKind::TShirt)),
            "XS=xs S=s M=m L=l XL=xl XXL=xx ∞=i ?=? ☕=c"
        );
        assert_eq!(
            table(DeckSpec::custom(["Small", "Medium", "Large", "Huge"])),
            "Small=s Medium=m Large=l Huge=h"
        );
        // A name inside another is typed whole; the longer one goes one letter on.
        assert_eq!(table(DeckSpec::custom(["S", "Small"])), "S=s Small=sm");
        // Names and numbers side by side.
        assert_eq!(table(DeckSpec::custom(["1", "1d", "2w"])), "1=1 1d=1d 2w=2");
    }

    #[test]
    fn clashes_and_untypeable_cards_get_spare_keys() {
        // `S` and `s` read the same; the later one gets a spare key.
        assert_eq!(table(DeckSpec::custom(["S", "s", "M"])), "S=s s=a M=m");
        // Emoji and accented names.
        assert_eq!(
            table(DeckSpec::custom(["🐜", "🐕", "Élan", "ant"])),
            "🐜=b 🐕=c Élan=d ant=a"
        );
        // A custom card that is the coffee letter keeps it; ☕ gets a spare one.
        assert_eq!(
            table(DeckSpec::custom(["C", "D"]).with_coffee(true)),
            "C=c D=d ☕=a"
        );
        // ¼ and ¾ have no letter of their own.
        assert_eq!(table(DeckSpec::custom(["¼", "½", "¾"])), "¼=a ½=h ¾=b");
    }

    #[test]
    fn a_word_sharing_a_symbol_letter_waits_for_more() {
        // `c` is ☕'s whole sequence; "Cheap" and "Costly" go one letter on.
        assert_eq!(
            table(DeckSpec::custom(["Cheap", "Costly"]).with_coffee(true)),
            "Cheap=ch Costly=co ☕=c"
        );
    }

    fn label() -> impl Strategy<Value = String> {
        prop_oneof![
            "[0-9]{1,3}",
            "[0-9]{1,2}[.,][0-9]",
            "[A-Za-z]{1,5}",
            "[A-Za-z0-9+!-]{1,4}",
            Just("?".to_owned()),
            Just("☕".to_owned()),
            Just("∞".to_owned()),
            Just("½".to_owned()),
            Just("¼".to_owned()),
            "[🐜🐕éÉ]{1,2}",
        ]
    }

    fn any_deck() -> impl Strategy<Value = Deck> {
        let built_in = prop_oneof![
            Just(DeckKind::Fibonacci),
            Just(DeckKind::ModifiedFibonacci),
            Just(DeckKind::TShirt),
            Just(DeckKind::PowersOfTwo),
        ]
        .prop_map(DeckSpec::new);
        let custom = proptest::collection::vec(label(), 1..=24).prop_map(|mut labels| {
            let mut seen = std::collections::HashSet::new();
            labels.retain(|l| seen.insert(l.clone()));
            DeckSpec::custom(labels)
        });
        (
            prop_oneof![built_in, custom],
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_filter_map("a valid deck", |(spec, q, c, i)| {
                Deck::new(spec.with_question(q).with_coffee(c).with_infinity(i)).ok()
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Every card gets a typeable sequence of its own; a sequence that begins
        /// another is a whole card's (the wait then picks it), and a number is
        /// picked only by its own digits.
        #[test]
        fn every_card_has_a_unique_sequence_and_none_is_a_trap(deck in any_deck()) {
            let cards = deck.cards();
            let keys = key_sequences(cards);
            prop_assert_eq!(keys.len(), cards.len());
            let keys: Vec<String> = keys.into_iter().map(|k| k.unwrap_or_default()).collect();
            for (i, key) in keys.iter().enumerate() {
                prop_assert!(!key.is_empty(), "card {} has no key", cards[i].label);
                prop_assert!(
                    key.chars().all(|c| c.is_ascii_graphic() && !c.is_ascii_uppercase()),
                    "{key:?} cannot be typed as is"
                );
                let whole = typed_form(&cards[i]).map(|(t, _)| t);
                for (j, other) in keys.iter().enumerate() {
                    if i == j {
                        continue;
                    }
                    prop_assert_ne!(key, other, "{} and {} share a key", &cards[i].label, &cards[j].label);
                    if other.starts_with(key.as_str()) {
                        prop_assert!(
                            whole.as_deref() == Some(key.as_str()),
                            "{key:?} ({}) begins {other:?} ({}) but is not a whole card",
                            &cards[i].label, &cards[j].label
                        );
                    }
                }
                if cards[i].value.is_some() && cards[i].label.is_ascii() {
                    prop_assert_eq!(key, &cards[i].label.to_ascii_lowercase());
                }
            }
        }
    }
}
