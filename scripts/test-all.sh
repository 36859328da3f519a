#!/usr/bin/env bash
# Runs every test level of icsfwd, in the order CI runs them, installing what is missing.
#
#   ./scripts/test-all.sh
#
# Steps: setup, fmt, clippy, test, fidelity, syslog, metrics, splunk-app, doc, fuzz-check, fuzz-smoke,
# core-thumbv7em, core-thumbv7em-defmt, firmware-clippy, firmware-qemu, cross
# (scripts/cross.sh). Every warning is an error. A step that cannot run because the machine
# cannot install its tool (the bare-metal target, qemu-system-arm, Splunk's Python SDK / Node
# HEC client, pycef and syslog-rfc5424-parser for the fidelity step, Debian's systemd
# (systemd-analyze) for the unit check of the test step, Debian's rsyslog,
# rsyslog-openssl and rsyslog-relp for the syslog step, Debian's prometheus (promtool and the
# server) for the metrics step, Debian's tinyproxy for the proxy tests in the test step,
# splunk-appinspect, splint-spl and ksconf for the splunk-app step, Debian's faketime for the clock steps of the J1 test in the test
# step, a nightly toolchain with cargo-fuzz for the fuzz-smoke step,
# a cross target's gcc, qemu-user or musl-tools in the cross step) is reported as SKIPPED, at
# the moment it happens and again at the end; everything else still runs. Set
# ICSFWD_REQUIRE_ALL=1 to turn a skipped step into a failure. Each step prints its elapsed
# seconds when it ends, and a table of every step's seconds and result closes the run, a failed
# one included (scripts/steps.sh).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
TARGET=thumbv7em-none-eabihf
SKIPPED=()
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}

# shellcheck source=scripts/steps.sh
source "$ROOT/scripts/steps.sh"
trap steps_on_exit EXIT
loud() {
  printf '\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n' >&2
  printf '!!! %s\n' "$@" >&2
  printf '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\n' >&2
}

step setup
have_target=1
if ! rustup target list --installed 2>/dev/null | grep -qx "$TARGET"; then
  echo "installing the bare-metal target $TARGET"
  if ! rustup target add "$TARGET"; then
    have_target=0
    loud "cannot install the Rust target $TARGET: the bare-metal core build and the" \
         "QEMU firmware run are SKIPPED; everything else still runs."
  fi
fi
for component in rustfmt clippy; do
  if ! rustup component list --installed 2>/dev/null | grep -q "^$component"; then
    rustup component add "$component"
  fi
done
have_qemu=1
if ! command -v qemu-system-arm >/dev/null 2>&1; then
  echo "installing Debian package qemu-system-arm"
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-system-arm >/dev/null) || true
  elif command -v sudo >/dev/null 2>&1; then
    (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-system-arm >/dev/null) || true
  fi
  if ! command -v qemu-system-arm >/dev/null 2>&1; then
    have_qemu=0
    loud "cannot install qemu-system-arm (apt-get install qemu-system-arm):" \
         "the firmware image is built but NOT RUN; everything else still runs."
  fi
fi
# systemd-analyze (Debian's systemd): `systemd-analyze verify` of etc/icsfwd.service in
# appliance/tests/e2e/signals.rs (the test prints SKIPPED without it).
if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "installing Debian package systemd (systemd-analyze verify of etc/icsfwd.service)"
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq systemd >/dev/null) || true
  elif command -v sudo >/dev/null 2>&1; then
    (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq systemd >/dev/null) || true
  fi
  if ! command -v systemd-analyze >/dev/null 2>&1; then
    loud "cannot install systemd (apt-get install systemd): systemd-analyze verify of the unit" \
         "is SKIPPED (appliance/tests/e2e/signals.rs); everything else still runs."
  fi
fi
have_rsyslog=1
if ! command -v rsyslogd >/dev/null 2>&1 && [ ! -x /usr/sbin/rsyslogd ]; then
  echo "installing Debian package rsyslog (the syslog receiver of appliance/tests/e2e/rsyslog.rs)"
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rsyslog >/dev/null) || true
  elif command -v sudo >/dev/null 2>&1; then
    (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rsyslog >/dev/null) || true
  fi
  if ! command -v rsyslogd >/dev/null 2>&1 && [ ! -x /usr/sbin/rsyslogd ]; then
    have_rsyslog=0
    loud "cannot install rsyslog (apt-get install rsyslog): the tests against a real syslog" \
         "receiver are SKIPPED; everything else still runs."
  fi
fi
# rsyslog's TLS driver `ossl` (lmnsd_ossl.so): the TLS receiver requiring client certificates of
# appliance/tests/e2e/rsyslog.rs.
# One rsyslog module found in either library layout (`ls a b` fails when either is missing, so
# each path is tested on its own).
rsyslog_module() {
  local path
  for path in /usr/lib/*/rsyslog/"$1" /usr/lib/rsyslog/"$1"; do
    [ -e "$path" ] && return 0
  done
  return 1
}
have_rsyslog_tls() { rsyslog_module lmnsd_ossl.so; }
if [ "$have_rsyslog" = 1 ] && ! have_rsyslog_tls; then
  echo "installing Debian package rsyslog-openssl (rsyslog's TLS driver for appliance/tests/e2e/rsyslog.rs)"
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rsyslog-openssl >/dev/null) || true
  elif command -v sudo >/dev/null 2>&1; then
    (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rsyslog-openssl >/dev/null) || true
  fi
  if ! have_rsyslog_tls; then
    have_rsyslog=0
    loud "cannot install rsyslog-openssl (apt-get install rsyslog-openssl): the tests against a" \
         "real syslog receiver are SKIPPED; everything else still runs."
  fi
fi
# ---- rsyslog-relp: rsyslogd's RELP input (imrelp), the receiver of appliance/tests/e2e/relp.rs ----
have_relp=1
imrelp_installed() { rsyslog_module imrelp.so; }
if [ "$have_rsyslog" = 1 ] && ! imrelp_installed; then
  echo "installing Debian package rsyslog-relp (imrelp: the RELP receiver of appliance/tests/e2e/relp.rs)"
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rsyslog-relp >/dev/null) || true
  elif command -v sudo >/dev/null 2>&1; then
    (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rsyslog-relp >/dev/null) || true
  fi
fi
if [ "$have_rsyslog" = 0 ] || ! imrelp_installed; then
  have_relp=0
  loud "cannot install rsyslog-relp (apt-get install rsyslog rsyslog-relp): the RELP tests" \
       "against a real receiver are SKIPPED; everything else still runs."
fi
# ---- end rsyslog-relp ----
# ---- faketime: the wall-clock steps of the J1 test (appliance/tests/e2e/chaos.rs) ----
FAKETIME_LIB=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
if [ ! -e "$FAKETIME_LIB" ]; then
  echo "installing Debian package faketime (libfaketime: J1's clock steps)"
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq faketime >/dev/null) || true
  elif command -v sudo >/dev/null 2>&1; then
    (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq faketime >/dev/null) || true
  fi
  if [ ! -e "$FAKETIME_LIB" ]; then
    loud "cannot install faketime (apt-get install faketime): J1's clock steps are SKIPPED" \
         "(the test says so); everything else still runs."
    SKIPPED+=("J1 clock steps (no faketime)")
  fi
fi
# ---- end faketime ----
# ---- prometheus: promtool and the server that check and scrape [metrics] (appliance/tests/e2e/metrics.rs) ----
have_prometheus=1
if [ ! -x /usr/bin/promtool ] || [ ! -x /usr/bin/prometheus ]; then
  echo "installing Debian package prometheus (promtool check metrics and a real scraper for appliance/tests/e2e/metrics.rs)"
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >/dev/null) || true
  elif command -v sudo >/dev/null 2>&1; then
    (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >/dev/null) || true
  fi
  if [ ! -x /usr/bin/promtool ] || [ ! -x /usr/bin/prometheus ]; then
    have_prometheus=0
    loud "cannot install prometheus (apt-get install prometheus): promtool check metrics and the" \
         "scrape by a real Prometheus server are SKIPPED; everything else still runs."
  fi
fi
# ---- end prometheus ----
# ---- tinyproxy: the real HTTP proxy of appliance/tests/e2e/proxy.rs (proxy, no_proxy, proxy = "env") ----
if [ ! -x /usr/bin/tinyproxy ] && [ ! -x /usr/sbin/tinyproxy ]; then
  echo "installing Debian package tinyproxy (the CONNECT proxy of appliance/tests/e2e/proxy.rs)"
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tinyproxy >/dev/null) || true
  elif command -v sudo >/dev/null 2>&1; then
    (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tinyproxy >/dev/null) || true
  fi
  if [ ! -x /usr/bin/tinyproxy ] && [ ! -x /usr/sbin/tinyproxy ]; then
    loud "cannot install tinyproxy (apt-get install tinyproxy): the proxy tests are SKIPPED" \
         "(they say so); everything else still runs."
    SKIPPED+=("proxy tests (no tinyproxy)")
  fi
fi
# ---- end tinyproxy ----
have_fidelity=1
echo "installing Splunk's official clients for the fidelity tests (scripts/fidelity-deps.sh)"
if ! scripts/fidelity-deps.sh; then
  have_fidelity=0
  loud "cannot install splunk-sdk and pycef (pip) or splunk-logging (npm ci): the fidelity" \
       "and syslog steps are SKIPPED; everything else still runs."
fi
cargo --version
rustc --version

step fmt
cargo fmt --all -- --check
(cd firmware && cargo fmt --all -- --check)

step clippy
cargo clippy --workspace --all-targets --locked -- -D warnings

step test
cargo test --workspace --locked

step fidelity
# The same tests ran in `test`, where a missing client only prints SKIPPED; here the clients
# were installed, so REQUIRE_ALL makes sure they really ran.
if [ "$have_fidelity" = 1 ]; then
  ICSFWD_REQUIRE_ALL=1 cargo test -p icsfwd-tests --test formats fidelity:: --locked
  ICSFWD_REQUIRE_ALL=1 cargo test -p icsfwd-tests --test formats hostile:: --locked
else
  SKIPPED+=("fidelity (scripts/fidelity-deps.sh failed)")
  step_result SKIPPED
fi

step syslog
# Also ran in `test`, where a missing rsyslogd or pycef only prints SKIPPED; here both were
# installed, so REQUIRE_ALL makes sure the real receiver was used.
if [ "$have_rsyslog" = 1 ] && [ "$have_fidelity" = 1 ]; then
  ICSFWD_REQUIRE_ALL=1 cargo test -p icsfwd --test e2e rsyslog:: --locked
else
  SKIPPED+=("syslog (no rsyslogd or no pycef venv)")
  step_result SKIPPED
fi
# RELP against rsyslogd's imrelp (exactly once; 10,000 alerts through two receiver kills).
if [ "$have_relp" = 1 ]; then
  ICSFWD_REQUIRE_ALL=1 cargo test -p icsfwd --test e2e relp:: --locked
else
  SKIPPED+=("syslog over RELP (no rsyslog-relp)")
  if [ "$have_rsyslog" = 1 ] && [ "$have_fidelity" = 1 ]; then
    step_result "partly SKIPPED"
  fi
fi

step metrics
# Also ran in `test`, where a missing promtool or prometheus only prints SKIPPED; here both were
# installed, so REQUIRE_ALL makes sure the exposition was checked and scraped (about 20 s).
if [ "$have_prometheus" = 1 ]; then
  ICSFWD_REQUIRE_ALL=1 cargo test -p icsfwd --test e2e metrics:: --locked
else
  SKIPPED+=("metrics (no promtool / prometheus)")
fi

# ---- splunk-app: lint (ksconf, splint), package the add-on and the app, run AppInspect on each
# (scripts/splunk-app-check.sh) ----
step splunk-app
# ~40 s on a fresh machine (pip install of the tools), ~15 s afterwards. The packages' content
# test (tests/tests/splunk_app.rs) already ran in `test`.
set +e
scripts/splunk-app-check.sh
splunk_app_rc=$?
set -e
if [ "$splunk_app_rc" = 2 ]; then
  loud "cannot install splunk-appinspect, splint-spl or ksconf (pip): the lint and AppInspect runs are SKIPPED"
  SKIPPED+=("splunk-app (splunk-appinspect, splint-spl or ksconf not installable)")
  step_result SKIPPED
elif [ "$splunk_app_rc" != 0 ]; then
  exit "$splunk_app_rc"
fi
# ---- end splunk-app ----

step doc
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked

step fuzz-check
# The fuzz targets run on nightly with cargo-fuzz (see fuzz/README.md); here they are only
# type-checked on stable so that an API change cannot leave them broken.
(cd fuzz && cargo fmt -- --check && cargo check --locked --bins)

step fuzz-smoke
# ---- fuzz-smoke: 20 s of each cargo-fuzz target from the committed seeds, when nightly and
# cargo-fuzz are there (CI machines have stable only, so there it is SKIPPED; the committed
# corpus and regressions still ran on stable in `test`, tests/tests/formats/fuzz_corpus.rs). About 80 s
# plus the instrumented build. A long run: scripts/fuzz-long.sh SECONDS.
if cargo +nightly fuzz --version >/dev/null 2>&1; then
  scripts/fuzz-long.sh 20
else
  loud "no nightly toolchain with cargo-fuzz (cargo +nightly fuzz): the fuzz smoke run is" \
       "SKIPPED; the committed fuzz corpus was still replayed on stable in the test step."
  SKIPPED+=("fuzz-smoke (no cargo +nightly fuzz)")
  step_result SKIPPED
fi
# ---- end fuzz-smoke

if [ "$have_target" = 1 ]; then
  step core-thumbv7em
  cargo build -p icsfwd-core --target "$TARGET" --locked
  step core-thumbv7em-defmt
  cargo build -p icsfwd-core --target "$TARGET" --features defmt --locked
  step firmware-clippy
  (cd firmware && cargo clippy --locked -- -D warnings)
  step firmware-qemu
  if [ "$have_qemu" = 1 ]; then
    firmware/run.sh
  else
    (cd firmware && cargo build --release --locked)
    SKIPPED+=("firmware-qemu (no qemu-system-arm)")
    step_result "built, not run"
  fi
else
  SKIPPED+=("core-thumbv7em" "core-thumbv7em-defmt" "firmware-clippy" "firmware-qemu")
fi

# ---- cross: icsfwd for aarch64 and armv7 (tests under qemu-user) and static x86_64 musl --------
# scripts/cross.sh installs its tools and says SKIPPED for a target it cannot install; here its
# skipped targets are carried into the summary. About 7 minutes on 2 cores (docs/cross-builds.md).
step cross
cross_log=$(mktemp)
ICSFWD_REQUIRE_ALL=0 scripts/cross.sh 2>&1 | tee "$cross_log"
if grep -q '^!!! SKIPPED: ' "$cross_log"; then
  SKIPPED+=("cross ($(sed -n 's/^!!! SKIPPED: //p' "$cross_log" | tail -n 1))")
  step_result "partly SKIPPED"
fi
rm -f "$cross_log"
# ---- end of cross --------------------------------------------------------------------------

step_end
printf '\n==> done\n'
if [ "${#SKIPPED[@]}" -gt 0 ]; then
  loud "SKIPPED: ${SKIPPED[*]}"
  if [ "${ICSFWD_REQUIRE_ALL:-0}" = 1 ]; then
    echo "ICSFWD_REQUIRE_ALL=1: a skipped step is a failure" >&2
    exit 1
  fi
fi
echo "all test levels passed"
