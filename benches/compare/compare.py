#!/usr/bin/env python3
"""segq vs DuckDB vs Polars on the same generated data, in one run.

What it does:
  1. `segq gen` writes N contacts (default 1,000,000) to a data directory
     (reused when it already holds that many), and `segq index` a snapshot;
  2. each engine runs in its own child process, so its load time and peak
     memory are its own:
       - segq:   `segq bench --format jsonl --materialize` on the snapshot;
                 the CSV load is timed as `segq count --data DIR` (parse,
                 encode and index every column, then one count), and
                 `segq index` (the same plus writing the snapshot) apart;
       - DuckDB: `read_csv` into a table (the ingest baseline), then a table
                 with ENUM columns for the queries;
       - Polars: `read_csv` with Enum columns and dates;
  3. the standard queries Q1-Q6 are timed in each engine: a warm-up, then
     ITERATIONS runs of the count and of materialising the matching row ids;
     every engine must return the same counts;
  4. one table of medians and ratios is printed (ratio = peer / segq, so
     "12.0x" means segq is 12 times faster).

Run (from the repository root, after `cargo build --release`):
    python3 benches/compare/compare.py --contacts 10000000
Options: --data DIR, --iterations N, --segq PATH, --skip-gen.
It skips, with a message and exit status 0, when duckdb or polars is not
installed (`pip install duckdb polars`); benches/compare/compare.sh also
skips when there is no python3.
"""

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time

TODAY = "2026-12-01"
WITHIN_30D = ("2026-11-01", "2026-12-01")

QUERIES = [
    ("Q1", "role in [decision_maker, champion] and replies_30d > 2"),
    ("Q2", "stage = opportunity and (seniority in [vp, c_level] or meetings_30d >= 1) and not region = emea"),
    ("Q3", "industry in [software, fintech, healthcare, retail, media] and company_size between 200 and 5000 "
           "and last_activity within 30d and score >= 70"),
    ("Q4", "role = blocker"),
    ("Q5", "stage >= opportunity and not account has (role = decision_maker and replies_30d > 0)"),
    ("Q6", "title contains \"head of\" and email is duplicate"),
]

ENUMS = ["role", "seniority", "stage", "region", "industry"]

SQL = {
    "Q1": "role IN ('decision_maker', 'champion') AND replies_30d > 2",
    "Q2": "stage = 'opportunity' AND (seniority IN ('vp', 'c_level') OR meetings_30d >= 1) "
          "AND (region IS NULL OR NOT region = 'emea')",
    "Q3": "industry IN ('software', 'fintech', 'healthcare', 'retail', 'media') AND company_size BETWEEN 200 AND 5000 "
          f"AND last_activity BETWEEN DATE '{WITHIN_30D[0]}' AND DATE '{WITHIN_30D[1]}' AND score >= 70",
    "Q4": "role = 'blocker'",
    "Q5": "stage >= CAST('opportunity' AS stage_t) AND (account_id IS NULL OR account_id NOT IN "
          "(SELECT account_id FROM contacts WHERE role = 'decision_maker' AND replies_30d > 0 AND account_id IS NOT NULL))",
    "Q6": "lower(title) LIKE '%head of%' AND lower(trim(email)) IN "
          "(SELECT lower(trim(email)) FROM contacts WHERE email IS NOT NULL GROUP BY 1 HAVING count(*) > 1)",
}


def timed(fn, iterations):
    """Median and p95 in ns of `fn()` after a warm-up; returns (value, median, p95).
    A slow query stops after ~10 s (and at least 5 runs)."""
    value = fn()
    warm_until = time.perf_counter() + 0.2
    while time.perf_counter() < warm_until:
        fn()
    samples = []
    give_up = time.perf_counter() + 10.0  # slow queries: at least 5 runs, at most ~10 s
    for i in range(iterations):
        if i >= 5 and time.perf_counter() > give_up:
            break
        t = time.perf_counter_ns()
        fn()
        samples.append(time.perf_counter_ns() - t)
    samples.sort()
    p95 = samples[max(0, -(-len(samples) * 95 // 100) - 1)]
    return value, statistics.median(samples), p95


def schema_values(data):
    import tomllib
    with open(os.path.join(data, "schema.toml"), "rb") as f:
        schema = tomllib.load(f)
    fields = schema["contacts"]["fields"]
    return {name: fields[name]["values"] for name in ENUMS}


# ------------------------------------------------------------------ children

def child_duckdb(data, iterations):
    import duckdb
    path = os.path.join(data, "contacts.csv")
    con = duckdb.connect()
    t = time.perf_counter()
    con.execute(f"CREATE TABLE raw AS SELECT * FROM read_csv('{path}')")
    load_s = time.perf_counter() - t
    values = schema_values(data)
    for name in ENUMS:
        items = ", ".join("'" + v + "'" for v in values[name])
        con.execute(f"CREATE TYPE {name}_t AS ENUM ({items})")
    casts = ", ".join(f"CAST({n} AS {n}_t) AS {n}" for n in ENUMS)
    con.execute(f"CREATE TABLE contacts AS SELECT * REPLACE ({casts}) FROM raw")
    con.execute("DROP TABLE raw")
    out = {"load_s": load_s, "queries": {}}
    for name, _ in QUERIES:
        where = SQL[name]
        count, med, p95 = timed(lambda: con.execute(f"SELECT count(*) FROM contacts WHERE {where}").fetchone()[0], iterations)
        _, ids_med, _ = timed(lambda: con.execute(f"SELECT rowid FROM contacts WHERE {where}").fetchnumpy(), iterations)
        out["queries"][name] = {"count": count, "median_ns": med, "p95_ns": p95, "ids_median_ns": ids_med}
    return out


def child_duckdb_load(data, iterations):
    """DuckDB's CSV ingest alone, for its time and peak memory."""
    import duckdb
    con = duckdb.connect()
    t = time.perf_counter()
    con.execute(f"CREATE TABLE contacts AS SELECT * FROM read_csv('{os.path.join(data, 'contacts.csv')}')")
    return {"load_s": time.perf_counter() - t, "rows": con.execute("SELECT count(*) FROM contacts").fetchone()[0]}


def child_polars(data, iterations):
    import datetime
    import polars as pl
    values = schema_values(data)
    overrides = {name: pl.Enum(values[name]) for name in ENUMS}
    overrides["last_activity"] = pl.Date
    t = time.perf_counter()
    df = pl.read_csv(os.path.join(data, "contacts.csv"), schema_overrides=overrides)
    load_s = time.perf_counter() - t
    c = pl.col
    lo, hi = (datetime.date.fromisoformat(d) for d in WITHIN_30D)
    dm_accounts = lambda: df.filter((c("role") == "decision_maker") & (c("replies_30d") > 0))["account_id"].drop_nulls().unique()
    exprs = {
        "Q1": lambda: c("role").is_in(["decision_maker", "champion"]) & (c("replies_30d") > 2),
        "Q2": lambda: (c("stage") == "opportunity") & (c("seniority").is_in(["vp", "c_level"]) | (c("meetings_30d") >= 1))
        & ~(c("region") == "emea").fill_null(False),
        "Q3": lambda: c("industry").is_in(["software", "fintech", "healthcare", "retail", "media"])
        & c("company_size").is_between(200, 5000) & c("last_activity").is_between(lo, hi) & (c("score") >= 70),
        "Q4": lambda: c("role") == "blocker",
        "Q5": lambda: (c("stage") >= "opportunity") & (c("account_id").is_null() | ~c("account_id").is_in(dm_accounts())),
        "Q6": lambda: c("title").str.to_lowercase().str.contains("head of", literal=True).fill_null(False)
        & c("email").is_not_null() & c("email").str.strip_chars().str.to_lowercase().is_duplicated(),
    }
    out = {"load_s": load_s, "queries": {}}
    for name, _ in QUERIES:
        expr = exprs[name]
        count, med, p95 = timed(lambda: df.select(expr().sum()).item(), iterations)
        _, ids_med, _ = timed(lambda: df.select(pl.arg_where(expr())).to_series(), iterations)
        out["queries"][name] = {"count": count, "median_ns": med, "p95_ns": p95, "ids_median_ns": ids_med}
    return out


def wait4_run(cmd):
    """Runs cmd; returns (stdout text, stderr text, exit code, peak RSS MiB, wall s)."""
    t = time.perf_counter()
    r_out, w_out = os.pipe()
    r_err, w_err = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.dup2(w_out, 1)
        os.dup2(w_err, 2)
        os.close(r_out)
        os.close(r_err)
        try:
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    os.close(w_out)
    os.close(w_err)
    chunks_out, chunks_err = [], []
    import selectors
    sel = selectors.DefaultSelector()
    sel.register(r_out, selectors.EVENT_READ, chunks_out)
    sel.register(r_err, selectors.EVENT_READ, chunks_err)
    open_fds = 2
    while open_fds:
        for key, _ in sel.select():
            data = os.read(key.fd, 1 << 16)
            if data:
                key.data.append(data)
            else:
                sel.unregister(key.fd)
                os.close(key.fd)
                open_fds -= 1
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - t
    code = os.waitstatus_to_exitcode(status)
    rss_mib = usage.ru_maxrss / 1024
    return b"".join(chunks_out).decode(), b"".join(chunks_err).decode(), code, rss_mib, wall


# -------------------------------------------------------------------- parent

def find_segq(given):
    if given:
        return given
    here = os.path.dirname(os.path.abspath(__file__))
    built = os.path.normpath(os.path.join(here, "..", "..", "target", "release", "segq"))
    if os.path.exists(built):
        return built
    found = shutil.which("segq")
    if found:
        return found
    sys.exit("no segq binary: run `cargo build --release` first or pass --segq PATH")


def ms(ns):
    return f"{ns / 1e6:.3f}"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--contacts", type=int, default=1_000_000)
    p.add_argument("--data", default=None, help="data directory (default /tmp/segq-compare-N)")
    p.add_argument("--iterations", type=int, default=30)
    p.add_argument("--segq", default=None)
    p.add_argument("--skip-gen", action="store_true", help="use the data directory as it is")
    p.add_argument("--child", choices=["duckdb", "duckdb-load", "polars"], help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        fn = {"duckdb": child_duckdb, "duckdb-load": child_duckdb_load, "polars": child_polars}[args.child]
        print(json.dumps(fn(args.data, args.iterations)))
        return

    missing = []
    for module in ("duckdb", "polars"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        print(f"skipped: the Python package(s) {', '.join(missing)} are not installed "
              f"(pip install duckdb polars)")
        return

    segq = find_segq(args.segq)
    args.data = args.data or f"/tmp/segq-compare-{args.contacts}"
    marker = os.path.join(args.data, ".contacts")
    if not args.skip_gen:
        have = open(marker).read().strip() if os.path.exists(marker) else ""
        if have != str(args.contacts):
            print(f"generating {args.contacts:,} contacts in {args.data} ...", file=sys.stderr)
            subprocess.run([segq, "gen", "--contacts", str(args.contacts), "--today", TODAY, "--out", args.data], check=True)
            with open(marker, "w") as f:
                f.write(str(args.contacts))
    snapshot = os.path.join(args.data, "contacts.segx")

    print("loading with segq ...", file=sys.stderr)
    # The ingest figure: CSV -> every column parsed, dictionary-encoded and
    # indexed, then one count (what `--data DIR` costs any command).
    _, err, code, segq_csv_rss, segq_csv_wall = wait4_run([segq, "count", "--data", args.data, "--now", TODAY,
                                                           "role = blocker"])
    if code != 0:
        sys.exit(err)
    print("writing a snapshot with segq ...", file=sys.stderr)
    _, err, code, segq_index_rss, segq_index_wall = wait4_run([segq, "index", "--data", args.data, "--out", snapshot])
    if code != 0:
        sys.exit(err)
    _, _, _, snap_rss, snap_wall = wait4_run([segq, "count", "--data", snapshot, "--now", TODAY, "role = blocker"])
    queries_file = os.path.join(args.data, "queries.txt")
    with open(queries_file, "w") as f:
        for _, q in QUERIES:
            f.write(q + "\n")
    out, err, code, _, _ = wait4_run([segq, "bench", "--data", snapshot, "--now", TODAY, "--format", "jsonl",
                                      "--materialize", "--iterations", str(args.iterations), queries_file])
    if code != 0:
        sys.exit(err)
    segq_rows = [json.loads(line) for line in out.splitlines() if line.strip()]
    segq_res = {name: r for (name, _), r in zip(QUERIES, segq_rows)}

    print("loading with duckdb ...", file=sys.stderr)
    out, err, code, duck_load_rss, duck_load_wall = wait4_run([sys.executable, os.path.abspath(__file__), "--child",
                                                               "duckdb-load", "--data", args.data])
    if code != 0:
        sys.exit(f"duckdb failed:\n{err}")
    duck_load_s = json.loads(out)["load_s"]

    peers = {}
    for engine in ("duckdb", "polars"):
        print(f"running {engine} ...", file=sys.stderr)
        out, err, code, rss, wall = wait4_run([sys.executable, os.path.abspath(__file__), "--child", engine,
                                               "--data", args.data, "--iterations", str(args.iterations)])
        if code != 0:
            sys.exit(f"{engine} failed:\n{err}")
        peers[engine] = (json.loads(out), rss)

    print(f"\n{args.contacts:,} contacts, {args.iterations} runs per query after warm-up; medians in ms; "
          f"ratio = peer / segq")
    head = ["query", "count", "segq", "duckdb", "polars", "duckdb/segq", "polars/segq",
            "segq ids", "duckdb ids", "polars ids", "duckdb/segq ids", "polars/segq ids"]
    rows = []
    mismatches = []
    for name, _ in QUERIES:
        s = segq_res[name]
        d = peers["duckdb"][0]["queries"][name]
        pl_ = peers["polars"][0]["queries"][name]
        if not (s["count"] == d["count"] == pl_["count"]):
            mismatches.append(f"{name}: segq {s['count']}, duckdb {d['count']}, polars {pl_['count']}")
        sm, sids = s["median_ns"], s["materialize_median_ns"]
        rows.append([name, f"{s['count']:,}", ms(sm), ms(d["median_ns"]), ms(pl_["median_ns"]),
                     f"{d['median_ns'] / sm:.1f}x", f"{pl_['median_ns'] / sm:.1f}x",
                     ms(sids), ms(d["ids_median_ns"]), ms(pl_["ids_median_ns"]),
                     f"{d['ids_median_ns'] / sids:.1f}x", f"{pl_['ids_median_ns'] / sids:.1f}x"])
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
    line = lambda r: "| " + " | ".join(str(x).rjust(w) for x, w in zip(r, widths)) + " |"
    print(line(head))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print(line(r))
    print()
    print("| load | wall s | peak RSS MiB |")
    print("|---|---|---|")
    print(f"| segq: CSV -> indexed store -> one count (whole process) | {segq_csv_wall:.2f} | {segq_csv_rss:.0f} |")
    print(f"| segq index: CSV -> indexed store -> .segx snapshot | {segq_index_wall:.2f} | {segq_index_rss:.0f} |")
    print(f"| segq: snapshot -> one count (end to end) | {snap_wall:.2f} | {snap_rss:.0f} |")
    print(f"| DuckDB: read_csv into a table (whole process) | {duck_load_wall:.2f} ({duck_load_s:.2f} in read_csv) | {duck_load_rss:.0f} |")
    print(f"| Polars: read_csv (Enum columns) | {peers['polars'][0]['load_s']:.2f} | {peers['polars'][1]:.0f} (whole run, with queries) |")
    if mismatches:
        print("\nCOUNTS DIFFER:\n  " + "\n  ".join(mismatches))
        sys.exit(1)


if __name__ == "__main__":
    main()
