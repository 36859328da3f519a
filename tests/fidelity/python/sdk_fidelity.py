#!/usr/bin/env python3
"""Drives the icsfwd splunkd emulator with Splunk's official Python SDK (splunk-sdk).

What it does, in the order the SDK does it for a real Splunk:
  1. client.connect(): POST /services/auth/login (form body, cookie=1); the SDK keeps the
     splunkd_<port> cookie it gets back and sends only that cookie from then on.
  2. service.indexes[INDEX]: GET /services/data/indexes/INDEX (Atom feed), read
     totalEventCount before and after the submits.
  3. Index.submit(event, host=, source=, sourcetype=) for every SUBMITTED event:
     POST /services/receivers/simple?index=..&host=..&source=..&sourcetype=..
  4. Index.attached_socket(...): the raw-socket POST to /services/receivers/stream, writes
     STREAMED_LINES, then the SDK shuts the socket down (no reply is read, no TLS
     close_notify is sent: SSLSocket.shutdown() is a TCP shutdown). https only: see
     ATTACH_NEEDS_TLS.
It prints one JSON summary on stdout (what it sent, with the metadata), which the Rust test
compares with what the emulator stored. Any SDK error ends the script with exit status 1.

TLS (scheme https): verification stays on. The request path takes the SSLContext through the
SDK's `context=` parameter, which splunk-sdk 2.1.1 uses only when `verify=True`. `attach()`
ignores that context: it builds `ssl.create_default_context()` itself and verifies only when
`self_signed_certificate=False` (the default, True, turns verification OFF), so this script
passes `self_signed_certificate=False` and points OpenSSL's default trust at the CA file with
SSL_CERT_FILE (read when the default context is created).

Non-ASCII events are submitted as UTF-8 bytes: the SDK hands a `str` body to http.client,
which encodes it as ISO-8859-1 (characters outside it raise) while Content-Length counts
characters, so a correct caller encodes first.
"""

import argparse
import json
import os
import ssl
import sys

import splunklib
import splunklib.client as client

# (event, host, source, sourcetype): ASCII, non-ASCII, multi-line, and a key=value body that
# must stay event text (metadata comes from the query string only).
SUBMITTED = [
    ("plc stop on PLC-7 unit=3", "sensor-a", "icsfwd:fidelity", "icsfwd:alert"),
    (
        "Störung: Ventil V-101 geöffnet — 温度 ✓ ∑",
        "sensor-ü",
        "icsfwd:fidelity",
        "icsfwd:alert",
    ),
    (
        "line one\nline two\n\tindented line three",
        "sensor-b",
        "icsfwd:multi line",
        "icsfwd:alert",
    ),
    ("index=other host=spoofed sourcetype=bad", "sensor-c", "icsfwd:fidelity", "kv"),
]
STREAM_META = ("sensor-stream", "icsfwd:stream", "icsfwd:alert")
STREAMED_LINES = [
    "stream event 1\r\n",
    "stream event 2 Größe\r\n",
    "stream event 3 end\r\n",
]

ATTACH_NEEDS_TLS = (
    "splunk-sdk attach() writes with sock.write(), which only ssl.SSLSocket has: "
    "over plain http it raises AttributeError, so the stream step runs only with https"
)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", required=True, type=int)
    parser.add_argument("--scheme", choices=["http", "https"], required=True)
    parser.add_argument("--ca-file", help="PEM CA that signed the server (https)")
    parser.add_argument("--username", required=True)
    parser.add_argument(
        "--password-env",
        default="ICSFWD_FIDELITY_PASSWORD",
        help="environment variable holding the password (kept off the command line)",
    )
    parser.add_argument("--index", default="main")
    args = parser.parse_args()
    if args.scheme == "https" and not args.ca_file:
        parser.error("--ca-file is required with --scheme https")
    password = os.environ.get(args.password_env)
    if password is None:
        parser.error(f"set the password in ${args.password_env}")
    return args, password


def connect(args, password):
    kwargs = dict(
        host=args.host,
        port=args.port,
        scheme=args.scheme,
        username=args.username,
        password=password,
        autologin=False,
    )
    if args.scheme == "https":
        context = ssl.create_default_context(cafile=args.ca_file)
        # attach() builds its own default context; make it trust the same CA.
        os.environ["SSL_CERT_FILE"] = args.ca_file
        kwargs.update(verify=True, context=context, self_signed_certificate=False)
    return client.connect(**kwargs)


def total_event_count(index):
    index.refresh()
    return int(index["totalEventCount"])


def main():
    args, password = parse_args()
    service = connect(args, password)
    index = service.indexes[args.index]
    before = total_event_count(index)
    for event, host, source, sourcetype in SUBMITTED:
        body = event if event.isascii() else event.encode("utf-8")
        index.submit(body, host=host, source=source, sourcetype=sourcetype)
    after = total_event_count(index)

    host, source, sourcetype = STREAM_META
    if args.scheme == "https":
        with index.attached_socket(host=host, source=source, sourcetype=sourcetype) as sock:
            for line in STREAMED_LINES:
                sock.sendall(line.encode("utf-8"))
        streamed = {
            "body": "".join(STREAMED_LINES),
            "host": host,
            "source": source,
            "sourcetype": sourcetype,
        }
    else:
        streamed = {"skipped": ATTACH_NEEDS_TLS}

    summary = {
        "sdk": "splunk-sdk",
        "sdk_version": splunklib.__version__,
        "python": sys.version.split()[0],
        "scheme": args.scheme,
        "used_cookie": service.has_cookies(),
        "index": {
            "name": index.name,
            "total_event_count_before": before,
            "total_event_count_after_submits": after,
        },
        "submitted": [
            {"event": e, "host": h, "source": s, "sourcetype": st}
            for e, h, s, st in SUBMITTED
        ],
        "streamed": streamed,
    }
    print(json.dumps(summary, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as err:  # any SDK failure is a test failure, named on stderr
        print(f"sdk_fidelity: {type(err).__name__}: {err}", file=sys.stderr)
        sys.exit(1)
