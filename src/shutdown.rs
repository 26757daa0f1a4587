//! Orderly shutdown: SIGINT or SIGTERM stops the decoys accepting, lets their
//! connections close (recording the close), then the store drains and sinks catch up.

pub use tokio_util::sync::CancellationToken as Shutdown;

/// Cancels `token` on the first SIGINT or SIGTERM.
pub fn shutdown_on_signals(token: Shutdown) -> std::io::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    tokio::spawn(async move {
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM received: stopping decoys, draining events"),
            _ = int.recv() => tracing::info!("SIGINT received: stopping decoys, draining events"),
            _ = token.cancelled() => return,
        }
        token.cancel();
    });
    Ok(())
}
