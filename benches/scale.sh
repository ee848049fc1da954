#!/bin/bash
# The README scaling table: for 1M, 10M and 50M contacts, times and peak RSS of
# `segq gen`, a CSV load (`segq count --data DIR`), `segq index`, loading the
# snapshot plus one count, and `segq bench` of Q1-Q4 on the snapshot (jsonl).
# Usage (after cargo build --release): benches/scale.sh [SIZES...]   (data in /tmp/scale-N)
set -u
S="$(dirname "$0")/../target/release/segq"
SIZES="${*:-1000000 10000000 50000000}"
Q=/tmp/q1to4.txt
printf '%s\n' 'role in [decision_maker, champion] and replies_30d > 2' 'stage = opportunity and (seniority in [vp, c_level] or meetings_30d >= 1) and not region = emea' 'industry in [software, fintech, healthcare, retail, media] and company_size between 200 and 5000 and last_activity within 30d and score >= 70' 'role = blocker' > $Q
t() { /usr/bin/time -o /tmp/tt.txt -f "%e s, %M KB" "$@" > /tmp/out.txt 2>/tmp/err.txt; echo "$(cat /tmp/tt.txt)"; }
for n in $SIZES; do
  d=/tmp/scale-$n
  if [ ! -f $d/contacts.csv ]; then echo "gen $n: $(t $S gen --contacts $n --today 2026-12-01 --out $d)"; fi
  du -sh $d/contacts.csv
  echo "load+count $n: $(t $S count --data $d --now 2026-12-01 'role = blocker')"
  echo "index $n: $(t $S index --data $d --out $d/contacts.segx)"
  ls -la $d/contacts.segx | awk '{print "snapshot bytes", $5}'
  echo "snapshot count $n: $(t $S count --data $d/contacts.segx --now 2026-12-01 'role = blocker')"
  echo "bench $n: $(t $S bench --data $d/contacts.segx --now 2026-12-01 --format jsonl --iterations 30 $Q)"
  cat /tmp/out.txt
done
