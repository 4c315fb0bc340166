//! The one fan-out queue of both realtime transports: a connection's messages
//! waiting to be written, bounded, fed without waiting (a full queue means the
//! client is too slow), read by the connection's task. The SSE broker
//! ([`super::broker`]) and poker's WebSocket rooms both use it.
//!
//! It exists instead of a tokio channel for memory: a tokio channel keeps its
//! 32-slot blocks once allocated, about a kilobyte or two per connection for the
//! connection's whole life, while this queue holds no buffer when it is empty, which
//! is almost always. With 19,000 players that is tens of MiB.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;

/// Why a frame was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendError {
    /// The queue holds its capacity already: the client does not keep up.
    Full,
    /// The session is gone.
    Closed,
}

struct Shared<T> {
    queue: Mutex<VecDeque<T>>,
    /// Wakes the receiver on a new frame or when the last sender goes.
    ready: Notify,
    senders: AtomicUsize,
    receiver_alive: AtomicBool,
    capacity: usize,
}

impl<T> Shared<T> {
    fn queue(&self) -> MutexGuard<'_, VecDeque<T>> {
        // A panic while holding the lock cannot leave the queue half-changed.
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The sending side; cloning it adds a sender, and the receiver sees the end once
/// every sender is dropped.
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// The receiving side, owned by the connection's task.
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
}

/// A new queue holding at most `capacity` messages.
pub fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        queue: Mutex::new(VecDeque::new()),
        ready: Notify::new(),
        senders: AtomicUsize::new(1),
        receiver_alive: AtomicBool::new(true),
        capacity: capacity.max(1),
    });
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver { shared },
    )
}

impl<T> Sender<T> {
    /// How many messages wait (for metrics: the deepest queue).
    pub fn len(&self) -> usize {
        self.shared.queue().len()
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Queues `frame` unless the queue is full or the receiver is gone.
    pub fn try_send(&self, frame: T) -> Result<(), SendError> {
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

impl<T> std::fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender")
            .field("queued", &self.shared.queue().len())
            .field("capacity", &self.shared.capacity)
            .finish()
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.senders.fetch_add(1, Ordering::AcqRel);
        Self {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if self.shared.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.shared.ready.notify_one();
        }
    }
}

impl<T> Receiver<T> {
    /// The next message if one waits, without waiting.
    pub fn try_recv(&mut self) -> Option<T> {
        let mut queue = self.shared.queue();
        let frame = queue.pop_front()?;
        if queue.is_empty() {
            // Give the buffer back: the queue is empty almost always.
            *queue = VecDeque::new();
        }
        Some(frame)
    }

    /// The next message, or `None` once every sender is gone and the queue is
    /// empty. Cancel-safe: a message is only taken when it is returned.
    pub async fn recv(&mut self) -> Option<T> {
        loop {
            if let Some(frame) = self.try_recv() {
                return Some(frame);
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

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.shared.receiver_alive.store(false, Ordering::Release);
        self.shared.queue().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(s: &str) -> String {
        s.to_string()
    }

    #[tokio::test]
    async fn frames_arrive_in_order_then_the_end() {
        let (tx, mut rx) = channel(4);
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
        let (tx, rx) = channel(2);
        tx.try_send(frame("1")).unwrap();
        tx.try_send(frame("2")).unwrap();
        assert_eq!(tx.try_send(frame("3")), Err(SendError::Full));
        drop(rx);
        assert_eq!(tx.try_send(frame("4")), Err(SendError::Closed));
    }

    #[tokio::test]
    async fn a_waiting_receiver_wakes_for_a_frame_and_for_the_end() {
        let (tx, mut rx) = channel(2);
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
        let (tx, mut rx) = channel(8);
        for i in 0..8 {
            tx.try_send(frame(&i.to_string())).unwrap();
        }
        for _ in 0..8 {
            rx.recv().await.unwrap();
        }
        assert_eq!(rx.shared.queue().capacity(), 0);
    }
}
