//! End-to-end tests of the `segq` binary: stdout, stderr and exit codes.
//!
//! Golden files under tests/golden/ hold whole commands and their output
//! (format in tests/cli_support/mod.rs); the other tests compute what the
//! binary must print independently, from the CSV text. Every run asserts
//! that nothing panicked and that no colour is printed under NO_COLOR.
//!
//! `cargo test --test cli`; `UPDATE_GOLDEN=1 cargo test --test cli` rewrites
//! the golden files from the binary's output (review the diff).

mod cli_support;

use cli_support::{run_golden_dir, Golden, Run};

/// A `--> FILE:LINE:COL` line and a caret under the source line.
fn located_with_caret(stderr: &str) -> bool {
    let located = stderr.lines().any(|l| {
        l.trim_start().strip_prefix("--> ").is_some_and(|at| {
            let mut parts = at.rsplitn(3, ':');
            let col = parts.next().and_then(|c| c.parse::<usize>().ok());
            let line = parts.next().and_then(|c| c.parse::<usize>().ok());
            col.is_some_and(|c| c >= 1) && line.is_some_and(|l| l >= 1) && parts.next().is_some()
        })
    });
    let caret = stderr.lines().any(|l| {
        l.trim_start()
            .strip_prefix('|')
            .is_some_and(|rest| rest.trim_start().starts_with('^'))
    });
    located && caret
}

#[test]
fn golden_diagnostics() {
    let shape = |g: &Golden, run: &Run| -> Vec<String> {
        let mut problems = Vec::new();
        if !located_with_caret(&run.stderr) {
            problems.push("no `--> <query>:line:col` with a caret".to_string());
        }
        match run.code {
            1 => {
                if !run.stderr.starts_with("error: ") || !run.stdout.is_empty() {
                    problems.push("exit 1 must come with an error and no output".into());
                }
            }
            0 if g.name().starts_with("enum_value_never_occurs") => {
                if !run.stderr.starts_with("warning: ") || run.stdout != "0\n" {
                    problems.push("an unknown enum value is a warning and counts 0".into());
                }
            }
            code => problems.push(format!("exit {code}, not 1")),
        }
        problems
    };
    let n = run_golden_dir("diagnostics", &shape);
    assert!(n >= 30, "only {n} diagnostics");
}

#[test]
fn golden_commands() {
    run_golden_dir("commands", &|_, _| Vec::new());
}

/// Data and usage errors: exit 2, one `error:` naming the place.
#[test]
fn golden_data_errors() {
    let shape = |g: &Golden, run: &Run| -> Vec<String> {
        let mut problems = Vec::new();
        let expected = if g.name().starts_with("skip_") { 0 } else { 2 };
        if run.code != expected {
            problems.push(format!("exit {}, not {expected}", run.code));
        }
        if expected == 2 && !run.stdout.is_empty() {
            problems.push("output despite the error".into());
        }
        problems
    };
    run_golden_dir("data", &shape);
}

// ------------------------------------------------- the data, read separately

/// A CSV table read with the csv crate, for computing expected answers.
struct Csv {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Csv {
    fn read(path: &std::path::Path) -> Csv {
        let mut reader =
            csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let header = reader
            .headers()
            .expect("header")
            .iter()
            .map(str::to_string)
            .collect();
        let rows = reader
            .records()
            .map(|r| r.expect("record").iter().map(str::to_string).collect())
            .collect();
        Csv { header, rows }
    }

    fn col(&self, name: &str) -> usize {
        self.header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    }
}

/// The generated contacts with their accounts, as plain text.
struct Gen {
    contacts: Csv,
    accounts: Csv,
}

/// One contact, for predicates written in Rust.
#[derive(Clone, Copy)]
struct Row<'a> {
    gen: &'a Gen,
    index: usize,
}

impl<'a> Row<'a> {
    fn s(&self, field: &str) -> &'a str {
        &self.gen.contacts.rows[self.index][self.gen.contacts.col(field)]
    }

    fn int(&self, field: &str) -> Option<i64> {
        let t = self.s(field);
        (!t.is_empty()).then(|| t.parse().expect("an integer"))
    }

    fn tags(&self) -> Vec<&'a str> {
        self.s("tags")
            .split(';')
            .filter(|t| !t.is_empty())
            .collect()
    }

    /// The account's field, if the contact has an account.
    fn acc(&self, field: &str) -> Option<&'a str> {
        let id = self.s("account_id");
        if id.is_empty() {
            return None;
        }
        let a = &self.gen.accounts;
        let row = a
            .rows
            .iter()
            .find(|r| r[a.col("id")] == id)
            .expect("known account");
        Some(&row[a.col(field)])
    }

    /// Contacts of the same account (none without an account).
    fn colleagues(&self) -> Vec<Row<'a>> {
        let id = self.s("account_id");
        if id.is_empty() {
            return Vec::new();
        }
        self.gen.all().filter(|r| r.s("account_id") == id).collect()
    }
}

impl Gen {
    fn get() -> &'static Gen {
        static GEN: std::sync::OnceLock<Gen> = std::sync::OnceLock::new();
        GEN.get_or_init(|| {
            let dir = cli_support::gen_dir();
            Gen {
                contacts: Csv::read(&dir.join("contacts.csv")),
                accounts: Csv::read(&dir.join("accounts.csv")),
            }
        })
    }

    fn all(&self) -> impl Iterator<Item = Row<'_>> {
        (0..self.contacts.rows.len()).map(move |index| Row { gen: self, index })
    }

    fn count(&self, pred: impl Fn(Row<'_>) -> bool) -> u64 {
        self.all().filter(|r| pred(*r)).count() as u64
    }

    fn ids(&self, pred: impl Fn(Row<'_>) -> bool) -> Vec<String> {
        self.all()
            .filter(|r| pred(*r))
            .map(|r| r.s("id").to_string())
            .collect()
    }
}

/// `date` minus `days`, as ISO text.
fn days_before(date: &str, days: i64) -> String {
    let d: jiff::civil::Date = date.parse().expect("a date");
    d.checked_sub(jiff::Span::new().days(days))
        .expect("in range")
        .to_string()
}

type Pred = Box<dyn Fn(Row<'_>) -> bool + Sync>;

/// Counts of the binary equal counts computed row by row from the CSV text.
#[test]
fn count_agrees_with_the_csv_text() {
    let g = Gen::get();
    let in_ = |v: &str, set: &[&str]| set.contains(&v);
    let now = "2026-12-01";
    let month_ago = days_before(now, 30);
    let ninety_ago = days_before(now, 90);
    let dup_emails = {
        let mut seen = std::collections::HashMap::<String, u32>::new();
        for r in g.all().filter(|r| !r.s("email").trim().is_empty()) {
            *seen.entry(r.s("email").trim().to_lowercase()).or_default() += 1;
        }
        seen
    };
    let cases: Vec<(&str, Pred)> = vec![
        ("all", Box::new(|_| true)),
        ("none", Box::new(|_| false)),
        (
            "role = champion and replies_30d > 3",
            Box::new(|r| r.s("role") == "champion" && r.int("replies_30d") > Some(3)),
        ),
        (
            "not role = champion",
            Box::new(|r| r.s("role") != "champion"),
        ),
        (
            "role != champion",
            Box::new(|r| !r.s("role").is_empty() && r.s("role") != "champion"),
        ),
        (
            "role not in [champion, blocker]",
            Box::new(move |r| {
                !r.s("role").is_empty() && !in_(r.s("role"), &["champion", "blocker"])
            }),
        ),
        ("role is missing", Box::new(|r| r.s("role").is_empty())),
        ("role is not null", Box::new(|r| !r.s("role").is_empty())),
        (
            "stage >= opportunity",
            Box::new(move |r| in_(r.s("stage"), &["opportunity", "customer", "churned"])),
        ),
        (
            "seniority < director",
            Box::new(move |r| in_(r.s("seniority"), &["ic", "manager"])),
        ),
        (
            "company_size between 200 and 5_000",
            Box::new(|r| {
                r.int("company_size")
                    .is_some_and(|n| (200..=5000).contains(&n))
            }),
        ),
        (
            "company_size not between 200 and 5000",
            Box::new(|r| {
                r.int("company_size")
                    .is_some_and(|n| !(200..=5000).contains(&n))
            }),
        ),
        (
            "tags has any [webinar, trial]",
            Box::new(|r| r.tags().iter().any(|t| *t == "webinar" || *t == "trial")),
        ),
        (
            "tags has all [webinar, newsletter]",
            Box::new(|r| r.tags().contains(&"webinar") && r.tags().contains(&"newsletter")),
        ),
        (
            "tags has none [webinar]",
            Box::new(|r| !r.tags().is_empty() && !r.tags().contains(&"webinar")),
        ),
        ("tags is missing", Box::new(|r| r.tags().is_empty())),
        (
            "title contains \"HEAD OF\"",
            Box::new(|r| r.s("title").to_lowercase().contains("head of")),
        ),
        (
            "title starts_with 'vp'",
            Box::new(|r| r.s("title").to_lowercase().starts_with("vp")),
        ),
        (
            "email ends_with \".com\"",
            Box::new(|r| r.s("email").to_lowercase().ends_with(".com")),
        ),
        (
            "title matches \"^(Senior|Staff) \"",
            Box::new(|r| r.s("title").starts_with("Senior ") || r.s("title").starts_with("Staff ")),
        ),
        (
            "email is duplicate",
            Box::new(move |r| {
                dup_emails
                    .get(&r.s("email").trim().to_lowercase())
                    .is_some_and(|n| *n > 1)
            }),
        ),
        ("opted_in", Box::new(|r| r.s("opted_in") == "true")),
        ("not opted_in", Box::new(|r| r.s("opted_in") != "true")),
        ("opted_in = false", Box::new(|r| r.s("opted_in") == "false")),
        (
            "last_activity within 30d",
            Box::new(move |r| {
                !r.s("last_activity").is_empty()
                    && r.s("last_activity") >= month_ago.as_str()
                    && r.s("last_activity") <= now
            }),
        ),
        (
            "last_activity before 2026-01-01",
            Box::new(|r| !r.s("last_activity").is_empty() && r.s("last_activity") < "2026-01-01"),
        ),
        (
            "last_activity > 90d ago",
            Box::new(move |r| r.s("last_activity") > ninety_ago.as_str()),
        ),
        (
            "created_at after 2026-06-01T12:00:00Z",
            Box::new(|r| r.s("created_at") > "2026-06-01T12:00:00Z"),
        ),
        (
            "account.industry = software",
            Box::new(|r| r.acc("industry") == Some("software")),
        ),
        (
            "not account.industry = software",
            Box::new(|r| r.acc("industry") != Some("software")),
        ),
        (
            "account.tier >= mid_market",
            Box::new(move |r| {
                r.acc("tier")
                    .is_some_and(|t| in_(t, &["mid_market", "enterprise"]))
            }),
        ),
        (
            "account.employees > 1000",
            Box::new(|r| {
                r.acc("employees")
                    .is_some_and(|e| e.parse::<i64>().expect("int") > 1000)
            }),
        ),
        (
            "account has (role = decision_maker and replies_30d > 0)",
            Box::new(|r| {
                r.colleagues()
                    .iter()
                    .any(|c| c.s("role") == "decision_maker" && c.int("replies_30d") > Some(0))
            }),
        ),
        (
            "account count (replies_30d > 0) >= 2",
            Box::new(|r| {
                r.colleagues()
                    .iter()
                    .filter(|c| c.int("replies_30d") > Some(0))
                    .count()
                    >= 2
            }),
        ),
        (
            "account count (replies_30d > 0) < 1",
            Box::new(|r| {
                !r.s("account_id").is_empty()
                    && r.colleagues()
                        .iter()
                        .all(|c| c.int("replies_30d") <= Some(0))
            }),
        ),
        (
            "account count (replies_30d > 0) = 0",
            Box::new(|r| {
                !r.s("account_id").is_empty()
                    && r.colleagues()
                        .iter()
                        .all(|c| c.int("replies_30d") <= Some(0))
            }),
        ),
        (
            "score >= 70 or meetings_30d >= 2",
            Box::new(|r| r.int("score") >= Some(70) || r.int("meetings_30d") >= Some(2)),
        ),
        (
            "industry in [software, fintech] and not region in [emea, apac]",
            Box::new(move |r| {
                in_(r.s("industry"), &["software", "fintech"])
                    && !in_(r.s("region"), &["emea", "apac"])
            }),
        ),
    ];
    let sandbox = cli_support::Sandbox::new();
    let mut wrong = Vec::new();
    let mut nonzero = 0;
    for (query, pred) in &cases {
        let want = g.count(pred);
        let got = sandbox
            .run(&["count", "--data", "gen", "--now", now, query])
            .count();
        if got != want {
            wrong.push(format!("{query}: segq {got}, csv {want}"));
        }
        if want > 0 && want < 3000 {
            nonzero += 1;
        }
    }
    assert!(wrong.is_empty(), "counts differ:\n{}", wrong.join("\n"));
    assert!(
        nonzero >= cases.len() - 4,
        "the cases should select something"
    );
}

/// `--now` moves every relative date; a date compares as its midnight UTC.
#[test]
fn now_moves_relative_dates() {
    let g = Gen::get();
    let sandbox = cli_support::Sandbox::new();
    let within = |lo: &str, hi: &str| {
        g.count(|r| {
            !r.s("last_activity").is_empty()
                && r.s("last_activity") >= lo
                && r.s("last_activity") <= hi
        })
    };
    let mut seen = Vec::new();
    for now in ["2026-12-01", "2026-06-01", "2025-12-25"] {
        let got = sandbox
            .run(&[
                "count",
                "--data",
                "gen",
                "--now",
                now,
                "last_activity within 30d",
            ])
            .count();
        assert_eq!(got, within(&days_before(now, 30), now), "--now {now}");
        seen.push(got);
    }
    assert!(
        seen.windows(2).all(|w| w[0] != w[1]),
        "different `now`s should give different answers: {seen:?}"
    );
    // At noon, the day 30 days back (its midnight) is outside the window.
    let noon = sandbox
        .run(&[
            "count",
            "--data",
            "gen",
            "--now",
            "2026-12-01T12:00:00Z",
            "last_activity within 30d",
        ])
        .count();
    assert_eq!(noon, within(&days_before("2026-12-01", 29), "2026-12-01"));
    let created = sandbox
        .run(&[
            "count",
            "--data",
            "gen",
            "--now",
            "2026-12-01T12:00:00Z",
            "created_at within 30d",
        ])
        .count();
    let lo = format!("{}T12:00:00Z", days_before("2026-12-01", 30));
    assert_eq!(created, g.count(|r| r.s("created_at") >= lo.as_str() && r.s("created_at") <= "2026-12-01T12:00:00Z"));
    // `today` is the midnight of `now`'s day.
    let today = sandbox
        .run(&[
            "count",
            "--data",
            "gen",
            "--now",
            "2026-11-20T08:00:00Z",
            "last_activity after today",
        ])
        .count();
    assert_eq!(today, g.count(|r| r.s("last_activity") > "2026-11-20"));
}

/// CSV text written with the csv crate, as segq should write it.
fn csv_text(rows: &[Vec<String>]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.write_record(r).expect("write");
    }
    String::from_utf8(w.into_inner().expect("flush")).expect("UTF-8")
}

/// Parses CSV output into rows (header first).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.expect("valid CSV").iter().map(str::to_string).collect())
        .collect()
}

/// `--fields` (with `account.name`), `--sort f:desc` and `--limit` in CSV.
#[test]
fn query_fields_sort_limit_as_csv() {
    let g = Gen::get();
    let sandbox = cli_support::Sandbox::new();
    let query = "role = champion and replies_30d > 2";
    let out = sandbox.run(&[
        "query",
        "--data",
        "gen",
        query,
        "--fields",
        "id,email,account.name,replies_30d",
        "--sort",
        "replies_30d:desc",
        "--limit",
        "7",
        "--format",
        "csv",
    ]);
    let mut matching: Vec<Row<'_>> = g
        .all()
        .filter(|r| r.s("role") == "champion" && r.int("replies_30d") > Some(2))
        .collect();
    assert!(
        matching.len() > 7,
        "the query should match more rows than the limit"
    );
    // stable: ties keep row order
    matching.sort_by_key(|r| std::cmp::Reverse(r.int("replies_30d")));
    let mut want = vec![vec![
        "id".to_string(),
        "email".into(),
        "account.name".into(),
        "replies_30d".into(),
    ]];
    for r in matching.iter().take(7) {
        want.push(vec![
            r.s("id").into(),
            r.s("email").into(),
            r.acc("name").unwrap_or("").into(),
            r.s("replies_30d").into(),
        ]);
    }
    assert_eq!(out.ok(), csv_text(&want));
    assert!(
        want.iter().skip(1).any(|r| r[2].is_empty())
            || want.iter().skip(1).all(|r| !r[2].is_empty())
    );
}

/// Sorting puts missing values last in both directions; text sorts by
/// bytes, ordered enums by their declared order; ties keep row order.
#[test]
fn query_sort_missing_last() {
    let sandbox = cli_support::Sandbox::new();
    let g = Gen::get();
    for (field, desc) in [
        ("title", false),
        ("title", true),
        ("seniority", false),
        ("seniority", true),
        ("score", true),
    ] {
        let sort = if desc {
            format!("{field}:desc")
        } else {
            field.to_string()
        };
        let fields = format!("id,{field}");
        let out = sandbox.run(&[
            "query", "--data", "gen", "all", "--fields", &fields, "--sort", &sort, "--format",
            "csv",
        ]);
        let rows = parse_csv(out.ok());
        assert_eq!(rows[0], ["id", field]);
        let rows = &rows[1..];
        assert_eq!(rows.len(), 3000);
        let present = rows.iter().take_while(|r| !r[1].is_empty()).count();
        assert!(
            rows[present..].iter().all(|r| r[1].is_empty()),
            "{sort}: missing values last"
        );
        assert_eq!(
            present as u64,
            g.count(|r| !r.s(field).is_empty()),
            "{sort}"
        );
        let order = ["ic", "manager", "director", "vp", "c_level"];
        let key = |r: &Vec<String>| -> (i64, String) {
            match field {
                "seniority" => (
                    order.iter().position(|o| *o == r[1]).expect("a level") as i64,
                    String::new(),
                ),
                "score" => (r[1].parse().expect("int"), String::new()),
                _ => (0, r[1].clone()),
            }
        };
        for w in rows[..present].windows(2) {
            let (a, b) = (key(&w[0]), key(&w[1]));
            let id = |r: &Vec<String>| r[0].parse::<u64>().expect("id");
            let in_order = if desc { a >= b } else { a <= b };
            assert!(in_order, "{sort}: {:?} before {:?}", w[0], w[1]);
            if a == b {
                assert!(
                    id(&w[0]) < id(&w[1]),
                    "{sort}: ties keep row order: {:?} {:?}",
                    w[0],
                    w[1]
                );
            }
        }
        for w in rows[present..].windows(2) {
            assert!(
                w[0][0].parse::<u64>().unwrap() < w[1][0].parse::<u64>().unwrap(),
                "missing rows keep row order"
            );
        }
    }
}

/// The same answer in every format: ids, CSV, JSONL and a table.
#[test]
fn query_formats_agree() {
    let g = Gen::get();
    let sandbox = cli_support::Sandbox::new();
    let query = "stage = churned and tags has webinar";
    let want = g.ids(|r| r.s("stage") == "churned" && r.tags().contains(&"webinar"));
    assert!(want.len() > 3 && want.len() <= 20, "{}", want.len());
    let run = |format: &str, extra: &[&str]| {
        let mut args = vec!["query", "--data", "gen", query, "--format", format];
        args.extend_from_slice(extra);
        sandbox.run(&args).ok().to_string()
    };
    let ids = run("ids", &[]);
    assert_eq!(ids.lines().collect::<Vec<_>>(), want);
    let limited = run("ids", &["--limit", "2"]);
    assert_eq!(limited.lines().collect::<Vec<_>>(), want[..2]);

    let csv = parse_csv(&run("csv", &["--fields", "id,stage,tags,opted_in"]));
    assert_eq!(csv[0], ["id", "stage", "tags", "opted_in"]);
    assert_eq!(
        csv[1..].iter().map(|r| r[0].clone()).collect::<Vec<_>>(),
        want
    );
    for r in &csv[1..] {
        let row = g.all().find(|x| x.s("id") == r[0]).expect("a contact");
        assert_eq!(r[2], row.s("tags"), "sets are written with their separator");
        assert_eq!(r[3], row.s("opted_in"));
    }

    let jsonl = run(
        "jsonl",
        &[
            "--fields",
            "id,email,replies_30d,tags,opted_in,last_activity,account.tier,seniority",
        ],
    );
    let objects: Vec<serde_json::Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(objects.len(), want.len());
    for (o, id) in objects.iter().zip(&want) {
        let row = g.all().find(|x| x.s("id") == id).expect("a contact");
        assert_eq!(
            o["id"],
            serde_json::json!(id.parse::<i64>().unwrap()),
            "numbers are numbers"
        );
        assert_eq!(o["replies_30d"], serde_json::json!(row.int("replies_30d")));
        assert_eq!(o["tags"], serde_json::json!(row.tags()), "sets are arrays");
        let opted_in = row.s("opted_in");
        assert_eq!(
            o["opted_in"],
            if opted_in.is_empty() {
                serde_json::Value::Null
            } else {
                serde_json::json!(opted_in == "true")
            }
        );
        assert_eq!(
            o["last_activity"],
            json_text(row.s("last_activity")),
            "missing is null"
        );
        assert_eq!(
            o["account.tier"],
            row.acc("tier")
                .map_or(serde_json::Value::Null, |t| serde_json::json!(t))
        );
        assert_eq!(o["seniority"], json_text(row.s("seniority")));
    }

    let table = run("table", &["--fields", "id,stage"]);
    let first = table
        .lines()
        .find(|l| l.contains(&format!(" {} ", want[0])))
        .expect("first id in the table");
    assert!(first.contains("churned"), "{table}");
    assert!(
        table.trim_end().ends_with(&format!("{} rows", want.len())),
        "{table}"
    );
    // Tables show 20 rows unless told otherwise, and say so.
    let all = sandbox.run(&["query", "--data", "gen", "all", "--fields", "id"]);
    assert!(
        all.ok()
            .trim_end()
            .ends_with("3,000 rows, 20 shown (--limit N to see more)"),
        "{}",
        all.stdout
    );
    assert_eq!(
        all.stdout.lines().filter(|l| l.contains('│')).count(),
        21,
        "header and 20 rows"
    );
}

/// `--by FIELD`: (value, count) pairs, largest first, missing last.
#[test]
fn query_by_breakdowns() {
    let g = Gen::get();
    let sandbox = cli_support::Sandbox::new();
    let query = "stage >= opportunity";
    let matching: Vec<Row<'_>> = g
        .all()
        .filter(|r| ["opportunity", "customer", "churned"].contains(&r.s("stage")))
        .collect();
    let tally = |values: Vec<String>| {
        let mut m = std::collections::BTreeMap::<String, u64>::new();
        for v in values {
            *m.entry(v).or_default() += 1;
        }
        m
    };
    for (by, values) in [
        (
            "role",
            matching
                .iter()
                .map(|r| r.s("role").to_string())
                .collect::<Vec<_>>(),
        ),
        (
            "account.industry",
            matching
                .iter()
                .map(|r| r.acc("industry").unwrap_or("").to_string())
                .collect(),
        ),
        (
            "seniority",
            matching
                .iter()
                .map(|r| r.s("seniority").to_string())
                .collect(),
        ),
        (
            "tags",
            matching
                .iter()
                .flat_map(|r| {
                    if r.tags().is_empty() {
                        vec![String::new()]
                    } else {
                        r.tags().iter().map(|t| t.to_string()).collect()
                    }
                })
                .collect(),
        ),
    ] {
        let out = sandbox.run(&[
            "query", "--data", "gen", query, "--by", by, "--format", "csv",
        ]);
        let rows = parse_csv(out.ok());
        assert_eq!(rows[0], [by, "count"]);
        let got: Vec<(String, u64)> = rows[1..]
            .iter()
            .map(|r| (r[0].clone(), r[1].parse().expect("count")))
            .collect();
        let want = tally(values);
        assert_eq!(
            got.iter()
                .cloned()
                .collect::<std::collections::BTreeMap<_, _>>(),
            want,
            "--by {by}"
        );
        assert_eq!(got.len(), want.len(), "--by {by}: one row per value");
        let (present, missing): (Vec<_>, Vec<_>) = got.iter().partition(|(v, _)| !v.is_empty());
        assert!(
            missing.len() <= 1
                && got.last().is_some_and(|(v, _)| v.is_empty()) == (missing.len() == 1),
            "--by {by}: missing last"
        );
        if by == "seniority" {
            let order = ["ic", "manager", "director", "vp", "c_level"];
            let names: Vec<&str> = present.iter().map(|(v, _)| v.as_str()).collect();
            assert_eq!(
                names,
                order
                    .iter()
                    .filter(|o| names.contains(o))
                    .copied()
                    .collect::<Vec<_>>(),
                "ordered enums in declared order"
            );
        } else {
            assert!(
                present.windows(2).all(|w| w[0].1 >= w[1].1),
                "--by {by}: largest first: {got:?}"
            );
        }
    }
    let table = sandbox.run(&["query", "--data", "gen", query, "--by", "role"]);
    let text = table.ok();
    let total = matching.len() as u64;
    let missing = matching.iter().filter(|r| r.s("role").is_empty()).count();
    assert!(missing > 0, "the fixture has contacts without a role");
    let line = text
        .lines()
        .find(|l| l.contains("(missing)"))
        .expect("a (missing) row");
    let share = format!("{:.1}%", missing as f64 * 100.0 / total as f64);
    assert!(
        line.contains(&format!(" {missing} ")) && line.contains(&share),
        "{line} vs {missing} {share}"
    );
    assert!(
        text.trim_end()
            .ends_with(&format!("{} contacts", group(total))),
        "{text}"
    );
}

/// A text cell as JSON: empty is null.
fn json_text(s: &str) -> serde_json::Value {
    if s.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::json!(s)
    }
}

/// 1234567 → "1,234,567"
fn group(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `explain --analyze` is the plan of `explain` plus actual counts and
/// times per node; the root's actual count is the answer.
#[test]
fn explain_analyze_adds_actual_counts_and_times() {
    let sandbox = cli_support::Sandbox::new();
    let query = "role in [decision_maker, champion] and (replies_30d > 2 or account.tier = enterprise) and not stage = lead";
    let plain = sandbox.run(&["explain", "--data", "gen", query]);
    let analyzed = sandbox.run(&["explain", "--analyze", "--data", "gen", query]);
    let count = sandbox.count("gen", query);
    let (plain, analyzed) = (plain.ok(), analyzed.ok());
    assert_eq!(plain.lines().count(), analyzed.lines().count());
    for (p, a) in plain.lines().zip(analyzed.lines()) {
        assert!(a.starts_with(p.trim_end()), "{a:?} extends {p:?}");
        let rest: Vec<&str> = a[p.trim_end().len()..].split_whitespace().collect();
        assert_eq!(rest.len(), 4, "`actual N T ms` after the estimate: {a:?}");
        assert_eq!(rest[0], "actual");
        assert!(rest[1].replace(',', "").parse::<u64>().is_ok(), "{a:?}");
        assert!(rest[2].parse::<f64>().is_ok_and(|t| t >= 0.0), "{a:?}");
        assert_eq!(rest[3], "ms");
    }
    let root = analyzed.lines().next().expect("a root");
    assert!(
        root.contains(&format!("actual {} ", group(count))),
        "{root} vs {count}"
    );
}

/// A hand-made CSV with a BOM, CRLF line ends, quoted separators, quotes,
/// a newline inside quotes, UTF-8 and headers to normalise.
#[test]
fn load_messy_csv() {
    let sandbox = cli_support::Sandbox::new();
    let text = "\u{feff}ID,Job Title,Full Name,Notes,Score,firstName\r\n\
                1,\"Head of Sales, EMEA\",Zoë Ångström,\"line one\r\nline two\",3,Zoë\r\n\
                2,VP Marketing,\"O\"\"Brien, Pat\",,5,Pat\r\n\
                3,Head of Data,José,plain,,José\r\n\
                4,販売部長,田中,\"a \"\"quoted\"\" word\",10,Taro\r\n";
    sandbox.write("mess.csv", text);
    let jsonl = sandbox.run(&["query", "--data", "mess.csv", "all", "--format", "jsonl"]);
    let rows: Vec<serde_json::Value> = jsonl
        .ok()
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    assert_eq!(rows.len(), 4);
    let keys: Vec<&String> = rows[0].as_object().expect("object").keys().collect();
    let mut want_keys = vec![
        "first_name",
        "full_name",
        "id",
        "job_title",
        "notes",
        "score",
    ];
    want_keys.sort();
    assert_eq!(
        keys, want_keys,
        "headers are normalised to snake_case, the BOM dropped"
    );
    assert_eq!(rows[0]["job_title"], "Head of Sales, EMEA");
    assert_eq!(rows[0]["full_name"], "Zoë Ångström");
    assert_eq!(
        rows[0]["notes"], "line one\r\nline two",
        "a quoted newline is kept"
    );
    assert_eq!(rows[1]["full_name"], "O\"Brien, Pat");
    assert_eq!(
        rows[1]["notes"],
        serde_json::Value::Null,
        "an empty cell is missing"
    );
    assert_eq!(rows[2]["score"], serde_json::Value::Null);
    assert_eq!(rows[3]["job_title"], "販売部長");
    assert_eq!(rows[3]["score"], 10, "all-integer columns are ints");
    for (query, want) in [
        ("job_title contains \"head of\"", 2),
        ("notes contains \"line two\"", 1),
        ("notes contains '\"quoted\"'", 1),
        ("full_name = \"Zoë Ångström\"", 1),
        ("full_name starts_with \"o\\\"brien\"", 1),
        ("score is missing", 1),
        ("score > 4", 2),
        ("job_title = \"販売部長\"", 1),
        ("first_name = Pat", 1),
    ] {
        assert_eq!(sandbox.count("mess.csv", query), want, "{query}");
    }
    // The table of a multi-line cell stays one line per row.
    let table = sandbox.run(&[
        "query", "--data", "mess.csv", "id = 1", "--fields", "id,notes",
    ]);
    assert!(
        table.ok().contains("line one ⏎ line two"),
        "{}",
        table.stdout
    );
    assert!(
        !table.stdout.contains('\r'),
        "no carriage return in a table"
    );
}

/// A single .jsonl file: types inferred from JSON values, lists as sets.
#[test]
fn load_jsonl_file() {
    let sandbox = cli_support::Sandbox::new();
    sandbox.write(
        "people.jsonl",
        "{\"id\": 1, \"role\": \"champion\", \"replies\": 3, \"tags\": [\"a\", \"b\"], \"seen\": \"2026-01-05\", \"vip\": true}\n\
         {\"id\": 2, \"role\": \"blocker\", \"replies\": 0, \"tags\": [], \"seen\": null, \"vip\": false}\n\
         \n\
         {\"id\": 3, \"role\": \"champion\", \"tags\": [\"b\"], \"seen\": \"2025-12-31\"}\n",
    );
    for (query, want) in [
        ("all", 3),
        ("role = champion", 2),
        ("replies > 1", 1),
        ("replies is missing", 1),
        ("tags has b", 2),
        ("tags is missing", 1),
        ("seen before 2026-01-01", 1),
        ("vip", 1),
        ("not vip", 2),
    ] {
        assert_eq!(sandbox.count("people.jsonl", query), want, "{query}");
    }
}

/// The CRM slice (tests/fixtures/crm, from /work/shared/data/crm-sample):
/// US dates through `format = "%m/%d/%y"`, an accounts table, 12 deals
/// without an account. Expected counts come from the CSV text.
#[test]
fn crm_fixture_with_us_dates_and_accounts() {
    let dir = cli_support::crm_dir();
    let deals = Csv::read(&dir.join("contacts.csv"));
    let accounts = Csv::read(&dir.join("accounts.csv"));
    assert_eq!(deals.rows.len(), 60);
    let us_date = |s: &str| -> Option<String> {
        let mut p = s.split('/');
        let (m, d, y) = (p.next()?, p.next()?, p.next()?);
        Some(format!("20{y}-{:0>2}-{:0>2}", m, d))
    };
    let cell = |r: &Vec<String>, f: &str| r[deals.col(f)].clone();
    let account = |r: &Vec<String>, f: &str| -> Option<String> {
        let id = cell(r, "account_id");
        let a = accounts
            .rows
            .iter()
            .find(|a| a[accounts.col("account_id")] == id)?;
        Some(a[accounts.col(f)].clone())
    };
    let count =
        |pred: &dyn Fn(&Vec<String>) -> bool| deals.rows.iter().filter(|r| pred(r)).count() as u64;
    let won_late = count(&|r| {
        cell(r, "deal_stage") == "Won"
            && us_date(&cell(r, "close_date")).is_some_and(|d| d.as_str() >= "2025-10-01")
    });
    let cases: Vec<(&str, u64)> = vec![
        ("all", 60),
        ("account_id is missing", 12),
        (
            "deal_stage = Won",
            count(&|r| cell(r, "deal_stage") == "Won"),
        ),
        ("close_date >= 2025-10-01 and deal_stage = Won", won_late),
        (
            "close_date is missing",
            count(&|r| cell(r, "close_date").is_empty()),
        ),
        (
            "engage_date between 2025-03-01 and 2025-06-30",
            count(&|r| {
                us_date(&cell(r, "engage_date"))
                    .is_some_and(|d| ("2025-03-01".."2025-06-31").contains(&d.as_str()))
            }),
        ),
        (
            "close_value > 1000",
            count(&|r| {
                cell(r, "close_value")
                    .parse::<i64>()
                    .is_ok_and(|v| v > 1000)
            }),
        ),
        (
            "account.sector = retail",
            count(&|r| account(r, "sector").as_deref() == Some("retail")),
        ),
        (
            "account.sector = technolgy",
            count(&|r| account(r, "sector").as_deref() == Some("technolgy")),
        ),
        (
            "account.employees > 5000",
            count(&|r| {
                account(r, "employees").is_some_and(|e| e.parse::<i64>().expect("int") > 5000)
            }),
        ),
        (
            "account.revenue >= 1000.5",
            count(&|r| {
                account(r, "revenue").is_some_and(|e| e.parse::<f64>().expect("float") >= 1000.5)
            }),
        ),
        (
            "account.office_location = \"United States\"",
            count(&|r| account(r, "office_location").as_deref() == Some("United States")),
        ),
        (
            "account has (deal_stage = Won)",
            count(&|r| {
                let id = cell(r, "account_id");
                !id.is_empty()
                    && deals
                        .rows
                        .iter()
                        .any(|o| cell(o, "account_id") == id && cell(o, "deal_stage") == "Won")
            }),
        ),
    ];
    let sandbox = cli_support::Sandbox::new();
    for (query, want) in &cases {
        assert_eq!(sandbox.count("crm", query), *want, "{query}");
    }
    assert!(won_late > 0);
    // Dates come out in ISO form; account fields join.
    let out = sandbox.run(&[
        "query",
        "--data",
        "crm",
        "account.sector = technolgy",
        "--fields",
        "opportunity_id,close_date,account.account,account.employees",
        "--format",
        "csv",
    ]);
    let rows = parse_csv(out.ok());
    let want: Vec<Vec<String>> = deals
        .rows
        .iter()
        .filter(|r| account(r, "sector").as_deref() == Some("technolgy"))
        .map(|r| {
            vec![
                cell(r, "opportunity_id"),
                us_date(&cell(r, "close_date")).unwrap_or_default(),
                account(r, "account").expect("has an account"),
                account(r, "employees").expect("has an account"),
            ]
        })
        .collect();
    assert_eq!(rows[1..], want[..]);
    // `--by account.sector` counts deals per sector; those without an account last.
    let by = parse_csv(
        sandbox
            .run(&[
                "query",
                "--data",
                "crm",
                "all",
                "--by",
                "account.sector",
                "--format",
                "csv",
            ])
            .ok(),
    );
    assert_eq!(
        by.last().expect("rows"),
        &vec![String::new(), "12".to_string()]
    );
    let total: u64 = by[1..]
        .iter()
        .map(|r| r[1].parse::<u64>().expect("count"))
        .sum();
    assert_eq!(total, 60);
    // The same deals as one CSV file without a schema: dates stay text.
    let single = sandbox.run(&[
        "count",
        "--data",
        "crm/contacts.csv",
        "close_date = \"11/1/25\"",
    ]);
    assert_eq!(
        single.count(),
        count(&|r| cell(r, "close_date") == "11/1/25")
    );
}

/// Colour only on a terminal, and never with NO_COLOR set.
#[cfg(unix)]
#[test]
fn colour_on_a_terminal_unless_no_color() {
    let sandbox = cli_support::Sandbox::new();
    let on_terminal = |no_color: bool| -> String {
        let mut cmd = std::process::Command::new(cli_support::bin());
        cmd.args(["count", "--data", "gen", "rol = champion"])
            .current_dir(sandbox.path())
            .env("TERM", "xterm");
        if no_color {
            cmd.env("NO_COLOR", "1");
        } else {
            cmd.env_remove("NO_COLOR");
        }
        let options = rexpect::reader::Options::new()
            .timeout_ms(Some(60_000))
            .strip_ansi_escape_codes(false);
        let mut session =
            rexpect::session::spawn_with_options(cmd, options).expect("spawn in a pty");
        let text = session.exp_eof().expect("segq ends");
        let status = session.process_mut().wait().expect("exit status");
        assert!(
            matches!(status, rexpect::process::WaitStatus::Exited(_, 1)),
            "{status:?}"
        );
        text
    };
    let coloured = on_terminal(false);
    let plain = on_terminal(true);
    for text in [&coloured, &plain] {
        assert!(
            !text.contains("panicked") && text.contains("unknown field `rol`"),
            "{text}"
        );
    }
    assert!(
        coloured.contains("\x1b["),
        "a terminal gets colour: {coloured:?}"
    );
    assert!(
        !plain.contains('\x1b'),
        "NO_COLOR turns colour off: {plain:?}"
    );
}

/// Usage errors are clap's: exit 2 with a usage line.
#[test]
fn usage_errors_exit_2() {
    let sandbox = cli_support::Sandbox::new();
    for args in [
        &["count", "--data", "gen", "--bogus", "all"][..],
        &["count"],
        &["frobnicate"],
        &["query", "--data", "gen", "all", "--format", "xml"],
        &["query", "--data", "gen", "all", "--limit", "-3"],
        &["check"],
        &[],
    ] {
        let run = sandbox.run(args);
        let stderr = run.fails(2);
        assert!(
            stderr.starts_with("error:") || stderr.contains("Usage:"),
            "{args:?}: {stderr}"
        );
        assert!(run.stdout.is_empty(), "{args:?}");
    }
    let help = sandbox.run(&["--help"]);
    for command in [
        "count", "query", "explain", "check", "run", "test", "fmt", "gen",
    ] {
        assert!(help.ok().contains(command), "--help lists {command}");
    }
    assert!(sandbox.run(&["query", "--help"]).ok().contains("--sort"));
}

/// A reader that stops early (`segq query ... | head`) ends segq quietly.
#[test]
fn closed_stdout_is_not_an_error() {
    use std::io::BufRead;
    let sandbox = cli_support::Sandbox::new();
    for format in ["csv", "jsonl", "ids", "table"] {
        let mut child = std::process::Command::new(cli_support::bin())
            .args([
                "query", "--data", "gen", "all", "--limit", "3000", "--format", format,
            ])
            .current_dir(sandbox.path())
            .env("NO_COLOR", "1")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("starts");
        let mut first = String::new();
        std::io::BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut first)
            .expect("a line");
        // the reader is dropped here: the pipe is closed
        let out = child.wait_with_output().expect("ends");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!first.is_empty());
        assert_eq!(out.status.code(), Some(0), "--format {format}: {stderr}");
        assert!(stderr.is_empty(), "--format {format}: {stderr}");
    }
}

/// `-` reads the query from stdin (for queries too long for an argument).
#[test]
fn query_from_stdin() {
    let sandbox = cli_support::Sandbox::new();
    let g = Gen::get();
    let long = format!("{}role = champion", "role = blocker or ".repeat(10_000));
    assert!(long.len() > 150_000);
    let run = sandbox.run_stdin(&["count", "--data", "gen", "-"], long.as_bytes());
    assert_eq!(
        run.count(),
        g.count(|r| ["champion", "blocker"].contains(&r.s("role")))
    );
    let run = sandbox.run_stdin(
        &["query", "--data", "gen", "-", "--format", "ids"],
        b"role = blocker\n",
    );
    assert_eq!(
        run.ok().lines().collect::<Vec<_>>(),
        g.ids(|r| r.s("role") == "blocker")
    );
    let run = sandbox.run_stdin(&["count", "--data", "gen", "-"], b"\xff\xfe");
    assert!(run.fails(2).contains("not UTF-8"), "{}", run.stderr);
}

/// Parses `segq run` output: `name  count` lines.
fn run_counts(stdout: &str) -> std::collections::BTreeMap<String, u64> {
    stdout
        .lines()
        .map(|l| {
            let mut parts = l.split_whitespace();
            let name = parts.next().expect("a name").to_string();
            let n = parts
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("no count in {l:?}"));
            assert!(parts.next().is_none(), "{l:?}");
            (name, n)
        })
        .collect()
}

/// `segq fmt` is idempotent, keeps every comment and does not change what
/// the segments mean.
#[test]
fn fmt_is_idempotent_and_keeps_meaning() {
    let sandbox = cli_support::Sandbox::new();
    let messy = "# Segments for the pipeline review\n\
                 segment   hot=@dms AND @engaged and stage>=opportunity ;   # hot ones\n\
                 \n\n\n\
                 segment dms = role IN [decision_maker,champion,] ; # who signs\n\
                 # engagement, two ways\n\
                 segment engaged = (replies_30d>2) OR (meetings_30d >= 1 AND NOT opted_in = false);\n\
                 segment odd = not not (tags has any [webinar,trial] or title contains 'Head of') and company_size between 1_000 and 20_000;\n\
                 segment quoted = title = \"VP, Sales \\\"EMEA\\\"\" or email ends_with '.io';\n\
                 expect hot   within dms;\n";
    sandbox.write("q/a.seg", messy);
    let before = run_counts(sandbox.run(&["run", "--data", "gen", "q"]).ok());
    assert_eq!(before.len(), 5);
    let first = sandbox.run(&["fmt", "q"]);
    assert_eq!(first.ok(), "");
    assert_eq!(first.stderr, "formatted q/a.seg\n");
    let formatted = sandbox.read("q/a.seg");
    assert_ne!(formatted, messy);
    for comment in messy.lines().filter_map(|l| l.find('#').map(|i| &l[i..])) {
        assert!(
            formatted.contains(comment),
            "lost comment {comment:?}:\n{formatted}"
        );
    }
    assert!(
        !formatted.contains("\n\n\n"),
        "blank runs collapse:\n{formatted}"
    );
    let check = sandbox.run(&["fmt", "--check", "q"]);
    assert_eq!(
        (check.code, check.stdout.as_str()),
        (0, ""),
        "{}",
        check.stderr
    );
    let second = sandbox.run(&["fmt", "q"]);
    assert_eq!((second.ok(), second.stderr.as_str()), ("", ""));
    assert_eq!(sandbox.read("q/a.seg"), formatted, "idempotent");
    let after = run_counts(sandbox.run(&["run", "--data", "gen", "q"]).ok());
    assert_eq!(before, after, "formatting kept the meaning");
}

/// `run --format csv` prints a segment's members, the same as `query`.
#[test]
fn run_members_match_query() {
    let sandbox = cli_support::Sandbox::new();
    sandbox.write(
        "q/s.seg",
        "segment hot = @dms and stage >= opportunity;\nsegment dms = role in [decision_maker, champion];\n",
    );
    let members = sandbox.run(&[
        "run",
        "--data",
        "gen",
        "q",
        "--segment",
        "hot",
        "--format",
        "csv",
        "--fields",
        "id,role,stage",
    ]);
    let rows = parse_csv(members.ok());
    assert_eq!(rows[0], ["id", "role", "stage"]);
    let query = "role in [decision_maker, champion] and stage >= opportunity";
    let ids = sandbox.run(&["query", "--data", "gen", query, "--format", "ids"]);
    let want: Vec<&str> = ids.ok().lines().collect();
    assert!(want.len() > 10);
    assert_eq!(
        rows[1..].iter().map(|r| r[0].as_str()).collect::<Vec<_>>(),
        want
    );
    // `@name` from the command line, through --segments
    let via_ref = sandbox.run(&[
        "query",
        "--data",
        "gen",
        "--segments",
        "q",
        "@hot",
        "--format",
        "ids",
    ]);
    assert_eq!(via_ref.ok(), ids.stdout);
    let counts = run_counts(sandbox.run(&["run", "--data", "gen", "q"]).ok());
    assert_eq!(counts["hot"], want.len() as u64);
    assert_eq!(
        counts["dms"],
        Gen::get().count(|r| ["decision_maker", "champion"].contains(&r.s("role")))
    );
}

/// The built-in demo data (no --data): 100,000 contacts, deterministic,
/// `now` = 2026-12-01; related counts are consistent.
#[test]
fn demo_data_counts_are_stable_and_consistent() {
    let sandbox = cli_support::Sandbox::new();
    assert_eq!(sandbox.run(&["count", "all"]).count(), 100_000);
    sandbox.write(
        "demo.seg",
        "segment a = role in [decision_maker, champion];\n\
         segment not_a = not @a;\n\
         segment b = last_activity within 30d;\n\
         segment a_and_b = @a and @b;\n\
         segment a_or_b = @a or @b;\n\
         segment c = account.industry = software;\n\
         segment a_and_c = @a and @c;\n\
         segment has_account = account_id is present;\n\
         segment none_replied = account count (replies_30d > 0) < 1;\n\
         segment some_replied = account count (replies_30d > 0) >= 1;\n\
         segment dm_replied = account has (role = decision_maker and replies_30d > 0);\n\
         segment dup = email is duplicate;\n\
         segment not_dup = not email is duplicate;\n\
         expect dm_replied within some_replied;\n\
         expect none_replied disjoint some_replied;\n",
    );
    let first = run_counts(sandbox.run(&["run", "demo.seg"]).ok());
    let again = run_counts(
        sandbox
            .run(&["run", "--now", "2026-12-01", "demo.seg"])
            .ok(),
    );
    assert_eq!(
        first, again,
        "deterministic, and `now` defaults to 2026-12-01 on the demo"
    );
    let n = |k: &str| first[k];
    assert_eq!(n("a") + n("not_a"), 100_000);
    assert_eq!(n("dup") + n("not_dup"), 100_000);
    assert!(n("a_and_b") <= n("a").min(n("b")));
    assert_eq!(n("a_or_b"), n("a") + n("b") - n("a_and_b"));
    assert!(n("a_and_c") <= n("a").min(n("c")));
    assert_eq!(n("none_replied") + n("some_replied"), n("has_account"));
    assert!(n("dm_replied") <= n("some_replied"));
    for k in [
        "a",
        "b",
        "a_and_b",
        "c",
        "a_and_c",
        "none_replied",
        "dm_replied",
        "dup",
    ] {
        assert!(n(k) > 0 && n(k) < 100_000, "{k} = {}", n(k));
    }
    let tested = sandbox.run(&["test", "demo.seg"]);
    assert_eq!(tested.ok().lines().last(), Some("2 passed, 0 failed"));
}

/// Bytes that are not UTF-8, and a file that cannot be read: exit 2 with
/// the place.
#[test]
fn unreadable_data_exits_2() {
    let sandbox = cli_support::Sandbox::new();
    sandbox.write("bad/contacts.csv", b"id,name\n1,ok\n2,caf\xe9\n".as_slice());
    let run = sandbox.run(&["count", "--data", "bad", "all"]);
    assert_eq!(
        run.fails(2),
        "error: bad/contacts.csv:3:2: not valid UTF-8\n"
    );
    let skipped = sandbox.run(&["count", "--data", "bad", "--skip-bad-rows", "all"]);
    assert_eq!(skipped.count(), 1);
    assert!(
        skipped
            .stderr
            .contains("bad/contacts.csv:3: column 2: not valid UTF-8"),
        "{}",
        skipped.stderr
    );
    // A directory where a file should be.
    std::fs::create_dir_all(sandbox.path().join("dir/contacts.csv")).expect("mkdir");
    let run = sandbox.run(&["count", "--data", "dir/contacts.csv", "all"]);
    assert!(run.fails(2).starts_with("error: "), "{}", run.stderr);
}
