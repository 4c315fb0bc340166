//! Embedded SQL migrations (refinery), each set with its own history table.
//!
//! litebase's system tables and the app's tables migrate independently: each
//! [`MigrationSet`] names its own history table, so their version numbers never
//! collide and an app can start its numbering at `V1`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rusqlite::Connection;

use super::{Db, DbError};

/// A set of migrations embedded with `refinery::embed_migrations!`, plus where its
/// history is kept.
#[derive(Clone, Copy)]
pub struct MigrationSet {
    /// Shown in `migrate status` (`system`, `app`).
    pub label: &'static str,
    /// The history table; never change it once a database has used it.
    pub table: &'static str,
    /// The generated `migrations::runner` function.
    pub runner: fn() -> refinery::Runner,
}

/// The state of one migration, for `migrate status` and for logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationInfo {
    /// Label of the set it belongs to.
    pub set: &'static str,
    /// The `N` of `VN__name.sql`.
    pub version: i64,
    /// The `name` of `VN__name.sql`.
    pub name: String,
    /// Where it stands.
    pub state: MigrationState,
}

/// Where one migration stands against the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MigrationState {
    /// Not yet applied.
    Pending,
    /// Applied at this UTC time.
    Applied(String),
    /// Applied, but the SQL embedded in this binary differs from what was applied.
    Changed(String),
    /// Recorded as applied but unknown to this binary (built from an older tree?).
    Unknown(String),
}

fn runner_for(set: &MigrationSet) -> refinery::Runner {
    let mut runner = (set.runner)()
        .set_abort_divergent(true)
        .set_abort_missing(false);
    runner.set_migration_table_name(set.table);
    runner
}

fn migration_error(set: &MigrationSet, err: refinery::Error) -> DbError {
    DbError::Migration(format!("{} migrations: {err}", set.label))
}

fn format_time(t: Option<&time::OffsetDateTime>) -> String {
    match t {
        Some(t) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ),
        None => String::new(),
    }
}

/// Applies every pending migration of each set, in order; returns those it applied.
/// Each migration runs in its own transaction, so a failing one leaves the database
/// as the previous migration left it.
pub async fn apply(db: &Db, sets: &[MigrationSet]) -> Result<Vec<MigrationInfo>, DbError> {
    let sets = sets.to_vec();
    db.exclusive(move |conn| {
        let mut applied = Vec::new();
        for set in &sets {
            let report = runner_for(set)
                .run(conn)
                .map_err(|e| migration_error(set, e))?;
            for m in report.applied_migrations() {
                applied.push(MigrationInfo {
                    set: set.label,
                    version: i64::from(m.version()),
                    name: m.name().to_string(),
                    state: MigrationState::Applied(format_time(m.applied_on())),
                });
            }
        }
        Ok(applied)
    })
    .await
}

fn table_exists(conn: &Connection, table: &str) -> Result<bool, DbError> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)",
        [table],
        |row| row.get(0),
    )?)
}

/// Every migration of each set, applied or not, without changing the database.
pub async fn status(db: &Db, sets: &[MigrationSet]) -> Result<Vec<MigrationInfo>, DbError> {
    let sets = sets.to_vec();
    db.exclusive(move |conn| {
        let mut out = Vec::new();
        for set in &sets {
            let runner = runner_for(set);
            let applied = if table_exists(conn, set.table)? {
                runner
                    .get_applied_migrations(conn)
                    .map_err(|e| migration_error(set, e))?
            } else {
                Vec::new()
            };
            let mut rows: BTreeMap<i64, MigrationInfo> = BTreeMap::new();
            for m in runner.get_migrations() {
                rows.insert(
                    i64::from(m.version()),
                    MigrationInfo {
                        set: set.label,
                        version: i64::from(m.version()),
                        name: m.name().to_string(),
                        state: MigrationState::Pending,
                    },
                );
            }
            for m in &applied {
                let when = format_time(m.applied_on());
                let version = i64::from(m.version());
                let known = runner
                    .get_migrations()
                    .iter()
                    .find(|e| i64::from(e.version()) == version);
                let state = match known {
                    Some(e) if e.checksum() == m.checksum() => MigrationState::Applied(when),
                    Some(_) => MigrationState::Changed(when),
                    None => MigrationState::Unknown(when),
                };
                rows.insert(
                    version,
                    MigrationInfo {
                        set: set.label,
                        version,
                        name: m.name().to_string(),
                        state,
                    },
                );
            }
            out.extend(rows.into_values());
        }
        Ok(out)
    })
    .await
}

/// Parses `V12__add_rooms.sql` into `(12, "add_rooms")`.
pub fn parse_file_name(file_name: &str) -> Option<(i64, String)> {
    let stem = file_name.strip_suffix(".sql")?;
    let rest = stem.strip_prefix('V')?;
    let (version, name) = rest.split_once("__")?;
    let version: i64 = version.parse().ok()?;
    (!name.is_empty()).then(|| (version, name.to_string()))
}

/// Checks a migration name: lowercase words joined by `_`, as refinery needs.
pub fn validate_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 80
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !name.starts_with('_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid migration name {name:?}: use lowercase letters, digits and '_' (e.g. add_rooms)"
        ))
    }
}

/// Creates `dir/V{next}__{name}.sql`, numbered after every migration already in `dir`
/// and every version in `known` (those embedded in the binary). Returns its path.
pub fn create_file(
    dir: &Path,
    name: &str,
    known: impl IntoIterator<Item = i64>,
) -> Result<PathBuf, DbError> {
    validate_name(name).map_err(DbError::Migration)?;
    let io = |e: std::io::Error| DbError::Migration(format!("{}: {e}", dir.display()));
    std::fs::create_dir_all(dir).map_err(io)?;
    let mut highest = known.into_iter().max().unwrap_or(0);
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        if let Some((version, _)) = entry.file_name().to_str().and_then(parse_file_name) {
            highest = highest.max(version);
        }
    }
    let path = dir.join(format!("V{}__{}.sql", highest + 1, name));
    let body = format!(
        "-- Migration V{}__{name}: applied once, in its own transaction, by `migrate up`\n\
         -- or at `serve`. Never edit it after it has been applied anywhere; add a new one.\n\n",
        highest + 1
    );
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .and_then(|mut f| std::io::Write::write_all(&mut f, body.as_bytes()))
        .map_err(io)?;
    Ok(path)
}

/// The versions embedded in a set, for numbering new files after them.
pub fn embedded_versions(set: &MigrationSet) -> Vec<i64> {
    (set.runner)()
        .get_migrations()
        .iter()
        .map(|m| i64::from(m.version()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_refinery_file_names() {
        assert_eq!(
            parse_file_name("V3__add_rooms.sql"),
            Some((3, "add_rooms".into()))
        );
        assert_eq!(parse_file_name("V3_add.sql"), None);
        assert_eq!(parse_file_name("U3__x.sql"), None);
        assert_eq!(parse_file_name("V__x.sql"), None);
        assert_eq!(parse_file_name("V3__.sql"), None);
        assert_eq!(parse_file_name("V3__x.txt"), None);
    }

    #[test]
    fn rejects_names_refinery_would_not_load() {
        assert!(validate_name("add_rooms").is_ok());
        assert!(validate_name("Add rooms").is_err());
        assert!(validate_name("").is_err());
        assert!(validate_name("_x").is_err());
        assert!(validate_name("a-b").is_err());
    }

    #[test]
    fn numbers_new_files_after_the_highest_known() -> Result<(), DbError> {
        let dir = tempfile::tempdir().map_err(|e| DbError::Migration(e.to_string()))?;
        let first = create_file(dir.path(), "first", [4])?;
        assert!(first.ends_with("V5__first.sql"));
        let second = create_file(dir.path(), "second", [])?;
        assert!(second.ends_with("V6__second.sql"));
        assert!(create_file(dir.path(), "Bad Name", []).is_err());
        Ok(())
    }
}

/// A migration written by `--dev` mode for a schema change made through the API.
#[derive(Debug, Clone)]
pub struct DevMigration {
    /// Where the file goes.
    pub path: PathBuf,
    /// Its exact content (refinery's checksum covers it).
    pub sql: String,
}

/// Inside the transaction of a schema change: picks the next version (after the
/// files in `dir`, the versions embedded in `set` and those already applied), and
/// records the migration as applied, since the change it describes is being made
/// right now. Write the file with [`DevMigration::write`] once the transaction has
/// committed; a rebuilt binary then embeds it and `migrate up` skips it here while
/// applying it everywhere else.
pub fn prepare_dev_migration(
    conn: &Connection,
    set: &MigrationSet,
    dir: &Path,
    name: &str,
    statements: &[String],
) -> Result<DevMigration, DbError> {
    let io = |e: std::io::Error| DbError::Migration(format!("{}: {e}", dir.display()));
    validate_name(name).map_err(DbError::Migration)?;
    let mut highest = embedded_versions(set).into_iter().max().unwrap_or(0);
    if dir.exists() {
        for entry in std::fs::read_dir(dir).map_err(io)? {
            let entry = entry.map_err(io)?;
            if let Some((version, _)) = entry.file_name().to_str().and_then(parse_file_name) {
                highest = highest.max(version);
            }
        }
    }
    conn.execute_batch(&format!(
        "CREATE TABLE IF NOT EXISTS {}(version int4 PRIMARY KEY, name VARCHAR(255), \
         applied_on VARCHAR(255), checksum VARCHAR(255));",
        set.table
    ))?;
    let applied: Option<i64> = conn.query_row(
        &format!("SELECT max(version) FROM {}", set.table),
        [],
        |r| r.get(0),
    )?;
    let version = highest.max(applied.unwrap_or(0)) + 1;
    let mut sql = String::from(
        "-- Written by `serve --dev` for a schema change made through the API.\n\
         -- Review it like code; it is already applied to the database it came from.\n\n",
    );
    for statement in statements {
        sql.push_str(statement.trim_end().trim_end_matches(';'));
        sql.push_str(";\n\n");
    }
    let file_name = format!("V{version}__{name}");
    let migration = refinery::Migration::unapplied(&file_name, &sql)
        .map_err(|e| DbError::Migration(e.to_string()))?;
    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .map_err(|e| DbError::Migration(e.to_string()))?;
    conn.execute(
        &format!(
            "INSERT INTO {} (version, name, applied_on, checksum) VALUES (?1, ?2, ?3, ?4)",
            set.table
        ),
        rusqlite::params![version, name, now, migration.checksum().to_string()],
    )?;
    Ok(DevMigration {
        path: dir.join(format!("{file_name}.sql")),
        sql,
    })
}

impl DevMigration {
    /// Writes the file (creating the folder); never overwrites an existing file.
    pub fn write(&self) -> Result<(), DbError> {
        let io = |e: std::io::Error| DbError::Migration(format!("{}: {e}", self.path.display()));
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&self.path)
            .and_then(|mut f| std::io::Write::write_all(&mut f, self.sql.as_bytes()))
            .map_err(io)
    }
}
