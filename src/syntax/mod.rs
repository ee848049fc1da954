//! Text → AST: the pest grammar ([`parse`]), the tree ([`ast`]) and the
//! REPL's token lexer ([`lexer`]).

pub mod ast;
pub mod lexer;
pub mod parse;

pub use parse::{limits, parse_file, parse_query};
