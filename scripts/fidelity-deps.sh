#!/usr/bin/env bash
# Installs Splunk's official clients that tests/tests/formats/fidelity.rs drives, and the CEF parser
# appliance/tests/e2e/rsyslog.rs checks syslog payloads with:
#   - Python: splunk-sdk, pycef and syslog-rfc5424-parser (the RFC 5424 parser of
#     tests/tests/formats/hostile.rs; all pinned in tests/fidelity/requirements.txt) in a venv at
#     target/fidelity/venv (python3 -m venv; pip from the package index);
#   - Node: splunk-logging (pinned by tests/fidelity/node/package-lock.json) with `npm ci`
#     into tests/fidelity/node/node_modules.
#
#   ./scripts/fidelity-deps.sh
#
# Idempotent and fast when done: each half is skipped while its stamp file is newer than its
# pin file. Exits non-zero if either install fails; prints the installed versions.
set -euo pipefail

cd "$(dirname "$0")/.."
VENV=target/fidelity/venv
REQS=tests/fidelity/requirements.txt
NODE_DIR=tests/fidelity/node

python=${PYTHON:-python3}
if [ ! -x "$VENV/bin/python" ]; then
  echo "fidelity-deps: creating $VENV with $($python --version 2>&1)"
  mkdir -p "$(dirname "$VENV")"
  "$python" -m venv "$VENV"
fi
if [ ! "$VENV/.installed" -nt "$REQS" ]; then
  echo "fidelity-deps: pip install -r $REQS"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQS"
  touch "$VENV/.installed"
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "fidelity-deps: npm not found (Node.js 18+ with npm is needed)" >&2
  exit 1
fi
if [ ! "$NODE_DIR/node_modules/.installed" -nt "$NODE_DIR/package-lock.json" ]; then
  echo "fidelity-deps: npm ci in $NODE_DIR"
  (cd "$NODE_DIR" && npm ci --no-audit --no-fund --loglevel=error)
  touch "$NODE_DIR/node_modules/.installed"
fi

echo "fidelity-deps: python $("$VENV/bin/python" --version 2>&1 | cut -d' ' -f2)," \
  "splunk-sdk $("$VENV/bin/python" -c 'import splunklib; print(splunklib.__version__)')," \
  "pycef $("$VENV/bin/python" -m pip show pycef 2>/dev/null | sed -n 's/^Version: //p'),"\
  "syslog-rfc5424-parser $("$VENV/bin/python" -m pip show syslog-rfc5424-parser 2>/dev/null | sed -n 's/^Version: //p')," \
  "node $(node --version), splunk-logging" \
  "$(node -p 'require("./'"$NODE_DIR"'/node_modules/splunk-logging/package.json").version')"
