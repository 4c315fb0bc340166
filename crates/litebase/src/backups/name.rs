//! Backup file names: `^@?[a-z0-9_-]+\.db$`, so a name can never leave the
//! backups folder or collide with a partial copy. The leading `@` marks
//! scheduled backups (`@auto_lb_backup_…`, after PocketBase's `@auto_pb_backup_…`).

/// Whether `name` is an acceptable backup name.
///
/// ```
/// use litebase::backups::valid_name;
/// assert!(valid_name("lb_backup_20260102150405.db"));
/// assert!(!valid_name("../data.db"));
/// assert!(valid_name("@auto_lb_backup_poker_20260102150405.db"));
/// assert!(!valid_name("Backup.db"));
/// ```
pub fn valid_name(name: &str) -> bool {
    let Some(stem) = name.strip_suffix(".db") else {
        return false;
    };
    let stem = stem.strip_prefix('@').unwrap_or(stem);
    !stem.is_empty()
        && name.len() <= 150
        && stem
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// The name of a backup made now without a name: `lb_backup_YYYYMMDDHHMMSS.db`.
pub fn generated_name(now: time::OffsetDateTime) -> String {
    format!("lb_backup_{}.db", timestamp(now))
}

/// What every scheduled backup's name starts with.
pub const AUTO_PREFIX: &str = "@auto_lb_backup_";

/// The name of a scheduled backup of app `app_name` made at `now`:
/// `@auto_lb_backup_<app name in snake case>_YYYYMMDDHHMMSS.db`, as PocketBase
/// names its own (`@auto_pb_backup_…`).
pub fn auto_name(app_name: &str, now: time::OffsetDateTime) -> String {
    let mut snake = String::new();
    for c in app_name.chars() {
        if c.is_ascii_alphanumeric() {
            snake.push(c.to_ascii_lowercase());
        } else if !snake.ends_with('_') {
            snake.push('_');
        }
    }
    let snake: String = snake.trim_matches('_').chars().take(50).collect();
    format!("{AUTO_PREFIX}{snake}_{}.db", timestamp(now))
}

fn timestamp(now: time::OffsetDateTime) -> String {
    let t = now.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for bad in [
            "", ".db", "@.db", "@@a.db", "a@b.db", "a.DB", "a b.db", "a/b.db", "..db", "a.db.db",
            "a.sqlite", "é.db",
        ] {
            assert!(!valid_name(bad), "{bad:?}");
        }
        assert!(valid_name("nightly-2_x.db"));
        let t = time::macros::datetime!(2026-01-02 03:04:05 UTC);
        assert_eq!(generated_name(t), "lb_backup_20260102030405.db");
        let auto = auto_name("My Poker (prod)", t);
        assert_eq!(auto, "@auto_lb_backup_my_poker_prod_20260102030405.db");
        assert!(valid_name(&auto));
        assert!(valid_name(&auto_name("", t)));
    }
}
