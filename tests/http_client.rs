//! The crawler's HTTP client, HTML tokenizer and robots.txt rules, each against the inputs a
//! misbehaving server or page gives.

use std::time::Duration;

use demo_crawl::Url;
use demo_crawl::html;
use demo_crawl::http::{Client, ErrorKind, FetchError, Limits, Response};
use demo_crawl::robots::Robots;
use weft::io::{AsyncReadExt, AsyncWriteExt};
use weft::net::TcpListener;

/// A server that answers every request on every connection with `reply`, then closes the
/// connection if `close` is set. Returns its base URL.
async fn raw_server(reply: Vec<u8>, close: bool) -> Url {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
    weft::spawn(async move {
        loop {
            let (mut conn, _) = listener.accept().await.unwrap();
            let reply = reply.clone();
            weft::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let mut seen = Vec::new();
                loop {
                    let Ok(n) = conn.read(&mut buf).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    seen.extend_from_slice(&buf[..n]);
                    while let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                        seen.drain(..end + 4);
                        if conn.write_all(&reply).await.is_err() || close {
                            return;
                        }
                    }
                }
            });
        }
    });
    url
}

fn client() -> Client {
    let limits = Limits {
        timeout: Duration::from_secs(5),
        max_header_bytes: 4096,
        max_body_bytes: 64 * 1024,
        ..Limits::default()
    };
    Client::new("weft-test", limits)
}

async fn get_raw(reply: &[u8]) -> Result<Response, FetchError> {
    let url = raw_server(reply.to_vec(), false).await;
    client().get(&url).await
}

fn kind(result: Result<Response, FetchError>) -> ErrorKind {
    result.expect_err("the fetch should fail").kind
}

#[test]
fn bodies_by_length_chunks_and_close() {
    weft::run(async {
        let r = get_raw(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
            .await
            .unwrap();
        assert_eq!((r.status, &r.body[..]), (200, &b"hello"[..]));
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nhel\r\n2\r\nlo\r\n0\r\nTrailer: x\r\n\r\n";
        assert_eq!(get_raw(chunked).await.unwrap().body, b"hello");
        let url = raw_server(b"HTTP/1.0 200 OK\r\n\r\nuntil close".to_vec(), true).await;
        assert_eq!(client().get(&url).await.unwrap().body, b"until close");
        let interim = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n";
        assert_eq!(get_raw(interim).await.unwrap().status, 204);
    });
}

#[test]
fn malformed_responses_are_errors_of_their_kind() {
    weft::run(async {
        let cases: [(&[u8], ErrorKind); 7] = [
            (
                b"HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n",
                ErrorKind::Malformed,
            ),
            (b"SMTP ready\r\n\r\n", ErrorKind::Malformed),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                ErrorKind::Malformed,
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n",
                ErrorKind::Malformed,
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
                ErrorKind::Malformed,
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 4\r\n\r\nnope",
                ErrorKind::Decode,
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nContent-Length: 4\r\n\r\nnope",
                ErrorKind::Decode,
            ),
        ];
        for (reply, expected) in cases {
            assert_eq!(
                kind(get_raw(reply).await),
                expected,
                "{}",
                String::from_utf8_lossy(reply)
            );
        }
    });
}

#[weft::test(paused)]
async fn limits_on_headers_body_and_time() {
    let mut big_head = b"HTTP/1.1 200 OK\r\n".to_vec();
    big_head.extend(format!("X-Filler: {}\r\n\r\n", "a".repeat(5000)).bytes());
    assert_eq!(kind(get_raw(&big_head).await), ErrorKind::TooLarge);
    let mut many = b"HTTP/1.1 200 OK\r\n".to_vec();
    many.extend((0..100).flat_map(|i| format!("X-{i}: 1\r\n").into_bytes()));
    many.extend_from_slice(b"\r\n");
    assert_eq!(kind(get_raw(&many).await), ErrorKind::TooLarge);
    let big_body = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", 1 << 20);
    assert_eq!(
        kind(get_raw(big_body.as_bytes()).await),
        ErrorKind::TooLarge
    );

    // Headers that never end: only the time limit can stop it.
    let url = raw_server(b"HTTP/1.1 200 OK\r\nX-Slow: 1\r\n".to_vec(), false).await;
    let limits = Limits {
        timeout: Duration::from_millis(200),
        ..Limits::default()
    };
    let err = Client::new("t", limits).get(&url).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout, "{err}");
}

#[test]
fn a_body_cut_short_is_a_reset_and_a_refused_port_is_connect() {
    weft::run(async {
        let url = raw_server(
            b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this".to_vec(),
            true,
        )
        .await;
        assert_eq!(kind(client().get(&url).await), ErrorKind::Reset);
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let url = Url::parse(&format!("http://{closed}/")).unwrap();
        assert_eq!(kind(client().get(&url).await), ErrorKind::Connect);
        let ftp = Url::parse("ftp://127.0.0.1/").unwrap();
        assert_eq!(kind(client().get(&ftp).await), ErrorKind::Unsupported);
        // A plain-http server spoken to with https: the handshake fails, and says so.
        let plain = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let https = Url::parse(&format!("https://{}/", plain.local_addr().unwrap())).unwrap();
        weft::spawn(async move {
            let (mut conn, _) = plain.accept().await.unwrap();
            let _ = conn.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").await;
            weft::time::sleep(Duration::from_secs(60)).await;
        });
        assert_eq!(kind(client().get(&https).await), ErrorKind::Tls);
    });
}

#[test]
fn keep_alive_reuses_connections_and_replaces_ones_the_server_closed() {
    weft::run(async {
        let reply = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".to_vec();
        let client = client();
        let reused = raw_server(reply.clone(), false).await;
        for _ in 0..5 {
            client.get(&reused).await.unwrap();
        }
        assert_eq!(client.connections_opened(), 1);
        // This server closes after each response without saying so: the pooled connection is
        // found closed on the next request, which is retried once on a new connection.
        let closing = raw_server(reply, true).await;
        for _ in 0..3 {
            assert_eq!(client.get(&closing).await.unwrap().body, b"ok");
        }
        assert_eq!(client.connections_opened(), 4);
    });
}

#[test]
fn redirects_are_followed_bounded_and_loops_caught() {
    weft::run(async {
        let mut site = demo_site::SiteConfig::new(3);
        site.errors = true;
        let port = demo_site::Site::new(site).spawn_local().await.unwrap();
        let at = |path: &str| Url::parse(&format!("http://127.0.0.1:{port}{path}")).unwrap();
        let r = client().get(&at("/redirect/5")).await.unwrap();
        assert_eq!(
            (r.status, r.url.path(), r.redirects.len()),
            (200, "/landing", 5)
        );
        assert_eq!(
            kind(client().get(&at("/loop/a")).await),
            ErrorKind::RedirectLoop
        );
        let strict = Client::new(
            "t",
            Limits {
                max_redirects: 2,
                ..Limits::default()
            },
        );
        assert_eq!(
            kind(strict.get(&at("/redirect/5")).await),
            ErrorKind::TooManyRedirects
        );
        let head = client().head(&at("/page/1")).await.unwrap();
        assert_eq!((head.status, head.body.len()), (200, 0));
        assert!(head.header("content-length").is_some_and(|l| l != "0"));
        let gz = client().get(&at("/gzip")).await.unwrap();
        assert!(String::from_utf8_lossy(&gz.body).contains("/gzip-child"));
        let moved =
            b"HTTP/1.1 302 Found\r\nLocation: ftp://example.invalid/\r\nContent-Length: 0\r\n\r\n";
        assert_eq!(kind(get_raw(moved).await), ErrorKind::Unsupported);
    });
}

#[test]
fn the_tokenizer_finds_links_as_a_browser_would() {
    let page = r#"<!DOCTYPE html><html><head><BASE HREF="/base/"><title>a <a href="/no-title">
        </title></head><body>
        <!-- <a href="/no-comment"> --> <!--> <a href="/after-empty-comment">x</a>
        <script>document.write("<a href='/no-script'>")</script >
        <style>a::after { content: "<a href=/no-style>" }</style>
        <textarea><a href="/no-textarea"></textarea>
        <a href='/single?a=1&amp;b=2'>s</a> <a href=/unquoted#frag>u</a>
        <A Href="&#47;entity&#x2F;x">e</A> <a href = "spaced">sp</a> <a>no href</a>
        <a href="/first" href="/second">dup</a> <iframe src="/frame"></iframe>
        <area href="/area"> <a href="  /trimmed  ">t</a> <a href="">empty</a>
        <a href="&unknown;x">raw amp</a> <p>1 < 2</p> <a href="/last">"#;
    let (links, base) = html::links(page);
    assert_eq!(base.as_deref(), Some("/base/"));
    assert_eq!(
        links,
        [
            "/after-empty-comment",
            "/single?a=1&b=2",
            "/unquoted#frag",
            "/entity/x",
            "spaced",
            "/first",
            "/frame",
            "/area",
            "/trimmed",
            "&unknown;x",
            "/last"
        ]
    );
}

#[test]
fn robots_rules_follow_rfc_9309() {
    let text = "User-agent: *\nDisallow: /private/\nAllow: /private/open\n\n\
                User-agent: OtherBot\nUser-agent: weft-crawler\nDisallow: /mine/\nAllow: /mine/ok$\n\
                Disallow: /*.pdf$\nDisallow: /p*q\n";
    let ours = Robots::parse(text, "weft-crawler");
    assert!(!ours.allows("/mine/x") && ours.allows("/mine/ok") && !ours.allows("/mine/ok2"));
    assert!(
        ours.allows("/private/x"),
        "our own group replaces the * group"
    );
    assert!(!ours.allows("/doc.pdf") && ours.allows("/doc.pdf?x"));
    assert!(!ours.allows("/pxxq") && ours.allows("/p"));
    let others = Robots::parse(text, "SomeBot");
    assert!(!others.allows("/private/x") && others.allows("/private/open/y") && others.allows("/"));
    assert!(Robots::parse("User-agent: *\nDisallow:\n", "x").allows("/anything"));
    assert!(!Robots::disallow_all().allows("/") && Robots::disallow_all().allows("/robots.txt"));
    // A hostile pattern costs O(pattern × path), not exponential time.
    let hostile = format!("User-agent: *\nDisallow: /{}b\n", "*a".repeat(40));
    let robots = Robots::parse(&hostile, "x");
    assert!(robots.allows(&format!("/{}", "a".repeat(5000))));
}
