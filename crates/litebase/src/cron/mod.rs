//! Jobs run on a schedule (PocketBase's `app.Cron()`): a registry of jobs by
//! id, each with a [`Schedule`], and a ticker that wakes at the start of every
//! UTC minute and starts the jobs due then.
//!
//! A job runs on a thread of its own, never on the async runtime's threads, and
//! never twice at once: a job still running when it is due again (or asked to
//! run now) is skipped, and the skip is logged. A panic in a job is caught and
//! logged, and recorded as the job's last result.
//!
//! ```
//! let crons = litebase::cron::Crons::default();
//! crons.add("report", "@daily", std::sync::Arc::new(|| Ok(()))).unwrap();
//! assert_eq!(crons.list()[0].expression, "0 0 * * *");
//! ```

mod schedule;

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use time::OffsetDateTime;

pub use schedule::{Schedule, ScheduleError};

/// What a job returns: an error is logged and shown as its last result.
pub type JobResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// A job's work.
pub type JobFn = Arc<dyn Fn() -> JobResult + Send + Sync>;

/// Every registered job; cheap to share (`Arc<Crons>`).
#[derive(Default)]
pub struct Crons {
    jobs: RwLock<Vec<Arc<Job>>>,
}

struct Job {
    id: String,
    schedule: Schedule,
    work: JobFn,
    running: AtomicBool,
    last: Mutex<Option<LastRun>>,
}

/// How a job's last run went.
#[derive(Debug, Clone, PartialEq)]
pub struct LastRun {
    /// When it started (UTC).
    pub started: OffsetDateTime,
    /// How long it took, in milliseconds.
    pub millis: u128,
    /// `None` when it succeeded, else the error or the panic's message.
    pub error: Option<String>,
}

/// A job as listed: PocketBase's `{id, expression}`, plus what the admin page shows.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct JobInfo {
    /// The job's id.
    pub id: String,
    /// Its schedule, five fields (macros expanded, as PocketBase lists them).
    pub expression: String,
    /// When it is next due, if ever.
    #[serde(skip)]
    pub next: Option<OffsetDateTime>,
    /// Whether it is running now.
    #[serde(skip)]
    pub running: bool,
    /// Its last run since the server started.
    #[serde(skip)]
    pub last: Option<LastRun>,
}

/// What asking a job to run now did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Started {
    /// It started on a thread of its own.
    Yes,
    /// It was still running, so it was not started again.
    AlreadyRunning,
    /// No job has that id.
    Unknown,
}

impl Crons {
    /// Adds job `id` (replacing one of the same id) due on `expression`.
    pub fn add(&self, id: &str, expression: &str, work: JobFn) -> Result<(), ScheduleError> {
        let schedule = Schedule::parse(expression)?;
        let job = Arc::new(Job {
            id: id.to_string(),
            schedule,
            work,
            running: AtomicBool::new(false),
            last: Mutex::new(None),
        });
        let mut jobs = self.jobs.write().unwrap_or_else(|p| p.into_inner());
        match jobs.iter_mut().find(|j| j.id == id) {
            Some(slot) => *slot = job,
            None => jobs.push(job),
        }
        Ok(())
    }

    /// Removes job `id`, if there is one (a run in progress finishes).
    pub fn remove(&self, id: &str) {
        self.jobs
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|j| j.id != id);
    }

    /// Whether job `id` is running now.
    pub fn is_running(&self, id: &str) -> bool {
        self.find(id)
            .is_some_and(|j| j.running.load(Ordering::Acquire))
    }

    /// Whether job `id` is registered.
    pub fn contains(&self, id: &str) -> bool {
        self.find(id).is_some()
    }

    fn find(&self, id: &str) -> Option<Arc<Job>> {
        self.jobs
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .find(|j| j.id == id)
            .cloned()
    }

    /// Every job, in PocketBase's order: by id, the built-in `__…` jobs last.
    pub fn list(&self) -> Vec<JobInfo> {
        let now = OffsetDateTime::now_utc();
        let mut out: Vec<JobInfo> = self
            .jobs
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|j| JobInfo {
                id: j.id.clone(),
                expression: j.schedule.expression().to_string(),
                next: j.schedule.next_after(now),
                running: j.running.load(Ordering::Relaxed),
                last: j.last.lock().unwrap_or_else(|p| p.into_inner()).clone(),
            })
            .collect();
        out.sort_by(|a, b| (a.id.starts_with("__"), &a.id).cmp(&(b.id.starts_with("__"), &b.id)));
        out
    }

    /// Starts job `id` now on a thread of its own, without waiting for it.
    pub fn run(&self, id: &str) -> Started {
        match self.find(id) {
            Some(job) => start(job),
            None => Started::Unknown,
        }
    }

    /// Starts every job due in the minute of `at`.
    pub fn run_due(&self, at: OffsetDateTime) {
        let due: Vec<Arc<Job>> = self
            .jobs
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|j| j.schedule.is_due(at))
            .cloned()
            .collect();
        for job in due {
            start(job);
        }
    }

    /// Starts the ticker on the current tokio runtime: at the start of each
    /// UTC minute it runs the jobs due. It stops with the runtime.
    pub fn start_ticker(self: &Arc<Self>) {
        let crons = Arc::clone(self);
        tokio::spawn(async move {
            let mut last_minute = None;
            loop {
                let now = OffsetDateTime::now_utc();
                let into_minute =
                    std::time::Duration::new(u64::from(now.second()), now.nanosecond());
                let wait = std::time::Duration::from_secs(60).saturating_sub(into_minute);
                tokio::time::sleep(wait).await;
                let now = OffsetDateTime::now_utc();
                let Ok(minute) = now.replace_second(0).and_then(|t| t.replace_nanosecond(0)) else {
                    continue;
                };
                // A timer that fires a little early wakes in the previous minute:
                // that minute was already run (or is not over yet).
                if last_minute.is_some_and(|m| m >= minute) {
                    continue;
                }
                last_minute = Some(minute);
                crons.run_due(minute);
            }
        });
    }
}

/// Runs `job` on a new thread unless it is running already.
fn start(job: Arc<Job>) -> Started {
    if job.running.swap(true, Ordering::AcqRel) {
        tracing::warn!(job = %job.id, "cron job still running: this run is skipped");
        return Started::AlreadyRunning;
    }
    let thread_job = job.clone();
    let spawned = std::thread::Builder::new()
        .name(format!("cron {}", job.id))
        .spawn(move || execute(&thread_job));
    match spawned {
        Ok(_) => Started::Yes,
        Err(e) => {
            job.running.store(false, Ordering::Release);
            tracing::error!(job = %job.id, error = %e, "cannot start a thread for a cron job");
            Started::AlreadyRunning
        }
    }
}

/// Runs the job's work, catching a panic, and records how it went.
fn execute(job: &Job) {
    let started = OffsetDateTime::now_utc();
    let clock = std::time::Instant::now();
    let error = match std::panic::catch_unwind(AssertUnwindSafe(|| (job.work)())) {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(e.to_string()),
        Err(panic) => Some(format!("panicked: {}", panic_message(panic.as_ref()))),
    };
    let millis = clock.elapsed().as_millis();
    match &error {
        None => tracing::debug!(job = %job.id, millis, "cron job done"),
        Some(e) => tracing::error!(job = %job.id, millis, error = %e, "cron job failed"),
    }
    *job.last.lock().unwrap_or_else(|p| p.into_inner()) = Some(LastRun {
        started,
        millis,
        error,
    });
    job.running.store(false, Ordering::Release);
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
        let until = std::time::Instant::now() + Duration::from_secs(5);
        while !done() {
            assert!(std::time::Instant::now() < until, "timed out: {what}");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn last(crons: &Crons, id: &str) -> Option<LastRun> {
        crons
            .list()
            .into_iter()
            .find(|j| j.id == id)
            .and_then(|j| j.last)
    }

    #[test]
    fn jobs_list_by_id_with_the_builtin_ones_last() -> Result<(), ScheduleError> {
        let crons = Crons::default();
        let noop: JobFn = Arc::new(|| Ok(()));
        for id in ["__pbLogsCleanup__", "zeta", "__pbAutoBackup__", "alpha"] {
            crons.add(id, "@hourly", noop.clone())?;
        }
        crons.add("alpha", "*/5 * * * *", noop.clone())?;
        let listed: Vec<(String, String)> = crons
            .list()
            .into_iter()
            .map(|j| (j.id, j.expression))
            .collect();
        let hourly = "0 * * * *".to_string();
        assert_eq!(
            listed,
            vec![
                ("alpha".into(), "*/5 * * * *".into()),
                ("zeta".into(), hourly.clone()),
                ("__pbAutoBackup__".into(), hourly.clone()),
                ("__pbLogsCleanup__".into(), hourly),
            ]
        );
        crons.remove("zeta");
        assert!(!crons.contains("zeta"));
        assert!(crons.add("bad", "* * *", noop).is_err());
        assert!(!crons.contains("bad"));
        Ok(())
    }

    #[test]
    fn a_job_never_overlaps_itself() -> Result<(), ScheduleError> {
        let crons = Crons::default();
        let (release, gate) = std::sync::mpsc::channel::<()>();
        let gate = Mutex::new(gate);
        let runs = Arc::new(AtomicUsize::new(0));
        let counted = runs.clone();
        crons.add(
            "slow",
            "* * * * *",
            Arc::new(move || {
                counted.fetch_add(1, Ordering::SeqCst);
                let _ = gate.lock().map(|g| g.recv());
                Ok(())
            }),
        )?;
        assert_eq!(crons.run("slow"), Started::Yes);
        wait_until("the first run starts", || runs.load(Ordering::SeqCst) == 1);
        assert_eq!(crons.run("slow"), Started::AlreadyRunning);
        crons.run_due(OffsetDateTime::now_utc());
        assert_eq!(
            runs.load(Ordering::SeqCst),
            1,
            "no second run while running"
        );
        let _ = release.send(());
        wait_until("the run ends", || last(&crons, "slow").is_some());
        assert_eq!(crons.run("slow"), Started::Yes);
        wait_until("the second run starts", || runs.load(Ordering::SeqCst) == 2);
        let _ = release.send(());
        assert_eq!(crons.run("missing"), Started::Unknown);
        Ok(())
    }

    #[test]
    fn panics_and_errors_are_caught_and_recorded() -> Result<(), ScheduleError> {
        let crons = Crons::default();
        crons.add("boom", "@daily", Arc::new(|| panic!("out of cheese")))?;
        crons.add("fails", "@daily", Arc::new(|| Err("disk full".into())))?;
        crons.run("boom");
        crons.run("fails");
        wait_until("both ran", || {
            last(&crons, "boom").is_some() && last(&crons, "fails").is_some()
        });
        let error = |id| last(&crons, id).and_then(|l| l.error);
        assert_eq!(error("boom").as_deref(), Some("panicked: out of cheese"));
        assert_eq!(error("fails").as_deref(), Some("disk full"));
        assert_eq!(crons.run("boom"), Started::Yes, "a panicked job runs again");
        Ok(())
    }

    #[test]
    fn only_due_jobs_run() -> Result<(), ScheduleError> {
        let crons = Crons::default();
        crons.add("nine", "0 9 * * *", Arc::new(|| Ok(())))?;
        crons.add("ten", "0 10 * * *", Arc::new(|| Ok(())))?;
        crons.run_due(time::macros::datetime!(2026-12-04 09:00 UTC));
        wait_until("nine ran", || last(&crons, "nine").is_some());
        assert!(last(&crons, "ten").is_none());
        Ok(())
    }
}
