//! Queues between tasks: Python's `queue.Queue`, `LifoQueue` and `PriorityQueue` (and
//! asyncio's), with `task_done`/`join` and Python 3.13's `shutdown`.
//!
//! Single-threaded like the rest of weft (`Rc` inside, `!Send`); a clone is another handle to
//! the same queue. Getters and putters are each served first come, first served, and a getter
//! or putter that is cancelled after being woken passes its turn on, so no item and no free
//! slot is lost.

mod error;
mod store;

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

pub use error::{GetError, PutError, ShutDownError, TaskDoneError};
pub use store::{Fifo, Lifo, Priority, Store};

use crate::waiters::WaitList;

/// A first-in, first-out queue of items between tasks: Python's `queue.Queue` /
/// `asyncio.Queue`, gevent's `Queue`. A clone is another handle to the same queue.
///
/// [`put`](Queue::put) waits while the queue is full and [`get`](Queue::get) while it is
/// empty. Each put counts one unfinished item until a consumer calls
/// [`task_done`](Queue::task_done); [`join`](Queue::join) waits until none is unfinished.
///
/// Producers and consumers, the Python idiom:
///
/// ```
/// use std::cell::RefCell;
/// use std::rc::Rc;
/// use weft::queue::Queue;
///
/// weft::run(async {
///     let jobs = Queue::new(4);
///     let done = Rc::new(RefCell::new(Vec::new()));
///     for _ in 0..3 {
///         let (jobs, done) = (jobs.clone(), done.clone());
///         weft::spawn(async move {
///             while let Ok(n) = jobs.get().await {
///                 done.borrow_mut().push(n * n);
///                 jobs.task_done().unwrap();
///             }
///         });
///     }
///     for n in 0..10 {
///         jobs.put(n).await.unwrap();
///     }
///     jobs.join().await; // every job was processed
///     jobs.shutdown(false); // the workers' get() now ends their loops
///     assert_eq!(done.borrow().len(), 10);
/// });
/// ```
///
/// The item order comes from the store `S`: [`Fifo`] here, [`Lifo`] in [`LifoQueue`],
/// [`Priority`] in [`PriorityQueue`]. Every method is written once, here, for all three.
pub struct Queue<T, S: Store<T> = Fifo<T>> {
    core: Rc<QueueCore<T, S>>,
}

impl<T> Queue<T> {
    /// A first-in, first-out queue holding at most `maxsize` items; 0 means no limit (Python's
    /// `maxsize <= 0`).
    #[track_caller]
    pub fn new(maxsize: usize) -> Self {
        Queue::with_store(maxsize)
    }
}

impl<T, S: Store<T>> Queue<T, S> {
    /// A queue over the store `S`, holding at most `maxsize` items; 0 means no limit.
    /// [`Queue::new`], [`LifoQueue::new`] and [`PriorityQueue::new`] name the store for you.
    #[track_caller]
    pub fn with_store(maxsize: usize) -> Self {
        Queue {
            core: Rc::new(QueueCore::new(maxsize)),
        }
    }

    /// Adds `item`, waiting while the queue is full. Fails, giving the item back in
    /// [`PutError::ShutDown`], once the queue is shut down.
    pub fn put(&self, item: T) -> Put<'_, T, S> {
        self.core.put(item)
    }

    /// Adds `item` now, or gives it back in [`PutError::Full`] (Python's `put_nowait`
    /// raising `queue.Full`) or [`PutError::ShutDown`].
    pub fn try_put(&self, item: T) -> Result<(), PutError<T>> {
        self.core.try_put(item)
    }

    /// Removes the next item, waiting while the queue is empty. After
    /// [`shutdown`](Self::shutdown) it still hands out what is left (unless the
    /// shutdown was immediate), then fails with [`ShutDownError`].
    pub fn get(&self) -> Get<'_, T, S> {
        self.core.get()
    }

    /// Removes the next item now, or fails with [`GetError::Empty`] (Python's
    /// `get_nowait` raising `queue.Empty`) or [`GetError::ShutDown`].
    pub fn try_get(&self) -> Result<T, GetError> {
        self.core.try_get()
    }

    /// Marks one item taken earlier as processed. Calling it more often than items
    /// were put is an error ([`TaskDoneError`]), as Python's `ValueError`.
    pub fn task_done(&self) -> Result<(), TaskDoneError> {
        self.core.task_done()
    }

    /// Waits until every item put so far has been marked done.
    pub fn join(&self) -> Join<'_, T, S> {
        self.core.join()
    }

    /// Shuts the queue down (Python 3.13): puts fail from now on and waiting putters
    /// are woken with an error. `immediate == false`: gets drain what is left, then
    /// fail; a waiting getter that was already handed an item keeps it, as in asyncio
    /// (first come, first served). `immediate == true`: the items are dropped now, the unfinished count
    /// drops by as many (so `join` can return), and waiting getters fail.
    pub fn shutdown(&self, immediate: bool) {
        self.core.shutdown(immediate)
    }

    /// Whether [`shutdown`](Self::shutdown) was called.
    pub fn is_shut_down(&self) -> bool {
        self.core.is_shut_down()
    }

    /// How many items are queued: Python's `qsize()`.
    pub fn len(&self) -> usize {
        self.core.len()
    }

    /// Whether no item is queued.
    pub fn is_empty(&self) -> bool {
        self.core.len() == 0
    }

    /// Whether the queue holds `maxsize` items (never, when unbounded).
    pub fn is_full(&self) -> bool {
        self.core.is_full()
    }

    /// The limit the queue was made with; 0 is unbounded.
    pub fn maxsize(&self) -> usize {
        self.core.maxsize()
    }

    /// How many items were put but not yet marked done.
    pub fn unfinished_tasks(&self) -> usize {
        self.core.unfinished_tasks()
    }
}

impl<T, S: Store<T>> Clone for Queue<T, S> {
    fn clone(&self) -> Self {
        Queue {
            core: self.core.clone(),
        }
    }
}

impl<T, S: Store<T>> fmt::Debug for Queue<T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Queue")?;
        fmt::Debug::fmt(&*self.core, f)
    }
}

/// A last-in, first-out queue: Python's `LifoQueue`. It is a [`Queue`] over the [`Lifo`] store, and derefs to it for every method.
///
/// ```
/// weft::run(async {
///     let stack = weft::queue::LifoQueue::new(0);
///     for n in 1..=3 {
///         stack.try_put(n).unwrap();
///     }
///     assert_eq!(stack.get().await, Ok(3));
/// });
/// ```
pub struct LifoQueue<T>(Queue<T, Lifo<T>>);

impl<T> LifoQueue<T> {
    /// A last-in, first-out queue holding at most `maxsize` items; 0 means no limit.
    #[track_caller]
    pub fn new(maxsize: usize) -> Self {
        LifoQueue(Queue::with_store(maxsize))
    }
}

// Written by hand: a derive would ask `T: Clone` and `T: Debug`, which a handle does not need.
impl<T> Clone for LifoQueue<T> {
    fn clone(&self) -> Self {
        LifoQueue(self.0.clone())
    }
}

impl<T> fmt::Debug for LifoQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LifoQueue")?;
        fmt::Debug::fmt(&*self.0.core, f)
    }
}

impl<T> Deref for LifoQueue<T> {
    type Target = Queue<T, Lifo<T>>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

/// A queue that hands out its lowest item first: Python's `PriorityQueue` (put
/// `(priority, value)` tuples). It is a [`Queue`] over the [`Priority`] store, and derefs to
/// it for every method.
///
/// ```
/// weft::run(async {
///     let todo = weft::queue::PriorityQueue::new(0);
///     todo.try_put((2, "write")).unwrap();
///     todo.try_put((1, "plan")).unwrap();
///     assert_eq!(todo.get().await, Ok((1, "plan")));
/// });
/// ```
pub struct PriorityQueue<T: Ord>(Queue<T, Priority<T>>);

impl<T: Ord> PriorityQueue<T> {
    /// A lowest-first queue holding at most `maxsize` items; 0 means no limit.
    #[track_caller]
    pub fn new(maxsize: usize) -> Self {
        PriorityQueue(Queue::with_store(maxsize))
    }
}

// Written by hand: a derive would ask `T: Clone` and `T: Debug`, which a handle does not need.
impl<T: Ord> Clone for PriorityQueue<T> {
    fn clone(&self) -> Self {
        PriorityQueue(self.0.clone())
    }
}

impl<T: Ord> fmt::Debug for PriorityQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PriorityQueue")?;
        fmt::Debug::fmt(&*self.0.core, f)
    }
}

impl<T: Ord> Deref for PriorityQueue<T> {
    type Target = Queue<T, Priority<T>>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

/// The queue itself, shared by the handles through an `Rc`.
struct QueueCore<T, S: Store<T>> {
    inner: RefCell<State<T, S>>,
}

struct State<T, S> {
    store: S,
    maxsize: usize,
    /// Each getter's value says whether it was granted an item (rather than woken by a
    /// shutdown); a granted item is reserved for it until it runs.
    getters: WaitList<bool>,
    putters: WaitList,
    joiners: WaitList,
    unfinished: usize,
    /// Items in the store reserved for getters that were granted one and have not run yet.
    reserved: usize,
    shut_down: bool,
    _items: std::marker::PhantomData<T>,
}

impl<T, S: Store<T>> QueueCore<T, S> {
    #[track_caller]
    fn new(maxsize: usize) -> Self {
        let resource = crate::waiters::Resource::new("Queue");
        QueueCore {
            inner: RefCell::new(State {
                store: S::default(),
                maxsize,
                getters: WaitList::new(&resource, "get (empty)"),
                putters: WaitList::new(&resource, "put (full)"),
                joiners: WaitList::new(&resource, "join (items unfinished)"),
                unfinished: 0,
                reserved: 0,
                shut_down: false,
                _items: std::marker::PhantomData,
            }),
        }
    }

    fn put(&self, item: T) -> Put<'_, T, S> {
        Put {
            queue: self,
            item: Some(item),
            key: None,
        }
    }

    fn try_put(&self, item: T) -> Result<(), PutError<T>> {
        let mut state = self.inner.borrow_mut();
        if state.shut_down {
            return Err(PutError::ShutDown(item));
        }
        if !state.has_room() {
            return Err(PutError::Full(item));
        }
        state.push(item);
        Ok(())
    }

    fn get(&self) -> Get<'_, T, S> {
        Get {
            queue: self,
            key: None,
        }
    }

    fn try_get(&self) -> Result<T, GetError> {
        let mut state = self.inner.borrow_mut();
        match state.take() {
            Some(item) => Ok(item),
            None if state.shut_down && state.store.len() == 0 => Err(GetError::ShutDown),
            None => Err(GetError::Empty),
        }
    }

    fn task_done(&self) -> Result<(), TaskDoneError> {
        let mut state = self.inner.borrow_mut();
        if state.unfinished == 0 {
            return Err(TaskDoneError);
        }
        state.unfinished -= 1;
        if state.unfinished == 0 {
            state.joiners.notify_all();
        }
        Ok(())
    }

    fn join(&self) -> Join<'_, T, S> {
        Join {
            queue: self,
            key: None,
        }
    }

    fn shutdown(&self, immediate: bool) {
        let mut state = self.inner.borrow_mut();
        state.shut_down = true;
        if immediate {
            let dropped = state.store.clear();
            state.reserved = 0; // granted getters find nothing left, and fail
            state.unfinished = state.unfinished.saturating_sub(dropped);
            if state.unfinished == 0 {
                state.joiners.notify_all();
            }
        }
        state.putters.notify_all();
        // Getters already granted an item keep it (first come, first served, as asyncio 3.13
        // does); the others are woken to find the queue empty and shut down.
        state.getters.notify_all_with(|granted| *granted = false);
    }

    fn is_shut_down(&self) -> bool {
        self.inner.borrow().shut_down
    }

    fn len(&self) -> usize {
        self.inner.borrow().store.len()
    }

    fn is_full(&self) -> bool {
        let state = self.inner.borrow();
        state.maxsize > 0 && state.store.len() >= state.maxsize
    }

    fn maxsize(&self) -> usize {
        self.inner.borrow().maxsize
    }

    fn unfinished_tasks(&self) -> usize {
        self.inner.borrow().unfinished
    }
}

impl<T, S: Store<T>> State<T, S> {
    /// Room for one more item, beyond the slots reserved for putters that were woken and have
    /// not run yet (so a newcomer never barges past the waiting putters). A woken putter takes
    /// itself off the list before asking, so its own reservation is what it finds.
    fn has_room(&self) -> bool {
        self.maxsize == 0 || self.store.len() + self.putters.notified() < self.maxsize
    }

    fn push(&mut self, item: T) {
        self.store.push(item);
        self.unfinished += 1;
        self.grant_one();
    }

    /// Reserves an item for the first getter still waiting, if any, and wakes it.
    fn grant_one(&mut self) {
        if self.getters.notify_one_with(|granted| *granted = true) {
            self.reserved += 1;
        }
    }

    /// The next item, beyond those reserved for getters that were granted one and have not
    /// run yet, so a newcomer never takes what a waiting getter was promised.
    fn take(&mut self) -> Option<T> {
        if self.store.len() <= self.reserved {
            return None;
        }
        self.pop()
    }

    /// Takes the next item from the store and wakes a putter for the freed slot.
    fn pop(&mut self) -> Option<T> {
        let item = self.store.pop()?;
        if self.maxsize > 0 {
            self.putters.notify_one();
        }
        Some(item)
    }
}

impl<T, S: Store<T>> fmt::Debug for QueueCore<T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.inner.borrow();
        f.debug_struct("Queue")
            .field("qsize", &state.store.len())
            .field("maxsize", &state.maxsize)
            .field("unfinished", &state.unfinished)
            .field("shut_down", &state.shut_down)
            .finish()
    }
}

/// The future of [`Queue::put`].
#[must_use = "futures do nothing unless awaited"]
pub struct Put<'a, T, S: Store<T>> {
    queue: &'a QueueCore<T, S>,
    item: Option<T>,
    key: Option<usize>,
}

impl<T, S: Store<T>> Unpin for Put<'_, T, S> {}

impl<T, S: Store<T>> Future for Put<'_, T, S> {
    type Output = Result<(), PutError<T>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let queue = self.queue;
        let mut state = queue.inner.borrow_mut();
        if let Some(key) = self.key {
            if !state.putters.is_notified(key) {
                state.putters.set_waker(key, cx.waker());
                return Poll::Pending;
            }
            state.putters.remove(key);
            self.key = None;
        }
        let item = self.item.take().expect("polled after completion");
        if state.shut_down {
            return Poll::Ready(Err(PutError::ShutDown(item)));
        }
        if state.has_room() {
            state.push(item);
            return Poll::Ready(Ok(()));
        }
        self.item = Some(item);
        self.key = Some(state.putters.push(Some(cx.waker()), ()));
        Poll::Pending
    }
}

impl<T, S: Store<T>> Drop for Put<'_, T, S> {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            let mut state = self.queue.inner.borrow_mut();
            if state.putters.remove(key).0 {
                state.putters.notify_one(); // the free slot goes to the next putter
            }
        }
    }
}

/// The future of [`Queue::get`].
#[must_use = "futures do nothing unless awaited"]
pub struct Get<'a, T, S: Store<T>> {
    queue: &'a QueueCore<T, S>,
    key: Option<usize>,
}

impl<T, S: Store<T>> Future for Get<'_, T, S> {
    type Output = Result<T, ShutDownError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let queue = self.queue;
        let mut state = queue.inner.borrow_mut();
        if let Some(key) = self.key {
            if !state.getters.is_notified(key) {
                state.getters.set_waker(key, cx.waker());
                return Poll::Pending;
            }
            self.key = None;
            let (_, granted) = state.getters.remove(key);
            if granted && state.reserved > 0 {
                // An item was reserved for this getter: it is in the store, whatever came
                // since (a shutdown, newcomers).
                state.reserved -= 1;
                return Poll::Ready(state.pop().ok_or(ShutDownError));
            }
        }
        if let Some(item) = state.take() {
            return Poll::Ready(Ok(item));
        }
        if state.shut_down {
            return Poll::Ready(Err(ShutDownError));
        }
        self.key = Some(state.getters.push(Some(cx.waker()), false));
        Poll::Pending
    }
}

impl<T, S: Store<T>> Drop for Get<'_, T, S> {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            let mut state = self.queue.inner.borrow_mut();
            let (_, granted) = state.getters.remove(key);
            if granted && state.reserved > 0 {
                // The item reserved for it goes to the next getter, or back to the store.
                state.reserved -= 1;
                state.grant_one();
            }
        }
    }
}

/// The future of [`Queue::join`].
#[must_use = "futures do nothing unless awaited"]
pub struct Join<'a, T, S: Store<T>> {
    queue: &'a QueueCore<T, S>,
    key: Option<usize>,
}

impl<T, S: Store<T>> Future for Join<'_, T, S> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let queue = self.queue;
        let mut state = queue.inner.borrow_mut();
        if self.key.is_some() {
            return state.joiners.poll_notified(&mut self.key, cx.waker());
        }
        if state.unfinished == 0 {
            return Poll::Ready(());
        }
        self.key = Some(state.joiners.push(Some(cx.waker()), ()));
        Poll::Pending
    }
}

impl<T, S: Store<T>> Drop for Join<'_, T, S> {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            self.queue.inner.borrow_mut().joiners.remove(key);
        }
    }
}
