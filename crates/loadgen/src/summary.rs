//! The one table of `loadgen all`: every benchmark's headline figures side by
//! side with PocketBase's where there is one, each against the project's target,
//! with a yes/no for whether the target held in this run.

use std::fmt::Write as _;

use crate::footprint::{Footprint, median};
use crate::realtime;
use crate::report::{Row, mib};
use crate::server::Kind;

/// One line of the table.
pub struct Line {
    /// Which benchmark.
    pub bench: String,
    /// What is measured.
    pub measure: String,
    /// Our figure.
    pub ours: String,
    /// PocketBase's figure, if it has one.
    pub pocketbase: String,
    /// Ours over PocketBase's.
    pub ratio: String,
    /// The target.
    pub target: String,
    /// Whether it held (`None`: nothing to judge).
    pub met: Option<bool>,
}

impl Line {
    /// A line without a PocketBase figure.
    pub fn ours_only(
        bench: &str,
        measure: &str,
        ours: String,
        target: &str,
        met: Option<bool>,
    ) -> Self {
        Self {
            bench: bench.into(),
            measure: measure.into(),
            ours,
            pocketbase: "-".into(),
            ratio: "-".into(),
            target: target.into(),
            met,
        }
    }
}

fn ratio(ours: f64, theirs: f64) -> String {
    if theirs > 0.0 {
        format!("{:.2}x", ours / theirs)
    } else {
        "-".into()
    }
}

/// The HTTP lines: throughput at least 2x and a lower p99, per workload.
pub fn http_lines(rows: &[Row]) -> Vec<Line> {
    let mut out = Vec::new();
    for row in rows {
        let (Some((o_rate, o_p99)), Some((p_rate, p_p99))) =
            (row.figures(Kind::Ours), row.figures(Kind::PocketBase))
        else {
            continue;
        };
        out.push(Line {
            bench: format!("HTTP {}", row.label()),
            measure: "requests/s".into(),
            ours: format!("{o_rate:.0}"),
            pocketbase: format!("{p_rate:.0}"),
            ratio: ratio(o_rate, p_rate),
            target: "≥ 2x".into(),
            met: Some(p_rate > 0.0 && o_rate >= 2.0 * p_rate),
        });
        if let (Some(o), Some(p)) = (o_p99, p_p99) {
            out.push(Line {
                bench: format!("HTTP {}", row.label()),
                measure: "p99".into(),
                ours: format!("{o:.1} ms"),
                pocketbase: format!("{p:.1} ms"),
                ratio: ratio(o, p),
                target: "lower".into(),
                met: Some(o < p),
            });
        }
    }
    out
}

/// The SSE lines: deliveries per second over the rounds, p99, memory.
pub fn sse_lines(outcomes: &[realtime::Outcome]) -> Vec<Line> {
    let find = |kind: Kind| outcomes.iter().find(|o| o.kind == kind);
    let (Some(o), Some(p)) = (find(Kind::Ours), find(Kind::PocketBase)) else {
        return Vec::new();
    };
    // Throughput from the back-to-back phase when it ran (events keep coming, as
    // under real load); otherwise from the one-at-a-time rounds.
    let rate = |x: &realtime::Outcome| match &x.burst {
        Some(b) => b.rate(),
        None => {
            let secs: f64 = x.rounds.iter().map(|r| r.waited.as_secs_f64()).sum();
            if secs > 0.0 {
                x.delivered as f64 / secs
            } else {
                0.0
            }
        }
    };
    let measure = match &o.burst {
        Some(b) => format!("events delivered/s, {} creates back to back", b.creates),
        None => "events delivered/s".into(),
    };
    let p99 = |x: &realtime::Outcome| {
        (!x.latency.is_empty()).then(|| x.latency.value_at_quantile(0.99) as f64 / 1000.0)
    };
    let bench = format!("SSE fan-out, {} subscribers", o.connected);
    let mut out = vec![Line {
        bench: bench.clone(),
        measure,
        ours: format!("{:.0}", rate(o)),
        pocketbase: format!("{:.0}", rate(p)),
        ratio: ratio(rate(o), rate(p)),
        target: "≥ 2x".into(),
        met: Some(rate(o) >= 2.0 * rate(p)),
    }];
    if let (Some(a), Some(b)) = (p99(o), p99(p)) {
        out.push(Line {
            bench: bench.clone(),
            measure: "p99 create → event".into(),
            ours: format!("{a:.0} ms"),
            pocketbase: format!("{b:.0} ms"),
            ratio: ratio(a, b),
            target: "lower".into(),
            met: Some(a < b),
        });
    }
    if let (Some((a, _)), Some((b, _))) = (o.rss_before, p.rss_before) {
        out.push(Line {
            bench,
            measure: "RSS with the subscribers".into(),
            ours: mib(a),
            pocketbase: mib(b),
            ratio: ratio(a as f64, b as f64),
            target: "-".into(),
            met: None,
        });
    }
    out
}

/// The footprint lines: binary size, idle RSS and start-up time below PocketBase's.
pub fn footprint_lines(footprints: &[Footprint]) -> Vec<Line> {
    let find = |kind: Kind| footprints.iter().find(|f| f.kind == kind);
    let (Some(o), Some(p)) = (find(Kind::Ours), find(Kind::PocketBase)) else {
        return Vec::new();
    };
    let mut out = vec![Line {
        bench: "footprint".into(),
        measure: "binary size".into(),
        ours: mib(o.binary_bytes / 1024),
        pocketbase: mib(p.binary_bytes / 1024),
        ratio: ratio(o.binary_bytes as f64, p.binary_bytes as f64),
        target: "-".into(),
        met: None,
    }];
    if let (Some(a), Some(b)) = (median(&o.idle_rss_kib), median(&p.idle_rss_kib)) {
        out.push(Line {
            bench: "footprint".into(),
            measure: "idle RSS (median)".into(),
            ours: mib(a),
            pocketbase: mib(b),
            ratio: ratio(a as f64, b as f64),
            target: "lower".into(),
            met: Some(a < b),
        });
    }
    if let (Some(a), Some(b)) = (median(&o.startup), median(&p.startup)) {
        let (a, b) = (a.as_secs_f64() * 1000.0, b.as_secs_f64() * 1000.0);
        out.push(Line {
            bench: "footprint".into(),
            measure: "start → healthy /api/health (median)".into(),
            ours: format!("{a:.1} ms"),
            pocketbase: format!("{b:.1} ms"),
            ratio: ratio(a, b),
            target: "lower".into(),
            met: Some(a < b),
        });
    }
    out
}

/// The table, then one line per part that failed.
pub fn render(lines: &[Line], failures: &[String]) -> String {
    let mut out = String::from(
        "| benchmark | measure | ours | PocketBase | ours / PocketBase | target | met |\n|---|---|---:|---:|---:|---|---|\n",
    );
    for l in lines {
        let met = match l.met {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "",
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            l.bench, l.measure, l.ours, l.pocketbase, l.ratio, l.target, met
        );
    }
    for f in failures {
        let _ = writeln!(out, "\nFailed: {f}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missed_target_is_marked() {
        let lines = vec![
            Line::ours_only("ws", "p99", "120 ms".into(), "≤ 100 ms", Some(false)),
            Line::ours_only("ws", "disconnects", "0".into(), "0", Some(true)),
        ];
        let text = render(&lines, &["SSE: boom".into()]);
        assert!(text.contains("| ws | p99 | 120 ms | - | - | ≤ 100 ms | **no** |"));
        assert!(text.contains("| ws | disconnects | 0 | - | - | 0 | yes |"));
        assert!(text.contains("Failed: SSE: boom"));
    }
}
