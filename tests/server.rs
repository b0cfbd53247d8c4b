//! StreamServer through the public API: the connection limit and the graceful stop.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use weft::io::{AsyncReadExt, AsyncWriteExt};
use weft::net::{StreamServer, TcpListener, TcpStream};
use weft::task::yield_now;

#[test]
fn the_connection_limit_holds_and_frees_up() {
    weft::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = StreamServer::new(listener).max_connections(2);
        let stop = server.stop_handle();
        let (running, most) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(0)));
        let serving = weft::spawn({
            let (running, most) = (running.clone(), most.clone());
            server.serve(move |mut conn: TcpStream, _| {
                let (running, most) = (running.clone(), most.clone());
                async move {
                    running.set(running.get() + 1);
                    most.set(most.get().max(running.get()));
                    let mut buf = [0; 8];
                    while let Ok(n @ 1..) = conn.read(&mut buf).await {
                        conn.write_all(&buf[..n]).await.unwrap();
                    }
                    running.set(running.get() - 1);
                }
            })
        });
        // Three clients; only two are served at a time. The third waits in the backlog.
        let mut clients = Vec::new();
        for _ in 0..3 {
            clients.push(TcpStream::connect(addr).await.unwrap());
        }
        for (i, c) in clients.iter_mut().enumerate().take(2) {
            c.write_all(&[i as u8]).await.unwrap();
            let mut b = [0; 1];
            c.read_exact(&mut b).await.unwrap();
        }
        for _ in 0..5 {
            yield_now().await;
        }
        assert_eq!(stop.active_connections(), 2);
        let mut third = clients.pop().unwrap();
        drop(clients); // the first two hang up: slots free
        third.write_all(b"x").await.unwrap();
        let mut b = [0; 1];
        third.read_exact(&mut b).await.unwrap(); // now it is served
        assert_eq!(most.get(), 2);
        drop(third);
        stop.stop(Duration::from_secs(5));
        serving.await.unwrap().unwrap();
    });
}

#[test]
fn stop_lets_handlers_finish_within_the_grace_period_then_cancels_the_rest() {
    weft::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = StreamServer::new(listener);
        let stop = server.stop_handle();
        let finished = Rc::new(Cell::new(0));
        let serving = weft::spawn({
            let finished = finished.clone();
            server.serve(move |mut conn: TcpStream, _| {
                let finished = finished.clone();
                async move {
                    let mut first = [0; 1];
                    conn.read_exact(&mut first).await.unwrap();
                    if first[0] == b'q' {
                        weft::time::sleep(Duration::from_millis(2)).await; // quick: finishes
                    } else {
                        weft::time::sleep(Duration::from_secs(3600)).await; // cancelled
                    }
                    finished.set(finished.get() + 1);
                }
            })
        });
        let mut quick = TcpStream::connect(addr).await.unwrap();
        let mut slow = TcpStream::connect(addr).await.unwrap();
        quick.write_all(b"q").await.unwrap();
        slow.write_all(b"s").await.unwrap();
        while stop.active_connections() < 2 {
            yield_now().await;
        }
        stop.stop(Duration::from_millis(50));
        serving.await.unwrap().unwrap();
        assert_eq!(
            finished.get(),
            1,
            "the quick handler finished, the slow one was cancelled"
        );
        assert_eq!(stop.active_connections(), 0);
        // The cancelled handler's connection was closed, and the listener is gone.
        let mut rest = Vec::new();
        assert_eq!(slow.read_to_end(&mut rest).await.unwrap(), 0);
        assert!(TcpStream::connect(addr).await.is_err());
    });
}
