//! weft::channel through the public API.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use test_support::poll_once;
use weft::channel::{RecvError, TryRecvError, TrySendError, broadcast, mpsc, oneshot, pipe, watch};
use weft::task::yield_now;
use weft::time::timeout;

#[test]
fn oneshot_delivers_or_reports_the_dropped_sender() {
    weft::run(async {
        let (tx, rx) = oneshot::channel();
        tx.send(5).unwrap();
        assert_eq!(rx.await, Ok(5));
        let (tx, rx) = oneshot::channel::<u8>();
        drop(tx);
        assert_eq!(rx.await, Err(RecvError));
        let (tx, rx) = oneshot::channel();
        drop(rx);
        assert!(tx.is_closed());
        assert_eq!(tx.send(1), Err(1));
    });
}

#[test]
fn bounded_mpsc_applies_backpressure_and_ends_when_senders_are_gone() {
    weft::run(async {
        let (tx, mut rx) = mpsc::channel(2);
        tx.send(1).await.unwrap();
        tx.send(2).await.unwrap();
        assert_eq!(tx.try_send(3), Err(TrySendError::Full(3)));
        let sender = weft::spawn(async move {
            tx.send(3).await.unwrap();
        });
        yield_now().await;
        assert!(!sender.is_finished());
        assert_eq!(rx.recv().await, Some(1));
        sender.await.unwrap();
        assert_eq!(rx.recv().await, Some(2));
        assert_eq!(rx.recv().await, Some(3));
        assert_eq!(rx.recv().await, None);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    });
}

#[test]
fn sending_to_a_closed_receiver_gives_the_value_back() {
    weft::run(async {
        let (tx, rx) = mpsc::channel(1);
        drop(rx);
        assert_eq!(tx.send("lost?").await.unwrap_err().0, "lost?");
        let (tx, rx) = mpsc::unbounded();
        drop(rx);
        assert!(tx.is_closed());
        assert_eq!(tx.send(1).unwrap_err().0, 1);
    });
}

#[test]
fn a_rendezvous_send_completes_only_when_the_value_is_taken() {
    weft::run(async {
        let (tx, mut rx) = mpsc::channel(0);
        let sent = Rc::new(Cell::new(false));
        let sender = weft::spawn({
            let sent = sent.clone();
            async move {
                tx.send("hand-off").await.unwrap();
                sent.set(true);
            }
        });
        for _ in 0..3 {
            yield_now().await;
        }
        assert!(!sent.get(), "the send completed with nobody receiving");
        assert_eq!(rx.recv().await, Some("hand-off"));
        sender.await.unwrap();
        assert!(sent.get());
    });
}

#[weft::test(paused)]
async fn a_cancelled_rendezvous_send_delivers_nothing() {
    let (tx, mut rx) = mpsc::channel(0);
    assert!(timeout(Duration::from_millis(1), tx.send(1)).await.is_err());
    drop(tx);
    assert_eq!(rx.recv().await, None);
}

#[test]
fn a_bounded_sender_woken_for_room_and_then_cancelled_passes_the_room_on() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(0).unwrap();
    let mut first = Box::pin(tx.send(1));
    let mut second = Box::pin(tx.send(2));
    assert!(poll_once(first.as_mut()).is_pending());
    assert!(poll_once(second.as_mut()).is_pending());
    assert_eq!(rx.try_recv(), Ok(0));
    drop(first);
    assert!(poll_once(second.as_mut()).is_ready());
    assert_eq!(rx.try_recv(), Ok(2));
}

#[test]
fn broadcast_reaches_every_receiver_and_reports_lag() {
    weft::run(async {
        let (tx, mut a) = broadcast::channel(2);
        let mut b = tx.subscribe();
        for n in 0..4 {
            tx.send(n).unwrap();
        }
        assert_eq!(a.recv().await, Err(broadcast::RecvError::Lagged(2)));
        assert_eq!(a.recv().await, Ok(2));
        assert_eq!(a.recv().await, Ok(3));
        assert_eq!(b.recv().await, Err(broadcast::RecvError::Lagged(2)));
        drop(tx);
        assert_eq!(a.recv().await, Err(broadcast::RecvError::Closed));
    });
}

#[test]
fn watch_receivers_see_the_latest_value() {
    weft::run(async {
        let (tx, mut rx) = watch::channel(0);
        assert!(!rx.has_changed());
        tx.send(1);
        tx.send(2);
        assert!(rx.has_changed());
        rx.changed().await.unwrap();
        assert_eq!(*rx.borrow_and_update(), 2);
        drop(tx);
        assert_eq!(rx.changed().await, Err(RecvError));
    });
}

#[test]
fn pipe_is_duplex_and_ends_with_eof() {
    weft::run(async {
        let (mut a, mut b) = pipe::<&str, usize>();
        a.send("four").unwrap();
        assert!(b.has_message());
        let word = b.recv().await.unwrap();
        b.send(word.len()).unwrap();
        assert_eq!(a.recv().await, Ok(4));
        a.send("last").unwrap();
        a.close();
        assert_eq!(b.recv().await, Ok("last"));
        assert!(b.recv().await.is_err());
        assert!(b.send(0).is_err());
    });
}
