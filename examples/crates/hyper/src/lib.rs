//! hyper, for weft's tests and examples, with its client and server turned on.
//!
//! A dev-dependency cannot be optional, so the facade's tests and examples get hyper through
//! this crate, whose `hyper` feature the facade's own `hyper` feature turns on. Without it a
//! plain `cargo test --workspace` compiles neither hyper nor the tokio crate hyper depends on.
//! The examples start with `use demo_hyper::hyper;` and then use hyper as any program does.

#[cfg(feature = "hyper")]
pub use hyper;
