//! The command line: `serve`, `migrate up|status|new`, `superuser upsert|delete`,
//! `backup create|list|restore`, `healthcheck`.
//! Errors end as one line on stderr and a non-zero exit code, never a panic.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::App;
use crate::auth::AuthError;
use crate::config::{Config, GlobalConfig, ServeConfig};
use crate::db::migrate::{self, MigrationState};
use crate::db::{Db, DbError};
use crate::healthcheck::{self, HealthError, HealthUrl};
use crate::records::superusers;

#[derive(Debug, Parser)]
#[command(propagate_version = true)]
struct Cli {
    #[command(flatten)]
    global: GlobalConfig,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start the web server (pending migrations are applied first).
    Serve(Box<ServeConfig>),
    /// Apply, list or create database migrations.
    Migrate {
        #[command(subcommand)]
        action: MigrateCommand,
    },
    /// Create, update or delete superuser accounts.
    Superuser {
        #[command(subcommand)]
        action: SuperuserCommand,
    },
    /// Create, list or restore backups of the database (in DIR/backups).
    Backup {
        #[command(subcommand)]
        action: BackupCommand,
    },
    /// Check that a running server answers: GET its /api/health and exit 0 on a
    /// 2xx answer within 5 s, else print why and exit 1 (for container
    /// HEALTHCHECKs: needs no shell or curl). Touches no data directory.
    Healthcheck {
        /// The URL to GET, http:// only (default: http://ADDR/api/health from
        /// --http, with 0.0.0.0 or [::] read as loopback).
        #[arg(long, value_parser = parse_health_url)]
        url: Option<HealthUrl>,
        /// The address the server listens on, as given to `serve --http`.
        #[arg(long, env = "LITEBASE_HTTP", default_value = "127.0.0.1:8090")]
        http: String,
    },
}

fn parse_health_url(text: &str) -> Result<HealthUrl, String> {
    text.parse().map_err(|e: HealthError| e.to_string())
}

/// Runs `healthcheck`: one line on stdout when healthy, one on stderr (and
/// exit 1) when not.
fn run_healthcheck(url: Option<HealthUrl>, http: &str) -> ExitCode {
    let checked = url
        .map(Ok)
        .unwrap_or_else(|| healthcheck::default_url(http))
        .and_then(|url| healthcheck::check(&url, healthcheck::TIMEOUT).map(|status| (url, status)));
    match checked {
        Ok((url, status)) => {
            println!("OK: {url} answered {status}");
            ExitCode::SUCCESS
        }
        Err(err @ HealthError::Usage(_)) => {
            eprintln!("Error: {err}");
            ExitCode::FAILURE
        }
        Err(err) => {
            eprintln!("Error: unhealthy: {err}");
            ExitCode::FAILURE
        }
    }
}

#[derive(Debug, Subcommand)]
enum BackupCommand {
    /// Copy the database to DIR/backups/NAME (safe while a server runs).
    Create {
        /// File name, lowercase letters, digits, '_' and '-', ending in .db
        /// (default: lb_backup_YYYYMMDDHHMMSS.db).
        name: Option<String>,
    },
    /// List the backups, newest first.
    List,
    /// Replace the database with a backup. The server must be stopped; to
    /// restore while it runs, use the admin's Backups page (or
    /// POST /api/backups/NAME/restore).
    Restore {
        /// The backup's file name, as `backup list` shows it.
        name: String,
    },
}

#[derive(Debug, Subcommand)]
enum MigrateCommand {
    /// Apply every pending migration.
    Up,
    /// List every migration with its state (applied or pending).
    Status,
    /// Create the next numbered, empty SQL migration file in the migrations folder.
    New {
        /// What the migration does, in lowercase_with_underscores (e.g. add_rooms).
        name: String,
    },
}

#[derive(Debug, Subcommand)]
enum SuperuserCommand {
    /// Create a superuser, or set a new password for an existing one.
    Upsert {
        /// The account's email address.
        email: String,
        /// The password (at least 8 characters).
        password: String,
    },
    /// Delete a superuser.
    Delete {
        /// The account's email address.
        email: String,
    },
}

/// Why a command failed; printed as one line.
#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("{0}")]
    Auth(#[from] AuthError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Backup(#[from] crate::backups::BackupError),
}

/// Parses `args` (program name first) and runs the command.
pub fn run(app: App, args: impl IntoIterator<Item = OsString>) -> ExitCode {
    run_embedded(app, args, None)
}

/// [`run`], with a `serve` driven by `embedding` instead of the process's signals
/// (see [`crate::server::Embedding`]): how a test runs the server on a thread of
/// its own process.
pub fn run_embedded(
    app: App,
    args: impl IntoIterator<Item = OsString>,
    embedding: Option<crate::server::Embedding>,
) -> ExitCode {
    let command = Cli::command()
        .name(app.name)
        .bin_name(app.name)
        .version(app.version)
        .about(app.about);
    let cli = match command
        .try_get_matches_from(args)
        .and_then(|m| Cli::from_arg_matches(&m))
    {
        Ok(cli) => cli,
        Err(err) => {
            // Help and --version land here too, with exit code 0.
            let _ = err.print();
            return ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(2));
        }
    };
    // Before any runtime or log setup: the check is one blocking request.
    if let Command::Healthcheck { url, http } = cli.command {
        return run_healthcheck(url, &http);
    }
    if let Err(message) = init_tracing(&cli.global.log_level) {
        eprintln!("Error: {message}");
        return ExitCode::FAILURE;
    }
    let outcome = actix_web::rt::System::new().block_on(dispatch(app, cli, embedding));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("Error: {err}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(level: &str) -> Result<(), String> {
    // refinery narrates every migration check at info; its warnings are what matter.
    let directive = if level.contains("refinery") {
        level.to_string()
    } else {
        format!("{level},refinery_core=warn")
    };
    let filter = tracing_subscriber::EnvFilter::try_new(&directive)
        .map_err(|e| format!("invalid --log-level {level:?}: {e}"))?;
    // A second init (tests running several apps in one process) keeps the first.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .try_init();
    Ok(())
}

fn default_serve_config() -> ServeConfig {
    // Parsing no arguments yields exactly the documented defaults (and env values).
    #[derive(Parser)]
    struct Defaults {
        #[command(flatten)]
        serve: ServeConfig,
    }
    Defaults::try_parse_from(["defaults"])
        .map(|d| d.serve)
        .unwrap_or_else(|_| ServeConfig {
            http: "127.0.0.1:8090".into(),
            body_limit: 32 * 1024 * 1024,
            workers: 0,
            read_connections: 4,
            shutdown_timeout: 30,
            auth_rate_limit: 60,
            trusted_proxy_headers: crate::config::HeaderNames::default(),
            trusted_proxy_leftmost: false,
            trusted_proxies: crate::proxy::TrustedPeers::DEFAULT
                .parse()
                .unwrap_or_default(),
            realtime_queue: 256,
            nats_url: None,
            nats_prefix: "litebase".into(),
            metrics_token: None,
            app_url: None,
            app_name: None,
            smtp_host: None,
            smtp_port: 587,
            smtp_username: None,
            smtp_password: None,
            smtp_tls: "none".into(),
            sender_address: "no-reply@example.com".into(),
            sender_name: "Support".into(),
            dev: false,
        })
}

async fn dispatch(
    app: App,
    cli: Cli,
    embedding: Option<crate::server::Embedding>,
) -> Result<(), CliError> {
    let (serve_config, action) = match cli.command {
        Command::Serve(serve) => (*serve, None),
        other => (default_serve_config(), Some(other)),
    };
    let config = Config {
        global: cli.global,
        serve: serve_config,
    };
    match action {
        None => serve(app, config, embedding).await,
        Some(Command::Migrate { action }) => run_migrate(&app, &config, action).await,
        Some(Command::Superuser { action }) => run_superuser(&app, &config, action).await,
        Some(Command::Backup { action }) => run_backup(&app, &config, action).await,
        Some(Command::Serve(_) | Command::Healthcheck { .. }) => {
            Err(CliError::Usage("unreachable".into()))
        }
    }
}

async fn open(config: &Config) -> Result<Db, CliError> {
    std::fs::create_dir_all(&config.global.data_dir).map_err(|e| {
        CliError::Usage(format!(
            "cannot create the data directory {}: {e}",
            config.global.data_dir.display()
        ))
    })?;
    Ok(Db::open(config.db_options()).await?)
}

/// Opens the database and applies pending migrations, logging what ran.
async fn open_migrated(app: &App, config: &Config) -> Result<Db, CliError> {
    let db = open(config).await?;
    match migrate::apply(&db, &app.migration_sets()).await {
        Ok(applied) => {
            for m in applied {
                tracing::info!(set = m.set, version = m.version, name = %m.name, "applied migration");
            }
            Ok(db)
        }
        Err(err) => {
            db.close().await;
            Err(err.into())
        }
    }
}

/// Large buffers (argon2's 19 MiB, big request bodies) go straight to mmap and
/// back to the OS when freed. Without this glibc raises its mmap threshold after
/// the first such free and keeps every later one in its arenas, so memory grows
/// with each concurrent password hash and never shrinks.
fn return_large_buffers_to_the_os() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator tuning; it is called before the
    // server starts its worker threads.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
    }
}

/// Every few seconds, hands the allocator's free pages back to the OS. Many
/// connections' short-lived buffers (each flushed write, each read burst) are
/// freed in the middle of glibc's arenas, which keeps them resident otherwise:
/// with 19,000 WebSocket players this was 30 MiB that no one used.
fn trim_free_memory_periodically() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let spawned = std::thread::Builder::new()
            .name("litebase-trim".into())
            .spawn(|| {
                loop {
                    std::thread::sleep(std::time::Duration::from_secs(5));
                    // SAFETY: malloc_trim only returns free memory to the OS; it
                    // takes the allocator's locks like any malloc call.
                    unsafe {
                        libc::malloc_trim(0);
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "cannot start the memory trimmer; serving without it");
        }
    }
}

async fn serve(
    app: App,
    config: Config,
    embedding: Option<crate::server::Embedding>,
) -> Result<(), CliError> {
    // Allocator tuning is the process's: an embedding program keeps its own.
    if embedding.is_none() {
        return_large_buffers_to_the_os();
        trim_free_memory_periodically();
    }
    // Held until the server stops; `backup restore` refuses while it is held.
    let _lock = match crate::backups::lock::try_lock(&config.global.data_dir)? {
        Some(lock) => Some(lock),
        None => {
            tracing::warn!(dir = %config.global.data_dir.display(), "another process (a server or a restore) is using this data directory");
            None
        }
    };
    let db = open_migrated(&app, &config).await?;
    let mailer = match mail_config(&config).and_then(|c| {
        crate::mail::Mailer::new(c).map_err(|e| CliError::Usage(format!("mail settings: {e}")))
    }) {
        Ok(m) => m,
        Err(e) => {
            db.close().await;
            return Err(e);
        }
    };
    let relay = config
        .serve
        .nats_url
        .clone()
        .filter(|u| !u.trim().is_empty())
        .map(|url| crate::realtime::relay::RelayConfig {
            url,
            prefix: config.serve.nats_prefix.clone(),
        });
    let parts = crate::core::CoreParts {
        settings: app.settings,
        after_restore: app.after_restore,
    };
    let loaded = crate::core::Core::load(
        db.clone(),
        config,
        app.hooks,
        app.app_migrations,
        mailer,
        parts,
    )
    .await;
    let core = match loaded {
        Ok(core) => actix_web::web::Data::new(core),
        Err(err) => {
            db.close().await;
            return Err(err.into());
        }
    };
    crate::realtime::dispatch::start(
        crate::realtime::dispatch::Dispatcher {
            realtime: core.realtime.clone(),
            db: core.db.clone(),
            schema: core.schema.clone(),
        },
        {
            // Only changes of collections someone subscribed to wake the dispatcher.
            let realtime = core.realtime.clone();
            core.changes.subscribe_where(std::sync::Arc::new(move |c| {
                realtime
                    .broker
                    .has_subscribers(&crate::realtime::records_topic(&c.collection.id))
            }))
        },
    );
    if let Some(relay) = relay {
        let dispatcher = crate::realtime::dispatch::Dispatcher {
            realtime: core.realtime.clone(),
            db: core.db.clone(),
            schema: core.schema.clone(),
        };
        if let Err(e) =
            crate::realtime::relay::start(relay, dispatcher, core.changes.subscribe()).await
        {
            db.close().await;
            return Err(CliError::Usage(e.to_string()));
        }
    }
    crate::webhooks::sender::start(
        core.webhooks.clone(),
        {
            // Only changes some webhook wants wake the sender.
            let registry = core.webhooks.registry().clone();
            core.changes.subscribe_where(std::sync::Arc::new(move |c| {
                registry.wants(c.action, &c.collection.id)
            }))
        },
        core.changes.subscribe_wake(crate::webhooks::app::WAKE),
        crate::webhooks::sender::Backoff::default(),
    );
    if let Err(e) = crate::core::crons::install(&core.clone().into_inner(), app.crons) {
        db.close().await;
        return Err(CliError::Usage(e.to_string()));
    }
    for start in &app.on_serve {
        start(&core);
    }
    let result = crate::server::serve_embedded(core, app.routes, embedding).await;
    // In-flight requests are done; commit whatever they queued, then stop.
    db.close().await;
    tracing::info!("stopped");
    Ok(result?)
}

/// SMTP settings from the configuration; no host means mails go to the log.
fn mail_config(config: &Config) -> Result<crate::mail::MailConfig, CliError> {
    use crate::mail::{MailConfig, TlsMode};
    let s = &config.serve;
    let tls = match s.smtp_tls.to_ascii_lowercase().as_str() {
        "none" | "" => TlsMode::None,
        "starttls" => TlsMode::StartTls,
        "tls" => TlsMode::Tls,
        other => {
            return Err(CliError::Usage(format!(
                "unknown --smtp-tls {other:?}: use none, starttls or tls"
            )));
        }
    };
    Ok(MailConfig {
        host: s.smtp_host.clone().filter(|h| !h.is_empty()),
        port: s.smtp_port,
        username: s.smtp_username.clone().filter(|u| !u.is_empty()),
        password: s.smtp_password.clone(),
        tls,
        sender_address: s.sender_address.clone(),
        sender_name: s.sender_name.clone(),
    })
}

async fn run_migrate(app: &App, config: &Config, action: MigrateCommand) -> Result<(), CliError> {
    match action {
        MigrateCommand::Up => {
            let db = open(config).await?;
            let applied = migrate::apply(&db, &app.migration_sets()).await;
            db.close().await;
            let applied = applied?;
            if applied.is_empty() {
                println!("No new migrations to apply.");
            }
            for m in applied {
                println!("Applied {} V{}__{}", m.set, m.version, m.name);
            }
            Ok(())
        }
        MigrateCommand::Status => {
            let db = open(config).await?;
            let rows = migrate::status(&db, &app.migration_sets()).await;
            db.close().await;
            let rows = rows?;
            println!(
                "{:<8} {:>7}  {:<32} {:<10} APPLIED AT",
                "SET", "VERSION", "NAME", "STATE"
            );
            let mut pending = 0;
            for m in &rows {
                let (state, when) = match &m.state {
                    MigrationState::Pending => {
                        pending += 1;
                        ("pending", "")
                    }
                    MigrationState::Applied(t) => ("applied", t.as_str()),
                    MigrationState::Changed(t) => ("CHANGED", t.as_str()),
                    MigrationState::Unknown(t) => ("UNKNOWN", t.as_str()),
                };
                println!(
                    "{:<8} {:>7}  {:<32} {:<10} {}",
                    m.set, m.version, m.name, state, when
                );
            }
            println!("{} applied, {} pending", rows.len() - pending, pending);
            Ok(())
        }
        MigrateCommand::New { name } => {
            migrate::validate_name(&name).map_err(CliError::Usage)?;
            let known = app
                .app_migrations
                .map(|set| migrate::embedded_versions(&set))
                .unwrap_or_default();
            let path = migrate::create_file(&config.global.migrations_dir, &name, known)?;
            println!("Created {}", path.display());
            println!("Write its SQL, rebuild, then run `migrate up` (or restart `serve`).");
            Ok(())
        }
    }
}

async fn run_superuser(
    app: &App,
    config: &Config,
    action: SuperuserCommand,
) -> Result<(), CliError> {
    let db = open_migrated(app, config).await?;
    let outcome = match action {
        SuperuserCommand::Upsert { email, password } => superusers::upsert(&db, &email, &password)
            .await
            .map(|done| match done {
                superusers::Upserted::Created(_) => format!("Created superuser {email:?}."),
                superusers::Upserted::Updated(_) => {
                    format!("Updated superuser {email:?}: new password, older tokens revoked.")
                }
            }),
        SuperuserCommand::Delete { email } => match superusers::delete(&db, &email).await {
            Ok(true) => Ok(format!("Deleted superuser {email:?}.")),
            // Like PocketBase: deleting is idempotent, so scripts can run it twice.
            Ok(false) => Ok(format!(
                "Superuser {email:?} is missing or already deleted; nothing to do."
            )),
            Err(e) => Err(e),
        },
    };
    db.close().await;
    println!("{}", outcome?);
    Ok(())
}

async fn run_backup(app: &App, config: &Config, action: BackupCommand) -> Result<(), CliError> {
    let dir = crate::backups::dir_of(&config.global.data_dir);
    match action {
        BackupCommand::Create { name } => {
            let db = open(config).await?;
            let made = crate::backups::create_in(&db, &dir, name.as_deref()).await;
            db.close().await;
            let made = made?;
            println!(
                "Created backup {} ({} bytes) in {}",
                made.key,
                made.size,
                dir.display()
            );
            Ok(())
        }
        BackupCommand::List => {
            let all = crate::backups::list_in(&dir)?;
            if all.is_empty() {
                println!("No backups in {}.", dir.display());
            }
            for b in all {
                println!("{:<40} {:>12}  {}", b.key, b.size, b.modified);
            }
            Ok(())
        }
        BackupCommand::Restore { name } => {
            let Some(_lock) = crate::backups::lock::try_lock(&config.global.data_dir)? else {
                return Err(CliError::Usage(format!(
                    "a server is running on {}: stop it first, or restore while it runs from the admin's Backups page (POST /api/backups/{name}/restore)",
                    config.global.data_dir.display()
                )));
            };
            let db = open(config).await?;
            let restored = crate::backups::restore_into(&db, &dir, &name).await;
            let migrated = match restored {
                Ok(()) => migrate::apply(&db, &app.migration_sets())
                    .await
                    .map_err(CliError::from),
                Err(e) => Err(e.into()),
            };
            db.close().await;
            migrated?;
            println!("Restored {name} into {}.", config.database_path().display());
            Ok(())
        }
    }
}
