#!/usr/bin/env bash
# CI: run the DuckDB dialect on exported data and compare with segq
# (tests/sql_duckdb.py). Installs the duckdb Python package with pip when it
# is missing. When python or the package cannot be had, says so and exits 0,
# unless SQL_DUCKDB_REQUIRED=1 (then it fails). Extra arguments go to the
# script, e.g. `.ci/sql-duckdb.sh --queries 1000`.
set -euo pipefail
cd "$(dirname "$0")/.."

skip() {
    echo "== sql-duckdb: SKIPPED: $1"
    if [ "${SQL_DUCKDB_REQUIRED:-0}" = "1" ]; then exit 1; fi
    exit 0
}

PY="${PYTHON:-python3}"
command -v "$PY" >/dev/null 2>&1 || skip "no $PY on PATH"
if ! "$PY" -c "import duckdb" >/dev/null 2>&1; then
    echo "== sql-duckdb: installing the duckdb package with pip"
    "$PY" -m pip install --quiet duckdb >/dev/null 2>&1 \
        || "$PY" -m pip install --quiet --user duckdb >/dev/null 2>&1 \
        || skip "cannot install duckdb with pip (offline, or no pip)"
    "$PY" -c "import duckdb" >/dev/null 2>&1 || skip "duckdb installed but not importable"
fi
echo "== sql-duckdb: DuckDB $("$PY" -c 'import duckdb; print(duckdb.__version__)')"
exec "$PY" tests/sql_duckdb.py "$@"
