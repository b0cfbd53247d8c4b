//! Running a test on a fresh runtime: a paused clock, a seed or a sweep of seeds, and a time
//! limit. `#[weft::test(...)]` expands to a [`Test`]; call it directly for the same from a
//! plain `#[test]`. [`CancelSweep`] cancels an operation at each of its suspension points in
//! turn and checks what the test says must hold after each; [`Leaks`] checks that nothing
//! was left running or armed.

mod cancel_sweep;
mod leaks;

pub use cancel_sweep::{Cancel, CancelAt, CancelSweep, SweepFailure, SweepReport};
pub use leaks::Leaks;

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::time::Duration;

use crate::runtime::Builder;
use crate::time::AutoAdvance;

/// One test, run on a fresh runtime for each seed.
///
/// ```
/// use std::time::Duration;
/// use weft::testing::Test;
///
/// Test::new("an_hour_in_no_time")
///     .paused(true)
///     .seeds(10)
///     .time_limit(Duration::from_secs(5))
///     .run(|| async {
///         weft::time::sleep(Duration::from_secs(3600)).await;
///     });
/// ```
#[derive(Debug, Clone)]
pub struct Test {
    name: &'static str,
    paused: bool,
    /// `None`: the builder's default.
    auto_advance: Option<AutoAdvance>,
    seeds: Seeds,
    time_limit: Option<Duration>,
}

#[derive(Debug, Clone, Copy)]
enum Seeds {
    /// The runtime's default: wake order.
    Fifo,
    One(u64),
    /// Seeds `0..n`.
    Sweep(u64),
}

/// What a test returns: `()` or a `Result`. An `Err` fails the test.
pub trait TestOutcome {
    /// Whether this outcome fails the test.
    fn is_failure(&self) -> bool;
}

impl TestOutcome for () {
    fn is_failure(&self) -> bool {
        false
    }
}

impl<T, E> TestOutcome for Result<T, E> {
    fn is_failure(&self) -> bool {
        self.is_err()
    }
}

impl Test {
    /// A test called `name` (its path, for the replay instructions), with the system clock
    /// and the default scheduling order.
    pub fn new(name: &'static str) -> Test {
        Test {
            name,
            paused: false,
            auto_advance: None,
            seeds: Seeds::Fifo,
            time_limit: None,
        }
    }

    /// Starts each run's clock paused (see
    /// [`Builder::start_paused`](crate::runtime::Builder::start_paused)).
    pub fn paused(mut self, paused: bool) -> Test {
        self.paused = paused;
        self
    }

    /// How the paused clock moves by itself (see
    /// [`Builder::auto_advance`](crate::runtime::Builder::auto_advance));
    /// `#[weft::test(paused, auto_advance = "after_idle(20ms)")]`. Implies a paused clock.
    pub fn auto_advance(mut self, mode: AutoAdvance) -> Test {
        self.paused = true;
        self.auto_advance = Some(mode);
        self
    }

    /// Runs under one seed (see [`Builder::seed`](crate::runtime::Builder::seed)).
    pub fn seed(mut self, seed: u64) -> Test {
        self.seeds = Seeds::One(seed);
        self
    }

    /// Runs once under each seed of `0..count`, stopping at the first failure.
    pub fn seeds(mut self, count: u64) -> Test {
        self.seeds = Seeds::Sweep(count.max(1));
        self
    }

    /// Fails a run that goes on longer than `limit` in real time, printing the task dump.
    pub fn time_limit(mut self, limit: Duration) -> Test {
        self.time_limit = Some(limit);
        self
    }

    /// Runs the future `test` makes, once per seed (once with no seed), each on a fresh
    /// runtime, and returns the last outcome, or the first that failed. `WEFT_SEED`, when
    /// set, replaces the seeds with itself: that is how a failure is replayed. A failing
    /// seeded run prints its seed and how to replay it; then the panic goes on (or the
    /// failing outcome is returned).
    pub fn run<F, Fut>(&self, test: F) -> Fut::Output
    where
        F: Fn() -> Fut,
        Fut: Future,
        Fut::Output: TestOutcome,
    {
        let seeds: Vec<Option<u64>> = match (crate::executor::seed_from_env(), self.seeds) {
            (Ok(Some(seed)), _) => vec![Some(seed)],
            (_, Seeds::Fifo) => vec![None],
            (_, Seeds::One(seed)) => vec![Some(seed)],
            (_, Seeds::Sweep(count)) => (0..count).map(Some).collect(),
        };
        let mut outcome = None;
        for seed in seeds {
            let run = catch_unwind(AssertUnwindSafe(|| self.run_once(seed, &test)));
            match run {
                Err(panic) => {
                    self.tell_how_to_replay(seed);
                    resume_unwind(panic);
                }
                Ok(failed) if failed.is_failure() => {
                    self.tell_how_to_replay(seed);
                    return failed;
                }
                Ok(passed) => outcome = Some(passed),
            }
        }
        outcome.expect("at least one seed ran")
    }

    fn run_once<F, Fut>(&self, seed: Option<u64>, test: &F) -> Fut::Output
    where
        F: Fn() -> Fut,
        Fut: Future,
    {
        let mut builder = Builder::new().start_paused(self.paused);
        if let Some(mode) = self.auto_advance {
            builder = builder.auto_advance(mode);
        }
        if let Some(seed) = seed {
            builder = builder.seed(seed);
        }
        let runtime = builder
            .build()
            .unwrap_or_else(|err| panic!("{}: could not create its runtime: {err}", self.name));
        match self.time_limit {
            None => runtime.block_on(test()),
            Some(limit) => runtime
                .block_on_within(limit, test())
                .unwrap_or_else(|over| panic!("{}: {over}", self.name)),
        }
    }

    fn tell_how_to_replay(&self, seed: Option<u64>) {
        let Some(seed) = seed else { return };
        let short = self.name.rsplit("::").next().unwrap_or(self.name);
        eprintln!(
            "weft: {} failed under scheduling seed {seed}. Replay it with\n    \
             WEFT_SEED={seed} cargo test {short}\nor pin it with #[weft::test(seed = {seed})].",
            self.name
        );
    }
}
