//! A websocket echo server and a client talking to it, on one thread, with async-tungstenite
//! on weft's `TcpStream` as it is (the crate speaks `futures-io`, and so does weft):
//! `cargo run --example websocket_echo -- [--messages N]`

use async_tungstenite::tungstenite::Message;
use futures_util::StreamExt;
use weft::net::{TcpListener, TcpStream};

/// A websocket echo server and client on one thread: the client sends `--messages` text
/// messages and checks each echo.
#[derive(clap::Parser)]
#[command(name = "websocket_echo")]
struct Args {
    /// How many messages the client sends.
    #[arg(long, default_value_t = 3)]
    messages: usize,
}

type Error = Box<dyn std::error::Error>;

/// Echoes every text and binary message on one websocket connection until it closes.
async fn echo(stream: TcpStream) -> Result<(), Error> {
    let mut ws = async_tungstenite::accept_async(stream).await?;
    while let Some(message) = ws.next().await {
        let message = message?;
        if message.is_text() || message.is_binary() {
            ws.send(message).await?;
        }
    }
    Ok(())
}

async fn run(messages: usize) -> Result<(), Error> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    println!("websocket echo server on ws://{addr}/");
    weft::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            weft::spawn(async move {
                if let Err(err) = echo(stream).await {
                    eprintln!("server: {err}");
                }
            });
        }
    });
    let stream = TcpStream::connect(addr).await?;
    let (mut ws, _) = async_tungstenite::client_async(format!("ws://{addr}/"), stream).await?;
    for i in 0..messages {
        let text = format!("message {i}");
        ws.send(Message::text(text.clone())).await?;
        match ws.next().await {
            Some(Ok(Message::Text(echoed))) if echoed.as_str() == text => {
                println!("sent and got back: {text}")
            }
            other => return Err(format!("expected the echo of {text:?}, got {other:?}").into()),
        }
    }
    ws.close(None).await?;
    println!("echoed {messages} messages");
    Ok(())
}

fn main() {
    let Args { messages } = clap::Parser::parse();
    if let Err(err) = weft::run(run(messages)) {
        eprintln!("websocket_echo: {err}");
        std::process::exit(1);
    }
}
