//! Chaos: a small proxy on weft sits between echo clients and the echo server and, driven by
//! a seed, resets connections, stalls, cuts data into 1-byte segments and delays half-closes.
//! Every byte either comes back intact or its connection ends with an error; nothing hangs past
//! its timeout. A failure prints its seed; `WEFT_CHAOS_SEED=S` runs that seed alone.
//!
//! The clock is paused: a stall costs no real time (the clock jumps when every task waits),
//! and loopback I/O is never mistaken for idleness (a byte written is readable at once).

use std::cell::Cell;
use std::net::SocketAddr;
use std::time::Duration;

use weft::io::{AsyncReadExt, AsyncWriteExt};
use weft::net::{StreamServer, TcpListener, TcpStream};

const SEEDS: u64 = 8;
const CONNECTIONS: u64 = 40;

/// splitmix64: a small seeded generator, one per connection.
struct Rng(Cell<u64>);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(Cell::new(seed))
    }

    fn below(&self, n: u64) -> u64 {
        let mut z = self.0.get().wrapping_add(0x9e37_79b9_7f4a_7c15);
        self.0.set(z);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) % n
    }
}

/// Why the proxy cut a connection: chaos chose to, or a side failed.
struct Cut;

/// Copies `from` to `to` with chaos, then half-closes `to` (after a delay, sometimes).
async fn pump(from: &TcpStream, to: &TcpStream, rng: &Rng) -> Result<(), Cut> {
    let (mut from, mut to) = (from, to);
    let mut buf = [0u8; 4096];
    loop {
        let n = from.read(&mut buf).await.map_err(|_| Cut)?;
        if n == 0 {
            if rng.below(3) == 0 {
                weft::time::sleep(Duration::from_millis(rng.below(200))).await;
            }
            return to.close().await.map_err(|_| Cut);
        }
        match rng.below(100) {
            0..2 => return Err(Cut),
            2..12 => weft::time::sleep(Duration::from_millis(rng.below(50))).await,
            _ => {}
        }
        if rng.below(4) == 0 {
            for byte in &buf[..n] {
                to.write_all(std::slice::from_ref(byte))
                    .await
                    .map_err(|_| Cut)?;
                weft::task::yield_now().await;
            }
        } else {
            to.write_all(&buf[..n]).await.map_err(|_| Cut)?;
        }
    }
}

/// Ends both connections with a reset (`SO_LINGER` 0), so the client sees an error, never
/// an early end of file that could pass for a complete echo.
fn reset(streams: impl IntoIterator<Item = TcpStream>) {
    for stream in streams {
        let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
    }
}

async fn proxy(listener: TcpListener, upstream: SocketAddr, seed: u64) {
    let mut connection = 0u64;
    loop {
        let Ok((client, _)) = listener.accept().await else {
            return;
        };
        connection += 1;
        let rng = Rng::new(seed.wrapping_mul(1_000_003).wrapping_add(connection));
        weft::spawn(async move {
            let Ok(server) = TcpStream::connect(upstream).await else {
                reset([client]);
                return;
            };
            let cut = weft::try_join!(pump(&client, &server, &rng), pump(&server, &client, &rng));
            if cut.is_err() {
                reset([client, server]);
            }
        });
    }
}

/// Sends a seeded message through the proxy and checks every byte that comes back; returns
/// whether the whole echo came back (`false`: the connection ended with an error).
async fn client(proxy: SocketAddr, rng: Rng) -> bool {
    let data: Vec<u8> = (0..1 + rng.below(20_000))
        .map(|_| rng.below(256) as u8)
        .collect();
    let Ok(stream) = TcpStream::connect(proxy).await else {
        return false;
    };
    let (mut writer, mut reader) = (&stream, &stream);
    let write = async {
        writer.write_all(&data).await?;
        writer.close().await
    };
    let read = async {
        let mut got = 0;
        let mut buf = [0u8; 4096];
        loop {
            let n = reader.read(&mut buf).await?;
            if n == 0 {
                return Ok(got);
            }
            assert!(
                got + n <= data.len() && buf[..n] == data[got..got + n],
                "bytes {got}..{} came back changed",
                got + n
            );
            got += n;
        }
    };
    let (written, read): (std::io::Result<()>, std::io::Result<usize>) = weft::join!(write, read);
    match read {
        Ok(got) => {
            assert_eq!(got, data.len(), "the echo ended early without an error");
            assert!(written.is_ok(), "a write failed but the echo was whole");
            true
        }
        Err(_) => false,
    }
}

fn run_seed(seed: u64) -> (u64, u64) {
    let runtime = weft::runtime::Builder::new()
        .start_paused(true)
        .build()
        .unwrap();
    runtime.block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let upstream = listener.local_addr().unwrap();
        weft::spawn(demo_echo::server::serve(StreamServer::new(listener), None));
        let front = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy_addr = front.local_addr().unwrap();
        weft::spawn(proxy(front, upstream, seed));
        let clients: Vec<_> = (0..CONNECTIONS)
            .map(|i| weft::spawn(client(proxy_addr, Rng::new(seed ^ (i << 32)))))
            .collect();
        let (mut whole, mut cut) = (0, 0);
        for client in clients {
            let finished = weft::time::timeout(Duration::from_secs(60), client).await;
            match finished.expect("a connection hung past its timeout") {
                Ok(true) => whole += 1,
                Ok(false) => cut += 1,
                Err(panic) => std::panic::resume_unwind(panic.try_into_panic().unwrap()),
            }
        }
        (whole, cut)
    })
}

#[test]
fn every_byte_arrives_intact_or_its_connection_ends_with_an_error() {
    let seeds: Vec<u64> = match std::env::var("WEFT_CHAOS_SEED") {
        Ok(seed) => vec![seed.parse().expect("WEFT_CHAOS_SEED is a number")],
        Err(_) => (0..SEEDS).collect(),
    };
    let (mut whole, mut cut) = (0, 0);
    for seed in seeds {
        match std::panic::catch_unwind(|| run_seed(seed)) {
            Ok((w, c)) => (whole, cut) = (whole + w, cut + c),
            Err(panic) => {
                eprintln!("chaos failed under seed {seed}; rerun it with WEFT_CHAOS_SEED={seed}");
                std::panic::resume_unwind(panic);
            }
        }
    }
    // The chaos did something, and not everything: both outcomes happened.
    assert!(
        whole > 0 && cut > 0,
        "{whole} whole echoes, {cut} cut connections"
    );
    eprintln!("chaos: {whole} whole echoes, {cut} connections cut");
}
