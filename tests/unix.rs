//! Unix domain sockets through the public API.

use std::io;
use std::net::Shutdown;
use std::path::PathBuf;
use std::time::Duration;

use weft::io::{AsyncReadExt, AsyncWriteExt};
use weft::net::{UnixListener, UnixStream};
use weft::time::timeout;

/// A socket path of this test's own, with nothing at it yet.
fn socket_path(test: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("weft-{}-{test}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

#[test]
fn a_client_and_a_server_talk_and_half_close() {
    let path = socket_path("talk");
    weft::run(async {
        let listener = UnixListener::bind(&path).unwrap();
        assert_eq!(
            listener.local_addr().unwrap().as_pathname(),
            Some(path.as_path())
        );
        let server = weft::spawn(async move {
            let (mut conn, _peer) = listener.accept().await.unwrap();
            let mut request = Vec::new();
            conn.read_to_end(&mut request).await.unwrap(); // until the client half-closes
            conn.write_all(&request).await.unwrap();
            conn.write_all(b" back").await.unwrap();
        });
        let mut client = UnixStream::connect(&path).await.unwrap();
        assert_eq!(
            client.peer_addr().unwrap().as_pathname(),
            Some(path.as_path())
        );
        client.write_all(b"hello").await.unwrap();
        client.shutdown(Shutdown::Write).unwrap();
        let mut reply = Vec::new();
        timeout(Duration::from_secs(10), client.read_to_end(&mut reply))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(reply, b"hello back");
        server.await.unwrap();
    });
}

#[test]
fn bind_replaces_a_stale_socket_file_but_not_a_live_one_nor_another_file() {
    let path = socket_path("stale");
    // A socket file an earlier process left behind (std does not remove it on drop).
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    assert!(path.exists());
    weft::run(async {
        let refused = UnixStream::connect(&path).await.unwrap_err();
        assert_eq!(refused.kind(), io::ErrorKind::ConnectionRefused);
        drop(UnixListener::bind(&path).unwrap());

        let live = UnixListener::bind(&path).unwrap();
        let err = UnixListener::bind(&path).unwrap_err();
        assert_eq!(
            err.kind(),
            io::ErrorKind::AddrInUse,
            "a live server keeps its path"
        );
        drop(live);

        std::fs::write(&path, b"not a socket").unwrap();
        let err = UnixListener::bind(&path).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
        assert_eq!(std::fs::read(&path).unwrap(), b"not a socket");
        std::fs::remove_file(&path).unwrap();
    });
}

#[test]
fn dropping_the_listener_removes_its_file_unless_it_was_replaced() {
    let path = socket_path("cleanup");
    weft::run(async {
        drop(UnixListener::bind(&path).unwrap());
        assert!(!path.exists());

        let first = UnixListener::bind(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        let second = std::os::unix::net::UnixListener::bind(&path).unwrap();
        drop(first);
        assert!(path.exists(), "the file is the second listener's now");
        drop(second);
        std::fs::remove_file(&path).unwrap();
    });
}

#[test]
fn connecting_where_nothing_is_gives_not_found() {
    let path = socket_path("nothing");
    weft::run(async {
        let err = UnixStream::connect(&path).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    });
}

#[test]
fn a_stream_server_serves_a_unix_listener_and_stops() {
    use weft::net::StreamServer;
    let path = socket_path("server");
    weft::run(async {
        let server = StreamServer::new(UnixListener::bind(&path).unwrap()).max_connections(2);
        assert_eq!(
            server.local_addr().unwrap().as_pathname(),
            Some(path.as_path())
        );
        let stop = server.stop_handle();
        let serving = weft::spawn(server.serve(|mut conn: UnixStream, _peer| async move {
            let mut buf = [0; 64];
            while let Ok(n @ 1..) = conn.read(&mut buf).await {
                conn.write_all(&buf[..n]).await.unwrap();
            }
        }));
        for _ in 0..3 {
            let mut client = UnixStream::connect(&path).await.unwrap();
            client.write_all(b"ping").await.unwrap();
            let mut reply = [0; 4];
            timeout(Duration::from_secs(10), client.read_exact(&mut reply))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(&reply, b"ping");
        }
        stop.stop(Duration::from_secs(10));
        serving.await.unwrap().unwrap();
    });
    assert!(
        !path.exists(),
        "stopping closed the listener, which removed its file"
    );
}

#[test]
fn a_unix_stream_waits_for_readiness_and_reads_without_waiting() {
    weft::run(async {
        let (a, b) = weft::net::UnixStream::pair().unwrap();
        a.try_write(b"x").unwrap();
        b.readable().await.unwrap();
        let mut byte = [0];
        assert_eq!(b.try_read(&mut byte).unwrap(), 1);
        let err = b.try_read(&mut byte).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock);
    });
}

/// A task woken when nothing else is ready is polled as its event is dispatched. If it drops
/// a source whose event comes later in the same batch and opens one that takes the dropped
/// source's slot, that event must not reach the new source: it would be readable with
/// nothing to read (and a closed-for-reading mark would make its reads spin).
#[weft::test(paused)]
async fn an_event_for_a_dropped_source_does_not_reach_the_source_that_took_its_place() {
    use std::cell::RefCell;
    use std::rc::Rc;

    let (a, a_peer) = UnixStream::pair().unwrap();
    let (b, b_peer) = UnixStream::pair().unwrap();
    let b = Rc::new(RefCell::new(Some(b)));
    let (opened, fresh) = weft::channel::oneshot::channel();
    weft::spawn({
        let b = b.clone();
        async move {
            a.readable().await.unwrap();
            // `b`'s event is the next in this batch; its slot goes to `first`.
            drop(b.borrow_mut().take());
            let _ = opened.send(UnixStream::pair().unwrap());
        }
    });
    // The task waits for `a`, and the sockets' first events have been dispatched.
    weft::task::wait_all_tasks_blocked().await;
    a_peer.try_write(b"a").unwrap();
    b_peer.try_write(b"b").unwrap();
    let (first, second) = fresh.await.unwrap();
    for fresh in [&first, &second] {
        let readable = timeout(Duration::from_secs(1), fresh.readable()).await;
        assert!(readable.is_err(), "nothing was written to a new socket");
    }
    assert!(b.borrow().is_none());
}
