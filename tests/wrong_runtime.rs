//! A socket, pipe, child, signal or timer is tied to the runtime that made it. Used in
//! another runtime (or after its own ended), it fails at once with a message that says so,
//! instead of waiting forever for a reactor nobody polls.

use std::time::Duration;

use weft::io::AsyncReadExt;
use weft::net::{TcpListener, TcpStream, UdpSocket, UnixStream};

fn assert_names_the_runtime(err: std::io::Error) {
    let text = err.to_string();
    assert!(text.contains("belongs to another weft runtime"), "{text}");
    assert!(text.contains("inside the runtime that made it"), "{text}");
}

#[test]
fn a_tcp_stream_made_in_one_run_fails_in_the_next() {
    let (mut stream, listener) = weft::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let stream = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        (stream, listener)
    });
    let err = weft::run(async move {
        // The write goes through (the kernel takes it); the read would wait forever.
        weft::io::AsyncWriteExt::write_all(&mut stream, b"ping")
            .await
            .unwrap();
        stream.read(&mut [0; 4]).await.unwrap_err()
    });
    assert_names_the_runtime(err);
    drop(listener);
}

#[test]
fn udp_unix_and_a_listener_fail_the_same_way() {
    let (udp, unix, listener) = weft::run(async {
        let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let unix = UnixStream::pair().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        (udp, unix, listener)
    });
    let (mut a, _b) = unix;
    let errs = weft::run(async move {
        [
            udp.recv(&mut [0; 8]).await.unwrap_err(),
            a.read(&mut [0; 8]).await.unwrap_err(),
            listener.accept().await.unwrap_err(),
        ]
    });
    errs.into_iter().for_each(assert_names_the_runtime);
}

#[test]
fn a_child_made_in_one_run_fails_to_be_waited_for_in_the_next() {
    let mut child = weft::run(async {
        weft::process::Command::new("sleep")
            .arg("5")
            .kill_on_drop(true)
            .spawn()
            .unwrap()
    });
    let err = weft::run(async move { child.wait().await.unwrap_err() });
    assert_names_the_runtime(err);
}

#[test]
fn the_same_runtime_in_a_later_block_on_is_fine() {
    let rt = weft::Runtime::new().unwrap();
    let (mut a, mut b) = rt.block_on(async { UnixStream::pair().unwrap() });
    rt.block_on(async move {
        weft::io::AsyncWriteExt::write_all(&mut b, b"hi")
            .await
            .unwrap();
        let mut buf = [0; 2];
        a.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"hi");
    });
}

#[test]
fn a_timer_armed_in_one_run_panics_with_advice_in_the_next() {
    let mut sleep = Box::pin(weft::time::sleep(Duration::from_secs(3600)));
    weft::run(async {
        // Arms the timer in this runtime.
        assert!(test_support::poll_once(sleep.as_mut()).is_pending());
    });
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        weft::run(async { sleep.as_mut().await })
    }))
    .unwrap_err();
    let text = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default();
    assert!(
        text.contains("armed in one runtime was awaited in another"),
        "{text}"
    );
}
