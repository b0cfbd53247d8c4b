//! The thread-local "current runtime", set while a runtime runs on this thread.

use std::cell::RefCell;
use std::rc::Rc;

use super::state::Executor as Core;

thread_local! {
    static CURRENT: RefCell<Option<Rc<Core>>> = const { RefCell::new(None) };
}

/// Runs `f` with the runtime running on this thread, if any. `None` also during thread-local
/// destruction.
pub(crate) fn with_core<R>(f: impl FnOnce(Option<&Rc<Core>>) -> R) -> R {
    let mut f = Some(f);
    CURRENT
        .try_with(|current| {
            let f = f.take().expect("called once");
            f(current.borrow().as_ref())
        })
        .unwrap_or_else(|_| (f.take().expect("not called yet"))(None))
}

/// The current runtime, or a panic that tells the user what to do.
pub(crate) fn expect_core(what: &str) -> Rc<Core> {
    with_core(|core| core.cloned()).unwrap_or_else(|| {
        panic!(
            "{what} must be called from inside a weft runtime: wrap the code in \
             `weft::run(async {{ ... }})`, or use `Runtime::spawn` / `Runtime::block_on` on a \
             runtime you hold"
        )
    })
}

/// Makes `core` current until the guard drops, restoring whatever was current before.
pub(crate) struct EnterGuard {
    previous: Option<Rc<Core>>,
}

/// Enters `core` for running it; panics if a runtime is already running on this thread.
pub(crate) fn enter(core: Rc<Core>) -> EnterGuard {
    if with_core(|current| current.is_some()) {
        panic!(
            "cannot start a weft runtime from inside a running one (nested `run`/`block_on`): \
             `.await` the future instead, or `weft::spawn` it"
        );
    }
    enter_any(core)
}

/// Enters `core` even if another runtime is current (used for shutdown, which may happen
/// while some other runtime runs).
pub(crate) fn enter_any(core: Rc<Core>) -> EnterGuard {
    let previous = CURRENT.with(|current| current.borrow_mut().replace(core));
    EnterGuard { previous }
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        // During thread-local destruction there is nothing left to restore.
        let _ = CURRENT.try_with(|current| *current.borrow_mut() = previous);
    }
}
