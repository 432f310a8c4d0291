#!/bin/bash
# Two versions of ShopBot under the Throughput mix at the same moment on the same cores.
#
#   docs/benchmarks/2026-12-07/side-by-side/side_by_side.sh BEFORE_REV SHOPPERS SECONDS [DELAY_S]
#
# Checks BEFORE_REV out into a worktree (/tmp/shopbot-before, sharing this checkout's models, var
# and virtual environments), starts the mix probe (docs/benchmarks/2026-12-06/mix-probe/) for it and
# for this checkout, each with SHOPPERS shoppers, and holds both loads until the same moment
# (PROBE_START_AT, DELAY_S after now; both servers and NLU workers must be ready by then). The
# machine's drift (~25% within minutes on the 2-core hosts) then hits both alike, so their CPU per
# message, messages/s and latencies compare; each alone gets about half the machine. Rows are
# appended to /tmp/probe_before/numbers.jsonl and /tmp/probe_after/numbers.jsonl.
set -euo pipefail
REV=$1 SHOPPERS=$2 SECONDS_=$3 DELAY=${4:-150}
HERE=$(git rev-parse --show-toplevel)
BEFORE=/tmp/shopbot-before
PROBE=docs/benchmarks/2026-12-06/mix-probe/mix_probe.py
if [ ! -d "$BEFORE" ]; then git -C "$HERE" worktree add -f "$BEFORE" "$REV" -q; fi
git -C "$BEFORE" checkout -q -f "$REV"  # the probe copied in below is overwritten
for d in models var .venv .venv-load; do ln -sfn "$HERE/$d" "$BEFORE/$d"; done
cp "$HERE/$PROBE" "$BEFORE/$PROBE"  # the probe that can wait for PROBE_START_AT
mkdir -p /tmp/probe_before /tmp/probe_after
AT=$(( $(date +%s) + DELAY ))
run() {  # DIR OUT LOG [PYTHONPATH]
  (cd "$1" && env ${4:+PYTHONPATH=$4} PROBE_OUT="$2" PROBE_START_AT=$AT PATH="$HERE/.venv/bin:$PATH" \
    HF_HUB_OFFLINE=1 timeout 900 "$HERE/.venv/bin/python" "$PROBE" "$SHOPPERS" "$SECONDS_" > "$3" 2>&1)
}
run "$BEFORE" /tmp/probe_before /tmp/side_before.log "$BEFORE" &
run "$HERE" /tmp/probe_after /tmp/side_after.log &
wait
AFTER=$(git -C "$HERE" rev-parse --short HEAD)
if [ -n "$(git -C "$HERE" status --porcelain --untracked-files=no)" ]; then AFTER="$AFTER+changes"; fi
echo "$(date -u +%FT%TZ) $SHOPPERS shoppers each, $SECONDS_ s, before=$REV after=$AFTER"
for side in before after; do
  printf '%s ' "$side"; tail -n 1 "/tmp/probe_$side/numbers.jsonl" | python3 -c "
import json, sys
r = json.load(sys.stdin)
keys = ('messages_per_s', 'p50_ms', 'p95_ms', 'failures', 'rasa_ms_per_message', 'actions_ms_per_message')
print(json.dumps({k: r[k] for k in keys}))"
done
