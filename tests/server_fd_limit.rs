//! StreamServer out of file descriptors (its own test binary: it lowers the process's fd limit).

use std::time::Duration;

use rustix::process::{Resource, getrlimit, setrlimit};
use weft::io::{AsyncReadExt, AsyncWriteExt};
use weft::net::{StreamServer, TcpListener, TcpStream};

#[test]
fn out_of_fds_the_server_backs_off_and_serves_again_once_fds_free_up() {
    let open_fds = std::fs::read_dir("/proc/self/fd").unwrap().count() as u64;
    let old = getrlimit(Resource::Nofile);
    weft::run(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = StreamServer::new(listener);
        let stop = server.stop_handle();
        let serving = weft::spawn(server.serve(|mut conn: TcpStream, _| async move {
            let mut buf = [0; 16];
            while let Ok(n @ 1..) = conn.read(&mut buf).await {
                conn.write_all(&buf[..n]).await.unwrap();
            }
        }));
        // Clients come from std sockets opened *before* the limit drops, so only the server's
        // accept runs out of descriptors.
        let clients: Vec<std::net::TcpStream> = (0..6)
            .map(|_| std::net::TcpStream::connect(addr).unwrap())
            .collect();
        let mut limit = old;
        limit.current = Some(open_fds + 16);
        setrlimit(Resource::Nofile, limit).unwrap();
        // Fill the fd table: the server accepts until it hits EMFILE, then backs off.
        let mut hog = Vec::new();
        while let Ok(f) = std::fs::File::open("/dev/null") {
            hog.push(f);
        }
        weft::time::sleep(Duration::from_millis(300)).await;
        let errors = stop.accept_errors();
        assert!(errors >= 1, "the server never ran out of fds");
        assert!(
            errors < 20,
            "{errors} accept attempts in 300 ms: the server is spinning"
        );
        // Free the descriptors: the waiting clients are accepted and served.
        drop(hog);
        setrlimit(Resource::Nofile, old).unwrap();
        for client in clients {
            client.set_nonblocking(true).unwrap();
            let mut c = TcpStream::from_std(client).unwrap();
            c.write_all(b"ping").await.unwrap();
            let mut reply = [0; 4];
            weft::time::timeout(Duration::from_secs(10), c.read_exact(&mut reply))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(&reply, b"ping");
        }
        stop.stop(Duration::from_millis(10));
        serving.await.unwrap().unwrap();
    });
}
