//! Every documented limit (README "Limits", SECURITY.md), hit through the
//! real binary: each hostile input ends in exit 1 (a query or query file)
//! or 2 (data), with a located, lower-case message, no panic, and — where
//! the input is large — a peak resident memory far below what reading it
//! whole would take. A watchdog fails any run that hangs.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Generous for a debug build on a shared machine; the inputs here take
/// well under a second each.
const WATCHDOG: Duration = Duration::from_secs(60);

/// Peak memory allowed on the 100 MB inputs: the binary needs ~90 MB with
/// its 16 MB record buffers; holding a 100 MB input (and growing a buffer
/// to it) would take well over this.
const MAX_RSS_KB: u64 = 160 * 1024;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    /// Peak resident set size of the process, in KiB.
    max_rss_kb: u64,
}

/// Runs `segq args…` in `dir` with `stdin`; with `bounded`, asserts that
/// its peak memory stayed under [`MAX_RSS_KB`].
fn segq(dir: &Path, args: &[&str], stdin: Option<&[u8]>, bounded: bool) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_segq"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn segq");
    if let Some(bytes) = stdin {
        let mut pipe = child.stdin.take().expect("stdin");
        let bytes = bytes.to_vec();
        // A writer thread, so a child that stops reading cannot block us.
        std::thread::spawn(move || {
            let _ = pipe.write_all(&bytes);
        });
    }
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let out = drain(Box::new(child.stdout.take().expect("stdout")));
    let err = drain(Box::new(child.stderr.take().expect("stderr")));
    // Peak memory from /proc while it runs (a lower bound; a fork's own
    // rusage would also count this test process's memory).
    let status_file = format!("/proc/{}/status", child.id());
    let mut max_rss_kb = 0;
    let start = Instant::now();
    let status = loop {
        if let Ok(text) = std::fs::read_to_string(&status_file) {
            let hwm = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok());
            max_rss_kb = max_rss_kb.max(hwm.unwrap_or(0));
        }
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > WATCHDOG {
            let _ = child.kill();
            panic!("segq {args:?} ran longer than {WATCHDOG:?}");
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let run = Run {
        code: status.code().unwrap_or(-1),
        stdout: out.join().expect("stdout"),
        stderr: err.join().expect("stderr"),
        max_rss_kb,
    };
    assert!(
        !run.stderr.contains("panicked"),
        "segq {args:?} panicked:\n{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("memory allocation"),
        "segq {args:?} ran out of memory:\n{}",
        run.stderr
    );
    if bounded {
        assert!(
            run.max_rss_kb < MAX_RSS_KB,
            "segq {args:?} peaked at {} KiB",
            run.max_rss_kb
        );
    }
    run
}

/// Asserts the exit code and that stderr starts with `error: ` and holds `want`.
#[track_caller]
fn fails_with(run: &Run, code: i32, want: &[&str]) {
    assert_eq!(
        run.code, code,
        "stdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    assert!(run.stderr.starts_with("error: "), "{}", run.stderr);
    for w in want {
        assert!(run.stderr.contains(w), "missing {w:?} in:\n{}", run.stderr);
    }
}

fn scratch() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("write");
    p
}

/// A tiny data set: `contacts.csv` with a title column.
fn small_data(dir: &Path, title: &str) {
    std::fs::create_dir_all(dir.join("d")).expect("mkdir");
    write(
        dir,
        "d/contacts.csv",
        format!("id,title,score\n1,{title},3\n2,cto,4\n").as_bytes(),
    );
}

// ------------------------------------------------------------ query text

#[test]
fn limits_query_text_size() {
    let dir = scratch();
    small_data(dir.path(), "x");
    let query = format!("title = \"{}\"", "a".repeat(1 << 20));
    let run = segq(
        dir.path(),
        &["count", "--data", "d", "-"],
        Some(query.as_bytes()),
        false,
    );
    fails_with(
        &run,
        1,
        &[
            "error: input is 1048586 bytes, more than the limit of 1048576",
            "--> <query>:1:1",
        ],
    );
    // an endless stdin is read up to the file limit only
    let endless = vec![b'a'; (16 << 20) + 4096];
    let run = segq(
        dir.path(),
        &["count", "--data", "d", "-"],
        Some(&endless),
        true,
    );
    fails_with(&run, 1, &["more than the limit of 1048576"]);
}

#[test]
fn limits_query_file_size_is_checked_before_reading_it_whole() {
    let dir = scratch();
    let mut text = b"segment a = title contains \"".to_vec();
    text.resize(100 << 20, b'x');
    text.extend_from_slice(b"\";\n");
    write(dir.path(), "huge.seg", &text);
    for command in ["check", "fmt"] {
        let run = segq(dir.path(), &[command, "huge.seg"], None, true);
        fails_with(
            &run,
            1,
            &[
                "error: input is 104857603 bytes, more than the limit of 16777216",
                "--> huge.seg:1:1",
            ],
        );
    }
}

#[test]
fn limits_nesting_depth() {
    let dir = scratch();
    small_data(dir.path(), "x");
    let cases = [
        format!("{}score > 1{}", "(".repeat(65), ")".repeat(65)),
        format!("{}score > 1", "not ".repeat(65)),
        // far past the limit: no stack overflow, the same error
        format!("{}score > 1{}", "(".repeat(200_000), ")".repeat(200_000)),
        format!("{}all", "not ".repeat(200_000)),
        format!("title in {}", "[".repeat(100_000)),
    ];
    for q in &cases {
        let run = segq(
            dir.path(),
            &["count", "--data", "d", "-"],
            Some(q.as_bytes()),
            false,
        );
        fails_with(
            &run,
            1,
            &["nesting deeper than the limit of 64", "--> <query>:1:"],
        );
    }
    let ok = format!("{}score > 1{}", "(".repeat(60), ")".repeat(60));
    let run = segq(
        dir.path(),
        &["count", "--data", "d", "-"],
        Some(ok.as_bytes()),
        false,
    );
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "2\n"),
        "{}",
        run.stderr
    );
}

#[test]
fn limits_list_length() {
    let dir = scratch();
    small_data(dir.path(), "x");
    let list = |n: usize| {
        (0..n)
            .map(|i| format!("v{i}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let run = segq(
        dir.path(),
        &["count", "--data", "d", "-"],
        Some(format!("title in [{}]", list(10_001)).as_bytes()),
        false,
    );
    fails_with(
        &run,
        1,
        &[
            "list of 10001 values is longer than the limit of 10000",
            "--> <query>:1:10",
        ],
    );
    let run = segq(
        dir.path(),
        &["count", "--data", "d", "-"],
        Some(format!("title in [{}, cto]", list(9_999)).as_bytes()),
        false,
    );
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "1\n"),
        "{}",
        run.stderr
    );
}

#[test]
fn limits_number_of_segments() {
    let dir = scratch();
    let file: String = (0..10_001)
        .map(|i| format!("segment s{i} = all;\n"))
        .collect();
    write(dir.path(), "many.seg", file.as_bytes());
    let run = segq(dir.path(), &["check", "many.seg"], None, false);
    fails_with(
        &run,
        1,
        &[
            "error: more than 10000 segments are loaded",
            "--> many.seg:10001:9",
        ],
    );
}

// ---------------------------------------------------------------- regexes

#[test]
fn limits_regex_compiled_size() {
    let dir = scratch();
    small_data(dir.path(), "x");
    for re in ["(?:a{1000}){1000}", "((a{100}){100}){100}", "\\\\w{5000}"] {
        let q = format!("title matches \"{re}\"");
        let run = segq(dir.path(), &["count", "--data", "d", &q], None, false);
        fails_with(
            &run,
            1,
            &[
                "error: the regular expression is too big (compiled size limit 1048576 bytes)",
                "--> <query>:1:15",
            ],
        );
    }
}

#[test]
fn limits_number_of_different_regexes() {
    // Each of these compiles for milliseconds before it is refused as too
    // big; a query of thousands must still end quickly, with one error
    // per kind.
    let dir = scratch();
    small_data(dir.path(), "x");
    let q: Vec<String> = (0..3000)
        .map(|i| format!("title matches \"\\\\w{{{}}}x\"", 300 + i))
        .collect();
    let run = segq(
        dir.path(),
        &["count", "--data", "d", "-"],
        Some(q.join(" or ").as_bytes()),
        false,
    );
    fails_with(
        &run,
        1,
        &["more than 128 different regular expressions in one query"],
    );
    assert_eq!(
        run.stderr.matches("different regular expressions").count(),
        1,
        "{}",
        &run.stderr[..2000.min(run.stderr.len())]
    );
    // the same pattern again and again is compiled once
    let q = vec!["title matches \"^c.o$\""; 5000].join(" or ");
    let run = segq(
        dir.path(),
        &["count", "--data", "d", "-"],
        Some(q.as_bytes()),
        false,
    );
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "1\n"),
        "{}",
        run.stderr
    );
}

#[test]
fn limits_regex_runs_in_linear_time() {
    // Patterns that backtracking engines take exponential time on, over a
    // 4 MB title that nearly matches: the regex crate's automata are linear.
    let dir = scratch();
    small_data(dir.path(), &"a".repeat(4 << 20));
    for (re, want) in [
        ("(a*)*b", "0\n"),
        ("(a|aa)*c", "1\n"),
        ("^(a+)+$", "1\n"),
        ("(?i)(A|a?)+b", "0\n"),
    ] {
        let q = format!("title matches \"{re}\"");
        let run = segq(dir.path(), &["count", "--data", "d", &q], None, false);
        assert_eq!(
            (run.code, run.stdout.as_str()),
            (0, want),
            "{re}: {}",
            run.stderr
        );
    }
}

// ------------------------------------------------------------------ data

#[test]
fn limits_csv_record_size_without_buffering_the_record() {
    let dir = scratch();
    std::fs::create_dir_all(dir.path().join("d")).expect("mkdir");
    for (name, open, close) in [
        ("plain", "", ""),
        ("quoted", "\"", "\""),
        ("unclosed", "\"", ""),
    ] {
        let mut text = format!("id,notes\n1,ok\n2,{open}").into_bytes();
        text.resize(text.len() + (100 << 20), b'x');
        text.extend_from_slice(format!("{close}\n3,z\n").as_bytes());
        write(dir.path(), "d/contacts.csv", &text);
        for skip in [false, true] {
            let mut args = vec!["count", "--data", "d", "all"];
            if skip {
                args.push("--skip-bad-rows");
            }
            let run = segq(dir.path(), &args, None, true);
            fails_with(
                &run,
                2,
                &["error: d/contacts.csv:3: a record is longer than the limit of 16777216 bytes"],
            );
            assert!(run.stdout.is_empty(), "{name}");
            assert!(
                run.max_rss_kb > 1024,
                "memory was measured while reading 100 MB: {} KiB",
                run.max_rss_kb
            );
        }
    }
}

#[test]
fn limits_jsonl_line_size_without_buffering_the_line() {
    let dir = scratch();
    std::fs::create_dir_all(dir.path().join("d")).expect("mkdir");
    let mut text = b"{\"id\": 1}\n{\"id\": 2, \"notes\": \"".to_vec();
    text.resize(text.len() + (100 << 20), b'x');
    text.extend_from_slice(b"\"}\n{\"id\": 3}\n");
    write(dir.path(), "d/contacts.jsonl", &text);
    let run = segq(dir.path(), &["count", "--data", "d", "all"], None, true);
    fails_with(
        &run,
        2,
        &["error: d/contacts.jsonl:2: line longer than 16777216 bytes"],
    );
    let run = segq(
        dir.path(),
        &["count", "--data", "d", "all", "--skip-bad-rows"],
        None,
        true,
    );
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "2\n"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(
            "skipped 1 bad row(s):\n  d/contacts.jsonl:2: line longer than 16777216 bytes"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn limits_json_depth() {
    let dir = scratch();
    std::fs::create_dir_all(dir.path().join("d")).expect("mkdir");
    for deep in [
        format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)),
        format!("{}1{}", "{\"a\":".repeat(129), "}".repeat(129)),
    ] {
        write(
            dir.path(),
            "d/contacts.jsonl",
            format!("{{\"id\": 1}}\n{{\"id\": 2, \"x\": {deep}}}\n").as_bytes(),
        );
        let run = segq(dir.path(), &["count", "--data", "d", "all"], None, false);
        fails_with(
            &run,
            2,
            &[
                "error: d/contacts.jsonl:2:",
                ": invalid JSON: recursion limit exceeded",
            ],
        );
    }
    // within the limit, a nested value is refused by name, not echoed
    write(
        dir.path(),
        "d/contacts.jsonl",
        format!(
            "{{\"id\": 2, \"x\": [{}{}]}}\n",
            "[".repeat(120),
            "]".repeat(120)
        )
        .as_bytes(),
    );
    let run = segq(dir.path(), &["count", "--data", "d", "all"], None, false);
    fails_with(&run, 2, &["error: d/contacts.jsonl:1: `x`: a list may hold strings, numbers and booleans, not a list"]);
    assert!(run.stderr.len() < 200, "{}", run.stderr);
}

#[test]
fn limits_columns_per_table() {
    let dir = scratch();
    std::fs::create_dir_all(dir.path().join("d")).expect("mkdir");
    let header = (0..4097)
        .map(|i| format!("c{i}"))
        .collect::<Vec<_>>()
        .join(",");
    write(
        dir.path(),
        "d/contacts.csv",
        format!("{header}\n").as_bytes(),
    );
    let run = segq(dir.path(), &["count", "--data", "d", "all"], None, false);
    fails_with(
        &run,
        2,
        &["error: d/contacts.csv:1: more than 4096 columns"],
    );
    let keys: String = (0..4097).map(|i| format!("\"k{i}\": 1, ")).collect();
    write(dir.path(), "d/contacts.csv", b"");
    std::fs::remove_file(dir.path().join("d/contacts.csv")).expect("rm");
    write(
        dir.path(),
        "d/contacts.jsonl",
        format!("{{{keys}\"id\": 1}}\n").as_bytes(),
    );
    let run = segq(dir.path(), &["count", "--data", "d", "all"], None, false);
    fails_with(
        &run,
        2,
        &["error: d/contacts.jsonl:1: more than 4096 columns"],
    );
}

#[test]
fn limits_schema_size() {
    let dir = scratch();
    small_data(dir.path(), "x");
    let mut schema = b"[contacts.fields]\nscore = \"int\"\n#".to_vec();
    schema.resize(100 << 20, b'x');
    write(dir.path(), "d/schema.toml", &schema);
    let run = segq(dir.path(), &["count", "--data", "d", "all"], None, true);
    fails_with(&run, 2, &["error: d/schema.toml: the file is longer than the limit of 16777216 bytes for a schema"]);
    let run = segq(
        dir.path(),
        &["check", "--schema", "d/schema.toml", "all"],
        None,
        true,
    );
    fails_with(
        &run,
        2,
        &["d/schema.toml: the file is longer than the limit of 16777216 bytes for a schema"],
    );
}

#[test]
fn limits_malformed_and_truncated_data_is_located() {
    let dir = scratch();
    std::fs::create_dir_all(dir.path().join("d")).expect("mkdir");
    let cases: [(&str, &[u8], &str); 5] = [
        (
            "contacts.csv",
            b"id,name\n1,a\n2,\xff\xfe\n",
            "d/contacts.csv:3:2: not valid UTF-8",
        ),
        (
            "contacts.csv",
            b"id,name\n1,a\n2",
            "d/contacts.csv:3:2: expected 2 fields, found 1",
        ),
        ("contacts.csv", b"id,name\n1,\"a\n", "d/contacts.csv:2:"),
        (
            "contacts.jsonl",
            b"{\"id\": 1}\n{\"id\": 2, \"name\": \"tru",
            "d/contacts.jsonl:2:",
        ),
        (
            "contacts.jsonl",
            b"{\"id\": 1}\n\x00\x01\x02\n",
            "d/contacts.jsonl:2:1: invalid JSON",
        ),
    ];
    for (name, bytes, want) in cases {
        let _ = std::fs::remove_file(dir.path().join("d/contacts.csv"));
        let _ = std::fs::remove_file(dir.path().join("d/contacts.jsonl"));
        write(dir.path(), &format!("d/{name}"), bytes);
        let run = segq(dir.path(), &["count", "--data", "d", "all"], None, false);
        if want == "d/contacts.csv:2:" {
            // an unclosed quote at the end of the file: the record is the rest of the file
            assert!(run.code == 0 || run.code == 2, "{}", run.stderr);
            continue;
        }
        fails_with(&run, 2, &[&format!("error: {want}")]);
    }
}

#[test]
fn limits_snapshot_lengths_are_checked_against_the_file() {
    let dir = scratch();
    small_data(dir.path(), "x");
    let run = segq(
        dir.path(),
        &["index", "--data", "d", "--out", "s.segx"],
        None,
        false,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let good = std::fs::read(dir.path().join("s.segx")).expect("snapshot");
    let header = |content: &[u8]| {
        let mut file = good[..16].to_vec();
        file.extend_from_slice(&(content.len() as u64).to_le_bytes());
        file.extend_from_slice(&xxhash_rust::xxh3::xxh3_64(content).to_le_bytes());
        file.extend_from_slice(content);
        file
    };
    let mut cases: Vec<(Vec<u8>, &str)> = Vec::new();
    // a header that claims an enormous content
    let mut huge = good.clone();
    huge[16..24].copy_from_slice(&(1u64 << 60).to_le_bytes());
    cases.push((huge, "the snapshot is truncated"));
    cases.push((good[..good.len() / 2].to_vec(), "the snapshot is truncated"));
    let mut flipped = good.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 0x40;
    cases.push((flipped, "checksum mismatch"));
    for (i, (bytes, want)) in cases.iter().enumerate() {
        std::fs::write(dir.path().join("bad.segx"), bytes).expect("write");
        let run = segq(
            dir.path(),
            &["count", "--data", "bad.segx", "all"],
            None,
            true,
        );
        fails_with(&run, 2, &["bad.segx", want]);
        assert!(run.stderr.lines().count() == 1, "case {i}: {}", run.stderr);
    }
    // 2^64-1 written over every few bytes of the content (lengths, counts,
    // codes, offsets), behind a valid checksum: refused as malformed, or
    // (where the bytes were only data) loaded; never a crash or a huge
    // allocation.
    let content = &good[32..];
    let (mut refused, mut loaded) = (0, 0);
    for at in (0..content.len() - 8).step_by((content.len() / 60).max(1)) {
        let mut c = content.to_vec();
        c[at..at + 8].copy_from_slice(&[0xff; 8]);
        std::fs::write(dir.path().join("bad.segx"), header(&c)).expect("write");
        let run = segq(
            dir.path(),
            &["count", "--data", "bad.segx", "all"],
            None,
            true,
        );
        match run.code {
            0 => loaded += 1,
            _ => {
                fails_with(&run, 2, &["bad.segx", "the snapshot is malformed"]);
                refused += 1;
            }
        }
    }
    assert!(refused > loaded, "{refused} refused, {loaded} loaded");
}
