//! The crawler's parts, shared by the `crawler` example, its tests and its benchmark.

pub mod engine;
pub mod fetch;
pub mod html;
pub mod http;
pub mod report;
pub mod robots;
