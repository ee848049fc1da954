//! Property tests (proptest), fast enough for every `cargo test`:
//!
//! - any text, and any jumble of the language's own tokens, and any edit of
//!   a valid query, goes through parse → check → optimise → execute (and
//!   diagnostic rendering) without a panic, with the checks of the
//!   `parse_check` fuzz target (fuzz/src/lib.rs): the optimised plan gives
//!   the unoptimised plan's rows, and canonical text re-parses to the same
//!   tree. Well-formed random queries against a reference evaluator are
//!   tests/differential.rs; Display round trips of well-formed trees are
//!   the parser's own tests.
//! - load → `query all --format csv` → load is the identity: random CSV
//!   files (quotes, separators, newlines, CRLF, BOM, empty and blank cells,
//!   non-ASCII, numbers, dates, booleans) load with every value kept after
//!   the README's documented normalisation, and the export loads to the
//!   same cells again (missing stays missing).
//!
//! `PROPTEST_CASES=n` scales every property (the defaults are below).

#[path = "../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod checks;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use segq::schema::FieldType;
use segq::store::ingest::{load_path, LoadOptions};
use segq::store::Cell;

/// Cases per property: the default, unless `PROPTEST_CASES` says otherwise.
fn runner(default_cases: u32) -> TestRunner {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default_cases);
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

fn check_query(text: &str) -> Result<(), TestCaseError> {
    let outcome = std::panic::catch_unwind(|| checks::parse_check(text.as_bytes()));
    prop_assert!(outcome.is_ok(), "panicked on {text:?}");
    Ok(())
}

// ---------------------------------------------------------------- queries

/// Words of the language and of the fixture's data: every field (contacts
/// and `account.`), keywords in odd cases, operators, values of each type.
fn vocabulary() -> Vec<String> {
    let store = &checks::fixture().engine.store;
    let mut words: Vec<String> = Vec::new();
    for c in &store.contacts.columns {
        words.push(c.name.clone());
        if let Some(values) = c.dictionary() {
            words.extend(values.iter().take(8).cloned());
        }
    }
    for c in &store.accounts.as_ref().expect("accounts").columns {
        words.push(format!("account.{}", c.name));
    }
    // every keyword, then spellings and symbols
    words.extend(segq::syntax::ast::KEYWORDS.iter().map(|s| s.to_string()));
    let fixed = [
        "AND",
        "Not",
        "IS NOT NULL",
        "=",
        "!=",
        "<",
        "<=",
        ">",
        ">=",
        "==",
        "(",
        ")",
        "[",
        "]",
        ",",
        ";",
        "@",
        "@hot",
        "@engaged",
        "@decision_makers",
        "@nope",
        "`job title`",
        "`",
        "#",
        "# comment\n",
        "\n",
        "-",
        ".",
        "0",
        "-1",
        "3",
        "1_000",
        "2.5",
        "-0.0",
        "1e3",
        "99999999999999999999",
        "9223372036854775807",
        "30d",
        "12h",
        "2w",
        "3mo",
        "1y",
        "0d",
        "100000000y",
        "2026-01-31",
        "2026-02-30",
        "0000-01-01",
        "9999-12-31",
        "2026-01-31T09:30:00Z",
        "2026-01-31T09:30:00+02:00",
        "\"head of\"",
        "'x'",
        "\"\\\"q\\\"\"",
        "\"\\n\\t\\\\\"",
        "\"(?i)^vp\"",
        "\"(unclosed\"",
        "\"(a*)*b\"",
        "\"\\\\b\\\\w+\"",
        "\"\"",
        "\"",
        "'",
        "é",
        "東京",
        "🎉",
        "\u{0}",
        "\u{feff}",
    ];
    words.extend(fixed.iter().map(|s| s.to_string()));
    words
}

/// A query assembled from vocabulary words, separated by nothing, spaces
/// or newlines.
fn token_soup(words: Vec<String>) -> impl Strategy<Value = String> {
    let word = prop::sample::select(words);
    let sep = prop::sample::select(vec!["", " ", " ", " ", "\n", "  "]);
    prop::collection::vec((word, sep), 0..24).prop_map(|parts| {
        let mut out = String::new();
        for (w, s) in parts {
            out.push_str(&w);
            out.push_str(s);
        }
        out
    })
}

#[test]
fn props_any_text_never_panics() {
    runner(1000)
        .run(&any::<String>(), |text| check_query(&text))
        .unwrap();
}

#[test]
fn props_token_soup_never_panics() {
    runner(2000)
        .run(&token_soup(vocabulary()), |text| check_query(&text))
        .unwrap();
}

/// Values that fit a field of type `ty`, as query text.
fn values_for(ty: &FieldType, dictionary: Option<&[String]>) -> Vec<String> {
    let mut v: Vec<String> = match ty {
        FieldType::Int | FieldType::Float => [
            "0",
            "-3",
            "2",
            "2.5",
            "1_000",
            "70",
            "1e2",
            "9223372036854775807",
        ]
        .map(String::from)
        .to_vec(),
        FieldType::Date | FieldType::DateTime => [
            "2026-01-31",
            "2026-11-01T09:30:00Z",
            "today",
            "30d ago",
            "1y ago",
            "2w",
            "0000-01-01",
        ]
        .map(String::from)
        .to_vec(),
        FieldType::Bool => vec!["true".into(), "false".into()],
        _ => [
            "\"head of\"",
            "\"\"",
            "'vp'",
            "\"(?i)^v\"",
            "\"(a*)*b\"",
            "\"é\"",
        ]
        .map(String::from)
        .to_vec(),
    };
    if let Some(d) = dictionary {
        v.extend(d.iter().take(6).cloned());
    }
    v
}

/// A predicate on one field: an operator and values that usually fit its type.
fn predicate(field: String, ty: FieldType, values: Vec<String>) -> BoxedStrategy<String> {
    let any_value: Vec<String> = ["1", "x", "2026-01-31", "30d", "true", "\"s\""]
        .map(String::from)
        .to_vec();
    let value =
        prop_oneof![4 => prop::sample::select(values), 1 => prop::sample::select(any_value)]
            .boxed();
    let list =
        prop::collection::vec(value.clone(), 1..4).prop_map(|vs| format!("[{}]", vs.join(", ")));
    let cmp = prop::sample::select(vec!["=", "!=", "<", "<=", ">", ">="]);
    let unary = prop::sample::select(vec![
        "is missing",
        "is present",
        "is duplicate",
        "is null",
        "is not null",
    ]);
    let text_op = prop::sample::select(vec!["contains", "starts_with", "ends_with", "matches"]);
    let has = prop::sample::select(vec!["has", "has any", "has all", "has none"]);
    let time_op = prop::sample::select(vec!["within", "before", "after"]);
    let f = field.clone();
    let mut forms: Vec<BoxedStrategy<String>> = vec![
        (cmp, value.clone())
            .prop_map(move |(op, v)| format!("{f} {op} {v}"))
            .boxed(),
        {
            let f = field.clone();
            (any::<bool>(), list.clone())
                .prop_map(move |(neg, l)| format!("{f} {}in {l}", if neg { "not " } else { "" }))
                .boxed()
        },
        {
            let f = field.clone();
            (value.clone(), value.clone())
                .prop_map(move |(a, b)| format!("{f} between {a} and {b}"))
                .boxed()
        },
        {
            let f = field.clone();
            unary.prop_map(move |u| format!("{f} {u}")).boxed()
        },
        {
            let f = field.clone();
            (text_op, value.clone())
                .prop_map(move |(op, v)| format!("{f} {op} {v}"))
                .boxed()
        },
        {
            let f = field.clone();
            (has, list)
                .prop_map(move |(op, l)| format!("{f} {op} {l}"))
                .boxed()
        },
        {
            let f = field.clone();
            (time_op, value)
                .prop_map(move |(op, v)| format!("{f} {op} {v}"))
                .boxed()
        },
    ];
    if ty == FieldType::Bool {
        forms.push(Just(field).boxed());
    }
    prop::strategy::Union::new(forms).boxed()
}

/// Random queries shaped like the grammar: predicates on every field (and
/// account fields) joined by and/or/not, parentheses, `account has`,
/// `account count` and segment references.
fn shaped_query() -> BoxedStrategy<String> {
    let store = &checks::fixture().engine.store;
    let mut leaves: Vec<BoxedStrategy<String>> = Vec::new();
    for (prefix, table) in [
        ("", &store.contacts),
        ("account.", store.accounts.as_ref().expect("accounts")),
    ] {
        for c in &table.columns {
            let values = values_for(&c.ty, c.dictionary());
            leaves.push(predicate(
                format!("{prefix}{}", c.name),
                c.ty.clone(),
                values,
            ));
        }
    }
    leaves.push(
        prop::sample::select(vec![
            "all",
            "none",
            "@hot",
            "@engaged",
            "segment churned",
            "@nope",
            "nope = 1",
        ])
        .prop_map(String::from)
        .boxed(),
    );
    let leaf = prop::strategy::Union::new(leaves);
    leaf.prop_recursive(4, 24, 3, |inner| {
        let op = prop::sample::select(vec![" and ", " or ", " AND ", "\nor "]);
        let cmp = prop::sample::select(vec!["=", "<", ">=", "!="]);
        prop_oneof![
            3 => (inner.clone(), op, inner.clone()).prop_map(|(a, op, b)| format!("{a}{op}{b}")),
            1 => inner.clone().prop_map(|q| format!("not {q}")),
            1 => inner.clone().prop_map(|q| format!("({q})")),
            1 => inner.clone().prop_map(|q| format!("account has ({q})")),
            1 => (inner, cmp, 0u32..4).prop_map(|(q, op, n)| format!("account count ({q}) {op} {n}")),
        ]
    })
    .boxed()
}

#[test]
fn props_random_queries_never_panic() {
    let (parsed, checked) = (std::cell::Cell::new(0u32), std::cell::Cell::new(0u32));
    let engine = &checks::fixture().engine;
    let mut runner = runner(2000);
    runner
        .run(&shaped_query(), |text| {
            if let Ok(expr) = segq::syntax::parse_query(&text) {
                parsed.set(parsed.get() + 1);
                let ctx = segq::plan::CheckContext {
                    catalog: &engine.catalog,
                    now: engine.now,
                    library: &engine.library,
                    source: 0,
                };
                if segq::plan::check(&expr, &ctx).is_ok() {
                    checked.set(checked.get() + 1);
                }
            }
            check_query(&text)
        })
        .unwrap();
    // The generator must reach the checker and the executor, not only the parser.
    let cases = runner.config().cases;
    eprintln!(
        "random queries: {cases} cases, {} parsed, {} checked",
        parsed.get(),
        checked.get()
    );
    assert!(
        parsed.get() * 2 >= cases && checked.get() * 10 >= cases,
        "{} parsed, {} checked",
        parsed.get(),
        checked.get()
    );
}

/// Valid queries of every form, from the README's tour and queries/.
const VALID: &[&str] = &[
    "role in [decision_maker, champion] and replies_30d > 2",
    "stage = opportunity and (seniority in [vp, c_level] or meetings_30d >= 1) and not region = emea",
    "company_size between 200 and 5000 and last_activity within 30d",
    "title contains \"head of\" and email is present and not email is duplicate",
    "tags has any [webinar, trial] and not tags has pricing_page",
    "account has (role = decision_maker and replies_30d > 0) and @hot",
    "account count (replies_30d > 0) <= 1 or account.tier = enterprise",
    "last_activity before 180d ago or last_activity is missing or created_at after 2026-01-01T09:30:00Z",
    "title matches \"^(VP|Vice President)\\b\" and opted_in and score >= 70.5",
    "region != emea and stage not in [lead, mql] and score not between 10 and 20 and tags has none [trial]",
];

/// An edit of a valid query: delete, insert or replace a few characters.
fn edited_query() -> impl Strategy<Value = String> {
    let edit = (
        0usize..400,
        0usize..6,
        prop::sample::select(vec![
            "", "(", ")", "[", "]", "\"", " not ", " and ", ",", "@", "=", "1", "é", "`",
        ]),
    );
    (
        prop::sample::select(VALID.to_vec()),
        prop::collection::vec(edit, 1..4),
    )
        .prop_map(|(q, edits)| {
            let mut chars: Vec<char> = q.chars().collect();
            for (at, len, insert) in edits {
                let at = at % (chars.len() + 1);
                let end = (at + len).min(chars.len());
                chars.splice(at..end, insert.chars());
            }
            chars.into_iter().collect()
        })
}

#[test]
fn props_edited_queries_never_panic() {
    runner(2000)
        .run(&edited_query(), |text| check_query(&text))
        .unwrap();
}

#[test]
fn props_valid_queries_run() {
    let engine = &checks::fixture().engine;
    for q in VALID {
        let mut sources = engine.sources.clone();
        let source = sources.add("<query>", *q);
        let expr = segq::syntax::parse_query(q).unwrap_or_else(|e| panic!("{q}: {e:?}"));
        let ctx = segq::plan::CheckContext {
            catalog: &engine.catalog,
            now: engine.now,
            library: &engine.library,
            source,
        };
        assert!(segq::plan::check(&expr, &ctx).is_ok(), "{q} does not check");
        checks::parse_check(q.as_bytes());
    }
}

// ------------------------------------------------------------ CSV round trip

#[derive(Debug, Clone, Copy)]
enum Kind {
    Text,
    Int,
    Float,
    Date,
    DateTime,
    Bool,
}

fn blank() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["", " ", "  ", "\t"]).prop_map(str::to_string)
}

fn padded(s: impl Strategy<Value = String>) -> impl Strategy<Value = String> {
    (
        s,
        prop::sample::select(vec![("", ""), (" ", ""), ("", " "), ("  ", " ")]),
    )
        .prop_map(|(v, (a, b))| format!("{a}{v}{b}"))
}

fn date_text() -> impl Strategy<Value = String> {
    (1900i32..2100, 1u32..13, 1u32..29).prop_map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}"))
}

fn cell(kind: Kind) -> BoxedStrategy<String> {
    let value: BoxedStrategy<String> = match kind {
        Kind::Text => prop::string::string_regex("[a-zA-Z0-9 ,;\"'\\n\\r\\t#|éü東京🎉\\-]{1,12}")
            .expect("regex")
            .boxed(),
        Kind::Int => padded(prop_oneof![
            any::<i64>().prop_map(|v| v.to_string()),
            (0u32..1000).prop_map(|v| format!("+{v}")),
            (0u32..1000).prop_map(|v| format!("00{v}")),
            Just("-0".to_string()),
        ])
        .boxed(),
        Kind::Float => padded(prop_oneof![
            any::<f64>()
                .prop_filter("finite", |v| v.is_finite())
                .prop_map(|v| v.to_string()),
            any::<f64>()
                .prop_filter("finite", |v| v.is_finite())
                .prop_map(|v| format!("{v:e}")),
            (0u32..100, 0u32..100).prop_map(|(a, b)| format!("{a}.{b}0")),
            (0u32..100).prop_map(|a| format!("-{a}.5")),
        ])
        .boxed(),
        Kind::Date => padded(date_text()).boxed(),
        Kind::DateTime => padded(
            (
                date_text(),
                0u32..24,
                0u32..60,
                prop::sample::select(vec!["Z", "+02:00", "-05:30", ""]),
                prop::sample::select(vec!["T", " "]),
            )
                .prop_map(|(d, h, m, z, t)| format!("{d}{t}{h:02}:{m:02}:07{z}")),
        )
        .boxed(),
        Kind::Bool => prop::sample::select(vec!["true", "false", "TRUE", "False", " true "])
            .prop_map(str::to_string)
            .boxed(),
    };
    prop_oneof![8 => value, 1 => blank()].boxed()
}

/// A header: non-ASCII, spaces, camelCase, clashes that get `_2`; never a key.
fn header() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "Name",
        "Job Title",
        "note",
        "Größe",
        "東京",
        "a b",
        "x",
        "X",
        "firstName",
        "",
        "Replies (30d)",
        "tags",
    ])
    .prop_map(str::to_string)
}

#[derive(Debug, Clone)]
struct CsvCase {
    headers: Vec<String>,
    kinds: Vec<Kind>,
    rows: Vec<Vec<String>>,
    bom: bool,
    crlf: bool,
}

fn csv_case() -> impl Strategy<Value = CsvCase> {
    let kind = prop::sample::select(vec![
        Kind::Text,
        Kind::Int,
        Kind::Float,
        Kind::Date,
        Kind::DateTime,
        Kind::Bool,
    ]);
    prop::collection::vec((header(), kind), 1..6).prop_flat_map(|cols| {
        let (headers, kinds): (Vec<String>, Vec<Kind>) = cols.into_iter().unzip();
        let row = kinds.iter().map(|&k| cell(k)).collect::<Vec<_>>();
        (
            Just(headers),
            Just(kinds),
            prop::collection::vec(row, 0..20),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(|(headers, kinds, rows, bom, crlf)| CsvCase {
                headers,
                kinds,
                rows,
                bom,
                crlf,
            })
    })
}

fn write_csv(case: &CsvCase) -> Vec<u8> {
    let mut out = Vec::new();
    if case.bom {
        out.extend_from_slice("\u{feff}".as_bytes());
    }
    let terminator = if case.crlf {
        csv::Terminator::CRLF
    } else {
        csv::Terminator::Any(b'\n')
    };
    let mut w = csv::WriterBuilder::new()
        .terminator(terminator)
        .from_writer(&mut out);
    w.write_record(&case.headers).expect("write");
    for r in &case.rows {
        w.write_record(r).expect("write");
    }
    w.flush().expect("flush");
    drop(w);
    out
}

/// What a cell loads as, by the README's rules: blank is missing; text is
/// kept exactly; numbers, dates and booleans are trimmed and written in
/// canonical form (`+7`/`007` → `7`, `1.50` → `1.5`, `1e3` → `1000`,
/// date-times in UTC with `Z`, dates as midnight when a column mixes them,
/// booleans lower-cased).
fn normalised(raw: &str, ty: &FieldType) -> Option<String> {
    let t = raw.trim();
    if t.is_empty() {
        return None;
    }
    Some(match ty {
        FieldType::Int => segq::schema::parse_int(t).expect("int").to_string(),
        FieldType::Float => segq::schema::parse_float(t).expect("float").to_string(),
        FieldType::Date => segq::time::format_date(segq::time::parse_date(t).expect("date")),
        FieldType::DateTime => segq::time::format_datetime(
            segq::time::parse_date(t)
                .or_else(|| segq::time::parse_datetime(t))
                .expect("datetime"),
        ),
        FieldType::Bool => segq::schema::parse_bool(t).expect("bool").to_string(),
        _ => raw.to_string(),
    })
}

#[test]
fn props_csv_load_export_load_is_the_identity() {
    let dir = tempfile::tempdir().expect("tempdir");
    runner(300)
        .run(&csv_case(), |case| {
            let bytes = write_csv(&case);
            std::fs::write(dir.path().join("contacts.csv"), &bytes).expect("write");
            let (store, report) = match load_path(dir.path(), &LoadOptions::default()) {
                Ok(loaded) => loaded,
                Err(e) => {
                    return Err(TestCaseError::fail(format!(
                        "{e}\n{}",
                        String::from_utf8_lossy(&bytes)
                    )))
                }
            };
            prop_assert_eq!(report.skipped, 0);
            let t = &store.contacts;
            prop_assert_eq!(t.len as usize, case.rows.len(), "rows lost");
            prop_assert_eq!(t.columns.len(), case.headers.len());
            for (i, col) in t.columns.iter().enumerate() {
                for (r, row) in case.rows.iter().enumerate() {
                    let got = col.cell(r as u32);
                    let want = normalised(&row[i], &col.ty);
                    let got_text = (got != Cell::Missing).then(|| got.to_text(&t.separators[i]));
                    prop_assert_eq!(
                        &got_text,
                        &want,
                        "column {} ({:?}, {:?}) row {}",
                        col.name,
                        col.ty,
                        case.kinds[i],
                        r
                    );
                }
            }
            let outcome = std::panic::catch_unwind(|| {
                checks::export_reload_identity(&store, dir.path(), &[])
            });
            prop_assert!(outcome.is_ok(), "export does not reload to the same cells");
            Ok(())
        })
        .unwrap();
}

// ------------------------------------------------------------ snapshots

#[test]
fn props_snapshot_write_load_is_the_identity() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.segx");
    runner(150)
        .run(&csv_case(), |case| {
            std::fs::write(dir.path().join("contacts.csv"), write_csv(&case)).expect("write");
            let (store, _) = load_path(dir.path(), &LoadOptions::default())
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            segq::store::snapshot::write(&store, &path).expect("write snapshot");
            let back = segq::store::snapshot::read(&path).map_err(TestCaseError::fail)?;
            prop_assert_eq!(back.contacts.len, store.contacts.len);
            for (a, b) in store.contacts.columns.iter().zip(&back.contacts.columns) {
                prop_assert_eq!(&a.name, &b.name);
                prop_assert_eq!(&a.ty, &b.ty);
                for r in 0..store.contacts.len {
                    prop_assert_eq!(a.cell(r), b.cell(r), "column {} row {}", a.name, r);
                }
                // every index answers alike
                let present = |c: &segq::store::Column| c.present().clone();
                prop_assert_eq!(present(a), present(b));
            }
            Ok(())
        })
        .unwrap();
}
