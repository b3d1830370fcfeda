//! A TCP proxy a test can cut, to make a server unreachable while it keeps running: the failure
//! a network partition or a broker behind a dead load balancer causes, which killing the server
//! does not reproduce (a killed broker also loses its state). It can also stall: connections stay
//! open but no byte moves, which is what a dependency looks like when it is slow.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// What the proxy does with connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Forward,
    Stalled,
    Blocked,
    Closed,
}

impl Mode {
    /// Whether connections are cut in this mode.
    fn cuts(self) -> bool {
        matches!(self, Self::Blocked | Self::Closed)
    }
}

/// Forwards a free local port to a target address until [`TcpProxy::block`] cuts it.
///
/// It runs on its own thread and runtime, so it keeps forwarding while the test thread blocks or
/// runs a different runtime, and it works from synchronous and `#[tokio::test]` tests alike.
#[derive(Debug)]
pub struct TcpProxy {
    address: SocketAddr,
    mode: watch::Sender<Mode>,
    open: Arc<AtomicUsize>,
    held: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

/// Counts one thing (a forwarded connection, a held chunk) while it lives.
struct Open(Arc<AtomicUsize>);

impl Open {
    /// Counts one more in `counter` until dropped.
    fn count(counter: &Arc<AtomicUsize>) -> Self {
        counter.fetch_add(1, Ordering::SeqCst);
        Self(Arc::clone(counter))
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl TcpProxy {
    /// Listens on a free port of 127.0.0.1 and forwards every connection to `target`
    /// (`host:port`, resolved on each connection, so the target may start after the proxy).
    pub fn start(target: &str) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.set_nonblocking(true).map(|()| l))
            .expect("cannot bind the proxy port");
        let address = listener.local_addr().expect("proxy has no local address");
        let (mode, mode_rx) = watch::channel(Mode::Forward);
        let open = Arc::new(AtomicUsize::new(0));
        let held = Arc::new(AtomicUsize::new(0));
        let target = target.to_owned();
        let counter = Arc::clone(&open);
        let holding = Arc::clone(&held);
        let thread = std::thread::Builder::new()
            .name(format!("tcp-proxy-{}", address.port()))
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("cannot build the proxy runtime");
                runtime.block_on(serve(listener, target, mode_rx, counter, holding));
            })
            .expect("cannot spawn the proxy thread");
        Self {
            address,
            mode,
            open,
            held,
            thread: Some(thread),
        }
    }

    /// The proxy's own address, `127.0.0.1:<port>`; what clients connect to.
    pub fn address(&self) -> String {
        self.address.to_string()
    }

    /// The proxy's port.
    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// Closes every forwarded connection and, until [`TcpProxy::unblock`], closes new ones as
    /// soon as they are accepted, so clients see the server as down. The port stays bound, so
    /// nothing else can take it meanwhile. Returns once the existing connections are closed.
    pub fn block(&self) {
        self.mode.send_replace(Mode::Blocked);
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.open.load(Ordering::SeqCst) > 0 {
            assert!(
                Instant::now() < deadline,
                "proxy connections did not close within 5 s"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Keeps every connection open but moves no byte in either direction, and accepts new
    /// connections the same way, until [`TcpProxy::unblock`]: clients see a server that takes
    /// its time, not one that is down. Bytes read meanwhile are delivered afterwards.
    pub fn stall(&self) {
        self.mode.send_replace(Mode::Stalled);
    }

    /// Forwards again (after [`TcpProxy::block`] or [`TcpProxy::stall`]).
    pub fn unblock(&self) {
        self.mode.send_replace(Mode::Forward);
    }

    /// How many chunks of bytes the stall is holding back right now: each request a client sent
    /// while stalled is at least one.
    pub fn held_chunks(&self) -> usize {
        self.held.load(Ordering::SeqCst)
    }

    /// How many connections are being forwarded right now.
    pub fn open_connections(&self) -> usize {
        self.open.load(Ordering::SeqCst)
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.mode.send_replace(Mode::Closed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn serve(
    listener: std::net::TcpListener,
    target: String,
    mut mode: watch::Receiver<Mode>,
    open: Arc<AtomicUsize>,
    held: Arc<AtomicUsize>,
) {
    let listener = TcpListener::from_std(listener).expect("cannot register the proxy listener");
    loop {
        let accepted = tokio::select! {
            changed = mode.changed() => {
                if changed.is_err() || *mode.borrow() == Mode::Closed {
                    return;
                }
                continue;
            }
            accepted = listener.accept() => accepted,
        };
        // Accept errors (such as running out of descriptors) are transient for a test proxy.
        let Ok((inbound, _)) = accepted else {
            continue;
        };
        if mode.borrow().cuts() {
            drop(inbound);
            continue;
        }
        open.fetch_add(1, Ordering::SeqCst);
        let guard = Open(Arc::clone(&open));
        let mut watch = mode.clone();
        let target = target.clone();
        let held = Arc::clone(&held);
        tokio::spawn(async move {
            let _guard = guard;
            let pumps = watch.clone();
            let forward = async move {
                let outbound = TcpStream::connect(&target).await?;
                let _ = inbound.set_nodelay(true);
                let _ = outbound.set_nodelay(true);
                let (from_client, to_client) = inbound.into_split();
                let (from_server, to_server) = outbound.into_split();
                tokio::try_join!(
                    pump(from_client, to_server, pumps.clone(), Arc::clone(&held)),
                    pump(from_server, to_client, pumps, held),
                )
            };
            tokio::select! {
                _ = forward => {}
                _ = watch.wait_for(|mode| mode.cuts()) => {}
            }
        });
    }
}

/// Copies one direction, holding every chunk while the proxy is stalled.
async fn pump(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    mut mode: watch::Receiver<Mode>,
    held: Arc<AtomicUsize>,
) -> std::io::Result<()> {
    let mut buffer = vec![0_u8; 16 * 1024];
    loop {
        let read = from.read(&mut buffer).await?;
        if read == 0 {
            return to.shutdown().await;
        }
        let _holding = (*mode.borrow() == Mode::Stalled).then(|| Open::count(&held));
        if mode.wait_for(|m| *m != Mode::Stalled).await.is_err() || mode.borrow().cuts() {
            return Ok(());
        }
        to.write_all(&buffer[..read]).await?;
    }
}
