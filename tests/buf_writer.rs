//! `weft::io::BufWriter` through the public API: a recording stream shows exactly which
//! writes reach it, and when.

use std::io::{self, ErrorKind};
use std::pin::Pin;
use std::task::{Context, Poll};

use weft::io::{AsyncWrite, AsyncWriteExt, BufReader, BufWriter};

/// A stream that records each write it is given, taking at most `take` bytes of each, and
/// answers `Pending` (waking at once) to every other write when `stutter` is set.
#[derive(Default)]
struct Recorder {
    writes: Vec<Vec<u8>>,
    take: Option<usize>,
    stutter: bool,
    turn: bool,
    flushes: usize,
    closed: bool,
}

impl AsyncWrite for Recorder {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.stutter {
            this.turn = !this.turn;
            if this.turn {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
        }
        let n = this.take.map_or(buf.len(), |take| take.min(buf.len()));
        this.writes.push(buf[..n].to_vec());
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().flushes += 1;
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().closed = true;
        Poll::Ready(Ok(()))
    }
}

#[test]
fn small_writes_leave_as_one_at_the_flush() {
    weft::run(async {
        let mut w = BufWriter::with_capacity(64, Recorder::default());
        for command in ["PING\r\n", "GET a\r\n", "GET b\r\n"] {
            w.write_all(command.as_bytes()).await.unwrap();
        }
        assert!(w.get_ref().writes.is_empty(), "all buffered");
        assert_eq!(w.buffer(), b"PING\r\nGET a\r\nGET b\r\n");
        w.flush().await.unwrap();
        assert_eq!(w.get_ref().writes, [b"PING\r\nGET a\r\nGET b\r\n".to_vec()]);
        assert_eq!(w.get_ref().flushes, 1, "and the stream was flushed");
        assert!(w.buffer().is_empty());
    });
}

#[test]
fn a_full_buffer_goes_out_first_and_a_large_write_goes_straight_through() {
    weft::run(async {
        let mut w = BufWriter::with_capacity(8, Recorder::default());
        w.write_all(b"12345").await.unwrap();
        w.write_all(b"6789").await.unwrap(); // would overflow: the 5 go out first
        assert_eq!(w.get_ref().writes, [b"12345".to_vec()]);
        assert_eq!(w.buffer(), b"6789");
        w.write_all(&[b'x'; 20]).await.unwrap(); // the 4 go out, then the 20 directly
        assert_eq!(
            w.get_ref().writes,
            [b"12345".to_vec(), b"6789".to_vec(), vec![b'x'; 20]]
        );
        w.close().await.unwrap();
        assert!(w.get_ref().closed);
    });
}

#[test]
fn a_flush_cancelled_halfway_keeps_what_it_had_not_sent() {
    let stream = Recorder {
        take: Some(3),
        stutter: true,
        ..Recorder::default()
    };
    let mut w = BufWriter::with_capacity(64, stream);
    weft::run(async {
        w.write_all(b"abcdefgh").await.unwrap();
        {
            // One poll: the stream is not ready. Two more: "abc" goes out, then not ready.
            let mut flush = std::pin::pin!(w.flush());
            assert!(test_support::poll_once(flush.as_mut()).is_pending());
            assert!(test_support::poll_once(flush.as_mut()).is_pending());
        } // cancelled, as by a timeout
        assert_eq!(w.get_ref().writes, [b"abc".to_vec()]);
        assert_eq!(w.buffer(), b"defgh", "the rest is still in the writer");
        w.flush().await.unwrap();
        let sent: Vec<u8> = w.get_ref().writes.concat();
        assert_eq!(sent, b"abcdefgh", "in order, nothing lost or doubled");
    });
    let (_, unsent) = w.into_parts();
    assert!(unsent.is_empty());
}

#[test]
fn a_stream_that_takes_nothing_is_an_error_that_keeps_the_bytes() {
    let stream = Recorder {
        take: Some(0),
        ..Recorder::default()
    };
    let mut w = BufWriter::with_capacity(16, stream);
    weft::run(async {
        w.write_all(b"hello").await.unwrap();
        let err = w.flush().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::WriteZero);
    });
    let (_, unsent) = w.into_parts();
    assert_eq!(unsent, b"hello");
}

#[test]
fn a_buf_reader_around_a_buf_writer_reads_lines_and_batches_replies() {
    weft::run(async {
        let (ours, theirs) = weft::net::UnixStream::pair().unwrap();
        let echo = weft::spawn(async move {
            let mut conn = BufReader::new(BufWriter::new(theirs));
            while let Some(line) = conn.next_line().await.unwrap() {
                conn.write_all(format!("{}\n", line.len()).as_bytes())
                    .await
                    .unwrap();
                conn.flush().await.unwrap();
            }
        });
        let mut client = BufReader::new(BufWriter::new(ours));
        client.write_all(b"one\nthree\n").await.unwrap();
        client.flush().await.unwrap();
        assert_eq!(client.next_line().await.unwrap().as_deref(), Some("3"));
        assert_eq!(client.next_line().await.unwrap().as_deref(), Some("5"));
        client.close().await.unwrap();
        echo.await.unwrap();
    });
}
