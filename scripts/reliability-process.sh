#!/usr/bin/env bash
# The long runs of the process and whole-system reliability tests (docs: the module docs of
# appliance/tests/e2e/crash.rs, e2e/ack_restart.rs, e2e/process.rs and e2e/chaos.rs). CI runs
# the short variants in `cargo test`; this runs them long and prints each test's figures line.
#
#   ./scripts/reliability-process.sh            # P1 1,000 kills, P1b 30 kills, P3, P5 5 min, J1 10 min
#   P1_CYCLES=100 J1_SECS=120 ./scripts/reliability-process.sh
#
# Replay a seed: ICSFWD_CRASH_SEED, ICSFWD_ACK_RESTART_SEED, ICSFWD_P3_SEED, ICSFWD_P5_SEED, ICSFWD_CHAOS_SEED (each
# test prints its seed). J1's clock steps need libfaketime (apt-get install faketime) and its
# disk-full fault `unshare --mount` + `mount -t tmpfs` (root, or a user namespace); either
# missing is reported SKIPPED by the test itself.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_INCREMENTAL=0
P1_CYCLES=${P1_CYCLES:-1000}
# A checkpoint kill waits for the first checkpoint (5 s): every 25th kill is one.
P1_CHECKPOINT_EVERY=${P1_CHECKPOINT_EVERY:-25}
P1B_KILLS=${P1B_KILLS:-30}
P1B_ALERTS=${P1B_ALERTS:-20000}
P3_ALERTS=${P3_ALERTS:-20000}
P5_SECS=${P5_SECS:-300}
J1_SECS=${J1_SECS:-600}
LOG=${LOG:-target/reliability-process.log}
mkdir -p "$(dirname "$LOG")"
: >"$LOG"

run() {
  echo "==> $*" | tee -a "$LOG"
  env "$@" 2>&1 | tee -a "$LOG" | grep -E "seed|figures|SKIPPED|panicked|test result" || true
}

run ICSFWD_CRASH_CYCLES="$P1_CYCLES" ICSFWD_CRASH_CHECKPOINT_EVERY="$P1_CHECKPOINT_EVERY" \
  cargo test -p icsfwd --test e2e crash:: -- --nocapture
run ICSFWD_ACK_RESTART_KILLS="$P1B_KILLS" ICSFWD_ACK_RESTART_ALERTS="$P1B_ALERTS" \
  cargo test -p icsfwd --test e2e ack_restart:: -- --nocapture
run ICSFWD_P3_ALERTS="$P3_ALERTS" ICSFWD_P5_SECS="$P5_SECS" \
  cargo test -p icsfwd --test e2e process:: -- --nocapture --test-threads 1
run ICSFWD_CHAOS_SECS="$J1_SECS" cargo test -p icsfwd --test e2e chaos:: -- --nocapture

echo "==> figures (full log: $LOG)"
grep -E "figures|SKIPPED" "$LOG"
if grep -q "test result: FAILED\|panicked" "$LOG"; then
  echo "FAILED: see $LOG" >&2
  exit 1
fi
