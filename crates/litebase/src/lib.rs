//! litebase: an embedded backend framework in the PocketBase mold — SQLite with one
//! group-committing writer, SQL migrations, auth, and a PocketBase-compatible API.
//!
//! An app is a binary that builds an [`App`], adds its migrations and routes, and
//! hands control to the CLI:
//!
//! ```no_run
//! mod embedded {
//!     refinery::embed_migrations!("migrations");
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     litebase::App::new("myapp")
//!         .migrations(embedded::migrations::runner)
//!         .run()
//! }
//! ```

pub mod admin;
pub mod api;
pub mod assets;
pub mod auth;
pub mod backups;
pub mod changes;
pub mod cli;
pub mod config;
pub mod cookie;
pub mod core;
pub mod cron;
pub mod db;
pub mod error;
pub mod files;
pub mod healthcheck;
pub mod hooks;
pub mod id;
pub mod lang;
pub mod logs;
pub mod mail;
pub mod metrics;
pub mod oauth2;
pub mod outbound;
pub mod proxy;
pub mod query;
pub mod realtime;
pub mod records;
pub mod schema;
pub mod server;
pub mod settings;
#[cfg(feature = "testing")]
pub mod testing;
pub mod webhooks;

use std::ffi::OsString;
use std::process::ExitCode;
use std::sync::Arc;

use actix_web::web;

pub use config::Config;
pub use db::Db;
pub use error::ApiError;

use db::migrate::MigrationSet;

mod system_migrations {
    refinery::embed_migrations!("migrations");
}

/// History table of litebase's own migrations.
pub const SYSTEM_MIGRATIONS_TABLE: &str = "_litebase_migrations";
/// History table of the app's migrations.
pub const APP_MIGRATIONS_TABLE: &str = "_app_migrations";

/// litebase's own migrations.
pub(crate) fn system_migration_set() -> MigrationSet {
    MigrationSet {
        label: "system",
        table: SYSTEM_MIGRATIONS_TABLE,
        runner: system_migrations::migrations::runner,
    }
}

/// An application built on litebase: its name, migrations and extra routes.
pub struct App {
    name: &'static str,
    version: &'static str,
    about: &'static str,
    app_migrations: Option<MigrationSet>,
    routes: Vec<server::RouteFn>,
    hooks: hooks::Hooks,
    on_serve: Vec<server::ServeFn>,
    settings: Vec<settings::AppSetting>,
    after_restore: Vec<core::RestoreFn>,
    crons: Vec<core::crons::CronSpec>,
}

impl App {
    /// A new app; `name` is its command name in help and logs.
    pub fn new(name: &'static str) -> Self {
        Self {
            name,
            version: env!("CARGO_PKG_VERSION"),
            about: "An embedded backend on SQLite.",
            app_migrations: None,
            routes: Vec::new(),
            hooks: hooks::Hooks::default(),
            on_serve: Vec::new(),
            settings: Vec::new(),
            after_restore: Vec::new(),
            crons: Vec::new(),
        }
    }

    /// The version `--version` prints (pass your crate's `env!("CARGO_PKG_VERSION")`).
    pub fn version(mut self, version: &'static str) -> Self {
        self.version = version;
        self
    }

    /// The one-line description `--help` prints.
    pub fn about(mut self, about: &'static str) -> Self {
        self.about = about;
        self
    }

    /// The app's SQL migrations, as embedded by `refinery::embed_migrations!`. They
    /// run after litebase's own, with their own history table.
    pub fn migrations(mut self, runner: fn() -> refinery::Runner) -> Self {
        self.app_migrations = Some(MigrationSet {
            label: "app",
            table: APP_MIGRATIONS_TABLE,
            runner,
        });
        self
    }

    /// Extra routes: pages, WebSocket endpoints, custom APIs. Handlers reach the
    /// app through `web::Data<litebase::core::Core>` (records through
    /// `core.records`, so rules, hooks and realtime apply) or the bare database
    /// through `web::Data<litebase::Db>`.
    pub fn routes(
        mut self,
        configure: impl Fn(&mut web::ServiceConfig) + Send + Sync + 'static,
    ) -> Self {
        self.routes.push(Arc::new(configure));
        self
    }

    /// Runs `f` once when `serve` starts: inside the server's async runtime, after
    /// migrations ran and the [`core::Core`] (database, schema, metrics) is ready,
    /// before the first request. Use it to start background tasks (spawn them
    /// with `actix_web::rt::spawn` or `tokio::spawn`) or to register metrics
    /// sources. Not run by the other commands (`migrate`, `superuser`).
    ///
    /// ```no_run
    /// litebase::App::new("myapp").on_serve(|core| {
    ///     let db = core.db.clone();
    ///     actix_web::rt::spawn(async move {
    ///         let _ = db; // periodic clean-up, say
    ///     });
    /// });
    /// ```
    pub fn on_serve(mut self, f: impl Fn(&web::Data<core::Core>) + Send + Sync + 'static) -> Self {
        self.on_serve.push(Arc::new(f));
        self
    }

    /// Declares a setting of the app, editable by admins under `apps` in
    /// `/api/settings`; read its current value with
    /// `core.settings.app_int(key)` (changes apply without a restart).
    ///
    /// ```no_run
    /// use litebase::settings::{AppSetting, SettingKind};
    /// litebase::App::new("myapp").setting(AppSetting {
    ///     key: "myapp.pageSize",
    ///     label_en: "Page size",
    ///     label_fr: "Taille de page",
    ///     kind: SettingKind::Integer { min: 1, max: 500 },
    ///     default: serde_json::json!(50),
    /// });
    /// ```
    pub fn setting(mut self, setting: settings::AppSetting) -> Self {
        self.settings.push(setting);
        self
    }

    /// Runs `f` after a backup was restored into the running database (schema
    /// reloaded, migrations applied), so the app can drop what it keeps in
    /// memory about the old rows (poker closes its live rooms).
    pub fn after_restore(mut self, f: impl Fn(&core::Core) + Send + Sync + 'static) -> Self {
        self.after_restore.push(Arc::new(f));
        self
    }

    /// Adds a job run on a schedule while the server runs: `expression` is a
    /// five-field cron expression in UTC (`"*/10 * * * *"`) or a macro
    /// (`@hourly`, `@daily`, `@weekly`, `@monthly`, `@yearly`). The job runs on a
    /// thread of its own, never twice at once; a panic or an error is logged.
    /// Superusers see it in `GET /api/crons` and the admin's Crons page, and
    /// can run it at once (`POST /api/crons/{id}`). A job with the id of an
    /// earlier one replaces it; an invalid expression stops `serve` with an error.
    ///
    /// ```no_run
    /// litebase::App::new("myapp").cron("purgeDrafts", "0 3 * * *", |ctx| {
    ///     // Plain blocking code on the job's thread; `block_on` awaits the
    ///     // record service, so hooks and realtime see the deletes.
    ///     ctx.block_on(ctx.core().records.app_write("myapp", |tx| {
    ///         let old: Vec<String> = tx
    ///             .conn()
    ///             .prepare("SELECT id FROM drafts WHERE created < date('now', '-30 days')")?
    ///             .query_map([], |r| r.get(0))?
    ///             .collect::<Result<_, _>>()?;
    ///         for id in old {
    ///             tx.delete("drafts", &id)?;
    ///         }
    ///         Ok::<_, litebase::records::RecordError>(())
    ///     }))?;
    ///     Ok(())
    /// });
    /// ```
    pub fn cron(
        mut self,
        id: &str,
        expression: &str,
        job: impl Fn(&core::crons::JobContext) -> cron::JobResult + Send + Sync + 'static,
    ) -> Self {
        self.crons.retain(|c| c.id != id);
        self.crons.push(core::crons::CronSpec {
            id: id.to_string(),
            expression: expression.to_string(),
            job: Arc::new(job),
        });
        self
    }

    /// Adds a record hook (see [`hooks`]): runs inside the write's transaction,
    /// may change the record or abort the write.
    pub fn on_record(
        mut self,
        action: hooks::RecordAction,
        collection: Option<&str>,
        f: impl Fn(&mut hooks::RecordEvent<'_>, hooks::Next<'_>) -> Result<(), ApiError>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        self.hooks.on(action, collection, f);
        self
    }

    /// Adds a hook that runs once a record change has committed.
    pub fn after_commit(
        mut self,
        action: hooks::RecordAction,
        collection: Option<&str>,
        f: impl Fn(&hooks::RecordChange) + Send + Sync + 'static,
    ) -> Self {
        self.hooks.after_commit(action, collection, f);
        self
    }

    /// Adds a hook that runs once a record change has committed, for changes
    /// made by anyone but this app's own writes through
    /// `core.records.app_write(app, …)` (its live state already holds those).
    pub fn after_commit_of_others(
        mut self,
        app: &'static str,
        action: hooks::RecordAction,
        collection: Option<&str>,
        f: impl Fn(&hooks::RecordChange) + Send + Sync + 'static,
    ) -> Self {
        self.hooks
            .after_commit_of_others(app, action, collection, f);
        self
    }

    /// Every migration set, system first.
    pub fn migration_sets(&self) -> Vec<MigrationSet> {
        std::iter::once(system_migration_set())
            .chain(self.app_migrations)
            .collect()
    }

    /// Runs the command given on the process's command line.
    pub fn run(self) -> ExitCode {
        self.run_from(std::env::args_os())
    }

    /// Runs the command given in `args` (program name first).
    pub fn run_from(self, args: impl IntoIterator<Item = impl Into<OsString>>) -> ExitCode {
        cli::run(self, args.into_iter().map(Into::into))
    }
}
