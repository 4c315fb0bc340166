//! A real SMTP server for tests: `smtp_sink.py` (aiosmtpd) on 127.0.0.1, whose
//! caught mails are read back as JSON. Used by the mailer's tests and by the
//! flows that need a mailed code (OTP as a factor of MFA).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use litebase::mail::MailConfig;
use serde_json::Value;

/// A running `tests/support/smtp_sink.py`; killed on drop.
pub struct SmtpSink {
    child: Child,
    /// Its SMTP port on 127.0.0.1.
    pub port: u16,
    /// Where it writes what it caught.
    pub out: tempfile::TempDir,
}

impl SmtpSink {
    /// Starts the sink (`extra_args`: `--auth U:P`, `--tls starttls|tls`).
    pub fn start(extra_args: &[&str]) -> SmtpSink {
        ensure_aiosmtpd();
        let out = tempfile::tempdir().expect("temp dir for caught mails");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_sink.py");
        let mut child = Command::new("python3")
            .arg(&script)
            .arg("--out")
            .arg(out.path())
            .args(extra_args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start python3 tests/support/smtp_sink.py");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("smtp_sink.py did not print its port within 30 s"));
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("smtp_sink.py failed to start (printed {line:?})"));
        SmtpSink { child, port, out }
    }

    /// A mailer configuration that sends to this sink.
    pub fn config(&self) -> MailConfig {
        MailConfig {
            host: Some("127.0.0.1".into()),
            port: self.port,
            sender_address: "no-reply@acme.test".into(),
            sender_name: "Acme Équipe".into(),
            ..MailConfig::default()
        }
    }

    /// The caught mails, oldest first, waiting up to 10 s for `count` of them.
    pub fn wait_for(&self, count: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let mails = caught(self.out.path());
            if mails.len() >= count || Instant::now() > deadline {
                return mails;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The mails caught in `dir`, oldest first.
pub fn caught(dir: &Path) -> Vec<Value> {
    let mut files: Vec<(u64, PathBuf)> = std::fs::read_dir(dir)
        .expect("read the sink's dir")
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            let seq = path.file_stem()?.to_str()?.parse().ok()?;
            (path.extension()? == "json").then_some((seq, path))
        })
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|(_, path)| {
            let text = std::fs::read_to_string(&path).expect("read a caught mail");
            serde_json::from_str(&text).expect("caught mail is JSON")
        })
        .collect()
}

/// aiosmtpd is the real SMTP server these tests talk to: install it if missing,
/// fail loudly if that is impossible (never skip silently).
pub fn ensure_aiosmtpd() {
    let importable = || {
        Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if importable() {
        return;
    }
    let installed = Command::new("python3")
        .args(["-m", "pip", "install", "--quiet", "aiosmtpd"])
        .status();
    assert!(
        importable(),
        "the mail tests need python3 with aiosmtpd; `python3 -m pip install aiosmtpd` \
         failed ({installed:?}): install it by hand and rerun"
    );
}
