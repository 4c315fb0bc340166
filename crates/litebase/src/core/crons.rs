//! The running app's cron jobs: the built-in ones (named like PocketBase's, so
//! `pb.crons.getFullList()` looks alike), the apps' own (`App::cron`), and the
//! scheduled backup that follows the `backups` settings.
//!
//! | Job | When | What |
//! |---|---|---|
//! | `__pbLogsCleanup__` | `0 */6 * * *` | deletes request logs past the retention |
//! | `__pbOTPCleanup__` | `0 * * * *` | deletes one-time codes past their collection's lifetime |
//! | `__pbDBOptimize__` | `0 0 * * *` | `PRAGMA optimize` and a WAL checkpoint |
//! | `__lbWebhooksCleanup__` | `30 * * * *` | forgets webhook deliveries done more than 7 days ago (litebase's own) |
//! | `__pbAutoBackup__` | `backups.cron` | a backup, then only the newest `backups.cronMaxKeep` kept |

use std::future::Future;
use std::sync::{Arc, Weak};

use super::Core;
use crate::cron::{JobFn, JobResult, ScheduleError};
use crate::db::DbError;

/// The scheduled backup's job id (PocketBase's).
pub const AUTO_BACKUP: &str = "__pbAutoBackup__";

/// What an app's job is given when it runs (on a thread of its own).
pub struct JobContext {
    core: Arc<Core>,
    runtime: tokio::runtime::Handle,
}

impl JobContext {
    /// The running app: database, records, settings.
    pub fn core(&self) -> &Core {
        &self.core
    }

    /// Waits for `future` (a database call, a record write) from the job's
    /// thread: the job is plain blocking code and the future runs with the
    /// server's runtime.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }
}

/// An app's job (see `App::cron`).
pub type AppJob = Arc<dyn Fn(&JobContext) -> JobResult + Send + Sync>;

/// A job an app declared: id, schedule and work.
#[derive(Clone)]
pub struct CronSpec {
    /// The job's id, as listed by `GET /api/crons`.
    pub id: String,
    /// Its cron expression.
    pub expression: String,
    /// Its work.
    pub job: AppJob,
}

/// Why the jobs could not be registered.
#[derive(Debug, thiserror::Error)]
#[error("cron job {id:?}: {error}")]
pub struct CronSetupError {
    id: String,
    error: ScheduleError,
}

/// Turns `work` into a job that runs with a [`JobContext`], or fails when the
/// server is gone.
fn job_of(core: &Weak<Core>, runtime: &tokio::runtime::Handle, work: AppJob) -> JobFn {
    let core = core.clone();
    let runtime = runtime.clone();
    Arc::new(move || {
        let core = core.upgrade().ok_or("the server has stopped")?;
        work(&JobContext {
            core,
            runtime: runtime.clone(),
        })
    })
}

/// Registers the built-in jobs, the apps' jobs and the scheduled backup, then
/// starts the ticker. Call once, inside the server's runtime.
pub fn install(core: &Arc<Core>, app_jobs: Vec<CronSpec>) -> Result<(), CronSetupError> {
    let weak = Arc::downgrade(core);
    let runtime = tokio::runtime::Handle::current();
    let builtin: [(&str, &str, AppJob); 4] = [
        ("__pbLogsCleanup__", "0 */6 * * *", Arc::new(logs_cleanup)),
        ("__pbOTPCleanup__", "0 * * * *", Arc::new(otp_cleanup)),
        ("__pbDBOptimize__", "0 0 * * *", Arc::new(db_optimize)),
        (
            "__lbWebhooksCleanup__",
            "30 * * * *",
            Arc::new(webhooks_cleanup),
        ),
    ];
    let all = builtin
        .into_iter()
        .map(|(id, expression, job)| CronSpec {
            id: id.into(),
            expression: expression.into(),
            job,
        })
        .chain(app_jobs);
    for spec in all {
        let job = job_of(&weak, &runtime, spec.job);
        core.crons
            .add(&spec.id, &spec.expression, job)
            .map_err(|error| CronSetupError { id: spec.id, error })?;
    }
    let _ = core
        .auto_backup
        .set(job_of(&weak, &runtime, Arc::new(auto_backup)));
    core.follow_backup_schedule();
    core.crons.start_ticker();
    Ok(())
}

impl Core {
    /// Puts the `backups.cron` setting in force: (re)registers or removes
    /// `__pbAutoBackup__`. Called at start and whenever settings are saved.
    pub(crate) fn follow_backup_schedule(&self) {
        let Some(job) = self.auto_backup.get() else {
            return; // Not serving (a CLI command): nothing is scheduled.
        };
        let cron = self.settings.get().backups.cron.clone();
        if cron.is_empty() {
            self.crons.remove(AUTO_BACKUP);
        } else if let Err(e) = self.crons.add(AUTO_BACKUP, &cron, job.clone()) {
            // Saved settings are validated: only a hand-edited database gets here.
            tracing::error!(error = %e, "scheduled backups are off: the saved schedule is invalid");
            self.crons.remove(AUTO_BACKUP);
        }
    }
}

fn logs_cleanup(ctx: &JobContext) -> JobResult {
    let days = ctx.core().settings.get().logs.max_days;
    crate::logs::prune_file(ctx.core().logs.path(), days)?;
    Ok(())
}

fn otp_cleanup(ctx: &JobContext) -> JobResult {
    let lifetimes: Vec<(String, u64)> = ctx
        .core()
        .schema
        .current()
        .all()
        .iter()
        .filter_map(|c| c.auth.as_ref().map(|a| (c.id.clone(), a.otp.duration)))
        .collect();
    let deleted = ctx.block_on(ctx.core().db.write(move |conn| {
        let mut deleted = 0;
        for (collection, seconds) in &lifetimes {
            deleted += conn.execute(
                "DELETE FROM _otps WHERE collectionRef = ?1 AND \
                 created < strftime('%Y-%m-%d %H:%M:%fZ', 'now', ?2)",
                rusqlite::params![collection, format!("-{seconds} seconds")],
            )?;
        }
        // Codes of collections that are gone (or no longer auth) are dead too.
        let ids: Vec<&str> = lifetimes.iter().map(|(id, _)| id.as_str()).collect();
        let ids = serde_json::to_string(&ids).map_err(|e| DbError::Thread(e.to_string()))?;
        deleted += conn.execute(
            "DELETE FROM _otps WHERE collectionRef NOT IN (SELECT value FROM json_each(?1))",
            [ids],
        )?;
        Ok::<_, DbError>(deleted)
    }))?;
    if deleted > 0 {
        tracing::info!(codes = deleted, "deleted expired one-time codes");
    }
    Ok(())
}

fn webhooks_cleanup(ctx: &JobContext) -> JobResult {
    let forgotten = ctx.block_on(ctx.core().webhooks.prune())?;
    if forgotten > 0 {
        tracing::info!(deliveries = forgotten, "forgot old webhook deliveries");
    }
    Ok(())
}

fn db_optimize(ctx: &JobContext) -> JobResult {
    ctx.block_on(ctx.core().db.exclusive(|conn| {
        for pragma in ["PRAGMA optimize", "PRAGMA wal_checkpoint(TRUNCATE)"] {
            let mut stmt = conn.prepare(pragma)?;
            let mut rows = stmt.query([])?;
            while rows.next()?.is_some() {}
        }
        Ok::<_, DbError>(())
    }))?;
    Ok(())
}

/// Makes a scheduled backup, then deletes the scheduled backups past the
/// newest `cronMaxKeep` (backups made by hand are never touched).
fn auto_backup(ctx: &JobContext) -> JobResult {
    let core = ctx.core();
    let settings = core.settings.get();
    let name = crate::backups::auto_name(&settings.meta.app_name, time::OffsetDateTime::now_utc());
    ctx.block_on(super::backups::create(core, Some(&name)))?;
    let keep = usize::try_from(settings.backups.cron_max_keep).unwrap_or(usize::MAX);
    if keep == 0 {
        return Ok(());
    }
    // Newest first: everything past the first `keep` goes.
    let old: Vec<String> = ctx
        .block_on(super::backups::list(core))?
        .into_iter()
        .filter(|b| b.key.starts_with(crate::backups::AUTO_PREFIX))
        .skip(keep)
        .map(|b| b.key)
        .collect();
    for key in old {
        ctx.block_on(super::backups::delete(core, &key))?;
        tracing::info!(backup = %key, "deleted an old scheduled backup");
    }
    tracing::info!(backup = %name, "scheduled backup made");
    Ok(())
}
