//! The echo demo's server and load client, shared by the `echo_server`, `echo_client` and
//! `echo_demo` examples and the echo benchmark; not published.

pub mod client;
pub mod hold;
pub mod server;
