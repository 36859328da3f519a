#!/usr/bin/env bash
# Cross-compiled builds of icsfwd (docs/cross-builds.md), the `cross` step of
# scripts/test-all.sh; also run by hand:
#
#   scripts/cross.sh                                  # every target, the CI subset
#   scripts/cross.sh aarch64-unknown-linux-gnu        # one or more targets
#   ICSFWD_CROSS_RELEASE=1 scripts/cross.sh [TARGET]  # also the release binary and its size
#
# What each target runs (the CI budget is ~7 minutes on 2 cores; see docs/cross-builds.md):
#   aarch64-unknown-linux-gnu      icsfwd's unit tests and a subset of its integration tests
#                                  (QEMU_TESTS below; ICSFWD_CROSS_TESTS=all for every one)
#                                  under qemu-aarch64
#   armv7-unknown-linux-gnueabihf  icsfwd-core's unit tests under qemu-arm (the 32-bit target)
#   x86_64-unknown-linux-musl      no tests; the binary is checked static
# Every binary built is also run: `--version`, `check-config` on etc/icsfwd.example.toml,
# `render --sample`.
#
# It installs what it needs (Debian's cross gcc, libc and qemu-user as root or with sudo, the
# rustup target). A target whose tools cannot be installed is reported as SKIPPED, loudly, and
# named on the last line (`SKIPPED: ...`); the exit status is then 0 unless
# ICSFWD_REQUIRE_ALL=1. A build or test failure is exit status 1.
set -euo pipefail

cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
export CARGO_INCREMENTAL=0

ALL_TARGETS=(aarch64-unknown-linux-gnu armv7-unknown-linux-gnueabihf x86_64-unknown-linux-musl)
if [ "$#" -gt 0 ]; then TARGETS=("$@"); else TARGETS=("${ALL_TARGETS[@]}"); fi
SKIPPED=()
APT_UPDATED=0

loud() {
  printf '\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n' >&2
  printf '!!! %s\n' "$@" >&2
  printf '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\n' >&2
}

# apt_install COMMAND PACKAGE...: installs the packages unless COMMAND is already there.
apt_install() {
  local command=$1
  shift
  command -v "$command" >/dev/null 2>&1 && return 0
  echo "installing Debian packages $*"
  local sudo=()
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || return 1
    sudo=(sudo)
  fi
  command -v apt-get >/dev/null 2>&1 || return 1
  if [ "$APT_UPDATED" = 0 ]; then
    "${sudo[@]}" apt-get update -qq || return 1
    APT_UPDATED=1
  fi
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "$@" >/dev/null || return 1
  command -v "$command" >/dev/null 2>&1
}

rust_target() {
  rustup target list --installed 2>/dev/null | grep -qx "$1" || rustup target add "$1"
}

# The tools of a target; the qemu runner and the test prefix come from .cargo/config.toml.
install_target() {
  case "$1" in
    aarch64-unknown-linux-gnu)
      apt_install aarch64-linux-gnu-gcc gcc-aarch64-linux-gnu libc6-dev-arm64-cross &&
        apt_install qemu-aarch64 qemu-user ;;
    armv7-unknown-linux-gnueabihf)
      apt_install arm-linux-gnueabihf-gcc gcc-arm-linux-gnueabihf libc6-dev-armhf-cross &&
        apt_install qemu-arm qemu-user ;;
    x86_64-unknown-linux-musl)
      apt_install musl-gcc musl-tools ;;
    *)
      echo "unknown target $1 (known: ${ALL_TARGETS[*]})" >&2
      exit 2 ;;
  esac && apt_install file file && rust_target "$1"
}

# The command that runs a binary of the target on this machine.
runner() {
  case "$1" in
    aarch64-unknown-linux-gnu) echo "qemu-aarch64 -L /usr/aarch64-linux-gnu" ;;
    armv7-unknown-linux-gnueabihf) echo "qemu-arm -L /usr/arm-linux-gnueabihf" ;;
    *) echo "" ;;
  esac
}

# smoke TARGET BINARY: runs the binary as an operator would, through the target's runner.
smoke() {
  local run
  read -r -a run <<<"$(runner "$1") $2"
  "${run[@]}" --version
  ICSFWD_HEC_TOKEN=cross-token ICSFWD_SPLUNK_PASSWORD=cross-password \
    "${run[@]}" check-config --config etc/icsfwd.example.toml
  "${run[@]}" render --sample >/dev/null
  echo "$1: --version, check-config and render --sample ran"
}

# The integration tests of icsfwd run under qemu-aarch64 in CI: the ones that exercise what a
# target can change (file I/O and fsync of the spool, TLS through ring's C and assembly, the
# service spawned and killed as a process) and fit the budget. The others are slow under
# emulation (10,000-alert runs, proptest suites) or assert timing that emulation stretches;
# ICSFWD_CROSS_TESTS=all runs every one (docs/cross-builds.md lists which pass).
# Each entry: a test binary (appliance/tests/<binary>/main.rs) and the filters that pick its
# modules (libtest's: a substring of the test's path, `--skip` leaves one out).
QEMU_TESTS=(
  "config example:: secrets:: validation::"
  "output deliver_worker:: splunk:: --skip deliver_splunk::"
  "e2e crash:: ingest:: rules::"
  "spool api:: checkpoint:: recovery:: verify::"
)
# These modules exec the binary themselves instead of through e2e_support's ICSFWD_TEST_RUNNER
# prefix; without a binfmt_misc handler for qemu the kernel cannot exec the foreign ELF.
SPAWNS_DIRECTLY=("cli commands::" "cli tools::" "config cli::")

binfmt_runs() {
  [ -r "/proc/sys/fs/binfmt_misc/$1" ] && grep -qx enabled "/proc/sys/fs/binfmt_misc/$1"
}

test_aarch64() {
  local target=aarch64-unknown-linux-gnu runs=() run binary filters spawn module skips status=0
  if [ "${ICSFWD_CROSS_TESTS:-}" = all ]; then
    for run in appliance/tests/*/main.rs; do runs+=("$(basename "$(dirname "$run")")"); done
  else
    runs=("${QEMU_TESTS[@]}")
  fi
  ICSFWD_TEST_RUNNER=$(runner "$target")
  export ICSFWD_TEST_RUNNER
  cargo test -p icsfwd --target "$target" --locked --lib || status=1
  for run in "${runs[@]}"; do
    read -r binary filters <<<"$run"
    skips=()
    if ! binfmt_runs qemu-aarch64; then
      for spawn in "${SPAWNS_DIRECTLY[@]}"; do
        [ "${spawn%% *}" = "$binary" ] || continue
        module=${spawn#* }
        if [ -z "$filters" ]; then
          echo "$target: NOT RUN under qemu: tests/$binary/${module%::}.rs" \
            "(execs the binary directly; no binfmt_misc)"
        fi
        skips+=(--skip "$module")
      done
    fi
    # shellcheck disable=SC2086 # the filters are words
    cargo test -p icsfwd --target "$target" --locked --test "$binary" -- $filters "${skips[@]}" \
      || status=1
  done
  unset ICSFWD_TEST_RUNNER
  return "$status"
}

# The 32-bit target: icsfwd-core's unit tests (sizes, offsets and arithmetic where usize is 32
# bits); the appliance's own tests run on aarch64 and the host, and its binary runs below.
test_armv7() {
  cargo test -p icsfwd-core --target armv7-unknown-linux-gnueabihf --locked --lib
}

check_static() {
  local binary=$1
  file "$binary"
  file "$binary" | grep -q 'statically linked\|static-pie linked' ||
    { echo "$binary is not statically linked" >&2; return 1; }
  if ldd "$binary" 2>&1 | grep -q '=>'; then
    echo "$binary has dynamic dependencies" >&2
    ldd "$binary" >&2
    return 1
  fi
  echo "$binary: static (ldd: $(ldd "$binary" 2>&1 | head -n 1 | sed 's/^[[:space:]]*//'))"
}

for target in "${TARGETS[@]}"; do
  printf '\n==> cross %s\n' "$target"
  if ! install_target "$target"; then
    loud "cannot install the tools for $target (Debian cross gcc/libc, qemu-user, musl-tools" \
         "or rustup target add): its cross build is SKIPPED."
    SKIPPED+=("$target")
    continue
  fi
  start=$SECONDS
  case "$target" in
    aarch64-unknown-linux-gnu) test_aarch64 ;;
    armv7-unknown-linux-gnueabihf) test_armv7 ;;
  esac
  # aarch64's integration tests built the binary already; a separate `cargo build` would
  # build the dependencies again, with the features of a non-test build.
  if [ "$target" != aarch64-unknown-linux-gnu ]; then
    cargo build -p icsfwd --bin icsfwd --target "$target" --locked
  fi
  binary=target/$target/debug/icsfwd
  if [ "$target" = x86_64-unknown-linux-musl ]; then check_static "$binary"; fi
  smoke "$target" "$binary"
  if [ "${ICSFWD_CROSS_RELEASE:-0}" = 1 ]; then
    cargo build -p icsfwd --bin icsfwd --target "$target" --locked --release
    binary=target/$target/release/icsfwd
    if [ "$target" = x86_64-unknown-linux-musl ]; then check_static "$binary"; fi
    smoke "$target" "$binary"
    file "$binary"
    ls -l "$binary"
  fi
  echo "$target: done in $((SECONDS - start)) s"
done

if [ "${#SKIPPED[@]}" -gt 0 ]; then
  loud "SKIPPED: ${SKIPPED[*]}"
  if [ "${ICSFWD_REQUIRE_ALL:-0}" = 1 ]; then
    echo "ICSFWD_REQUIRE_ALL=1: a skipped target is a failure" >&2
    exit 1
  fi
fi
echo "cross builds passed: ${TARGETS[*]}"
