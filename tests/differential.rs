//! Differential test: random queries answered by the engine and by an
//! independent row-by-row reference evaluator (tests/common/reference.rs)
//! over a seeded, deliberately messy data set written as CSV and loaded by
//! segq. Every query's whole result is compared, counted both ways
//! (`execute` and `count`), and the unoptimised checked plan must give the
//! same rows as the optimised one.
//!
//! Run: `cargo test --test differential -- --nocapture` (prints the
//! coverage table). `SEGQ_DIFF_SEED=n` and `SEGQ_DIFF_QUERIES=n` change the
//! seed and the number of queries.

mod common;

use common::data::{self, Data};
use common::query::{Gen, Renderer, Q};
use common::reference::Reference;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use roaring::RoaringBitmap;
use segq::diagnostic::{render_all, Style};
use segq::engine::Engine;
use segq::plan::check::{check, CheckContext};
use segq::schema::FieldType;
use segq::store::ingest::{load_path, LoadOptions};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

const CONTACTS: usize = 1_500;
const ACCOUNTS: usize = 60;
const DEFAULT_QUERIES: usize = 3_000;
const DEFAULT_SEED: u64 = 0x5e69_2026;
const SEGMENTS: usize = 6;
/// Stop after this many mismatches, printing each.
const MAX_REPORTED: usize = 8;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Loads the generated data through segq, as the CLI would.
fn load(data: &Data) -> (Engine, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    data::write(data, dir.path());
    let (store, report) = load_path(dir.path(), &LoadOptions::default())
        .unwrap_or_else(|e| panic!("load failed: {e}"));
    assert_eq!(report.skipped, 0);
    assert_eq!(store.contacts.len as usize, data.contacts.rows.len());
    assert_eq!(
        store.accounts.as_ref().map(|a| a.len as usize),
        Some(data.accounts.rows.len())
    );
    // The engine read the types the reference assumes (meetings_30d by inference).
    let ty = |name: &str| store.contacts.column(name).map(|c| c.ty.clone());
    assert_eq!(ty("meetings_30d"), Some(FieldType::Int));
    assert_eq!(ty("stage"), Some(FieldType::Enum { ordered: true }));
    assert_eq!(ty("title"), Some(FieldType::String));
    assert_eq!(ty("last_activity"), Some(FieldType::Date));
    assert_eq!(ty("account_id"), Some(FieldType::Ref));
    assert_eq!(store.contacts.columns.len(), data.contacts.fields.len());
    for (c, f) in store.contacts.columns.iter().zip(&data.contacts.fields) {
        assert_eq!(c.name, f.name, "column order");
    }
    for (c, f) in store
        .accounts
        .as_ref()
        .unwrap()
        .columns
        .iter()
        .zip(&data.accounts.fields)
    {
        assert_eq!(c.name, f.name, "account column order");
    }
    (Engine::new(store, data.now), dir)
}

/// Random named segments; later ones may refer to earlier ones. The file
/// lists them last-first, so references point forward.
fn define_segments(
    engine: &mut Engine,
    gen: &mut Gen<'_>,
    render_rng: &mut ChaCha8Rng,
) -> HashMap<String, Q> {
    let mut defs: Vec<(String, Q)> = Vec::new();
    for i in 0..SEGMENTS {
        let name = format!("seg_{i}");
        let q = gen.query();
        defs.push((name.clone(), q));
        gen.segments.push(name);
    }
    let mut text = String::from("# segments for the differential test\n");
    for (name, q) in defs.iter().rev() {
        let body = Renderer::new(gen.data, render_rng).render(q);
        text.push_str(&format!("segment {name} =\n  {body}\n;\n"));
    }
    let file = segq::syntax::parse_file(&text).unwrap_or_else(|d| {
        let mut sources = segq::diagnostic::Sources::new();
        sources.add("segments.seg", text.clone());
        panic!(
            "segment file does not parse:\n{}",
            render_all(&d, &sources, Style::plain())
        )
    });
    let source = engine.sources.add("segments.seg", text);
    let mut errors = Vec::new();
    engine
        .library
        .add_file(source, PathBuf::from("segments.seg"), file, &mut errors);
    assert!(errors.is_empty(), "{errors:?}");
    defs.into_iter().collect()
}

fn rows_of(flags: &[bool]) -> RoaringBitmap {
    flags
        .iter()
        .enumerate()
        .filter(|(_, &b)| b)
        .map(|(r, _)| r as u32)
        .collect()
}

/// A failure message: the query, both counts and a few differing rows.
fn mismatch(
    data: &Data,
    what: &str,
    text: &str,
    expected: &RoaringBitmap,
    got: &RoaringBitmap,
) -> String {
    let mut msg = format!(
        "{what}\nquery: {text}\nexpected {} rows, engine gave {}\n",
        expected.len(),
        got.len()
    );
    for (label, rows) in [
        ("missing from engine", expected - got),
        ("extra in engine", got - expected),
    ] {
        for r in rows.iter().take(4) {
            let r = r as usize;
            let account = data.account_of[r]
                .map_or("no account".to_string(), |a| data.accounts.describe_row(a));
            msg.push_str(&format!(
                "  {label}: row {r}: {}\n    account: {account}\n",
                data.contacts.describe_row(r)
            ));
        }
    }
    msg
}

/// What one run found.
struct Run {
    coverage: BTreeMap<String, usize>,
    queries: usize,
    empty: usize,
    full: usize,
    warned: usize,
    /// Distinct email spellings: above 4096 the store keeps sorted postings.
    distinct_emails: usize,
}

/// Generates data and `queries` random queries from `seed`, and compares
/// the engine with the reference on each. Panics with the first few
/// mismatches.
fn run(seed: u64, now: i64, contacts: usize, accounts: usize, queries: usize) -> Run {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);

    let data = data::generate(&mut rng, contacts, accounts, now);
    data::check_shape(&data);
    let (mut engine, _dir) = load(&data);

    let mut gen = Gen::new(&data, ChaCha8Rng::seed_from_u64(seed ^ 1));
    let mut render_rng = ChaCha8Rng::seed_from_u64(seed ^ 2);
    let segments = define_segments(&mut engine, &mut gen, &mut render_rng);
    let mut reference = Reference::new(&data, segments);

    let mut failures: Vec<String> = Vec::new();
    let mut result = Run {
        coverage: BTreeMap::new(),
        queries,
        empty: 0,
        full: 0,
        warned: 0,
        distinct_emails: data.contacts.distinct(data.contacts.field("email")).len(),
    };
    for i in 0..queries {
        let q = gen.query();
        let expect_warning = gen.warns;
        let text = Renderer::new(&data, &mut render_rng).render(&q);
        let mut kinds = Vec::new();
        q.kinds(&data, &mut kinds);
        for k in kinds {
            *result.coverage.entry(k).or_default() += 1;
        }

        let expected = rows_of(&reference.eval(&q));
        let compiled = match engine.compile(&text) {
            Ok(c) => c,
            Err(diags) => {
                failures.push(format!(
                    "query {i} rejected:\n{text}\n{}",
                    render_all(&diags, &engine.sources, Style::plain())
                ));
                if failures.len() >= MAX_REPORTED {
                    break;
                }
                continue;
            }
        };
        if expect_warning {
            result.warned += 1;
            if compiled.warnings.is_empty() {
                failures.push(format!(
                    "query {i}: a value that never occurs gave no warning\nquery: {text}"
                ));
            }
        }
        let got = engine.execute(&compiled.plan);
        let counted = engine.count(&compiled.plan);
        if got != expected {
            failures.push(mismatch(
                &data,
                &format!("query {i}: optimised plan differs"),
                &text,
                &expected,
                &got,
            ));
        } else if counted != expected.len() {
            failures.push(format!(
                "query {i}: count() gave {counted}, expected {}\nquery: {text}",
                expected.len()
            ));
        }

        // The optimizer never changes results.
        let expr = segq::syntax::parse_query(&text).expect("parsed once already");
        let ctx = CheckContext {
            catalog: &engine.catalog,
            now: engine.now,
            library: &engine.library,
            source: compiled.source,
        };
        let checked = check(&expr, &ctx).expect("checked once already");
        let unoptimised = segq::exec::execute(&checked.plan, &engine.store);
        if unoptimised != got {
            failures.push(mismatch(
                &data,
                &format!("query {i}: unoptimised plan differs"),
                &text,
                &unoptimised,
                &got,
            ));
        }

        match expected.len() {
            0 => result.empty += 1,
            n if n as usize == contacts => result.full += 1,
            _ => {}
        }
        if failures.len() >= MAX_REPORTED {
            break;
        }
    }
    println!(
        "seed {seed:#x}, {contacts} contacts: {queries} queries, {} empty, {} all rows, {} expected warnings",
        result.empty, result.full, result.warned
    );
    assert!(
        failures.is_empty(),
        "{} failure(s) (seed {seed:#x}):\n\n{}",
        failures.len(),
        failures.join("\n")
    );
    result
}

/// Every form of the language that must occur in a default run.
const REQUIRED_FORMS: &[&str] = &[
    "and",
    "or",
    "not",
    "all",
    "none",
    "@segment",
    "account has",
    "account.f",
    "account count = 0",
    "account count < n",
    "account count <= n",
    "account count >= n",
    "is missing",
    "is present",
    "string is duplicate",
    "int is duplicate",
    "enum is duplicate",
    "Contains",
    "StartsWith",
    "EndsWith",
    "Matches",
    "has One",
    "has Any",
    "has All",
    "has None",
    "within H",
    "within D",
    "within W",
    "within Mo",
    "within Y",
    "before date",
    "before today",
    "before ago",
    "after datetime",
    "bare bool",
    "int < decimal",
    "int > decimal",
    "float >= int",
    "float <= decimal",
    "date compared with ago",
    "date compared with today",
    "date compared with datetime",
    "datetime compared with date",
    "datetime compared with datetime",
    "datetime compared with today",
    "datetime compared with ago",
    "ordered < text",
    "ordered >= text",
    "enum in",
    "enum not in",
    "ordered between",
    "ordered not between",
    "int between",
    "int not between",
    "date between",
    "float not in",
    "bool = bool",
    "bool != bool",
    "ref = text",
];

#[test]
fn engine_agrees_with_reference_evaluator() {
    let seed = env_or("SEGQ_DIFF_SEED", DEFAULT_SEED);
    let queries = env_or("SEGQ_DIFF_QUERIES", DEFAULT_QUERIES as u64) as usize;
    let now = data::default_now();
    assert_eq!(
        segq::time::parse_datetime("2026-06-15T12:00:00Z"),
        Some(now)
    );
    let run = run(seed, now, CONTACTS, ACCOUNTS, queries);
    for (k, n) in &run.coverage {
        println!("{n:>6}  {k}");
    }
    // The run was not vacuous: most results are neither empty nor everything,
    // and every form of the language occurred.
    if queries >= DEFAULT_QUERIES {
        assert!(
            run.empty + run.full < run.queries / 2,
            "{} empty and {} full of {}",
            run.empty,
            run.full,
            run.queries
        );
        assert!(run.warned > 10);
        let missing: Vec<&str> = REQUIRED_FORMS
            .iter()
            .filter(|k| !run.coverage.contains_key(**k))
            .copied()
            .collect();
        assert!(missing.is_empty(), "forms never generated: {missing:?}");
    }
}

/// Enough rows that the store switches index layouts: sorted postings for
/// dictionaries of more than 4096 distinct strings (emails), sorted rows
/// for numeric columns of many distinct keys. `now` is a midnight here.
#[test]
fn engine_agrees_with_reference_evaluator_on_a_larger_table() {
    let seed = env_or("SEGQ_DIFF_SEED", DEFAULT_SEED) ^ 0xb16;
    // `now` at midnight: `today` is `now` itself, `within 0d` is one instant.
    let now = data::default_now() - 12 * data::MICROS_PER_HOUR;
    assert_eq!(
        segq::time::parse_datetime("2026-06-15T00:00:00Z"),
        Some(now)
    );
    let run = run(seed, now, 6_000, 240, 500);
    assert!(
        run.distinct_emails > 4096,
        "{} distinct emails",
        run.distinct_emails
    );
}
