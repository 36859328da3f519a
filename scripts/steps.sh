# Named steps with their elapsed time, for scripts/test-all.sh (sourced, not run).
#
#   source scripts/steps.sh
#   trap steps_on_exit EXIT
#   step fmt          # ends the running step (prints "<== step NAME: S s") and starts fmt
#   step_result SKIPPED   # the running step's result in the table (default ok)
#   step_end          # ends the running step without starting another
#
# At exit, steps_on_exit ends the running step (FAILED if the script exits non-zero) and
# prints a table of every step: its seconds (one decimal), its result, and the total. Bash's
# EPOCHREALTIME gives the time (bash 5); an older bash falls back to whole seconds.
#
# tests/tests/test_all_script.rs checks this file's output.

STEP_NAMES=()
STEP_SECONDS=()
STEP_RESULTS=()
_step_name=""
_step_result=""
_step_start=""

# The time now, in seconds with a fraction when bash has it.
_step_now() {
  if [[ -n ${EPOCHREALTIME:-} ]]; then
    printf '%s' "${EPOCHREALTIME/,/.}"
  else
    printf '%s' "$SECONDS"
  fi
}

# Ends the running step, if any, with result $1 (default: the one set, else ok).
_step_end() {
  [[ -n $_step_name ]] || return 0
  local elapsed
  elapsed=$(awk -v a="$_step_start" -v b="$(_step_now)" 'BEGIN { printf "%.1f", b - a }')
  STEP_NAMES+=("$_step_name")
  STEP_SECONDS+=("$elapsed")
  STEP_RESULTS+=("${1:-${_step_result:-ok}}")
  printf '<== step %s: %s s\n' "$_step_name" "$elapsed"
  _step_name=""
  _step_result=""
}

step() {
  _step_end
  _step_name=$1
  _step_result=""
  _step_start=$(_step_now)
  printf '\n==> step %s\n' "$1"
}

step_result() {
  _step_result=$1
}

# Ends the running step without starting another.
step_end() {
  _step_end
}

# The table of every step ended so far.
steps_table() {
  [[ ${#STEP_NAMES[@]} -gt 0 ]] || return 0
  printf '\n%-22s %9s  %s\n' step seconds result
  local i
  for i in "${!STEP_NAMES[@]}"; do
    printf '%-22s %9s  %s\n' "${STEP_NAMES[$i]}" "${STEP_SECONDS[$i]}" "${STEP_RESULTS[$i]}"
  done
  printf '%-22s %9s\n' total "$(printf '%s\n' "${STEP_SECONDS[@]}" | awk '{ t += $1 } END { printf "%.1f", t }')"
}

# The EXIT trap: the running step ends (FAILED on a non-zero exit), then the table.
steps_on_exit() {
  local status=$?
  if [[ $status -ne 0 ]]; then
    _step_end FAILED
  else
    _step_end
  fi
  steps_table
  return "$status"
}
