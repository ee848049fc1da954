//! `segq bench` through the binary: the jsonl keys the issue names, counts
//! equal to `segq count`, and usage errors.

use std::process::Command;

fn segq(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_segq"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("segq runs")
}

#[test]
fn bench_jsonl_reports_each_query_with_its_count_and_times() {
    let queries = ["role = blocker", "score >= 70 and replies_30d > 0"];
    let out = segq(&[
        "bench",
        "--format",
        "jsonl",
        "--iterations",
        "5",
        "--materialize",
        queries[0],
        queries[1],
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(lines.len(), 2);
    for (v, q) in lines.iter().zip(queries) {
        assert_eq!(v["query"], q);
        assert_eq!(v["iterations"], 5);
        let median = v["median_ns"].as_u64().expect("median_ns");
        assert!(v["p95_ns"].as_u64().expect("p95_ns") >= median);
        assert!(v["first_ns"].as_u64().is_some());
        assert!(v["materialize_median_ns"].as_u64().is_some());
        let counted = segq(&["count", q]);
        assert!(counted.status.success());
        let n: u64 = String::from_utf8(counted.stdout)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert_eq!(v["count"].as_u64(), Some(n), "{q}");
    }
}

#[test]
fn bench_table_and_errors() {
    let out = segq(&["bench", "--iterations", "3", "role = blocker"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for column in ["query", "count", "first", "median", "p95"] {
        assert!(text.contains(column), "{column} in\n{text}");
    }
    let bad = segq(&["bench", "rol = blocker"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("role"),
        "did you mean"
    );
}
