//! What a waiting connection costs each echo server ([`weft_benches::idle`]): weft's
//! (`echo_server`'s own code), tokio's and the raw mio loop, all three holding no buffer
//! while a connection waits, and Go's goroutine-per-connection server (`go/echo.go`) where a
//! Go toolchain is installed; without one its rows are skipped, saying so.

use std::any::Any;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Command;

use weft_benches::Mode;
use weft_benches::idle;
use weft_benches::server_process::with_server;

/// Measures every server at every connection count; returns the result rows.
pub fn run(mode: Mode, pinned: bool) -> Vec<serde_json::Value> {
    idle::raise_fd_limit();
    let (counts, idle_for) = idle::plan(mode);
    let mut servers = vec!["weft", "tokio", "mio"];
    match go_server() {
        Ok(()) => servers.push("go"),
        Err(why) => println!("idle: Go's server skipped: {why}"),
    }
    let mut rows = Vec::new();
    for &n in &counts {
        for &server in &servers {
            let one_thread = server != "tokio" && server != "go";
            let m = with_server(server, pinned, one_thread, |addr, pid| {
                idle::hold(addr, pid, n, idle_for, ping)
            });
            println!(
                "idle {n:>6} conns {server:>5}: RSS +{:.0} B/conn, kernel socket buffers {:.0} B/conn, CPU while idle {:.2}%",
                m.rss_per_conn, m.sockstat_per_conn, m.idle_cpu_percent
            );
            rows.push(m.json(server, n, idle_for));
        }
    }
    rows
}

/// One 1-byte round trip.
fn ping(mut conn: TcpStream) -> std::io::Result<Box<dyn Any>> {
    conn.write_all(b"x")?;
    let mut byte = [0];
    conn.read_exact(&mut byte)?;
    Ok(Box::new(conn))
}

/// Where Go's echo server is built.
fn go_exe() -> PathBuf {
    weft_benches::target_dir().join("idle-go/echo")
}

/// Builds Go's echo server, or says why it cannot.
fn go_server() -> Result<(), String> {
    let out = weft_benches::target_dir().join("idle-go");
    let source = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("echo/go/echo.go");
    let built = Command::new("go")
        .arg("build")
        .arg("-o")
        .arg(go_exe())
        .arg(&source)
        .env("GOCACHE", out.join("cache"))
        .env("GOPATH", out.join("path"))
        .output()
        .map_err(|e| format!("no Go toolchain (`go`: {e}); `apt-get install golang-go` adds it"))?;
    if !built.status.success() {
        return Err(format!(
            "`go build` failed: {}",
            String::from_utf8_lossy(&built.stderr).trim()
        ));
    }
    Ok(())
}

/// Runs Go's echo server in place of this process (`echo serve go`), with one OS thread
/// running goroutines.
pub fn exec_go() -> std::io::Error {
    use std::os::unix::process::CommandExt;
    Command::new(go_exe()).env("GOMAXPROCS", "1").exec()
}
