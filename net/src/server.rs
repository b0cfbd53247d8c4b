//! `StreamServer`: gevent's server helper — a handler task per connection, a connection limit,
//! accept-error backoff, and a graceful stop.

use std::cell::Cell;
use std::future::{Future, poll_fn};
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use weft_runtime::select;
use weft_runtime::sync::{Event, Semaphore};
use weft_runtime::task::{JoinHandle, spawn};
use weft_runtime::time::{sleep, timeout};

use crate::{TcpListener, TcpStream, UnixListener, UnixStream};

/// A listening socket that a [`StreamServer`] can serve: [`TcpListener`], [`UnixListener`],
/// or your own (a TLS acceptor wrapping one of them, say).
pub trait Listener {
    /// The connections it accepts.
    type Stream;
    /// Its own and its peers' addresses.
    type Addr;

    /// Polls for a connection; an error leaves the listener usable.
    fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(Self::Stream, Self::Addr)>>;

    /// The address it listens on.
    fn local_addr(&self) -> io::Result<Self::Addr>;
}

impl Listener for TcpListener {
    type Stream = TcpStream;
    type Addr = std::net::SocketAddr;

    fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, Self::Addr)>> {
        TcpListener::poll_accept(self, cx)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        TcpListener::local_addr(self)
    }
}

impl Listener for UnixListener {
    type Stream = UnixStream;
    type Addr = std::os::unix::net::SocketAddr;

    fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, Self::Addr)>> {
        UnixListener::poll_accept(self, cx)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        UnixListener::local_addr(self)
    }
}

/// Serves a handler per connection on one listener: gevent's `StreamServer`, asyncio's
/// `start_server` (and `start_unix_server`) with the limits asyncio lacks. It serves a
/// [`TcpListener`] by default, or any other [`Listener`].
///
/// - **Connection limit** ([`max_connections`](StreamServer::max_connections)): while that many
///   handlers run, the server stops accepting (new clients wait in the kernel's backlog) and
///   resumes when one finishes.
/// - **Accept errors** (say `EMFILE`, out of file descriptors) are counted, and accepting pauses
///   from 10 ms, doubling up to 1 s while they persist, so a full fd table never spins the CPU.
/// - **Graceful stop** ([`StopHandle::stop`]): the listener closes at once, running handlers
///   get a grace period to finish, and the rest are cancelled.
///
/// ```
/// use std::time::Duration;
/// use weft::io::{AsyncReadExt, AsyncWriteExt};
/// use weft::net::{StreamServer, TcpListener, TcpStream};
///
/// weft::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let addr = listener.local_addr().unwrap();
///     let server = StreamServer::new(listener).max_connections(100);
///     let stop = server.stop_handle();
///     let serving = weft::spawn(server.serve(|mut conn: TcpStream, _peer| async move {
///         let mut buf = [0; 64];
///         while let Ok(n @ 1..) = conn.read(&mut buf).await {
///             conn.write_all(&buf[..n]).await.ok();
///         }
///     }));
///     let mut client = TcpStream::connect(addr).await.unwrap();
///     client.write_all(b"hi").await.unwrap();
///     let mut reply = [0; 2];
///     client.read_exact(&mut reply).await.unwrap();
///     stop.stop(Duration::from_millis(10)); // the echo handler is cancelled after 10 ms
///     serving.await.unwrap().unwrap();
/// });
/// ```
pub struct StreamServer<L = TcpListener> {
    listener: L,
    max_connections: usize,
    shared: Rc<Shared>,
}

struct Shared {
    stopping: Event,
    grace: Cell<Duration>,
    active: Cell<usize>,
    idle: Event,
    accept_errors: Cell<u64>,
}

/// Stops a [`StreamServer`] (from any task of its runtime).
#[derive(Clone)]
pub struct StopHandle {
    shared: Rc<Shared>,
}

impl StopHandle {
    /// Closes the listener now; lets running handlers finish for up to `grace`, then cancels
    /// those still running. `serve` returns once every handler is gone.
    pub fn stop(&self, grace: Duration) {
        self.shared.grace.set(grace);
        self.shared.stopping.set();
    }

    /// How many handlers are running.
    pub fn active_connections(&self) -> usize {
        self.shared.active.get()
    }

    /// How many accepts failed so far (each followed by a pause).
    pub fn accept_errors(&self) -> u64 {
        self.shared.accept_errors.get()
    }
}

/// Counts a handler as running until it ends, however it ends.
struct Active(Rc<Shared>);

impl Drop for Active {
    fn drop(&mut self) {
        let active = self.0.active.get() - 1;
        self.0.active.set(active);
        if active == 0 {
            self.0.idle.set();
        }
    }
}

#[cfg(feature = "cores")]
impl StreamServer<TcpListener> {
    /// This core's server in a run on several cores (`weft::cores`): a TCP listener on `addr`
    /// with `SO_REUSEPORT`, one per core on the same address, so that the kernel spreads new
    /// connections over the cores (by a hash of each connection's addresses). With port 0,
    /// the first core to bind picks the port and the others bind the same one.
    ///
    /// A connection stays on the core that accepted it: one busy core's backlog is not
    /// taken over by an idle one. Closing one core's listener resets the connections still
    /// waiting in its backlog, so stop all cores together.
    ///
    /// ```
    /// use weft::net::{StreamServer, TcpStream};
    ///
    /// weft::cores::Builder::new(2)
    ///     .run(|core| async move {
    ///         let server = StreamServer::bind_per_core(&core, "127.0.0.1:0".parse().unwrap())?;
    ///         let addr = server.local_addr()?;
    ///         // Both cores listen on the same port.
    ///         let first = core.get_or_try_init("port", || Ok::<_, std::io::Error>(addr.port()))?;
    ///         assert_eq!(addr.port(), first);
    ///         Ok::<(), std::io::Error>(())
    ///     })
    ///     .unwrap();
    /// ```
    pub fn bind_per_core(
        core: &crate::cores::CoreHandle,
        addr: std::net::SocketAddr,
    ) -> io::Result<StreamServer<TcpListener>> {
        let options = TcpListener::builder().reuse_port(true);
        let mut first = None;
        let key = format!("weft::net::StreamServer::bind_per_core {addr}");
        let bound = core.get_or_try_init(&key, || {
            let listener = options.bind(addr)?;
            let bound = listener.local_addr()?;
            first = Some(listener);
            Ok::<_, io::Error>(bound)
        })?;
        let listener = match first {
            Some(listener) => listener,
            None => options.bind(bound)?,
        };
        Ok(StreamServer::new(listener))
    }
}

const MIN_BACKOFF: Duration = Duration::from_millis(10);
const MAX_BACKOFF: Duration = Duration::from_secs(1);

impl<L: Listener> StreamServer<L> {
    /// A server on `listener`, with no connection limit.
    pub fn new(listener: L) -> StreamServer<L> {
        let idle = Event::new();
        idle.set();
        StreamServer {
            listener,
            max_connections: usize::MAX,
            shared: Rc::new(Shared {
                stopping: Event::new(),
                grace: Cell::new(Duration::ZERO),
                active: Cell::new(0),
                idle,
                accept_errors: Cell::new(0),
            }),
        }
    }

    /// At most `n` connections are served at once (at least 1).
    pub fn max_connections(mut self, n: usize) -> StreamServer<L> {
        self.max_connections = n.max(1);
        self
    }

    /// A handle to stop the server and read its counters.
    pub fn stop_handle(&self) -> StopHandle {
        StopHandle {
            shared: self.shared.clone(),
        }
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> io::Result<L::Addr> {
        self.listener.local_addr()
    }

    /// Accepts connections and runs `handler(stream, peer)` as a task for each, until stopped.
    /// The connection is closed when the handler returns (it owns the stream).
    pub async fn serve<H, Fut>(self, mut handler: H) -> io::Result<()>
    where
        H: FnMut(L::Stream, L::Addr) -> Fut,
        Fut: Future<Output = ()> + 'static,
    {
        let StreamServer {
            listener,
            max_connections,
            shared,
        } = self;
        let limit = (max_connections != usize::MAX).then(|| Semaphore::new(max_connections));
        let mut handlers = Handlers::default();
        let mut backoff = MIN_BACKOFF;
        loop {
            // Wait for a free slot (or the stop) before accepting.
            let permit = match &limit {
                Some(limit) => select! {
                    biased;
                    permit = limit.acquire() => {
                        permit.forget();
                        Some(limit.clone())
                    },
                    () = shared.stopping.wait() => break,
                },
                None => None,
            };
            let accepted = select! {
                biased;
                accepted = poll_fn(|cx| listener.poll_accept(cx)) => accepted,
                () = shared.stopping.wait() => {
                    if let Some(limit) = permit {
                        limit.release(1);
                    }
                    break;
                },
            };
            match accepted {
                Ok((stream, peer)) => {
                    backoff = MIN_BACKOFF;
                    shared.active.set(shared.active.get() + 1);
                    shared.idle.clear();
                    handlers.push(spawn(Tracked {
                        connection: handler(stream, peer),
                        _active: Active(shared.clone()),
                        _slot: permit.map(SlotRelease),
                    }));
                }
                Err(_) => {
                    if let Some(limit) = permit {
                        limit.release(1);
                    }
                    shared.accept_errors.set(shared.accept_errors.get() + 1);
                    // Out of fds (or another transient error): pause, doubling while it lasts.
                    select! {
                        biased;
                        () = sleep(backoff) => {},
                        () = shared.stopping.wait() => break,
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
        drop(listener); // stop accepting: new clients are refused from here on
        if timeout(shared.grace.get(), shared.idle.wait())
            .await
            .is_err()
        {
            handlers.abort_all();
            shared.idle.wait().await;
        }
        Ok(())
    }
}

/// Returns a slot to the connection limit when the handler ends.
struct SlotRelease(Semaphore);

pin_project_lite::pin_project! {
    /// A connection's task: the handler's future, then (dropped after it, in this order) the
    /// count of active connections and the slot under the limit. A struct rather than an
    /// `async` block: awaiting a future the block captured stored it twice, once captured
    /// and once being awaited, and that doubled every waiting connection's task (552 bytes
    /// for the echo server's, 280 since).
    struct Tracked<F> {
        #[pin]
        connection: F,
        _active: Active,
        _slot: Option<SlotRelease>,
    }
}

impl<F: Future<Output = ()>> Future for Tracked<F> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.project().connection.poll(cx)
    }
}

impl Drop for SlotRelease {
    fn drop(&mut self) {
        self.0.release(1);
    }
}

/// The handles of the connection tasks, kept to abort whatever is still running when the
/// grace period ends. Finished ones are pruned once the list has doubled since the last prune,
/// so an accept costs O(1) amortized, not a walk over every live connection.
#[derive(Default)]
struct Handlers {
    tasks: Vec<JoinHandle<()>>,
    prune_at: usize,
}

impl Handlers {
    /// Fewest handles worth a prune.
    const MIN_PRUNE: usize = 64;

    fn push(&mut self, task: JoinHandle<()>) {
        if self.tasks.len() >= self.prune_at {
            self.tasks.retain(|task| !task.is_finished());
            self.prune_at = (self.tasks.len() * 2).max(Self::MIN_PRUNE);
        }
        self.tasks.push(task);
    }

    fn abort_all(&self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}
