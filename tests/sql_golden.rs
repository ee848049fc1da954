//! The generated SQL text per dialect for a representative query set, the
//! CREATE TABLE statements, a segment library as views and the load script,
//! compared with tests/golden/sql/<dialect>.sql. Compiled against the
//! generator's schema alone (no data, so no estimate-based reordering).
//!
//! `UPDATE_GOLDEN=1 cargo test --test sql_golden` rewrites the files.

use segq::diagnostic::Sources;
use segq::plan::check::{check, check_segment, CheckContext, SegmentChecker};
use segq::plan::{optimize, Catalog, Plan};
use segq::schema::parse_schema;
use segq::segments::Library;
use segq::sql::{self, ddl, dialect, Dialect, Layout};
use std::path::Path;

const NOW: &str = "2026-03-15T13:45:30Z";

/// (what it shows, query)
const QUERIES: &[(&str, &str)] = &[
    ("enum list and int", "role in [decision_maker, champion] and replies_30d > 2"),
    (
        "nesting; `not` of a nullable column",
        "stage = opportunity and (seniority in [vp, c_level] or meetings_30d >= 1) and not region = emea",
    ),
    (
        "range, relative date (rounded to whole days), substring, presence, duplicates",
        "company_size between 200 and 5000 and last_activity within 30d and title contains \"head of\" and email is present and not email is duplicate",
    ),
    ("sets and an account field", "tags has any [webinar, trial] and account.industry = software"),
    (
        "account has; an ordered enum",
        "account has (role = decision_maker and replies_30d > 0) and stage >= opportunity",
    ),
    ("a count that holds at zero", "account count (replies_30d > 0) = 0"),
    (
        "a count that does not; has all under not",
        "account count (role = champion) >= 2 and not tags has all [webinar, trial]",
    ),
    (
        "regex, prefix and suffix",
        "title matches \"^(VP|Head) of\\\\b\" and title starts_with \"vp\" or title ends_with \"sales\"",
    ),
    (
        "!=, not in and not between require presence",
        "role != champion and seniority not in [ic, manager] and score not between 10 and 20",
    ),
    (
        "date-times, dates, bools, has none",
        "created_at > 2w ago and last_activity before 2026-01-01 and opted_in and tags has none [churn_risk]",
    ),
    ("quoting", "email is missing or title = \"O'Neil \\\"Ops\\\" \\\\ lead\" or title contains \"100%_\\n\""),
    (
        "account fields: ordered enum, int, duplicates; is missing",
        "account.tier >= mid_market and account.employees > 1000 and account.domain is duplicate and not account.name is missing",
    ),
];

const LIBRARY: &str = "\
segment decision_makers = role in [decision_maker, economic_buyer];
segment hot = @decision_makers and @engaged and stage >= opportunity;
segment engaged = replies_30d > 2 or meetings_30d >= 1;
";

fn golden(d: Dialect) -> String {
    let schema = parse_schema(&segq::gen::schema_toml()).expect("generator schema parses");
    let catalog = Catalog::from_schema(&schema);
    let layout = Layout::from_schema(&schema).expect("layout");
    let now = segq::time::parse_now(NOW).unwrap();
    let mut sources = Sources::new();
    let mut library = Library::new();
    let lib_source = sources.add("library.seg", LIBRARY);
    let mut errors = Vec::new();
    library.add_file(
        lib_source,
        "library.seg".into(),
        segq::syntax::parse_file(LIBRARY).unwrap(),
        &mut errors,
    );
    assert!(errors.is_empty());

    let mut out = format!("-- segq sql --dialect {d} (generated schema, --now {NOW})\n\n");
    out.push_str("-- ==== segq sql --ddl\n");
    out.push_str(&ddl::ddl(&layout, d));
    for (i, (what, q)) in QUERIES.iter().enumerate() {
        let source = sources.add("<query>", *q);
        let expr = segq::syntax::parse_query(q).unwrap_or_else(|e| panic!("{q}: {e:?}"));
        let ctx = CheckContext {
            catalog: &catalog,
            now,
            library: &library,
            source,
        };
        let plan = optimize(
            check(&expr, &ctx)
                .unwrap_or_else(|e| panic!("{q}: {e:?}"))
                .plan,
            None,
        );
        out.push_str(&format!("\n-- ==== q{}: {what}\n-- {q}\n", i + 1));
        out.push_str(&sql::compile(&plan, &layout, d, false));
        out.push_str(";\n");
        if i == 0 {
            out.push_str(&format!("\n-- ==== q{} with --count\n", i + 1));
            out.push_str(&sql::compile(&plan, &layout, d, true));
            out.push_str(";\n");
        }
    }
    let mut checker = SegmentChecker::default();
    let mut plans = Vec::new();
    for name in library.names() {
        let ctx = CheckContext {
            catalog: &catalog,
            now,
            library: &library,
            source: lib_source,
        };
        let Plan::Segment(s) = check_segment(name, &ctx, &mut checker)
            .expect("segment checks")
            .plan
        else {
            panic!("{name}")
        };
        plans.push((name.to_string(), optimize(*s.plan, None)));
    }
    let ordered: Vec<(String, Plan)> = sql::view_order(&plans)
        .into_iter()
        .map(|i| plans[i].clone())
        .collect();
    out.push_str("\n-- ==== segq sql --segments (dependencies first)\n");
    out.push_str(&sql::compile_views(&ordered, &layout, d));
    out.push_str("\n-- ==== load.sql written by segq export\n");
    out.push_str(&ddl::load_script(&layout, d).replace(
        &ddl::ddl(&layout, d),
        "-- (the CREATE TABLE statements above)\n",
    ));
    out
}

#[test]
fn sql_golden_text_per_dialect() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/sql");
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut stale = Vec::new();
    for d in dialect::ALL {
        let text = golden(d);
        let path = dir.join(format!("{d}.sql"));
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &text).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&path).unwrap_or_default();
        if want != text {
            let line = want
                .lines()
                .zip(text.lines())
                .position(|(a, b)| a != b)
                .unwrap_or(0)
                + 1;
            stale.push(format!("{} differs from line {line}", path.display()));
        }
    }
    assert!(
        stale.is_empty(),
        "{}\n(UPDATE_GOLDEN=1 cargo test --test sql_golden rewrites them)",
        stale.join("\n")
    );
}

#[test]
fn sql_golden_views_come_after_their_dependencies() {
    let text = golden(Dialect::Trino);
    let at = |name: &str| {
        text.find(&format!("VIEW \"{name}\" AS"))
            .unwrap_or_else(|| panic!("{name}"))
    };
    assert!(at("decision_makers") < at("hot"));
    assert!(at("engaged") < at("hot"));
    assert!(text.contains("IN (SELECT id FROM \"engaged\")"), "{text}");
}

/// Runs the real binary in the repository root.
fn segq(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_segq"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output()
        .expect("segq runs");
    let text = |b: &[u8]| String::from_utf8_lossy(b).to_string();
    (
        out.status.code().unwrap_or(-1),
        text(&out.stdout),
        text(&out.stderr),
    )
}

const MESSY: &str = "tests/fixtures/sql_messy";

#[test]
fn sql_cli_compiles_a_query_against_data_or_a_schema() {
    let (code, out, err) = segq(&[
        "sql",
        "--data",
        MESSY,
        "--dialect",
        "postgres",
        "--count",
        "tags has webinar",
    ]);
    assert_eq!(
        (code, out.as_str()),
        (
            0,
            "SELECT count(*)\nFROM contacts AS c\nWHERE 'webinar' = ANY(c.tags)\n"
        ),
        "{err}"
    );
    let schema = format!("{MESSY}/schema.toml");
    let (code, out, err) = segq(&[
        "sql",
        "--schema",
        &schema,
        "--dialect",
        "trino",
        "not role = champion",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.ends_with("WHERE NOT (c.\"role\" IS NOT NULL AND c.\"role\" = 'champion')\n"),
        "{out}"
    );
}

#[test]
fn sql_cli_reports_query_and_usage_errors() {
    let (code, out, err) = segq(&["sql", "--data", MESSY, "rol = x"]);
    assert_eq!((code, out.as_str()), (1, ""));
    assert!(
        err.contains("unknown field `rol`") && err.contains("did you mean `role`?"),
        "{err}"
    );
    let schema = format!("{MESSY}/schema.toml");
    let (code, _, err) = segq(&["sql", "--schema", &schema]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("nothing to compile"), "{err}");
    let (code, _, err) = segq(&["sql", "--dialect", "oracle", "all"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("possible values: sqlite, duckdb, postgres, trino, spark, clickhouse"),
        "{err}"
    );
}

#[test]
fn sql_cli_prints_tables_and_views() {
    let (code, out, err) = segq(&["sql", "--data", MESSY, "--dialect", "sqlite", "--ddl"]);
    assert_eq!(code, 0, "{err}");
    for table in [
        "CREATE TABLE accounts (",
        "CREATE TABLE contacts (",
        "CREATE TABLE contact_tags (",
        "CREATE TABLE account_labels (",
    ] {
        assert!(out.contains(table), "{table}:\n{out}");
    }
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib.seg");
    std::fs::write(
        &lib,
        "segment b = @a and opted_in;\nsegment a = role = champion;\n",
    )
    .unwrap();
    let (code, out, err) = segq(&[
        "sql",
        "--data",
        MESSY,
        "--dialect",
        "clickhouse",
        "--segments",
        lib.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let a = out.find("CREATE OR REPLACE VIEW `a` AS").expect("view a");
    let b = out.find("CREATE OR REPLACE VIEW `b` AS").expect("view b");
    assert!(
        a < b && out.contains("c.id IN (SELECT id FROM `a`)"),
        "{out}"
    );
}

#[test]
fn sql_cli_exports_the_layout_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let (code, _, err) = segq(&[
        "export",
        "--data",
        MESSY,
        "--dialect",
        "sqlite",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let mut names: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    // no temporary files are left behind
    assert_eq!(
        names,
        [
            "account_labels.csv",
            "accounts.csv",
            "contact_tags.csv",
            "contacts.csv",
            "load.sql"
        ]
    );
    let contacts = std::fs::read_to_string(out_dir.join("contacts.csv")).unwrap();
    assert_eq!(contacts.lines().next(), Some("id,email,name,title,role,stage,score,replies_30d,last_activity,created_at,opted_in,account_id,zip"));
    let load = std::fs::read_to_string(out_dir.join("load.sql")).unwrap();
    assert!(
        load.contains(".import --csv --skip 1 contact_tags.csv contact_tags"),
        "{load}"
    );
    let (code, _, err) = segq(&[
        "export",
        "--data",
        "no/such/dir",
        "--dialect",
        "duckdb",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
}
