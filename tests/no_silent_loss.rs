//! No silent loss, through the real binary: `segq query all --format csv`
//! reproduces every input value after the normalisation the README lists
//! under "Loading data" — on the demo data (every contact and account
//! column, against the generator's own rows) and on a messy export
//! (tests/fixtures/messy: BOM, CRLF, quoted separators, quotes and line
//! breaks, empty and blank cells, non-ASCII); and `--skip-bad-rows`
//! accounts for every row it drops, with its line.

use segq::schema::{parse_schema, FieldType};
use std::path::Path;
use std::process::Command;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn segq(dir: &Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_segq"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("run segq");
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).expect("UTF-8 output"),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    run
}

fn parse_csv(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    let mut rows: Vec<Vec<String>> = r
        .records()
        .map(|rec| rec.expect("valid CSV").iter().map(String::from).collect())
        .collect();
    assert!(!rows.is_empty(), "no header");
    let header = rows.remove(0);
    (header, rows)
}

/// The documented normalisation of one input cell of a column of type
/// `ty`: `None` is missing (printed as an empty cell).
fn normalised(raw: &str, ty: &FieldType, format: Option<&str>, separator: &str) -> Option<String> {
    let t = raw.trim();
    if t.is_empty() {
        return None;
    }
    let value = match ty {
        FieldType::Int => segq::schema::parse_int(t).expect("int").to_string(),
        FieldType::Float => segq::schema::parse_float(t).expect("float").to_string(),
        FieldType::Bool => segq::schema::parse_bool(t).expect("bool").to_string(),
        FieldType::Date => segq::time::format_date(match format {
            Some(f) => segq::time::parse_with_format(t, f, false).expect("date in format"),
            None => segq::time::parse_date(t).expect("date"),
        }),
        FieldType::DateTime => segq::time::format_datetime(
            segq::time::parse_date(t)
                .or_else(|| segq::time::parse_datetime(t))
                .expect("datetime"),
        ),
        FieldType::Set => {
            let mut members: Vec<&str> = Vec::new();
            for m in t.split(separator).map(str::trim).filter(|m| !m.is_empty()) {
                if !members.contains(&m) {
                    members.push(m);
                }
            }
            if members.is_empty() {
                return None;
            }
            members.join(separator)
        }
        // text: exactly as written
        FieldType::String | FieldType::Enum { .. } | FieldType::Ref => raw.to_string(),
    };
    Some(value)
}

#[track_caller]
fn assert_cell(got: &str, want: &Option<String>, what: &str) {
    assert_eq!(got, want.as_deref().unwrap_or(""), "{what}");
}

// ------------------------------------------------------------ messy fixture

#[test]
fn no_silent_loss_messy_export_reproduces_every_value() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/messy");
    let run = segq(
        &fixture,
        &["query", "all", "--data", ".", "--format", "csv"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stderr, "", "no warnings, nothing skipped");
    let (header, rows) = parse_csv(&run.stdout);
    assert_eq!(
        header,
        [
            "id",
            "job_title",
            "first_name",
            "notes",
            "score",
            "replies",
            "seen",
            "closed_on",
            "created_at",
            "opted_in",
            "tags",
            "stage",
            "account_id"
        ]
    );
    let input = std::fs::read_to_string(fixture.join("contacts.csv")).expect("fixture");
    assert!(
        input.starts_with('\u{feff}') && input.contains("\r\n"),
        "the fixture keeps its BOM and CRLF endings"
    );
    let (_, input_rows) = parse_csv(input.trim_start_matches('\u{feff}'));
    assert_eq!(rows.len(), input_rows.len(), "every row is printed");
    // Declared in schema.toml, or (for the rest) inferred from the values.
    let types: [(FieldType, Option<&str>); 13] = [
        (FieldType::Int, None),
        (FieldType::String, None),
        (FieldType::String, None),
        (FieldType::String, None),
        (FieldType::Float, None),
        (FieldType::Int, None),
        (FieldType::Date, None),
        (FieldType::Date, Some("%m/%d/%y")),
        (FieldType::DateTime, None),
        (FieldType::Bool, None),
        (FieldType::Set, None),
        (FieldType::Enum { ordered: true }, None),
        (FieldType::Ref, None),
    ];
    for (r, (out, inp)) in rows.iter().zip(&input_rows).enumerate() {
        for (c, (ty, format)) in types.iter().enumerate() {
            let want = normalised(&inp[c], ty, *format, ";");
            assert_cell(
                &out[c],
                &want,
                &format!("row {r} column {}: input {:?}", header[c], inp[c]),
            );
        }
    }
    // The README's examples of each normalisation, as printed.
    let cell = |id: &str, col: &str| {
        let c = header.iter().position(|h| h == col).expect("column");
        rows.iter().find(|r| r[0] == id).expect("row")[c].clone()
    };
    assert_eq!(
        cell("1", "notes"),
        "line one\r\nline two",
        "a quoted CRLF stays in the value"
    );
    assert_eq!(cell("3", "job_title"), "  CTO  ", "text keeps its spaces");
    assert_eq!(cell("2", "first_name"), "", "a blank cell is missing");
    assert_eq!(cell("1", "score"), "1.5");
    assert_eq!(cell("2", "score"), "1000");
    assert_eq!(cell("3", "score"), "0");
    assert_eq!(cell("1", "replies"), "7");
    assert_eq!(cell("1", "closed_on"), "2025-07-12");
    assert_eq!(cell("1", "created_at"), "2026-01-31T09:30:00Z");
    assert_eq!(cell("2", "created_at"), "2026-01-31T00:00:00Z");
    assert_eq!(cell("3", "created_at"), "2026-03-01T00:00:00.123456Z");
    assert_eq!(cell("1", "opted_in"), "true");
    assert_eq!(cell("2", "opted_in"), "false");
    assert_eq!(cell("1", "tags"), "webinar;trial");
    assert_eq!(cell("3", "tags"), "pricing_page");
    assert_eq!(cell("6", "tags"), "", "a set of no members is missing");
    assert_eq!(
        cell("4", "account_id"),
        " a1 ",
        "a reference keeps its text (and links trimmed)"
    );

    // The account of every contact, through `account.f`.
    let run = segq(
        &fixture,
        &[
            "query",
            "all",
            "--data",
            ".",
            "--format",
            "csv",
            "--fields",
            "id,account.name,account.tier",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let (_, rows) = parse_csv(&run.stdout);
    let accounts: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r[1].as_str(), r[2].as_str()))
        .collect();
    assert_eq!(
        accounts,
        [
            ("Acme GmbH", "smb"),
            ("", ""),
            ("Beta, Inc.", "enterprise"),
            ("Acme GmbH", "smb"),
            ("Beta, Inc.", "enterprise"),
            ("Acme GmbH", "smb")
        ]
    );
}

// --------------------------------------------------------------- demo data

#[test]
fn no_silent_loss_demo_export_matches_the_generator() {
    use segq::store::ingest::{DEMO_ACCOUNTS, DEMO_CONTACTS, DEMO_SEED, DEMO_TODAY};
    let cfg = segq::gen::GenConfig {
        contacts: DEMO_CONTACTS,
        accounts: DEMO_ACCOUNTS,
        seed: DEMO_SEED,
        today_days: segq::time::parse_date(DEMO_TODAY).expect("date") / segq::time::MICROS_PER_DAY,
    };
    let mut accounts: Vec<Vec<String>> = Vec::new();
    let mut contacts: Vec<Vec<String>> = Vec::new();
    segq::gen::generate(
        &cfg,
        |row| accounts.push(row.iter().map(|s| s.to_string()).collect()),
        |row| contacts.push(row.iter().map(|s| s.to_string()).collect()),
    );
    let schema = parse_schema(&segq::gen::schema_toml()).expect("schema");
    let spec = |ts: &segq::schema::TableSchema, name: &str| {
        let f = ts.field(name).expect("declared");
        (f.ty.clone(), f.format.clone(), f.separator.clone())
    };
    let dir = tempfile::tempdir().expect("tempdir");

    let run = segq(dir.path(), &["query", "all", "--format", "csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let (header, rows) = parse_csv(&run.stdout);
    assert_eq!(header, segq::gen::CONTACT_COLUMNS);
    assert_eq!(rows.len(), contacts.len(), "every contact is printed");
    let mut changed = 0;
    for (c, name) in header.iter().enumerate() {
        let (ty, format, sep) = spec(&schema.contacts, name);
        for (r, (out, inp)) in rows.iter().zip(&contacts).enumerate() {
            let want = normalised(&inp[c], &ty, format.as_deref(), &sep);
            assert_cell(
                &out[c],
                &want,
                &format!("contact row {r} column {name}: generated {:?}", inp[c]),
            );
            changed += usize::from(out[c] != inp[c]);
        }
    }
    // The generator writes canonical values: nothing needs normalising.
    assert_eq!(
        changed, 0,
        "cells printed differently from how they were generated"
    );

    // Every account column, through each contact's account.
    let accounts_schema = schema.accounts.as_ref().expect("accounts");
    let fields: Vec<String> = segq::gen::ACCOUNT_COLUMNS
        .iter()
        .map(|c| format!("account.{c}"))
        .collect();
    let run = segq(
        dir.path(),
        &[
            "query",
            "all",
            "--format",
            "csv",
            "--fields",
            &format!("account_id,{}", fields.join(",")),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let (_, rows) = parse_csv(&run.stdout);
    let by_id: std::collections::HashMap<&str, &Vec<String>> =
        accounts.iter().map(|a| (a[0].as_str(), a)).collect();
    let mut seen = std::collections::HashSet::new();
    for row in &rows {
        let Some(account) = by_id.get(row[0].as_str()) else {
            assert!(
                row[0].is_empty() && row[1..].iter().all(String::is_empty),
                "{row:?}"
            );
            continue;
        };
        seen.insert(row[0].clone());
        for (c, name) in segq::gen::ACCOUNT_COLUMNS.iter().enumerate() {
            let (ty, format, sep) = spec(accounts_schema, name);
            let want = normalised(&account[c], &ty, format.as_deref(), &sep);
            assert_cell(
                &row[c + 1],
                &want,
                &format!("account {} column {name}", row[0]),
            );
        }
    }
    assert!(
        seen.len() * 10 > accounts.len() * 9,
        "most accounts have contacts: {} of {}",
        seen.len(),
        accounts.len()
    );
}

// ---------------------------------------------------------- skip-bad-rows

#[test]
fn no_silent_loss_skip_bad_rows_reports_count_and_lines() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path().join("d");
    std::fs::create_dir_all(&d).expect("mkdir");
    std::fs::write(
        d.join("schema.toml"),
        "[contacts.fields]\nscore = \"int\"\n",
    )
    .expect("write");
    // CRLF, a blank line and a quoted line break move lines; 12 bad rows.
    let mut csv = String::from("id,score,note\r\n1,1,ok\r\n\r\n2,\"x\r\ny\",bad\r\n");
    let mut bad_lines = vec![4];
    let mut line = 6;
    for i in 3..40 {
        if i % 3 == 0 {
            csv.push_str(&format!("{i},{i}.5,bad\r\n"));
            bad_lines.push(line);
        } else {
            csv.push_str(&format!("{i},{i},\"good,\r\nrow\"\r\n"));
            line += 1;
        }
        line += 1;
    }
    std::fs::write(d.join("contacts.csv"), &csv).expect("write");
    let run = segq(dir.path(), &["count", "all", "--data", "d"]);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "error: d/contacts.csv:4:2: `score`: \"x\\r\\ny\" is not an int\n"
    );

    let run = segq(
        dir.path(),
        &["count", "all", "--data", "d", "--skip-bad-rows"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let total_rows = 39;
    assert_eq!(run.stdout, format!("{}\n", total_rows - bad_lines.len()));
    let mut want = format!("warning: skipped {} bad row(s):\n", bad_lines.len());
    for (n, l) in bad_lines.iter().enumerate().take(10) {
        let value = if n == 0 {
            "\"x\\r\\ny\"".to_string()
        } else {
            format!("\"{}.5\"", (n) * 3)
        };
        want.push_str(&format!(
            "  d/contacts.csv:{l}: column 2: `score`: {value} is not an int\n"
        ));
    }
    want.push_str(&format!("  … and {} more\n", bad_lines.len() - 10));
    assert_eq!(run.stderr, want);

    // JSONL: lines are lines
    std::fs::remove_file(d.join("contacts.csv")).expect("rm");
    std::fs::write(
        d.join("contacts.jsonl"),
        "{\"id\": 1, \"score\": 2}\n\n{\"id\": 2, \"score\": \"x\"}\n{\"id\": 3\n[]\n{\"id\": 4}\n",
    )
    .expect("write");
    let run = segq(
        dir.path(),
        &["count", "all", "--data", "d", "--skip-bad-rows"],
    );
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "2\n"),
        "{}",
        run.stderr
    );
    // (JSONL is read in two passes — syntax, then values — so its report
    // lists syntax errors first.)
    let mut lines: Vec<&str> = run
        .stderr
        .lines()
        .skip(1)
        .map(|l| l.split(": ").next().unwrap_or(""))
        .collect();
    lines.sort();
    assert_eq!(
        lines,
        [
            "  d/contacts.jsonl:3",
            "  d/contacts.jsonl:4",
            "  d/contacts.jsonl:5"
        ],
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.starts_with("warning: skipped 3 bad row(s):\n"),
        "{}",
        run.stderr
    );
}
