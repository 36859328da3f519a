#!/usr/bin/env python3
"""Lints the Splunk packages in splunk-app/ with third-party tools (run by splunk-app-check.sh).

- Every .conf and .meta file, and the HEC template README/inputs.conf.example, through
  `ksconf check` (ksconf, PyPI `ksconf`): Splunk .conf syntax (stanzas, keys, continuation
  lines), duplicate stanzas and keys.
- Every SPL string through splint (PyPI `splint-spl`), all rules: the search of every stanza of
  savedsearches.conf, every macro definition that is a search pipeline, every <query> of every
  view, and the search (q=) of every drilldown link to the search page. A dashboard token is
  replaced by what Splunk would put there first: `$x|s$` by a quoted string, `$x|u$` and `$x$`
  by a bare word.

The structural SPL checks (known commands, balanced quotes and brackets, defined macros,
eventtypes and lookups, `|s` on every token) are in tests/tests/splunk_app.rs.

    target/splunk-app/venv/bin/python scripts/splunk-app-lint.py

Exit 0: clean. Exit 1: a finding (each printed with its file).
"""

import re
import subprocess
import sys
import urllib.parse
import xml.etree.ElementTree as ET
from pathlib import Path

from ksconf.conf.parser import parse_conf
from splint.config import Config
from splint.linter import lint_text

ROOT = Path(__file__).resolve().parent.parent / "splunk-app"
PACKAGES = ("TA-icsfwd", "icsfwd_ot_alerts")
TOKEN = re.compile(r"\$([A-Za-z0-9_.]+)(\|[a-z])?\$")


def substitute_tokens(spl: str) -> str:
    """What Splunk makes of a dashboard search once its tokens have values."""

    def value(match: re.Match) -> str:
        return '"token value"' if match.group(2) == "|s" else "token_value"

    return TOKEN.sub(value, spl)


def conf_files() -> list[Path]:
    files = []
    for package in PACKAGES:
        base = ROOT / package
        files += sorted(base.glob("default/*.conf"))
        files += sorted(base.glob("metadata/*.meta"))
        files += sorted(base.glob("README/*.example"))
    return files


def spl_strings() -> list[tuple[str, str]]:
    """(where, SPL) for every search in the packages."""
    found = []
    for package in PACKAGES:
        base = ROOT / package
        saved = base / "default" / "savedsearches.conf"
        if saved.exists():
            for stanza, settings in parse_conf(str(saved)).items():
                if "search" in settings:
                    found.append((f"{saved}: [{stanza}]", settings["search"]))
        macros = base / "default" / "macros.conf"
        if macros.exists():
            for stanza, settings in parse_conf(str(macros)).items():
                definition = settings.get("definition", "")
                if "|" in definition:
                    found.append((f"{macros}: [{stanza}]", definition))
        for view in sorted((base / "default" / "data" / "ui" / "views").glob("*.xml")):
            root = ET.parse(view).getroot()
            for query in root.iter("query"):
                found.append((f"{view}: <query>", substitute_tokens(query.text or "")))
            for link in root.iter("link"):
                target = (link.text or "").strip()
                if target.startswith("search?"):
                    spl = target.split("q=", 1)[1].split("&earliest=", 1)[0]
                    found.append((f"{view}: <link>", substitute_tokens(urllib.parse.unquote(spl))))
    return found


def main() -> int:
    failures = 0
    files = [str(f) for f in conf_files()]
    check = subprocess.run(
        [str(Path(sys.executable).parent / "ksconf"), "check", *files],
        capture_output=True,
        text=True,
    )
    if check.returncode != 0:
        print(check.stdout + check.stderr, file=sys.stderr)
        failures += 1
    print(f"splunk-app-lint: ksconf check: {len(files)} files, exit {check.returncode}")
    searches = spl_strings()
    config = Config()
    findings = 0
    for where, spl in searches:
        for diagnostic in lint_text(spl, config):
            findings += 1
            print(f"{where}: {diagnostic.code} {diagnostic.message}\n    {spl}", file=sys.stderr)
    print(
        f"splunk-app-lint: splint: {len(searches)} SPL strings, rules "
        f"{','.join(sorted(config.enabled_codes()))}, {findings} findings"
    )
    if findings:
        failures += 1
    if len(searches) < 30:
        print(f"splunk-app-lint: only {len(searches)} SPL strings found", file=sys.stderr)
        failures += 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
