//! The client's connections, kept for the next request to the same origin: idle HTTP/1.1
//! connections (at most `max_idle_per_host` per origin, each for at most `idle_timeout`),
//! and one shared HTTP/2 connection per origin that every request multiplexes over.
//!
//! An https dial does not know which protocol the server will pick until its handshake is
//! done; while one is in flight, other requests to that origin wait for it instead of each
//! opening a connection, so that a burst of requests to an HTTP/2 server shares one.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::client::conn::{http1, http2};
use weft_runtime::sync::Event;
use weft_runtime::time::Instant;

use super::Config;

/// Where a connection goes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Origin {
    pub(crate) https: bool,
    pub(crate) host: String,
    pub(crate) port: u16,
}

/// A connection ready for requests.
pub(crate) enum Sender {
    Http1(http1::SendRequest<Full<Bytes>>),
    Http2(http2::SendRequest<Full<Bytes>>),
}

struct Idle {
    sender: http1::SendRequest<Full<Bytes>>,
    since: Instant,
}

#[derive(Default)]
pub(crate) struct Pool {
    idle: RefCell<HashMap<Origin, Vec<Idle>>>,
    shared: RefCell<HashMap<Origin, http2::SendRequest<Full<Bytes>>>>,
    dialing: RefCell<HashMap<Origin, Rc<Event>>>,
    opened: Cell<u64>,
}

/// What to do for a request that found no connection to take.
pub(crate) enum Checkout {
    /// A connection to use.
    Ready(Sender),
    /// Dial one; the guard tells waiting requests when the dial is over.
    Dial(DialGuard),
    /// Another request is dialing this origin: wait for it, then look again.
    Wait(Rc<Event>),
}

impl Pool {
    /// A connection to `origin`, or what to do to get one.
    pub(crate) fn checkout(self: &Rc<Self>, origin: &Origin, config: &Config) -> Checkout {
        if let Some(sender) = self.shared(origin) {
            return Checkout::Ready(Sender::Http2(sender));
        }
        if let Some(sender) = self.take_idle(origin, config) {
            return Checkout::Ready(Sender::Http1(sender));
        }
        if let Some(event) = self.dialing.borrow().get(origin) {
            return Checkout::Wait(event.clone());
        }
        if origin.https {
            // Only an https dial may turn out to be HTTP/2, worth waiting for.
            self.dialing
                .borrow_mut()
                .insert(origin.clone(), Rc::new(Event::new()));
        }
        Checkout::Dial(DialGuard {
            pool: self.clone(),
            origin: origin.clone(),
        })
    }

    fn shared(&self, origin: &Origin) -> Option<http2::SendRequest<Full<Bytes>>> {
        let mut shared = self.shared.borrow_mut();
        match shared.get(origin) {
            Some(sender) if !sender.is_closed() => Some(sender.clone()),
            Some(_) => {
                let closed = shared.remove(origin);
                drop(shared);
                drop(closed);
                None
            }
            None => None,
        }
    }

    fn take_idle(
        &self,
        origin: &Origin,
        config: &Config,
    ) -> Option<http1::SendRequest<Full<Bytes>>> {
        let mut idle = self.idle.borrow_mut();
        let conns = idle.get_mut(origin)?;
        let mut expired = Vec::new();
        let mut found = None;
        // Most recently used first: the likeliest to still be open at the server.
        while let Some(conn) = conns.pop() {
            if conn.since.elapsed() >= config.idle_timeout || conn.sender.is_closed() {
                expired.push(conn);
            } else if conn.sender.is_ready() {
                found = Some(conn.sender);
                break;
            } else {
                expired.push(conn);
            }
        }
        drop(idle);
        drop(expired); // closes them, after the table is let go of
        found
    }

    /// Keeps an HTTP/1.1 connection whose response was read to its end, for the next
    /// request to `origin`.
    pub(crate) fn put_idle(
        &self,
        origin: Origin,
        sender: http1::SendRequest<Full<Bytes>>,
        config: &Config,
    ) {
        if sender.is_closed() || config.max_idle_per_host == 0 {
            return;
        }
        let mut idle = self.idle.borrow_mut();
        let conns = idle.entry(origin).or_default();
        if conns.len() < config.max_idle_per_host {
            conns.push(Idle {
                sender,
                since: Instant::now(),
            });
        }
    }

    /// How many connections this pool has opened.
    pub(crate) fn opened(&self) -> u64 {
        self.opened.get()
    }
}

/// The dial a request is making for its origin. Handing it the new connection shares an
/// HTTP/2 one; dropping it (dial done or failed) lets waiting requests look again.
pub(crate) struct DialGuard {
    pool: Rc<Pool>,
    origin: Origin,
}

impl DialGuard {
    /// The dial succeeded: an HTTP/2 connection is shared from now on.
    pub(crate) fn connected(&self, sender: &Sender) {
        self.pool.opened.set(self.pool.opened.get() + 1);
        if let Sender::Http2(sender) = sender {
            self.pool
                .shared
                .borrow_mut()
                .insert(self.origin.clone(), sender.clone());
        }
    }
}

impl Drop for DialGuard {
    fn drop(&mut self) {
        let event = self.pool.dialing.borrow_mut().remove(&self.origin);
        if let Some(event) = event {
            event.set();
        }
    }
}
