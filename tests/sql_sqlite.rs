//! Proof by execution: random queries compiled to the SQLite dialect and run
//! by SQLite (rusqlite, bundled) on the data `segq export --dialect sqlite`
//! writes must return exactly the contacts the engine returns.
//!
//! SQLite has no built-in REGEXP: like the sqlite3 shell (which ships one),
//! the harness registers `regexp(pattern, text)`, here with Rust's regex
//! crate, so `matches` means what it means in segq.

mod sql_support;

use rusqlite::functions::FunctionFlags;
use rusqlite::types::{Value, ValueRef};
use rusqlite::Connection;
use segq::engine::Engine;
use segq::plan::check::{check, CheckContext};
use segq::sql::{self, ddl, Dialect, Layout};
use segq::store::ingest::{load_path, LoadOptions};
use segq::store::Store;
use sql_support::{define_segments, engine_ids, QueryGen, KINDS};
use std::path::Path;

const NOW: &str = "2026-03-15T13:45:30Z";

fn sqlite_with_regexp() -> Connection {
    let conn = Connection::open_in_memory().expect("sqlite opens");
    conn.create_scalar_function(
        "regexp",
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let re = ctx.get_or_create_aux(
                0,
                |pattern| -> Result<regex::Regex, Box<dyn std::error::Error + Send + Sync>> {
                    Ok(regex::Regex::new(pattern.as_str()?)?)
                },
            )?;
            Ok(match ctx.get_raw(1) {
                ValueRef::Null => None,
                v => Some(
                    re.is_match(
                        v.as_str()
                            .map_err(|e| rusqlite::Error::UserFunctionError(e.into()))?,
                    ),
                ),
            })
        },
    )
    .expect("regexp registers");
    conn
}

/// Exports the store for SQLite and loads the files as `load.sql` would
/// (`.import` of text into typed columns, then empty fields → NULL).
fn load_into_sqlite(store: &Store, dir: &Path) -> Connection {
    let written = sql::export::export(store, Dialect::Sqlite, dir).expect("export");
    assert!(written.files.iter().any(|f| f.ends_with("load.sql")));
    let layout = Layout::from_store(store).expect("layout");
    let conn = sqlite_with_regexp();
    conn.execute_batch(&ddl::ddl(&layout, Dialect::Sqlite))
        .expect("ddl runs");
    conn.execute_batch("BEGIN").unwrap();
    for t in ddl::tables(&layout, Dialect::Sqlite) {
        let mut reader = csv::Reader::from_path(dir.join(t.file_name())).expect("csv exists");
        let header: Vec<String> = reader
            .headers()
            .unwrap()
            .iter()
            .map(str::to_string)
            .collect();
        let names: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(header, names, "{} header", t.name);
        let marks: Vec<String> = (1..=names.len()).map(|i| format!("?{i}")).collect();
        let mut insert = conn
            .prepare(&format!(
                "INSERT INTO {} VALUES ({})",
                t.name,
                marks.join(", ")
            ))
            .unwrap();
        for record in reader.records() {
            let record = record.expect("csv reads");
            let values: Vec<Option<&str>> = record
                .iter()
                .map(|f| (!f.is_empty()).then_some(f))
                .collect();
            insert
                .execute(rusqlite::params_from_iter(values))
                .expect("row inserts");
        }
    }
    conn.execute_batch("COMMIT").unwrap();
    conn
}

fn sqlite_ids(conn: &Connection, sql: &str) -> Result<Vec<String>, String> {
    let mut stmt = conn.prepare(sql).map_err(|e| e.to_string())?;
    let rows = stmt
        .query_map([], |row| row.get::<_, Value>(0))
        .map_err(|e| e.to_string())?;
    let mut ids = Vec::new();
    for v in rows {
        ids.push(match v.map_err(|e| e.to_string())? {
            Value::Integer(i) => i.to_string(),
            Value::Text(t) => t,
            Value::Real(f) => f.to_string(),
            other => format!("{other:?}"),
        });
    }
    ids.sort();
    Ok(ids)
}

struct Outcome {
    queries: usize,
    failures: Vec<String>,
    nonempty: usize,
    kinds: std::collections::BTreeSet<&'static str>,
}

/// Runs `n` random queries on `store`, comparing engine and SQLite.
/// `SQL_DIFF_SEED=k` shifts every seed (for soak runs: other queries, same checks).
fn differential(store: Store, seed: u64, n: usize) -> Outcome {
    let shift: u64 = std::env::var("SQL_DIFF_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let seed = seed + shift * 1000;
    let dir = tempfile::tempdir().unwrap();
    let conn = load_into_sqlite(&store, dir.path());
    let layout = Layout::from_store(&store).unwrap();
    let now = segq::time::parse_now(NOW).unwrap();
    let mut engine = Engine::new(store, now);
    let mut gen = QueryGen::new(&engine.store, seed);
    let (segments, _) = define_segments(&mut engine, &mut gen, 6);
    let mut out = Outcome {
        queries: 0,
        failures: Vec::new(),
        nonempty: 0,
        kinds: Default::default(),
    };

    // Segment libraries: one view per segment, read back through the views.
    let mut plans = Vec::new();
    for name in &segments {
        let c = engine
            .compile(&format!("@{name}"))
            .expect("segment compiles");
        let segq::plan::Plan::Segment(s) = c.plan else {
            panic!("{name}: {:?}", c.plan)
        };
        plans.push((name.clone(), *s.plan));
    }
    let order: Vec<_> = sql::view_order(&plans)
        .into_iter()
        .map(|i| plans[i].clone())
        .collect();
    conn.execute_batch(&sql::compile_views(&order, &layout, Dialect::Sqlite))
        .expect("views create");
    for name in &segments {
        let plan = engine.compile(&format!("@{name}")).unwrap().plan;
        let want = engine_ids(&engine, &engine.execute(&plan));
        let key = Dialect::Sqlite.ident(&layout.contacts.key);
        let got = sqlite_ids(&conn, &format!("SELECT {key} FROM \"{name}\"")).unwrap();
        if got != want {
            out.failures.push(format!(
                "view {name}: sqlite {} rows, engine {}",
                got.len(),
                want.len()
            ));
        }
    }

    for i in 0..n {
        let query = gen.query();
        let compiled = engine
            .compile(&query)
            .unwrap_or_else(|d| panic!("generated query fails to check: {query}\n{d:?}"));
        let want = engine.execute(&compiled.plan);
        // Half the time, compile the checked plan before optimisation.
        let plan = if i % 2 == 0 {
            compiled.plan.clone()
        } else {
            let expr = segq::syntax::parse_query(&query).unwrap();
            let ctx = CheckContext {
                catalog: &engine.catalog,
                now: engine.now,
                library: &engine.library,
                source: compiled.source,
            };
            check(&expr, &ctx).unwrap().plan
        };
        out.queries += 1;
        let total = engine.store.contacts.len as u64;
        if !want.is_empty() && want.len() < total {
            out.nonempty += 1;
        }
        if i % 5 == 0 {
            let sql = sql::compile(&plan, &layout, Dialect::Sqlite, true);
            let got: Result<u64, String> = conn
                .query_row(&sql, [], |r| r.get::<_, i64>(0))
                .map(|n| n as u64)
                .map_err(|e| e.to_string());
            if got != Ok(want.len()) {
                out.failures.push(format!(
                    "{query}\n  count: sqlite {got:?}, engine {}\n{sql}",
                    want.len()
                ));
            }
            continue;
        }
        let sql = sql::compile(&plan, &layout, Dialect::Sqlite, false);
        let want = engine_ids(&engine, &want);
        match sqlite_ids(&conn, &sql) {
            Err(e) => out
                .failures
                .push(format!("{query}\n  sqlite error: {e}\n{sql}")),
            Ok(got) if got != want => {
                let only_sql: Vec<&String> = got
                    .iter()
                    .filter(|g| want.binary_search(g).is_err())
                    .take(5)
                    .collect();
                let only_engine: Vec<&String> = want
                    .iter()
                    .filter(|w| got.binary_search(w).is_err())
                    .take(5)
                    .collect();
                out.failures.push(format!(
                    "{query}\n  sqlite {} rows, engine {}; only sqlite {only_sql:?}, only engine {only_engine:?}\n{sql}",
                    got.len(),
                    want.len()
                ));
            }
            Ok(_) => {}
        }
    }
    out.kinds = gen.kinds;
    out
}

#[track_caller]
fn assert_agrees(name: &str, o: &Outcome, all_kinds: bool) {
    let shown: Vec<&String> = o.failures.iter().take(4).collect();
    assert!(
        o.failures.is_empty(),
        "{name}: {} of {} queries differ:\n{}",
        o.failures.len(),
        o.queries,
        shown
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n\n")
    );
    assert!(
        o.nonempty * 4 >= o.queries,
        "{name}: only {} of {} queries select some but not all",
        o.nonempty,
        o.queries
    );
    if all_kinds {
        let missing: Vec<&&str> = KINDS.iter().filter(|k| !o.kinds.contains(*k)).collect();
        assert!(missing.is_empty(), "{name}: never generated {missing:?}");
    }
}

fn fixture(name: &str) -> Store {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    load_path(&path, &LoadOptions::default())
        .expect("fixture loads")
        .0
}

#[test]
fn sql_sqlite_agrees_with_the_engine_on_messy_data() {
    let o = differential(fixture("sql_messy"), 1, 1600);
    assert_agrees("sql_messy", &o, true);
}

#[test]
fn sql_sqlite_agrees_with_the_engine_on_generated_data() {
    let now = segq::time::parse_now(NOW).unwrap();
    let store = segq::store::ingest::generated(&segq::gen::GenConfig {
        contacts: 2500,
        accounts: 100,
        seed: 11,
        today_days: now / segq::time::MICROS_PER_DAY,
    });
    let o = differential(store, 2, 800);
    assert_agrees("generated", &o, true);
}

#[test]
fn sql_sqlite_agrees_with_the_engine_on_a_text_keyed_export() {
    // crm: a string contact key, an int account key named account_id, US dates.
    let o = differential(fixture("crm"), 3, 300);
    assert_agrees("crm", &o, false);
}
