//! Per-IP limits on the auth endpoints: a fixed one-minute window per (IP,
//! endpoint), answered with 429 in PocketBase's shape when exceeded.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use actix_web::http::StatusCode;

use crate::error::ApiError;

const WINDOW: Duration = Duration::from_secs(60);
/// Windows kept before old entries are swept (bounds memory under many IPs).
const MAX_ENTRIES: usize = 100_000;

/// Requests seen from one IP at one endpoint: when its window started, how many.
type Windows = HashMap<(IpAddr, &'static str), (Instant, u32)>;

/// Counts requests per (IP, endpoint) per minute.
pub struct RateLimiter {
    per_minute: AtomicU32,
    windows: Mutex<Windows>,
}

impl RateLimiter {
    /// A limiter allowing `per_minute` requests per IP and endpoint; 0 disables it.
    pub fn new(per_minute: u32) -> Self {
        RateLimiter {
            per_minute: AtomicU32::new(per_minute),
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Changes the limit at runtime (an admin saved new settings); 0 disables it.
    pub fn set_per_minute(&self, per_minute: u32) {
        self.per_minute.store(per_minute, Ordering::Relaxed);
    }

    /// Counts one request; `Err(429)` once the IP is over its limit for `endpoint`.
    pub fn check(&self, ip: Option<IpAddr>, endpoint: &'static str) -> Result<(), ApiError> {
        let per_minute = self.per_minute.load(Ordering::Relaxed);
        let (Some(ip), true) = (ip, per_minute > 0) else {
            return Ok(());
        };
        let now = Instant::now();
        let mut windows = match self.windows.lock() {
            Ok(w) => w,
            Err(poisoned) => poisoned.into_inner(),
        };
        if windows.len() > MAX_ENTRIES {
            windows.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let entry = windows.entry((ip, endpoint)).or_insert((now, 0));
        if now.duration_since(entry.0) >= WINDOW {
            *entry = (now, 0);
        }
        entry.1 += 1;
        if entry.1 > per_minute {
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "Too Many Requests.",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_each_ip_and_endpoint_separately() {
        let limiter = RateLimiter::new(3);
        let a: IpAddr = [127, 0, 0, 1].into();
        let b: IpAddr = [127, 0, 0, 2].into();
        for _ in 0..3 {
            assert!(limiter.check(Some(a), "auth").is_ok());
        }
        let err = limiter.check(Some(a), "auth").err();
        assert_eq!(err.map(|e| e.status().as_u16()), Some(429));
        assert!(
            limiter.check(Some(b), "auth").is_ok(),
            "another IP has its own budget"
        );
        assert!(
            limiter.check(Some(a), "otp").is_ok(),
            "another endpoint too"
        );
        assert!(
            RateLimiter::new(0).check(Some(a), "auth").is_ok(),
            "0 disables"
        );
    }
}
