#!/bin/sh
# segq vs DuckDB vs Polars in one run: see compare.py for what is measured.
# Usage: benches/compare/compare.sh [--contacts N] [--iterations N] ...
# Skips (exit 0) with a message when python3 is missing; compare.py itself
# skips when the duckdb or polars package is missing.
if ! command -v python3 >/dev/null 2>&1; then
    echo "skipped: python3 is not installed (needed with the duckdb and polars packages)"
    exit 0
fi
exec python3 "$(dirname "$0")/compare.py" "$@"
