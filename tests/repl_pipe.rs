//! `segq repl` with piped stdin: every dot-command, queries over several
//! lines, exit codes. Runs the real binary on a small generated data set.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

const BIN: &str = env!("CARGO_BIN_EXE_segq");

/// 2,000 generated contacts with accounts, made once per test run.
fn fixture() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("segq-repl-pipe")
            .tempdir()
            .unwrap()
            .keep();
        let data = dir.join("data");
        let status = Command::new(BIN)
            .args([
                "gen",
                "--contacts",
                "2000",
                "--seed",
                "7",
                "--today",
                "2026-12-01",
                "--out",
            ])
            .arg(&data)
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
        data
    })
}

struct Run {
    stdout: String,
    stderr: String,
    code: i32,
}

/// Runs `segq repl` on the fixture with `script` on stdin, in `dir`.
fn repl_in(dir: &Path, script: &str) -> Run {
    let mut child = Command::new(BIN)
        .args(["repl", "--now", "2026-12-01", "--data"])
        .arg(fixture())
        .current_dir(dir)
        .env("HOME", dir)
        .env("XDG_STATE_HOME", dir.join("state"))
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env_remove("SEGQ_HISTORY")
        .env_remove("NO_COLOR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    Run {
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
        code: out.status.code().unwrap(),
    }
}

fn repl(script: &str) -> Run {
    let dir = tempfile::tempdir().unwrap();
    repl_in(dir.path(), script)
}

#[track_caller]
fn ok(script: &str) -> String {
    let run = repl(script);
    assert_eq!(
        run.code, 0,
        "{script:?}\nstdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    assert_eq!(run.stderr, "", "{script:?}");
    run.stdout
}

/// `segq count` of the same query, as the cross-check.
fn count(query: &str) -> u64 {
    let out = Command::new(BIN)
        .args(["count", "--now", "2026-12-01", "--data"])
        .arg(fixture())
        .arg(query)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// `1,234`
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

/// Data rows of a table: lines starting with `│`, less the header.
fn table_rows(stdout: &str) -> usize {
    stdout
        .lines()
        .filter(|l| l.starts_with('│'))
        .count()
        .saturating_sub(1)
}

#[test]
fn query_prints_count_and_first_rows() {
    let n = count("role = champion");
    let out = ok("role = champion\n");
    assert_eq!(table_rows(&out), 10, "{out}");
    assert!(
        out.ends_with(&format!(
            "{} contacts (10 shown; .limit N for more)\n",
            group(n)
        )),
        "{out}"
    );
    let header = out.lines().find(|l| l.starts_with('│')).unwrap();
    assert!(
        header.contains(" id ") && header.contains(" role "),
        "{header}"
    );
    // no prompts, no colour on a pipe
    assert!(!out.contains("segq>") && !out.contains('\x1b'), "{out}");
}

#[test]
fn queries_span_lines_and_end_with_semicolons() {
    let q1 = "role in [champion, decision_maker] and replies_30d > 2";
    let out = ok(".limit 0\nrole in [champion,\n  decision_maker]\n  and replies_30d > 2;\nrole = blocker; role = champion\nrole = evaluator\n  or role = blocker\n");
    let expected = format!(
        "limit: 0\n{} contacts\n{} contacts\n{} contacts\n{} contacts\n",
        group(count(q1)),
        group(count("role = blocker")),
        group(count("role = champion")),
        group(count("role = evaluator or role = blocker")),
    );
    assert_eq!(out, expected);
}

#[test]
fn query_errors_render_as_on_the_command_line_and_exit_1() {
    let run = repl("rol = champion\nrole = blocker\n");
    assert_eq!(run.code, 1);
    let cli = Command::new(BIN)
        .args(["count", "--data"])
        .arg(fixture())
        .arg("rol = champion")
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    assert_eq!(run.stderr, String::from_utf8(cli.stderr).unwrap());
    assert!(
        run.stderr.contains("did you mean `role`?"),
        "{}",
        run.stderr
    );
    // the session went on
    assert!(run
        .stdout
        .contains(&format!("{} contacts", group(count("role = blocker")))));
}

#[test]
fn unknown_command_suggests_and_exits_2() {
    let run = repl(".schem\n.limit 0\nrole = blocker\n");
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "error: unknown command `.schem`; did you mean `.schema`?\n"
    );
    assert!(run.stdout.ends_with(" contacts\n"));
    let run = repl(".zzzzzz\n");
    assert_eq!(
        run.stderr,
        "error: unknown command `.zzzzzz`; .help lists the commands\n"
    );
}

#[test]
fn help_lists_every_command() {
    let out = ok(".help\n");
    for name in [
        ".help",
        ".schema",
        ".values",
        ".explain",
        ".analyze",
        ".by",
        ".limit",
        ".fields",
        ".mode",
        "\\x",
        ".timer",
        "\\timing",
        ".keys",
        ".now",
        ".segment NAME",
        ".segments",
        ".load",
        ".save",
        ".export",
        ".read",
        ".data",
        ".quit",
    ] {
        assert!(out.contains(name), "{name} missing:\n{out}");
    }
    assert_eq!(
        ok(".help explain\n"),
        ".explain QUERY\n  the checked, optimised plan with estimated counts\n"
    );
    assert_eq!(
        ok("\\? timer\n"),
        ".timer [on|off]\n  print the time each query takes to evaluate\n  also: \\timing\n"
    );
}

#[test]
fn schema_lists_fields_and_one_in_detail() {
    let out = ok(".schema\n");
    let role = out.lines().find(|l| l.contains("│ role ")).unwrap();
    assert!(
        role.contains("enum") && role.contains("decision_maker"),
        "{role}"
    );
    assert!(out.contains("account.tier"), "{out}");
    assert!(out.ends_with("2,000 contacts, 80 accounts\n"), "{out}");
    let out = ok(".schema seniority\n");
    assert_eq!(table_rows(&out), 1, "{out}");
    assert!(
        out.contains("ordered enum") && out.contains("ic, manager, director, vp, c_level"),
        "{out}"
    );
    let run = repl(".schema rol\n");
    assert_eq!(
        (run.code, run.stderr.as_str()),
        (2, "error: unknown field `rol`; did you mean `role`?\n")
    );
}

#[test]
fn values_counts_each_value() {
    let out = ok(".values stage\n");
    let rows: Vec<&str> = out.lines().filter(|l| l.starts_with('│')).skip(1).collect();
    let stages = ["lead", "mql", "sql", "opportunity", "customer", "churned"];
    assert_eq!(rows.len(), stages.len(), "{out}");
    for (row, stage) in rows.iter().zip(stages) {
        assert!(
            row.contains(&format!(" {} ", group(count(&format!("stage = {stage}"))))),
            "{row}"
        );
        assert!(row.starts_with(&format!("│ {stage} ")), "{row}");
    }
    let csv = ok(".mode csv\n.values replies_30d\n");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[1], "replies_30d,count");
    assert_eq!(lines[2], format!("0,{}", count("replies_30d = 0")));
    let run = repl(".values\n");
    assert_eq!(
        (run.code, run.stderr.as_str()),
        (2, "error: usage: .values FIELD\n")
    );
}

#[test]
fn explain_and_analyze_print_the_plan() {
    let out = ok(".explain role = champion and not region = emea\n");
    assert!(out.starts_with("and "), "{out}");
    assert!(
        out.contains("role = champion") && out.contains("est "),
        "{out}"
    );
    assert!(!out.contains("actual"));
    let out = ok(".analyze role = champion\n");
    assert!(out.contains("actual"), "{out}");
    assert!(
        out.ends_with(&format!("{} contacts\n", group(count("role = champion")))),
        "{out}"
    );
    // diagnostics point into the line as typed
    let run = repl(".explain role = champion and replies_3d > 2\n");
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains(" --> <query>:1:30\n"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("1 | .explain role = champion and replies_3d > 2\n"),
        "{}",
        run.stderr
    );
    let run = repl(".analyze\n");
    assert_eq!(
        (run.code, run.stderr.as_str()),
        (2, "error: usage: .analyze QUERY\n")
    );
}

#[test]
fn by_breaks_a_query_down() {
    let out = ok(".by region role = champion\n");
    assert!(
        out.ends_with(&format!("{} contacts\n", group(count("role = champion")))),
        "{out}"
    );
    let emea = out.lines().find(|l| l.starts_with("│ emea ")).unwrap();
    assert!(
        emea.contains(&format!(" {} ", count("role = champion and region = emea"))),
        "{emea}"
    );
    let csv = ok(".mode csv\n.by account.tier role = champion\n");
    assert!(csv.contains("account.tier,count\n"), "{csv}");
    let run = repl(".by region\n");
    assert_eq!(
        (run.code, run.stderr.as_str()),
        (2, "error: usage: .by FIELD QUERY\n")
    );
    let run = repl(".by regio role = champion\n");
    assert_eq!(
        run.stderr,
        "error: unknown field `regio`; did you mean `region`?\n"
    );
}

#[test]
fn limit_sets_the_rows_shown() {
    let out = ok(".limit 3\nrole = champion\n");
    assert!(out.starts_with("limit: 3\n"));
    assert_eq!(table_rows(&out), 3, "{out}");
    let out = ok(".limit 0\nrole = champion\n.limit\n");
    assert_eq!(
        out,
        format!(
            "limit: 0\n{} contacts\nlimit: 0\n",
            group(count("role = champion"))
        )
    );
    let run = repl(".limit many\n");
    assert_eq!(
        (run.code, run.stderr.as_str()),
        (2, "error: usage: .limit [N]\n")
    );
}

#[test]
fn fields_chooses_the_columns() {
    let out = ok(".fields email,account.industry\n.limit 1\nrole = champion\n");
    let header = out.lines().find(|l| l.starts_with('│')).unwrap();
    assert_eq!(header.split('┆').count(), 2, "{header}");
    assert!(
        header.contains("email") && header.contains("account.industry"),
        "{header}"
    );
    let out = ok(".fields *\n.limit 1\nrole = champion\n.fields auto\n");
    let header = out.lines().find(|l| l.starts_with('│')).unwrap();
    assert_eq!(header.split('┆').count(), 20, "{header}");
    assert!(out
        .ends_with("fields: auto (the key, the fields the query names, then the first columns)\n"));
    // auto: the key and the fields the query names come first
    let out = ok(".limit 1\nscore > 90 and account.tier = enterprise\n");
    let header = out.lines().find(|l| l.starts_with('│')).unwrap();
    let names: Vec<&str> = header.trim_matches('│').split('┆').map(str::trim).collect();
    assert_eq!(&names[..3], ["id", "score", "account.tier"], "{header}");
    let run = repl(".fields email,rolle\n");
    assert_eq!(
        (run.code, run.stderr.as_str()),
        (2, "error: unknown field `rolle`; did you mean `role`?\n")
    );
}

#[test]
fn mode_switches_the_output() {
    let out = ok(".mode csv\n.fields id,role\n.limit 2\nrole = champion\n");
    let ids = Command::new(BIN)
        .args(["query", "--data"])
        .arg(fixture())
        .args([
            "role = champion",
            "--format",
            "csv",
            "--fields",
            "id,role",
            "--limit",
            "2",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out,
        format!(
            "mode: csv\nfields: id,role\nlimit: 2\n{}",
            String::from_utf8(ids.stdout).unwrap()
        )
    );
    let out = ok(".mode jsonl\n.fields id,tags\n.limit 2\nrole = champion\n");
    let rows: Vec<serde_json::Value> = out
        .lines()
        .skip(3)
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2);
    assert!(rows[0].get("id").is_some() && rows[0].get("tags").is_some());
    let out = ok(".mode expanded\n.fields id,role\n.limit 1\nrole = champion\n.mode\n");
    assert!(out.contains("-[ contact 1 ]"), "{out}");
    assert!(out.contains("\nrole | champion\n"), "{out}");
    assert!(out.ends_with("mode: expanded\n"));
    let run = repl(".mode xml\n");
    assert_eq!(
        (run.code, run.stderr.as_str()),
        (2, "error: usage: .mode [table|csv|jsonl|expanded]\n")
    );
}

#[test]
fn backslash_x_toggles_expanded() {
    let out = ok("\\x\n.limit 1\nrole = champion\n\\x\nrole = champion\n\\x on\n\\x off\n");
    assert!(out.starts_with("expanded display is on\n"), "{out}");
    assert_eq!(out.matches("-[ contact 1 ]").count(), 1, "{out}");
    assert_eq!(table_rows(&out), 1, "{out}");
    assert!(
        out.ends_with("expanded display is on\nexpanded display is off\n"),
        "{out}"
    );
}

#[test]
fn timer_prints_evaluation_time() {
    let out = ok(".limit 0\n.timer on\nrole = champion\n\\timing\nrole = champion\n.timer\n");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[1], "timer is on");
    assert!(
        lines[3].starts_with("time: ") && (lines[3].ends_with(" µs") || lines[3].ends_with(" ms")),
        "{out}"
    );
    assert_eq!(lines[4], "timer is off");
    assert!(!lines[5].starts_with("time:"));
    assert_eq!(lines[6], "timer is on");
    let run = repl(".timer maybe\n");
    assert_eq!(
        (run.code, run.stderr.as_str()),
        (2, "error: usage: .timer [on|off]\n")
    );
}

#[test]
fn keys_switch_the_bindings() {
    assert_eq!(
        ok(".keys\n.keys vi\n.keys emacs\n"),
        "keys: emacs\nkeys: vi\nkeys: emacs\n"
    );
    let run = repl(".keys nano\n");
    assert_eq!(
        (run.code, run.stderr.as_str()),
        (2, "error: usage: .keys [emacs|vi]\n")
    );
}

#[test]
fn now_moves_relative_dates() {
    let within = |now: &str| {
        let out = Command::new(BIN)
            .args(["count", "--now", now, "--data"])
            .arg(fixture())
            .arg("last_activity within 30d")
            .output()
            .unwrap();
        String::from_utf8(out.stdout)
            .unwrap()
            .trim()
            .parse::<u64>()
            .unwrap()
    };
    let out =
        ok(".now\n.limit 0\nlast_activity within 30d\n.now 2026-06-01\nlast_activity within 30d\n");
    assert_eq!(
        out,
        format!(
            "now: 2026-12-01\nlimit: 0\n{} contacts\nnow: 2026-06-01\n{} contacts\n",
            group(within("2026-12-01")),
            group(within("2026-06-01"))
        )
    );
    assert_ne!(within("2026-12-01"), within("2026-06-01"));
    let run = repl(".now someday\n");
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("is not a date"), "{}", run.stderr);
}

#[test]
fn segment_defines_for_the_session() {
    let q = "role = champion and replies_30d > 2";
    let n = count(q);
    let out = ok(&format!(
        ".segment hot = {q}\n.limit 0\n@hot\nsegment hot and region = emea\n.segments\n"
    ));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        format!(
            "segment hot: {}",
            if n == 1 {
                "1 contact".to_string()
            } else {
                format!("{} contacts", group(n))
            }
        )
    );
    assert_eq!(lines[2], format!("{} contacts", group(n)));
    assert_eq!(
        lines[3],
        format!(
            "{} contacts",
            group(count(&format!("({q}) and region = emea")))
        )
    );
    let row = lines.iter().find(|l| l.starts_with("│ hot ")).unwrap();
    assert!(row.contains(q) && row.contains("session"), "{row}");
}

#[test]
fn segment_errors_keep_the_old_definition() {
    let run = repl(".segment hot = role = champion\n.segment hot = rol = x\n.segment loop = @loop\n.segment 9x = role = x\n.limit 0\n@hot\n.segments\n");
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("unknown field `rol`"), "{}", run.stderr);
    assert!(
        run.stderr.contains("1 | .segment hot = rol = x\n"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("cycle"), "{}", run.stderr);
    assert!(
        run.stderr.contains("`9x` cannot name a segment"),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout
            .contains(&format!("\n{} contacts\n", group(count("role = champion")))),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("│ loop "), "{}", run.stdout);
    assert_eq!(
        ok(".segments\n"),
        "no segments: define one with .segment NAME = QUERY, or load files with .load FILE\n"
    );
    let run = repl(".segment hot\n");
    assert_eq!(
        (run.code, run.stderr.as_str()),
        (2, "error: usage: .segment NAME = QUERY\n")
    );
}

#[test]
fn save_writes_session_segments_and_load_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let run = repl_in(
        dir.path(),
        ".segment engaged = replies_30d > 2 or meetings_30d >= 1\n.segment hot = @engaged and role in [champion, decision_maker]\n.save saved.seg\n",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.ends_with("saved 2 segments to saved.seg\n"),
        "{}",
        run.stdout
    );
    let saved = std::fs::read_to_string(dir.path().join("saved.seg")).unwrap();
    assert!(
        saved.contains("segment engaged = replies_30d > 2 or meetings_30d >= 1;\n"),
        "{saved}"
    );
    assert!(
        saved.contains("segment hot = @engaged and role in [champion, decision_maker];\n"),
        "{saved}"
    );
    // the file checks, and a new session can load it
    let check = Command::new(BIN)
        .arg("check")
        .arg(dir.path().join("saved.seg"))
        .arg("--data")
        .arg(fixture())
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let run = repl_in(dir.path(), ".load saved.seg\n.limit 0\n@hot\n.segments\n");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let n = count("(replies_30d > 2 or meetings_30d >= 1) and role in [champion, decision_maker]");
    assert!(
        run.stdout
            .starts_with("loaded 2 segments from saved.seg: engaged, hot\nlimit: 0\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(&format!("\n{} contacts\n", group(n))),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("│ hot ") && l.contains("saved.seg")),
        "{}",
        run.stdout
    );
    // nothing to save, no such file, a file with errors
    let run = repl_in(dir.path(), ".save empty.seg\n");
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("no segments were defined in this session"),
        "{}",
        run.stderr
    );
    let run = repl_in(dir.path(), ".load nosuch.seg\n");
    assert_eq!(
        (run.code, run.stderr.as_str()),
        (2, "error: nosuch.seg: no such file or directory\n")
    );
    std::fs::write(dir.path().join("bad.seg"), "segment a = rol = x;\n").unwrap();
    let run = repl_in(dir.path(), ".load bad.seg\n");
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("--> bad.seg:1:13"), "{}", run.stderr);
}

#[test]
fn export_writes_csv_or_jsonl() {
    let dir = tempfile::tempdir().unwrap();
    let n = count("role = champion");
    let run = repl_in(dir.path(), ".export out.csv role = champion\n.fields id,role\n.export \"two words.jsonl\" role = champion\n");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        format!(
            "wrote {} contacts to out.csv\nfields: id,role\nwrote {} contacts to two words.jsonl\n",
            group(n),
            group(n)
        )
    );
    let csv = std::fs::read_to_string(dir.path().join("out.csv")).unwrap();
    assert_eq!(csv.lines().count() as u64, n + 1);
    assert!(csv.starts_with("id,email,"), "every field by default");
    let jsonl = std::fs::read_to_string(dir.path().join("two words.jsonl")).unwrap();
    assert_eq!(jsonl.lines().count() as u64, n);
    let first: serde_json::Value = serde_json::from_str(jsonl.lines().next().unwrap()).unwrap();
    assert_eq!(first["role"], "champion");
    let run = repl_in(dir.path(), ".export out.xlsx role = champion\n");
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("name it .csv or .jsonl"),
        "{}",
        run.stderr
    );
    assert!(!dir.path().join("out.xlsx").exists());
}

#[test]
fn read_runs_a_file_of_statements() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("script.segq"),
        "# counts\n.limit 0\nrole = champion;\nrole = blocker\n  or role = evaluator\n",
    )
    .unwrap();
    let run = repl_in(dir.path(), ".read script.segq\n");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        format!(
            "limit: 0\n{} contacts\n{} contacts\n",
            group(count("role = champion")),
            group(count("role = blocker or role = evaluator"))
        )
    );
    // a file that reads itself stops, failing
    std::fs::write(dir.path().join("loop.segq"), ".read loop.segq\n").unwrap();
    let run = repl_in(dir.path(), ".read loop.segq\n");
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("nest more than 16 deep"),
        "{}",
        run.stderr
    );
    std::fs::write(dir.path().join("bad.segq"), "rol = x\n").unwrap();
    assert_eq!(repl_in(dir.path(), ".read bad.segq\n").code, 1);
    let run = repl_in(dir.path(), ".read nosuch.segq\n");
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.starts_with("error: cannot read nosuch.segq"),
        "{}",
        run.stderr
    );
}

#[test]
fn data_switches_the_data() {
    let contacts = fixture().join("contacts.csv");
    let out = ok(&format!(
        ".data\n.data {}\n.limit 0\nrole = champion\n",
        contacts.display()
    ));
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with(&format!(
            "data: {} (2,000 contacts, 80 accounts); now is 2026-12-01",
            fixture().display()
        )),
        "{out}"
    );
    assert!(
        lines[1].starts_with(&format!("data: {} (2,000 contacts)", contacts.display())),
        "{out}"
    );
    assert_eq!(
        lines[3],
        format!("{} contacts", group(count("role = champion")))
    );
    // no accounts table now: the account query fails
    let run = repl(&format!(
        ".data {}\naccount.tier = smb\n",
        contacts.display()
    ));
    assert_eq!(run.code, 1, "{}", run.stderr);
    // a bad path keeps the data
    let run = repl(".data /nonexistent/x\n.limit 0\nrole = champion\n");
    assert_eq!(run.code, 2);
    assert!(run.stderr.starts_with("error: "), "{}", run.stderr);
    assert!(run
        .stdout
        .ends_with(&format!("{} contacts\n", group(count("role = champion")))));
}

#[test]
fn quit_stops_reading() {
    for quit in [".quit", ".exit", "\\q", ".quit;"] {
        let out = ok(&format!(".limit 0\n{quit}\nrole = champion\n"));
        assert_eq!(out, "limit: 0\n", "{quit}");
    }
    // failures before .quit still set the exit code
    assert_eq!(repl("rol = x\n.quit\n").code, 1);
}

#[test]
fn blank_input_and_comments_do_nothing() {
    assert_eq!(ok(""), "");
    assert_eq!(ok("\n\n# only a comment\n;\n"), "");
}

#[test]
fn malformed_input_never_crashes() {
    let run = repl("role in [champion\n");
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("error"), "{}", run.stderr);
    let run = repl("\u{1F389}\n\"unclosed\n(((\n");
    assert_eq!(run.code, 1);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}
