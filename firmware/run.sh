#!/usr/bin/env bash
# Builds the icsfwd-core firmware image, runs it under QEMU (mps2-an386, Cortex-M4), and fails
# unless every case passed, the log equals expected.log (knurling style: measurement lines
# aside), and the image fits its budget: 48 KiB of flash, 16 KiB of RAM including the stack.
#
#   ./run.sh                      host tests of the harness, build, run, compare, budget
#   UPDATE_EXPECTED=1 ./run.sh    rewrite expected.log from this run (review the diff!)
#
# Installs what it needs on a fresh Debian machine (qemu-system-arm, binutils) with apt-get.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

readonly TARGET=thumbv7em-none-eabihf
readonly ELF="target/$TARGET/release/icsfwd-firmware"
readonly FLASH_BUDGET=$((48 * 1024))
readonly RAM_BUDGET=$((16 * 1024))
readonly QEMU_TIMEOUT=120

step() { printf '\n== firmware: %s\n' "$*"; }
die() { printf 'firmware: FAILED: %s\n' "$*" >&2; exit 1; }

apt_updated=0
ensure_tool() { # ensure_tool COMMAND DEBIAN-PACKAGE
    command -v "$1" >/dev/null 2>&1 && return 0
    command -v apt-get >/dev/null 2>&1 || die "$1 is missing and apt-get is not available; install $2"
    local sudo=()
    [[ $(id -u) -eq 0 ]] || sudo=(sudo)
    if [[ $apt_updated -eq 0 ]]; then
        "${sudo[@]}" apt-get update -qq
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "$2" >/dev/null
    command -v "$1" >/dev/null 2>&1 || die "installing $2 did not provide $1"
}

ensure_tool qemu-system-arm qemu-system-arm
ensure_tool readelf binutils
if ! rustup target list --installed 2>/dev/null | grep -qx "$TARGET"; then
    rustup target add "$TARGET"
fi

step "host tests of the harness (fixtures equal the host golden fixtures, checker, cases)"
host=$(rustc -vV | sed -n 's/^host: //p')
cargo test --lib --target "$host" --quiet

step "build (release, $TARGET)"
cargo build --release --quiet

step "run under QEMU (timeout ${QEMU_TIMEOUT}s)"
# The log is the image's semihosting output (QEMU's stdout) only; cargo's and QEMU's own
# messages (a lockup report, say) go to stderr and are shown apart.
log=$(mktemp)
err=$(mktemp)
trap 'rm -f "$log" "$err"' EXIT
set +e
timeout "$QEMU_TIMEOUT" cargo run --release --quiet >"$log" 2>"$err"
status=$?
set -e
cat "$log"
if [[ $status -ne 0 ]]; then
    cat "$err" >&2
fi
[[ $status -ne 124 ]] || die "QEMU did not finish within ${QEMU_TIMEOUT}s (a hang or a lockup)"
[[ $status -eq 0 ]] || die "the image exited with status $status"
grep -Eq '^firmware: [0-9]+ passed, 0 failed$' "$log" || die "no passing summary line in the log"

step "compare the log with expected.log (stack and RAM measurement lines aside)"
# Measurements change with the compiler; they are checked against the budget below instead.
filtered=$(grep -Ev '^(stack high-water|ram):' "$log" || true)
if [[ -n ${UPDATE_EXPECTED:-} ]]; then
    printf '%s\n' "$filtered" >expected.log
    echo "expected.log rewritten"
elif ! diff -u expected.log <(printf '%s\n' "$filtered"); then
    die "the log differs from expected.log (UPDATE_EXPECTED=1 ./run.sh if the change is intended)"
fi

step "size budget"
# Sum the allocated sections of the ELF: what flash holds (vector table, code, read-only data,
# the initial values of .data) and what RAM holds (.data, .bss, .uninit). readelf reads any
# ELF, so no Arm toolchain is needed.
flash=0
statics=0
readonly RAM_ORIGIN=$((0x20000000)) # memory.x: STACK and RAM live from here on
# Fields after the index: name type addr offset size es flags ... (hex addresses and sizes).
while read -r _name type addr _off size _es flags _rest; do
    if [[ $flags != *A* ]]; then
        continue
    fi
    if [[ $type != NOBITS ]]; then
        flash=$((flash + 16#$size))
    fi
    if ((16#$addr >= RAM_ORIGIN)); then
        statics=$((statics + 16#$size))
    fi
done < <(readelf -S -W "$ELF" | sed -nE 's/^ *\[ *[0-9]+\] +//p')
# POSIX awk has no hex parsing: print the value, let bash convert it. awk reads to the end
# (no `exit`): stopping early would kill readelf with SIGPIPE, which pipefail turns into a
# failure whenever the symbol comes before the last block readelf writes.
symbol() { readelf -s -W "$ELF" | awk -v name="$1" '$8 == name && !found { print $2; found = 1 }'; }
stack_start=$((16#$(symbol _stack_start)))
stack_end=$((16#$(symbol _stack_end)))
[[ $stack_start -gt 0 ]] || die "no _stack_start symbol in $ELF"
stack_reserved=$((stack_start - stack_end))
high_water=$(sed -nE 's/^stack high-water: ([0-9]+) bytes.*/\1/p' "$log")
[[ -n $high_water ]] || die "no stack high-water line in the log"
ram_total=$((statics + stack_reserved))

printf 'flash: %d bytes (text+rodata+data init) of %d\n' "$flash" "$FLASH_BUDGET"
printf 'ram: %d bytes (data+bss) + stack reserved %d = %d of %d\n' \
    "$statics" "$stack_reserved" "$ram_total" "$RAM_BUDGET"
printf 'stack high-water: %d bytes of %d reserved\n' "$high_water" "$stack_reserved"

((flash <= FLASH_BUDGET)) || die "flash $flash bytes exceeds the $FLASH_BUDGET-byte budget"
((ram_total <= RAM_BUDGET)) || die "RAM $ram_total bytes exceeds the $RAM_BUDGET-byte budget"
((high_water < stack_reserved)) || die "the stack reached the bottom of its region"
echo "firmware: run.sh passed"
