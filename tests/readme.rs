//! The examples of docs/testing.md ("Tests that cannot flake"), run for real. A doctest
//! cannot run a `#[test]`, so the examples live here and a test checks that the page shows
//! them word for word, and prints what the page says it prints.

use std::time::Duration;
use weft::channel::broadcast;
use weft::time::{Instant, sleep, timeout};

#[weft::test(paused)]
async fn a_retry_backs_off_for_an_hour_in_no_time() {
    let start = Instant::now();
    for attempt in 0..12 {
        sleep(Duration::from_secs(300)).await; // five minutes between attempts
        assert_eq!(start.elapsed(), Duration::from_secs(300) * (attempt + 1));
    }
    let never = std::future::pending::<()>();
    assert!(timeout(Duration::from_secs(30), never).await.is_err());
    assert_eq!(start.elapsed(), Duration::from_secs(3630));
}

// Passes in wake order; fails when the publisher happens to run first.
#[weft::test(seeds = 100)]
#[ignore = "fails on purpose; run by the_testing_guide_shows_these_examples_and_their_output"]
async fn the_subscriber_hears_the_greeting() {
    let (tx, _) = broadcast::channel(8);
    let subscribe = tx.clone();
    let subscriber = weft::spawn(async move {
        let mut rx = subscribe.subscribe();
        drop(subscribe); // once the publisher is gone too, the channel closes
        rx.recv().await
    });
    weft::spawn(async move { tx.send("hello") });
    assert_eq!(subscriber.await.unwrap(), Ok("hello"));
}

/// The text of the function `name` in this file, from its attributes to its last line,
/// without the `#[ignore]` line the page leaves out.
fn source_of(name: &str) -> String {
    let source = include_str!("readme.rs");
    let at = source.find(&format!("async fn {name}()")).unwrap();
    let start = source[..at].rfind("\n\n").unwrap() + 2;
    let end = at + source[at..].find("\n}\n").unwrap() + 3;
    source[start..end]
        .lines()
        .filter(|line| !line.starts_with("#[ignore"))
        .map(|line| format!("{line}\n"))
        .collect()
}

#[test]
fn the_testing_guide_shows_these_examples_and_their_output() {
    let readme = include_str!("../docs/testing.md");
    for name in [
        "a_retry_backs_off_for_an_hour_in_no_time",
        "the_subscriber_hears_the_greeting",
    ] {
        let example = source_of(name);
        assert!(
            readme.contains(&example),
            "docs/testing.md lacks, word for word:\n{example}"
        );
    }
    let (passed, stderr) =
        test_support::run_ignored_test("the_subscriber_hears_the_greeting", None);
    assert!(!passed, "the sweep found no failing order:\n{stderr}");
    let shown = readme
        .split("```text\nassertion")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("docs/testing.md shows the failure");
    let shown = format!("assertion{shown}").replace("tests::", "readme::");
    for line in shown.lines() {
        assert!(
            stderr.contains(line),
            "docs/testing.md shows {line:?}, the test printed:\n{stderr}"
        );
    }
}
