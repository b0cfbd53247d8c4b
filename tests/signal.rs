//! weft::signal through the public API. Each test raises a signal of its own, so that tests
//! running at once in this process do not see each other's; the handler runs inside `raise`,
//! so the signal has arrived when `raise` returns.

use std::io;
use std::time::Duration;

use weft::signal::{SIGHUP, SIGINT, SIGKILL, SIGUSR1, SIGUSR2, SIGWINCH, Signal, Signals};
use weft::time::timeout;

/// Raises `signal` in this process; its handlers have run when this returns.
fn raise(signal: Signal) -> io::Result<()> {
    signal_hook::low_level::raise(signal.as_raw())
}

/// Whether `signals` has nothing to report right now.
async fn quiet(signals: &mut Signals) -> bool {
    timeout(Duration::from_millis(20), signals.recv())
        .await
        .is_err()
}

async fn next(signals: &mut Signals) -> Signal {
    timeout(Duration::from_secs(10), signals.recv())
        .await
        .expect("the signal never came")
        .unwrap()
}

#[test]
fn a_signal_raised_before_or_during_recv_is_received() {
    weft::run(async {
        let mut signals = Signals::new([SIGUSR1]).unwrap();
        raise(SIGUSR1).unwrap();
        assert_eq!(next(&mut signals).await, SIGUSR1);
        assert!(quiet(&mut signals).await);
        // Now raised while a task waits in recv.
        weft::spawn(async {
            weft::task::yield_now().await;
            raise(SIGUSR1).unwrap();
        });
        assert_eq!(next(&mut signals).await, SIGUSR1);
    });
}

#[test]
fn each_signal_of_a_set_comes_once_and_repeats_merge() {
    weft::run(async {
        let mut signals = Signals::new([SIGHUP, SIGWINCH, SIGHUP]).unwrap();
        for _ in 0..3 {
            raise(SIGWINCH).unwrap();
        }
        raise(SIGHUP).unwrap();
        let mut got = [next(&mut signals).await, next(&mut signals).await];
        got.sort();
        let mut want = [SIGHUP, SIGWINCH];
        want.sort();
        assert_eq!(got, want);
        assert!(
            quiet(&mut signals).await,
            "three SIGWINCHes in a row count once"
        );
    });
}

#[test]
fn every_watcher_of_a_signal_gets_it() {
    weft::run(async {
        let mut first = Signals::new([SIGUSR2]).unwrap();
        let mut second = Signals::new([SIGUSR2]).unwrap();
        raise(SIGUSR2).unwrap();
        assert_eq!(next(&mut first).await, SIGUSR2);
        assert_eq!(next(&mut second).await, SIGUSR2);
        // A dropped watcher takes nothing from the others.
        drop(first);
        raise(SIGUSR2).unwrap();
        assert_eq!(next(&mut second).await, SIGUSR2);
    });
}

#[test]
fn signals_that_cannot_be_watched_and_an_empty_set_are_refused() {
    weft::run(async {
        let segv = Signal::from_raw(signal_hook::consts::SIGSEGV).unwrap();
        for signal in [SIGKILL, segv] {
            let err = Signals::new([SIGUSR1, signal]).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "signal {signal}");
        }
        // A number that is no signal cannot even be named as one.
        assert_eq!(Signal::from_raw(0), None);
        assert_eq!(Signal::from_raw(12345), None);
        let err = Signals::new([]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "no signal at all");
    });
}

#[test]
fn ctrl_c_returns_at_sigint_and_then_sigint_ends_the_process_again() {
    // The process's SIGINT disposition is at stake, so this runs in a child process: this
    // test binary again, running only this test.
    const CHILD: &str = "WEFT_TEST_SIGNAL_CHILD";
    if std::env::var_os(CHILD).is_some() {
        weft::run(async {
            let ctrl_c = weft::spawn(weft::signal::ctrl_c());
            weft::task::yield_now().await; // ctrl_c now watches SIGINT
            raise(SIGINT).unwrap();
            let returned = timeout(Duration::from_secs(10), ctrl_c).await;
            returned.unwrap().unwrap().unwrap();
            println!("ctrl_c returned");
            // Nobody watches SIGINT any more: it ends the process again.
            raise(SIGINT).unwrap();
            println!("still running");
        });
        return;
    }
    let test = "ctrl_c_returns_at_sigint_and_then_sigint_ends_the_process_again";
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("ctrl_c returned"), "{out:?}");
    assert!(!stdout.contains("still running"), "{out:?}");
    assert_eq!(Signal::from_exit(&out.status), Some(SIGINT), "{out:?}");
}

#[test]
fn a_watched_signal_delivers_a_task_dump() {
    use std::cell::RefCell;
    use std::rc::Rc;
    let dumps = Rc::new(RefCell::new(Vec::new()));
    weft::run({
        let dumps = dumps.clone();
        async move {
            let dumper = weft::signal::dump_tasks_on(weft::signal::SIGALRM, {
                let dumps = dumps.clone();
                move |dump| dumps.borrow_mut().push(dump)
            })
            .unwrap();
            let stuck = weft::sync::Event::new();
            let _waiter = weft::task::Builder::new().name("waiter").spawn({
                let stuck = stuck.clone();
                async move { stuck.wait().await }
            });
            weft::task::yield_now().await;
            raise(weft::signal::SIGALRM).unwrap();
            // Yielding lets the loop look at the reactor, read the signal's byte and run the
            // dumping task.
            timeout(Duration::from_secs(10), async {
                while dumps.borrow().is_empty() {
                    weft::task::yield_now().await;
                }
            })
            .await
            .expect("no dump came");
            dumper.abort();
        }
    });
    let dumps = dumps.borrow();
    assert_eq!(dumps.len(), 1);
    let waiter = dumps[0]
        .tasks
        .iter()
        .find(|t| t.name.as_deref() == Some("waiter"))
        .unwrap();
    assert!(waiter.waits_on[0].resource.starts_with("Event#"));
}
