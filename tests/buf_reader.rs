//! `weft::io::BufReader` through the public API: a scripted stream decides exactly where each
//! read stops, so every chunk boundary a test needs happens, every time.

use std::collections::VecDeque;
use std::io::{self, ErrorKind};
use std::pin::Pin;
use std::task::{Context, Poll};

use weft::io::{AsyncBufRead, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use weft::net::{TcpListener, TcpStream};

/// One thing the scripted stream does when read.
enum Step {
    Data(&'static [u8]),
    /// Not ready yet; it wakes its reader at once, so the read goes on at the next poll.
    Pending,
    Fail(ErrorKind),
}

/// A stream that replays its steps, then ends. It counts its reads.
struct Scripted {
    steps: VecDeque<Step>,
    reads: usize,
}

fn scripted(steps: impl IntoIterator<Item = Step>) -> Scripted {
    Scripted {
        steps: steps.into_iter().collect(),
        reads: 0,
    }
}

fn chunks(parts: &[&'static [u8]]) -> Scripted {
    scripted(parts.iter().map(|p| Step::Data(p)))
}

impl AsyncRead for Scripted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.reads += 1;
        match self.steps.pop_front() {
            None => Poll::Ready(Ok(0)),
            Some(Step::Pending) => {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            Some(Step::Fail(kind)) => Poll::Ready(Err(io::Error::new(kind, "scripted failure"))),
            Some(Step::Data(data)) => {
                let n = data.len().min(buf.len());
                buf[..n].copy_from_slice(&data[..n]);
                if n < data.len() {
                    self.steps.push_front(Step::Data(&data[n..]));
                }
                Poll::Ready(Ok(n))
            }
        }
    }
}

/// Every line `next_line` gives, to the end of the stream.
async fn all_lines<R: AsyncRead + Unpin>(reader: &mut BufReader<R>) -> io::Result<Vec<String>> {
    let mut lines = Vec::new();
    while let Some(line) = reader.next_line().await? {
        lines.push(line);
    }
    Ok(lines)
}

#[test]
fn lines_split_anywhere_come_out_whole() {
    weft::run(async {
        let stream = chunks(&[b"fir", b"st\r", b"\nsec", b"ond\n\nthi", b"rd"]);
        let mut reader = BufReader::new(stream);
        let lines = all_lines(&mut reader).await.unwrap();
        assert_eq!(lines, ["first", "second", "", "third"]);
        assert!(reader.at_eof());
    });
}

#[test]
fn read_line_keeps_the_newline_and_returns_zero_at_the_end() {
    weft::run(async {
        let mut reader = BufReader::new(chunks(&[b"one\ntw", b"o\nthree"]));
        let mut text = String::new();
        assert_eq!(reader.read_line(&mut text).await.unwrap(), 4);
        assert_eq!(reader.read_line(&mut text).await.unwrap(), 4);
        assert_eq!(reader.read_line(&mut text).await.unwrap(), 5);
        assert_eq!(reader.read_line(&mut text).await.unwrap(), 0);
        assert_eq!(text, "one\ntwo\nthree");
    });
}

#[test]
fn reads_that_are_pending_go_on_where_they_stopped() {
    weft::run(async {
        let stream = scripted([
            Step::Pending,
            Step::Data(b"al"),
            Step::Pending,
            Step::Data(b"pha\nbe"),
            Step::Pending,
            Step::Data(b"ta\n"),
        ]);
        let mut reader = BufReader::new(stream);
        assert_eq!(all_lines(&mut reader).await.unwrap(), ["alpha", "beta"]);
    });
}

#[test]
fn read_until_takes_a_multi_byte_separator_split_across_reads() {
    weft::run(async {
        let stream = chunks(&[b"GET / HTTP/1.1\r\nHost: a\r", b"\n\r", b"\nbody"]);
        let mut reader = BufReader::new(stream);
        let mut head = Vec::new();
        let n = reader.read_until(b"\r\n\r\n", &mut head).await.unwrap();
        assert_eq!(n, head.len());
        assert_eq!(head, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        let mut body = Vec::new();
        reader.read_to_end(&mut body).await.unwrap();
        assert_eq!(body, b"body");
    });
}

#[test]
fn read_until_at_a_clean_end_returns_zero_and_in_a_record_fails_keeping_the_bytes() {
    weft::run(async {
        let mut reader = BufReader::new(chunks(&[b"a;b;", b"partial"]));
        let mut records = Vec::new();
        assert_eq!(reader.read_until(b";", &mut records).await.unwrap(), 2);
        assert_eq!(reader.read_until(b";", &mut records).await.unwrap(), 2);
        let err = reader.read_until(b";", &mut records).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnexpectedEof);
        assert_eq!(records, b"a;b;", "the failed read appended nothing");
        assert_eq!(reader.buffer(), b"partial", "and consumed nothing");
        assert!(!reader.at_eof());
        reader.consume(usize::MAX);
        assert!(reader.at_eof());
        assert_eq!(reader.read_until(b";", &mut records).await.unwrap(), 0);

        let mut clean = BufReader::new(chunks(&[b"x;"]));
        let mut out = Vec::new();
        assert_eq!(clean.read_until(b";", &mut out).await.unwrap(), 2);
        assert_eq!(clean.read_until(b";", &mut out).await.unwrap(), 0);
    });
}

#[test]
fn a_line_over_the_limit_is_refused_and_its_bytes_stay_readable() {
    weft::run(async {
        // Ten bytes arrive one at a time; the limit is eight, newline included.
        let bytes: &[&'static [u8]] = &[
            b"0", b"1", b"2", b"3", b"4", b"5", b"6", b"7", b"8", b"\n", b"ok\n",
        ];
        let mut reader = BufReader::with_capacity(2, chunks(bytes)).with_limit(8);
        let mut line = String::new();
        let err = reader.read_line(&mut line).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidData);
        assert!(err.to_string().contains("limit of 8 bytes"), "{err}");
        assert_eq!(line, "", "nothing was appended");
        assert_eq!(reader.buffer(), b"01234567", "nothing was consumed");

        // The caller decides what to do with them: here, skip to the next line.
        let mut skipped = Vec::new();
        reader.consume(8);
        reader.read_until(b"\n", &mut skipped).await.unwrap();
        assert_eq!(skipped, b"8\n");
        assert_eq!(reader.next_line().await.unwrap().as_deref(), Some("ok"));
    });
}

#[test]
fn a_line_exactly_at_the_limit_is_accepted_whatever_the_chunks() {
    weft::run(async {
        for split in 1..8 {
            let (a, b) = b"abcdefg\nrest".split_at(split);
            let (a, b): (&'static [u8], &'static [u8]) = (a, b);
            let mut reader = BufReader::with_capacity(3, chunks(&[a, b])).with_limit(8);
            assert_eq!(
                reader.next_line().await.unwrap().as_deref(),
                Some("abcdefg")
            );
            assert_eq!(reader.next_line().await.unwrap().as_deref(), Some("rest"));
        }
        // One byte more is one byte too many, however it arrives.
        for chunked in [&[b"abcdefgh\n" as &[u8]][..], &[b"abcd", b"efgh", b"\n"]] {
            let mut reader = BufReader::new(chunks(chunked)).with_limit(8);
            let err = reader.next_line().await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidData);
        }
    });
}

#[test]
fn a_line_that_is_not_utf8_is_refused_and_stays_readable() {
    weft::run(async {
        let mut reader = BufReader::new(chunks(&[b"caf\xe9\nnext\n"]));
        let mut line = String::from("kept: ");
        let err = reader.read_line(&mut line).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidData);
        assert_eq!(line, "kept: ");
        let mut raw = Vec::new();
        reader.read_until(b"\n", &mut raw).await.unwrap();
        assert_eq!(raw, b"caf\xe9\n");
        assert_eq!(reader.next_line().await.unwrap().as_deref(), Some("next"));
    });
}

#[test]
fn a_failed_read_loses_no_bytes() {
    weft::run(async {
        let stream = scripted([
            Step::Data(b"hal"),
            Step::Fail(ErrorKind::ConnectionReset),
            Step::Data(b"f a line\n"),
        ]);
        let mut reader = BufReader::new(stream);
        let err = reader.next_line().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionReset);
        assert_eq!(reader.buffer(), b"hal");
        assert_eq!(
            reader.next_line().await.unwrap().as_deref(),
            Some("half a line")
        );
    });
}

#[test]
fn an_empty_separator_is_refused() {
    weft::run(async {
        let mut reader = BufReader::new(chunks(&[b"data"]));
        let err = reader.read_until(b"", &mut Vec::new()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert_eq!(reader.get_ref().reads, 0, "nothing was read");
    });
}

#[test]
fn reads_take_buffered_bytes_first_and_large_reads_skip_the_buffer() {
    weft::run(async {
        let stream = chunks(&[b"head\nbody", b"0123456789abcdefXYZ"]);
        let mut reader = BufReader::with_capacity(16, stream);
        assert_eq!(reader.next_line().await.unwrap().as_deref(), Some("head"));
        let mut body = [0; 4];
        reader.read_exact(&mut body).await.unwrap();
        assert_eq!(&body, b"body");
        assert_eq!(reader.get_ref().reads, 1, "the body was already buffered");

        // Nothing buffered and a read as large as the buffer: it goes to the stream directly.
        assert_eq!(reader.buffer(), b"");
        let mut rest = [0; 16];
        let n = reader.read(&mut rest).await.unwrap();
        assert_eq!(&rest[..n], b"0123456789abcdef");
        assert_eq!(
            reader.buffer(),
            b"",
            "the bytes did not pass through the buffer"
        );
        let (stream, unread) = reader.into_parts();
        assert!(unread.is_empty());
        assert_eq!(stream.reads, 2);
    });
}

#[test]
fn fill_buf_and_consume_walk_the_stream() {
    weft::run(async {
        let mut reader = BufReader::new(chunks(&[b"abc", b"de"]));
        assert_eq!(reader.fill_buf().await.unwrap(), b"abc");
        reader.consume(1);
        assert_eq!(
            reader.fill_buf().await.unwrap(),
            b"bc",
            "buffered bytes first"
        );
        reader.consume(usize::MAX); // all of it, from the middle of the buffer
        assert_eq!(reader.fill_buf().await.unwrap(), b"de");
        reader.consume(2);
        assert_eq!(reader.fill_buf().await.unwrap(), b"");
        assert!(reader.at_eof());

        // The same through the shared `AsyncBufRead` trait, as other crates use it.
        let mut reader = BufReader::new(chunks(&[b"xy"]));
        let filled = std::future::poll_fn(|cx| {
            Pin::new(&mut reader)
                .poll_fill_buf(cx)
                .map_ok(<[u8]>::to_vec)
        })
        .await
        .unwrap();
        assert_eq!(filled, b"xy");
        Pin::new(&mut reader).consume(1);
        let (_, unread) = reader.into_parts();
        assert_eq!(unread, b"y", "into_parts hands back what was not consumed");
    });
}

#[test]
fn a_cancelled_read_line_loses_nothing() {
    let stream = scripted([
        Step::Data(b"the first half, "),
        Step::Pending,
        Step::Data(b"then the rest\n"),
    ]);
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    {
        // One poll reads the first half and stops at the pending read; dropping the future
        // then cancels it, as a timeout or a lost `select!` would.
        let read = std::pin::pin!(reader.read_line(&mut line));
        assert!(test_support::poll_once(read).is_pending());
    }
    assert_eq!(line, "");
    assert_eq!(reader.buffer(), b"the first half, ");
    weft::run(async {
        let line = reader.next_line().await.unwrap();
        assert_eq!(line.as_deref(), Some("the first half, then the rest"));
    });
}

#[weft::test(paused)]
async fn a_read_exact_cancelled_by_a_timeout_leaves_what_came_in_the_reader() {
    // The issue's case, on the paused clock: 3 bytes come, the timeout fires, 2 more come,
    // and the retry returns all 5 (asyncio's readexactly).
    let (ours, mut theirs) = weft::net::UnixStream::pair().unwrap();
    let mut reader = BufReader::new(ours);
    theirs.write_all(b"abc").await.unwrap();
    let mut record = [0; 5];
    let first = weft::time::timeout(
        std::time::Duration::from_millis(50),
        reader.read_exact(&mut record),
    )
    .await;
    assert!(first.is_err(), "only 3 of 5 bytes came");
    assert_eq!(reader.buffer(), b"abc");
    theirs.write_all(b"de").await.unwrap();
    reader.read_exact(&mut record).await.unwrap();
    assert_eq!(&record, b"abcde");
    assert!(reader.buffer().is_empty());
}

#[test]
fn read_exact_larger_than_the_buffer_and_the_limit_grows_and_ends_cleanly() {
    let stream = scripted([Step::Data(&[7; 40]), Step::Pending, Step::Data(&[8; 60])]);
    let mut reader = BufReader::with_capacity(8, stream).with_limit(16);
    weft::run(async {
        let mut big = [0; 100];
        reader.read_exact(&mut big).await.unwrap();
        assert_eq!(&big[..40], &[7; 40]);
        assert_eq!(&big[40..], &[8; 60]);
        let err = reader.read_exact(&mut [0; 1]).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnexpectedEof);
    });
}

#[test]
fn read_exact_at_a_short_end_keeps_the_bytes() {
    let mut reader = BufReader::new(scripted([Step::Data(b"ab")]));
    weft::run(async {
        let err = reader.read_exact(&mut [0; 3]).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnexpectedEof);
        assert!(err.to_string().contains("after 2 of 3 bytes"), "{err}");
        assert_eq!(reader.buffer(), b"ab");
    });
}

#[test]
fn one_reader_over_a_tcp_stream_serves_a_line_protocol_both_ways() {
    weft::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = weft::spawn(async move {
            let (conn, _) = listener.accept().await.unwrap();
            let mut conn = BufReader::new(conn);
            while let Some(line) = conn.next_line().await.unwrap() {
                conn.write_all(format!("{}\n", line.to_uppercase()).as_bytes())
                    .await
                    .unwrap();
            }
        });
        let mut client = BufReader::new(TcpStream::connect(addr).await.unwrap());
        for word in ["alpha", "beta", "gamma"] {
            client
                .write_all(format!("{word}\n").as_bytes())
                .await
                .unwrap();
            let reply = client.next_line().await.unwrap().unwrap();
            assert_eq!(reply, word.to_uppercase());
        }
        client.close().await.unwrap();
        server.await.unwrap();
        assert_eq!(client.next_line().await.unwrap(), None);
    });
}

#[test]
fn read_more_adds_to_the_buffer_up_to_the_limit() {
    weft::run(async {
        let mut reader = BufReader::with_capacity(3, chunks(&[b"abc", b"def", b"ghi"]));
        reader.set_limit(6);
        assert_eq!(reader.read_more().await.unwrap(), 3);
        assert_eq!(
            reader.read_more().await.unwrap(),
            3,
            "the buffer grew to make room"
        );
        assert_eq!(reader.buffer(), b"abcdef");

        // Six bytes buffered is the limit: nothing more is read until some are consumed.
        let err = reader.read_more().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidData);
        assert_eq!(reader.get_ref().reads, 2);
        reader.consume(2);
        assert_eq!(reader.read_more().await.unwrap(), 2, "room for two more");
        assert_eq!(reader.buffer(), b"cdefgh");
        reader.consume(usize::MAX);
        assert_eq!(reader.read_more().await.unwrap(), 1);
        assert_eq!(
            reader.read_more().await.unwrap(),
            0,
            "the end of the stream"
        );
        assert_eq!(reader.buffer(), b"i");
        assert!(!reader.at_eof(), "a byte is still to be read");
    });
}
