//! `Pool`: at most n tasks at a time.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;

use super::{JoinError, JoinHandle, spawn};
use crate::channel::mpsc;
use crate::generator::AsyncGen;
use crate::sync::Semaphore;

/// Runs at most `size` tasks at once: gevent's `Pool`, and `multiprocessing.Pool` on tasks.
/// [`spawn`](Pool::spawn) waits while the pool is full; [`map`](Pool::map),
/// [`map_unordered`](Pool::map_unordered), [`imap`](Pool::imap) and
/// [`imap_unordered`](Pool::imap_unordered) run a function over many items with that bound. A clone is another handle to the same pool.
///
/// ```
/// use std::time::Duration;
/// use weft::task::Pool;
///
/// weft::run(async {
///     let pool = Pool::new(2); // at most two fetches at a time
///     let sizes = pool
///         .map(["a.html", "bb.html", "ccc.html"], |page| async move {
///             weft::time::sleep(Duration::from_millis(1)).await; // the "download"
///             page.len()
///         })
///         .await;
///     let sizes: Vec<usize> = sizes.into_iter().map(Result::unwrap).collect();
///     assert_eq!(sizes, [6, 7, 8]); // in the order of the items
///     pool.join().await;
///     assert_eq!(pool.free_count(), 2);
/// });
/// ```
#[derive(Clone)]
pub struct Pool {
    slots: Semaphore,
    size: usize,
}

/// Gives the task's slot back however the task ends (returns, panics, or is aborted).
struct Slot(Semaphore);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.release(1);
    }
}

impl Pool {
    /// A pool of `size` slots. A pool of size 0 never runs anything (its `spawn` waits forever),
    /// as gevent's.
    pub fn new(size: usize) -> Pool {
        Pool {
            slots: Semaphore::new(size),
            size,
        }
    }

    /// How many tasks may run at once.
    pub fn size(&self) -> usize {
        self.size
    }

    /// How many more tasks could start right now.
    pub fn free_count(&self) -> usize {
        self.slots.available_permits()
    }

    /// Waits for a free slot, then spawns `future` in it. Resolves to the task's handle (await
    /// that for the output), so the wait for a slot and the task's own run are separate steps.
    #[track_caller]
    #[allow(clippy::async_yields_async)] // resolving to a JoinHandle is the point
    pub fn spawn<F>(&self, future: F) -> impl Future<Output = JoinHandle<F::Output>> + 'static
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let location = std::panic::Location::caller();
        let slots = self.slots.clone();
        async move {
            slots.acquire().await.forget();
            let slot = Slot(slots);
            crate::executor::expect_core("Pool::spawn").spawn(
                async move {
                    let _slot = slot;
                    future.await
                },
                None,
                location,
            )
        }
    }

    /// Runs `future` in the pool and waits for its result (Python's `apply`).
    pub async fn apply<F>(&self, future: F) -> Result<F::Output, JoinError>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.spawn(future).await.await
    }

    /// Runs `f` on every item, at most `size` at a time, and returns the results in the
    /// items' order (Python's `map`). Failures (panics) are results too.
    pub async fn map<I, F, Fut>(&self, items: I, mut f: F) -> Vec<Result<Fut::Output, JoinError>>
    where
        I: IntoIterator,
        F: FnMut(I::Item) -> Fut,
        Fut: Future + 'static,
        Fut::Output: 'static,
    {
        let mut handles = Vec::new();
        for item in items {
            handles.push(self.spawn(f(item)).await);
        }
        super::gather(handles).await
    }

    /// Like [`map`](Pool::map), but the results come in the order the tasks finish.
    pub async fn map_unordered<I, F, Fut>(
        &self,
        items: I,
        f: F,
    ) -> Vec<Result<Fut::Output, JoinError>>
    where
        I: IntoIterator + 'static,
        F: FnMut(I::Item) -> Fut + 'static,
        Fut: Future + 'static,
        Fut::Output: 'static,
    {
        let mut finished = self.imap_unordered(items, f);
        let mut results = Vec::new();
        while let Some(result) = finished.next().await {
            results.push(result);
        }
        results
    }

    /// Like [`map`](Pool::map), but lazy: a stream of results in the items' order, which starts
    /// at most `size` tasks ahead of the one it waits for (Python's `imap`).
    pub fn imap<I, F, Fut>(&self, items: I, mut f: F) -> AsyncGen<Result<Fut::Output, JoinError>>
    where
        I: IntoIterator + 'static,
        F: FnMut(I::Item) -> Fut + 'static,
        Fut: Future + 'static,
        Fut::Output: 'static,
    {
        let pool = self.clone();
        AsyncGen::new(move |co| async move {
            let mut items = items.into_iter();
            let mut ahead: VecDeque<JoinHandle<Fut::Output>> = VecDeque::new();
            loop {
                while ahead.len() < pool.size.max(1) {
                    let Some(item) = items.next() else { break };
                    ahead.push_back(pool.spawn(f(item)).await);
                }
                let Some(next) = ahead.pop_front() else {
                    return Ok(());
                };
                co.yield_(next.await).await?;
            }
        })
    }

    /// Runs `f` on every item, at most `size` at a time, and yields the results as they finish
    /// (Python's `imap_unordered`).
    pub fn imap_unordered<I, F, Fut>(
        &self,
        items: I,
        mut f: F,
    ) -> AsyncGen<Result<Fut::Output, JoinError>>
    where
        I: IntoIterator + 'static,
        F: FnMut(I::Item) -> Fut + 'static,
        Fut: Future + 'static,
        Fut::Output: 'static,
    {
        let pool = self.clone();
        AsyncGen::new(move |co| async move {
            let (done_tx, mut done_rx) = mpsc::unbounded();
            let mut started = 0usize;
            for item in items {
                let task = pool.spawn(f(item)).await;
                let done_tx = done_tx.clone();
                // A small relay task reports each result the moment it is ready.
                spawn(async move {
                    let _ = done_tx.send(task.await);
                });
                started += 1;
                // Hand out what finished meanwhile, without waiting.
                while let Ok(result) = done_rx.try_recv() {
                    started -= 1;
                    co.yield_(result).await?;
                }
            }
            drop(done_tx);
            for _ in 0..started {
                let Some(result) = done_rx.recv().await else {
                    break;
                };
                co.yield_(result).await?;
            }
            Ok(())
        })
    }

    /// Waits until no task of the pool is running (empty at least once, as gevent's `join`).
    pub async fn join(&self) {
        if self.size == 0 {
            return;
        }
        drop(self.slots.acquire_many(self.size).await);
    }
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("size", &self.size)
            .field("free", &self.free_count())
            .finish()
    }
}
