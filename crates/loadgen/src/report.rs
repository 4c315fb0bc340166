//! Turning measurements into the Markdown report: one table row per workload with
//! both servers side by side, then memory and any errors with an example each, then
//! the footprint table (binary size, idle memory, start-up time).

use std::fmt::Write as _;
use std::time::Duration;

use crate::bench::{Outcome, Settings, Workload};
use crate::footprint::{Footprint, median};
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

    /// The workload's name.
    pub fn label(&self) -> &'static str {
        self.workload.label()
    }

    /// `kind`'s requests per second and p99 in ms (`None` when it has no result;
    /// no p99 when nothing succeeded).
    pub fn figures(&self, kind: Kind) -> Option<(f64, Option<f64>)> {
        let cell = match kind {
            Kind::Ours => self.ours.as_ref(),
            Kind::PocketBase => self.pocketbase.as_ref(),
        }?;
        let latency = &cell.outcome.latency;
        let p99 = (!latency.is_empty()).then(|| latency.value_at_quantile(0.99) as f64 / 1000.0);
        Some((cell.outcome.rate, p99))
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

/// KiB as MiB with one decimal.
pub fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn memory(cell: Option<&Cell>) -> String {
    match cell.and_then(|c| c.memory) {
        Some((rss, hwm)) => format!("{} (peak {})", mib(rss), mib(hwm)),
        None => "-".into(),
    }
}

/// The whole report as Markdown.
///
/// `after_setup` is each server's (`VmRSS`, `VmHWM`) in KiB once seeded, before the
/// first workload.
pub fn render(
    rows: &[Row],
    after_setup: &[(Kind, Option<(u64, u64)>)],
    settings: &Settings,
    records: usize,
    users: usize,
    threads: usize,
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n{} keep-alive connections, {:.1} s warm-up + {:.1} s measured per workload and server, \
         {records} seeded records, {users} users, load generator on {threads} thread(s), cap {} requests.\n",
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
    let _ = writeln!(
        out,
        "\nOur server runs with `--auth-rate-limit 0` (by default it answers 429 after 60 \
         sign-ins a minute from one IP); PocketBase's rate limiter is off (its default, also set explicitly). \
         auth-with-password rotates through the {users} users; each hashes the password \
         (ours argon2id, PocketBase bcrypt). The authenticated view signs every connection \
         in once, before the clock starts, and reads the user's own record with \
         `Authorization: TOKEN` under the default rule `id = @request.auth.id`."
    );
    out.push_str("\nRSS after each workload (VmRSS, peak VmHWM):\n\n");
    let setup_memory = |kind: Kind| match after_setup.iter().find(|(k, _)| *k == kind) {
        Some((_, Some((rss, hwm)))) => format!("{} (peak {})", mib(*rss), mib(*hwm)),
        _ => "-".into(),
    };
    let _ = writeln!(
        out,
        "- after setup (seeding and user creation): ours {}, PocketBase {}",
        setup_memory(Kind::Ours),
        setup_memory(Kind::PocketBase)
    );
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

fn millis(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn ratio(ours: Option<f64>, pocketbase: Option<f64>) -> String {
    match (ours, pocketbase) {
        (Some(o), Some(p)) if p > 0.0 => format!("{:.2}x", o / p),
        _ => "-".into(),
    }
}

/// The footprint table as Markdown: one column per server measured, plus the ratio.
pub fn render_footprint(footprints: &[Footprint], starts: usize) -> String {
    let find = |kind: Kind| footprints.iter().find(|f| f.kind == kind);
    let (o, p) = (find(Kind::Ours), find(Kind::PocketBase));
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nFootprint (each start: fresh empty data dir; median of {starts} starts, min–max in brackets):\n"
    );
    out.push_str("| | ours | PocketBase | ratio (ours/PB) |\n|---|---:|---:|---:|\n");

    let size = |f: Option<&Footprint>| {
        f.map_or("-".into(), |f| {
            format!(
                "{:.1} MiB ({} B)",
                f.binary_bytes as f64 / (1024.0 * 1024.0),
                f.binary_bytes
            )
        })
    };
    let _ = writeln!(
        out,
        "| binary size | {} | {} | {} |",
        size(o),
        size(p),
        ratio(
            o.map(|f| f.binary_bytes as f64),
            p.map(|f| f.binary_bytes as f64)
        )
    );

    let rss = |f: Option<&Footprint>| -> Option<u64> { f.and_then(|f| median(&f.idle_rss_kib)) };
    let rss_cell = |f: Option<&Footprint>| match (f, rss(f)) {
        (Some(f), Some(m)) => format!(
            "{} ({}–{})",
            mib(m),
            mib(*f.idle_rss_kib.first().unwrap_or(&m)),
            mib(*f.idle_rss_kib.last().unwrap_or(&m))
        ),
        _ => "-".into(),
    };
    let _ = writeln!(
        out,
        "| idle RSS, 1 s after healthy | {} | {} | {} |",
        rss_cell(o),
        rss_cell(p),
        ratio(rss(o).map(|v| v as f64), rss(p).map(|v| v as f64))
    );

    let up = |f: Option<&Footprint>| -> Option<Duration> { f.and_then(|f| median(&f.startup)) };
    let up_cell = |f: Option<&Footprint>| match (f, up(f)) {
        (Some(f), Some(m)) => format!(
            "{} ({}–{})",
            millis(m),
            millis(*f.startup.first().unwrap_or(&m)),
            millis(*f.startup.last().unwrap_or(&m))
        ),
        _ => "-".into(),
    };
    let _ = writeln!(
        out,
        "| process start → first 200 from `GET /api/health` | {} | {} | {} |",
        up_cell(o),
        up_cell(p),
        ratio(
            up(o).map(|d| d.as_secs_f64()),
            up(p).map(|d| d.as_secs_f64())
        )
    );
    out.push('\n');
    for f in footprints {
        let _ = writeln!(out, "- {} binary: {}", f.kind.label(), f.binary.display());
    }
    out
}
