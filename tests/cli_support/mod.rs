//! Helpers of tests/cli.rs: run the real `segq` binary in a scratch
//! directory (stdout, stderr, exit code; never a panic or a hang), a small
//! generated data set shared by the whole test binary, and golden files of
//! whole commands.
//!
//! A golden file (tests/golden/**/*.txt) is a list of sections, each
//! starting with a line `=== NAME`; lines before the first are comments:
//!
//! ```text
//! # what this checks
//! === args
//! count --data gen
//! === query
//! role in [decision_maker] and replies_3d > 2
//! === exit
//! 1
//! === stdout
//! === stderr
//! error: unknown field `replies_3d`
//! ...
//! ```
//!
//! - `args`: the arguments, split at whitespace. The query (if any) is added
//!   as the last argument, or fed on stdin when `args` holds a lone `-`.
//! - `query`: the query text without its final newline; `{{"(" * 3}}`
//!   stands for the string repeated (so huge inputs stay reviewable).
//! - `file PATH`: a file written into the scratch directory before the run.
//! - `exit`, `stdout`, `stderr`: what the command must give. Trailing
//!   newlines are not compared, but non-empty output must end with one.
//! - `after PATH`: what a file must hold after the run (`segq fmt`).
//!
//! The scratch directory holds `gen` (a link to the generated data) and
//! `crm` (a link to tests/fixtures/crm), so paths in messages are short and
//! stable. `UPDATE_GOLDEN=1 cargo test --test cli` rewrites `exit`,
//! `stdout`, `stderr` and `after` from the actual run; review the diff.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// No command may take longer than this (debug build, shared machine).
const TIMEOUT: Duration = Duration::from_secs(120);

/// The options of the generated data set every test shares.
pub const GEN_ARGS: &[&str] = &[
    "gen",
    "--contacts",
    "3000",
    "--accounts",
    "120",
    "--seed",
    "1",
    "--today",
    "2026-12-01",
];

/// One finished run of the binary.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts exit 0 and returns stdout.
    #[track_caller]
    pub fn ok(&self) -> &str {
        assert_eq!(
            self.code, 0,
            "expected success:\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        &self.stdout
    }

    /// Asserts the exit code and returns stderr.
    #[track_caller]
    pub fn fails(&self, code: i32) -> &str {
        assert_eq!(
            self.code, code,
            "expected exit {code}:\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        &self.stderr
    }

    /// stdout of a successful `count`, as a number.
    #[track_caller]
    pub fn count(&self) -> u64 {
        let text = self.ok().trim();
        text.parse()
            .unwrap_or_else(|_| panic!("not a count: {text:?}\n{}", self.stderr))
    }
}

/// The `segq` binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_segq")
}

/// The generated data set: written once per test binary into the target's
/// scratch space (stale copies of earlier runs are removed).
pub fn gen_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR"));
        remove_stale(root);
        let dir = tempfile::Builder::new()
            .prefix("segq-cli-gen-")
            .tempdir_in(root)
            .expect("scratch directory")
            .keep();
        let mut args: Vec<&str> = GEN_ARGS.to_vec();
        let out = dir.join("data");
        let out_text = out.display().to_string();
        args.extend(["--out", &out_text]);
        let run = run_in(root, &args, None);
        assert_eq!(run.code, 0, "segq gen failed: {}", run.stderr);
        out
    })
}

/// Generated data of earlier runs (older than an hour) is deleted.
fn remove_stale(root: &Path) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > Duration::from_secs(3600));
        if old && name.to_string_lossy().starts_with("segq-cli-gen-") {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// The CRM fixture: a slice of a real export with US dates.
pub fn crm_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/crm")
}

/// Runs `segq args` in `dir` with NO_COLOR set; asserts it ended by itself
/// within the timeout and did not panic.
#[track_caller]
pub fn run_in(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Run {
    let mut child = Command::new(bin())
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("RUST_BACKTRACE")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("segq starts");
    let feeder = stdin.map(|bytes| {
        let mut pipe = child.stdin.take().expect("piped stdin");
        let bytes = bytes.to_vec();
        std::thread::spawn(move || {
            let _ = pipe.write_all(&bytes);
        })
    });
    let reader = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            buf
        })
    };
    let out = reader(Box::new(child.stdout.take().expect("piped stdout")));
    let err = reader(Box::new(child.stderr.take().expect("piped stderr")));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for segq") {
            break status;
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            panic!("segq {args:?} did not finish within {TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    if let Some(f) = feeder {
        let _ = f.join();
    }
    let stdout = String::from_utf8(out.join().expect("stdout reader")).expect("stdout is UTF-8");
    let stderr = String::from_utf8(err.join().expect("stderr reader")).expect("stderr is UTF-8");
    let code = status
        .code()
        .unwrap_or_else(|| panic!("segq {args:?} was killed by a signal: {status:?}\n{stderr}"));
    assert!(
        !stderr.contains("panicked"),
        "segq {args:?} panicked:\n{stderr}"
    );
    assert_ne!(code, 101, "segq {args:?} exited like a panic:\n{stderr}");
    assert!(
        !stderr.contains('\x1b') && !stdout.contains('\x1b'),
        "colour despite NO_COLOR"
    );
    Run {
        code,
        stdout,
        stderr,
    }
}

/// A scratch directory with `gen` and `crm` linked in; no `queries/`.
pub struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let dir = tempfile::tempdir().expect("scratch directory");
        link(gen_dir(), &dir.path().join("gen"));
        link(&crm_dir(), &dir.path().join("crm"));
        Sandbox { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file (creating its directories) and returns its path.
    pub fn write(&self, rel: &str, text: impl AsRef<[u8]>) -> PathBuf {
        let path = self.dir.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("has a parent")).expect("mkdir");
        std::fs::write(&path, text).expect("write file");
        path
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(rel)).expect("read file")
    }

    #[track_caller]
    pub fn run(&self, args: &[&str]) -> Run {
        run_in(self.path(), args, None)
    }

    #[track_caller]
    pub fn run_stdin(&self, args: &[&str], stdin: &[u8]) -> Run {
        run_in(self.path(), args, Some(stdin))
    }

    /// `segq count --data DATA [extra...] QUERY`, as a number.
    #[track_caller]
    pub fn count(&self, data: &str, query: &str) -> u64 {
        self.run(&["count", "--data", data, query]).count()
    }
}

#[cfg(unix)]
fn link(target: &Path, at: &Path) {
    std::os::unix::fs::symlink(target, at).expect("symlink");
}

#[cfg(not(unix))]
fn link(target: &Path, at: &Path) {
    copy_dir(target, at);
}

#[cfg(not(unix))]
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            copy_dir(&path, &to.join(entry.file_name()));
        } else {
            std::fs::copy(&path, to.join(entry.file_name())).expect("copy");
        }
    }
}

// ------------------------------------------------------------------ golden

/// One parsed golden file.
pub struct Golden {
    pub path: PathBuf,
    comments: String,
    sections: Vec<(String, String)>,
}

impl Golden {
    pub fn load(path: &Path) -> Golden {
        let text =
            std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut comments = String::new();
        let mut sections: Vec<(String, String)> = Vec::new();
        for line in text.split_inclusive('\n') {
            if let Some(name) = line.strip_prefix("=== ") {
                sections.push((name.trim_end().to_string(), String::new()));
            } else if let Some((_, body)) = sections.last_mut() {
                body.push_str(line);
            } else {
                comments.push_str(line);
            }
        }
        Golden {
            path: path.to_path_buf(),
            comments,
            sections,
        }
    }

    pub fn name(&self) -> String {
        self.path
            .file_stem()
            .expect("file name")
            .to_string_lossy()
            .to_string()
    }

    pub fn section(&self, name: &str) -> Option<&str> {
        self.sections
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| b.as_str())
    }

    fn set(&mut self, name: &str, body: String) {
        match self.sections.iter_mut().find(|(n, _)| n == name) {
            Some((_, b)) => *b = body,
            None => self.sections.push((name.to_string(), body)),
        }
    }

    /// The query of the file, with `{{"s" * n}}` expanded.
    pub fn query(&self) -> Option<String> {
        self.section("query")
            .map(|q| expand(q.strip_suffix('\n').unwrap_or(q)))
    }

    /// Runs the command in a fresh sandbox.
    pub fn run(&self) -> (Sandbox, Run) {
        let sandbox = Sandbox::new();
        for (name, body) in &self.sections {
            if let Some(rel) = name.strip_prefix("file ") {
                sandbox.write(rel, body);
            }
        }
        let args_line = self
            .section("args")
            .unwrap_or_else(|| panic!("{}: no `=== args`", self.path.display()));
        let mut args: Vec<String> = args_line.split_whitespace().map(str::to_string).collect();
        let query = self.query();
        let stdin = args.iter().any(|a| a == "-");
        if let (Some(q), false) = (&query, stdin) {
            args.push(q.clone());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = match (&query, stdin) {
            (Some(q), true) => sandbox.run_stdin(&args, q.as_bytes()),
            _ => sandbox.run(&args),
        };
        (sandbox, run)
    }

    /// Compares a run with the file; returns the differences (empty: equal).
    /// With UPDATE_GOLDEN=1, rewrites the file from the run instead.
    pub fn verify(&mut self, sandbox: &Sandbox, run: &Run) -> Vec<String> {
        let mut problems = Vec::new();
        for (what, out) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
            if !out.is_empty() && !out.ends_with('\n') {
                problems.push(format!("{what} does not end with a newline"));
            }
        }
        let mut actual: Vec<(String, String)> = vec![
            ("exit".into(), format!("{}\n", run.code)),
            ("stdout".into(), run.stdout.clone()),
            ("stderr".into(), run.stderr.clone()),
        ];
        for (name, _) in &self.sections {
            if let Some(rel) = name.strip_prefix("after ") {
                let now = std::fs::read_to_string(sandbox.path().join(rel))
                    .unwrap_or_else(|e| format!("<{e}>"));
                actual.push((name.clone(), now));
            }
        }
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            for (name, body) in actual {
                self.set(&name, body);
            }
            self.save();
            return problems;
        }
        for (name, got) in &actual {
            let want = self.section(name).unwrap_or("<missing section>");
            if want.trim_end_matches('\n') != got.trim_end_matches('\n') {
                problems.push(format!(
                    "`=== {name}` differs\n--- expected\n{want}\n--- actual\n{got}\n--- first difference\n{}",
                    first_difference(want, got)
                ));
            }
        }
        problems
    }

    fn save(&self) {
        let mut text = self.comments.clone();
        for (name, body) in &self.sections {
            text.push_str("=== ");
            text.push_str(name);
            text.push('\n');
            text.push_str(body);
            if !body.is_empty() && !body.ends_with('\n') {
                text.push('\n');
            }
        }
        std::fs::write(&self.path, text).expect("rewrite golden file");
    }
}

/// The golden files of a directory under tests/golden, sorted.
pub fn golden_files(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    files
}

/// Runs every golden file of a directory (on a few threads), checks each
/// with `extra` too, and fails listing every mismatch.
pub fn run_golden_dir(dir: &str, extra: &(dyn Fn(&Golden, &Run) -> Vec<String> + Sync)) -> usize {
    let files = golden_files(dir);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(path) = files.get(i) else { break };
                let mut golden = Golden::load(path);
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    let (sandbox, run) = golden.run();
                    let mut problems = golden.verify(&sandbox, &run);
                    problems.extend(extra(&golden, &run));
                    problems
                }));
                let problems = outcome.unwrap_or_else(|e| {
                    vec![e
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_else(|| "panicked".into())]
                });
                if !problems.is_empty() {
                    failures.lock().expect("not poisoned").push(format!(
                        "{}:\n{}",
                        path.display(),
                        problems.join("\n")
                    ));
                }
            });
        }
    });
    let failures = failures.into_inner().expect("not poisoned");
    assert!(
        failures.is_empty(),
        "{} of {} golden files in {dir} fail (UPDATE_GOLDEN=1 rewrites them; review the diff):\n\n{}",
        failures.len(),
        files.len(),
        failures.join("\n\n")
    );
    files.len()
}

/// `{{"ab" * 3}}` → `ababab`; the rest unchanged.
pub fn expand(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("{{\"") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 3..];
        let parsed = after.find("\" * ").and_then(|q| {
            let unit = &after[..q];
            let tail = &after[q + 4..];
            let close = tail.find("}}")?;
            let n: usize = tail[..close].trim().replace('_', "").parse().ok()?;
            Some((unit.replace("\\n", "\n"), n, q + 4 + close + 2))
        });
        match parsed {
            Some((unit, n, used)) => {
                out.push_str(&unit.repeat(n));
                rest = &after[used..];
            }
            None => {
                out.push_str("{{\"");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The first differing line of two texts, for failure messages.
fn first_difference(want: &str, got: &str) -> String {
    let (w, g): (Vec<&str>, Vec<&str>) = (want.lines().collect(), got.lines().collect());
    for i in 0..w.len().max(g.len()) {
        let (a, b) = (w.get(i).copied(), g.get(i).copied());
        if a != b {
            return format!("line {}:\n  expected {:?}\n  actual   {:?}", i + 1, a, b);
        }
    }
    "only trailing whitespace".into()
}
