//! Poker's metrics: process-wide counters and gauges, rendered as Prometheus text
//! after litebase's own at `/api/metrics` (see [`render`]).
//!
//! The send paths call one-line functions (`metrics::ws_message_out()`), so
//! instrumenting costs one relaxed atomic add and no locking.

use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

static WS_CONNECTIONS: AtomicI64 = AtomicI64::new(0);
static PARTICIPANTS_ONLINE: AtomicI64 = AtomicI64::new(0);
static MESSAGES_IN: AtomicU64 = AtomicU64::new(0);
static MESSAGES_OUT: AtomicU64 = AtomicU64::new(0);
static DROPPED: AtomicU64 = AtomicU64::new(0);
static EVICTIONS: AtomicU64 = AtomicU64::new(0);
static ERRORS: AtomicU64 = AtomicU64::new(0);
static REFUSED: AtomicU64 = AtomicU64::new(0);

/// A WebSocket session started.
pub fn ws_opened() {
    WS_CONNECTIONS.fetch_add(1, Ordering::Relaxed);
}

/// A WebSocket session ended.
pub fn ws_closed() {
    WS_CONNECTIONS.fetch_sub(1, Ordering::Relaxed);
}

/// A client frame arrived.
pub fn ws_message_in() {
    MESSAGES_IN.fetch_add(1, Ordering::Relaxed);
}

/// A frame was written to a client.
pub fn ws_message_out() {
    MESSAGES_OUT.fetch_add(1, Ordering::Relaxed);
}

/// A frame was dropped because its connection's outbox was full.
pub fn ws_dropped() {
    DROPPED.fetch_add(1, Ordering::Relaxed);
}

/// A slow connection was evicted.
pub fn ws_eviction() {
    EVICTIONS.fetch_add(1, Ordering::Relaxed);
}

/// A WebSocket upgrade was refused at the connection cap.
pub fn ws_refused() {
    REFUSED.fetch_add(1, Ordering::Relaxed);
}

/// An error frame was produced.
pub fn ws_error() {
    ERRORS.fetch_add(1, Ordering::Relaxed);
}

/// Participants online across rooms changed by `delta` (a hub reports the change
/// of its own count).
pub fn participants_online_add(delta: i64) {
    PARTICIPANTS_ONLINE.fetch_add(delta, Ordering::Relaxed);
}

/// The Prometheus text of poker's metrics; `rooms_live` is the number of rooms
/// with a live task, `ws_max` the cap on open room WebSockets.
pub fn render(rooms_live: usize, ws_max: usize) -> String {
    let mut out = String::new();
    let gauges = [
        (
            "poker_rooms_live",
            "Rooms with a live task.",
            rooms_live as i64,
        ),
        (
            "poker_participants_online",
            "Participants with at least one open connection.",
            PARTICIPANTS_ONLINE.load(Ordering::Relaxed),
        ),
        (
            "poker_ws_connections",
            "Open room WebSocket connections.",
            WS_CONNECTIONS.load(Ordering::Relaxed),
        ),
        (
            "poker_ws_max_connections",
            "The cap on open room WebSocket connections (from the open-file limit).",
            i64::try_from(ws_max).unwrap_or(i64::MAX),
        ),
    ];
    for (name, help, value) in gauges {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
        );
    }
    let counters = [
        (
            "poker_ws_messages_in_total",
            "Frames received from clients.",
            &MESSAGES_IN,
        ),
        (
            "poker_ws_messages_out_total",
            "Frames written to clients.",
            &MESSAGES_OUT,
        ),
        (
            "poker_ws_dropped_total",
            "Frames dropped because an outbox was full.",
            &DROPPED,
        ),
        (
            "poker_ws_evictions_total",
            "Slow connections evicted.",
            &EVICTIONS,
        ),
        ("poker_ws_errors_total", "Error frames sent.", &ERRORS),
        (
            "poker_ws_refused_total",
            "WebSocket upgrades refused with 503 at the connection cap.",
            &REFUSED,
        ),
    ];
    for (name, help, value) in counters {
        let value = value.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_family_is_rendered_with_its_type() {
        ws_error();
        let text = render(3, 19_500);
        assert!(text.contains("# TYPE poker_rooms_live gauge\npoker_rooms_live 3\n"));
        for name in [
            "poker_participants_online",
            "poker_ws_connections",
            "poker_ws_messages_in_total",
            "poker_ws_messages_out_total",
            "poker_ws_dropped_total",
            "poker_ws_evictions_total",
            "poker_ws_refused_total",
            "poker_ws_max_connections",
        ] {
            assert!(
                text.contains(&format!("\n{name} ")),
                "{name} missing:\n{text}"
            );
        }
        assert!(!text.contains("poker_ws_errors_total 0\n"), "{text}");
    }
}
