//! The accept loop, connection bookkeeping and shutdown shared by the CDN
//! stand-in and the proxy.

use std::collections::HashMap;
use std::io;
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// How long the accept loop sleeps when no connection is pending (it is
/// woken at once by a shutdown).
const ACCEPT_POLL: Duration = Duration::from_millis(2);

/// Read/write timeout of every socket (accepted connections and the proxy's
/// connections to targets): a peer that goes quiet cannot keep a connection
/// thread alive longer than this. Dropping a server does not wait for it: it
/// shuts every registered socket down, which ends blocked reads and writes
/// at once.
pub(crate) const IO_TIMEOUT: Duration = Duration::from_secs(60);

/// Locks `mutex`, recovering the data of a poisoned one.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Waits on `cond` for at most `timeout`, recovering from poisoning.
pub(crate) fn wait_timeout<'a, T>(
    cond: &Condvar,
    guard: MutexGuard<'a, T>,
    timeout: Duration,
) -> MutexGuard<'a, T> {
    match cond.wait_timeout(guard, timeout) {
        Ok((guard, _)) => guard,
        Err(poisoned) => poisoned.into_inner().0,
    }
}

/// Time left until `deadline` (`None`: no deadline, a long wait).
pub(crate) fn remaining(deadline: Option<Instant>) -> Duration {
    deadline.map_or(Duration::from_secs(3600), |d| {
        d.saturating_duration_since(Instant::now())
    })
}

/// The shutdown signal: a flag plus a condvar so sleeps end at once.
#[derive(Debug, Default)]
pub(crate) struct Stop {
    flag: AtomicBool,
    lock: Mutex<()>,
    cond: Condvar,
}

impl Stop {
    pub(crate) fn is_set(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    fn trigger(&self) {
        let _guard = lock(&self.lock);
        self.flag.store(true, Ordering::SeqCst);
        self.cond.notify_all();
    }

    /// Sleeps for `duration` or until shutdown; `true` if the whole duration
    /// passed without a shutdown.
    pub(crate) fn sleep(&self, duration: Duration) -> bool {
        let deadline = Instant::now().checked_add(duration);
        let mut guard = lock(&self.lock);
        loop {
            if self.is_set() {
                return false;
            }
            let left = remaining(deadline);
            if left.is_zero() {
                return true;
            }
            guard = wait_timeout(&self.cond, guard, left);
        }
    }
}

/// State shared by a server's threads.
#[derive(Debug, Default)]
pub(crate) struct ServerCtx {
    pub(crate) stop: Stop,
    registry: Mutex<Registry>,
}

#[derive(Debug, Default)]
struct Registry {
    next_id: u64,
    streams: HashMap<u64, TcpStream>,
}

impl ServerCtx {
    /// Registers `stream` so that a shutdown closes it; `None` if the server
    /// is already shutting down (the caller should then drop the stream).
    pub(crate) fn register(self: &Arc<Self>, stream: &TcpStream) -> Option<ConnGuard> {
        let clone = stream.try_clone().ok()?;
        let mut registry = lock(&self.registry);
        if self.stop.is_set() {
            return None;
        }
        let id = registry.next_id;
        registry.next_id += 1;
        registry.streams.insert(id, clone);
        Some(ConnGuard {
            ctx: Arc::clone(self),
            id,
        })
    }

    fn close_all(&self) {
        for stream in lock(&self.registry).streams.values() {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

/// Keeps a stream registered for shutdown; unregisters it when dropped.
#[derive(Debug)]
pub(crate) struct ConnGuard {
    ctx: Arc<ServerCtx>,
    id: u64,
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        lock(&self.ctx.registry).streams.remove(&self.id);
    }
}

/// Serves one accepted connection.
pub(crate) type Handler = Arc<dyn Fn(TcpStream, &Arc<ServerCtx>) + Send + Sync>;

/// A listener on `127.0.0.1:0` whose accept loop runs `handler` on a new
/// thread per connection. Dropping it closes every connection and joins
/// every thread.
#[derive(Debug)]
pub(crate) struct Server {
    ctx: Arc<ServerCtx>,
    addr: SocketAddr,
    accept: Option<JoinHandle<()>>,
}

impl Server {
    pub(crate) fn start(name: &'static str, handler: Handler) -> io::Result<Self> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let ctx = Arc::new(ServerCtx::default());
        let loop_ctx = Arc::clone(&ctx);
        let accept = thread::Builder::new()
            .name(format!("{name}-accept"))
            .spawn(move || accept_loop(&listener, &loop_ctx, &handler, name))?;
        Ok(Self {
            ctx,
            addr,
            accept: Some(accept),
        })
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.ctx.stop.trigger();
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

fn accept_loop(
    listener: &TcpListener,
    ctx: &Arc<ServerCtx>,
    handler: &Handler,
    name: &'static str,
) {
    let mut workers: Vec<JoinHandle<()>> = Vec::new();
    while !ctx.stop.is_set() {
        match listener.accept() {
            Ok((stream, _)) => {
                let (done, live): (Vec<_>, Vec<_>) =
                    workers.drain(..).partition(JoinHandle::is_finished);
                workers = live;
                for worker in done {
                    let _ = worker.join();
                }
                // Some platforms let accepted sockets inherit non-blocking mode.
                if stream.set_nonblocking(false).is_err() {
                    continue;
                }
                let _ = stream.set_nodelay(true);
                let _ = stream.set_read_timeout(Some(IO_TIMEOUT));
                let _ = stream.set_write_timeout(Some(IO_TIMEOUT));
                let Some(guard) = ctx.register(&stream) else {
                    continue;
                };
                let conn_ctx = Arc::clone(ctx);
                let conn_handler = Arc::clone(handler);
                let spawned =
                    thread::Builder::new()
                        .name(format!("{name}-conn"))
                        .spawn(move || {
                            let _guard = guard;
                            conn_handler(stream, &conn_ctx);
                        });
                if let Ok(worker) = spawned {
                    workers.push(worker);
                }
            }
            Err(_) => {
                // WouldBlock (nothing pending) or a transient error such as
                // running out of file descriptors: wait a little either way.
                ctx.stop.sleep(ACCEPT_POLL);
            }
        }
    }
    ctx.close_all();
    for worker in workers {
        let _ = worker.join();
    }
}
