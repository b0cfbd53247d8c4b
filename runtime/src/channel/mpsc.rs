//! Many senders, one receiver: bounded, unbounded, and the rendezvous channel of capacity 0.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, ready};

use super::{SendError, TryRecvError, TrySendError};
use crate::task::poll_budget;
use crate::waiters::WakerSlot;
use crate::waiters::{Resource, WaitList, WaitOn};

/// A channel holding up to `capacity` values; senders wait while it is full. Senders are
/// cloned for more producers; the receiver sees the end (`None`) once every sender is gone and
/// the buffer is empty.
///
/// `capacity` 0 makes a *rendezvous* channel: a send completes only once the receiver has
/// taken the value — the hand-off of a generator's `yield`/`send`, or gevent's `Channel`.
///
/// ```
/// weft::run(async {
///     let (tx, mut rx) = weft::channel::mpsc::channel(8);
///     for id in 0..3 {
///         let tx = tx.clone();
///         weft::spawn(async move { tx.send(id).await.unwrap() });
///     }
///     drop(tx);
///     let mut got = Vec::new();
///     while let Some(v) = rx.recv().await {
///         got.push(v);
///     }
///     got.sort();
///     assert_eq!(got, [0, 1, 2]);
/// });
/// ```
#[track_caller]
pub fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    let chan = new_chan(capacity);
    (Sender { chan: chan.clone() }, Receiver { chan })
}

/// A channel with no limit: sending never waits.
///
/// ```
/// weft::run(async {
///     let (tx, mut rx) = weft::channel::mpsc::unbounded();
///     tx.send("now").unwrap();
///     assert_eq!(rx.recv().await, Some("now"));
/// });
/// ```
#[track_caller]
pub fn unbounded<T>() -> (UnboundedSender<T>, Receiver<T>) {
    let chan = new_chan(usize::MAX);
    (UnboundedSender { chan: chan.clone() }, Receiver { chan })
}

type Chan<T> = Rc<RefCell<State<T>>>;

struct State<T> {
    /// Each value, and for a rendezvous send the key of its waiting sender.
    buffer: VecDeque<(T, Option<usize>)>,
    capacity: usize,
    senders: usize,
    receiver_alive: bool,
    receiver: WakerSlot,
    /// What the receiver's waker waits on, for the task dump.
    receiving: WaitOn,
    /// Whether the receiver is parked in `recv` right now.
    receiver_waiting: bool,
    /// Senders waiting for room (bounded) or for their value to be taken (rendezvous).
    waiting_senders: WaitList,
}

#[track_caller]
fn new_chan<T>(capacity: usize) -> Chan<T> {
    let resource = Resource::new("mpsc");
    Rc::new(RefCell::new(State {
        buffer: VecDeque::new(),
        capacity,
        senders: 1,
        receiver_alive: true,
        receiver: WakerSlot::default(),
        receiving: WaitOn::new(&resource, "recv"),
        receiver_waiting: false,
        waiting_senders: WaitList::new(&resource, "send (full)"),
    }))
}

impl<T> State<T> {
    fn push(&mut self, value: T, rendezvous: Option<usize>) {
        self.buffer.push_back((value, rendezvous));
        if self.receiver_waiting {
            self.receiver_waiting = false;
            self.receiver.wake_by_ref();
        }
    }

    /// Room beyond the slots reserved for senders woken and not yet run.
    fn has_room(&self) -> bool {
        self.buffer.len() + self.waiting_senders.notified() < self.capacity
    }

    fn drop_sender(&mut self) {
        self.senders -= 1;
        if self.senders == 0 {
            self.receiver.wake_by_ref();
        }
    }
}

/// Sends into a bounded (or rendezvous) channel.
pub struct Sender<T> {
    chan: Chan<T>,
}

/// Sends into an unbounded channel, without waiting.
pub struct UnboundedSender<T> {
    chan: Chan<T>,
}

/// Receives from a channel made by [`channel`] or [`unbounded`].
pub struct Receiver<T> {
    chan: Chan<T>,
}

impl<T> Sender<T> {
    /// Sends `value`, waiting for room (or, with capacity 0, until the receiver takes it).
    /// Gives the value back if the receiver is gone.
    pub fn send(&self, value: T) -> Send<'_, T> {
        Send {
            sender: self,
            value: Some(value),
            key: None,
            handed_over: false,
        }
    }

    /// Sends now if there is room (capacity 0: if the receiver is waiting right now).
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        let mut state = self.chan.borrow_mut();
        if !state.receiver_alive {
            return Err(TrySendError::Closed(value));
        }
        let room = if state.capacity == 0 {
            state.receiver_waiting && state.buffer.is_empty()
        } else {
            state.has_room()
        };
        if !room {
            return Err(TrySendError::Full(value));
        }
        state.push(value, None);
        Ok(())
    }

    /// Whether the receiver is gone.
    pub fn is_closed(&self) -> bool {
        !self.chan.borrow().receiver_alive
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.chan.borrow_mut().senders += 1;
        Sender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.chan.borrow_mut().drop_sender();
    }
}

impl<T> UnboundedSender<T> {
    /// Sends `value`; gives it back if the receiver is gone.
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        let mut state = self.chan.borrow_mut();
        if !state.receiver_alive {
            return Err(SendError(value));
        }
        state.push(value, None);
        Ok(())
    }

    /// Whether the receiver is gone.
    pub fn is_closed(&self) -> bool {
        !self.chan.borrow().receiver_alive
    }
}

impl<T> Clone for UnboundedSender<T> {
    fn clone(&self) -> Self {
        self.chan.borrow_mut().senders += 1;
        UnboundedSender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for UnboundedSender<T> {
    fn drop(&mut self) {
        self.chan.borrow_mut().drop_sender();
    }
}

impl<T> Receiver<T> {
    /// The next value, or `None` once every sender is gone and nothing is left.
    pub fn recv(&mut self) -> Recv<'_, T> {
        Recv { receiver: self }
    }

    /// Polls for the next value.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        ready!(poll_budget(cx));
        let mut state = self.chan.borrow_mut();
        if let Some(value) = take(&mut state) {
            return Poll::Ready(Some(value));
        }
        if state.senders == 0 {
            return Poll::Ready(None);
        }
        let state = &mut *state;
        state.receiver.set(cx.waker(), &state.receiving);
        state.receiver_waiting = true;
        Poll::Pending
    }

    /// The next value now, if there is one.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let mut state = self.chan.borrow_mut();
        match take(&mut state) {
            Some(value) => Ok(value),
            None if state.senders == 0 => Err(TryRecvError::Disconnected),
            None => Err(TryRecvError::Empty),
        }
    }

    /// Stops receiving: senders fail from now on; values already sent can still be received.
    pub fn close(&mut self) {
        let mut state = self.chan.borrow_mut();
        state.receiver_alive = false;
        state.waiting_senders.notify_all();
    }

    /// How many values are buffered.
    pub fn len(&self) -> usize {
        self.chan.borrow().buffer.len()
    }

    /// Whether nothing is buffered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Takes the first value and tells the sender side: a rendezvous sender that its value was
/// taken, a bounded sender that there is room.
fn take<T>(state: &mut State<T>) -> Option<T> {
    let (value, rendezvous) = state.buffer.pop_front()?;
    match rendezvous {
        Some(key) => state.waiting_senders.notify(key),
        // Bounded: a slot is free. (Rendezvous values sent by `try_send` have no sender
        // waiting, and unbounded senders never wait.)
        None if state.capacity != 0 && state.capacity != usize::MAX => {
            state.waiting_senders.notify_one();
        }
        None => {}
    }
    Some(value)
}

/// Removes a rendezvous sender's value from the buffer if the receiver has not taken it.
fn take_back<T>(state: &mut State<T>, key: usize) -> Option<T> {
    let at = state.buffer.iter().position(|(_, k)| *k == Some(key))?;
    state.buffer.remove(at).map(|(value, _)| value)
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.close();
        let dropped = std::mem::take(&mut self.chan.borrow_mut().buffer);
        drop(dropped);
    }
}

/// The future of [`Sender::send`].
#[must_use = "futures do nothing unless awaited"]
pub struct Send<'a, T> {
    sender: &'a Sender<T>,
    value: Option<T>,
    key: Option<usize>,
    /// Rendezvous: the value is in the buffer and this waits for it to be taken.
    handed_over: bool,
}

impl<T> Unpin for Send<'_, T> {}

impl<T> Future for Send<'_, T> {
    type Output = Result<(), SendError<T>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let sender = self.sender;
        let mut state = sender.chan.borrow_mut();
        if let Some(key) = self.key {
            if !state.waiting_senders.is_notified(key) {
                state.waiting_senders.set_waker(key, cx.waker());
                return Poll::Pending;
            }
            state.waiting_senders.remove(key);
            self.key = None;
            if self.handed_over {
                // Woken because the receiver took the value, or because it closed: then the
                // value is still in the buffer and comes back.
                return Poll::Ready(match take_back(&mut state, key) {
                    Some(value) => Err(SendError(value)),
                    None => Ok(()),
                });
            }
        }
        let value = self.value.take().expect("polled after completion");
        if !state.receiver_alive {
            return Poll::Ready(Err(SendError(value)));
        }
        if state.capacity == 0 {
            // Hand the value over and wait until the receiver takes it.
            let key = state.waiting_senders.push(Some(cx.waker()), ());
            state.push(value, Some(key));
            self.key = Some(key);
            self.handed_over = true;
            return Poll::Pending;
        }
        if state.has_room() {
            state.push(value, None);
            return Poll::Ready(Ok(()));
        }
        self.value = Some(value);
        self.key = Some(state.waiting_senders.push(Some(cx.waker()), ()));
        Poll::Pending
    }
}

impl<T> Drop for Send<'_, T> {
    fn drop(&mut self) {
        let Some(key) = self.key else { return };
        let mut state = self.sender.chan.borrow_mut();
        let (notified, ()) = state.waiting_senders.remove(key);
        if self.handed_over {
            // Cancelled before the receiver took the value: take it back, so a cancelled
            // rendezvous send delivers nothing.
            let taken_back = take_back(&mut state, key);
            drop(state);
            drop(taken_back);
        } else if notified {
            state.waiting_senders.notify_one(); // pass the free slot on
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("mpsc::Sender")
    }
}

impl<T> fmt::Debug for UnboundedSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("mpsc::UnboundedSender")
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::Receiver")
            .field("buffered", &self.len())
            .finish()
    }
}

/// The future of [`Receiver::recv`]. Dropping it takes nothing from the channel.
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct Recv<'a, T> {
    receiver: &'a mut Receiver<T>,
}

impl<T> Future for Recv<'_, T> {
    type Output = Option<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.receiver.poll_recv(cx)
    }
}
