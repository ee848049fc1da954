//! The checks behind each fuzz target, shared with the default test suite:
//! `fuzz_targets/*.rs` call these on libFuzzer's inputs, and
//! `tests/fuzz_regressions.rs` (which includes this file by path) calls them
//! on every file under `fuzz/seeds/<target>/` and `fuzz/regressions/<target>/`.
//!
//! Each check panics only when segq breaks a promise: a panic inside segq,
//! a result that changes under optimisation, a canonical text that does not
//! re-parse to the same tree, a loaded value that does not survive export.

use segq::diagnostic::{render, Diagnostic, SourceId, Sources, Style};
use segq::engine::Engine;
use segq::output::{self, Format};
use segq::plan::check::{check, CheckContext};
use segq::plan::optimize;
use segq::segments::Library;
use segq::store::ingest::{self, LoadOptions};
use segq::store::{Cell, Store, Table};
use segq::syntax::{parse_file, parse_query};
use std::path::Path;
use std::sync::OnceLock;

/// Renders every diagnostic (the renderer slices source text by span, so
/// it is part of what is fuzzed).
fn render_all(diags: &[Diagnostic], sources: &Sources) {
    for d in diags {
        let text = render(d, sources, Style::plain());
        assert!(!text.is_empty(), "an empty rendering of {d:?}");
    }
}

// ------------------------------------------------------------ parse_check

/// The data every query runs against: 500 generated contacts at 20
/// accounts, and the segment library from `queries/*.seg`.
pub struct Fixture {
    pub engine: Engine,
}

const LIBRARY: [(&str, &str); 3] = [
    (
        "queries/pipeline.seg",
        include_str!("../../queries/pipeline.seg"),
    ),
    (
        "queries/data_quality.seg",
        include_str!("../../queries/data_quality.seg"),
    ),
    (
        "queries/account_based.seg",
        include_str!("../../queries/account_based.seg"),
    ),
];

pub fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let today = segq::time::parse_date(ingest::DEMO_TODAY).expect("valid");
        let store = ingest::generated(&segq::gen::GenConfig {
            contacts: 500,
            accounts: 20,
            seed: 7,
            today_days: today / segq::time::MICROS_PER_DAY,
        });
        let mut engine = Engine::new(store, today + 9 * 3_600_000_000);
        let mut library = Library::new();
        let mut errors = Vec::new();
        for (path, text) in LIBRARY {
            let file = parse_file(text).expect("the queries/ library parses");
            let source = engine.sources.add(path, text);
            library.add_file(source, path.into(), file, &mut errors);
        }
        assert!(errors.is_empty(), "{errors:?}");
        engine.library = library;
        Fixture { engine }
    })
}

/// A query string: parse → canonical text round trip → check → optimise →
/// execute; the optimised plan must give the unoptimised plan's rows.
pub fn parse_check(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let engine = &fixture().engine;
    let mut sources = engine.sources.clone();
    let source: SourceId = sources.add("<query>", text);
    let expr = match parse_query(text) {
        Ok(expr) => expr,
        Err(diags) => {
            assert!(
                diags.iter().any(Diagnostic::is_error),
                "a failed parse without an error"
            );
            let diags: Vec<_> = diags.into_iter().map(|d| d.in_source(source)).collect();
            render_all(&diags, &sources);
            return;
        }
    };
    let canonical = expr.to_string();
    match parse_query(&canonical) {
        Ok(again) => assert_eq!(
            again, expr,
            "canonical text {canonical:?} parses to another tree"
        ),
        Err(e) => panic!("canonical text {canonical:?} does not parse: {e:?}"),
    }
    let ctx = CheckContext {
        catalog: &engine.catalog,
        now: engine.now,
        library: &engine.library,
        source,
    };
    let checked = match check(&expr, &ctx) {
        Ok(c) => c,
        Err(diags) => {
            assert!(
                diags.iter().any(Diagnostic::is_error),
                "a failed check without an error"
            );
            render_all(&diags, &sources);
            return;
        }
    };
    render_all(&checked.warnings, &sources);
    let store = &engine.store;
    let plain = segq::exec::execute(&checked.plan, store);
    let optimized = optimize(checked.plan.clone(), Some(store));
    let fast = segq::exec::execute(&optimized, store);
    assert_eq!(plain, fast, "optimising changed the result of {text:?}");
    assert_eq!(
        segq::exec::count(&optimized, store),
        fast.len(),
        "count differs from execute for {text:?}"
    );
    let schema_only = optimize(checked.plan, None);
    assert_eq!(
        segq::exec::execute(&schema_only, store),
        plain,
        "schema-only optimising changed {text:?}"
    );
    let (analyzed, _) = segq::exec::analyze(&optimized, store);
    assert_eq!(analyzed, fast, "analyze differs from execute for {text:?}");
    let _ = segq::plan::explain::explain(&optimized, store, None);
    assert!(
        fast.max().is_none_or(|m| m < store.contacts.len),
        "rows beyond the table"
    );
}

// ------------------------------------------------------------- parse_file

/// A query file: parse (and parse with recovery); a file that parses
/// formats, and its formatted text parses to the same items and formats to
/// itself.
pub fn parse_file_check(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let sources = Sources::query(text);
    let (_, recovered) = segq::syntax::parse::parse_file_recovering(text);
    render_all(&recovered, &sources);
    let file = match parse_file(text) {
        Ok(file) => file,
        Err(diags) => {
            assert!(!diags.is_empty(), "a failed parse without diagnostics");
            render_all(&diags, &sources);
            return;
        }
    };
    assert!(
        recovered.is_empty(),
        "recovery reports errors in a file that parses: {recovered:?}"
    );
    let formatted = match segq::fmt::format_file(text) {
        Ok(f) => f,
        Err(e) => panic!("a file that parses does not format: {e:?}"),
    };
    let again = match parse_file(&formatted) {
        Ok(f) => f,
        Err(e) => panic!("formatted text {formatted:?} does not parse: {e:?}"),
    };
    assert_eq!(
        again.items, file.items,
        "formatting changed the items of {text:?} (formatted: {formatted:?})"
    );
    let twice = segq::fmt::format_file(&formatted).expect("formatted text formats");
    assert_eq!(
        twice, formatted,
        "formatting is not idempotent for {text:?}"
    );
}

// ------------------------------------------------------------ schema_toml

/// schema.toml text: parsed, or rejected with a located error.
pub fn schema_toml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match segq::schema::parse_schema(text) {
        Ok(schema) => {
            let _ = segq::plan::Catalog::from_schema(&schema);
        }
        Err(diags) => {
            assert!(!diags.is_empty(), "a rejected schema without diagnostics");
            render_all(&diags, &Sources::query(text));
        }
    }
}

// ---------------------------------------------------------------- ingest

/// A schema for CSV/JSONL inputs whose headers the seeds use.
pub const SCHEMA: &str = r#"[contacts]
key = "id"

[contacts.fields]
stage = { type = "enum", values = ["lead", "mql", "sql", "opportunity"], ordered = true }
score = "float"
replies = "int"
closed_on = { type = "date", format = "%m/%d/%y" }
seen_at = "datetime"
opted_in = "bool"
tags = { type = "set", separator = "|" }
"#;

/// The same, with a reference to accounts.
pub const SCHEMA_REF: &str = r#"[contacts]
key = "id"

[contacts.fields]
stage = { type = "enum", values = ["lead", "mql", "sql", "opportunity"], ordered = true }
score = "float"
tags = { type = "set" }
account_id = { type = "ref", table = "accounts" }
"#;

pub const ACCOUNTS_CSV: &str = "id,name,tier\na1,Acme,smb\na2,Beta,enterprise\n 7 ,Gamma,smb\n";

/// The first input byte chooses how a data file is loaded.
#[derive(Debug, Clone, Copy)]
pub struct IngestMode {
    pub skip_bad_rows: bool,
    pub schema: bool,
    pub accounts: bool,
}

impl IngestMode {
    pub fn from_byte(b: u8) -> IngestMode {
        IngestMode {
            skip_bad_rows: b & 1 != 0,
            schema: b & 2 != 0,
            accounts: b & 4 != 0,
        }
    }
}

thread_local! {
    /// One scratch directory per thread (tests run in parallel threads).
    static SCRATCH: tempfile::TempDir = tempfile::tempdir().expect("a temporary directory");
}

fn scratch() -> std::path::PathBuf {
    SCRATCH.with(|d| d.path().to_path_buf())
}

/// Bytes as `contacts.<ext>` (first byte: [`IngestMode`]), loaded; a load
/// that succeeds must survive `query all --format csv` and a reload.
fn ingest(data: &[u8], ext: &str) {
    let Some((&mode, body)) = data.split_first() else {
        return;
    };
    let mode = IngestMode::from_byte(mode);
    let dir = scratch().join(format!("in-{ext}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    std::fs::write(dir.join(format!("contacts.{ext}")), body).expect("write input");
    if mode.accounts {
        std::fs::write(dir.join("accounts.csv"), ACCOUNTS_CSV).expect("write accounts");
    }
    if mode.schema {
        std::fs::write(
            dir.join("schema.toml"),
            if mode.accounts { SCHEMA_REF } else { SCHEMA },
        )
        .expect("write schema");
    }
    let opts = LoadOptions {
        skip_bad_rows: mode.skip_bad_rows,
        progress: None,
    };
    let (store, report) = match ingest::load_path(&dir, &opts) {
        Ok(loaded) => loaded,
        Err(e) => {
            assert!(!e.message.is_empty(), "an error without a message");
            return;
        }
    };
    assert!(report.first_skipped.len() as u64 <= report.skipped);
    assert!(
        mode.skip_bad_rows || report.skipped == 0,
        "rows skipped without --skip-bad-rows"
    );
    // With SCHEMA_REF (no input formats), the export must load under the
    // same schema and accounts; with SCHEMA, `closed_on` is written in ISO
    // form, which its `format` does not read, so only inferred loads are checked.
    match (mode.schema, mode.accounts) {
        (false, false) => export_reload_identity(&store, &dir, &[]),
        (false, true) => export_reload_identity(&store, &dir, &["accounts.csv"]),
        (true, true) => export_reload_identity(&store, &dir, &["accounts.csv", "schema.toml"]),
        (true, false) => {}
    }
}

/// `query all --format csv`, loaded again (schema inferred), holds every
/// value of every contacts column: same names, same rows, same text,
/// missing where missing. `keep` names files of `dir` loaded again with the
/// export (schema.toml, accounts). (A table without columns has no CSV form.)
pub fn export_reload_identity(store: &Store, dir: &Path, keep: &[&str]) {
    if store.contacts.columns.is_empty() {
        return;
    }
    let fields = output::all_fields(store);
    let rows: Vec<u32> = store.contacts.all.iter().collect();
    let mut csv = Vec::new();
    output::write_rows(
        &mut csv,
        store,
        &fields,
        &rows,
        Format::Csv,
        rows.len() as u64,
    )
    .expect("write csv");
    let out = dir.join("export");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).expect("export dir");
    std::fs::write(out.join("contacts.csv"), &csv).expect("write export");
    for name in keep {
        std::fs::copy(dir.join(name), out.join(name)).expect("copy beside the export");
    }
    let (again, report) = match ingest::load_path(&out, &LoadOptions::default()) {
        Ok(loaded) => loaded,
        Err(e) => panic!(
            "the export does not load: {e}\n{}",
            String::from_utf8_lossy(&csv)
        ),
    };
    assert_eq!(report.skipped, 0);
    assert_same_cells(&store.contacts, &again.contacts, &csv);
}

/// Two tables hold the same columns and, cell by cell, the same text.
pub fn assert_same_cells(a: &Table, b: &Table, context: &[u8]) {
    let names = |t: &Table| t.columns.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(a),
        names(b),
        "columns differ after reload of\n{}",
        String::from_utf8_lossy(context)
    );
    assert_eq!(
        a.len,
        b.len,
        "row count differs after reload of\n{}",
        String::from_utf8_lossy(context)
    );
    for (i, (ca, cb)) in a.columns.iter().zip(&b.columns).enumerate() {
        let sep_a = &a.separators[i];
        let sep_b = &b.separators[i];
        for r in 0..a.len {
            let (x, y) = (ca.cell(r), cb.cell(r));
            let same = matches!(x, Cell::Missing) == matches!(y, Cell::Missing)
                && x.to_text(sep_a) == y.to_text(sep_b);
            assert!(
                same,
                "column `{}` row {r}: {x:?} became {y:?} after reload of\n{}",
                ca.name,
                String::from_utf8_lossy(context)
            );
        }
    }
}

pub fn csv_ingest(data: &[u8]) {
    ingest(data, "csv");
}

pub fn jsonl_ingest(data: &[u8]) {
    ingest(data, "jsonl");
}

// -------------------------------------------------------------- snapshots

/// Snapshot bytes. First byte even: the rest is a whole file, loaded as
/// is (header checks, checksum). Odd: the rest is the content, given a
/// valid header and checksum, so the fuzzer reaches the content parser. A
/// store that loads must answer queries on every column, print every
/// cell, and write a snapshot that loads to the same cells.
pub fn snapshot_load(data: &[u8]) {
    let Some((&mode, body)) = data.split_first() else {
        return;
    };
    let file = if mode & 1 == 1 {
        with_header(body)
    } else {
        body.to_vec()
    };
    let store = match segq::store::snapshot::from_bytes(&file) {
        Ok(store) => store,
        Err(e) => {
            assert!(!e.is_empty(), "an error without a message");
            return;
        }
    };
    exercise(store);
}

/// A snapshot file holding `content` behind a valid header.
pub fn with_header(content: &[u8]) -> Vec<u8> {
    // magic, version, reserved, content length, content hash (snapshot.rs)
    let mut file = segq::store::snapshot::MAGIC.to_vec();
    file.extend_from_slice(&segq::store::snapshot::VERSION.to_le_bytes());
    file.extend_from_slice(&[0; 20]);
    file[16..24].copy_from_slice(&(content.len() as u64).to_le_bytes());
    file[24..32].copy_from_slice(&xxhash_rust::xxh3::xxh3_64(content).to_le_bytes());
    file.extend_from_slice(content);
    file
}

/// Queries on every column of a loaded store, every cell printed, and a
/// snapshot round trip.
fn exercise(store: Store) {
    let mut queries = vec!["all".to_string(), "not all".to_string()];
    for (prefix, table) in [
        ("", Some(&store.contacts)),
        ("account.", store.accounts.as_ref()),
    ] {
        let Some(table) = table else { continue };
        for c in &table.columns {
            if c.name.contains('`') || c.name.is_empty() {
                continue;
            }
            let f = format!("{prefix}`{}`", c.name);
            queries.push(format!("{f} is present"));
            queries.push(format!("{f} is duplicate"));
            let cell = (0..table.len)
                .map(|r| c.cell(r))
                .find(|v| *v != Cell::Missing);
            match (cell, &c.ty) {
                (Some(Cell::Text(t)), _) => queries.push(format!(
                    "{f} in [{t:?}, \"zz\"] or {f} contains \"a\" or {f} matches \"^.\""
                )),
                (Some(Cell::Set(m)), _) => queries.push(format!(
                    "{f} has any [{:?}] and {f} has none [\"zz\"]",
                    m[0]
                )),
                (Some(Cell::Bool(_)), _) => queries.push(format!("{f} = true or {f} = false")),
                (Some(Cell::Date(_) | Cell::DateTime(_)), _) => {
                    queries.push(format!("{f} within 30d or {f} before 2020-01-01"))
                }
                (Some(Cell::Int(_) | Cell::Float(_)), _) => {
                    queries.push(format!("{f} between -5 and 5000 or {f} < 0"))
                }
                _ => {}
            }
        }
    }
    if store.link.is_some() {
        queries.push("account has (all) or account count (all) >= 2".into());
    }
    let fields = output::all_fields(&store);
    let rows: Vec<u32> = store.contacts.all.iter().collect();
    for format in [Format::Csv, Format::Jsonl, Format::Ids, Format::Table] {
        let mut out = Vec::new();
        output::write_rows(&mut out, &store, &fields, &rows, format, rows.len() as u64)
            .expect("write rows");
    }
    let again = segq::store::snapshot::from_bytes(&segq::store::snapshot::to_bytes(&store))
        .expect("a loaded store writes a snapshot that loads");
    assert_same_cells(&store.contacts, &again.contacts, b"(snapshot)");
    let mut engine = Engine::new(store, 0);
    let mut other = Engine::new(again, 0);
    for q in &queries {
        if let Ok(c) = engine.compile(q) {
            let rows = engine.execute(&c.plan);
            assert!(
                rows.max().is_none_or(|m| m < engine.store.contacts.len),
                "rows beyond the table for {q}"
            );
            // (No `count == execute` here: a crafted snapshot's indexes may
            // disagree with its values — SECURITY.md — but never reach
            // outside the table.)
            assert!(
                engine.count(&c.plan) <= u64::from(engine.store.contacts.len),
                "count beyond the table for {q}"
            );
            let c2 = other
                .compile(q)
                .expect("the reloaded store checks the same query");
            assert_eq!(
                other.execute(&c2.plan),
                rows,
                "the reloaded store answers {q} differently"
            );
            let _ = segq::plan::explain::explain(&c.plan, &engine.store, None);
        }
    }
}
