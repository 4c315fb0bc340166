//! Backup file names: `^[a-z0-9_-]+\.db$`, so a name can never leave the
//! backups folder or collide with a partial copy.

/// Whether `name` is an acceptable backup name.
///
/// ```
/// use litebase::backups::valid_name;
/// assert!(valid_name("lb_backup_20260102150405.db"));
/// assert!(!valid_name("../data.db"));
/// assert!(!valid_name("Backup.db"));
/// ```
pub fn valid_name(name: &str) -> bool {
    let Some(stem) = name.strip_suffix(".db") else {
        return false;
    };
    !stem.is_empty()
        && name.len() <= 150
        && stem
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// The name of a backup made now without a name: `lb_backup_YYYYMMDDHHMMSS.db`.
pub fn generated_name(now: time::OffsetDateTime) -> String {
    let t = now.to_offset(time::UtcOffset::UTC);
    format!(
        "lb_backup_{:04}{:02}{:02}{:02}{:02}{:02}.db",
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
            "", ".db", "a.DB", "a b.db", "a/b.db", "..db", "a.db.db", "a.sqlite", "é.db",
        ] {
            assert!(!valid_name(bad), "{bad:?}");
        }
        assert!(valid_name("nightly-2_x.db"));
        let t = time::macros::datetime!(2026-01-02 03:04:05 UTC);
        assert_eq!(generated_name(t), "lb_backup_20260102030405.db");
    }
}
