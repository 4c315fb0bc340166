//! A connection's queue of frames waiting to be written: bounded, fed by the
//! room's hub without waiting (a full queue means the client is too slow), read by
//! the connection's session.
//!
//! It exists instead of a tokio channel for memory: a tokio channel keeps its
//! 32-slot blocks once allocated, about a kilobyte or two per connection for the
//! connection's whole life, while this queue holds no buffer when it is empty, which
//! is almost always. With 19,000 players that is tens of MiB.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use bytestring::ByteString;
use tokio::sync::Notify;

/// Why a frame was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendError {
    /// The queue holds its capacity already: the client does not keep up.
    Full,
    /// The session is gone.
    Closed,
}

struct Shared {
    queue: Mutex<VecDeque<ByteString>>,
    /// Wakes the receiver on a new frame or when the last sender goes.
    ready: Notify,
    senders: AtomicUsize,
    receiver_alive: AtomicBool,
    capacity: usize,
}

impl Shared {
    fn queue(&self) -> MutexGuard<'_, VecDeque<ByteString>> {
        // A panic while holding the lock cannot leave the queue half-changed.
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The sending side; cloning it adds a sender, and the receiver sees the end once
/// every sender is dropped.
pub struct Outbox {
    shared: Arc<Shared>,
}

/// The receiving side, owned by the session.
pub struct OutboxReceiver {
    shared: Arc<Shared>,
}

/// A new queue holding at most `capacity` frames.
pub fn outbox(capacity: usize) -> (Outbox, OutboxReceiver) {
    let shared = Arc::new(Shared {
        queue: Mutex::new(VecDeque::new()),
        ready: Notify::new(),
        senders: AtomicUsize::new(1),
        receiver_alive: AtomicBool::new(true),
        capacity: capacity.max(1),
    });
    (
        Outbox {
            shared: shared.clone(),
        },
        OutboxReceiver { shared },
    )
}

impl Outbox {
    /// Queues `frame` unless the queue is full or the session is gone.
    pub fn try_send(&self, frame: ByteString) -> Result<(), SendError> {
        if !self.shared.receiver_alive.load(Ordering::Acquire) {
            return Err(SendError::Closed);
        }
        {
            let mut queue = self.shared.queue();
            if queue.len() >= self.shared.capacity {
                return Err(SendError::Full);
            }
            queue.push_back(frame);
        }
        self.shared.ready.notify_one();
        Ok(())
    }
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox")
            .field("queued", &self.shared.queue().len())
            .field("capacity", &self.shared.capacity)
            .finish()
    }
}

impl Clone for Outbox {
    fn clone(&self) -> Self {
        self.shared.senders.fetch_add(1, Ordering::AcqRel);
        Self {
            shared: self.shared.clone(),
        }
    }
}

impl Drop for Outbox {
    fn drop(&mut self) {
        if self.shared.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.shared.ready.notify_one();
        }
    }
}

impl OutboxReceiver {
    /// The next frame, or `None` once every sender is gone and the queue is empty.
    /// Cancel-safe: a frame is only taken when it is returned.
    pub async fn recv(&mut self) -> Option<ByteString> {
        loop {
            {
                let mut queue = self.shared.queue();
                if let Some(frame) = queue.pop_front() {
                    if queue.is_empty() {
                        // Give the buffer back: the queue is empty almost always.
                        *queue = VecDeque::new();
                    }
                    return Some(frame);
                }
            }
            if self.shared.senders.load(Ordering::Acquire) == 0 {
                return None;
            }
            // A frame or a drop between the check above and this wait leaves a
            // permit in `ready`, so nothing is missed.
            self.shared.ready.notified().await;
        }
    }
}

impl Drop for OutboxReceiver {
    fn drop(&mut self) {
        self.shared.receiver_alive.store(false, Ordering::Release);
        self.shared.queue().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(s: &str) -> ByteString {
        ByteString::from(s.to_string())
    }

    #[tokio::test]
    async fn frames_arrive_in_order_then_the_end() {
        let (tx, mut rx) = outbox(4);
        let second = tx.clone();
        tx.try_send(frame("a")).unwrap();
        second.try_send(frame("b")).unwrap();
        drop(tx);
        assert_eq!(rx.recv().await.as_deref(), Some("a"));
        assert_eq!(rx.recv().await.as_deref(), Some("b"));
        drop(second);
        assert_eq!(rx.recv().await, None);
    }

    #[tokio::test]
    async fn a_full_queue_refuses_and_a_dropped_receiver_closes() {
        let (tx, rx) = outbox(2);
        tx.try_send(frame("1")).unwrap();
        tx.try_send(frame("2")).unwrap();
        assert_eq!(tx.try_send(frame("3")), Err(SendError::Full));
        drop(rx);
        assert_eq!(tx.try_send(frame("4")), Err(SendError::Closed));
    }

    #[tokio::test]
    async fn a_waiting_receiver_wakes_for_a_frame_and_for_the_end() {
        let (tx, mut rx) = outbox(2);
        let waiting = tokio::spawn(async move {
            let first = rx.recv().await;
            let end = rx.recv().await;
            (first, end)
        });
        tokio::task::yield_now().await;
        tx.try_send(frame("x")).unwrap();
        drop(tx);
        let (first, end) = waiting.await.unwrap();
        assert_eq!(first.as_deref(), Some("x"));
        assert_eq!(end, None);
    }

    #[tokio::test]
    async fn an_emptied_queue_keeps_no_buffer() {
        let (tx, mut rx) = outbox(8);
        for i in 0..8 {
            tx.try_send(frame(&i.to_string())).unwrap();
        }
        for _ in 0..8 {
            rx.recv().await.unwrap();
        }
        assert_eq!(rx.shared.queue().capacity(), 0);
    }
}
