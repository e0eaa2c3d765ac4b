//! Startup and shutdown of `grove serve`.
//!
//! Order: bind both listeners (so a taken port fails at once), start serving (health and
//! readiness answer immediately), open the data directory in the background (`/readyz` turns
//! 200 when it is loaded), then wait for SIGTERM or ctrl-c. On the signal: readiness drops,
//! both servers stop accepting and finish the requests in flight, the service waits for writes
//! still running, and storage is flushed.

use std::net::SocketAddr;

use anyhow::Context as _;
use tokio::net::TcpListener;
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
    let rest_shutdown = shutdown.clone();
    let rest = match &tls {
        Some((cert, key)) => {
            let listener = crate::tls::TlsListener::new(http, crate::tls::server_config(cert, key)?)?;
            tokio::spawn(async move {
                axum::serve(listener, app).with_graceful_shutdown(rest_shutdown.cancelled_owned()).await
            })
        }
        None => tokio::spawn(async move {
            axum::serve(http, app).with_graceful_shutdown(rest_shutdown.cancelled_owned()).await
        }),
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
    rest_result.context("REST task")?.context("REST server")?;
    grpc_result.context("gRPC task")?.context("gRPC server")?;
    service.shutdown().await.map_err(|e| anyhow::anyhow!("shutdown: {e}"))?;
    if !service.is_opened() {
        anyhow::bail!("the data directory could not be opened (see the log)");
    }
    tracing::info!("storage flushed; bye");
    Ok(())
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
