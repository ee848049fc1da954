#!/usr/bin/env python3
"""Optional: the ClickHouse, PostgreSQL and Spark dialects run by real engines.

The same check as tests/sql_duckdb.py (exported data loaded with the
load.sql `segq export` writes, random queries and the segment library as
views, compared with segq), for engines a machine may or may not have:

- clickhouse: chdb, ClickHouse embedded in Python (`pip install chdb`);
  `INSERT ... FROM INFILE` (a clickhouse-client feature) is read with the
  file() table function instead;
- postgres: a throwaway cluster started with the local initdb/pg_ctl (as the
  `postgres` user when run as root), or the server in $SEGQ_PG_DSN; psql
  runs load.sql and the queries;
- spark: pyspark in local mode (`pip install pyspark`, Java 17+), with
  spark.sql.session.timeZone = UTC; the CSV paths of load.sql made absolute.

    python3 tests/sql_engines.py --engine clickhouse|postgres|spark [--queries 200]

Exit 0: no difference; 1: differences; 2: setup error; 3: the engine is not
available here.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sql_duckdb import EngineError, check, options  # noqa: E402


class ClickHouse:
    dialect = "clickhouse"

    def __init__(self):
        import chdb  # raises ImportError when missing
        from chdb import session
        self.chdb = chdb
        self.session_mod = session
        self.session = None

    def version(self):
        return f"ClickHouse {self.rows('SELECT version()')[0][0]} (chdb)"

    def load(self, export_dir):
        self.session = self.session_mod.Session()
        script = (export_dir / "load.sql").read_text()
        script = re.sub(
            r"INSERT INTO (\w+) FROM INFILE '([^']+)' FORMAT CSVWithNames",
            lambda m: f"INSERT INTO {m[1]} SELECT * FROM file('{export_dir / m[2]}', 'CSVWithNames')",
            script,
        )
        self.script(script)

    def script(self, sql):
        for statement in statements(sql):
            self.rows(statement, fetch=False)

    def rows(self, sql, fetch=True):
        try:
            out = self.session.query(sql, "JSONCompact")
        except Exception as e:  # chdb raises RuntimeError subclasses
            raise EngineError(str(e)) from e
        if not fetch:
            return []
        text = out.bytes().decode() if hasattr(out, "bytes") else str(out)
        return json.loads(text)["data"] if text.strip() else []

    def close(self):
        if self.session is not None:
            self.session.close()
            self.session = None


class Postgres:
    dialect = "postgres"

    def __init__(self):
        self.tmp = None
        self.dsn = os.environ.get("SEGQ_PG_DSN")
        if not shutil.which("psql"):
            raise ImportError("psql is not installed")
        if not self.dsn:
            for tool in ("initdb", "pg_ctl"):
                if not (shutil.which(tool) or list(Path("/usr/lib/postgresql").glob(f"*/bin/{tool}"))):
                    raise ImportError(f"{tool} is not installed (or set SEGQ_PG_DSN)")
            self.start()
        self.db = 0

    def as_owner(self, args):
        if os.geteuid() == 0:
            return ["su", "postgres", "-c", " ".join(f"'{a}'" for a in args)]
        return args

    def tool(self, name):
        found = shutil.which(name) or sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))[-1]
        return str(found)

    def start(self):
        self.tmp = tempfile.mkdtemp(prefix="segq-pg-")
        os.chmod(self.tmp, 0o777)
        data = f"{self.tmp}/data"
        subprocess.run(self.as_owner([self.tool("initdb"), "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
                                      "--locale", "C.UTF-8"]), check=True, capture_output=True)
        subprocess.run(self.as_owner([self.tool("pg_ctl"), "-D", data, "-w", "-l", f"{self.tmp}/log",
                                      "-o", f"-k {self.tmp} -p 54329 -c listen_addresses= -c fsync=off", "start"]),
                       check=True, capture_output=True)
        self.dsn = f"host={self.tmp} port=54329 user=postgres"

    def psql(self, args, sql=None, cwd=None, db=None):
        dsn = self.dsn + (f" dbname={db}" if db else "")
        p = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", dsn, *args], input=sql,
                           capture_output=True, text=True, cwd=cwd)
        if p.returncode != 0:
            raise EngineError(p.stderr.strip())
        return p.stdout

    def version(self):
        return self.psql(["-c", "SHOW server_version"]).strip().join(["PostgreSQL ", ""])

    def load(self, export_dir):
        self.db += 1
        self.name = f"segq_{os.getpid()}_{self.db}"
        self.psql(["-c", f"CREATE DATABASE {self.name}"])
        self.psql(["-f", "load.sql"], cwd=export_dir, db=self.name)

    def script(self, sql):
        self.psql(["-f", "-"], sql=sql, db=self.name)

    def rows(self, sql):
        out = self.psql(["-F", "\t", "-f", "-"], sql=sql, db=self.name)
        return [tuple(line.split("\t")) for line in out.splitlines()]

    def close(self):
        pass

    def stop(self):
        if self.tmp:
            subprocess.run(self.as_owner([self.tool("pg_ctl"), "-D", f"{self.tmp}/data", "-m", "immediate", "stop"]),
                           capture_output=True)
            shutil.rmtree(self.tmp, ignore_errors=True)


class Spark:
    """pyspark in local mode (needs Java 17+), session time zone UTC."""

    dialect = "spark"

    def __init__(self):
        import pyspark  # raises ImportError when missing
        from pyspark.sql import SparkSession
        if not shutil.which("java"):
            raise ImportError("java is not installed")
        self.tmp = tempfile.mkdtemp(prefix="segq-spark-")
        self.spark = (
            SparkSession.builder.master("local[2]")
            .appName("segq-sql-check")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", "2")
            .config("spark.sql.warehouse.dir", f"{self.tmp}/warehouse")
            .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={self.tmp}")
            .getOrCreate()
        )
        self.spark.sparkContext.setLogLevel("ERROR")
        self.pyspark = pyspark
        self.db = 0

    def version(self):
        return f"Spark {self.spark.version}"

    def load(self, export_dir):
        self.db += 1
        self.spark.sql(f"CREATE DATABASE segq{self.db}")
        self.spark.sql(f"USE segq{self.db}")
        script = re.sub(r"path '([^']+)'", lambda m: f"path '{export_dir / m[1]}'", (export_dir / "load.sql").read_text())
        self.script(script)

    def script(self, sql):
        for statement in statements(sql):
            self.rows(statement)

    def rows(self, sql):
        try:
            return [tuple(r) for r in self.spark.sql(sql).collect()]
        except Exception as e:  # AnalysisException, ParseException, Py4JJavaError
            raise EngineError(str(e).splitlines()[0]) from e

    def close(self):
        pass

    def stop(self):
        self.spark.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)


def statements(sql):
    """Splits a script at `;` line ends (the generated SQL has no `;` inside strings at line ends)."""
    lines = [l for l in sql.splitlines() if not l.startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";\n") if s.strip().rstrip(";")]


def main():
    ap = options(__doc__.splitlines()[0])
    ap.add_argument("--engine", choices=["clickhouse", "postgres", "spark"], required=True)
    opts = ap.parse_args()
    try:
        engine = {"clickhouse": ClickHouse, "postgres": Postgres, "spark": Spark}[opts.engine]()
    except (ImportError, subprocess.CalledProcessError) as e:
        print(f"sql_engines: {opts.engine} is not available here: {e}", file=sys.stderr)
        return 3
    try:
        return check(engine, opts)
    finally:
        if hasattr(engine, "stop"):
            engine.stop()


if __name__ == "__main__":
    sys.exit(main())
