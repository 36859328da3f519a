"""Parses syslog messages carrying CEF with PyPI `pycef`, an independent CEF parser.

    target/fidelity/venv/bin/python tests/syslog/parse_cef.py MESSAGES.log

Reads one message per line (as tests/syslog/rsyslog.conf.in writes them) and prints, for each,
one JSON line: the object pycef returned (header fields `DeviceVendor`, `DeviceProduct`,
`DeviceVersion`, `DeviceEventClassID`, `Name`, `Severity`, `CEFVersion`, then every extension
key, custom labels applied: `cs1Label=engine cs1=X` becomes `"engine": "X"`), or `null` when
pycef could not parse it. pycef leaves CEF escapes in extension values as they were; this
script undoes the ones the CEF specification defines (`\\`, `\=`, `\n`, `\r`) and nothing else,
so the values printed are the values the sender meant. Used by appliance/tests/e2e/rsyslog.rs;
the venv is made by scripts/fidelity-deps.sh (pycef pinned in tests/fidelity/requirements.txt).
"""

import json
import re
import sys

import pycef

HEADER = {
    "CEFVersion",
    "DeviceVendor",
    "DeviceProduct",
    "DeviceVersion",
    "DeviceEventClassID",
    "Name",
    "DeviceName",
    "Severity",
    "DeviceSeverity",
}
ESCAPE = re.compile(r"\\(.)")
UNESCAPED = {"\\": "\\", "=": "=", "n": "\n", "r": "\r"}


def unescape(value):
    return ESCAPE.sub(lambda m: UNESCAPED.get(m.group(1), m.group(0)), value)


def main(path):
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            parsed = pycef.parse(line.rstrip("\n"))
            if parsed is not None:
                parsed = {k: (v if k in HEADER else unescape(v)) for k, v in parsed.items()}
            print(json.dumps(parsed, ensure_ascii=False))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: parse_cef.py MESSAGES.log")
    main(sys.argv[1])
