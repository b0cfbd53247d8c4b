//! Helpers shared by the integration tests.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// Polls `fut` once with a waker that does nothing; used to put a future into its waiting
/// state (registered with a primitive) without a runtime, then drop or poll it later.
pub fn poll_once<F: Future + ?Sized>(fut: Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(Waker::noop()))
}
