#!/usr/bin/env bash
# icsfwd side by side with syslog-ng configured as Splunk Connect for Syslog runs it:
# both fed the same generated alerts, both posting HEC batches over TLS to the same Splunk
# emulator, in one run. Prints a table with the ratios (icsfwd ÷ syslog-ng) and a line
# `PEER-SUMMARY {json}` (also in target/peer-bench/peer-summary.json).
#
#   ./scripts/peer-compare.sh
#
# The peer: syslog-ng 3.38 from Debian with its http() module. When `syslog-ng` on PATH (or
# ICSFWD_PEER_SYSLOG_NG) has the http module, that one runs. Otherwise this script fetches
# Debian's syslog-ng-core and syslog-ng-mod-http, and the libraries they need that the
# machine lacks, with `apt-get download` (no root, nothing installed: Debian's syslog-ng-core
# conflicts with rsyslog, so installing it would remove rsyslog), unpacks them with
# `dpkg -x` into target/peer/syslog-ng/ once, and runs the binary from there through the
# wrapper target/peer/syslog-ng/run (LD_LIBRARY_PATH and --module-path pointing into the
# unpacked tree; `exec`, so the bench measures syslog-ng's own process). Later runs reuse the
# tree; delete it to fetch again. The system's packages are never touched.
#
# It builds icsfwd in the optimised bench profile and runs appliance/benches/peer.rs, which
# starts syslog-ng in the foreground with its own config, persist, pid and control files
# (bench/peer/syslog-ng.conf), never as a system service. Sizing: ICSFWD_PEER_* variables
# (see that file's docs), e.g. ICSFWD_PEER_ALERTS=200000 or ICSFWD_PEER_RATES=100,1000.
#
# NOT part of CI (scripts/test-all.sh): it takes minutes and its figures move with the load.
set -euo pipefail

cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}

PEER_TREE=${ICSFWD_PEER_TREE:-target/peer/syslog-ng}

# True when the syslog-ng $1 runs and lists the http() destination among its modules.
has_http_module() {
  "$1" --version 2>/dev/null | grep -Eq '^Available-Modules:.*(^|[ ,])http([ ,]|$)'
}

# The Debian packages to fetch: syslog-ng-core, syslog-ng-mod-http and those of their direct
# dependencies (first alternative) that are not installed on this machine.
peer_packages() {
  local pkg
  echo syslog-ng-core
  echo syslog-ng-mod-http
  apt-cache depends syslog-ng-core syslog-ng-mod-http |
    awk '/^ *\|?Depends: [^<]/ { print $2 }' | sort -u |
    while read -r pkg; do
      case "$pkg" in syslog-ng-*) continue ;; esac
      if ! dpkg-query -W -f='${Status}\n' "$pkg" 2>/dev/null | grep -q '^install ok installed$'; then
        echo "$pkg"
      fi
    done
}

# Fetches and unpacks syslog-ng into $PEER_TREE once (see the header); prints the wrapper's
# path. Fails, saying what to do, when a library is still missing after unpacking.
fetch_syslog_ng() {
  local tree=$PEER_TREE wrapper=$PEER_TREE/run
  if [ -x "$wrapper" ] && [ -x "$tree/root/usr/sbin/syslog-ng" ]; then
    realpath "$wrapper"
    return
  fi
  echo "fetching syslog-ng-core and syslog-ng-mod-http into $tree (apt-get download; nothing is installed)" >&2
  rm -rf "$tree"
  mkdir -p "$tree/debs" "$tree/root"
  local pkgs
  pkgs=$(peer_packages)
  # apt-get download writes into the current directory.
  # shellcheck disable=SC2086
  (cd "$tree/debs" && apt-get download -qq $pkgs >&2) || {
    echo "apt-get download failed: run \`apt-get update\` (as root) and try again" >&2
    exit 1
  }
  local deb
  for deb in "$tree"/debs/*.deb; do dpkg -x "$deb" "$tree/root"; done
  local root libs modules
  root=$(realpath "$tree/root")
  # Every directory of the unpacked tree that holds a shared library.
  libs=$(find "$root" -name '*.so*' -printf '%h\n' | sort -u | paste -sd: -)
  modules=$(echo "$root"/usr/lib/syslog-ng/*/)
  modules=${modules%/}
  cat >"$wrapper" <<WRAP
#!/bin/sh
# syslog-ng unpacked by scripts/peer-compare.sh from Debian's packages (not installed).
LD_LIBRARY_PATH="$libs\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
export LD_LIBRARY_PATH
exec "$root/usr/sbin/syslog-ng" --module-path="$modules" "\$@"
WRAP
  chmod 755 "$wrapper"
  local missing
  missing=$(LD_LIBRARY_PATH=$libs ldd "$root/usr/sbin/syslog-ng" "$modules"/*.so 2>/dev/null |
    grep 'not found' | sort -u || true)
  if [ -n "$missing" ]; then
    echo "the unpacked syslog-ng still lacks libraries (install them, or add their packages):" >&2
    echo "$missing" >&2
    rm -f "$wrapper"
    exit 1
  fi
  realpath "$wrapper"
}

peer=${ICSFWD_PEER_SYSLOG_NG:-$(command -v syslog-ng || true)}
if [ -z "$peer" ] || ! has_http_module "$peer"; then
  peer=$(fetch_syslog_ng)
fi
export ICSFWD_PEER_SYSLOG_NG=$peer
"$peer" --version | head -1

cargo bench -p icsfwd --bench peer --locked
