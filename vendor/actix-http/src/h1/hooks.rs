//! litebase patch: this whole file. Two process-wide settings for the answers the
//! HTTP/1 dispatcher makes on its own, before any service sees the request: the body
//! of its error answers (upstream sends them empty) and the largest body an
//! `Expect: 100-continue` request may declare (upstream always sends `100 Continue`).
//! Upstream would carry both in `ServiceConfig`; see vendor/README.md.

use std::sync::{
    atomic::{AtomicU64, Ordering},
    OnceLock,
};

use bytes::Bytes;

use crate::{
    body::{BoxBody, MessageBody},
    header::{HeaderValue, CONTENT_TYPE},
    Response, StatusCode,
};

/// Renders the body of an error answer for a status: the bytes and their content
/// type, or `None` to leave the body empty.
pub type ErrorBody = fn(StatusCode) -> Option<(Bytes, &'static str)>;

static ERROR_BODY: OnceLock<ErrorBody> = OnceLock::new();
static EXPECT_BODY_LIMIT: AtomicU64 = AtomicU64::new(u64::MAX);

/// Registers the renderer for the bodies of the error answers the dispatcher makes
/// itself (malformed or oversized request heads, refused expectations, timeouts).
/// The first registration wins; returns `false` if one was already registered.
pub fn set_error_body(render: ErrorBody) -> bool {
    ERROR_BODY.set(render).is_ok()
}

/// Sets the largest `Content-Length` a request with `Expect: 100-continue` may
/// declare; above it the request is answered `413` instead of `100 Continue`.
/// Unlimited until set; the last call wins.
pub fn set_expect_body_limit(limit: u64) {
    EXPECT_BODY_LIMIT.store(limit, Ordering::Relaxed);
}

pub(crate) fn expect_body_limit() -> u64 {
    EXPECT_BODY_LIMIT.load(Ordering::Relaxed)
}

/// `res` with the registered body for its status instead of its own, if one is
/// registered for that status.
pub(crate) fn with_error_body<B: MessageBody + 'static>(res: Response<B>) -> Response<BoxBody> {
    let Some((body, content_type)) = ERROR_BODY.get().and_then(|render| render(res.status()))
    else {
        return res.map_into_boxed_body();
    };
    let mut res = res.set_body(BoxBody::new(body));
    if let Ok(value) = HeaderValue::from_str(content_type) {
        res.headers_mut().insert(CONTENT_TYPE, value);
    }
    res
}
