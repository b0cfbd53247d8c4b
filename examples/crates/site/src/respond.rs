//! The site's HTTP/1.1 server side: reading requests (httparse) on a keep-alive connection
//! and answering each path, misbehaving on purpose where the path asks for it.

use std::io::{self, Write};
use std::time::Duration;

use flate2::Compression;
use flate2::write::{GzEncoder, ZlibEncoder};
use weft::io::{AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use weft::net::TcpStream;
use weft::net::tls::ServerTlsStream;

use super::{Site, page_path};

/// Largest request head read.
const MAX_REQUEST: usize = 16 * 1024;

struct Request {
    method: String,
    path: String,
    host: String,
    gzip_ok: bool,
    deflate_ok: bool,
    close: bool,
}

/// What to do with the connection after a response.
enum After {
    KeepAlive,
    /// Close it properly (for TLS, with close_notify, so a close-delimited body ends cleanly).
    Close,
    /// Drop it at once: the socket was set to send a reset.
    Reset,
}

/// A connection the site answers on: plain TCP, or TLS over TCP.
pub trait SiteConn: AsyncRead + AsyncWrite + Unpin {
    /// The TCP socket underneath (to set options, and to turn a close into a reset).
    fn tcp(&self) -> &TcpStream;
}

impl SiteConn for TcpStream {
    fn tcp(&self) -> &TcpStream {
        self
    }
}

impl SiteConn for ServerTlsStream<TcpStream> {
    fn tcp(&self) -> &TcpStream {
        self.get_ref().0
    }
}

/// Serves requests on `conn` until the client closes it or a response ends it.
pub async fn connection<S: SiteConn>(site: Site, conn: S) -> io::Result<()> {
    conn.tcp().set_nodelay(true)?;
    let mut conn = BufReader::new(conn).with_limit(MAX_REQUEST);
    loop {
        let Some(request) = read_request(&mut conn).await? else {
            return Ok(());
        };
        if !site.config.latency.is_zero() {
            weft::time::sleep(site.config.latency).await;
        }
        let close = request.close;
        match respond(&site, conn.get_mut(), request).await? {
            After::KeepAlive if !close => {}
            After::KeepAlive | After::Close => return conn.get_mut().close().await,
            After::Reset => return Ok(()),
        }
    }
}

/// Reads one request head into a `Request`; `None` when the client closed cleanly.
async fn read_request<S: SiteConn>(conn: &mut BufReader<S>) -> io::Result<Option<Request>> {
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut parsed = httparse::Request::new(&mut headers);
        match parsed.parse(conn.buffer()) {
            Ok(httparse::Status::Complete(len)) => {
                let header = |name: &str| {
                    parsed
                        .headers
                        .iter()
                        .find(|h| h.name.eq_ignore_ascii_case(name))
                        .map(|h| String::from_utf8_lossy(h.value).to_ascii_lowercase())
                        .unwrap_or_default()
                };
                let encodings = header("accept-encoding");
                let request = Request {
                    method: parsed.method.unwrap_or("GET").to_owned(),
                    path: parsed.path.unwrap_or("/").to_owned(),
                    host: header("host"),
                    gzip_ok: encodings.contains("gzip"),
                    deflate_ok: encodings.contains("deflate"),
                    close: header("connection").contains("close"),
                };
                conn.consume(len);
                return Ok(Some(request));
            }
            Ok(httparse::Status::Partial) => {}
            Err(_) => return bad_request(conn).await,
        }
        // Fails with `InvalidData` once `MAX_REQUEST` bytes are buffered: the reader's limit.
        match conn.read_more().await {
            Ok(0) => return Ok(None),
            Ok(_) => {}
            Err(err) if err.kind() == io::ErrorKind::InvalidData => return bad_request(conn).await,
            Err(err) => return Err(err),
        }
    }
}

/// Answers a request head that does not parse, or does not end within `MAX_REQUEST` bytes,
/// and ends the connection.
async fn bad_request<S: SiteConn>(conn: &mut BufReader<S>) -> io::Result<Option<Request>> {
    let refusal = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    let _ = conn.write_all(refusal).await;
    Ok(None)
}

async fn respond<S: SiteConn>(site: &Site, conn: &mut S, request: Request) -> io::Result<After> {
    let head_only = request.method == "HEAD";
    if request.method != "GET" && !head_only {
        return send(
            conn,
            405,
            "text/plain",
            &[],
            b"GET or HEAD only\n",
            head_only,
        )
        .await;
    }
    let path = request
        .path
        .split(['?', '#'])
        .next()
        .unwrap_or("/")
        .to_owned();
    let errors = site.config.errors;
    if let Some(i) = page_number(&path).filter(|&i| i < site.config.pages) {
        let html = render_page(site, i, &request.host);
        return send(
            conn,
            200,
            "text/html; charset=utf-8",
            &[],
            html.as_bytes(),
            head_only,
        )
        .await;
    }
    match path.as_str() {
        "/robots.txt" => {
            let rules = if errors {
                "User-agent: *\nDisallow: /private/\n"
            } else {
                "User-agent: *\nDisallow:\n"
            };
            send(conn, 200, "text/plain", &[], rules.as_bytes(), head_only).await
        }
        "/elsewhere" => match &site.config.other_host {
            Some(other) => {
                let port = request.host.rsplit(':').next().unwrap_or("80");
                redirect(
                    conn,
                    302,
                    &format!("{}://{other}:{port}/", site.config.scheme()),
                )
                .await
            }
            None => not_found(conn, head_only).await,
        },
        _ if !errors => not_found(conn, head_only).await,
        "/error" => {
            send(
                conn,
                500,
                "text/html",
                &[],
                b"<h1>500</h1><a href=/page/1>x</a>",
                head_only,
            )
            .await
        }
        "/redirect/5" => redirect(conn, 308, "/redirect/4").await,
        "/redirect/4" => redirect(conn, 303, "../redirect/3").await,
        "/redirect/3" => redirect(conn, 301, "/redirect/2").await,
        "/redirect/2" => {
            redirect(
                conn,
                302,
                &format!("{}://{}/redirect/1", site.config.scheme(), request.host),
            )
            .await
        }
        "/redirect/1" => redirect(conn, 307, "/landing").await,
        "/landing" => send_page(conn, "Landing", &["/page/1"], head_only).await,
        "/loop/a" => redirect(conn, 302, "/loop/b").await,
        "/loop/b" => redirect(conn, 302, "/loop/a").await,
        "/chunked" => {
            chunked(
                conn,
                &simple_page("Chunked", &["/chunked-child"]),
                head_only,
            )
            .await
        }
        "/gzip" | "/deflate" => {
            let html = simple_page("Encoded", &[&format!("{path}-child")]);
            encoded(conn, &path, &request, html.as_bytes(), head_only).await
        }
        "/close" => {
            let html = simple_page("Close", &["/close-child"]);
            let head = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n";
            conn.write_all(head.as_bytes()).await?;
            if !head_only {
                conn.write_all(html.as_bytes()).await?;
            }
            Ok(After::Close)
        }
        "/chunked-child" | "/gzip-child" | "/deflate-child" | "/close-child" => {
            send_page(conn, "Child", &[], head_only).await
        }
        "/slow" => {
            conn.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 10000\r\n\r\n",
            )
            .await?;
            for _ in 0..10_000 {
                weft::time::sleep(Duration::from_millis(200)).await;
                conn.write_all(b"<").await?;
            }
            Ok(After::Close)
        }
        "/malformed" => {
            conn.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type text/html\r\nContent-Length: 5\r\n\r\nhello",
            )
            .await?;
            Ok(After::Close)
        }
        "/huge" => {
            conn.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 67108864\r\n\r\n",
            )
            .await?;
            let zeros = vec![b' '; 64 * 1024];
            for _ in 0..1024 {
                conn.write_all(&zeros).await?;
            }
            Ok(After::Close)
        }
        "/huge-chunked" => {
            conn.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n",
            )
            .await?;
            let mut chunk = b"10000\r\n".to_vec();
            chunk.extend(std::iter::repeat_n(b' ', 0x10000));
            chunk.extend_from_slice(b"\r\n");
            loop {
                conn.write_all(&chunk).await?; // ends when the client gives up and closes
            }
        }
        "/reset" => {
            // SO_LINGER 0: closing sends RST, as a crashing server or a middlebox would.
            socket2::SockRef::from(conn.tcp()).set_linger(Some(Duration::ZERO))?;
            Ok(After::Reset)
        }
        "/image.png" => {
            let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
            png.extend_from_slice(b"<a href=\"/decoy/png\">not a link in an image</a>");
            send(conn, 200, "image/png", &[], &png, head_only).await
        }
        _ if path.starts_with("/private/") => send_page(conn, "Private", &[], head_only).await,
        _ => match path
            .strip_prefix("/trap/")
            .and_then(|n| n.parse::<u64>().ok())
        {
            Some(n) => {
                let next = format!("/trap/{}", n + 1);
                send_page(conn, "Trap", &[&next], head_only).await
            }
            None => not_found(conn, head_only).await,
        },
    }
}

fn page_number(path: &str) -> Option<usize> {
    if path == "/" {
        return Some(0);
    }
    let n = path.strip_prefix("/page/")?;
    // "/page/01" is not page 1: one URL per page.
    if n.starts_with('0') {
        None
    } else {
        n.parse().ok()
    }
}

async fn not_found<S: SiteConn>(conn: &mut S, head_only: bool) -> io::Result<After> {
    send(
        conn,
        404,
        "text/html",
        &[],
        b"<h1>Not found</h1><a href=\"/page/1\">home</a>",
        head_only,
    )
    .await
}

async fn redirect<S: SiteConn>(conn: &mut S, status: u16, location: &str) -> io::Result<After> {
    send(
        conn,
        status,
        "text/html",
        &[("Location", location)],
        b"moved",
        false,
    )
    .await
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        404 => "Not Found",
        405 => "Method Not Allowed",
        500 => "Internal Server Error",
        _ => "Unknown",
    }
}

async fn send<S: SiteConn>(
    conn: &mut S,
    status: u16,
    content_type: &str,
    extra: &[(&str, &str)],
    body: &[u8],
    head_only: bool,
) -> io::Result<After> {
    let mut out = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n",
        reason(status),
        body.len()
    )
    .into_bytes();
    for (name, value) in extra {
        out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    if !head_only {
        out.extend_from_slice(body);
    }
    conn.write_all(&out).await?;
    Ok(After::KeepAlive)
}

/// Sends `html` in three chunks (one with a chunk extension) and a trailer.
async fn chunked<S: SiteConn>(conn: &mut S, html: &str, head_only: bool) -> io::Result<After> {
    let mut out =
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n"
            .to_vec();
    if !head_only {
        let third = html.len() / 3;
        for (i, part) in [&html[..third], &html[third..2 * third], &html[2 * third..]]
            .iter()
            .enumerate()
        {
            let ext = if i == 1 { ";note=\"middle\"" } else { "" };
            out.extend_from_slice(format!("{:x}{ext}\r\n{part}\r\n", part.len()).as_bytes());
        }
        out.extend_from_slice(b"0\r\nX-Trailer: done\r\n\r\n");
    }
    conn.write_all(&out).await?;
    Ok(After::KeepAlive)
}

/// Sends `body` gzip- or deflate-encoded when the client accepts it, plain otherwise.
async fn encoded<S: SiteConn>(
    conn: &mut S,
    path: &str,
    request: &Request,
    body: &[u8],
    head_only: bool,
) -> io::Result<After> {
    let encoded = match path {
        "/gzip" if request.gzip_ok => {
            let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
            encoder.write_all(body)?;
            Some(("gzip", encoder.finish()?))
        }
        "/deflate" if request.deflate_ok => {
            let mut encoder = ZlibEncoder::new(Vec::new(), Compression::default());
            encoder.write_all(body)?;
            Some(("deflate", encoder.finish()?))
        }
        _ => None,
    };
    match encoded {
        Some((name, bytes)) => {
            send(
                conn,
                200,
                "text/html",
                &[("Content-Encoding", name)],
                &bytes,
                head_only,
            )
            .await
        }
        None => send(conn, 200, "text/html", &[], body, head_only).await,
    }
}

/// Sends a small HTML page titled `title` with `links`.
async fn send_page<S: SiteConn>(
    conn: &mut S,
    title: &str,
    links: &[&str],
    head_only: bool,
) -> io::Result<After> {
    send(
        conn,
        200,
        "text/html",
        &[],
        simple_page(title, links).as_bytes(),
        head_only,
    )
    .await
}

fn simple_page(title: &str, links: &[&str]) -> String {
    let links: String = links
        .iter()
        .map(|l| format!("<li><a href=\"{l}\">{l}</a></li>\n"))
        .collect();
    format!(
        "<!DOCTYPE html>\n<html><head><title>{title}</title></head><body><h1>{title}</h1><ul>\n{links}</ul></body></html>\n"
    )
}

/// Page `i`'s HTML, its links written in varied forms; `host` is the request's Host.
fn render_page(site: &Site, i: usize, host: &str) -> String {
    let scheme = site.config.scheme();
    let uses_base = i % 7 == 3;
    let mut html = format!(
        "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8><title>Page {i}</title>{}</head>\n<body>\n\
         <h1>Page {i}</h1>\n<!-- an old link: <a href=\"/decoy/comment\">gone</a> -->\n\
         <script>var s = \"<a href='/decoy/script'>\"; if (1 < 2) {{ s += '</a>'; }}</script>\n<ul>\n",
        if uses_base {
            "<base href=\"/page/deep/\">"
        } else {
            ""
        }
    );
    for (j, k) in site.page_links(i).into_iter().enumerate() {
        let target = page_path(k);
        let link = if k == 0 {
            "<a href=\"/\">home</a>".to_owned()
        } else {
            match j % 5 {
                0 => format!("<a class=nav href=\"&#47;page&#x2F;{k}\">page {k}</a>"),
                1 => format!("<a title='x > y' href='{target}#section'>page {k}</a>"),
                2 => format!("<A HREF={target}>page {k}</A>"),
                3 => format!("<a href=\"{scheme}://{host}{target}\" rel=next>page {k}</a>"),
                _ if uses_base => format!("<a href=\"../{k}\">page {k}</a>"),
                _ if i == 0 => format!("<a href=\"page/{k}\">page {k}</a>"),
                _ => format!("<a href=\"{k}\">page {k}</a>"),
            }
        };
        html += &format!("<li>{link}</li>\n");
    }
    if i == 0 && site.config.errors {
        for special in super::Special::ALL {
            html += &format!(
                "<li><a href=\"{}\">{:?}</a></li>\n",
                special.path(),
                special
            );
        }
        html += "<li><a href=\"/private/secret\">secret</a> <a href=\"/private/other\">other</a></li>\n";
        html += "<li><a href=\"mailto:webmaster@example.invalid\">mail</a> <a href=\"javascript:void(0)\">js</a></li>\n";
        if let Some(other) = &site.config.other_host {
            let port = host.rsplit(':').next().unwrap_or("80");
            html +=
                &format!("<li><a href=\"{scheme}://{other}:{port}/page/1\">elsewhere</a></li>\n");
        }
    }
    html += "</ul>\n</body></html>\n";
    html
}
