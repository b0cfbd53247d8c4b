//! The crawler demo's parts: its command line, the breadth-first engine, fetching with
//! robots.txt, the HTTP/1.1 client, the HTML tokenizer and the JSON Lines report. Shared by the
//! `crawler` example, its tests and its benchmark; not published.

pub mod args;
pub mod engine;
pub mod fetch;
pub mod html;
pub mod http;
pub mod report;
pub mod robots;

/// The URL type every part of the crawler speaks, re-exported so its users need no `url`
/// dependency of their own.
pub use url::Url;
