//! Parses arbitrary UTF-8 as client frames and sends the accepted ones to a real
//! room. The whole input is one frame; then each of its first lines is a frame from
//! the next member in turn (host, voter, voter, spectator, a stranger). Must never
//! panic, and every accepted command must leave the room's invariants intact.
//!
//! Run (stable toolchain), starting from the committed seed scenarios and the
//! message-field dictionary (new finds go to the ignored `corpus/protocol`, listed
//! first so libFuzzer writes there and not into `seeds`):
//! `cd crates/poker/fuzz && mkdir -p corpus/protocol && RUSTC_BOOTSTRAP=1 cargo fuzz run protocol corpus/protocol seeds -- -max_total_time=90 -dict=protocol.dict`
#![no_main]

use libfuzzer_sys::fuzz_target;
use poker::room::protocol::{ClientMsg, parse};
use poker::room::{Command, NewRoom, ParticipantId, Role, RoomState, Timestamp};

/// Host, two voters, a spectator, and someone who never joined.
const MEMBERS: &[&str] = &["h", "a", "b", "s", "zz"];
/// At most this many frames per input, so each run stays fast.
const MAX_FRAMES: usize = 12;

fn room() -> RoomState {
    let mut room = RoomState::new(NewRoom::new("h".into(), "Hana"), Timestamp(0))
        .expect("a default room is valid");
    for (id, name, role) in [
        ("a", "Ann", Role::Voter),
        ("b", "Ben", Role::Voter),
        ("s", "Sue", Role::Spectator),
    ] {
        let join = Command::Join {
            participant: id.into(),
            name: name.into(),
            role,
        };
        room = room.apply(join, Timestamp(1)).expect("members join").0;
    }
    room
}

fn command(msg: ClientMsg, by: ParticipantId) -> Command {
    match msg {
        ClientMsg::Act(action) => action.command(by),
        // The webhook lives beside the room's state; for the room, time passes.
        ClientMsg::Webhook(_) => Command::Tick,
        ClientMsg::Join { name, role, .. } => Command::Join {
            participant: "new".into(),
            name,
            role: role.unwrap_or(Role::Voter),
        },
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = parse(text);
    let mut room = room();
    for (i, line) in text.lines().take(MAX_FRAMES).enumerate() {
        let Ok(msg) = parse(line) else { continue };
        let by = ParticipantId::from(MEMBERS[i % MEMBERS.len()]);
        let cmd = command(msg, by);
        let now = Timestamp(2 + i as u64 * 7_000);
        if let Ok((next, _)) = room.apply(cmd.clone(), now) {
            let problems = next.invariant_violations();
            assert!(problems.is_empty(), "after {line} ({cmd:?}): {problems:?}");
            room = next;
        }
    }
});
