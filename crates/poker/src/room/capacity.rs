//! How many room WebSockets this process may hold, and the slots that count them.
//!
//! Every socket is an open file, and a process may hold only so many (on the
//! project's machines 20,000, a hard limit). At start the soft limit is raised to
//! the hard one ([`raise_nofile_limit`]); [`Capacity::from_limit`] then keeps a
//! headroom for the database, logs, HTTP requests and SSE subscribers, and the
//! upgrade handler takes a [`Slot`] before each WebSocket handshake. Past the cap an
//! upgrade is answered `503` (see `ws.rs`), counted in `poker_ws_refused_total` and
//! logged at most once every few seconds, so the players already connected keep
//! playing instead of the whole process running out of files.
//!
//! ```
//! use poker::room::capacity::Capacity;
//!
//! let cap = std::sync::Arc::new(Capacity::new(1));
//! let slot = cap.try_acquire().unwrap();
//! assert!(cap.try_acquire().is_none());
//! drop(slot);
//! assert!(cap.try_acquire().is_some());
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// At most this many files are kept for everything but room WebSockets.
const MAX_HEADROOM: u64 = 500;
/// At least this many.
const MIN_HEADROOM: u64 = 100;
/// Seconds between two log lines about refused upgrades.
const LOG_EVERY_SECS: u64 = 5;

/// The open-file limits of this process: (soft, hard).
pub fn nofile_limit() -> std::io::Result<(u64, u64)> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct we pass.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok((lim.rlim_cur, lim.rlim_max))
}

/// Raises the soft open-file limit to the hard one; returns the soft limit now.
pub fn raise_nofile_limit() -> std::io::Result<u64> {
    let (soft, hard) = nofile_limit()?;
    if soft >= hard {
        return Ok(soft);
    }
    let lim = libc::rlimit {
        rlim_cur: hard,
        rlim_max: hard,
    };
    // SAFETY: setrlimit only reads the struct we pass.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(hard)
}

/// The room WebSockets allowed with `limit` open files: the limit minus a
/// headroom of a fortieth of it, kept between 100 and 500 files.
pub fn cap_for_limit(limit: u64) -> usize {
    let headroom = (limit / 40).clamp(MIN_HEADROOM, MAX_HEADROOM);
    usize::try_from(limit.saturating_sub(headroom)).unwrap_or(usize::MAX)
}

/// The cap on open room WebSockets and how many are open.
#[derive(Debug)]
pub struct Capacity {
    max: usize,
    open: AtomicUsize,
    refused: AtomicU64,
    /// Unix second of the last log line about refusals.
    logged_at: AtomicU64,
    /// Refusals since that line.
    unlogged: AtomicU64,
}

impl Capacity {
    /// A cap of `max` open WebSockets.
    pub fn new(max: usize) -> Self {
        Self {
            max,
            open: AtomicUsize::new(0),
            refused: AtomicU64::new(0),
            logged_at: AtomicU64::new(0),
            unlogged: AtomicU64::new(0),
        }
    }

    /// The cap for this process: from its open-file soft limit, lowered to
    /// `explicit` when given (`POKER_MAX_WS`).
    pub fn for_process(explicit: Option<usize>) -> Self {
        let from_limit = match nofile_limit() {
            Ok((soft, _)) => cap_for_limit(soft),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the open-file limit; not capping WebSockets by it");
                usize::MAX
            }
        };
        let max = explicit.map_or(from_limit, |n| n.min(from_limit));
        tracing::info!(max_websockets = max, "room WebSocket cap");
        Self::new(max)
    }

    /// The cap.
    pub fn max(&self) -> usize {
        self.max
    }

    /// Room WebSockets open now.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    /// Upgrades refused because the cap was reached, since start.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// A slot for one more WebSocket, or `None` at the cap (counted, and logged at
    /// most once every few seconds).
    pub fn try_acquire(self: &Arc<Self>) -> Option<Slot> {
        let taken = self
            .open
            .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |n| {
                (n < self.max).then_some(n + 1)
            });
        if taken.is_ok() {
            return Some(Slot(self.clone()));
        }
        self.refused.fetch_add(1, Ordering::Relaxed);
        crate::metrics::ws_refused();
        let unlogged = self.unlogged.fetch_add(1, Ordering::Relaxed) + 1;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let last = self.logged_at.load(Ordering::Relaxed);
        if now >= last + LOG_EVERY_SECS
            && self
                .logged_at
                .compare_exchange(last, now, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        {
            self.unlogged.fetch_sub(unlogged, Ordering::Relaxed);
            tracing::warn!(
                max = self.max,
                refused = unlogged,
                "room WebSocket cap reached: refusing new connections with 503 (the process \
                 is near its open-file limit; raise `ulimit -n` or add servers)"
            );
        }
        None
    }
}

/// One open WebSocket's place under the cap; freed when dropped.
#[derive(Debug)]
pub struct Slot(Arc<Capacity>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_headroom_scales_with_the_limit_within_bounds() {
        assert_eq!(cap_for_limit(20_000), 19_500);
        assert_eq!(cap_for_limit(1_048_576), 1_048_076);
        assert_eq!(cap_for_limit(300), 200);
        assert_eq!(cap_for_limit(10), 0);
    }

    #[test]
    fn slots_are_counted_refused_at_the_cap_and_freed_on_drop() {
        let cap = Arc::new(Capacity::new(2));
        let a = cap.try_acquire();
        let b = cap.try_acquire();
        assert!(a.is_some() && b.is_some());
        assert!(cap.try_acquire().is_none());
        assert!(cap.try_acquire().is_none());
        assert_eq!((cap.open(), cap.refused()), (2, 2));
        drop(a);
        assert_eq!(cap.open(), 1);
        assert!(cap.try_acquire().is_some());
    }

    #[test]
    fn raising_the_limit_never_lowers_it() {
        let (soft, hard) = nofile_limit().unwrap();
        let now = raise_nofile_limit().unwrap();
        assert!(now >= soft && now <= hard);
    }
}
