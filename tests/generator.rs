//! weft::generator through the public API: every step of Python's generator protocol, its
//! errors, cleanup, `yield from`, and async generators on the runtime.

use std::cell::{Cell, RefCell};
use std::convert::Infallible;
use std::rc::Rc;
use std::time::Duration;

use test_support::DropProbe;
use weft::generator::{AsyncGen, Body, Co, Gen, GenError, GenState, Interrupt};

/// Echoes what it is sent, doubled; returns how many values it saw.
async fn doubling(co: Co<u32, u32>) -> Result<usize, Interrupt<Infallible>> {
    let mut seen = 0;
    let mut reply = 0;
    loop {
        match co.yield_(reply).await {
            Ok(v) => {
                seen += 1;
                reply = v * 2;
            }
            Err(Interrupt::Closed) => return Ok(seen),
            Err(thrown) => return Err(thrown),
        }
    }
}

fn doubler() -> Gen<u32, u32, usize> {
    Gen::new(doubling)
}

/// The same generator, its type keeping the body's.
fn typed_doubler() -> Gen<u32, u32, usize, Infallible, impl Body<u32, u32, usize, Infallible>> {
    Gen::new_typed(doubling)
}

/// Steps a fresh doubler through the whole protocol, whichever way it was made.
fn check_doubler_protocol<B: ?Sized + Body<u32, u32, usize, Infallible>>(
    mut g: Gen<u32, u32, usize, Infallible, B>,
) {
    assert_eq!(g.send(1), Err(GenError::NotStarted));
    assert_eq!(g.start(), Ok(GenState::Yielded(0)));
    assert_eq!(g.start(), Err(GenError::AlreadyStarted));
    assert_eq!(g.send(5), Ok(GenState::Yielded(10)));
    assert_eq!(g.send(7), Ok(GenState::Yielded(14)));
    assert_eq!(g.close(), Ok(Some(2)));
    assert!(g.is_finished());
    assert_eq!(g.close(), Ok(None));
    assert_eq!(g.send(1), Err(GenError::Finished));
}

#[test]
fn start_send_and_return() {
    let mut g: Gen<&str, (), &str> = Gen::new(|co| async move {
        co.yield_("first").await?;
        co.yield_("second").await?;
        Ok("done")
    });
    assert_eq!(g.start(), Ok(GenState::Yielded("first")));
    assert_eq!(g.send(()), Ok(GenState::Yielded("second")));
    assert_eq!(g.send(()), Ok(GenState::Complete("done")));
    assert!(g.is_finished());
    assert_eq!(g.send(()), Err(GenError::Finished));
}

#[test]
fn sent_values_arrive_at_the_pending_yield() {
    let mut g = doubler();
    assert_eq!(g.start(), Ok(GenState::Yielded(0)));
    assert_eq!(g.send(5), Ok(GenState::Yielded(10)));
    assert_eq!(g.send(7), Ok(GenState::Yielded(14)));
    assert_eq!(
        g.close(),
        Ok(Some(2)),
        "close returns the body's return value"
    );
}

#[test]
fn protocol_misuse_is_an_error() {
    let mut g = doubler();
    assert_eq!(g.send(1), Err(GenError::NotStarted));
    g.start().unwrap();
    assert_eq!(g.start(), Err(GenError::AlreadyStarted));
    assert!(GenError::<u8>::NotStarted.to_string().contains("start()"));
}

#[test]
fn a_generator_keeping_its_body_type_speaks_the_same_protocol() {
    check_doubler_protocol(doubler());
    check_doubler_protocol(typed_doubler());
}

/// Yields the words of `text` without copying them: a typed generator may borrow.
fn words(text: &str) -> Gen<&str, (), (), Infallible, impl Body<&str, (), (), Infallible>> {
    Gen::new_typed(move |co| async move {
        for word in text.split_whitespace() {
            co.yield_(word).await?;
        }
        Ok(())
    })
}

#[test]
fn a_generator_keeping_its_body_type_may_borrow_and_drops_its_locals() {
    let text = String::from("the quick  brown fox");
    assert_eq!(
        words(&text).collect::<Vec<_>>(),
        ["the", "quick", "brown", "fox"]
    );

    assert_drop_cleans_up(|cleanup| Gen::new_typed(|co| hold_across_a_yield(co, cleanup)));
}

#[test]
fn an_iterator_over_yields_keeps_the_return_value() {
    let mut g: Gen<u32, (), &str> = Gen::new(|co| async move {
        for i in 0..3 {
            co.yield_(i).await?;
        }
        Ok("end")
    });
    assert_eq!(g.by_ref().collect::<Vec<_>>(), [0, 1, 2]);
    assert_eq!(g.take_return_value(), Some("end"));
    assert_eq!(g.next(), None);
}

#[test]
fn a_thrown_error_can_be_handled_and_the_generator_goes_on() {
    let mut g: Gen<&str, (), (), String> = Gen::new(|co| async move {
        loop {
            match co.yield_("ready").await {
                Ok(()) => {}
                Err(Interrupt::Thrown(e)) => {
                    co.yield_(if e == "recoverable" { "recovered" } else { "?" })
                        .await?;
                }
                Err(Interrupt::Closed) => return Ok(()),
            }
        }
    });
    g.start().unwrap();
    assert_eq!(
        g.throw("recoverable".into()),
        Ok(GenState::Yielded("recovered"))
    );
    assert_eq!(g.send(()), Ok(GenState::Yielded("ready")));
}

#[test]
fn an_unhandled_thrown_error_propagates_and_finishes_the_generator() {
    let mut g: Gen<u8, (), (), &str> = Gen::new(|co| async move {
        co.yield_(1).await?; // `?` lets the thrown error out
        Ok(())
    });
    g.start().unwrap();
    assert_eq!(g.throw("boom"), Err(GenError::Thrown("boom")));
    assert!(g.is_finished());
    assert_eq!(
        GenError::Thrown("boom").to_string(),
        "the generator did not handle the error thrown in: boom"
    );
}

#[test]
fn throwing_into_an_unstarted_generator_never_runs_the_body() {
    let ran = Rc::new(Cell::new(false));
    let r = ran.clone();
    let mut g: Gen<u8, (), (), &str> = Gen::new(move |co| async move {
        r.set(true);
        co.yield_(1).await?;
        Ok(())
    });
    assert_eq!(g.throw("early"), Err(GenError::Thrown("early")));
    assert!(!ran.get());
    assert!(g.is_finished());
}

#[test]
fn close_runs_the_bodys_cleanup_and_is_idempotent() {
    let cleaned = Rc::new(Cell::new(0));
    let c = cleaned.clone();
    let mut g: Gen<u8> = Gen::new(move |co| async move {
        let _cleanup = DropProbe::new(&c);
        loop {
            co.yield_(1).await?; // Closed propagates; `_cleanup` drops on the way out
        }
    });
    g.start().unwrap();
    assert_eq!(cleaned.get(), 0);
    assert_eq!(g.close(), Ok(None));
    assert_eq!(cleaned.get(), 1);
    assert_eq!(g.close(), Ok(None));
    assert_eq!(g.start(), Err(GenError::Finished));
}

#[test]
fn closing_an_unstarted_generator_drops_it_without_running_it() {
    let ran = Rc::new(Cell::new(false));
    let r = ran.clone();
    let mut g: Gen<u8> = Gen::new(move |co| async move {
        r.set(true);
        co.yield_(1).await?;
        Ok(())
    });
    assert_eq!(g.close(), Ok(None));
    assert!(!ran.get());
}

#[test]
fn yielding_while_being_closed_is_an_error() {
    let mut stubborn: Gen<u8> = Gen::new(|co| async move {
        loop {
            let _ = co.yield_(1).await; // ignores Closed
        }
    });
    stubborn.start().unwrap();
    assert_eq!(stubborn.close(), Err(GenError::IgnoredClose));
    assert!(stubborn.is_finished());
}

/// Holds `cleanup` across its one yield.
async fn hold_across_a_yield(co: Co<u8>, cleanup: DropProbe) -> Result<(), Interrupt<Infallible>> {
    let _cleanup = cleanup;
    co.yield_(1).await?;
    Ok(())
}

/// Makes a generator whose body holds a `DropProbe`, suspends it and drops it: the cleanup runs.
fn assert_drop_cleans_up<B: ?Sized + Body<u8, (), (), Infallible>>(
    make: impl FnOnce(DropProbe) -> Gen<u8, (), (), Infallible, B>,
) {
    let cleaned = Rc::new(Cell::new(0));
    let mut g = make(DropProbe::new(&cleaned));
    g.start().unwrap();
    drop(g);
    assert_eq!(cleaned.get(), 1);
}

#[test]
fn dropping_a_suspended_generator_drops_its_locals() {
    assert_drop_cleans_up(|cleanup| Gen::new(|co| hold_across_a_yield(co, cleanup)));
}

#[test]
fn awaiting_a_foreign_future_in_a_plain_gen_is_an_error_not_a_hang() {
    let mut g: Gen<u8> = Gen::new(|co| async move {
        std::future::pending::<()>().await;
        co.yield_(1).await?;
        Ok(())
    });
    assert_eq!(g.start(), Err(GenError::ForeignAwait));
    assert!(g.is_finished());
}

#[test]
fn re_entering_a_generator_from_its_own_body_is_refused_not_a_hang() {
    // Every resuming method takes `&mut self`, so a body can reach its own generator only
    // through shared ownership, and the `RefCell` that gives it out refuses a second borrow
    // while the first is stepping the generator (Python: "generator already executing").
    let shared: Rc<RefCell<Option<Gen<bool>>>> = Rc::new(RefCell::new(None));
    let reached = shared.clone();
    let g: Gen<bool> = Gen::new(move |co| async move {
        let refused = reached.try_borrow_mut().is_err();
        co.yield_(refused).await?;
        Ok(())
    });
    *shared.borrow_mut() = Some(g);
    let mut running = shared.borrow_mut();
    let g = running.as_mut().expect("stored above");
    assert_eq!(g.start(), Ok(GenState::Yielded(true)));
    assert_eq!(g.send(()), Ok(GenState::Complete(())));
}

#[test]
fn a_panic_in_the_body_propagates_and_finishes_the_generator() {
    let mut g: Gen<u8, u8> = Gen::new(|co| async move {
        let v = co.yield_(1).await?;
        assert!(v < 10, "too big");
        Ok(())
    });
    g.start().unwrap();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| g.send(99)));
    assert!(caught.is_err());
    assert!(g.is_finished());
    // Python: a generator that raised is exhausted; resuming it is not a second panic.
    assert_eq!(g.send(1), Err(GenError::Finished));
    assert_eq!(g.close(), Ok(None));
}

#[test]
fn yield_from_forwards_yields_sends_and_the_return_value() {
    let mut outer: Gen<u32, u32, usize> = Gen::new(|co| async move {
        co.yield_(100).await?;
        let mut inner = doubler();
        let seen = co.yield_from(&mut inner).await?;
        co.yield_(seen as u32).await?;
        Ok(seen)
    });
    assert_eq!(outer.start(), Ok(GenState::Yielded(100)));
    assert_eq!(outer.send(0), Ok(GenState::Yielded(0))); // the inner's first yield
    assert_eq!(outer.send(4), Ok(GenState::Yielded(8)));
    // Closing the outer closes the inner first, which returns; the outer sees Closed.
    assert_eq!(outer.close(), Ok(None));
}

#[test]
fn yield_from_delegates_to_a_generator_keeping_its_body_type() {
    let mut outer = Gen::<u32, u32, usize>::new_typed(|co| async move {
        let mut inner = typed_doubler();
        let seen = co.yield_from(&mut inner).await?;
        Ok(seen * 100)
    });
    assert_eq!(outer.start(), Ok(GenState::Yielded(0)));
    assert_eq!(outer.send(3), Ok(GenState::Yielded(6)));
    assert_eq!(outer.close(), Ok(None));
}

#[test]
fn yield_from_forwards_throws_to_the_inner_generator() {
    let inner_saw = Rc::new(Cell::new(false));
    let saw = inner_saw.clone();
    let mut outer: Gen<&str, (), &str, &str> = Gen::new(move |co| async move {
        let mut inner: Gen<&str, (), &str, &str> = Gen::new(move |co| async move {
            match co.yield_("inner").await {
                Err(Interrupt::Thrown("handled")) => saw.set(true),
                other => panic!("unexpected {other:?}"),
            }
            Ok("inner done")
        });
        let r = co.yield_from(&mut inner).await?;
        co.yield_(r).await?;
        Ok("outer done")
    });
    assert_eq!(outer.start(), Ok(GenState::Yielded("inner")));
    assert_eq!(outer.throw("handled"), Ok(GenState::Yielded("inner done")));
    assert!(inner_saw.get());
    assert_eq!(outer.send(()), Ok(GenState::Complete("outer done")));
}

#[test]
fn an_async_gen_interleaves_with_timers_and_sockets() {
    use weft::io::{AsyncReadExt, AsyncWriteExt};
    weft::run(async {
        let listener = weft::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        weft::spawn(async move {
            let (mut conn, _) = listener.accept().await.unwrap();
            for word in ["alpha", "beta"] {
                conn.write_all(word.as_bytes()).await.unwrap();
                weft::time::sleep(Duration::from_millis(1)).await;
            }
        });
        // A generator that reads messages from a socket and yields them, timing out politely.
        let mut lines: AsyncGen<String, (), usize> = AsyncGen::new(move |co| async move {
            let mut stream = weft::net::TcpStream::connect(addr).await.unwrap();
            let mut count = 0;
            let mut buf = [0u8; 16];
            loop {
                let read = weft::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await;
                match read {
                    Ok(Ok(n)) if n > 0 => {
                        count += 1;
                        co.yield_(String::from_utf8_lossy(&buf[..n]).into_owned())
                            .await?;
                    }
                    _ => return Ok(count),
                }
            }
        });
        let mut got = Vec::new();
        while let Some(word) = lines.next().await {
            got.push(word);
        }
        assert_eq!(got.concat(), "alphabeta");
        assert!(lines.is_finished());
    });
}

#[test]
fn an_async_gen_speaks_the_send_protocol_and_is_a_stream() {
    weft::run(async {
        let mut acc: AsyncGen<u32, u32, u32> = AsyncGen::new(|co| async move {
            let mut total = 0;
            loop {
                match co.yield_(total).await {
                    Ok(v) => {
                        weft::task::yield_now().await;
                        total += v;
                    }
                    Err(Interrupt::Closed) => return Ok(total),
                    Err(e) => return Err(e),
                }
            }
        });
        assert_eq!(acc.start().await, Ok(GenState::Yielded(0)));
        assert_eq!(acc.send(3).await, Ok(GenState::Yielded(3)));
        assert_eq!(acc.close().await, Ok(Some(3)));

        let stream: AsyncGen<u8> = AsyncGen::new(|co| async move {
            co.yield_(1).await?;
            co.yield_(2).await?;
            Ok(())
        });
        let mut stream = std::pin::pin!(stream);
        let mut items = Vec::new();
        while let Some(v) =
            std::future::poll_fn(|cx| futures_core::Stream::poll_next(stream.as_mut(), cx)).await
        {
            items.push(v);
        }
        assert_eq!(items, [1, 2]);
    });
}

#[test]
fn a_cancelled_async_step_is_finished_by_the_next_one() {
    use std::future::Future;
    use std::task::Poll;
    weft::run(async {
        let gate = Rc::new(weft::sync::Event::new());
        let opened = gate.clone();
        let mut g: AsyncGen<u32, u32> = AsyncGen::new(move |co| async move {
            let got = co.yield_(0).await?;
            opened.wait().await;
            co.yield_(got).await?;
            Ok(())
        });
        assert_eq!(g.start().await, Ok(GenState::Yielded(0)));
        {
            // Polled once, the step hands 7 over and the body waits at the gate; then the
            // step is dropped (a timeout or a race would do that).
            let mut step = std::pin::pin!(g.send(7));
            let first = std::future::poll_fn(|cx| Poll::Ready(step.as_mut().poll(cx))).await;
            assert!(first.is_pending());
        }
        assert!(!g.is_finished());
        gate.set();
        // The body goes on from the gate with the 7 it already has; the 8 is not delivered.
        assert_eq!(g.send(8).await, Ok(GenState::Yielded(7)));
        assert_eq!(g.send(9).await, Ok(GenState::Complete(())));
    });
}

#[test]
fn an_async_gen_may_await_during_its_cleanup_on_close() {
    weft::run(async {
        let flushed = Rc::new(Cell::new(false));
        let seen = flushed.clone();
        let mut g: AsyncGen<u32, (), &str> = AsyncGen::new(move |co| async move {
            match co.yield_(1).await {
                Err(Interrupt::Closed) => {
                    weft::task::yield_now().await; // say, flushing a socket
                    seen.set(true);
                    Ok("flushed")
                }
                _ => Ok("not closed"),
            }
        });
        assert_eq!(g.start().await, Ok(GenState::Yielded(1)));
        assert_eq!(g.close().await, Ok(Some("flushed")));
        assert!(flushed.get());
        assert!(g.is_finished());

        // A body that awaits and then yields again while closing is still refused.
        let mut stubborn: AsyncGen<u32> = AsyncGen::new(|co| async move {
            if co.yield_(1).await.is_err() {
                weft::task::yield_now().await;
                co.yield_(2).await?;
            }
            Ok(())
        });
        assert_eq!(stubborn.start().await, Ok(GenState::Yielded(1)));
        assert_eq!(stubborn.close().await, Err(GenError::IgnoredClose));
        assert!(stubborn.is_finished());
    });
}

#[test]
fn a_yield_that_is_never_awaited_hands_over_nothing() {
    let plain: Gen<u32> = Gen::new(|co| async move {
        let _ = co.yield_(1); // made, never awaited
        co.yield_(2).await?;
        Ok(())
    });
    assert_eq!(plain.collect::<Vec<_>>(), [2]);

    weft::run(async {
        // Not even when the body then awaits something else: that is no yield either.
        let mut stream: AsyncGen<u32> = AsyncGen::new(|co| async move {
            let _ = co.yield_(1);
            weft::task::yield_now().await;
            co.yield_(2).await?;
            Ok(())
        });
        assert_eq!(stream.next().await, Some(2));
        assert_eq!(stream.next().await, None);
    });
}

#[test]
fn a_yield_polled_again_before_it_is_resumed_stays_suspended() {
    use std::future::{Future, IntoFuture, poll_fn};
    use std::task::Poll;

    let mut g: Gen<u8, u8, u8> = Gen::new(|co| async move {
        let mut resumed = std::pin::pin!(co.yield_(1).into_future());
        // A careless combinator: polls the yield a second time whenever the first is pending.
        let sent = poll_fn(|cx| match resumed.as_mut().poll(cx) {
            Poll::Ready(v) => Poll::Ready(v),
            Poll::Pending => resumed.as_mut().poll(cx),
        })
        .await?;
        Ok(sent)
    });
    assert_eq!(g.start(), Ok(GenState::Yielded(1)));
    assert_eq!(g.send(7), Ok(GenState::Complete(7)));
}

#[test]
fn yield_from_resumes_a_generator_that_already_started_where_it_stands() {
    // def inner():
    //     yield 1          # taken by hand below
    //     yield 2
    //     return "done"
    // def outer(g):
    //     r = yield from g  # send(None) resumes g after its first yield
    //     yield r
    let mut inner: Gen<u32, (), &str> = Gen::new(|co| async move {
        co.yield_(1).await?;
        co.yield_(2).await?;
        Ok("done")
    });
    assert_eq!(inner.start(), Ok(GenState::Yielded(1)));
    let mut outer: Gen<u32> = Gen::new(move |co| async move {
        let r = co.yield_from(&mut inner).await?;
        co.yield_(r.len() as u32).await?;
        Ok(())
    });
    assert_eq!(outer.start(), Ok(GenState::Yielded(2)));
    assert_eq!(outer.send(()), Ok(GenState::Yielded(4)));
    assert_eq!(outer.send(()), Ok(GenState::Complete(())));
}

#[test]
fn send_of_unit_starts_a_fresh_generator_and_a_real_value_is_refused() {
    let mut counter: Gen<u32> = Gen::new(|co| async move {
        co.yield_(7).await?;
        Ok(())
    });
    assert!(!counter.is_started());
    assert_eq!(
        counter.send(()),
        Ok(GenState::Yielded(7)),
        "Python's send(None)"
    );
    assert!(counter.is_started());

    let mut echo: Gen<u32, u32> = Gen::new(|co| async move {
        let v = co.yield_(0).await?;
        co.yield_(v).await?;
        Ok(())
    });
    assert_eq!(
        echo.send(5),
        Err(GenError::NotStarted),
        "Python's TypeError"
    );
}

/// Sinks of lines, named once so the stages need no closure annotations.
type Lines = weft::generator::Sink<String>;

#[test]
fn a_sink_is_primed_when_made_and_shared_by_its_clones() {
    let seen = Rc::new(RefCell::new(Vec::new()));
    let printer = Lines::new({
        let seen = seen.clone();
        move |co| async move {
            loop {
                let line = co.yield_(()).await?;
                seen.borrow_mut().push(line);
            }
        }
    });
    let (a, b) = (printer.clone(), printer.clone());
    a.send("from a".to_string()).unwrap();
    b.send("from b".to_string()).unwrap();
    assert_eq!(
        *seen.borrow(),
        ["from a", "from b"],
        "both clones reach one coroutine"
    );
    assert_eq!(printer.close(), Ok(()));
    assert!(a.is_finished() && b.is_finished());
    assert_eq!(b.send("late".to_string()), Err(GenError::Finished));
    assert_eq!(b.close(), Ok(()), "closing a finished sink does nothing");
}

#[test]
fn a_sink_that_sends_into_itself_gets_an_error_not_a_panic() {
    let me: Rc<RefCell<Option<Lines>>> = Rc::new(RefCell::new(None));
    let sink = Lines::new({
        let me = me.clone();
        move |co| async move {
            loop {
                let line = co.yield_(()).await?;
                let myself = me.borrow().clone().expect("set below");
                assert_eq!(myself.send(line), Err(GenError::AlreadyRunning));
            }
        }
    });
    *me.borrow_mut() = Some(sink.clone());
    sink.send("loop".to_string()).unwrap();
    *me.borrow_mut() = None; // break the cycle
}
