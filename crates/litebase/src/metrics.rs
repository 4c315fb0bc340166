//! `/api/metrics`: counters and gauges in Prometheus' text format, for superusers
//! or whoever holds the configured metrics token.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use actix_web::{HttpRequest, HttpResponse, web};

use crate::auth::request::{Auth, bearer};
use crate::core::Core;
use crate::error::ApiError;

/// Mounts `/api/metrics`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/metrics", web::get().to(metrics));
}

fn metric(out: &mut String, name: &str, kind: &str, help: &str, samples: &[(&str, f64)]) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
    for (labels, value) in samples {
        let _ = writeln!(out, "{name}{labels} {value}");
    }
}

/// Whether the request carries the metrics token (compared in constant time).
fn has_token(core: &Core, req: &HttpRequest) -> bool {
    let Some(expected) = core
        .config
        .serve
        .metrics_token
        .as_deref()
        .filter(|t| !t.is_empty())
    else {
        return false;
    };
    let given = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(bearer)
        .unwrap_or_default();
    given.len() == expected.len()
        && given
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// The whole exposition text.
pub fn render(core: &Core) -> String {
    let mut out = String::with_capacity(4096);
    let (per_transport, subscriptions) = core.realtime.broker.counts();
    let mut transports: Vec<(String, f64)> = ["sse", "websocket"]
        .iter()
        .map(|t| {
            (
                format!("{{transport=\"{t}\"}}"),
                *per_transport.get(t).unwrap_or(&0) as f64,
            )
        })
        .collect();
    for (t, n) in &per_transport {
        if !["sse", "websocket"].contains(t) {
            transports.push((format!("{{transport=\"{t}\"}}"), *n as f64));
        }
    }
    let samples: Vec<(&str, f64)> = transports.iter().map(|(l, v)| (l.as_str(), *v)).collect();
    metric(
        &mut out,
        "litebase_realtime_connections",
        "gauge",
        "Open realtime connections by transport.",
        &samples,
    );
    metric(
        &mut out,
        "litebase_realtime_subscriptions",
        "gauge",
        "Topics subscribed, over all connections.",
        &[("", subscriptions as f64)],
    );
    let s = &core.realtime.broker.stats;
    let load = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed) as f64;
    metric(
        &mut out,
        "litebase_realtime_events_published_total",
        "counter",
        "Messages handed to the broker.",
        &[("", load(&s.published))],
    );
    metric(
        &mut out,
        "litebase_realtime_events_delivered_total",
        "counter",
        "Message copies queued for subscribers.",
        &[("", load(&s.delivered))],
    );
    metric(
        &mut out,
        "litebase_realtime_events_dropped_total",
        "counter",
        "Message copies dropped because a queue was full.",
        &[("", load(&s.dropped))],
    );
    metric(
        &mut out,
        "litebase_realtime_evictions_total",
        "counter",
        "Slow subscribers disconnected.",
        &[("", load(&s.evictions))],
    );
    metric(
        &mut out,
        "litebase_realtime_queue_depth_high_water",
        "gauge",
        "Deepest subscriber queue seen.",
        &[("", load(&s.queue_high_water))],
    );
    let w = core.db.writer_stats();
    let avg = if w.batches == 0 {
        0.0
    } else {
        w.writes as f64 / w.batches as f64
    };
    metric(
        &mut out,
        "litebase_db_write_batches_total",
        "counter",
        "Write transactions committed by the writer.",
        &[("", w.batches as f64)],
    );
    metric(
        &mut out,
        "litebase_db_writes_total",
        "counter",
        "Writes run by the writer.",
        &[("", w.writes as f64)],
    );
    metric(
        &mut out,
        "litebase_db_failed_writes_total",
        "counter",
        "Writes whose caller got an error.",
        &[("", w.failed_writes as f64)],
    );
    metric(
        &mut out,
        "litebase_db_write_batch_size_avg",
        "gauge",
        "Average writes per committed batch.",
        &[("", avg)],
    );
    metric(
        &mut out,
        "litebase_db_write_batch_size_max",
        "gauge",
        "Largest batch committed.",
        &[("", w.max_batch as f64)],
    );
    metric(
        &mut out,
        "litebase_db_write_busy_seconds_total",
        "counter",
        "Time the writer spent running and committing batches.",
        &[("", w.busy_micros as f64 / 1e6)],
    );
    let latency = if w.batches == 0 {
        0.0
    } else {
        w.busy_micros as f64 / w.batches as f64 / 1e6
    };
    metric(
        &mut out,
        "litebase_db_write_batch_seconds_avg",
        "gauge",
        "Average time per batch (run + commit).",
        &[("", latency)],
    );
    let logs = core.logs.state();
    metric(
        &mut out,
        "litebase_request_logs_written_total",
        "counter",
        "Requests recorded in the request log (logs.db).",
        &[("", load(&logs.written))],
    );
    metric(
        &mut out,
        "litebase_request_logs_dropped_total",
        "counter",
        "Requests not recorded because the log's queue was full (or its file failed).",
        &[("", load(&logs.dropped))],
    );
    for extra in core.metrics_sources() {
        out.push_str(&extra());
    }
    out
}

async fn metrics(
    core: web::Data<Core>,
    auth: Auth,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    if !has_token(&core, &req) {
        auth.require_superuser()?;
    }
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(render(&core)))
}
