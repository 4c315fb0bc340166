//! Tables of hostile requests, scored case by case against one running server.
//!
//! Every case checks three things:
//! 1. the server answers without a 5xx and stays up (`GET /api/health` after
//!    every group, no "panicked" in its stderr at the end);
//! 2. a refusal comes in PocketBase's error shape (`{status, message, data}`),
//!    or, for pages, as the page again with the error shown;
//! 3. the refused request committed nothing: `PRAGMA data_version` on a
//!    connection kept open for the whole run ([`DbWatch`]), and a hash of every
//!    table, are the same after the case as before it.
//!
//! A [`Suite`] runs the groups of one area and fails at the end with every case
//! that did not hold, instead of stopping at the first.
//!
//! ```no_run
//! # fn demo(server: &litebase::testing::ServerProcess, dir: &std::path::Path) -> std::io::Result<()> {
//! use litebase::testing::hostile::{Case, Suite, err};
//! use litebase::testing::raw::Req;
//! let mut suite = Suite::new("demo", server, &dir.join("data.db"), &[])?;
//! suite.group("records", &[Case::new("a bad body", Req::post("/api/collections/posts/records").bytes("application/json", "{"), err(400))]);
//! suite.finish();
//! # Ok(())
//! # }
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;
use sha2::{Digest, Sha256};

use super::raw::{Answer, Req, clip, send};
use super::{Http, ServerProcess, check_error_shape};

/// What a case must get back (besides "no 5xx" and "nothing committed").
#[derive(Clone, Debug)]
pub enum Expect {
    /// A refusal in PocketBase's shape, with this status (any 4xx for `None`).
    Error(Option<u16>),
    /// A refusal in PocketBase's shape, or the connection closed without an answer.
    ErrorOrClose,
    /// A refusal with this status in PocketBase's shape, and no `100 Continue` first.
    ErrorWithoutContinue(u16),
    /// This success status: the request was harmless and allowed (a guest's list).
    Status(u16),
    /// 200 with an empty page (a list whose rule hides every row).
    EmptyList,
    /// The HTML page again: this status, and this marker in the body.
    Page(u16, &'static str),
    /// Any answer but a 5xx; an error must be in PocketBase's shape.
    Any,
}

/// A refusal with this status: the tables' most common expectation.
pub fn err(status: u16) -> Expect {
    Expect::Error(Some(status))
}

/// One hostile request and what it must get.
#[derive(Clone, Debug)]
pub struct Case {
    /// Unique within its area; `area/name` is what failures and
    /// `known_failures` name.
    pub name: String,
    /// What is sent.
    pub request: Req,
    /// What must come back.
    pub expect: Expect,
    /// A key `data` of the error must have (the field the error is about).
    pub data_key: Option<String>,
    /// Text that must not appear in the answer (a hidden value).
    pub forbid: Option<String>,
}

impl Case {
    /// A case with no `data` key or forbidden text to check.
    pub fn new(name: impl Into<String>, request: Req, expect: Expect) -> Case {
        Case {
            name: name.into(),
            request,
            expect,
            data_key: None,
            forbid: None,
        }
    }

    /// The error's `data` must name this field.
    pub fn key(mut self, key: &str) -> Case {
        self.data_key = Some(key.into());
        self
    }

    /// The answer must not contain this text (a hidden value).
    pub fn forbid(mut self, text: &str) -> Case {
        self.forbid = Some(text.into());
        self
    }
}

/// Table rows `(name, request, expect)` as cases.
pub fn rows(rows: Vec<(&str, Req, Expect)>) -> Vec<Case> {
    rows.into_iter()
        .map(|(name, req, expect)| Case::new(name, req, expect))
        .collect()
}

/// The cases of one area, by group.
pub type Groups = Vec<(&'static str, Vec<Case>)>;

/// JSON `[[[…]]]` or `{"a":{"a":…}}` nested `depth` deep.
pub fn nested(depth: usize, object: bool) -> String {
    if object {
        format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth))
    } else {
        format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
    }
}

/// A multipart body with `boundary` and these raw parts.
pub fn multipart(boundary: &str, parts: &[(&str, &str)]) -> String {
    let mut body = String::new();
    for (name, value) in parts {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    body
}

/// A refusal in PocketBase's shape, with its status, as `check_error_shape` checks it.
fn shape(answer: &Answer, status: u16) -> Result<(), String> {
    check_error_shape(&answer.reply(), status)
        .map(drop)
        .map_err(|why| format!("not PocketBase's error shape ({})", clip(&why, 300)))
}

/// Checks `answer` against `case`; the reason when it does not match.
pub fn check(case: &Case, answer: &Answer) -> Result<(), String> {
    if answer.status >= 500 {
        return Err("a server error".into());
    }
    let refusal = |status: Option<u16>| -> Result<(), String> {
        if answer.status == 0 {
            return Err("no answer".into());
        }
        if !(400..500).contains(&answer.status) {
            return Err(format!(
                "expected a refusal{}",
                status.map(|s| format!(" ({s})")).unwrap_or_default()
            ));
        }
        if let Some(s) = status.filter(|s| *s != answer.status) {
            return Err(format!("expected {s}"));
        }
        shape(answer, answer.status)
    };
    match &case.expect {
        Expect::Error(status) => refusal(*status)?,
        Expect::ErrorOrClose if answer.status == 0 => {}
        Expect::ErrorOrClose => refusal(None)?,
        Expect::ErrorWithoutContinue(status) => {
            if answer.continued {
                return Err("sent 100 Continue before refusing".into());
            }
            refusal(Some(*status))?
        }
        Expect::Status(s) if answer.status != *s => return Err(format!("expected {s}")),
        Expect::Status(_) => {}
        Expect::EmptyList => {
            let json = answer.reply().json;
            if answer.status != 200 || json["items"] != json!([]) {
                return Err("expected 200 with no items".into());
            }
        }
        Expect::Page(status, marker) => {
            let page = answer.text();
            // A form shown again says what is wrong with it.
            let shown = *status == 404 || page.contains("role=\"alert\"");
            if answer.status != *status || !page.contains(marker) || !shown {
                return Err(format!(
                    "expected the page again ({status}, {marker}, the error shown)"
                ));
            }
        }
        Expect::Any if answer.status == 0 => return Err("no answer".into()),
        Expect::Any if answer.status >= 400 => shape(answer, answer.status)?,
        Expect::Any => {}
    }
    if let Some(key) = &case.data_key {
        if answer.reply().json["data"].get(key).is_none() {
            return Err(format!("data does not name {key:?}"));
        }
    }
    if let Some(text) = &case.forbid {
        if answer.text().contains(text.as_str()) {
            return Err(format!("the answer shows {text:?}"));
        }
    }
    Ok(())
}

/// A read-only connection to a database file, kept open for a whole run: its
/// `PRAGMA data_version` changes whenever another connection commits, and a
/// hash per table (rows in rowid order, `sqlite_master` too) shows what changed.
pub struct DbWatch {
    conn: rusqlite::Connection,
    version: i64,
    tables: BTreeMap<String, [u8; 32]>,
}

impl DbWatch {
    /// Opens `path` read-only and takes the first state.
    pub fn open(path: &Path) -> rusqlite::Result<DbWatch> {
        let conn = rusqlite::Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        let (version, tables) = Self::state(&conn)?;
        Ok(DbWatch {
            conn,
            version,
            tables,
        })
    }

    /// `data_version` and a hash per table.
    fn state(conn: &rusqlite::Connection) -> rusqlite::Result<(i64, BTreeMap<String, [u8; 32]>)> {
        let version: i64 = conn.query_row("PRAGMA data_version", [], |r| r.get(0))?;
        let mut tables = BTreeMap::new();
        tables.insert(
            "sqlite_master".to_string(),
            Self::hash(conn, "SELECT * FROM sqlite_master ORDER BY rowid")?,
        );
        let names: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        for name in names {
            let quoted = format!("\"{}\"", name.replace('"', "\"\""));
            let hash = Self::hash(
                conn,
                &format!("SELECT rowid, * FROM {quoted} ORDER BY rowid"),
            )
            .or_else(|_| Self::hash(conn, &format!("SELECT * FROM {quoted} ORDER BY 1")))?;
            tables.insert(name, hash);
        }
        Ok((version, tables))
    }

    /// A hash of every row `sql` selects, in its order.
    fn hash(conn: &rusqlite::Connection, sql: &str) -> rusqlite::Result<[u8; 32]> {
        use rusqlite::types::ValueRef;
        let mut stmt = conn.prepare(sql)?;
        let columns = stmt.column_count();
        let mut rows = stmt.query([])?;
        let mut hasher = Sha256::new();
        while let Some(row) = rows.next()? {
            for i in 0..columns {
                match row.get_ref(i)? {
                    ValueRef::Null => hasher.update(b"N"),
                    ValueRef::Integer(n) => {
                        hasher.update(b"I");
                        hasher.update(n.to_le_bytes());
                    }
                    ValueRef::Real(f) => {
                        hasher.update(b"R");
                        hasher.update(f.to_bits().to_le_bytes());
                    }
                    ValueRef::Text(b) | ValueRef::Blob(b) => {
                        hasher.update(b"T");
                        hasher.update((b.len() as u64).to_le_bytes());
                        hasher.update(b);
                    }
                }
            }
            hasher.update(b"\n");
        }
        Ok(hasher.finalize().into())
    }

    /// What changed since the last call (and starts over from now), if anything.
    pub fn changed(&mut self) -> Option<String> {
        let (version, tables) = match Self::state(&self.conn) {
            Ok(state) => state,
            Err(e) => return Some(format!("cannot read the database: {e}")),
        };
        let mut what = Vec::new();
        if version != self.version {
            what.push(format!("data_version {} → {version}", self.version));
        }
        let names: BTreeSet<&String> = tables.keys().chain(self.tables.keys()).collect();
        for name in names {
            if tables.get(name) != self.tables.get(name) {
                what.push(format!("table {name} changed"));
            }
        }
        self.version = version;
        self.tables = tables;
        (!what.is_empty()).then(|| what.join(", "))
    }
}

/// Runs the cases of one area against one server and keeps the score: each
/// outcome, the database check after it, and the server's health after a group.
/// A case named in `known_failures` (as `area/name`) is skipped and listed;
/// `HOSTILE_RUN_KNOWN=1` runs those too, to see which still fail.
pub struct Suite<'a> {
    area: &'static str,
    server: &'a ServerProcess,
    known_failures: &'a [&'a str],
    /// The database check; a test that changes data on purpose between cases
    /// calls [`DbWatch::changed`] to take the new state as the baseline.
    pub watch: DbWatch,
    run_known: bool,
    cases: usize,
    failures: Vec<String>,
    skipped: Vec<String>,
    known_passing: Vec<String>,
    started: Instant,
}

impl<'a> Suite<'a> {
    /// A score for `area` on `server`, with the state of `db` (its `data.db`)
    /// now as the baseline.
    pub fn new(
        area: &'static str,
        server: &'a ServerProcess,
        db: &Path,
        known_failures: &'a [&'a str],
    ) -> std::io::Result<Suite<'a>> {
        Ok(Suite {
            area,
            server,
            known_failures,
            watch: DbWatch::open(db).map_err(std::io::Error::other)?,
            run_known: std::env::var("HOSTILE_RUN_KNOWN").is_ok_and(|v| v == "1"),
            cases: 0,
            failures: Vec::new(),
            skipped: Vec::new(),
            known_passing: Vec::new(),
            started: Instant::now(),
        })
    }

    /// Whether case `name` runs; counts it either way.
    pub fn admit(&mut self, name: &str) -> bool {
        self.cases += 1;
        let full = format!("{}/{name}", self.area);
        if self.known_failures.contains(&full.as_str()) && !self.run_known {
            self.skipped.push(full);
            return false;
        }
        true
    }

    /// Records a case's outcome (`what` describes the exchange), adding the
    /// database check.
    pub fn record(&mut self, name: &str, what: &str, outcome: Result<(), String>) {
        let full = format!("{}/{name}", self.area);
        let mut problems: Vec<String> = outcome.err().into_iter().collect();
        if let Some(change) = self.watch.changed() {
            problems.push(format!("the database changed: {change}"));
        }
        let known = self.known_failures.contains(&full.as_str());
        let report = format!("{full}\n    {what}\n    → {}", problems.join("; "));
        match (problems.is_empty(), known) {
            (true, true) => self.known_passing.push(full),
            (true, false) => {}
            (false, true) => println!("known failure still fails: {report}"),
            (false, false) => self.failures.push(report),
        }
    }

    /// Runs one HTTP case.
    pub fn http(&mut self, case: &Case) {
        if !self.admit(&case.name) {
            return;
        }
        let started = Instant::now();
        let sent = send(&self.server.addr, &case.request);
        if started.elapsed() > Duration::from_secs(2) {
            println!(
                "slow case ({:.1} s): {}/{}",
                started.elapsed().as_secs_f64(),
                self.area,
                case.name
            );
        }
        let (outcome, what) = match sent {
            Ok(answer) => (
                check(case, &answer),
                format!("{} → {}", case.request.summary(), answer.summary()),
            ),
            Err(e) => (Err(format!("cannot send: {e}")), case.request.summary()),
        };
        self.record(&case.name, &what, outcome);
    }

    /// Runs every group of `groups`, in order.
    pub fn groups(&mut self, groups: Groups) {
        for (group, cases) in groups {
            self.group(group, &cases);
        }
    }

    /// Runs a group of HTTP cases, then checks the server is still healthy.
    pub fn group(&mut self, group: &str, cases: &[Case]) {
        for case in cases {
            self.http(case);
        }
        self.health(group);
    }

    /// A failure unless `GET /api/health` answers 200.
    pub fn health(&mut self, group: &str) {
        let healthy = Http::new()
            .get(&self.server.url("/api/health"))
            .map(|r| r.status);
        if !matches!(healthy, Ok(200)) {
            self.failures.push(format!(
                "{}: the server is not healthy after group {group:?}: {healthy:?}",
                self.area
            ));
        }
    }

    /// Prints the score.
    ///
    /// # Panics
    /// On any unexpected failure, a database change after the last case, or a
    /// panic in the server's stderr (it is the assertion of the run).
    pub fn finish(mut self) {
        if let Some(change) = self.watch.changed() {
            self.failures.push(format!(
                "{}: the database changed after the last case: {change}",
                self.area
            ));
        }
        let stderr = self.server.stderr();
        if stderr.contains("panicked") {
            self.failures.push(format!(
                "{}: the server panicked:\n{}",
                self.area,
                clip(&stderr, 4000)
            ));
        }
        println!(
            "{}: {} cases in {:.1} s ({} skipped as known failures)",
            self.area,
            self.cases,
            self.started.elapsed().as_secs_f64(),
            self.skipped.len()
        );
        for name in &self.skipped {
            println!("  skipped (known failures): {name}");
        }
        for name in &self.known_passing {
            println!("  passes now, remove it from the known failures: {name}");
        }
        assert!(
            self.failures.is_empty(),
            "{} case(s) failed:\n{}",
            self.failures.len(),
            self.failures.join("\n")
        );
    }
}
