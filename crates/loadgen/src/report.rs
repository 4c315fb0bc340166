//! Turning measurements into the Markdown report: one table row per workload with
//! both servers side by side, then memory and any errors with an example each.

use std::fmt::Write as _;

use crate::bench::{Outcome, Settings, Workload};
use crate::server::Kind;

/// One server's result for one workload.
pub struct Cell {
    outcome: Outcome,
    /// (`VmRSS`, `VmHWM`) in KiB right after the workload, if /proc could be read.
    memory: Option<(u64, u64)>,
}

/// Both servers' results for one workload.
pub struct Row {
    workload: Workload,
    ours: Option<Cell>,
    pocketbase: Option<Cell>,
}

impl Row {
    /// An empty row for `workload`.
    pub fn new(workload: Workload) -> Self {
        Self {
            workload,
            ours: None,
            pocketbase: None,
        }
    }

    /// Stores `kind`'s result.
    pub fn set(&mut self, kind: Kind, outcome: Outcome, memory: Option<(u64, u64)>) {
        let cell = Some(Cell { outcome, memory });
        match kind {
            Kind::Ours => self.ours = cell,
            Kind::PocketBase => self.pocketbase = cell,
        }
    }
}

fn rate(cell: Option<&Cell>) -> String {
    cell.map_or("-".into(), |c| format!("{:.0}", c.outcome.rate))
}

fn quantile_ms(cell: Option<&Cell>, q: f64) -> String {
    cell.map_or("-".into(), |c| {
        if c.outcome.latency.is_empty() {
            "-".into()
        } else {
            format!(
                "{:.2} ms",
                c.outcome.latency.value_at_quantile(q) as f64 / 1000.0
            )
        }
    })
}

fn errors(cell: Option<&Cell>) -> String {
    cell.map_or("-".into(), |c| c.outcome.error_count().to_string())
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn memory(cell: Option<&Cell>) -> String {
    match cell.and_then(|c| c.memory) {
        Some((rss, hwm)) => format!("{} (peak {})", mib(rss), mib(hwm)),
        None => "-".into(),
    }
}

/// The whole report as Markdown.
pub fn render(rows: &[Row], settings: &Settings, records: usize, threads: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n{} keep-alive connections, {:.1} s warm-up + {:.1} s measured per workload and server, \
         {records} seeded records, load generator on {threads} thread(s), cap {} requests.\n",
        settings.connections,
        settings.warmup.as_secs_f64(),
        settings.duration.as_secs_f64(),
        settings.max_requests,
    );
    out.push_str(
        "| workload | ours req/s | PocketBase req/s | ratio (ours/PB) | ours p50 | PB p50 | ours p99 | PB p99 | ours errors | PB errors |\n",
    );
    out.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for row in rows {
        let (o, p) = (row.ours.as_ref(), row.pocketbase.as_ref());
        let ratio = match (o, p) {
            (Some(o), Some(p)) if p.outcome.rate > 0.0 => {
                format!("{:.2}x", o.outcome.rate / p.outcome.rate)
            }
            _ => "-".into(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            row.workload.label(),
            rate(o),
            rate(p),
            ratio,
            quantile_ms(o, 0.5),
            quantile_ms(p, 0.5),
            quantile_ms(o, 0.99),
            quantile_ms(p, 0.99),
            errors(o),
            errors(p),
        );
    }
    out.push_str("\nRSS after each workload (VmRSS, peak VmHWM):\n\n");
    for row in rows {
        let _ = writeln!(
            out,
            "- {}: ours {}, PocketBase {}",
            row.workload.label(),
            memory(row.ours.as_ref()),
            memory(row.pocketbase.as_ref()),
        );
    }
    let mut error_lines = String::new();
    for row in rows {
        for (kind, cell) in [
            (Kind::Ours, row.ours.as_ref()),
            (Kind::PocketBase, row.pocketbase.as_ref()),
        ] {
            let Some(cell) = cell else { continue };
            for (key, e) in &cell.outcome.errors {
                let _ = writeln!(
                    error_lines,
                    "- {} / {}: {} x {}; e.g. {}",
                    kind.label(),
                    row.workload.label(),
                    e.count,
                    key,
                    e.example
                );
            }
        }
    }
    if !error_lines.is_empty() {
        out.push_str("\nErrors (warm-up included):\n\n");
        out.push_str(&error_lines);
    }
    out
}
