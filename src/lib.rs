//! segq: a segment query language and engine for sales contact data.
#![deny(unsafe_code)]

pub mod cli;
pub mod diagnostic;
pub mod engine;
pub mod exec;
pub mod fmt;
pub mod gen;
pub mod output;
pub mod plan;
pub mod repl;
pub mod schema;
pub mod segments;
pub mod sql;
pub mod store;
pub mod syntax;
pub mod time;
