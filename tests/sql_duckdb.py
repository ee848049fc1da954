#!/usr/bin/env python3
"""Proof by execution for the DuckDB dialect.

For each data set (the messy fixture, and `segq gen` data): export it with
`segq export --dialect duckdb`, load it into DuckDB with the load.sql the
export writes, then for random queries (examples/sql_queries.rs, every
predicate kind, random segments) compare what DuckDB returns for
`segq sql --dialect duckdb` with `segq query --format ids` (and `--count`
with `segq count`); the segment library is deployed as views
(`segq sql --segments`) and each view is compared with `@name`.

    python3 tests/sql_duckdb.py [--queries 300] [--seed 1] [--no-build]

Needs the duckdb package (`pip install duckdb`; .ci/sql-duckdb.sh installs
it when it can). Exit 0: no difference; 1: differences (printed); 2: setup
error; 3: duckdb is not installed.
"""
import argparse
import concurrent.futures
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOW = "2026-03-15T13:45:30Z"


def run(args, check=True):
    p = subprocess.run(args, capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"})
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, args))} exited {p.returncode}:\n{p.stderr}")
    return p.stdout


class EngineError(Exception):
    pass


class DuckDB:
    """The duckdb Python package, in memory."""

    dialect = "duckdb"

    def __init__(self):
        import duckdb  # raises ImportError when missing
        self.duckdb = duckdb
        self.con = None

    def version(self):
        return f"DuckDB {self.duckdb.__version__}"

    def load(self, export_dir):
        self.con = self.duckdb.connect()
        cwd = os.getcwd()
        os.chdir(export_dir)
        try:
            self.con.execute((export_dir / "load.sql").read_text())
        finally:
            os.chdir(cwd)

    def script(self, sql):
        self.con.execute(sql)

    def rows(self, sql):
        try:
            return self.con.execute(sql).fetchall()
        except self.duckdb.Error as e:
            raise EngineError(str(e)) from e

    def close(self):
        if self.con is not None:
            self.con.close()


def check(engine, opts):
    """Runs every data set through `engine`; returns the exit code."""
    if not opts.no_build:
        subprocess.run(["cargo", "build", "--quiet", "--bin", "segq", "--example", "sql_queries"], cwd=ROOT, check=True)
    segq = ROOT / "target" / "debug" / "segq"
    gen_queries = ROOT / "target" / "debug" / "examples" / "sql_queries"
    dialect = engine.dialect
    tag = dialect

    failures = []
    checked = 0
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        generated = tmp / "generated"
        run([segq, "gen", "--contacts", "3000", "--accounts", "120", "--seed", "5", "--today", "2026-03-15", "--out", generated])
        for name, data in [("sql_messy", ROOT / "tests" / "fixtures" / "sql_messy"), ("generated", generated)]:
            export = tmp / f"{name}-export"
            run([segq, "export", "--data", data, "--dialect", dialect, "--out", export])
            engine.load(export)
            segments = tmp / f"{name}.seg"
            queries = run([gen_queries, data, str(opts.queries), str(opts.seed), segments]).splitlines()
            common = ["--data", str(data), "--now", NOW, "--segments", str(segments)]

            # The segment library as views.
            engine.script(run([segq, "sql", "--dialect", dialect, *common]))
            names = [line.split()[1] for line in segments.read_text().splitlines() if line.startswith("segment ")]
            for seg in names:
                want = sorted(run([segq, "query", "--format", "ids", *common, f"@{seg}"]).split())
                quoted = f"`{seg}`" if dialect in ("spark", "clickhouse") else f'"{seg}"'
                got = sorted(str(r[0]) for r in engine.rows(f"SELECT id FROM {quoted}"))
                checked += 1
                if got != want:
                    failures.append(f"[{name}] view {seg}: {tag} {len(got)} rows, segq {len(want)}")

            def one(i_query):
                i, query = i_query
                if i % 5 == 0:
                    sql = run([segq, "sql", "--dialect", dialect, "--count", *common, query])
                    return query, sql, int(run([segq, "count", *common, query]).strip())
                sql = run([segq, "sql", "--dialect", dialect, *common, query])
                return query, sql, sorted(run([segq, "query", "--format", "ids", *common, query]).split())

            with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
                for query, sql, want in pool.map(one, enumerate(queries)):
                    checked += 1
                    try:
                        rows = engine.rows(sql)
                    except EngineError as e:
                        failures.append(f"[{name}] {query}\n  {tag} error: {e}\n{sql}")
                        continue
                    got = int(rows[0][0]) if isinstance(want, int) else sorted(str(r[0]) for r in rows)
                    if got != want:
                        detail = f"{tag} {got}, segq {want}" if isinstance(want, int) else (
                            f"{tag} {len(got)} rows, segq {len(want)}; only {tag} {sorted(set(got) - set(want))[:5]}, "
                            f"only segq {sorted(set(want) - set(got))[:5]}")
                        failures.append(f"[{name}] {query}\n  {detail}\n{sql}")
            version = engine.version()
            engine.close()
            print(f"sql_{tag}: {name}: {len(queries)} queries and {len(names)} views run by {version}")

    if failures:
        print(f"sql_{tag}: {len(failures)} of {checked} differ:\n", file=sys.stderr)
        print("\n\n".join(failures[:5]), file=sys.stderr)
        return 1
    print(f"sql_{tag}: ok, {checked} results equal")
    return 0


def options(description):
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--queries", type=int, default=300, help="random queries per data set")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-build", action="store_true", help="use the binaries in target/debug as they are")
    return ap


def main():
    opts = options(__doc__.splitlines()[0]).parse_args()
    try:
        engine = DuckDB()
    except ImportError:
        print("sql_duckdb: the duckdb Python package is not installed (pip install duckdb)", file=sys.stderr)
        return 3
    return check(engine, opts)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (RuntimeError, subprocess.CalledProcessError) as e:
        print(f"sql_duckdb: {e}", file=sys.stderr)
        sys.exit(2)
