//! The reactor: one `mio::Poll` (epoll) and a slab of I/O registrations.
//!
//! Each registered source gets a slab key, used as its mio `Token`. An event sets readiness
//! bits on the slot and wakes the task waiting to read and/or the one waiting to write. mio is
//! edge-triggered: the kernel reports a source once per change, so a bit stays set until an
//! operation on the source returns `WouldBlock` (or reads short, see
//! [`Async::poll_read`](crate::io::Async::poll_read)), and only then is it cleared. The public
//! face of this module is [`Registration`](crate::io::Registration).

mod deadline;

use std::cell::{Cell, RefCell};
use std::io;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use slab::Slab;

use deadline::DeadlineTimer;

/// The token of the eventfd that other threads use to interrupt `epoll_wait`.
const WAKE_TOKEN: mio::Token = mio::Token(usize::MAX);
/// The token of the timerfd that ends `epoll_wait` at the next timer deadline.
const DEADLINE_TOKEN: mio::Token = mio::Token(usize::MAX - 1);

/// How long one reactor turn may block.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Wait {
    /// Not at all: tasks are ready.
    No,
    /// Until the earliest timer's deadline.
    Until(Instant),
    /// Until an I/O event or a wake from another thread.
    Forever,
}

impl Wait {
    /// This wait, but no later than `limit` (a real-time limit on the whole run).
    #[inline]
    pub(crate) fn at_most(self, limit: Option<Instant>) -> Wait {
        match (self, limit) {
            (Wait::Forever, Some(limit)) => Wait::Until(limit),
            (Wait::Until(at), Some(limit)) => Wait::Until(at.min(limit)),
            (wait, _) => wait,
        }
    }
}

/// Readiness bits of one registration.
pub(crate) const READABLE: u8 = 1 << 0;
pub(crate) const WRITABLE: u8 = 1 << 1;
const READ_CLOSED: u8 = 1 << 2;
const WRITE_CLOSED: u8 = 1 << 3;

/// One direction of a registration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    Read,
    Write,
}

impl Direction {
    /// The bits that make an operation in this direction worth trying. The closed bits stay
    /// set: a read after EOF or an error returns at once, it never blocks.
    fn ready_mask(self) -> u8 {
        match self {
            Direction::Read => READABLE | READ_CLOSED,
            Direction::Write => WRITABLE | WRITE_CLOSED,
        }
    }

    /// The bit cleared after a `WouldBlock`.
    fn clear_mask(self) -> u8 {
        match self {
            Direction::Read => READABLE,
            Direction::Write => WRITABLE,
        }
    }
}

/// A source's token is its slab key in the low bits and its tag in the high ones. Half the
/// bits for the key; the tag has one bit less than the rest, so that no token is the waker's
/// or the deadline timer's.
const KEY_BITS: u32 = usize::BITS / 2;
const KEY_MASK: usize = (1 << KEY_BITS) - 1;
const TAG_MASK: u32 = (1 << (usize::BITS - KEY_BITS - 1)) - 1;

/// A source token's slab key and tag.
#[inline(always)]
fn split_token(token: mio::Token) -> (usize, u32) {
    (token.0 & KEY_MASK, (token.0 >> KEY_BITS) as u32)
}

/// The readiness bits an event reports.
#[inline(always)]
fn readiness(event: &mio::event::Event) -> u8 {
    let mut ready = 0;
    if event.is_readable() {
        ready |= READABLE;
    }
    if event.is_writable() {
        ready |= WRITABLE;
    }
    if event.is_read_closed() {
        ready |= READ_CLOSED;
    }
    if event.is_write_closed() {
        ready |= WRITE_CLOSED;
    }
    if event.is_error() {
        // Let both sides try their operation: it returns the socket's error.
        ready |= READ_CLOSED | WRITE_CLOSED;
    }
    ready
}

#[derive(Default)]
struct IoSlot {
    readiness: u8,
    /// Which registration of this slab key the slot is (a counter at registration): an
    /// event queued by the kernel for a source dropped since, whose key a new source took
    /// while the batch was dispatched, does not reach the new one.
    tag: u32,
    reader: Option<Waker>,
    writer: Option<Waker>,
    /// What the task dump calls the source ("TCP 127.0.0.1:80"), if its owner said.
    label: Option<Box<str>>,
}

/// What the loop wants to know of a turn's dispatch (the flight recorder); `()` wants nothing,
/// and costs nothing.
pub(crate) trait TurnObserver {
    /// `source` is ready to read and/or to write (or closed for it).
    fn ready(&self, _source: usize, _readable: bool, _writable: bool) {}
    /// The reader's (`write` false) or writer's waker of `source` is about to be woken.
    fn waking(&self, _source: usize, _write: bool) {}
}

impl TurnObserver for () {}

pub(crate) struct Reactor {
    poll: RefCell<mio::Poll>,
    events: RefCell<mio::Events>,
    registry: mio::Registry,
    slots: RefCell<Slab<IoSlot>>,
    /// The next registration's tag.
    next_tag: Cell<u32>,
    /// `None` if the OS would not give us a timerfd: then epoll's millisecond timeout is used.
    deadline: Option<DeadlineTimer>,
    /// Whether the runtime that owns this reactor is running its loop. A source waited on
    /// while it is not belongs to another runtime (or an ended one) that nobody polls: that
    /// wait would never end, so it fails instead.
    running: Cell<bool>,
}

impl Reactor {
    /// A reactor and the `mio::Waker` other threads use to interrupt it.
    pub(crate) fn new(events_capacity: usize) -> io::Result<(Reactor, mio::Waker)> {
        let poll = mio::Poll::new()?;
        let registry = poll.registry().try_clone()?;
        let waker = mio::Waker::new(poll.registry(), WAKE_TOKEN)?;
        let deadline = DeadlineTimer::new(&registry, DEADLINE_TOKEN).ok();
        let reactor = Reactor {
            poll: RefCell::new(poll),
            events: RefCell::new(mio::Events::with_capacity(events_capacity)),
            registry,
            slots: RefCell::new(Slab::new()),
            next_tag: Cell::new(0),
            deadline,
            running: Cell::new(false),
        };
        Ok((reactor, waker))
    }

    /// How many sources are registered.
    #[inline]
    pub(crate) fn registrations(&self) -> usize {
        self.slots.borrow().len()
    }

    /// Waits for I/O events (as long as `wait` allows), calls `woke`, and hands the events'
    /// wakers to `wake`; returns how many events came from outside (sockets, other threads),
    /// not counting the timerfd that ends a timed wait.
    pub(crate) fn turn(
        &self,
        wait: Wait,
        observer: &(impl TurnObserver + ?Sized),
        woke: impl FnOnce(),
        wake: &mut impl FnMut(Waker),
    ) -> usize {
        let timeout = match wait {
            Wait::No => Some(Duration::ZERO),
            Wait::Forever => None,
            Wait::Until(deadline) => {
                let now = Instant::now();
                match &self.deadline {
                    // Already due (timers that came due while tasks ran): only look. Arming
                    // the timerfd for it would cost a settime, a wake-up and a read.
                    _ if deadline <= now => Some(Duration::ZERO),
                    Some(timer) if timer.arm(deadline, now).is_ok() => None,
                    _ => Some(deadline - now),
                }
            }
        };
        let mut events = self.events.borrow_mut();
        let polled = self.poll.borrow_mut().poll(&mut events, timeout);
        woke();
        match polled {
            Ok(()) => {}
            Err(err) if err.kind() == io::ErrorKind::Interrupted => return 0,
            // epoll_wait fails otherwise only on a bad epoll fd or buffer: a bug in weft.
            Err(err) => panic!("weft's reactor could not poll epoll: {err}"),
        }
        let mut count = 0;
        for event in events.iter() {
            let token = event.token();
            if token == DEADLINE_TOKEN {
                // Not an event from outside: the wait's own end. Counting it made every
                // timed wait look busy, so a paused clock waiting `AfterIdle` never jumped.
                if let Some(timer) = &self.deadline {
                    timer.fired(); // the runtime fires its timers after every turn
                }
                continue;
            }
            count += 1;
            if token == WAKE_TOKEN {
                continue; // the runtime drains its remote queue after every turn
            }
            let ready = readiness(event);
            // The slots are borrowed per event, not across the batch: `wake` may poll the
            // task it wakes (`Executor::run_woken`), which registers, polls and drops sources.
            let (key, tag) = split_token(token);
            let (reader, writer) = {
                let mut slots = self.slots.borrow_mut();
                // A task polled for an earlier event of this batch may have dropped this
                // source, and a new one may have its key: the tag tells them apart.
                let Some(slot) = slots.get_mut(key).filter(|slot| slot.tag == tag) else {
                    continue; // deregistered since the kernel queued the event
                };
                slot.readiness |= ready;
                let take =
                    |dir: Direction, waiter: &mut Option<Waker>| match ready & dir.ready_mask() {
                        0 => None,
                        _ => waiter.take(),
                    };
                (
                    take(Direction::Read, &mut slot.reader),
                    take(Direction::Write, &mut slot.writer),
                )
            };
            observer.ready(
                key,
                ready & Direction::Read.ready_mask() != 0,
                ready & Direction::Write.ready_mask() != 0,
            );
            if let Some(waker) = reader {
                observer.waking(key, false);
                wake(waker);
            }
            if let Some(waker) = writer {
                observer.waking(key, true);
                wake(waker);
            }
        }
        count
    }

    /// Calls `f` with each I/O source's key and label, whether for its reader (`false`) or
    /// writer (`true`), and the target address of the waker waiting on it.
    pub(crate) fn for_each_waiting(&self, mut f: impl FnMut(usize, Option<&str>, bool, usize)) {
        for (key, slot) in self.slots.borrow().iter() {
            let label = slot.label.as_deref();
            if let Some(reader) = &slot.reader {
                f(key, label, false, reader.data() as usize);
            }
            if let Some(writer) = &slot.writer {
                f(key, label, true, writer.data() as usize);
            }
        }
    }

    /// Names source `key` for the task dump.
    pub(crate) fn set_label(&self, key: usize, label: Box<str>) {
        if let Some(slot) = self.slots.borrow_mut().get_mut(key) {
            slot.label = Some(label);
        }
    }

    pub(crate) fn register(
        &self,
        source: &mut (impl mio::event::Source + ?Sized),
        interest: mio::Interest,
    ) -> io::Result<usize> {
        let mut slots = self.slots.borrow_mut();
        let entry = slots.vacant_entry();
        let key = entry.key();
        if key > KEY_MASK {
            return Err(io::Error::other(format!(
                "weft's reactor holds {key} I/O sources, its most: close some before opening more"
            )));
        }
        let tag = self.next_tag.get();
        self.next_tag.set(tag.wrapping_add(1) & TAG_MASK);
        let token = mio::Token(key | ((tag as usize) << KEY_BITS));
        self.registry.register(source, token, interest)?;
        entry.insert(IoSlot {
            tag,
            ..IoSlot::default()
        });
        Ok(key)
    }

    pub(crate) fn deregister(
        &self,
        source: &mut (impl mio::event::Source + ?Sized),
    ) -> io::Result<()> {
        self.registry.deregister(source)
    }

    pub(crate) fn remove(&self, key: usize) {
        let slot = self.slots.borrow_mut().try_remove(key);
        drop(slot); // wakers are dropped after the borrow ends
    }

    /// `Ready` if the direction's readiness bit is set; otherwise stores the waker (or fails,
    /// if this reactor's runtime is not the one running). Always inlined: the socket paths
    /// call it once per read and write, and out of line it cost an echo round trip 8% more
    /// instructions (callgrind).
    #[inline(always)]
    pub(crate) fn poll_ready(
        &self,
        key: usize,
        dir: Direction,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        let mut slots = self.slots.borrow_mut();
        let slot = &mut slots[key];
        if slot.readiness & dir.ready_mask() != 0 {
            return Poll::Ready(Ok(()));
        }
        if !self.running.get() {
            return Poll::Ready(Err(not_running()));
        }
        let waiter = match dir {
            Direction::Read => &mut slot.reader,
            Direction::Write => &mut slot.writer,
        };
        match waiter {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => {
                let old = waiter.replace(cx.waker().clone());
                drop(slots);
                drop(old);
            }
        }
        Poll::Pending
    }

    /// Marks the owning runtime's loop as running (`true`) or not.
    pub(crate) fn set_running(&self, running: bool) {
        self.running.set(running);
    }

    /// Clears the direction's readiness after an operation reported `WouldBlock`.
    #[inline]
    pub(crate) fn clear_ready(&self, key: usize, dir: Direction) {
        if let Some(slot) = self.slots.borrow_mut().get_mut(key) {
            slot.readiness &= !dir.clear_mask();
        }
    }
}

/// The error of a wait on a source whose runtime is not the one running.
#[cold]
fn not_running() -> io::Error {
    io::Error::other(
        "this I/O source belongs to another weft runtime, or to one that has ended, so nothing \
         would ever wake this wait: a socket, pipe, child or signal works only inside the \
         runtime that made it. Create it inside the `weft::run` (or `block_on`) that uses it, \
         or keep one `Runtime` and call its `block_on` each time",
    )
}
