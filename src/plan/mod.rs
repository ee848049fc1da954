//! Checking and planning: AST + catalog → typed logical plan → optimised plan.

pub mod catalog;
pub mod check;
pub mod explain;
pub mod logical;
pub mod optimize;

pub use catalog::Catalog;
pub use check::{check, CheckContext, Checked};
pub use logical::Plan;
pub use optimize::optimize;
