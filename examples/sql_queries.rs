//! Random segment queries over a data set, for checking the SQL dialects
//! against the engine outside Rust (tests/sql_duckdb.py):
//!
//!     cargo run --example sql_queries -- DATA N SEED SEGMENTS_OUT
//!
//! writes random segment definitions to SEGMENTS_OUT (a .seg file) and
//! prints N queries, one per line, that may name them. Regexes stay in the
//! subset Rust, RE2 and Java read alike.

#[path = "../tests/sql_support/mod.rs"]
mod sql_support;

use segq::engine::Engine;
use segq::store::ingest::{load_path, LoadOptions};
use std::io::Write;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [data, n, seed, segments_out] = args.as_slice() else {
        eprintln!("usage: sql_queries DATA N SEED SEGMENTS_OUT");
        std::process::exit(2);
    };
    let n: usize = n.parse().expect("N is a number");
    let seed: u64 = seed.parse().expect("SEED is a number");
    let (store, _) = load_path(data.as_ref(), &LoadOptions::default()).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2)
    });
    let mut engine = Engine::new(store, 0);
    let mut gen = sql_support::QueryGen::new(&engine.store, seed);
    gen.portable_regex = true;
    let (_, text) = sql_support::define_segments(&mut engine, &mut gen, 5);
    std::fs::write(segments_out, text).expect("segments written");
    let mut out = std::io::stdout().lock();
    for _ in 0..n {
        writeln!(out, "{}", gen.query()).expect("stdout");
    }
}
