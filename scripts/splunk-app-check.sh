#!/usr/bin/env bash
# Proves the Splunk packages (splunk-app/TA-icsfwd, the add-on, and splunk-app/icsfwd_ot_alerts,
# the app) are well formed and installable on Splunk Cloud:
#   1. installs splunk-appinspect, splint-spl and ksconf (pinned in
#      scripts/splunk-app-requirements.txt) into a venv at target/splunk-app/venv (python3 -m
#      venv; skipped while its stamp is newer than the pin);
#   2. scripts/splunk-app-lint.py: every .conf through `ksconf check`, every SPL string (saved
#      searches, search macros, dashboard queries and drilldown searches) through splint;
#   3. builds both packages with scripts/package-app.sh;
#   4. runs `splunk-appinspect inspect <pkg> --mode precert --included-tags cloud` offline on
#      each and fails on any failure, error, future failure or warning in its JSON report
#      (AppInspect itself exits 0 on check failures), printing each summary.
#
# The content tests (tests/tests/splunk_app.rs: line breaking, extractions, CIM fields,
# signature_id across transports, ATT&CK lookups, saved searches, `|s` on every dashboard
# token, structural SPL checks) need no external tool and run in the `test` step.
#
#   ./scripts/splunk-app-check.sh
#
# Exit 0: all green. Exit 1: a check failed. Exit 2: the tools could not be installed (the
# caller prints SKIPPED). Cost: ~40 s for the first pip install, ~15 s afterwards.
set -euo pipefail

cd "$(dirname "$0")/.."
VENV=target/splunk-app/venv
REQS=scripts/splunk-app-requirements.txt
python=${PYTHON:-python3}

if [ ! -x "$VENV/bin/python" ]; then
  echo "splunk-app-check: creating $VENV with $($python --version 2>&1)"
  mkdir -p "$(dirname "$VENV")"
  "$python" -m venv "$VENV" || exit 2
fi
if [ ! "$VENV/.installed" -nt "$REQS" ]; then
  echo "splunk-app-check: pip install -r $REQS"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQS" || exit 2
  touch "$VENV/.installed"
fi
echo "splunk-app-check: $("$VENV/bin/splunk-appinspect" list version 2>/dev/null | tail -n 1)," \
  "splint $("$VENV/bin/splint" --version 2>&1 | awk '{print $NF}')," \
  "ksconf $("$VENV/bin/python" -m pip show ksconf 2>/dev/null | sed -n 's/^Version: //p')"

"$VENV/bin/python" scripts/splunk-app-lint.py

mapfile -t packages < <(scripts/package-app.sh)
if [ "${#packages[@]}" -ne 2 ]; then
  echo "splunk-app-check: expected 2 packages, got: ${packages[*]}" >&2
  exit 1
fi
for pkg in "${packages[@]}"; do
  name=$(basename "$pkg" .tgz)
  report=target/splunk-app/appinspect-$name.json
  log=target/splunk-app/appinspect-$name.log
  rm -f "$report"
  "$VENV/bin/splunk-appinspect" inspect "$pkg" --mode precert --included-tags cloud \
    --skip-trusted-libraries-update --data-format json --output-file "$report" \
    > "$log" 2>&1 || {
    echo "splunk-app-check: splunk-appinspect exited non-zero on $pkg; its log:" >&2
    cat "$log" >&2
    exit 1
  }
  "$VENV/bin/python" - "$report" "$name" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
summary = report["summary"]
print(f"appinspect summary {sys.argv[2]}:", json.dumps(summary, sort_keys=True))
bad = []
for rep in report["reports"]:
    for group in rep["groups"]:
        for check in group["checks"]:
            result = check["result"]
            if result in ("failure", "error", "future_failure", "warning", "manual_check"):
                texts = [m.get("message", "") for m in check.get("messages", [])]
                print(f"  {result}: {check['name']}: {' | '.join(texts)}")
            if result in ("failure", "error", "future_failure", "warning"):
                bad.append(check["name"])
if bad:
    print(f"splunk-app-check: AppInspect FAILED on {sys.argv[2]}:", ", ".join(bad), file=sys.stderr)
    sys.exit(1)
PY
done

echo "splunk-app-check: passed"
