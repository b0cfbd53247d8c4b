//! Soak: 10,000 connections churn through the echo server in waves of 1,000, closing normally,
//! half-closing or resetting. Afterwards no client saw an error, the fd count and the task
//! count are back at their baselines after every wave, and the resident set stays flat from
//! wave to wave. (Its own test binary: it raises the process's fd limit.)

use std::time::Duration;

use rustix::process::{Resource, getrlimit, setrlimit};
use weft::io::{AsyncReadExt, AsyncWriteExt};
use weft::net::{StreamServer, TcpListener, TcpStream};

const WAVES: usize = 10;

/// How a client ends its connection.
#[derive(Clone, Copy, Debug)]
enum Ending {
    /// Drops the stream: FIN.
    Close,
    /// Shuts down its write side and reads the server's end of file first.
    HalfClose,
    /// `SO_LINGER` 0, then drop: RST.
    Reset,
}

async fn client(addr: std::net::SocketAddr, ending: Ending) -> std::io::Result<()> {
    let mut stream = TcpStream::connect(addr).await?;
    let message = [7u8; 64];
    stream.write_all(&message).await?;
    let mut echoed = [0u8; 64];
    stream.read_exact(&mut echoed).await?;
    assert_eq!(echoed, message);
    match ending {
        Ending::Close => {}
        Ending::HalfClose => {
            stream.close().await?;
            let mut rest = Vec::new();
            stream.read_to_end(&mut rest).await?;
            assert!(rest.is_empty());
        }
        Ending::Reset => socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO))?,
    }
    Ok(())
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

/// Lets the loop run until `done` holds; fails after 30 s.
async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let waited = weft::time::timeout(Duration::from_secs(30), async {
        while !done() {
            weft::task::yield_now().await;
        }
    })
    .await;
    assert!(waited.is_ok(), "{what} never happened");
}

#[test]
fn ten_thousand_connections_churn_through_the_echo_server() {
    // Two descriptors a connection (both ends live in this process), plus slack.
    let mut limit = getrlimit(Resource::Nofile);
    let hard = limit.maximum.unwrap_or(u64::MAX);
    limit.current = Some(hard.min(8192));
    setrlimit(Resource::Nofile, limit).unwrap();
    let wave = usize::try_from((hard.min(8192) - 200) / 2)
        .unwrap()
        .min(1000);
    weft::run(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = StreamServer::new(listener);
        let handle = server.stop_handle();
        let serving = weft::spawn(demo_echo::server::serve(server, None));
        weft::task::yield_now().await;
        let (fds, tasks) = (open_fds(), weft::task::all_tasks().len());
        let mut rss = Vec::new();
        for round in 0..WAVES {
            let clients: Vec<_> = (0..wave)
                .map(|i| {
                    let ending = [Ending::Close, Ending::HalfClose, Ending::Reset][i % 3];
                    weft::spawn(client(addr, ending))
                })
                .collect();
            for (i, client) in clients.into_iter().enumerate() {
                if let Err(err) = client.await.unwrap() {
                    panic!("wave {round}, client {i}: {err}");
                }
            }
            until("the server's connections all ending", || {
                handle.active_connections() == 0
            })
            .await;
            until("the tasks all ending", || {
                weft::task::all_tasks().len() == tasks
            })
            .await;
            assert_eq!(open_fds(), fds, "wave {round} left descriptors open");
            rss.push(rss_bytes());
        }
        assert_eq!(handle.accept_errors(), 0);
        // The first waves grow the allocator's pools; after that nothing may grow per wave.
        let settled = rss[2];
        let last = *rss.last().unwrap();
        assert!(
            last <= settled + 2 * 1024 * 1024,
            "RSS grew from {settled} to {last} bytes over {} waves: {rss:?}",
            WAVES - 3
        );
        handle.stop(Duration::from_secs(1));
        serving.await.unwrap().unwrap();
    });
}
