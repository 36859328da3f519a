#!/usr/bin/env bash
# Long variants of the spool and core reliability suite (S1-S3, S5-S10 of docs/RELIABILITY.md;
# docs/spool.md). CI runs the short variants as ordinary `cargo test`; this script runs the
# long ones.
#
#   scripts/reliability-spool.sh                 # long run, fresh random seed per test
#   ICSFWD_SEED=123 scripts/reliability-spool.sh # replay a seed (printed by every test)
#   ICSFWD_CASES=5000 scripts/reliability-spool.sh  # a chosen number of cases instead
#
# Long counts: S1 10,000,000 model cases (sequences up to 40 steps); S2/S3/S7/S8 hundreds of
# random workloads, each cut at every byte / every operation; S5 every bit of every file.
# Release builds are used for speed unless RELIABILITY_DEBUG=1.
set -euo pipefail
cd "$(dirname "$0")/.."

export ICSFWD_RELIABILITY_LONG=1
export CARGO_INCREMENTAL=0
profile=(--release)
if [[ "${RELIABILITY_DEBUG:-0}" == 1 ]]; then
    profile=()
fi

# Modules of the spool test binary (appliance/tests/spool/<module>.rs).
tests=(model_check crash io_faults corrupt compat capacity model)
if [[ -z "${SPOOL_MODEL_CASES:-}" ]]; then
    export SPOOL_MODEL_CASES=100000 # the proptest model on the real file system
fi
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
failed=()
for t in "${tests[@]}"; do
    echo "=== spool/$t"
    if cargo test "${profile[@]}" -p icsfwd --test spool "$t::" -- --nocapture --test-threads=2 >"$log" 2>&1; then
        grep -E "seed|cases|cut points|crash states|images|flips|limits|test result" "$log" || true
    else
        cat "$log"
        failed+=("spool/$t")
    fi
done
echo "=== core capacity (S9)"
if ! cargo test "${profile[@]}" -p icsfwd-core --test capacity >"$log" 2>&1; then
    cat "$log"
    failed+=(capacity)
fi
grep -E "test result" "$log" || true
if ((${#failed[@]})); then
    echo "FAILED: ${failed[*]} (replay with the seed printed above: ICSFWD_SEED=<n>)"
    exit 1
fi
echo "reliability-spool: all passed"
