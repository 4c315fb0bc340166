//! Where file bytes live, behind one small blocking interface ([`Storage`]):
//! the data directory ([`Local`], `<data>/storage/<key>`) or an S3-compatible
//! bucket ([`super::s3::S3Storage`]). Keys are `collectionId/recordId/name`
//! (thumbs: `collectionId/recordId/thumbs_name/WxH_name`), built only from ids
//! and names that were checked. Callers run these methods off the async
//! runtime (`spawn_blocking`).

use std::fs::File;
use std::io::{self, Read, Seek};
use std::path::{Component, Path, PathBuf};
use std::time::SystemTime;

/// A stored file opened for reading.
pub struct Object {
    /// Its bytes, read as they are sent.
    pub reader: Box<dyn Read + Send>,
    /// Its size in bytes.
    pub size: u64,
    /// Its content type as detected when it was stored.
    pub content_type: String,
    /// When it was last written, for `Last-Modified`.
    pub modified: Option<SystemTime>,
}

/// A place to keep files: local disk or a bucket.
pub trait Storage: Send + Sync {
    /// Stores the file at `src` (a finished upload) under `key`.
    fn put_file(&self, key: &str, src: &Path, content_type: &str) -> io::Result<()>;
    /// Stores `bytes` under `key` (thumbs, which are small).
    fn put_bytes(&self, key: &str, bytes: &[u8], content_type: &str) -> io::Result<()>;
    /// Opens the file under `key`; `None` if there is none.
    fn get(&self, key: &str) -> io::Result<Option<Object>>;
    /// Opens `len` bytes of the file under `key` from byte `start` (a `Range`
    /// request); the object's `size` stays the whole file's.
    fn get_range(&self, key: &str, start: u64, len: u64) -> io::Result<Option<Object>>;
    /// Whether a file exists under `key`.
    fn exists(&self, key: &str) -> io::Result<bool>;
    /// Removes the file under `key` (nothing there is fine).
    fn delete(&self, key: &str) -> io::Result<()>;
    /// Removes every file whose key starts with `prefix` (ends with `/`).
    fn delete_prefix(&self, prefix: &str) -> io::Result<()>;
    /// Checks that the storage can be reached and written (the settings' test).
    fn check(&self) -> io::Result<()>;
}

/// Files under a directory of the local disk.
pub struct Local {
    root: PathBuf,
}

impl Local {
    /// Storage rooted at `root` (created when first written).
    pub fn new(root: PathBuf) -> Self {
        Local { root }
    }

    /// The path of `key`, refusing anything that could leave the root.
    fn path(&self, key: &str) -> io::Result<PathBuf> {
        let rel = Path::new(key.trim_end_matches('/'));
        let plain = !key.is_empty()
            && !key.contains('\\')
            && rel.components().all(|c| matches!(c, Component::Normal(_)));
        if !plain {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "bad storage key",
            ));
        }
        Ok(self.root.join(rel))
    }

    /// Runs `write` for `dst` after making its folder; once more if a cleanup of
    /// an emptied folder removed it in between.
    fn with_parent(dst: &Path, write: impl Fn() -> io::Result<()>) -> io::Result<()> {
        let parent = dst.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent)?;
        match write() {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                std::fs::create_dir_all(parent)?;
                write()
            }
            other => other,
        }
    }
}

impl Storage for Local {
    fn put_file(&self, key: &str, src: &Path, _content_type: &str) -> io::Result<()> {
        let dst = self.path(key)?;
        // A hard link when the upload is on the same disk (no copy), else a copy.
        Self::with_parent(&dst, || match std::fs::hard_link(src, &dst) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(e),
            Err(_) => std::fs::copy(src, &dst).map(|_| ()),
        })
    }

    fn put_bytes(&self, key: &str, bytes: &[u8], _content_type: &str) -> io::Result<()> {
        let dst = self.path(key)?;
        // Written aside, then renamed, so a reader never sees half a thumb.
        let tmp = dst.with_extension(format!("part{}", super::name::random_suffix(6)));
        Self::with_parent(&dst, || std::fs::write(&tmp, bytes))?;
        std::fs::rename(&tmp, &dst).inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })
    }

    fn get(&self, key: &str) -> io::Result<Option<Object>> {
        let mut file = match File::open(self.path(key)?) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Ok(None);
        }
        let mut head = Vec::with_capacity(super::sniff::SNIFF_LEN);
        (&mut file)
            .take(super::sniff::SNIFF_LEN as u64)
            .read_to_end(&mut head)?;
        file.rewind()?;
        Ok(Some(Object {
            reader: Box::new(file),
            size: meta.len(),
            content_type: super::sniff::content_type(&head),
            modified: meta.modified().ok(),
        }))
    }

    fn get_range(&self, key: &str, start: u64, len: u64) -> io::Result<Option<Object>> {
        let Some(mut object) = self.get(key)? else {
            return Ok(None);
        };
        let mut file = File::open(self.path(key)?)?;
        file.seek(io::SeekFrom::Start(start))?;
        object.reader = Box::new(file.take(len));
        Ok(Some(object))
    }

    fn exists(&self, key: &str) -> io::Result<bool> {
        Ok(self.path(key)?.is_file())
    }

    fn delete(&self, key: &str) -> io::Result<()> {
        let path = self.path(key)?;
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        // The record's folder goes once its last file did (fails while not empty).
        if let Some(parent) = path.parent().filter(|p| *p != self.root) {
            let _ = std::fs::remove_dir(parent);
        }
        Ok(())
    }

    fn delete_prefix(&self, prefix: &str) -> io::Result<()> {
        match std::fs::remove_dir_all(self.path(prefix)?) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    fn check(&self) -> io::Result<()> {
        std::fs::create_dir_all(&self.root)
    }
}

/// One byte range a download asks for (`Range: bytes=…`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// `bytes=START-` or `bytes=START-END` (END included).
    From(u64, Option<u64>),
    /// `bytes=-N`: the last N bytes.
    Last(u64),
}

impl ByteRange {
    /// Reads a `Range` header with one range; `None` for anything else (several
    /// ranges or another unit get the whole file, as HTTP allows).
    ///
    /// ```
    /// use litebase::files::storage::ByteRange;
    /// assert_eq!(ByteRange::parse("bytes=5-9"), Some(ByteRange::From(5, Some(9))));
    /// assert_eq!(ByteRange::parse("bytes=-3").and_then(|r| r.resolve(10)), Some((7, 3)));
    /// ```
    pub fn parse(header: &str) -> Option<ByteRange> {
        let spec = header.trim().strip_prefix("bytes=")?.trim();
        if spec.contains(',') {
            return None;
        }
        let (a, b) = spec.split_once('-')?;
        let num = |s: &str| s.trim().parse::<u64>().ok();
        match (a.trim().is_empty(), b.trim().is_empty()) {
            (true, false) => num(b).map(ByteRange::Last),
            (false, true) => num(a).map(|a| ByteRange::From(a, None)),
            (false, false) => match (num(a), num(b)) {
                (Some(a), Some(b)) if a <= b => Some(ByteRange::From(a, Some(b))),
                _ => None,
            },
            (true, true) => None,
        }
    }

    /// The (start, length) of this range in a file of `size` bytes; `None` when
    /// it is unsatisfiable (416).
    pub fn resolve(self, size: u64) -> Option<(u64, u64)> {
        match self {
            ByteRange::From(start, _) if start >= size => None,
            ByteRange::From(start, end) => {
                let end = end.map_or(size - 1, |e| e.min(size - 1));
                Some((start, end - start + 1))
            }
            ByteRange::Last(0) => None,
            ByteRange::Last(n) => {
                let n = n.min(size);
                (n > 0).then(|| (size - n, n))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_ranges() {
        assert_eq!(ByteRange::parse("bytes=0-"), Some(ByteRange::From(0, None)));
        for bad in [
            "",
            "bytes=",
            "bytes=-",
            "bytes=5-1",
            "items=0-1",
            "bytes=0-1,3-4",
            "bytes=a-b",
        ] {
            assert_eq!(ByteRange::parse(bad), None, "{bad}");
        }
        assert_eq!(ByteRange::From(2, Some(100)).resolve(10), Some((2, 8)));
        assert_eq!(ByteRange::From(10, None).resolve(10), None);
        assert_eq!(ByteRange::Last(20).resolve(10), Some((0, 10)));
        assert_eq!(ByteRange::Last(0).resolve(10), None);
        assert_eq!(ByteRange::From(0, None).resolve(0), None);
    }

    #[test]
    fn local_keys_stay_under_the_root() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let local = Local::new(dir.path().join("storage"));
        for bad in ["", "../x", "a/../../x", "/etc/passwd", "a\\..\\x"] {
            assert!(local.path(bad).is_err(), "{bad}");
        }
        local.put_bytes("c/r/a.txt", b"hello", "text/plain")?;
        let mut obj = local.get("c/r/a.txt")?.ok_or(io::ErrorKind::NotFound)?;
        let mut text = String::new();
        obj.reader.read_to_string(&mut text)?;
        assert_eq!((text.as_str(), obj.size), ("hello", 5));
        assert_eq!(obj.content_type, "text/plain; charset=utf-8");
        local.put_bytes("c/r/thumbs_a.txt/1x1_a.txt", b"t", "text/plain")?;
        local.delete_prefix("c/r/thumbs_a.txt/")?;
        local.delete("c/r/a.txt")?;
        assert!(
            !dir.path().join("storage/c/r").exists(),
            "empty folder removed"
        );
        assert!(local.get("c/r/a.txt")?.is_none());
        local.delete("c/r/a.txt")?;
        Ok(())
    }
}
