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
        let mut reader = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let header = reader.headers().expect("header").iter().map(str::to_string).collect();
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
        self.s("tags").split(';').filter(|t| !t.is_empty()).collect()
    }

    /// The account's field, if the contact has an account.
    fn acc(&self, field: &str) -> Option<&'a str> {
        let id = self.s("account_id");
        if id.is_empty() {
            return None;
        }
        let a = &self.gen.accounts;
        let row = a.rows.iter().find(|r| r[a.col("id")] == id).expect("known account");
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
        self.all().filter(|r| pred(*r)).map(|r| r.s("id").to_string()).collect()
    }
}

/// `date` minus `days`, as ISO text.
fn days_before(date: &str, days: i64) -> String {
    let d: jiff::civil::Date = date.parse().expect("a date");
    d.checked_sub(jiff::Span::new().days(days)).expect("in range").to_string()
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
        ("role = champion and replies_30d > 3", Box::new(|r| r.s("role") == "champion" && r.int("replies_30d") > Some(3))),
        ("not role = champion", Box::new(|r| r.s("role") != "champion")),
        ("role != champion", Box::new(|r| !r.s("role").is_empty() && r.s("role") != "champion")),
        ("role not in [champion, blocker]", Box::new(move |r| !r.s("role").is_empty() && !in_(r.s("role"), &["champion", "blocker"]))),
        ("role is missing", Box::new(|r| r.s("role").is_empty())),
        ("role is not null", Box::new(|r| !r.s("role").is_empty())),
        ("stage >= opportunity", Box::new(move |r| in_(r.s("stage"), &["opportunity", "customer", "churned"]))),
        ("seniority < director", Box::new(move |r| in_(r.s("seniority"), &["ic", "manager"]))),
        ("company_size between 200 and 5_000", Box::new(|r| r.int("company_size").is_some_and(|n| (200..=5000).contains(&n)))),
        ("company_size not between 200 and 5000", Box::new(|r| r.int("company_size").is_some_and(|n| !(200..=5000).contains(&n)))),
        ("tags has any [webinar, trial]", Box::new(|r| r.tags().iter().any(|t| *t == "webinar" || *t == "trial"))),
        ("tags has all [webinar, newsletter]", Box::new(|r| r.tags().contains(&"webinar") && r.tags().contains(&"newsletter"))),
        ("tags has none [webinar]", Box::new(|r| !r.tags().is_empty() && !r.tags().contains(&"webinar"))),
        ("tags is missing", Box::new(|r| r.tags().is_empty())),
        ("title contains \"HEAD OF\"", Box::new(|r| r.s("title").to_lowercase().contains("head of"))),
        ("title starts_with 'vp'", Box::new(|r| r.s("title").to_lowercase().starts_with("vp"))),
        ("email ends_with \".com\"", Box::new(|r| r.s("email").to_lowercase().ends_with(".com"))),
        ("title matches \"^(Senior|Staff) \"", Box::new(|r| r.s("title").starts_with("Senior ") || r.s("title").starts_with("Staff "))),
        ("email is duplicate", Box::new(move |r| dup_emails.get(&r.s("email").trim().to_lowercase()).is_some_and(|n| *n > 1))),
        ("opted_in", Box::new(|r| r.s("opted_in") == "true")),
        ("not opted_in", Box::new(|r| r.s("opted_in") != "true")),
        ("opted_in = false", Box::new(|r| r.s("opted_in") == "false")),
        ("last_activity within 30d", Box::new(move |r| !r.s("last_activity").is_empty() && r.s("last_activity") >= month_ago.as_str() && r.s("last_activity") <= now)),
        ("last_activity before 2026-01-01", Box::new(|r| !r.s("last_activity").is_empty() && r.s("last_activity") < "2026-01-01")),
        ("last_activity > 90d ago", Box::new(move |r| r.s("last_activity") > ninety_ago.as_str())),
        ("created_at after 2026-06-01T12:00:00Z", Box::new(|r| r.s("created_at") > "2026-06-01T12:00:00Z")),
        ("account.industry = software", Box::new(|r| r.acc("industry") == Some("software"))),
        ("not account.industry = software", Box::new(|r| r.acc("industry") != Some("software"))),
        ("account.tier >= mid_market", Box::new(move |r| r.acc("tier").is_some_and(|t| in_(t, &["mid_market", "enterprise"])))),
        ("account.employees > 1000", Box::new(|r| r.acc("employees").is_some_and(|e| e.parse::<i64>().expect("int") > 1000))),
        (
            "account has (role = decision_maker and replies_30d > 0)",
            Box::new(|r| r.colleagues().iter().any(|c| c.s("role") == "decision_maker" && c.int("replies_30d") > Some(0))),
        ),
        (
            "account count (replies_30d > 0) >= 2",
            Box::new(|r| r.colleagues().iter().filter(|c| c.int("replies_30d") > Some(0)).count() >= 2),
        ),
        (
            "account count (replies_30d > 0) < 1",
            Box::new(|r| !r.s("account_id").is_empty() && r.colleagues().iter().all(|c| c.int("replies_30d") <= Some(0))),
        ),
        (
            "account count (replies_30d > 0) = 0",
            Box::new(|r| !r.s("account_id").is_empty() && r.colleagues().iter().all(|c| c.int("replies_30d") <= Some(0))),
        ),
        ("score >= 70 or meetings_30d >= 2", Box::new(|r| r.int("score") >= Some(70) || r.int("meetings_30d") >= Some(2))),
        (
            "industry in [software, fintech] and not region in [emea, apac]",
            Box::new(move |r| in_(r.s("industry"), &["software", "fintech"]) && !in_(r.s("region"), &["emea", "apac"])),
        ),
    ];
    let sandbox = cli_support::Sandbox::new();
    let mut wrong = Vec::new();
    let mut nonzero = 0;
    for (query, pred) in &cases {
        let want = g.count(pred);
        let got = sandbox.run(&["count", "--data", "gen", "--now", now, query]).count();
        if got != want {
            wrong.push(format!("{query}: segq {got}, csv {want}"));
        }
        if want > 0 && want < 3000 {
            nonzero += 1;
        }
    }
    assert!(wrong.is_empty(), "counts differ:\n{}", wrong.join("\n"));
    assert!(nonzero >= cases.len() - 4, "the cases should select something");
}

/// `--now` moves every relative date; a date compares as its midnight UTC.
#[test]
fn now_moves_relative_dates() {
    let g = Gen::get();
    let sandbox = cli_support::Sandbox::new();
    let within = |lo: &str, hi: &str| g.count(|r| !r.s("last_activity").is_empty() && r.s("last_activity") >= lo && r.s("last_activity") <= hi);
    let mut seen = Vec::new();
    for now in ["2026-12-01", "2026-06-01", "2025-12-25"] {
        let got = sandbox.run(&["count", "--data", "gen", "--now", now, "last_activity within 30d"]).count();
        assert_eq!(got, within(&days_before(now, 30), now), "--now {now}");
        seen.push(got);
    }
    assert!(seen.windows(2).all(|w| w[0] != w[1]), "different `now`s should give different answers: {seen:?}");
    // At noon, the day 30 days back (its midnight) is outside the window.
    let noon = sandbox
        .run(&["count", "--data", "gen", "--now", "2026-12-01T12:00:00Z", "last_activity within 30d"])
        .count();
    assert_eq!(noon, within(&days_before("2026-12-01", 29), "2026-12-01"));
    let created = sandbox
        .run(&["count", "--data", "gen", "--now", "2026-12-01T12:00:00Z", "created_at within 30d"])
        .count();
    let lo = format!("{}T12:00:00Z", days_before("2026-12-01", 30));
    assert_eq!(created, g.count(|r| r.s("created_at") >= lo.as_str() && r.s("created_at") <= "2026-12-01T12:00:00Z"));
    // `today` is the midnight of `now`'s day.
    let today = sandbox.run(&["count", "--data", "gen", "--now", "2026-11-20T08:00:00Z", "last_activity after today"]).count();
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
    let mut matching: Vec<Row<'_>> = g.all().filter(|r| r.s("role") == "champion" && r.int("replies_30d") > Some(2)).collect();
    assert!(matching.len() > 7, "the query should match more rows than the limit");
    // stable: ties keep row order
    matching.sort_by_key(|r| std::cmp::Reverse(r.int("replies_30d")));
    let mut want = vec![vec!["id".to_string(), "email".into(), "account.name".into(), "replies_30d".into()]];
    for r in matching.iter().take(7) {
        want.push(vec![
            r.s("id").into(),
            r.s("email").into(),
            r.acc("name").unwrap_or("").into(),
            r.s("replies_30d").into(),
        ]);
    }
    assert_eq!(out.ok(), csv_text(&want));
    assert!(want.iter().skip(1).any(|r| r[2].is_empty()) || want.iter().skip(1).all(|r| !r[2].is_empty()));
}

/// Sorting puts missing values last in both directions; text sorts by
/// bytes, ordered enums by their declared order; ties keep row order.
#[test]
fn query_sort_missing_last() {
    let sandbox = cli_support::Sandbox::new();
    let g = Gen::get();
    for (field, desc) in [("title", false), ("title", true), ("seniority", false), ("seniority", true), ("score", true)] {
        let sort = if desc { format!("{field}:desc") } else { field.to_string() };
        let fields = format!("id,{field}");
        let out = sandbox.run(&["query", "--data", "gen", "all", "--fields", &fields, "--sort", &sort, "--format", "csv"]);
        let rows = parse_csv(out.ok());
        assert_eq!(rows[0], ["id", field]);
        let rows = &rows[1..];
        assert_eq!(rows.len(), 3000);
        let present = rows.iter().take_while(|r| !r[1].is_empty()).count();
        assert!(rows[present..].iter().all(|r| r[1].is_empty()), "{sort}: missing values last");
        assert_eq!(present as u64, g.count(|r| !r.s(field).is_empty()), "{sort}");
        let order = ["ic", "manager", "director", "vp", "c_level"];
        let key = |r: &Vec<String>| -> (i64, String) {
            match field {
                "seniority" => (order.iter().position(|o| *o == r[1]).expect("a level") as i64, String::new()),
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
                assert!(id(&w[0]) < id(&w[1]), "{sort}: ties keep row order: {:?} {:?}", w[0], w[1]);
            }
        }
        for w in rows[present..].windows(2) {
            assert!(w[0][0].parse::<u64>().unwrap() < w[1][0].parse::<u64>().unwrap(), "missing rows keep row order");
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
    assert_eq!(csv[1..].iter().map(|r| r[0].clone()).collect::<Vec<_>>(), want);
    for r in &csv[1..] {
        let row = g.all().find(|x| x.s("id") == r[0]).expect("a contact");
        assert_eq!(r[2], row.s("tags"), "sets are written with their separator");
        assert_eq!(r[3], row.s("opted_in"));
    }

    let jsonl = run("jsonl", &["--fields", "id,email,replies_30d,tags,opted_in,last_activity,account.tier,seniority"]);
    let objects: Vec<serde_json::Value> = jsonl.lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect();
    assert_eq!(objects.len(), want.len());
    for (o, id) in objects.iter().zip(&want) {
        let row = g.all().find(|x| x.s("id") == id).expect("a contact");
        assert_eq!(o["id"], serde_json::json!(id.parse::<i64>().unwrap()), "numbers are numbers");
        assert_eq!(o["replies_30d"], serde_json::json!(row.int("replies_30d")));
        assert_eq!(o["tags"], serde_json::json!(row.tags()), "sets are arrays");
        assert_eq!(o["opted_in"], serde_json::json!(row.s("opted_in") == "true"));
        assert_eq!(o["last_activity"], json_text(row.s("last_activity")), "missing is null");
        assert_eq!(o["account.tier"], row.acc("tier").map_or(serde_json::Value::Null, |t| serde_json::json!(t)));
        assert_eq!(o["seniority"], json_text(row.s("seniority")));
    }

    let table = run("table", &["--fields", "id,stage"]);
    let first = table.lines().find(|l| l.contains(&format!(" {} ", want[0]))).expect("first id in the table");
    assert!(first.contains("churned"), "{table}");
    assert!(table.trim_end().ends_with(&format!("{} rows", want.len())), "{table}");
    // Tables show 20 rows unless told otherwise, and say so.
    let all = sandbox.run(&["query", "--data", "gen", "all", "--fields", "id"]);
    assert!(all.ok().trim_end().ends_with("3,000 rows, 20 shown (--limit N to see more)"), "{}", all.stdout);
    assert_eq!(all.stdout.lines().filter(|l| l.contains('│')).count(), 21, "header and 20 rows");
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
        ("role", matching.iter().map(|r| r.s("role").to_string()).collect::<Vec<_>>()),
        ("account.industry", matching.iter().map(|r| r.acc("industry").unwrap_or("").to_string()).collect()),
        ("seniority", matching.iter().map(|r| r.s("seniority").to_string()).collect()),
        (
            "tags",
            matching
                .iter()
                .flat_map(|r| if r.tags().is_empty() { vec![String::new()] } else { r.tags().iter().map(|t| t.to_string()).collect() })
                .collect(),
        ),
    ] {
        let out = sandbox.run(&["query", "--data", "gen", query, "--by", by, "--format", "csv"]);
        let rows = parse_csv(out.ok());
        assert_eq!(rows[0], [by, "count"]);
        let got: Vec<(String, u64)> = rows[1..].iter().map(|r| (r[0].clone(), r[1].parse().expect("count"))).collect();
        let want = tally(values);
        assert_eq!(got.iter().cloned().collect::<std::collections::BTreeMap<_, _>>(), want, "--by {by}");
        assert_eq!(got.len(), want.len(), "--by {by}: one row per value");
        let (present, missing): (Vec<_>, Vec<_>) = got.iter().partition(|(v, _)| !v.is_empty());
        assert!(missing.len() <= 1 && got.last().is_some_and(|(v, _)| v.is_empty()) == (missing.len() == 1), "--by {by}: missing last");
        if by == "seniority" {
            let order = ["ic", "manager", "director", "vp", "c_level"];
            let names: Vec<&str> = present.iter().map(|(v, _)| v.as_str()).collect();
            assert_eq!(names, order.iter().filter(|o| names.contains(o)).copied().collect::<Vec<_>>(), "ordered enums in declared order");
        } else {
            assert!(present.windows(2).all(|w| w[0].1 >= w[1].1), "--by {by}: largest first: {got:?}");
        }
    }
    let table = sandbox.run(&["query", "--data", "gen", query, "--by", "role"]);
    let text = table.ok();
    let total = matching.len() as u64;
    let missing = matching.iter().filter(|r| r.s("role").is_empty()).count();
    assert!(missing > 0, "the fixture has contacts without a role");
    let line = text.lines().find(|l| l.contains("(missing)")).expect("a (missing) row");
    let share = format!("{:.1}%", missing as f64 * 100.0 / total as f64);
    assert!(line.contains(&format!(" {missing} ")) && line.contains(&share), "{line} vs {missing} {share}");
    assert!(text.trim_end().ends_with(&format!("{} contacts", group(total))), "{text}");
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
        if i > 0 && (s.len() - i) % 3 == 0 {
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
    assert!(root.contains(&format!("actual {} ", group(count))), "{root} vs {count}");
}
