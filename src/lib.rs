//! segq: a segment query language and engine for sales contact data.
#![forbid(unsafe_code)]

pub mod diagnostic;
pub mod syntax;
pub mod schema;
pub mod time;
pub mod gen;
pub mod store;
