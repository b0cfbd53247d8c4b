//! Websockets on weft with async-tungstenite, a runtime-agnostic (`futures-io`) crate, on
//! weft's `TcpStream` unchanged: both ends in one runtime, and the example as a program.

use async_tungstenite::tungstenite::Message;
use futures_util::StreamExt;
use weft::net::{TcpListener, TcpStream};

#[weft::test]
async fn both_ends_of_a_websocket_run_on_weft_streams() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = weft::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut ws = async_tungstenite::accept_async(stream).await.unwrap();
        let mut seen = 0;
        while let Some(message) = ws.next().await {
            let message = message.unwrap();
            if message.is_close() {
                break;
            }
            seen += 1;
            ws.send(message).await.unwrap();
        }
        seen
    });
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut ws, response) = async_tungstenite::client_async(format!("ws://{addr}/chat"), stream)
        .await
        .unwrap();
    assert_eq!(response.status(), 101);
    ws.send(Message::text("hello")).await.unwrap();
    ws.send(Message::binary(vec![0u8, 1, 2, 255]))
        .await
        .unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("hello"));
    assert_eq!(
        ws.next().await.unwrap().unwrap(),
        Message::binary(vec![0u8, 1, 2, 255])
    );
    ws.close(None).await.unwrap();
    assert_eq!(server.await.unwrap(), 2);
}

#[test]
fn the_websocket_example_echoes_every_message() {
    let output = std::process::Command::new(test_support::example_binary("websocket_echo"))
        .args(["--messages", "5"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(stdout.matches("sent and got back").count(), 5, "{stdout}");
    assert!(stdout.contains("echoed 5 messages"), "{stdout}");
}
