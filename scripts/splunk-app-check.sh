#!/usr/bin/env bash
# Proves the Splunk app (splunk-app/) is installable on Splunk Cloud:
#   1. installs splunk-appinspect (pinned in scripts/splunk-app-requirements.txt) into a venv at
#      target/splunk-app/venv (python3 -m venv; skipped while its stamp is newer than the pin);
#   2. builds the package with scripts/package-app.sh;
#   3. runs `splunk-appinspect inspect <pkg> --mode precert --included-tags cloud` offline and
#      fails on any failure, error or future failure in its JSON report (AppInspect itself exits
#      0 on check failures), printing the summary and every warning;
#
# The app's content test (tests/tests/splunk_app.rs: line breaking, extractions, CIM fields,
# dashboard fields) needs no external tool and runs in the `test` step with the workspace.
#
#   ./scripts/splunk-app-check.sh
#
# Exit 0: all green. Exit 1: a check failed. Exit 2: AppInspect could not be installed (the
# caller prints SKIPPED). Cost: ~35 s for the first pip install, ~10 s afterwards.
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
echo "splunk-app-check: $("$VENV/bin/splunk-appinspect" list version 2>/dev/null | tail -n 1)"

pkg=$(scripts/package-app.sh | tail -n 1)
report=target/splunk-app/appinspect.json
rm -f "$report"
"$VENV/bin/splunk-appinspect" inspect "$pkg" --mode precert --included-tags cloud \
  --skip-trusted-libraries-update --data-format json --output-file "$report" \
  > target/splunk-app/appinspect.log 2>&1 || {
  echo "splunk-app-check: splunk-appinspect exited non-zero; its log:" >&2
  cat target/splunk-app/appinspect.log >&2
  exit 1
}
"$VENV/bin/python" - "$report" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
summary = report["summary"]
print("appinspect summary:", json.dumps(summary, sort_keys=True))
bad = []
for rep in report["reports"]:
    for group in rep["groups"]:
        for check in group["checks"]:
            result = check["result"]
            if result in ("failure", "error", "future_failure", "warning", "manual_check"):
                texts = [m.get("message", "") for m in check.get("messages", [])]
                print(f"  {result}: {check['name']}: {' | '.join(texts)}")
            if result in ("failure", "error", "future_failure"):
                bad.append(check["name"])
if bad or summary.get("failure", 0) or summary.get("error", 0) or summary.get("future_failure", 0):
    print("splunk-app-check: AppInspect FAILED:", ", ".join(bad), file=sys.stderr)
    sys.exit(1)
PY

echo "splunk-app-check: passed"
