//! Helpers of the differential test: a seeded messy data set, the
//! reference's own query trees and their rendering to text, and a
//! row-by-row reference evaluator. None of it uses segq's parser, checker,
//! store or executor.

pub mod data;
pub mod query;
pub mod reference;
