//! Startup and shutdown of `grove serve`.
//!
//! Order: bind both listeners (so a taken port fails at once), start serving (health and
//! readiness answer immediately), open the data directory in the background (`/readyz` turns
//! 200 when it is loaded), then wait for SIGTERM or ctrl-c. On the signal: readiness drops,
//! both servers stop accepting and finish the requests in flight, the service waits for writes
//! still running, and storage is flushed.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;
use axum::serve::Listener;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::service::Service;

/// Serves until a shutdown signal, then drains and flushes.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let host = config.service.host.clone();
    let http_addr = format!("{host}:{}", config.service.http_port);
    let grpc_addr = format!("{host}:{}", config.service.grpc_port);
    let http = TcpListener::bind(&http_addr)
        .await
        .with_context(|| format!("binding REST listener on {http_addr}"))?;
    let grpc = TcpListener::bind(&grpc_addr)
        .await
        .with_context(|| format!("binding gRPC listener on {grpc_addr}"))?;
    let tls = match (&config.security.tls_cert, &config.security.tls_key) {
        (Some(cert), Some(key)) => Some(crate::tls::load_pem(cert, key)?),
        _ => None,
    };
    let http_local: SocketAddr = http.local_addr()?;
    let grpc_local: SocketAddr = grpc.local_addr()?;

    let service = Service::new(config.clone())?;
    let shutdown = CancellationToken::new();

    // REST.
    let app = crate::rest::router(service.clone());
    let limits = HttpLimits::of(&config);
    let rest_shutdown = shutdown.clone();
    let rest = match &tls {
        Some((cert, key)) => {
            let listener = crate::tls::TlsListener::new(http, crate::tls::server_config(cert, key)?)?;
            tokio::spawn(serve_rest(listener, app, limits, rest_shutdown))
        }
        None => tokio::spawn(serve_rest(http, app, limits, rest_shutdown)),
    };

    // gRPC.
    let mut builder = tonic::transport::Server::builder()
        .concurrency_limit_per_connection(config.service.max_concurrent_requests)
        .timeout(std::time::Duration::from_secs(config.service.request_timeout_secs));
    if let Some((cert, key)) = &tls {
        let identity = tonic::transport::Identity::from_pem(cert, key);
        builder = builder.tls_config(tonic::transport::ServerTlsConfig::new().identity(identity))?;
    }
    let grpc_router = builder
        .layer(crate::grpc::GuardLayer::new(service.clone()))
        .add_routes(crate::grpc::routes(service.clone()));
    let grpc_shutdown = shutdown.clone();
    let incoming = tokio_stream::wrappers::TcpListenerStream::new(grpc);
    let grpc_task = tokio::spawn(async move {
        grpc_router.serve_with_incoming_shutdown(incoming, grpc_shutdown.cancelled_owned()).await
    });

    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!(rest = %format!("{scheme}://{http_local}"), grpc = %grpc_local, data_dir = %config.storage.data_dir.display(), "grove listening");

    // Load collections in the background; readiness follows.
    let opener = service.clone();
    let open_shutdown = shutdown.clone();
    tokio::spawn(async move {
        let started = std::time::Instant::now();
        match opener.open_storage().await {
            Ok(()) => {
                tracing::info!(elapsed_ms = started.elapsed().as_millis() as u64, "collections loaded; ready")
            }
            Err(e) => {
                tracing::error!(error = ?e, "could not open the data directory; shutting down");
                open_shutdown.cancel();
            }
        }
    });

    tokio::select! {
        () = signal() => tracing::info!("shutdown signal received; draining"),
        () = shutdown.cancelled() => {}
    }
    service.begin_shutdown();
    shutdown.cancel();
    let (rest_result, grpc_result) = tokio::join!(rest, grpc_task);
    rest_result.context("REST task")?;
    grpc_result.context("gRPC task")?.context("gRPC server")?;
    service.shutdown().await.map_err(|e| anyhow::anyhow!("shutdown: {e}"))?;
    if !service.is_opened() {
        anyhow::bail!("the data directory could not be opened (see the log)");
    }
    tracing::info!("storage flushed; bye");
    Ok(())
}

/// The connection-level bounds of the REST listener.
#[derive(Debug, Clone, Copy)]
struct HttpLimits {
    header_read_timeout: Duration,
    shutdown_timeout: Duration,
}

impl HttpLimits {
    fn of(config: &Config) -> Self {
        HttpLimits {
            header_read_timeout: Duration::from_secs(config.service.header_read_timeout_secs),
            shutdown_timeout: Duration::from_secs(config.service.shutdown_timeout_secs),
        }
    }
}

/// Whether a connection negotiated HTTP/2 (TLS ALPN `h2`); everything else is served as
/// HTTP/1.1.
trait Negotiated {
    fn is_h2(&self) -> bool;
}

impl Negotiated for TcpStream {
    fn is_h2(&self) -> bool {
        false
    }
}

impl Negotiated for tokio_rustls::server::TlsStream<TcpStream> {
    fn is_h2(&self) -> bool {
        self.get_ref().1.alpn_protocol() == Some(b"h2")
    }
}

/// The REST accept loop. `axum::serve` cannot bound how long a client takes to send its
/// headers (it sets no timer, so hyper's `header_read_timeout` never fires), and stalled
/// connections then stay open forever; this loop serves each connection through hyper's own
/// builder with the timeout set. The protocol is decided without reading from the socket (ALPN
/// on TLS; plain TCP is HTTP/1.1): hyper-util's "auto" detection waits for the client's first
/// bytes before any timer runs, which is the very stall this guards against. Body read time
/// is bounded per request by the router (`rest::body`). On shutdown it stops accepting, asks
/// every connection to finish its in-flight request and close, and waits for them at most
/// `service.shutdown_timeout_secs`.
async fn serve_rest<L>(mut listener: L, app: axum::Router, limits: HttpLimits, shutdown: CancellationToken)
where
    L: Listener,
    L::Io: Negotiated,
{
    let mut h1 = auto::Builder::new(TokioExecutor::new()).http1_only();
    h1.http1().timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout);
    let mut h2 = auto::Builder::new(TokioExecutor::new()).http2_only();
    h2.http2().timer(TokioTimer::new());
    let graceful = GracefulShutdown::new();
    loop {
        let (io, _addr) = tokio::select! {
            accepted = listener.accept() => accepted,
            () = shutdown.cancelled() => break,
        };
        let builder = if io.is_h2() { &h2 } else { &h1 };
        let service = TowerToHyperService::new(app.clone());
        let conn = builder.serve_connection(TokioIo::new(io), service).into_owned();
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            // A client going away, a malformed request or a header timeout ends only its own
            // connection; hyper has already answered what could be answered.
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "REST connection ended with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.shutdown_timeout, graceful.shutdown()).await.is_err() {
        tracing::warn!(
            secs = limits.shutdown_timeout.as_secs(),
            "REST connections still open after service.shutdown_timeout_secs; closing them"
        );
    }
}

/// Resolves on SIGTERM or ctrl-c.
async fn signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
