//! Every example is a program people run: `--help` prints its usage and exits 0 (it does
//! not start a server or read stdin), and an unknown flag or a bad value exits non-zero with
//! a message that names it.

use std::process::{Command, Output, Stdio};

/// The examples this build has (`hyper_server` needs `hyper` and `tls`; `https_get` and
/// `health_check`, `http`; `sim_crawl`, `sim`).
fn examples() -> Vec<&'static str> {
    let mut names = vec![
        "crawler",
        "echo_client",
        "echo_demo",
        "echo_server",
        "parallel_commands",
        "pipelines",
        "pyos",
        "site_server",
        "stuck",
        "tour",
        "websocket_echo",
    ];
    if cfg!(all(feature = "hyper", feature = "tls")) {
        names.push("hyper_server");
    }
    if cfg!(feature = "http") {
        names.extend(["https_get", "health_check"]);
    }
    if cfg!(feature = "sim") {
        names.push("sim_crawl");
    }
    names
}

/// Runs example `name` with `args`, stdin closed: a program that waited for input or served
/// would not end, and the test's own time limit would catch it.
fn run(name: &str, args: &[&str]) -> Output {
    Command::new(test_support::example_binary(name))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn help_prints_usage_and_exits_zero() {
    for name in examples() {
        let out = run(name, &["--help"]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{name} --help: {:?}", out.status);
        assert!(
            stdout.contains(&format!("Usage: {name}")),
            "{name}: {stdout}"
        );
        assert!(stdout.contains("--help"), "{name}: {stdout}");
    }
}

#[test]
fn an_unknown_flag_is_refused_with_a_message() {
    for name in examples() {
        let out = run(name, &["--no-such-flag"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(
            stderr.contains("unexpected argument '--no-such-flag'"),
            "{name}: {stderr}"
        );
        assert!(
            stderr.contains("--help"),
            "{name} says where to look: {stderr}"
        );
    }
}

#[test]
fn invalid_values_are_refused_before_anything_starts() {
    let cases: &[(&str, &[&str], &str)] = &[
        ("echo_server", &["--threads", "0"], "at least 1"),
        ("echo_server", &["--addr", "nowhere"], "--addr"),
        ("echo_client", &["--connections", "many"], "--connections"),
        ("echo_client", &["--ping-every", "5"], "--hold"),
        (
            "echo_client",
            &["--hold", "0"],
            "positive number of seconds",
        ),
        ("echo_server", &["--report-every", "soon"], "--report-every"),
        ("echo_demo", &["--size", "0"], "at least 1"),
        (
            "parallel_commands",
            &["--timeout", "0"],
            "positive number of seconds",
        ),
        ("parallel_commands", &["--jobs", "0"], "at least 1"),
        ("site_server", &["--pages", "x"], "--pages"),
        ("stuck", &["--block", "soon"], "--block"),
        (
            "stuck",
            &["--deadlock", "--block", "1"],
            "cannot be used with",
        ),
        ("pyos", &["--addr"], "a value is required"),
        ("crawler", &["ftp://example.com/"], "not an http(s) URL"),
        ("crawler", &[], "required"),
        ("crawler", &["--demo", "--pages", "0"], "at least 1"),
        ("tour", &["extra"], "unexpected argument"),
    ];
    for (name, args, says) in cases {
        let out = run(name, args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name} {args:?}: {stderr}");
        assert!(stderr.contains(says), "{name} {args:?}: {stderr}");
    }
}
