//! Realtime over SSE against the `notes` binary: a user subscribed to `notes/*`
//! receives the create event of their own note, as stored (the hook's tidy
//! title), and never another user's, because the list rule applies to events.

mod support;

use support::Fixture;
use support::sse::SseClient;

#[test]
fn a_subscriber_receives_its_own_notes_and_no_one_elses() -> anyhow::Result<()> {
    let fx = Fixture::start()?;
    let addr = fx.server.addr.clone();
    let mut alice = SseClient::connect(&addr)?;
    alice.subscribe(&addr, &fx.alice.token, &["notes/*"])?;
    let mut bob = SseClient::connect(&addr)?;
    bob.subscribe(&addr, &fx.bob.token, &["notes/*"])?;

    // Events arrive in commit order, so once a stream has a later event, an
    // earlier one it was sent would be in too: alice's note sits between two of
    // bob's, and each stream is read up to its owner's last note.
    let bob_first = fx.note(&fx.bob, "bob's first")?;
    let alices = fx.note(&fx.alice, "  alice's   note ")?;
    let bob_second = fx.note(&fx.bob, "bob's second")?;

    alice.wait_for(&alices)?;
    assert_eq!(alice.events("notes/*"), 1, "{}", alice.received);
    assert!(
        alice.received.contains("\"action\":\"create\""),
        "{}",
        alice.received
    );
    // The record as stored: the hook tidied the title before the commit.
    assert!(
        alice.received.contains("\"title\":\"alice's note\""),
        "{}",
        alice.received
    );
    assert!(!alice.received.contains(&bob_first), "{}", alice.received);

    bob.wait_for(&bob_second)?;
    assert!(bob.received.contains(&bob_first), "{}", bob.received);
    assert!(!bob.received.contains(&alices), "{}", bob.received);
    assert_eq!(bob.events("notes/*"), 2, "{}", bob.received);
    Ok(())
}
