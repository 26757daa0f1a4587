//! The accept loop shared by honeyward's own HTTP endpoints (the controller's HTTPS
//! API and the web console): a cap on connections, in all and per source address (so
//! one address cannot hold every slot), a deadline for the TLS handshake
//! and for each request head, a longest life per connection, and shutdown. Decoys do
//! not use it: they imitate other servers byte for byte.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::shutdown::Shutdown;

/// How one endpoint is served.
#[derive(Clone)]
pub struct ServeOptions {
    /// Names the endpoint in logs.
    pub what: &'static str,
    /// Connections served at once; more wait in the listen backlog.
    pub max_connections: usize,
    /// Connections one source address may hold at once; more are closed at accept.
    pub max_connections_per_source: usize,
    /// Time allowed for the TLS handshake and for each request head.
    pub deadline: Duration,
    /// Longest a connection may stay open.
    pub max_connection_life: Duration,
    /// TLS, or plain HTTP (loopback only).
    pub tls: Option<Arc<rustls::ServerConfig>>,
}

/// Serves HTTP/1.1 until shutdown; `handle` answers each request (with the peer).
pub async fn serve<H, Fut>(listener: TcpListener, o: ServeOptions, shutdown: Shutdown, handle: H)
where
    H: Fn(Request<Incoming>, SocketAddr) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response<Full<Bytes>>> + Send + 'static,
{
    let acceptor = o.tls.clone().map(tokio_rustls::TlsAcceptor::from);
    let slots = Arc::new(tokio::sync::Semaphore::new(o.max_connections));
    let sources = Arc::new(Mutex::new(HashMap::<IpAddr, usize>::new()));
    let mut refused_per_source = 0u64;
    loop {
        let permit = tokio::select! {
            _ = shutdown.cancelled() => break,
            p = Arc::clone(&slots).acquire_owned() => match p { Ok(p) => p, Err(_) => break },
        };
        let (tcp, peer) = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "{} accept failed", o.what);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Some(source) = SourceSlot::take(&sources, peer.ip(), o.max_connections_per_source) else {
            // One address holding its share: close at once, logged now and then.
            refused_per_source += 1;
            if refused_per_source.is_power_of_two() {
                tracing::warn!(%peer, refused = refused_per_source, "{}: connection refused, the source holds {} already", o.what, o.max_connections_per_source);
            }
            drop(tcp);
            continue;
        };
        let (acceptor, shutdown, handle, o) = (acceptor.clone(), shutdown.clone(), handle.clone(), o.clone());
        tokio::spawn(async move {
            let _permit = permit;
            let _source = source;
            let service = hyper::service::service_fn(move |req| {
                let handle = handle.clone();
                async move { Ok::<_, std::convert::Infallible>(handle(req, peer).await) }
            });
            let builder = {
                let mut b = hyper::server::conn::http1::Builder::new();
                b.timer(hyper_util::rt::TokioTimer::new()).header_read_timeout(o.deadline);
                b
            };
            let served = async {
                match acceptor {
                    Some(acceptor) => {
                        let Ok(Ok(stream)) = tokio::time::timeout(o.deadline, acceptor.accept(tcp)).await else { return };
                        let _ = builder.serve_connection(TokioIo::new(stream), service).await;
                    }
                    None => {
                        let _ = builder.serve_connection(TokioIo::new(tcp), service).await;
                    }
                }
            };
            tokio::select! {
                _ = tokio::time::timeout(o.max_connection_life, served) => {}
                _ = shutdown.cancelled() => {}
            }
        });
    }
}

/// A connection counted against its source address until dropped.
struct SourceSlot {
    sources: Arc<Mutex<HashMap<IpAddr, usize>>>,
    ip: IpAddr,
}

impl SourceSlot {
    fn take(sources: &Arc<Mutex<HashMap<IpAddr, usize>>>, ip: IpAddr, max: usize) -> Option<SourceSlot> {
        let mut held = sources.lock().unwrap_or_else(|p| p.into_inner());
        let n = held.entry(ip).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(SourceSlot { sources: Arc::clone(sources), ip })
    }
}

impl Drop for SourceSlot {
    fn drop(&mut self) {
        let mut held = self.sources.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = held.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                held.remove(&self.ip);
            }
        }
    }
}
