#!/usr/bin/env bash
# icsfwd side by side with syslog-ng configured as Splunk Connect for Syslog runs it:
# both fed the same generated alerts, both posting HEC batches over TLS to the same Splunk
# emulator, in one run. Prints a table with the ratios (icsfwd ÷ syslog-ng) and a line
# `PEER-SUMMARY {json}` (also in target/peer-bench/peer-summary.json).
#
#   ./scripts/peer-compare.sh
#
# Installs Debian's syslog-ng-core and syslog-ng-mod-http when missing (apt-get as root, or
# sudo), without starting its system service (the bench runs its own syslog-ng in the
# foreground with its own config, persist, pid and control files: bench/peer/syslog-ng.conf),
# builds icsfwd in the optimised bench profile, and runs appliance/benches/peer.rs. Sizing:
# ICSFWD_PEER_* variables (see that file's docs), e.g. ICSFWD_PEER_ALERTS=200000.
# Debian's syslog-ng-core and rsyslog conflict (both are the system log daemon): installing
# the peer removes rsyslog, which the test command's syslog step installs again.
#
# NOT part of CI (scripts/test-all.sh): it takes minutes and its figures move with the load.
set -euo pipefail

cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}

have_http_module() {
  ls /usr/lib/syslog-ng/*/libhttp.so >/dev/null 2>&1
}

if ! command -v syslog-ng >/dev/null 2>&1 || ! have_http_module; then
  echo "installing Debian packages syslog-ng-core and syslog-ng-mod-http (the peer)"
  # policy-rc.d exit 101 keeps the package from starting its system service; an existing one
  # (containers often have it) is left alone.
  cleanup_policy=0
  run_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | run_root tee /usr/sbin/policy-rc.d >/dev/null
    run_root chmod 755 /usr/sbin/policy-rc.d
    cleanup_policy=1
  fi
  status=0
  (run_root apt-get update -qq &&
    run_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      syslog-ng-core syslog-ng-mod-http >/dev/null) || status=$?
  if [ "$cleanup_policy" = 1 ]; then run_root rm -f /usr/sbin/policy-rc.d; fi
  if [ "$status" != 0 ] || ! command -v syslog-ng >/dev/null 2>&1 || ! have_http_module; then
    echo "cannot install syslog-ng-core and syslog-ng-mod-http (apt-get): no peer to compare" >&2
    exit 1
  fi
fi
syslog-ng --version | head -1

cargo bench -p icsfwd --bench peer --locked
