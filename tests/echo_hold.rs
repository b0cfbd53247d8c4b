//! `echo_client --hold`: many idle connections, each with a rare ping, against the demo's
//! echo server, on a paused clock (the hold and the pings are timers, so a three-second hold
//! takes no real time and the number of pings is exact).

use std::time::Duration;

use demo_echo::hold::{self, Hold};
use weft::net::{StreamServer, TcpListener};
use weft::time::Instant;

#[weft::test(paused, time_limit = "60s")]
async fn held_connections_each_ping_on_schedule_and_every_echo_is_checked() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = StreamServer::new(listener);
    let stats = server.stop_handle();
    weft::spawn(demo_echo::server::serve(server, None));

    let start = Instant::now();
    let plan = Hold {
        addr,
        connections: 300,
        hold: Duration::from_secs(3),
        ping_every: Duration::from_secs(1),
    };
    let held = hold::run(&plan).await.unwrap();
    // Each connection's first ping comes within the first second, then one a second: three
    // each before the three seconds are up.
    assert_eq!(held.pings(), 900);
    assert_eq!(held.connections(), 300);
    assert_eq!(start.elapsed(), Duration::from_secs(3), "the hold is exact");
    let text = held.to_string();
    assert!(text.contains("held 300 connections for 3 s"), "{text}");
    assert!(text.contains("900 pings"), "{text}");
    // Closed at the end of the hold: the server sees them all go.
    for _ in 0..1000 {
        if stats.active_connections() == 0 {
            break;
        }
        weft::task::yield_now().await;
    }
    assert_eq!(stats.active_connections(), 0);
}

#[weft::test(paused)]
async fn a_server_that_is_not_there_is_named_in_the_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let plan = Hold {
        addr,
        connections: 3,
        hold: Duration::from_secs(1),
        ping_every: Duration::from_secs(1),
    };
    let err = hold::run(&plan).await.err().expect("nothing listens there");
    assert!(err.contains(&format!("connect to {addr}")), "{err}");
}
