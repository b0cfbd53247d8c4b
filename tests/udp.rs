//! UDP through the public API.

use weft::net::UdpSocket;

#[test]
fn a_udp_round_trip() {
    weft::run(async {
        let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let server_addr = server.local_addr().unwrap();
        let echo = weft::spawn(async move {
            let mut buf = [0; 1500];
            let (n, from) = server.recv_from(&mut buf).await.unwrap();
            server.send_to(&buf[..n], from).await.unwrap();
        });
        let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        client.connect(server_addr).await.unwrap();
        assert_eq!(client.peer_addr().unwrap(), server_addr);
        client.send(b"marco").await.unwrap();
        let mut buf = [0; 1500];
        let n = client.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"marco");
        echo.await.unwrap();
    });
}

#[test]
fn many_datagrams_arrive_whole() {
    weft::run(async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let to = b.local_addr().unwrap();
        // Fewer than the default receive buffer holds, so none is dropped on loopback.
        for i in 0..100u8 {
            a.send_to(&[i; 32], to).await.unwrap();
        }
        let mut buf = [0; 64];
        for i in 0..100u8 {
            let (n, _) = b.recv_from(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], &[i; 32]);
        }
    });
}

#[test]
fn a_refused_datagram_surfaces_as_an_error() {
    weft::run(async {
        let gone = UdpSocket::bind("127.0.0.1:0")
            .await
            .unwrap()
            .local_addr()
            .unwrap();
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        socket.connect(gone).await.unwrap();
        socket.send(b"anyone?").await.unwrap();
        let mut buf = [0; 8];
        let err = socket.recv(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
    });
}

#[test]
fn readable_then_try_recv_takes_a_datagram_without_waiting_in_the_read() {
    weft::run(async {
        let a = weft::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = weft::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let err = b.try_recv_from(&mut [0; 8]).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock);
        a.writable().await.unwrap();
        a.try_send_to(b"hi", b.local_addr().unwrap()).unwrap();
        b.readable().await.unwrap();
        let mut buf = [0; 8];
        let (n, from) = b.try_recv_from(&mut buf).unwrap();
        assert_eq!((&buf[..n], from), (&b"hi"[..], a.local_addr().unwrap()));
        a.connect(b.local_addr().unwrap()).await.unwrap();
        b.connect(a.local_addr().unwrap()).await.unwrap();
        a.try_send(b"yo").unwrap();
        b.readable().await.unwrap();
        assert_eq!(b.try_recv(&mut buf).unwrap(), 2);
    });
}
