//! Starting N runtimes, one per core, and collecting what each one's `main` returned.

use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_channel::Receiver;

use super::affinity::{self, SavedAffinity};
use super::error::CoresError;
use super::handle::{CoreHandle, Shared};
use super::spawn_on::{Job, close_inbox, serve_inbox};
use crate::Runtime;
use crate::task::spawn;
use crate::time::sleep;

type StopWhen = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = ()>>> + Send + Sync>;

/// Configures a run on several cores; [`run`](Builder::run) starts it.
///
/// ```
/// use std::time::Duration;
///
/// let indexes = weft::cores::Builder::new(2)
///     .pin(false)
///     .grace(Duration::from_secs(1))
///     .run(|core| async move { Ok::<usize, std::io::Error>(core.index()) })
///     .unwrap();
/// assert_eq!(indexes, [0, 1]);
/// ```
#[derive(Clone)]
pub struct Builder {
    cores: usize,
    pin: bool,
    grace: Duration,
    stop_when: Option<StopWhen>,
}

/// What one core's `main` ended with.
type Outcome<T, E> = Result<T, CoresError<E>>;

impl Builder {
    /// A run on `cores` runtimes (at least 1), pinned, with a 5 s grace period, that stops
    /// only when asked from inside (see [`stop_when`](Builder::stop_when)).
    pub fn new(cores: usize) -> Builder {
        Builder {
            cores: cores.max(1),
            pin: true,
            grace: Duration::from_secs(5),
            stop_when: None,
        }
    }

    /// A run with one runtime per CPU this process may use.
    pub fn per_cpu() -> Builder {
        Builder::new(std::thread::available_parallelism().map_or(1, |n| n.get()))
    }

    /// Whether to pin core *i* to the *i*-th CPU the process may use (wrapping around when
    /// there are more cores than CPUs). On by default; where the system refuses, the core runs
    /// unpinned. The calling thread, which runs core 0, gets its CPU set back at the end.
    pub fn pin(mut self, pin: bool) -> Builder {
        self.pin = pin;
        self
    }

    /// How long each core's `main` may take to return once a stop was asked for, before it is
    /// dropped (and reported as [`CoresError::Cancelled`]).
    pub fn grace(mut self, grace: Duration) -> Builder {
        self.grace = grace;
        self
    }

    /// Runs the future `stop` returns as a task on every core; when one resolves, every core
    /// is asked to stop. `weft::cores::run` sets it to Ctrl-C.
    pub fn stop_when<F, Fut>(mut self, stop: F) -> Builder
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        self.stop_when = Some(Arc::new(move || Box::pin(stop())));
        self
    }

    /// Starts the runtimes, calls `main` on each with its [`CoreHandle`], and waits for all
    /// of them: core 0 on the calling thread, the others on threads named `weft-core-N`.
    /// Returns each core's output in index order, or the first failure: a `main` that
    /// returned an error, panicked, deadlocked, outlived the grace period, or a core that
    /// could not start. The first failure asks the other cores to stop. To keep the other
    /// cores' outputs when one fails, use [`run_each`](Builder::run_each).
    ///
    /// A core whose `main` returns `Ok` ends as `weft::run` does: its other tasks are dropped
    /// and it runs no more tasks sent to it, while the other cores go on.
    ///
    /// Every core runs the same `main`, so every core's output has one type: cores with
    /// different jobs branch on [`CoreHandle::index`] and return an enum (Rust has no list
    /// of values of different types; a tuple would fix the number of cores in the type).
    ///
    /// ```
    /// enum Role {
    ///     Acceptor { connections: usize },
    ///     Worker { jobs: u64 },
    /// }
    ///
    /// let roles = weft::cores::Builder::new(2)
    ///     .pin(false)
    ///     .run(|core| async move {
    ///         Ok::<_, std::io::Error>(match core.index() {
    ///             0 => Role::Acceptor { connections: 3 },
    ///             _ => Role::Worker { jobs: 10 },
    ///         })
    ///     })
    ///     .unwrap();
    /// assert!(matches!(roles[..], [Role::Acceptor { connections: 3 }, Role::Worker { jobs: 10 }]));
    /// ```
    pub fn run<F, Fut, T, E>(self, main: F) -> Result<Vec<T>, CoresError<E>>
    where
        F: Fn(CoreHandle) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, E>> + 'static,
        T: Send + 'static,
        E: Send + 'static,
    {
        let (mut outcomes, first_failure) = self.run_cores(main);
        match first_failure {
            Some(core) => Err(outcomes.swap_remove(core).err().expect("the core failed")),
            None => outcomes.into_iter().collect(),
        }
    }

    /// Like [`run`](Builder::run), but returns every core's outcome in index order, so the
    /// cores that succeeded keep their outputs when another failed (`asyncio.gather(...,
    /// return_exceptions=True)`). A failure still asks the other cores to stop: each gets
    /// the grace period to return what it has.
    ///
    /// ```
    /// let outcomes = weft::cores::Builder::new(2)
    ///     .pin(false)
    ///     .run_each(|core| async move {
    ///         if core.index() == 1 {
    ///             return Err("core 1 could not open its file");
    ///         }
    ///         core.stopping().await; // asked to stop by core 1's failure
    ///         Ok("core 0's partial report")
    ///     });
    /// assert_eq!(outcomes[0].as_ref().ok(), Some(&"core 0's partial report"));
    /// assert_eq!(outcomes[1].as_ref().unwrap_err().core(), 1);
    /// ```
    pub fn run_each<F, Fut, T, E>(self, main: F) -> Vec<Result<T, CoresError<E>>>
    where
        F: Fn(CoreHandle) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, E>> + 'static,
        T: Send + 'static,
        E: Send + 'static,
    {
        self.run_cores(main).0
    }

    /// Runs every core to its end; returns their outcomes in index order, and which core
    /// failed first, if one did.
    fn run_cores<F, Fut, T, E>(self, main: F) -> (Vec<Outcome<T, E>>, Option<usize>)
    where
        F: Fn(CoreHandle) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, E>> + 'static,
        T: Send + 'static,
        E: Send + 'static,
    {
        let (inboxes, inbox_receivers): (Vec<_>, Vec<_>) =
            (0..self.cores).map(|_| async_channel::unbounded()).unzip();
        let mut inbox_receivers = inbox_receivers.into_iter();
        let first_inbox = inbox_receivers.next().expect("at least one core");
        let shared = Arc::new(Shared::new(inboxes));
        let first_failure = Arc::new(Mutex::new(None));
        let cpus = if self.pin {
            affinity::allowed_cpus()
        } else {
            Vec::new()
        };
        let saved = SavedAffinity::save();
        let main = Arc::new(main);
        let mut threads: Vec<Result<_, Outcome<T, E>>> = Vec::new();
        for (index, inbox) in (1..).zip(inbox_receivers) {
            let core = CoreToStart {
                handle: CoreHandle {
                    index,
                    shared: shared.clone(),
                },
                cpu: cpu_for(&cpus, index),
                inbox,
                settings: self.clone(),
            };
            let (main, failed) = (main.clone(), first_failure.clone());
            let started = std::thread::Builder::new()
                .name(format!("weft-core-{index}"))
                .spawn(move || core.run(&*main, &failed));
            threads.push(started.map_err(|error| {
                note_failure(&first_failure, &shared, index);
                Err(CoresError::Start { core: index, error })
            }));
        }
        let first = CoreToStart {
            handle: CoreHandle {
                index: 0,
                shared: shared.clone(),
            },
            cpu: cpu_for(&cpus, 0),
            inbox: first_inbox,
            settings: self.clone(),
        };
        let mut outcomes = vec![first.run(&*main, &first_failure)];
        outcomes.extend((1..).zip(threads).map(|(core, thread)| {
            match thread {
                // A core thread catches its own panics; a join error would be one all the same.
                Ok(thread) => thread
                    .join()
                    .unwrap_or_else(|payload| Err(CoresError::Panicked { core, payload })),
                Err(not_started) => not_started,
            }
        }));
        if self.pin && !cpus.is_empty() {
            saved.restore();
        }
        let first_failure = *first_failure
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        (outcomes, first_failure)
    }
}

impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("cores", &self.cores)
            .field("pin", &self.pin)
            .field("grace", &self.grace)
            .field("stop_when", &self.stop_when.is_some())
            .finish()
    }
}

fn cpu_for(cpus: &[usize], index: usize) -> Option<usize> {
    (!cpus.is_empty()).then(|| cpus[index % cpus.len()])
}

/// Remembers which core failed first, and asks every core to stop.
fn note_failure(first: &Mutex<Option<usize>>, shared: &Shared, core: usize) {
    first
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get_or_insert(core);
    shared.shutdown();
}

/// One core, before it starts.
struct CoreToStart {
    handle: CoreHandle,
    cpu: Option<usize>,
    inbox: Receiver<Job>,
    settings: Builder,
}

impl CoreToStart {
    /// Runs this core's runtime to the end on the calling thread; a failure asks the other
    /// cores to stop, and is noted if it is the first.
    fn run<F, Fut, T, E>(self, main: &F, first_failure: &Mutex<Option<usize>>) -> Outcome<T, E>
    where
        F: Fn(CoreHandle) -> Fut,
        Fut: Future<Output = Result<T, E>> + 'static,
    {
        let (shared, core) = (self.handle.shared.clone(), self.handle.index);
        let inbox = self.inbox.clone();
        let outcome = self.outcome(main);
        close_inbox(&inbox);
        if outcome.is_err() {
            note_failure(first_failure, &shared, core);
        }
        outcome
    }

    fn outcome<F, Fut, T, E>(self, main: &F) -> Outcome<T, E>
    where
        F: Fn(CoreHandle) -> Fut,
        Fut: Future<Output = Result<T, E>> + 'static,
    {
        let core = self.handle.index;
        if let Some(cpu) = self.cpu {
            affinity::pin_to(cpu);
        }
        let runtime = Runtime::new().map_err(|error| CoresError::Start { core, error })?;
        let CoreToStart {
            handle,
            inbox,
            settings,
            ..
        } = self;
        let run = panic::catch_unwind(AssertUnwindSafe(|| {
            let ran = runtime.try_block_on(async move {
                spawn(serve_inbox(inbox));
                if let Some(stop_when) = settings.stop_when {
                    let handle = handle.clone();
                    spawn(async move {
                        stop_when().await;
                        handle.shutdown();
                    });
                }
                let main = main(handle.clone());
                let backstop = async {
                    handle.stopping().await;
                    sleep(settings.grace).await;
                };
                crate::select! {
                    output = main => Some(output),
                    () = backstop => None,
                }
            });
            drop(runtime);
            ran
        }));
        match run {
            Ok(Ok(Some(Ok(value)))) => Ok(value),
            Ok(Ok(Some(Err(error)))) => Err(CoresError::Failed { core, error }),
            Ok(Ok(None)) => Err(CoresError::Cancelled { core }),
            Ok(Err(report)) => Err(CoresError::Deadlocked {
                core,
                report: Box::new(report),
            }),
            Err(payload) => Err(CoresError::Panicked { core, payload }),
        }
    }
}
