//! segq: a segment query language and engine for sales contact data.
#![deny(unsafe_code)]

pub mod cli;
pub mod diagnostic;
pub mod syntax;
pub mod schema;
pub mod time;
pub mod gen;
pub mod output;
pub mod store;
pub mod engine;
pub mod exec;
pub mod fmt;
pub mod plan;
pub mod segments;
pub mod sql;
pub mod repl;
