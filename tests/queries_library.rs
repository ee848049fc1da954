//! Every file in queries/ is checked, format-checked and tested against the
//! demo data, so the examples never go stale.

use std::process::Command;

fn segq(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_segq"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output()
        .expect("segq runs")
}

#[track_caller]
fn succeeds(args: &[&str]) -> String {
    let out = segq(args);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "segq {args:?} failed:\n{stdout}\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    stdout
}

#[test]
fn queries_library_checks_formats_and_passes_its_expectations() {
    succeeds(&["check", "queries"]);
    succeeds(&["fmt", "--check", "queries"]);
    let report = succeeds(&["test", "queries"]);
    let last = report.lines().last().unwrap_or_default();
    let passed: u32 = last
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(passed >= 15, "{report}");
    assert!(last.ends_with(", 0 failed"), "{report}");
    assert!(!report.contains("FAIL"), "{report}");
}

#[test]
fn queries_library_segments_resolve_from_the_command_line() {
    // queries/ beside the demo data (the current directory) is loaded by default.
    let hot: u64 = succeeds(&["count", "@hot"]).trim().parse().unwrap();
    let dm_engaged: u64 = succeeds(&[
        "count",
        "@decision_makers and @engaged and stage in [opportunity, customer]",
    ])
    .trim()
    .parse()
    .unwrap();
    assert_eq!(hot, dm_engaged);
    assert!(hot > 0);
}
