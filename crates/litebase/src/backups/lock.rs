//! The data directory's lock: `serve` holds it for its whole run, so the CLI's
//! `backup restore` can tell that a server is using the database and refuse
//! (restoring under a running server would leave it serving stale state).

use std::fs::File;
use std::path::Path;

/// An advisory lock on `<data dir>/.lock`, released when dropped.
#[derive(Debug)]
pub struct DirLock {
    _file: File,
}

/// Takes the lock without waiting; `Ok(None)` when another process holds it.
pub fn try_lock(data_dir: &Path) -> std::io::Result<Option<DirLock>> {
    std::fs::create_dir_all(data_dir)?;
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(data_dir.join(".lock"))?;
    if lock_exclusive(&file)? {
        Ok(Some(DirLock { _file: file }))
    } else {
        Ok(None)
    }
}

#[cfg(unix)]
fn lock_exclusive(file: &File) -> std::io::Result<bool> {
    use std::os::fd::AsRawFd;
    // SAFETY: flock on a descriptor this function borrows; no memory is shared.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc == 0 {
        return Ok(true);
    }
    let err = std::io::Error::last_os_error();
    if err.kind() == std::io::ErrorKind::WouldBlock {
        Ok(false)
    } else {
        Err(err)
    }
}

#[cfg(not(unix))]
fn lock_exclusive(_file: &File) -> std::io::Result<bool> {
    Ok(true)
}
