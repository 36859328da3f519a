#!/usr/bin/env bash
# Runs every cargo-fuzz target (fuzz/) for a while, on nightly, from the committed seed corpus.
#
#   ./scripts/fuzz-long.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Default 600 s per target, all targets (record_decode format_all ingest_decode config_parse).
# New inputs go to target/fuzz-corpus/<target>/ (the committed seeds in fuzz/corpus/ are only
# read, so a run does not dirty the tree); a failing input is written to
# fuzz/artifacts/<target>/ and the script exits non-zero. Keep a failing input as a regression:
# copy it to fuzz/regressions/<target>/ (tests/tests/formats/fuzz_corpus.rs replays it on stable).
# Prints, per target, libFuzzer's last status line (execs, coverage, corpus size).
# Needs `cargo +nightly` and cargo-fuzz (cargo install cargo-fuzz --locked); exits 2 without.
set -euo pipefail

cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${1:-600}
shift || true
TARGETS=("$@")
[ "${#TARGETS[@]}" -gt 0 ] || TARGETS=(record_decode format_all ingest_decode config_parse)

if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "fuzz-long: needs a nightly toolchain and cargo-fuzz (cargo +nightly fuzz)" >&2
  exit 2
fi
LOGS=target/fuzz-logs
mkdir -p "$LOGS"
(cd fuzz && cargo +nightly fuzz build -O)
status=0
for target in "${TARGETS[@]}"; do
  work="target/fuzz-corpus/$target"
  mkdir -p "$work"
  echo "fuzz-long: $target for ${SECONDS_PER_TARGET}s"
  if (cd fuzz && cargo +nightly fuzz run -O "$target" "../$work" "corpus/$target" -- \
        -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 -timeout=10 \
        -print_final_stats=1) >"$LOGS/$target.log" 2>&1; then
    result=ok
  else
    result=FAILED
    status=1
  fi
  stats=$(grep -E '^#[0-9]+' "$LOGS/$target.log" | tail -1 || true)
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$LOGS/$target.log" | tail -1)
  echo "fuzz-long: $target $result: $runs runs; last: $stats (log $LOGS/$target.log)"
  if [ "$result" = FAILED ]; then
    grep -E 'panicked|ERROR|Test unit written' "$LOGS/$target.log" | head -5 >&2 || true
  fi
done
exit "$status"
