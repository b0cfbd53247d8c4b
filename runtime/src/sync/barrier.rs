//! `Barrier`: wait until a number of tasks have all arrived.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use crate::waiters::WaitList;

/// Lets `parties` tasks wait for each other: Python's `threading.Barrier` /
/// `asyncio.Barrier`. Each [`wait`](Barrier::wait) returns a distinct arrival index in
/// `0..parties`; when the last party arrives, the optional action runs once, then everyone is
/// released and the barrier is ready for the next round.
///
/// [`abort`](Barrier::abort) breaks the barrier: waiters, and later callers of `wait`, get
/// [`BrokenBarrierError`] until [`reset`](Barrier::reset). As a Python thread's `wait(timeout)` that
/// times out breaks the barrier, so does a waiting future that is dropped (cancelled), since the
/// others could otherwise wait forever for a party that left.
///
/// ```
/// use std::cell::RefCell;
/// use std::rc::Rc;
/// use weft::sync::Barrier;
///
/// weft::run(async {
///     let log = Rc::new(RefCell::new(Vec::new()));
///     let phase_done = Barrier::with_action(3, {
///         let log = log.clone();
///         move || log.borrow_mut().push("--")
///     });
///     let workers: Vec<_> = (0..3)
///         .map(|w| {
///             let (barrier, log) = (phase_done.clone(), log.clone());
///             weft::spawn(async move {
///                 for phase in ["load", "work"] {
///                     log.borrow_mut().push(phase);
///                     barrier.wait().await.unwrap();
///                 }
///                 w
///             })
///         })
///         .collect();
///     for w in workers {
///         w.await.unwrap();
///     }
///     assert_eq!(*log.borrow(), ["load", "load", "load", "--", "work", "work", "work", "--"]);
/// });
/// ```
#[derive(Clone)]
pub struct Barrier {
    inner: Rc<Inner>,
}

struct Inner {
    parties: usize,
    state: RefCell<State>,
    action: RefCell<Option<Box<dyn FnMut()>>>,
}

struct State {
    arrived: usize,
    broken: bool,
    /// Each waiter's value is set when it is released: `true` for a completed round.
    waiters: WaitList<bool>,
}

impl Barrier {
    /// A barrier for `parties` tasks (at least 1).
    #[track_caller]
    pub fn new(parties: usize) -> Barrier {
        Barrier::build(parties, None)
    }

    /// A barrier that runs `action` once per round, after the last party arrives and before
    /// anyone is released.
    #[track_caller]
    pub fn with_action(parties: usize, action: impl FnMut() + 'static) -> Barrier {
        Barrier::build(parties, Some(Box::new(action)))
    }

    #[track_caller]
    fn build(parties: usize, action: Option<Box<dyn FnMut()>>) -> Barrier {
        Barrier {
            inner: Rc::new(Inner {
                parties: parties.max(1),
                state: RefCell::new(State {
                    arrived: 0,
                    broken: false,
                    waiters: WaitList::new(&crate::waiters::Resource::new("Barrier"), "wait"),
                }),
                action: RefCell::new(action),
            }),
        }
    }

    /// Arrives and waits for the others; returns this party's arrival index.
    ///
    /// The last party to arrive runs the action. If the action panics, the barrier breaks
    /// first (the others get [`BrokenBarrierError`], as Python's parties do), then the panic
    /// goes on in the last party's task.
    pub fn wait(&self) -> Wait<'_> {
        Wait {
            barrier: self,
            arrival: None,
        }
    }

    /// One party arrives: the last one runs the action and releases the round.
    fn arrive(&self) -> Result<Arrived, BrokenBarrierError> {
        let index = {
            let mut state = self.inner.state.borrow_mut();
            if state.broken {
                return Err(BrokenBarrierError);
            }
            state.arrived += 1;
            state.arrived - 1
        };
        if index + 1 < self.inner.parties {
            return Ok(Arrived::Waits(index));
        }
        if let Some(action) = self.inner.action.borrow_mut().as_mut() {
            if let Err(panic) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(action)) {
                self.abort();
                std::panic::resume_unwind(panic);
            }
        }
        let mut state = self.inner.state.borrow_mut();
        state.arrived = 0;
        state.waiters.notify_all_with(|completed| *completed = true);
        Ok(Arrived::Last(index))
    }

    /// Breaks the barrier: current and future waiters get [`BrokenBarrierError`].
    pub fn abort(&self) {
        let mut state = self.inner.state.borrow_mut();
        state.broken = true;
        state.arrived = 0;
        state
            .waiters
            .notify_all_with(|completed| *completed = false);
    }

    /// Back to the empty, unbroken state; tasks waiting now get [`BrokenBarrierError`].
    pub fn reset(&self) {
        let mut state = self.inner.state.borrow_mut();
        state
            .waiters
            .notify_all_with(|completed| *completed = false);
        state.arrived = 0;
        state.broken = false;
    }

    /// How many parties a round needs.
    pub fn parties(&self) -> usize {
        self.inner.parties
    }

    /// How many parties wait in the current round.
    pub fn n_waiting(&self) -> usize {
        self.inner.state.borrow().arrived
    }

    /// Whether the barrier is broken.
    pub fn is_broken(&self) -> bool {
        self.inner.state.borrow().broken
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Barrier")
            .field("parties", &self.parties())
            .field("waiting", &self.n_waiting())
            .field("broken", &self.is_broken())
            .finish()
    }
}

/// How a party's arrival went, with its arrival index.
enum Arrived {
    /// It completed the round.
    Last(usize),
    /// It waits for the others.
    Waits(usize),
}

/// The future of [`Barrier::wait`]: arrives when first polled, then waits for the round.
/// Dropping it while it waits breaks the barrier (a party left mid-round).
#[must_use = "futures do nothing unless awaited"]
pub struct Wait<'a> {
    barrier: &'a Barrier,
    /// After arriving: this party's index and its place in the waiter list.
    arrival: Option<(usize, Option<usize>)>,
}

impl Future for Wait<'_> {
    type Output = Result<usize, BrokenBarrierError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let barrier = self.barrier;
        let (index, key) = match &mut self.arrival {
            Some((index, key)) => (*index, key),
            None => match barrier.arrive()? {
                Arrived::Last(index) => return Poll::Ready(Ok(index)),
                Arrived::Waits(index) => {
                    let key = barrier.inner.state.borrow_mut().waiters.push(None, false);
                    let (_, key) = self.arrival.insert((index, Some(key)));
                    (index, key)
                }
            },
        };
        let mut state = barrier.inner.state.borrow_mut();
        match state.waiters.poll_notified(key, cx.waker()) {
            Poll::Ready(true) => Poll::Ready(Ok(index)),
            Poll::Ready(false) => Poll::Ready(Err(BrokenBarrierError)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        if let Some((_, Some(key))) = self.arrival {
            let released = self.barrier.inner.state.borrow_mut().waiters.remove(key).0;
            if !released {
                self.barrier.abort(); // a party left mid-round: nobody may wait for it forever
            }
        }
    }
}

/// The barrier was aborted, reset while waiting, or a waiting party was cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BrokenBarrierError;

impl fmt::Display for BrokenBarrierError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the barrier is broken")
    }
}

impl std::error::Error for BrokenBarrierError {}
