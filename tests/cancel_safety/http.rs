//! The HTTP client: a request cancelled while it waits for the response's head, or while it
//! reads the body, must not leave its connection in the pool half read; the next request on
//! the same client gets a whole response.

use std::time::Duration;

use weft::io::{AsyncWriteExt, BufReader};
use weft::net::TcpListener;
use weft::net::http::Client;
use weft::spawn;
use weft::testing::Cancel;
use weft::time::{sleep, timeout};

use crate::{Checked, Row, real};

pub(crate) fn rows() -> Vec<Row> {
    vec![
        real(
            "`net::http::RequestBuilder::send`",
            "the next request on the client gets a whole response (no connection is pooled half read)",
            send,
        ),
        real(
            "`net::http::Response::bytes`",
            "the next request on the client gets a whole response (no connection is pooled half read)",
            body,
        ),
    ]
}

/// A keep-alive HTTP/1.1 server on loopback whose every response's head and first half of
/// the body come at once, and the second half 5 ms later. Returns its URL.
async fn server() -> Result<String, String> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let url = format!(
        "http://{}/",
        listener.local_addr().map_err(|e| e.to_string())?
    );
    spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            spawn(async move {
                let mut stream = BufReader::new(stream);
                let mut head = Vec::new();
                loop {
                    head.clear();
                    match stream.read_until(b"\r\n\r\n", &mut head).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    }
                    let response = b"HTTP/1.1 200 OK\r\ncontent-length: 8\r\n\r\nabcd";
                    if stream.get_mut().write_all(response).await.is_err() {
                        return;
                    }
                    sleep(Duration::from_millis(5)).await;
                    if stream.get_mut().write_all(b"efgh").await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    Ok(url)
}

/// The next request on `client` must get the whole body.
async fn next_is_whole(client: &Client, url: &str) -> Result<(), String> {
    let fetch = async {
        let response = client.get(url).send().await?;
        response.bytes().await
    };
    match timeout(Duration::from_secs(5), fetch).await {
        Ok(Ok(body)) if &body[..] == b"abcdefgh" => Ok(()),
        Ok(Ok(body)) => Err(format!("the next response's body was {body:?}")),
        Ok(Err(e)) => Err(format!("the next request failed: {e}")),
        Err(_) => Err("the next request hung".into()),
    }
}

fn send(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let url = server().await?;
        let client = Client::new();
        let _ = cancel.at(client.get(&url).send()).await;
        next_is_whole(&client, &url).await
    })
}

fn body(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let url = server().await?;
        let client = Client::new();
        let response = client.get(&url).send().await.map_err(|e| e.to_string())?;
        let _ = cancel.at(response.bytes()).await;
        next_is_whole(&client, &url).await
    })
}
