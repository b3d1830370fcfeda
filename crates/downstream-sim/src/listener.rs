//! One TCP listener per simulated system, served connection by connection with hyper so a
//! fault can do what a real network does: close the listener (connections refused) for an
//! outage, or reset one connection after the effect was applied.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::{Extension, Router};
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::time::Instant;

/// An outage: its fault id and when it ends.
pub type Outage = Option<(u64, Instant)>;

/// Lets a handler reset the connection it is answering on.
#[derive(Debug, Clone)]
pub struct Killer(pub Arc<Notify>);

fn is_down(outage: &Outage) -> bool {
    outage.is_some_and(|(_, until)| until > Instant::now())
}

/// Waits until the system is up again.
async fn wait_up(rx: &mut watch::Receiver<Outage>) {
    loop {
        let outage = *rx.borrow_and_update();
        match outage {
            Some((_, until)) if until > Instant::now() => {
                tokio::select! {
                    () = tokio::time::sleep_until(until) => {}
                    changed = rx.changed() => if changed.is_err() { return; },
                }
            }
            _ => return,
        }
    }
}

/// Waits until the system goes down (or forever).
async fn wait_down(rx: &mut watch::Receiver<Outage>) {
    loop {
        if rx.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
        if is_down(&rx.borrow()) {
            return;
        }
    }
}

async fn bind(addr: SocketAddr) -> TcpListener {
    loop {
        match TcpListener::bind(addr).await {
            Ok(listener) => return listener,
            Err(error) => {
                tracing::warn!(%addr, %error, "cannot listen again yet");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
}

/// Serves `router` on `first` (already bound to `addr`), closing the listener and every open
/// connection while `availability` says the system is down.
pub async fn serve_system(
    first: TcpListener,
    addr: SocketAddr,
    router: Router,
    availability: watch::Receiver<Outage>,
) {
    let mut listener = Some(first);
    let mut rx = availability;
    loop {
        wait_up(&mut rx).await;
        let current = match listener.take() {
            Some(listener) => listener,
            None => bind(addr).await,
        };
        loop {
            tokio::select! {
                accepted = current.accept() => match accepted {
                    Ok((stream, _)) => {
                        tokio::spawn(serve_connection(stream, router.clone(), rx.clone()));
                    }
                    Err(error) => tracing::warn!(%error, "accept failed"),
                },
                () = wait_down(&mut rx) => break,
            }
        }
        tracing::info!(%addr, "system down: listener closed");
        drop(current);
    }
}

async fn serve_connection(
    stream: TcpStream,
    router: Router,
    mut availability: watch::Receiver<Outage>,
) {
    // A second descriptor of the same socket, to reset it after the connection is dropped.
    let Ok(std_stream) = stream.into_std() else {
        return;
    };
    let spare = std_stream.try_clone();
    let Ok(stream) = TcpStream::from_std(std_stream) else {
        return;
    };
    let kill = Arc::new(Notify::new());
    let service = TowerToHyperService::new(router.layer(Extension(Killer(Arc::clone(&kill)))));
    let connection = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    let reset = tokio::select! {
        _ = connection => false,
        () = kill.notified() => true,
        () = wait_down(&mut availability) => true,
    };
    if reset
        && let Ok(spare) = spare
        && let Ok(spare) = TcpStream::from_std(spare)
    {
        // SO_LINGER 0: the close sends RST, as a crashed or cut-off peer would.
        let _ = spare.set_zero_linger();
    }
}
