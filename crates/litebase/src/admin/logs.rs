//! `/_/logs`: the request logs (kept in `logs.db`, apart from the app's data),
//! newest first, with PocketBase's filter syntax, quick filters, requests per
//! hour over the last day, and one entry in detail. Reads go through
//! [`crate::logs::store`], like `/api/logs`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tera::Context;
use time::{Duration, OffsetDateTime, Time};

use super::render::{Page, htmx_target_is};
use super::session::{AdminSession, encode_component};
use crate::core::Core;
use crate::core::logs as store;
use crate::error::ApiError;
use crate::query::format_datetime;
use crate::records::read::ListQuery;

/// Mounts `/_/logs` and the detail page.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/logs", web::get().to(index))
        .route("/logs/{id}", web::get().to(view));
}

/// Entries per page.
const PER_PAGE: usize = 50;

/// Hours in the stats strip.
const HOURS: i64 = 24;

/// The quick filters: (string key, filter).
const QUICK: &[(&str, &str)] = &[
    ("logs_quick_all", ""),
    ("logs_quick_errors", "status >= 400"),
    ("logs_quick_server_errors", "status >= 500"),
    ("logs_quick_slow", "execTime >= 500"),
    ("logs_quick_superusers", "auth = \"superuser\""),
];

/// The page's query string.
#[derive(Debug, Default, Deserialize)]
struct LogsQuery {
    #[serde(default)]
    filter: String,
    #[serde(default)]
    page: String,
}

/// A log entry as the table shows it.
#[derive(Debug, Serialize)]
struct Row {
    id: String,
    created: String,
    method: String,
    url: String,
    status: i64,
    /// `2xx` … `5xx`, for the colour.
    class: String,
    duration: String,
    /// The client's address (behind a trusted proxy, the one its header gave).
    ip: String,
    /// The socket peer's address, shown when it differs (a proxy's).
    remote_ip: String,
    auth: String,
    error: String,
}

impl Row {
    fn of(item: &Value) -> Self {
        let data = &item["data"];
        let status = data["status"].as_i64().unwrap_or_default();
        let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
        Row {
            id: text(&item["id"]),
            created: text(&item["created"]),
            method: text(&data["method"]),
            url: text(&data["url"]),
            status,
            class: format!("{}xx", (status / 100).clamp(1, 5)),
            duration: duration(data["execTime"].as_f64().unwrap_or_default()),
            // Rows from before `userIP` existed only have the peer's address.
            ip: Some(text(&data["userIP"]))
                .filter(|ip| !ip.is_empty())
                .unwrap_or_else(|| text(&data["remoteIP"])),
            remote_ip: text(&data["remoteIP"]),
            auth: text(&data["auth"]),
            error: text(&data["error"]),
        }
    }
}

/// `0.42 ms`, `12 ms`, `1.3 s`.
fn duration(ms: f64) -> String {
    if ms < 10.0 {
        format!("{ms:.2} ms")
    } else if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.1} s", ms / 1000.0)
    }
}

/// A quick filter link.
#[derive(Debug, Serialize)]
struct Quick {
    label: &'static str,
    href: String,
    active: bool,
}

/// One hour of the stats strip.
#[derive(Debug, Serialize)]
struct Bar {
    /// `14:00`.
    hour: String,
    total: i64,
    /// Height, percent of the busiest hour.
    pct: i64,
}

/// The first hour of the strip: the current hour, `HOURS - 1` hours back.
fn strip_start(now: OffsetDateTime) -> OffsetDateTime {
    let hour = now.replace_time(Time::from_hms(now.hour(), 0, 0).unwrap_or(Time::MIDNIGHT));
    hour - Duration::hours(HOURS - 1)
}

/// Fills the hours `stats` has no row for with zero, oldest first.
fn bars(start: OffsetDateTime, stats: &[Value]) -> Vec<Bar> {
    let totals: Vec<(String, i64)> = (0..HOURS)
        .map(|h| {
            let at = start + Duration::hours(h);
            let key = format_datetime(at);
            let total = stats
                .iter()
                .find(|s| s["date"].as_str() == Some(key.as_str()))
                .and_then(|s| s["total"].as_i64())
                .unwrap_or(0);
            (format!("{:02}:00", at.hour()), total)
        })
        .collect();
    let max = totals.iter().map(|(_, t)| *t).max().unwrap_or(0).max(1);
    totals
        .into_iter()
        .map(|(hour, total)| Bar {
            hour,
            total,
            pct: if total == 0 {
                0
            } else {
                (total * 100 / max).max(4)
            },
        })
        .collect()
}

/// `/_/logs?filter=…&page=…`.
fn href(filter: &str, page: usize) -> String {
    let mut out = String::from("/_/logs");
    let mut sep = '?';
    if !filter.is_empty() {
        out.push_str(&format!("?filter={}", encode_component(filter)));
        sep = '&';
    }
    if page > 1 {
        out.push_str(&format!("{sep}page={page}"));
    }
    out
}

async fn index(
    req: HttpRequest,
    core: web::Data<Core>,
    session: AdminSession,
    query: web::Query<LogsQuery>,
) -> Result<HttpResponse, ApiError> {
    let lang = super::i18n::request_lang(&req);
    let filter = query.filter.trim().to_string();
    let page_no = query.page.trim().parse::<usize>().unwrap_or(1).max(1);
    let list = store::list(
        &core,
        ListQuery {
            page: page_no,
            per_page: PER_PAGE,
            skip_total: false,
            filter: filter.clone(),
            sort: String::new(),
            expand: String::new(),
            fields: String::new(),
        },
    )
    .await;
    let mut ctx = Context::new();
    let mut status = StatusCode::OK;
    let (rows, total, pages, filter_error) = match list {
        Ok(list) => {
            let rows: Vec<Row> = list["items"]
                .as_array()
                .map(|items| items.iter().map(Row::of).collect())
                .unwrap_or_default();
            let total = list["totalItems"].as_i64().unwrap_or_default();
            let pages = list["totalPages"].as_i64().unwrap_or_default().max(1) as usize;
            (rows, total, pages, String::new())
        }
        Err(e) if e.status() == StatusCode::BAD_REQUEST => {
            status = StatusCode::BAD_REQUEST;
            (Vec::new(), 0, 1, e.message)
        }
        Err(e) => return Err(e),
    };
    let start = strip_start(OffsetDateTime::now_utc());
    let stats = if filter_error.is_empty() {
        let since = format!("created >= \"{}\"", format_datetime(start));
        let scoped = if filter.is_empty() {
            since
        } else {
            format!("({filter}) && {since}")
        };
        store::stats(&core, &scoped).await?
    } else {
        Vec::new()
    };
    let bars = bars(start, &stats);
    let last_day: i64 = bars.iter().map(|b| b.total).sum();
    let quick: Vec<Quick> = QUICK
        .iter()
        .map(|(key, f)| Quick {
            label: super::i18n::text(lang, key),
            href: href(f, 1),
            active: *f == filter,
        })
        .collect();
    ctx.insert("rows", &rows);
    ctx.insert("filter", &filter);
    ctx.insert("filter_error", &filter_error);
    ctx.insert("quick", &quick);
    ctx.insert("strip_from", &bars.first().map(|b| b.hour.clone()));
    ctx.insert("strip_to", &bars.last().map(|b| b.hour.clone()));
    ctx.insert("bars", &bars);
    ctx.insert("last_day", &last_day);
    ctx.insert("total", &total);
    ctx.insert("page_no", &page_no);
    ctx.insert("pages", &pages);
    ctx.insert(
        "prev",
        &(page_no > 1).then(|| href(&filter, page_no.min(pages + 1) - 1)),
    );
    ctx.insert(
        "next",
        &(page_no < pages).then(|| href(&filter, page_no + 1)),
    );
    let settings = core.settings.get();
    ctx.insert("max_days", &settings.logs.max_days);
    ctx.insert("logs_path", &core.logs.path().display().to_string());
    // Filter, quick filters and pages swap only the results under htmx; without
    // JavaScript they are plain links and a GET form.
    let (template, status) = if htmx_target_is(&req, "logs-results") {
        ("logs/_results.html", StatusCode::OK)
    } else {
        ("logs/index.html", status)
    };
    Page::new(&req, template)
        .session(&session)
        .status(status)
        .render(ctx)
}

async fn view(
    req: HttpRequest,
    core: web::Data<Core>,
    session: AdminSession,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let mut ctx = Context::new();
    let page = Page::new(&req, "logs/view.html").session(&session);
    match store::view(&core, id.into_inner()).await {
        Ok(entry) => {
            ctx.insert("row", &Row::of(&entry));
            ctx.insert("entry", &entry);
            ctx.insert(
                "raw",
                &serde_json::to_string_pretty(&entry).unwrap_or_default(),
            );
            page.render(ctx)
        }
        Err(e) if e.status() == StatusCode::NOT_FOUND => {
            ctx.insert("row", &Option::<Row>::None);
            page.status(StatusCode::NOT_FOUND).render(ctx)
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_strip_has_every_hour_and_scales_to_the_busiest() {
        let now = OffsetDateTime::from_unix_timestamp(1_700_000_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let start = strip_start(now);
        assert_eq!((start.minute(), start.second()), (0, 0));
        let last = format_datetime(start + Duration::hours(HOURS - 1));
        let first = format_datetime(start);
        let stats = [
            json!({"date": first, "total": 1}),
            json!({"date": last, "total": 50}),
        ];
        let bars = bars(start, &stats);
        assert_eq!(bars.len(), HOURS as usize);
        assert_eq!(bars[0].pct, 4, "a small hour stays visible");
        assert_eq!(bars[HOURS as usize - 1].pct, 100);
        assert_eq!(bars[1].total, 0);
    }

    #[test]
    fn links_keep_the_filter() {
        assert_eq!(href("", 1), "/_/logs");
        assert_eq!(href("", 3), "/_/logs?page=3");
        assert_eq!(
            href("status >= 400", 2),
            "/_/logs?filter=status%20%3E%3D%20400&page=2"
        );
        assert_eq!(duration(0.5), "0.50 ms");
        assert_eq!(duration(1500.0), "1.5 s");
    }
}
