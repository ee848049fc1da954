//! Crash safety of `segq index`: killed with SIGKILL at random points —
//! while loading, while writing, while renaming — the target path holds
//! either the previous snapshot or the complete new one (it loads, and
//! answers as that one did), never a torn file; and whatever a killed run
//! leaves behind (a `.segx-*.tmp` file) does not break the next run.
#![cfg(unix)]

use rand::{Rng, SeedableRng};
use segq::engine::Engine;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const KILLS: usize = 20;

fn segq(dir: &Path, args: &[&str]) -> std::process::Output {
    let out = Command::new(env!("CARGO_BIN_EXE_segq"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run segq");
    assert!(
        out.status.success(),
        "segq {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The count of every contact and of a few queries: what a snapshot answers.
fn answers(path: &Path) -> Result<Vec<u64>, String> {
    let store = segq::store::snapshot::read(path)?;
    let mut engine = Engine::new(store, 20_000 * segq::time::MICROS_PER_DAY);
    [
        "all",
        "role = champion and replies_30d > 0",
        "account.tier = enterprise",
        "tags has any [webinar]",
    ]
    .iter()
    .map(|q| engine.count_query(q).map_err(|e| format!("{q}: {e:?}")))
    .collect()
}

#[test]
fn crash_safety_sigkill_during_index_leaves_old_or_new_snapshot() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    // Two data sets; `new.segx` is indexed from a snapshot, so a run spends
    // much of its time writing (loading a snapshot is fast).
    segq(
        d,
        &[
            "gen",
            "--contacts",
            "2000",
            "--accounts",
            "80",
            "--seed",
            "1",
            "--today",
            "2026-12-01",
            "--out",
            "old",
        ],
    );
    segq(
        d,
        &[
            "gen",
            "--contacts",
            "60000",
            "--accounts",
            "2400",
            "--seed",
            "2",
            "--today",
            "2026-12-01",
            "--out",
            "new",
        ],
    );
    segq(d, &["index", "--data", "old", "--out", "old.segx"]);
    segq(d, &["index", "--data", "new", "--out", "new.segx"]);
    let old = answers(&d.join("old.segx")).expect("old snapshot");
    let new = answers(&d.join("new.segx")).expect("new snapshot");
    assert_ne!(old, new);

    // How long an uninterrupted run takes, to spread the kills over it.
    std::fs::copy(d.join("old.segx"), d.join("target.segx")).expect("copy");
    let started = Instant::now();
    segq(d, &["index", "--data", "new.segx", "--out", "target.segx"]);
    let full = started.elapsed();
    assert_eq!(answers(&d.join("target.segx")), Ok(new.clone()));

    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let (mut saw_old, mut saw_new) = (0, 0);
    for i in 0..KILLS {
        // Start from the old snapshot every other time, so both outcomes can occur.
        if i % 2 == 0 {
            std::fs::copy(d.join("old.segx"), d.join("target.segx")).expect("copy");
        }
        let before = answers(&d.join("target.segx")).expect("target loads before the run");
        let mut child = Command::new(env!("CARGO_BIN_EXE_segq"))
            .args(["index", "--data", "new.segx", "--out", "target.segx"])
            .current_dir(d)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let wait = full
            .mul_f64(rng.gen_range(0.0..1.2))
            .min(Duration::from_secs(3));
        std::thread::sleep(wait);
        child.kill().expect("SIGKILL"); // std sends SIGKILL on Unix
        child.wait().expect("reap");
        match answers(&d.join("target.segx")) {
            Ok(a) if a == before && a == old => saw_old += 1,
            Ok(a) if a == new => saw_new += 1,
            other => {
                panic!("kill {i} after {wait:?}: the target holds neither snapshot: {other:?}")
            }
        }
    }
    // Leftovers of killed runs are temporary files beside the target,
    // never mistaken for a snapshot, and the next run succeeds.
    let mut leftovers = 0;
    for entry in std::fs::read_dir(d).expect("read dir") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if !["old", "new", "old.segx", "new.segx", "target.segx"].contains(&name.as_str()) {
            assert!(
                name.starts_with(".segx-") && name.ends_with(".tmp"),
                "unexpected file {name}"
            );
            leftovers += 1;
        }
    }
    eprintln!(
        "{KILLS} kills over runs of {full:?}: {saw_old} left the old snapshot, {saw_new} the new one; \
         {leftovers} killed while writing left a temporary file"
    );
    std::fs::copy(d.join("old.segx"), d.join("target.segx")).expect("copy");
    segq(d, &["index", "--data", "new.segx", "--out", "target.segx"]);
    assert_eq!(answers(&d.join("target.segx")), Ok(new));
}
