//! `spawn` and the task `Builder`.

use std::future::Future;
use std::panic::Location;

use super::JoinHandle;
use crate::executor::context;

/// Starts `future` as a new task on the current runtime and returns its [`JoinHandle`]:
/// asyncio's `create_task`, gevent's `spawn`.
///
/// The future need not be `Send`: it is polled only on this thread. It starts running at the
/// runtime's next turn, not inside `spawn`.
///
/// # Panics
/// Outside a runtime (use `weft::run`, or `Runtime::spawn` on a runtime you hold).
///
/// ```
/// weft::run(async {
///     let a = weft::spawn(async { 1 });
///     let b = weft::spawn(async { 2 });
///     assert_eq!(a.await.unwrap() + b.await.unwrap(), 3);
/// });
/// ```
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    Builder::new().spawn(future)
}

/// Spawns a task with options, such as a name that shows in errors and deadlock reports.
///
/// ```
/// weft::run(async {
///     let handle = weft::task::Builder::new().name("fetcher").spawn(async { "page" });
///     assert_eq!(handle.name(), Some("fetcher"));
///     assert_eq!(handle.await.unwrap(), "page");
/// });
/// ```
#[derive(Default, Debug)]
pub struct Builder {
    name: Option<String>,
}

impl Builder {
    /// A builder with no options set.
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Names the task.
    pub fn name(mut self, name: impl Into<String>) -> Builder {
        self.name = Some(name.into());
        self
    }

    /// Spawns `future` on the current runtime; see [`spawn`].
    #[track_caller]
    pub fn spawn<F>(self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let location = Location::caller();
        context::expect_core("weft::spawn").spawn(future, self.name, location)
    }
}
