//! The HTTP server: middleware stack, routes, signals and graceful shutdown.

use std::net::SocketAddr;
use std::sync::Arc;

use actix_web::{App as ActixApp, HttpServer, ResponseError, web};

use crate::api::{self, middleware};
use crate::config::Config;
use crate::core::Core;
use crate::error::ApiError;

/// A function that mounts extra routes (the app's pages, its WebSocket endpoints).
pub type RouteFn = Arc<dyn Fn(&mut web::ServiceConfig) + Send + Sync>;
/// A function run once when the server starts, with the ready [`Core`] (see
/// [`crate::App::on_serve`]).
pub type ServeFn = Arc<dyn Fn(&web::Data<Core>) + Send + Sync>;

/// How a server embedded in another program (a test process) is driven instead of
/// by the process's signals: it says where it listens, and stops when asked.
/// Built by `litebase::testing::InProcess`; `serve` from the command line has none.
pub struct Embedding {
    /// Called once, with the bound addresses, when the server listens.
    pub on_listen: Box<dyn FnOnce(Vec<SocketAddr>) + Send>,
    /// The server stops gracefully when this receives (or its sender is dropped).
    pub stop: tokio::sync::oneshot::Receiver<()>,
}

/// Serves until SIGTERM or SIGINT, then stops accepting, lets in-flight requests
/// finish (up to the configured timeout) and returns. The caller closes the database
/// afterwards, which commits every queued write.
pub async fn serve(core: web::Data<Core>, routes: Vec<RouteFn>) -> std::io::Result<()> {
    serve_embedded(core, routes, None).await
}

/// [`serve`], or with an [`Embedding`]: no signal handlers and no start banner,
/// the addresses go to `on_listen`, and `stop` ends it the way a signal would.
pub async fn serve_embedded(
    core: web::Data<Core>,
    routes: Vec<RouteFn>,
    embedding: Option<Embedding>,
) -> std::io::Result<()> {
    let config: Config = core.config.clone();
    let (stop, on_listen) = match embedding {
        Some(e) => (Stop::Asked(e.stop), Some(e.on_listen)),
        None => (Stop::Signal(ShutdownSignals::install()?), None),
    };
    let limit = config.serve.body_limit;
    // What the HTTP/1 layer answers on its own (malformed or oversized heads) is in
    // PocketBase's shape too, and a declared body over the limit is refused before
    // `100 Continue` instead of after the client has started sending it.
    actix_http::h1::set_error_body(crate::error::protocol_error_body);
    actix_http::h1::set_expect_body_limit(u64::try_from(limit).unwrap_or(u64::MAX));
    let workers = match config.serve.workers {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
        n => n,
    };
    let db_data = web::Data::new(core.db.clone());
    let config_data = web::Data::new(config.clone());
    let core_for_stop = core.clone();
    crate::core::mfa::forget_deleted_records(core.clone());
    let admin = web::Data::new(
        crate::admin::AdminState::new(&core)
            .await
            .map_err(|e| std::io::Error::other(format!("admin UI: {e}")))?,
    );
    let setup_path = admin.setup.path();
    let core_for_log = core.clone();
    let records_data = web::Data::new(core.records.clone());
    let server = HttpServer::new(move || {
        let mut app = ActixApp::new()
            .app_data(core.clone())
            .app_data(records_data.clone())
            .app_data(db_data.clone())
            .app_data(config_data.clone())
            .app_data(middleware::json_config(limit))
            .app_data(middleware::payload_config(limit))
            .app_data(web::FormConfig::default().limit(limit))
            .app_data(admin.clone())
            .configure(api::configure)
            .configure(crate::admin::configure);
        for route in &routes {
            app = app.configure(|cfg| route(cfg));
        }
        app.default_service(web::to(middleware::not_found))
            .wrap(middleware::error_shape())
            .wrap_fn(move |req, srv| {
                use actix_web::dev::Service;
                let call = if middleware::declares_too_large(&req, limit) {
                    Err(req)
                } else {
                    Ok(srv.call(req))
                };
                async move {
                    match call {
                        Ok(fut) => fut.await.map(|r| r.map_into_left_body()),
                        Err(req) => Ok(req
                            .into_response(ApiError::too_large().error_response())
                            .map_into_right_body()),
                    }
                }
            })
            .wrap(middleware::security_headers())
            .wrap_fn({
                let core = core_for_log.clone();
                move |req, srv| middleware::log_request(&core, req, srv)
            })
    })
    .workers(workers)
    .disable_signals()
    .shutdown_timeout(config.serve.shutdown_timeout)
    .bind(&config.serve.http)
    .map_err(|e| {
        std::io::Error::new(
            e.kind(),
            format!("cannot listen on {}: {e}", config.serve.http),
        )
    })?;

    let addrs: Vec<SocketAddr> = server.addrs();
    let banner = if on_listen.is_some() {
        &[][..]
    } else {
        &addrs[..]
    };
    for addr in banner {
        // Printed on stdout for humans and for tests that ask for port 0. A closed
        // stdout (piped into a finished `head`) must not take the server down.
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "Server started at http://{addr}");
        let _ = writeln!(out, "├─ REST API:  http://{addr}/api/");
        let _ = writeln!(out, "└─ Dashboard: http://{addr}/_/");
        if let Some(path) = &setup_path {
            let _ = writeln!(
                out,
                "No superuser yet: create the first one at http://{addr}{path} (works once, for one hour)"
            );
        }
        let _ = out.flush();
    }
    if let (Some(path), Some(addr)) = (&setup_path, addrs.first()) {
        tracing::info!(url = %format!("http://{addr}{path}"), "no superuser yet: one-time setup link");
    }
    tracing::info!(?addrs, workers, "listening");

    let server = server.run();
    let handle = server.handle();
    if let Some(on_listen) = on_listen {
        on_listen(addrs);
    }
    actix_web::rt::spawn(async move {
        let signal = stop.recv().await;
        tracing::info!(signal, "shutting down: finishing in-flight requests");
        core_for_stop.realtime.close_all();
        handle.stop(true).await;
    });
    server.await
}

/// What stops the server: a signal, or the embedding program asking.
enum Stop {
    Signal(ShutdownSignals),
    Asked(tokio::sync::oneshot::Receiver<()>),
}

impl Stop {
    /// Resolves with what stopped the server.
    async fn recv(self) -> &'static str {
        match self {
            Stop::Signal(signals) => signals.recv().await,
            Stop::Asked(rx) => {
                let _ = rx.await;
                "stop asked"
            }
        }
    }
}

/// SIGTERM and SIGINT, caught from the moment they are installed: a signal that
/// arrives before the server is up still stops it gracefully instead of killing it.
struct ShutdownSignals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl ShutdownSignals {
    fn install() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Self {
                term: signal(SignalKind::terminate())?,
                int: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    /// Resolves with the name of the first signal received.
    async fn recv(mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.term.recv() => "SIGTERM",
                _ = self.int.recv() => "SIGINT",
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "SIGINT"
        }
    }
}
