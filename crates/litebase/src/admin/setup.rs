//! The one-time first-run link: while no superuser exists, `serve` prints
//! `/_/setup/{token}`; the token is random, lives in memory only, works once and
//! for at most an hour.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a setup link works.
pub const SETUP_TTL: Duration = Duration::from_secs(3600);

/// The pending setup token, if any.
pub struct SetupLink {
    pending: Mutex<Option<(String, Instant)>>,
}

impl SetupLink {
    /// A fresh random token (40 alphanumerics from the OS generator).
    pub fn new() -> Self {
        let token = crate::id::random_string(
            40,
            b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
        );
        Self {
            pending: Mutex::new(Some((token, Instant::now()))),
        }
    }

    /// No link (a superuser already exists).
    pub fn none() -> Self {
        Self {
            pending: Mutex::new(None),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(String, Instant)>> {
        match self.pending.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// The path `serve` prints (`/_/setup/{token}`), if a link is pending.
    pub fn path(&self) -> Option<String> {
        self.lock()
            .as_ref()
            .filter(|(_, at)| at.elapsed() < SETUP_TTL)
            .map(|(t, _)| format!("/_/setup/{t}"))
    }

    /// Whether `token` is the pending, unexpired one.
    pub fn is_valid(&self, token: &str) -> bool {
        self.lock().as_ref().is_some_and(|(t, at)| {
            at.elapsed() < SETUP_TTL && super::session::tokens_match(token, t)
        })
    }

    /// Uses `token` up: `true` once for the valid token, then never again.
    pub fn take(&self, token: &str) -> bool {
        let mut pending = self.lock();
        let ok = pending.as_ref().is_some_and(|(t, at)| {
            at.elapsed() < SETUP_TTL && super::session::tokens_match(token, t)
        });
        if ok {
            *pending = None;
        }
        ok
    }

    /// Puts a taken token back (the account could not be created after all).
    pub fn restore(&self, token: &str) {
        *self.lock() = Some((token.to_string(), Instant::now()));
    }
}

impl Default for SetupLink {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_setup_token_works_once() {
        let link = SetupLink::new();
        let path = link.path().unwrap_or_default();
        let token = path.trim_start_matches("/_/setup/").to_string();
        assert_eq!(token.len(), 40);
        assert!(!link.is_valid("wrong"));
        assert!(link.is_valid(&token));
        assert!(link.take(&token));
        assert!(!link.take(&token), "single use");
        assert!(link.path().is_none());
        assert!(!SetupLink::none().is_valid(""));
    }
}
