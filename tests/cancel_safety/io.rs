//! Byte streams: reads, buffered reads, writes and TLS. After a cancel, every byte is either
//! returned, kept where the caller can get it, or still in the stream; a write is all or
//! nothing, or says how much went out.

use std::sync::OnceLock;
use std::time::Duration;

use demo_certs::{Issued, TestCa};
use weft::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader, BufWriter};
use weft::net::UnixStream;
use weft::net::tls::{ClientTlsStream, ServerTlsStream, TlsAcceptor, TlsConnector};
use weft::testing::{Cancel, Leaks};
use weft::time::{sleep, timeout};
use weft::{JoinHandle, spawn};

use crate::{Checked, Row, paused};

pub(crate) fn rows() -> Vec<Row> {
    vec![
        paused(
            "`io::AsyncReadExt::read`",
            "every byte is either returned or still in the stream",
            read,
        ),
        paused(
            "`io::AsyncReadExt::read_exact`",
            "every byte is either returned or still in the stream",
            read_exact,
        ),
        paused(
            "`io::AsyncReadExt::read_to_end`",
            "every byte is either in the caller's `Vec` or still in the stream",
            read_to_end,
        ),
        paused(
            "`io::BufReader::read_line`",
            "every byte is either in the caller's line, in the reader's buffer, or still in the stream",
            read_line,
        ),
        paused(
            "`io::BufReader::next_line`",
            "every byte is either in the line returned, in the reader's buffer, or still in the stream",
            next_line,
        ),
        paused(
            "`io::BufReader::read_until`",
            "every byte is either in the caller's `Vec`, in the reader's buffer, or still in the stream",
            read_until,
        ),
        paused(
            "`io::BufReader::read_exact`",
            "every byte is either returned, in the reader's buffer, or still in the stream",
            buffered_read_exact,
        ),
        paused(
            "`io::AsyncWriteExt::write`",
            "the peer gets exactly the bytes `write` said it wrote",
            write,
        ),
        paused(
            "`io::AsyncWriteExt::write_all`",
            "the peer gets all of the buffer or none of it",
            write_all,
        ),
        paused(
            "`io::BufWriter::flush`",
            "what a cancelled flush did not send, the next flush sends: the peer gets every byte once",
            buffered_flush,
        ),
        paused(
            "`net::tls::TlsStream` (a `read`)",
            "every byte is either returned or still in the stream",
            tls_read,
        ),
        paused(
            "`net::tls::TlsStream` (a `write_all`)",
            "the peer gets all of the buffer or none of it",
            tls_write_all,
        ),
        paused(
            "`net::tls::TlsConnector::connect` (the handshake)",
            "the server's handshake ends at once (no half-open session), and nothing is left behind",
            tls_connect,
        ),
        paused(
            "`net::tls::TlsAcceptor::accept` (the handshake)",
            "the client's handshake ends at once (no half-open session), and nothing is left behind",
            tls_accept,
        ),
    ]
}

/// Eight bytes (or `abcd` and `tail`), sent in two halves a (virtual) millisecond apart,
/// then the end.
fn halves(mut to: impl AsyncWrite + Unpin + 'static, tail: &'static [u8]) -> JoinHandle<()> {
    spawn(async move {
        to.write_all(b"abcd").await.unwrap();
        sleep(Duration::from_millis(1)).await;
        to.write_all(tail).await.unwrap();
        to.close().await.unwrap();
    })
}

/// What the operation returned, then the rest of the stream, must be `sent`, in order.
async fn whole(
    mut from: impl AsyncRead + Unpin,
    mut returned: Vec<u8>,
    sent: &[u8],
) -> Result<(), String> {
    from.read_to_end(&mut returned)
        .await
        .map_err(|e| e.to_string())?;
    if returned == sent {
        Ok(())
    } else if returned.len() < sent.len() {
        Err(format!("lost {} bytes", sent.len() - returned.len()))
    } else {
        Err(format!(
            "{} bytes that were never sent appeared",
            returned.len() - sent.len()
        ))
    }
}

/// `read` on `from` (eight bytes coming in two halves), cancelled; then the rest.
async fn read_checked(cancel: Cancel, mut from: impl AsyncRead + Unpin) -> Result<(), String> {
    let mut buf = [0; 8];
    let n = match cancel.at(from.read(&mut buf)).await {
        Some(read) => read.map_err(|e| e.to_string())?,
        None => 0,
    };
    whole(from, buf[..n].to_vec(), b"abcdefgh").await
}

fn read(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let (a, b) = UnixStream::pair().map_err(|e| e.to_string())?;
        let writer = halves(a, b"efgh");
        let checked = read_checked(cancel, b).await;
        writer.await.map_err(|e| e.to_string())?;
        checked
    })
}

fn read_exact(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let (a, mut b) = UnixStream::pair().map_err(|e| e.to_string())?;
        let writer = halves(a, b"efgh");
        let mut buf = [0; 8];
        let returned = match cancel.at(b.read_exact(&mut buf)).await {
            Some(read) => {
                read.map_err(|e| e.to_string())?;
                buf.to_vec()
            }
            None => Vec::new(),
        };
        writer.await.map_err(|e| e.to_string())?;
        whole(b, returned, b"abcdefgh").await
    })
}

fn read_to_end(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let (a, mut b) = UnixStream::pair().map_err(|e| e.to_string())?;
        let writer = halves(a, b"efgh");
        let mut all = Vec::new();
        let _ = cancel.at(b.read_to_end(&mut all)).await;
        writer.await.map_err(|e| e.to_string())?;
        whole(b, all, b"abcdefgh").await
    })
}

/// A `BufReader` over a stream that brings `abcd` then `tail` a millisecond later.
fn buffered(tail: &'static [u8]) -> Result<(BufReader<UnixStream>, JoinHandle<()>), String> {
    let (a, b) = UnixStream::pair().map_err(|e| e.to_string())?;
    Ok((BufReader::new(b), halves(a, tail)))
}

/// `got`, then what `reader` still buffers, then the rest of its stream, must be `sent`.
async fn whole_after(
    reader: BufReader<UnixStream>,
    writer: JoinHandle<()>,
    got: Vec<u8>,
    sent: &[u8],
) -> Result<(), String> {
    writer.await.map_err(|e| e.to_string())?;
    let (stream, buffered) = reader.into_parts();
    whole(stream, [got, buffered].concat(), sent).await
}

fn read_line(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let (mut reader, writer) = buffered(b"ef\ngh")?;
        let mut line = String::new();
        let _ = cancel.at(reader.read_line(&mut line)).await;
        whole_after(reader, writer, line.into_bytes(), b"abcdef\ngh").await
    })
}

fn next_line(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let (mut reader, writer) = buffered(b"ef\ngh")?;
        let got = match cancel.at(reader.next_line()).await {
            Some(line) => match line.map_err(|e| e.to_string())? {
                Some(line) => format!("{line}\n").into_bytes(),
                None => return Err("the stream seemed to end at once".into()),
            },
            None => Vec::new(),
        };
        whole_after(reader, writer, got, b"abcdef\ngh").await
    })
}

fn read_until(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let (mut reader, writer) = buffered(b"ef\r\ngh")?;
        let mut got = Vec::new();
        let _ = cancel.at(reader.read_until(b"\r\n", &mut got)).await;
        whole_after(reader, writer, got, b"abcdef\r\ngh").await
    })
}

fn buffered_read_exact(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let (mut reader, writer) = buffered(b"efgh")?;
        let mut record = [0; 6];
        let got = match cancel.at(reader.read_exact(&mut record)).await {
            Some(read) => {
                read.map_err(|e| e.to_string())?;
                record.to_vec()
            }
            None => Vec::new(),
        };
        whole_after(reader, writer, got, b"abcdefgh").await
    })
}

/// More than the socket buffers hold, so a write must wait for the reader.
const BIG: usize = 4 << 20;

/// The task reading a stream to its end, and what it got.
type Reader = JoinHandle<std::io::Result<Vec<u8>>>;

/// A stream pair whose far end is read to its end by a task, which starts a (virtual)
/// millisecond later and returns what it got.
fn drained() -> Result<(UnixStream, Reader), String> {
    let (a, mut b) = UnixStream::pair().map_err(|e| e.to_string())?;
    let reader = spawn(async move {
        sleep(Duration::from_millis(1)).await;
        let mut got = Vec::new();
        b.read_to_end(&mut got).await.map(|_| got)
    });
    Ok((a, reader))
}

/// What the reader behind `drained` got, once the writing end is gone.
async fn received(reader: Reader) -> Result<Vec<u8>, String> {
    reader
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())
}

/// The bytes a reader got of a `buffer` written all at once: all of it or none.
fn all_or_none(got: usize, buffer: usize) -> Result<(), String> {
    if got == 0 || got == buffer {
        Ok(())
    } else {
        Err("part of the buffer went out, and the caller cannot tell how much".into())
    }
}

fn write(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let (mut a, reader) = drained()?;
        // Fills the socket's buffer (a write takes what fits), so the next one must wait.
        a.write(&vec![1u8; BIG]).await.map_err(|e| e.to_string())?;
        let wrote = match cancel.at(a.write(&[2u8; 1024])).await {
            Some(wrote) => wrote.map_err(|e| e.to_string())?,
            None => 0,
        };
        drop(a);
        let got = received(reader).await?;
        let twos = got.iter().filter(|&&byte| byte == 2).count();
        if twos == wrote {
            Ok(())
        } else {
            Err(format!("write said {wrote} bytes, the peer got {twos}"))
        }
    })
}

fn write_all(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let (mut a, reader) = drained()?;
        let buffer = vec![7u8; BIG];
        let _ = cancel.at(a.write_all(&buffer)).await;
        drop(a);
        all_or_none(received(reader).await?.len(), buffer.len())
    })
}

fn buffered_flush(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let (a, reader) = drained()?;
        let mut writer = BufWriter::with_capacity(2 * BIG, a);
        let buffer: Vec<u8> = (0..BIG).map(|i| (i % 251) as u8).collect();
        writer.write_all(&buffer).await.map_err(|e| e.to_string())?;
        let _ = cancel.at(writer.flush()).await;
        writer.close().await.map_err(|e| e.to_string())?;
        drop(writer);
        if received(reader).await? == buffer {
            Ok(())
        } else {
            Err("the peer did not get every byte exactly once".into())
        }
    })
}

/// The test CA's certificate and one issued by it for `localhost`, made once.
fn certificates() -> &'static (String, Issued) {
    static CERTS: OnceLock<(String, Issued)> = OnceLock::new();
    CERTS.get_or_init(|| {
        let ca = TestCa::new("cancel-safety CA");
        let issued = ca.issue(&["localhost"]);
        (ca.cert_pem().to_owned(), issued)
    })
}

fn connector() -> TlsConnector {
    TlsConnector::with_ca_pem(certificates().0.as_bytes())
        .unwrap()
        .handshake_timeout(Duration::from_secs(5))
}

fn acceptor() -> TlsAcceptor {
    let issued = &certificates().1;
    TlsAcceptor::from_pem(issued.cert_pem.as_bytes(), issued.key_pem.as_bytes())
        .unwrap()
        .handshake_timeout(Duration::from_secs(5))
}

/// Both ends of a TLS session over a socket pair, handshaken.
async fn tls_pair() -> Result<(ClientTlsStream<UnixStream>, ServerTlsStream<UnixStream>), String> {
    let (a, b) = UnixStream::pair().map_err(|e| e.to_string())?;
    let server = spawn(async move { acceptor().accept(b).await });
    let client = connector()
        .connect("localhost", a)
        .await
        .map_err(|e| e.to_string())?;
    let server = server
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    Ok((client, server))
}

fn tls_read(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let (client, server) = tls_pair().await?;
        let writer = halves(server, b"efgh");
        let checked = read_checked(cancel, client).await;
        writer.await.map_err(|e| e.to_string())?;
        checked
    })
}

fn tls_write_all(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let (mut client, mut server) = tls_pair().await?;
        let reader = spawn(async move {
            let mut got = Vec::new();
            server.read_to_end(&mut got).await.map(|_| got.len())
        });
        let buffer = vec![7u8; BIG];
        let _ = cancel.at(client.write_all(&buffer)).await;
        client.close().await.map_err(|e| e.to_string())?;
        drop(client);
        let got = reader
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        all_or_none(got, buffer.len())
    })
}

/// One end's handshake cancelled; the other end's must end within a second of virtual
/// time (it sees the connection close), and no task or timer may be left.
async fn handshake_ended<T, U>(
    cancelled: impl std::future::Future<Output = std::io::Result<T>>,
    other: JoinHandle<std::io::Result<U>>,
    cancel: Cancel,
    before: Leaks,
) -> Result<(), String> {
    let ours = cancel.at(cancelled).await;
    let theirs = timeout(Duration::from_secs(1), other)
        .await
        .map_err(|_| "the other end's handshake hangs on a session that is gone".to_owned())?
        .map_err(|e| e.to_string())?;
    match (ours, theirs) {
        (Some(Ok(_)), Ok(_)) | (None, Err(_)) => {}
        (Some(Err(e)), _) => return Err(format!("the handshake failed: {e}")),
        (_, Ok(_)) => return Err("the other end saw a session the cancel ended".into()),
        (_, Err(e)) => return Err(format!("the other end failed: {e}")),
    }
    before.check()
}

fn tls_connect(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let before = Leaks::snapshot();
        let (a, b) = UnixStream::pair().map_err(|e| e.to_string())?;
        let server = spawn(async move { acceptor().accept(b).await });
        let client = connector();
        handshake_ended(client.connect("localhost", a), server, cancel, before).await
    })
}

fn tls_accept(cancel: Cancel) -> Checked {
    Box::pin(async move {
        let before = Leaks::snapshot();
        let (a, b) = UnixStream::pair().map_err(|e| e.to_string())?;
        let client = spawn(async move { connector().connect("localhost", a).await });
        let server = acceptor();
        handshake_ended(server.accept(b), client, cancel, before).await
    })
}
