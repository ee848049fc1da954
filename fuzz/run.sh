#!/bin/sh
# Usage: fuzz/run.sh TARGET [SECONDS]  (from anywhere; needs a prior `cargo +nightly fuzz build -O`)
# Runs one target on its corpus (new inputs) plus the committed seeds.
set -e
cd "$(dirname "$0")"
t=$1
secs=${2:-600}
mkdir -p corpus/$t artifacts/$t
exec target/x86_64-unknown-linux-gnu/release/$t corpus/$t seeds/$t \
  -artifact_prefix=artifacts/$t/ -max_total_time=$secs -rss_limit_mb=2048 -timeout=10 -print_final_stats=1
