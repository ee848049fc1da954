//! Criterion benches of the query pipeline, stage by stage, on 1,000,000
//! generated contacts (40,000 accounts, seed 42, "today" 2026-12-01):
//!
//! - `parse`: query text → AST, for each standard query Q1–Q6;
//! - `check`: AST → typed plan against the store's catalog;
//! - `plan`: the optimiser (flattening, range merging, ordering by estimate);
//! - `execute/count`: the number of matching contacts (what `segq count` and
//!   `segq bench` time);
//! - `execute/ids`: the matching row ids as a `Vec<u32>` (`bench --materialize`).
//!
//! The store is built in memory once, outside every timed loop.
//!
//! Run: `cargo bench --bench engine` (one stage: `cargo bench --bench engine -- check`).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use segq::diagnostic::Sources;
use segq::plan::{check, optimize, Catalog, CheckContext};
use segq::segments::Library;
use segq::store::Store;
use std::hint::black_box;

/// The standard queries of the README and `benches/compare`.
pub const QUERIES: [(&str, &str); 6] = [
    ("Q1", "role in [decision_maker, champion] and replies_30d > 2"),
    (
        "Q2",
        "stage = opportunity and (seniority in [vp, c_level] or meetings_30d >= 1) and not region = emea",
    ),
    (
        "Q3",
        "industry in [software, fintech, healthcare, retail, media] and company_size between 200 and 5000 and last_activity within 30d and score >= 70",
    ),
    ("Q4", "role = blocker"),
    (
        "Q5",
        "stage >= opportunity and not account has (role = decision_maker and replies_30d > 0)",
    ),
    ("Q6", "title contains \"head of\" and email is duplicate"),
];

const SIZE: &str = "1M_contacts";

fn store() -> (Store, i64) {
    let today = segq::time::parse_date("2026-12-01").expect("a date");
    let store = segq::store::ingest::generated(&segq::gen::GenConfig {
        contacts: 1_000_000,
        accounts: 40_000,
        seed: 42,
        today_days: today / segq::time::MICROS_PER_DAY,
    });
    (store, today)
}

fn stages(c: &mut Criterion) {
    let (store, now) = store();
    let catalog = Catalog::from_store(&store);
    let library = Library::new();
    let mut sources = Sources::new();
    let prepared: Vec<_> = QUERIES
        .iter()
        .map(|(name, q)| {
            let source = sources.add(*name, *q);
            let expr = segq::syntax::parse_query(q).expect("the standard queries parse");
            let ctx = CheckContext {
                catalog: &catalog,
                now,
                library: &library,
                source,
            };
            let checked = check(&expr, &ctx).expect("the standard queries check").plan;
            let plan = optimize(checked.clone(), Some(&store));
            (*name, *q, source, expr, checked, plan)
        })
        .collect();

    let mut group = c.benchmark_group("parse");
    for (name, q, ..) in &prepared {
        group.bench_with_input(BenchmarkId::new(*name, SIZE), q, |b, q| {
            b.iter(|| segq::syntax::parse_query(black_box(q)))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("check");
    for (name, _, source, expr, ..) in &prepared {
        let ctx = CheckContext {
            catalog: &catalog,
            now,
            library: &library,
            source: *source,
        };
        group.bench_with_input(BenchmarkId::new(*name, SIZE), expr, |b, expr| {
            b.iter(|| check(black_box(expr), &ctx))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("plan");
    for (name, _, _, _, checked, _) in &prepared {
        group.bench_with_input(BenchmarkId::new(*name, SIZE), checked, |b, checked| {
            b.iter(|| optimize(black_box(checked.clone()), Some(&store)))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("execute/count");
    for (name, _, _, _, _, plan) in &prepared {
        group.bench_with_input(BenchmarkId::new(*name, SIZE), plan, |b, plan| {
            b.iter(|| segq::exec::count(black_box(plan), &store))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("execute/ids");
    for (name, _, _, _, _, plan) in &prepared {
        group.bench_with_input(BenchmarkId::new(*name, SIZE), plan, |b, plan| {
            b.iter(|| segq::exec::ids(black_box(plan), &store))
        });
    }
    group.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
