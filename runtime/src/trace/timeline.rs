//! The trace as a timeline: tracks, the slices on them and the wake arrows between them.
//! Both renderings (Chrome JSON and SVG) draw this, so they always show the same thing.

use std::collections::HashMap;
use std::time::Duration;

use super::{Event, Trace, WakeCause};
use crate::task::TaskId;

/// A row of the timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) enum Track {
    /// The loop's waits for I/O.
    Reactor,
    /// Readiness events, and the timers and other threads that wake tasks.
    Wakers,
    /// One task's polls (the main future is a task here).
    Task(TaskId),
}

/// A span of time on a track.
#[derive(Debug, Clone)]
pub(super) struct Slice {
    pub(super) track: Track,
    pub(super) start: Duration,
    pub(super) end: Duration,
    pub(super) name: String,
}

impl Slice {
    /// A task's whole life on its track, from its spawn to its exit: its polls nest in it,
    /// and the time between them is the time it waited.
    fn life(task: TaskId, born: Duration, end: Duration) -> Slice {
        Slice {
            track: Track::Task(task),
            start: born,
            end,
            name: LIFE.to_owned(),
        }
    }

    /// Whether this is a task's life rather than a poll or a wait.
    pub(super) fn is_life(&self) -> bool {
        self.name == LIFE
    }
}

/// The name of a task's life slice.
const LIFE: &str = "alive (waiting between polls)";

/// A wake: from the slice that woke the task to the poll it caused.
#[derive(Debug, Clone, Copy)]
pub(super) struct Flow {
    pub(super) from: Track,
    pub(super) at: Duration,
    pub(super) to: Track,
    pub(super) poll_starts: Duration,
}

/// The longest a waker slice (a readiness event, a timer, another thread's wake) is drawn;
/// it ends sooner when the next one on its track starts.
const WAKER_SLICE: Duration = Duration::from_micros(1);

/// How far a waker slice reaches past the last wake it caused, so the wake lies inside it.
const WAKE_MARGIN: Duration = Duration::from_nanos(100);

pub(super) struct Timeline {
    /// The task tracks in id order, after the reactor's and the wakers'.
    pub(super) tracks: Vec<Track>,
    pub(super) slices: Vec<Slice>,
    pub(super) flows: Vec<Flow>,
    pub(super) end: Duration,
}

impl Timeline {
    pub(super) fn new(trace: &Trace) -> Timeline {
        let mut builder = Builder::default();
        for event in trace.events() {
            builder.add(event.at, event.event);
        }
        builder.finish(trace.events().last().map_or(Duration::ZERO, |e| e.at))
    }
}

#[derive(Default)]
struct Builder {
    slices: Vec<Slice>,
    flows: Vec<Flow>,
    /// Each task's poll under way: when it started, and its number.
    open_polls: HashMap<TaskId, Duration>,
    /// Each task's last finished poll, to bind a wake recorded just after it (a yield).
    last_polls: HashMap<TaskId, (Duration, Duration)>,
    /// Each runnable task's first wake since its last poll: the one that queued it.
    pending: HashMap<TaskId, (Track, Duration)>,
    park: Option<(Duration, Option<Duration>)>,
    /// The waker slices, to cut each short where the next begins.
    waker_slices: Vec<usize>,
    tasks: Vec<TaskId>,
    /// When each live task was first seen (its spawn, if the ring holds it).
    born: HashMap<TaskId, Duration>,
}

impl Builder {
    fn add(&mut self, at: Duration, event: Event) {
        match event {
            Event::Spawned { task } => {
                self.tasks.push(task);
                self.born.entry(task).or_insert(at);
            }
            Event::Woken { task, by } => {
                self.born.entry(task).or_insert(at);
                let from = self.cause_track(at, by);
                let at = self.bound_to_source(from, at);
                self.pending.entry(task).or_insert((from, at));
            }
            Event::PollStarted { task } => {
                self.born.entry(task).or_insert(at);
                self.open_polls.insert(task, at);
                if let Some((from, woken_at)) = self.pending.remove(&task) {
                    self.flows.push(Flow {
                        from,
                        at: woken_at,
                        to: Track::Task(task),
                        poll_starts: at,
                    });
                }
            }
            Event::PollEnded { task } => {
                if let Some(start) = self.open_polls.remove(&task) {
                    self.last_polls.insert(task, (start, at));
                    self.slices.push(Slice {
                        track: Track::Task(task),
                        start,
                        end: at,
                        name: "poll".to_owned(),
                    });
                }
            }
            Event::Exited { task } => {
                self.pending.remove(&task);
                if let Some(born) = self.born.remove(&task) {
                    self.slices.push(Slice::life(task, born, at));
                }
            }
            Event::Parked { timeout } => self.park = Some((at, timeout)),
            Event::Unparked { events } => {
                if let Some((start, timeout)) = self.park.take() {
                    let timeout = match timeout {
                        None => "no timeout".to_owned(),
                        Some(t) if t.is_zero() => "a look".to_owned(),
                        Some(t) => format!("timeout {t:.1?}"),
                    };
                    self.slices.push(Slice {
                        track: Track::Reactor,
                        start,
                        end: at,
                        name: format!("wait for I/O ({timeout}): {events} events"),
                    });
                }
            }
            Event::IoReady {
                source,
                readable,
                writable,
            } => {
                let what = match (readable, writable) {
                    (true, true) => "readable, writable",
                    (true, false) => "readable",
                    (false, _) => "writable",
                };
                self.waker_slice(at, format!("I/O source {source} {what}"));
            }
            Event::TimerFired => self.waker_slice(at, "timer fired".to_owned()),
        }
    }

    /// The track a wake by `by` comes from; wakes that no recorded slice encloses (another
    /// thread's, one from outside the loop) get a slice of their own on the wakers' track.
    fn cause_track(&mut self, at: Duration, by: WakeCause) -> Track {
        match by {
            WakeCause::Task(task) => Track::Task(task),
            WakeCause::Io { .. } | WakeCause::Timer => {
                // The readiness event or timer recorded just before is the slice the wake
                // leaves from; it lasts at least until the wake.
                if let Some(&last) = self.waker_slices.last() {
                    let slice = &mut self.slices[last];
                    slice.end = slice.end.max(at + WAKE_MARGIN);
                }
                Track::Wakers
            }
            WakeCause::OtherThread => {
                self.waker_slice(at, "wake from another thread".to_owned());
                Track::Wakers
            }
            WakeCause::Outside => {
                self.waker_slice(at, "wake from outside the loop".to_owned());
                Track::Wakers
            }
        }
    }

    /// A wake recorded right after its task's poll returned (a task that yields is queued
    /// again then; a finished task's output is dropped then) is drawn at the end of that
    /// poll, so that the arrow leaves the poll.
    fn bound_to_source(&self, from: Track, at: Duration) -> Duration {
        let Track::Task(task) = from else { return at };
        if self.open_polls.contains_key(&task) {
            return at;
        }
        match self.last_polls.get(&task) {
            Some(&(start, end)) if at >= end => end.max(start),
            _ => at,
        }
    }

    fn waker_slice(&mut self, at: Duration, name: String) {
        self.waker_slices.push(self.slices.len());
        self.slices.push(Slice {
            track: Track::Wakers,
            start: at,
            end: at + WAKER_SLICE,
            name,
        });
    }

    fn finish(mut self, end: Duration) -> Timeline {
        // Waker slices end where the next one starts, so that they never overlap.
        for pair in self.waker_slices.windows(2) {
            let next_start = self.slices[pair[1]].start;
            let slice = &mut self.slices[pair[0]];
            slice.end = slice.end.min(next_start.max(slice.start));
        }
        // A poll still under way (the snapshot was taken inside it) ends at the last event.
        let mut open: Vec<_> = self.open_polls.into_iter().collect();
        open.sort();
        for (task, start) in open {
            self.slices.push(Slice {
                track: Track::Task(task),
                start,
                end: end.max(start),
                name: "poll".to_owned(),
            });
        }
        let mut alive: Vec<_> = self.born.into_iter().collect();
        alive.sort();
        for (task, born) in alive {
            self.slices.push(Slice::life(task, born, end.max(born)));
        }
        let mut tracks = vec![Track::Reactor, Track::Wakers];
        let mut tasks = self.tasks;
        let used = self.slices.iter().map(|s| s.track);
        let flow_ends = self.flows.iter().flat_map(|f| [f.from, f.to]);
        for track in used.chain(flow_ends) {
            if let Track::Task(task) = track {
                tasks.push(task);
            }
        }
        tasks.sort();
        tasks.dedup();
        tracks.extend(tasks.into_iter().map(Track::Task));
        // By start, and a slice before those it encloses (a task's life before its polls).
        self.slices
            .sort_by_key(|s| (s.track, s.start, std::cmp::Reverse(s.end)));
        Timeline {
            tracks,
            slices: self.slices,
            flows: self.flows,
            end,
        }
    }
}
