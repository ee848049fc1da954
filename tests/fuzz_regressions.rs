//! Every fuzz seed and every input a fuzzer once crashed on, run through
//! the same checks as the fuzz targets (fuzz/src/lib.rs), in the default
//! suite. A finding is added as `fuzz/regressions/<target>/<name>`, and the
//! test named after its target replays it.

#[path = "../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod checks;

use std::path::Path;

/// Runs `check` on each file of `fuzz/seeds/<target>` and
/// `fuzz/regressions/<target>`, naming the file that fails.
fn replay(target: &str, check: fn(&[u8])) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut n = 0;
    for kind in ["seeds", "regressions"] {
        let dir = root.join(kind).join(target);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut paths: Vec<_> = entries.map(|e| e.expect("readable dir").path()).collect();
        paths.sort();
        for path in paths {
            let data = std::fs::read(&path).expect("readable input");
            let outcome = std::panic::catch_unwind(|| check(&data));
            assert!(
                outcome.is_ok(),
                "{target}: {} fails (see the panic above)",
                path.display()
            );
            n += 1;
        }
    }
    assert!(n > 0, "no inputs for {target}");
}

#[test]
fn fuzz_parse_check_inputs() {
    replay("parse_check", checks::parse_check);
}

#[test]
fn fuzz_parse_file_inputs() {
    replay("parse_file", checks::parse_file_check);
}

#[test]
fn fuzz_schema_toml_inputs() {
    replay("schema_toml", checks::schema_toml);
}

#[test]
fn fuzz_csv_ingest_inputs() {
    replay("csv_ingest", checks::csv_ingest);
}

#[test]
fn fuzz_jsonl_ingest_inputs() {
    replay("jsonl_ingest", checks::jsonl_ingest);
}

#[test]
fn fuzz_snapshot_load_inputs() {
    replay("snapshot_load", checks::snapshot_load);
}
