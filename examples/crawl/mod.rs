//! The crawler's parts, shared by the `crawler` example, its tests and its benchmark.

pub mod engine;
mod fetch;
pub mod html;
pub mod http;
pub mod report;
pub mod robots;
