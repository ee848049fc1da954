//! Criterion benches of getting data in, on 200,000 generated contacts
//! (8,000 accounts, seed 42) written once to a temporary directory:
//!
//! - `ingest/csv`: CSV files + schema.toml → an indexed store (parse,
//!   dictionary-encode, build every index), as `--data DIR` does;
//! - `ingest/snapshot_write` and `ingest/snapshot_read`: the same store to
//!   and from a `.segx` snapshot (`segq index`, then `--data FILE.segx`).
//!
//! Files are written outside the timed loops; each iteration loads afresh.
//!
//! Run: `cargo bench --bench ingest`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use segq::store::ingest::{load_path, LoadOptions};

fn ingest(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let cfg = segq::gen::GenConfig {
        contacts: 200_000,
        accounts: 8_000,
        seed: 42,
        today_days: segq::time::parse_date("2026-12-01").expect("a date")
            / segq::time::MICROS_PER_DAY,
    };
    segq::gen::write_dataset(&cfg, dir.path(), &mut |_| {}).expect("generated files");
    let snapshot = dir.path().join("contacts.segx");
    let size = "200k_contacts";

    let mut group = c.benchmark_group("ingest");
    group.sample_size(10);
    group.bench_function(BenchmarkId::new("csv", size), |b| {
        b.iter(|| load_path(dir.path(), &LoadOptions::default()).expect("loads"))
    });
    let (store, _) = load_path(dir.path(), &LoadOptions::default()).expect("loads");
    group.bench_function(BenchmarkId::new("snapshot_write", size), |b| {
        b.iter(|| segq::store::snapshot::write(&store, &snapshot).expect("writes"))
    });
    group.bench_function(BenchmarkId::new("snapshot_read", size), |b| {
        b.iter(|| segq::store::snapshot::read(&snapshot).expect("reads"))
    });
    group.finish();
}

criterion_group!(benches, ingest);
criterion_main!(benches);
