//! The cancellation sweep: in async Rust a cancel is a drop, and the classic bug is an
//! operation that had already taken something (bytes, an item, a permit) when it was dropped.
//! A sweep runs a scenario once per suspension point of the operation under test: run `k`
//! drops the operation at its `k`-th `Pending` (k = 0, 1, 2, ...), then the scenario checks
//! what must hold after a cancel (nothing lost, nothing leaked), until a run in which the
//! operation completes. Each run is on a fresh runtime, paused and seeded if asked, so a
//! failing point replays exactly.

use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use crate::runtime::Builder;

/// A cancellation sweep over one operation.
///
/// ```
/// use weft::queue::Queue;
/// use weft::testing::CancelSweep;
///
/// // Is `Queue::get` cancel-safe? Cancelled at any point, the item must stay in the queue.
/// let report = CancelSweep::new("queue_get")
///     .run(|cancel| async move {
///         let queue = Queue::<u32>::new(1);
///         let producer = {
///             let queue = queue.clone();
///             weft::spawn(async move {
///                 weft::yield_now().await;
///                 queue.put(7).await.unwrap();
///             })
///         };
///         let got = cancel.at(queue.get()).await.map(Result::unwrap);
///         producer.await.unwrap();
///         let left = queue.try_get().ok();
///         match got {
///             Some(item) if item == 7 && left.is_none() => Ok(()),
///             None if left == Some(7) => Ok(()),
///             _ => Err(format!("got {got:?}, left {left:?}: the item was lost")),
///         }
///     })
///     .unwrap();
/// assert!(report.points >= 1);
/// ```
#[derive(Debug, Clone)]
pub struct CancelSweep {
    name: &'static str,
    paused: bool,
    seed: Option<u64>,
    max_points: usize,
}

impl CancelSweep {
    /// A sweep called `name` (the test's name, for the replay line).
    pub fn new(name: &'static str) -> CancelSweep {
        CancelSweep {
            name,
            paused: false,
            seed: None,
            max_points: 10_000,
        }
    }

    /// Each run's clock starts paused and jumps when every task waits, so an operation
    /// with timeouts or sleeps is swept in no time.
    pub fn paused(mut self, paused: bool) -> CancelSweep {
        self.paused = paused;
        self
    }

    /// Each run shuffles the order of tasks woken together with `seed` (see
    /// [`Builder::seed`]).
    pub fn seed(mut self, seed: u64) -> CancelSweep {
        self.seed = Some(seed);
        self
    }

    /// Gives up (as a failure) on an operation that has not completed after this many
    /// suspension points; 10,000 unless set.
    pub fn max_points(mut self, points: usize) -> CancelSweep {
        self.max_points = points.max(1);
        self
    }

    /// Runs `scenario` once per suspension point, on a fresh runtime each time, until the
    /// operation it wraps with [`Cancel::at`] completes. The scenario returns `Err` (or
    /// panics) when what must hold after the cancel does not. `WEFT_SWEEP_POINT=k` runs
    /// point `k` alone: how a failure is replayed.
    pub fn run<F, Fut, E>(&self, scenario: F) -> Result<SweepReport, SweepFailure>
    where
        F: Fn(Cancel) -> Fut,
        Fut: Future<Output = Result<(), E>> + 'static,
        E: fmt::Display + 'static,
    {
        let only = std::env::var("WEFT_SWEEP_POINT")
            .ok()
            .and_then(|k| k.trim().parse::<usize>().ok());
        let points = match only {
            Some(point) => point..point + 1,
            None => 0..self.max_points,
        };
        for point in points {
            let reached = Rc::new(Cell::new(Reached::NotYet));
            let cancel = Cancel {
                point,
                reached: reached.clone(),
            };
            let outcome = self.run_point(scenario(cancel));
            let fail = |error: String| SweepFailure {
                name: self.name,
                point,
                seed: self.seed,
                error,
            };
            outcome.map_err(fail)?;
            match reached.get() {
                Reached::Completed => return Ok(SweepReport { points: point }),
                Reached::Cancelled => {}
                Reached::NotYet => {
                    return Err(fail(
                        "the scenario never ran the operation it wraps with Cancel::at".into(),
                    ));
                }
            }
            if only.is_some() {
                return Ok(SweepReport { points: point });
            }
        }
        Err(SweepFailure {
            name: self.name,
            point: self.max_points,
            seed: self.seed,
            error: format!(
                "the operation had not completed after {} suspension points",
                self.max_points
            ),
        })
    }

    fn run_point<Fut, E>(&self, scenario: Fut) -> Result<(), String>
    where
        Fut: Future<Output = Result<(), E>> + 'static,
        E: fmt::Display + 'static,
    {
        let mut builder = Builder::new().start_paused(self.paused);
        if let Some(seed) = self.seed {
            builder = builder.seed(seed);
        }
        let runtime = builder
            .build()
            .map_err(|err| format!("could not create its runtime: {err}"))?;
        // In a task, so the scenario's helpers take turns with it in one queue.
        let ran = catch_unwind(AssertUnwindSafe(|| {
            runtime.try_block_on(runtime.spawn(scenario))
        }));
        match ran {
            Ok(Ok(Ok(Ok(())))) => Ok(()),
            Ok(Ok(Ok(Err(error)))) => Err(error.to_string()),
            Ok(Ok(Err(join))) => Err(join.to_string()),
            Ok(Err(deadlock)) => Err(deadlock.to_string()),
            Err(panic) => Err(panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "it panicked".to_owned())),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reached {
    NotYet,
    Cancelled,
    Completed,
}

/// One run's cancel point, given to the scenario: wrap the operation under test in
/// [`at`](Cancel::at).
#[derive(Debug)]
pub struct Cancel {
    point: usize,
    reached: Rc<Cell<Reached>>,
}

impl Cancel {
    /// Which suspension point this run cancels at: the operation is dropped at its
    /// `point`-th `Pending` (counting from 0).
    pub fn point(&self) -> usize {
        self.point
    }

    /// `op`, dropped at this run's suspension point: `None` if it was, its output if it
    /// completed first.
    pub fn at<F: Future>(&self, op: F) -> CancelAt<F> {
        CancelAt {
            op: Some(Box::pin(op)),
            pendings_left: self.point,
            reached: self.reached.clone(),
        }
    }
}

/// The future [`Cancel::at`] returns.
pub struct CancelAt<F> {
    op: Option<Pin<Box<F>>>,
    pendings_left: usize,
    reached: Rc<Cell<Reached>>,
}

impl<F: Future> Future for CancelAt<F> {
    type Output = Option<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some(op) = self.op.as_mut() else {
            return Poll::Ready(None);
        };
        match op.as_mut().poll(cx) {
            Poll::Ready(output) => {
                self.op = None;
                self.reached.set(Reached::Completed);
                Poll::Ready(Some(output))
            }
            Poll::Pending if self.pendings_left == 0 => {
                // The cancel: the operation is dropped here, as a `select!` or a timeout
                // would drop it.
                self.op = None;
                self.reached.set(Reached::Cancelled);
                Poll::Ready(None)
            }
            Poll::Pending => {
                self.pendings_left -= 1;
                Poll::Pending
            }
        }
    }
}

impl<F> fmt::Debug for CancelAt<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelAt")
            .field("pendings_left", &self.pendings_left)
            .finish_non_exhaustive()
    }
}

/// A sweep that passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SweepReport {
    /// The operation's suspension points: each was cancelled at in its own run, and the
    /// run after them let it complete.
    pub points: usize,
}

/// A sweep that failed: where, why, and how to run that point again.
#[derive(Debug, Clone)]
pub struct SweepFailure {
    /// The sweep's name.
    pub name: &'static str,
    /// The suspension point whose cancel broke what must hold.
    pub point: usize,
    /// The scheduling seed the runs used, if any.
    pub seed: Option<u64>,
    /// What the scenario returned or panicked with.
    pub error: String,
}

impl fmt::Display for SweepFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: cancelled at its suspension point {}: {}",
            self.name, self.point, self.error
        )?;
        let short = self.name.rsplit("::").next().unwrap_or(self.name);
        let seed = self
            .seed
            .map(|s| format!(" (seed {s})"))
            .unwrap_or_default();
        write!(
            f,
            "\nreplay it{seed}: WEFT_SWEEP_POINT={} cargo test {short}",
            self.point
        )
    }
}

impl std::error::Error for SweepFailure {}
