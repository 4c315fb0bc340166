//! The running app's shared state: database, schema snapshot, secrets, hooks,
//! configuration. Handlers reach it as `web::Data<Core>`.

pub mod auth;
pub mod backups;
pub mod collections;
pub mod crons;
pub mod logs;
pub mod mfa;
pub mod oauth2;
pub mod settings;
pub mod totp;
pub mod webauthn;

use rusqlite::OptionalExtension;

use crate::config::Config;
use crate::db::migrate::MigrationSet;
use crate::db::{Db, DbError};
use crate::hooks::Hooks;
use crate::schema::{Schema, SchemaCache, store};

/// PocketBase's fixed id of the `_superusers` collection (the SDK does not rely on
/// it, but tokens carry it).
pub const SUPERUSERS_COLLECTION_ID: &str = "pbc_3142635823";

/// Prometheus text for `/api/metrics`, from an app.
pub type MetricsSource = std::sync::Arc<dyn Fn() -> String + Send + Sync>;

/// Everything a request may need, shared by every worker.
pub struct Core {
    /// The database.
    pub db: Db,
    /// Collections as of the last committed schema change.
    pub schema: std::sync::Arc<SchemaCache>,
    /// Every committed record change, to subscribe to (hooks and realtime do).
    pub changes: std::sync::Arc<crate::changes::ChangeStream>,
    /// The record service: every read and write of records goes through it.
    pub records: crate::records::service::Records,
    /// The configuration the app runs with.
    pub config: Config,
    /// Record hooks registered by the app.
    pub hooks: std::sync::Arc<Hooks>,
    /// Outgoing webhooks: their configuration and delivery log.
    pub webhooks: crate::webhooks::store::Webhooks,
    /// The app's migrations, where `--dev` records schema changes.
    pub app_migrations: Option<MigrationSet>,
    /// Per-IP limits on the auth endpoints.
    pub limiter: crate::auth::ratelimit::RateLimiter,
    metrics: std::sync::RwLock<Vec<MetricsSource>>,
    /// Realtime subscribers (SSE now, WebSocket rooms later).
    pub realtime: std::sync::Arc<crate::realtime::Realtime>,
    /// At most one password-reset mail per record every two minutes.
    pub mail_throttle: MailThrottle,
    mailer: std::sync::RwLock<crate::mail::Mailer>,
    /// The request log (see [`crate::logs`]).
    pub logs: crate::logs::RequestLog,
    /// The settings in force (see [`crate::settings`]).
    pub settings: crate::settings::LiveSettings,
    /// The scheduled jobs (see [`crons`]): `GET /api/crons` lists them.
    pub crons: std::sync::Arc<crate::cron::Crons>,
    /// The scheduled backup's work, set when serving starts.
    auto_backup: std::sync::OnceLock<crate::cron::JobFn>,
    after_restore: Vec<RestoreFn>,
}

/// A function an app runs after a backup was restored into the live database
/// (see [`crate::App::after_restore`]).
pub type RestoreFn = std::sync::Arc<dyn Fn(&Core) + Send + Sync>;

/// What an app adds to the core besides hooks and migrations.
#[derive(Default)]
pub struct CoreParts {
    /// Settings the app declared.
    pub settings: Vec<crate::settings::AppSetting>,
    /// Run after a restore.
    pub after_restore: Vec<RestoreFn>,
}

impl Core {
    /// Loads the schema and secrets from a migrated database.
    pub async fn load(
        db: Db,
        config: Config,
        mut hooks: Hooks,
        app_migrations: Option<MigrationSet>,
        mailer: crate::mail::Mailer,
        parts: CoreParts,
    ) -> Result<Core, DbError> {
        let (collections, secret, stored) = db
            .read(|conn| {
                let collections = store::load_all(conn)?;
                let stored = crate::settings::read_stored(conn)?;
                let secrets: Option<String> = conn
                    .query_row("SELECT value FROM _params WHERE id = 'secrets'", [], |r| {
                        r.get(0)
                    })
                    .optional()?;
                Ok::<_, DbError>((collections, secrets, stored))
            })
            .await?;
        let secret = secret
            .and_then(|s| serde_json::from_str::<serde_json::Value>(&s).ok())
            .and_then(|v| v["superusers"].as_str().map(str::to_string))
            .filter(|s| s.len() >= 32)
            .ok_or_else(|| DbError::Migration("the instance's token secret is missing".into()))?;
        let realtime_queue = config.serve.realtime_queue;
        let defaults = crate::settings::Settings::from_config(&config, &parts.settings);
        let settings = crate::settings::effective(&defaults, stored.as_ref(), &parts.settings);
        // Saved SMTP settings replace the flags'; the flags' mailer stays when
        // nothing was saved (or the saved settings cannot build one).
        let mailer = match stored {
            Some(_) => crate::settings::mailer_for(&settings).unwrap_or(mailer),
            None => mailer,
        };
        let logs = crate::logs::RequestLog::start(
            &config.global.data_dir.join("logs.db"),
            settings.logs.max_days,
            settings.logs.log_ip,
        );
        let schema = std::sync::Arc::new(SchemaCache::default());
        schema.replace(Schema::new(collections));
        let changes = crate::changes::ChangeStream::attach(&db)?;
        let webhooks = crate::webhooks::store::Webhooks::load(db.clone(), Default::default())
            .await
            .map_err(|e| DbError::Migration(format!("cannot load webhooks: {e}")))?;
        crate::webhooks::outbox::register(&mut hooks, webhooks.registry().clone());
        let hooks = std::sync::Arc::new(hooks);
        Hooks::follow(hooks.clone(), &changes).map_err(|e| DbError::Thread(e.to_string()))?;
        let files = std::sync::Arc::new(crate::files::Files::new(
            &config.global.data_dir,
            &settings.s3,
        ));
        clean_released_files(&changes, files.clone())?;
        let records = crate::records::service::Records::new(
            db.clone(),
            schema.clone(),
            hooks.clone(),
            secret.as_str().into(),
            files,
        );
        Ok(Core {
            webhooks,
            changes,
            records,
            db,
            schema,
            config,
            hooks,
            app_migrations,
            limiter: crate::auth::ratelimit::RateLimiter::new(settings.auth_limit()),
            mailer: std::sync::RwLock::new(mailer),
            mail_throttle: MailThrottle::default(),
            realtime: std::sync::Arc::new(crate::realtime::Realtime::new(realtime_queue)),
            metrics: Default::default(),
            logs,
            settings: crate::settings::LiveSettings::new(settings, parts.settings),
            crons: Default::default(),
            auto_backup: Default::default(),
            after_restore: parts.after_restore,
        })
    }

    /// The mailer in force (rebuilt when an admin changes the SMTP settings).
    pub fn mailer(&self) -> crate::mail::Mailer {
        match self.mailer.read() {
            Ok(m) => m.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The app's name in mails, as currently set.
    pub fn app_name(&self) -> String {
        self.settings.get().meta.app_name.clone()
    }

    /// The app's public URL (no trailing slash), the root of links in mails.
    pub fn app_url(&self) -> String {
        self.settings.get().meta.app_url.clone()
    }

    /// Puts saved settings in force: the mailer, the auth limiter, the request
    /// log, the backup schedule.
    pub(crate) fn apply_settings(
        &self,
        settings: crate::settings::Settings,
        mailer: crate::mail::Mailer,
    ) {
        self.limiter.set_per_minute(settings.auth_limit());
        self.logs
            .configure(settings.logs.max_days, settings.logs.log_ip);
        self.records.files().configure(&settings.s3);
        match self.mailer.write() {
            Ok(mut m) => *m = mailer,
            Err(poisoned) => *poisoned.into_inner() = mailer,
        }
        self.settings.replace(settings);
        self.follow_backup_schedule();
    }

    /// Runs the apps' after-restore functions.
    pub(crate) fn run_after_restore(&self) {
        for f in &self.after_restore {
            f(self);
        }
    }

    /// Extra metric families apps add (rooms, players…), rendered after litebase's.
    pub fn metrics_sources(&self) -> Vec<MetricsSource> {
        self.metrics.read().map(|m| m.clone()).unwrap_or_default()
    }

    /// Adds a metrics source: a function returning Prometheus text.
    pub fn add_metrics_source(&self, source: MetricsSource) {
        if let Ok(mut m) = self.metrics.write() {
            m.push(source);
        }
    }

    /// The client's address for `req`: the socket's peer, or what a trusted
    /// proxy's header says (see [`client_ip`]).
    pub fn client_ip(&self, req: &actix_web::HttpRequest) -> Option<std::net::IpAddr> {
        let settings = self.settings.get();
        crate::proxy::client_ip(
            req.peer_addr().map(|a| a.ip()),
            req.headers(),
            &settings.trusted_proxy,
            &self.config.serve.trusted_proxies,
        )
    }

    /// The scheme and host the client used for `req` (see [`origin`]): a trusted
    /// proxy's `Forwarded` / `X-Forwarded-Proto` / `X-Forwarded-Host`, else the
    /// request's own.
    pub fn origin(&self, req: &actix_web::HttpRequest) -> crate::proxy::Origin {
        let trusted = req
            .peer_addr()
            .is_some_and(|a| self.config.serve.trusted_proxies.contains(a.ip()));
        let config = req.app_config();
        let own_scheme = match req.uri().scheme_str() {
            Some(scheme) => scheme,
            None if config.secure() => "https",
            None => "http",
        };
        let own_host = req
            .headers()
            .get(actix_web::http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .or_else(|| req.uri().authority().map(|a| a.as_str()))
            .unwrap_or_else(|| config.host());
        crate::proxy::origin(trusted, req.headers(), own_scheme, own_host)
    }

    /// The secret tokens of `purpose` for records of a collection are signed with
    /// (together with each record's token key).
    pub fn token_secret(
        &self,
        collection_id: &str,
        purpose: crate::auth::token::Purpose,
    ) -> String {
        self.records.token_secret(collection_id, purpose)
    }
}

/// Removes the files committed writes let go of, on a thread of its own, in
/// commit order. Only committed writes announce released files (a rolled-back
/// one's announcement is dropped with its savepoint), so nothing a record still
/// names is ever removed; a crash before removal leaves the file as waste.
fn clean_released_files(
    changes: &crate::changes::ChangeStream,
    files: std::sync::Arc<crate::files::Files>,
) -> Result<(), DbError> {
    let mut released = changes.subscribe_released();
    std::thread::Builder::new()
        .name("files-cleaner".into())
        .spawn(move || {
            files.remove_stale_uploads();
            while let Some(batch) = released.blocking_recv() {
                files.remove_released(&batch);
            }
        })
        .map(|_| ())
        .map_err(|e| DbError::Thread(e.to_string()))
}

/// Remembers when a mail of a kind last went to a record, so repeated requests
/// cannot flood an inbox (PocketBase waits two minutes between reset mails).
#[derive(Default)]
pub struct MailThrottle {
    sent: std::sync::Mutex<
        std::collections::HashMap<(String, String, &'static str), std::time::Instant>,
    >,
}

impl MailThrottle {
    /// How long after a mail the next one of the same kind is skipped.
    pub const INTERVAL: std::time::Duration = std::time::Duration::from_secs(120);

    /// Whether a mail of `kind` may go to this record now (and notes that it does).
    pub fn allow(&self, collection: &str, record: &str, kind: &'static str) -> bool {
        let now = std::time::Instant::now();
        let mut sent = match self.sent.lock() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        };
        sent.retain(|_, at| now.duration_since(*at) < Self::INTERVAL);
        let key = (collection.to_string(), record.to_string(), kind);
        if sent.contains_key(&key) {
            return false;
        }
        sent.insert(key, now);
        true
    }
}
