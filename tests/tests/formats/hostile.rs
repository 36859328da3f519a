//! Hostile alerts through real parsers: no injection survives any output format.
//!
//! Every entry of [`icsfwd_tests::hostile::corpus`] is rendered by icsfwd-core in every format
//! and read back:
//! - by the strict readers of [`icsfwd_tests::formats`] (all formats, syslog octet count and
//!   structured data included), always;
//! - by real, independent parsers from PyPI in the venv `scripts/fidelity-deps.sh` makes:
//!   `pycef` for CEF, Python's `json` for HEC, `syslog-rfc5424-parser` for RFC 5424 syslog
//!   (header, structured data and MSG). LEEF and text have no independent parser on PyPI worth
//!   the name; the strict readers follow their specifications.
//!
//! Each reader must give back every field exactly as the event holds it (after the documented
//! replacement of control characters in CEF and in syslog structured data), and no field, key
//! or line more. When the venv is missing the real-parser test prints a loud SKIPPED and passes,
//! unless `ICSFWD_REQUIRE_ALL=1`, then it fails.
//!
//! pycef's limits, and what the test does about them (so that nothing is silently skipped):
//! its header pattern `([^=\\]+\|){,7}` cannot read a header field holding `=` or a backslash
//! (which CEF allows, the latter escaped), and it refuses a line with an empty header field.
//! For an entry whose header is outside that grammar, pycef reads the real extension behind a
//! neutral header (`CEF:0|v|p|1|sig|name|8|`), and the header is checked by the strict reader
//! only; the entry's name is printed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use icsfwd::ingest::schema::decode_line;
use icsfwd_core::alert::{Event, MAX_TITLE};
use icsfwd_core::format::{self, Kind, SliceWriter, syslog};
use icsfwd_tests::formats::{self, expected_cef, expected_hec, split_cef};
use icsfwd_tests::fuzz::hostile_options;
use icsfwd_tests::hostile::{Expect, corpus, ingest_corpus};
use serde_json::{Value, json};

/// Both option sets every entry is rendered with: defaults, and the event's own hostile text
/// as vendor, product, text label and HEC metadata.
fn option_sets(event: &Event) -> [(&'static str, format::Options); 2] {
    [
        ("default options", format::Options::default()),
        ("hostile options", hostile_options(event)),
    ]
}

#[test]
fn corpus_names_are_unique_and_documented() {
    let corpus = corpus();
    let mut names: Vec<_> = corpus.iter().map(|h| h.name).collect();
    names.extend(ingest_corpus().iter().map(|h| h.name));
    let count = names.len();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), count, "duplicate names");
    assert!(corpus.iter().all(|h| h.attack.len() > 20));
}

#[test]
fn every_hostile_alert_reads_back_exactly_through_the_strict_readers() {
    for entry in corpus() {
        for (which, options) in option_sets(&entry.event) {
            if let Err(problem) = formats::check_event(&entry.event, &options) {
                panic!("{} ({which}): {problem}", entry.name);
            }
        }
    }
}

#[test]
fn over_long_fields_are_cut_on_a_character_boundary_and_flagged() {
    for entry in corpus().iter().filter(|h| h.name.starts_with("huge-")) {
        let expect_truncated = entry.name != "huge-exactly-at-capacity";
        assert_eq!(entry.event.truncated(), expect_truncated, "{}", entry.name);
        let text =
            String::from_utf8(icsfwd_tests::render(Kind::Text, &entry.event).unwrap()).unwrap();
        assert_eq!(
            text.contains("\nTruncated: yes\n"),
            expect_truncated,
            "{}",
            entry.name
        );
    }
}

#[test]
fn hostile_ingest_lines_are_refused_or_accepted_and_then_render_faithfully() {
    for entry in ingest_corpus() {
        let result = decode_line(&entry.line, 0);
        match (entry.expect, result) {
            (Expect::Refused, Err(refusal)) => {
                assert!(!refusal.error.is_empty(), "{}", entry.name);
            }
            (Expect::Accepted, Ok(decoded)) => {
                let icsfwd::ingest::schema::Message::Event(event) = decoded.message else {
                    panic!("{}: not an event", entry.name);
                };
                formats::check_event(&event, &format::Options::default())
                    .unwrap_or_else(|e| panic!("{}: {e}", entry.name));
                if entry.name == "huge-title-beyond-capacity" {
                    assert!(event.truncated());
                    assert_eq!(decoded.truncated, ["title"]);
                    assert!(event.title().len() <= MAX_TITLE);
                    assert!(event.title().chars().all(|c| c == 'ä'));
                }
                if entry.name == "escaped-surrogate-pair" {
                    assert_eq!(event.title(), "pair 😀");
                }
                if entry.name == "escaped-nul-and-controls" {
                    assert!(event.title().contains('\0') && event.title().contains('\u{1b}'));
                }
            }
            (expect, result) => panic!(
                "{}: expected {expect:?}, got {:?}",
                entry.name,
                result.map(|d| d.message).map_err(|r| r.error)
            ),
        }
    }
}

// ---- Real parsers ----

/// Reads each rendering with pycef, json and syslog-rfc5424-parser; one JSON result per entry.
const READER: &str = r#"
import json, re, sys
import pycef
from syslog_rfc5424_parser import parser as syslog_parser

HEADER = {"CEFVersion", "DeviceVendor", "DeviceProduct", "DeviceVersion",
          "DeviceEventClassID", "Name", "DeviceName", "Severity", "DeviceSeverity"}
CEF_ESCAPE = re.compile(r"\\(.)")
CEF_UNESCAPED = {"\\": "\\", "=": "=", "n": "\n", "r": "\r"}
SD_ESCAPE = re.compile(r'\\(["\\\]])')

def cef(line):
    parsed = pycef.parse(line)
    if parsed is None:
        return None
    return {k: v if k in HEADER else
            CEF_ESCAPE.sub(lambda m: CEF_UNESCAPED.get(m.group(1), m.group(0)), v)
            for k, v in parsed.items()}

def syslog(message):
    p = syslog_parser.parse(message)
    h = p.header
    return {"pri": h.pri, "version": h.version, "timestamp": str(h.timestamp),
            "hostname": h.hostname, "appname": h.appname, "procid": str(h.procid),
            "msgid": h.msgid,
            "sd": [[e.sd_id, [[n, SD_ESCAPE.sub(r"\1", v)] for n, v in e.sd_params]]
                   for e in p.structured_data],
            "msg": p.message}

out = []
with open(sys.argv[1], encoding="utf-8") as f:
    items = json.load(f)
for item in items:
    out.append({"hec": json.loads(item["hec"]), "cef": cef(item["cef"]),
                "syslog": [syslog(m) for m in item["syslog"]]})
json.dump(out, sys.stdout, ensure_ascii=False)
"#;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The venv's python with the parsers, or `None` after a loud SKIPPED (a failure with
/// `ICSFWD_REQUIRE_ALL=1`).
fn python_with_parsers() -> Option<PathBuf> {
    let venv = workspace_root().join("target/fidelity/venv");
    let python = venv.join("bin/python");
    let ready = venv.join(".installed").exists()
        && Command::new(&python)
            .args(["-c", "import pycef, syslog_rfc5424_parser"])
            .output()
            .is_ok_and(|o| o.status.success());
    if ready {
        return Some(python);
    }
    let bar = "!".repeat(78);
    let _ = writeln!(
        std::io::stderr(),
        "\n{bar}\n!!! SKIPPED: pycef / syslog-rfc5424-parser are not installed in {}: run \
         scripts/fidelity-deps.sh\n{bar}\n",
        venv.display()
    );
    assert!(
        std::env::var("ICSFWD_REQUIRE_ALL").as_deref() != Ok("1"),
        "ICSFWD_REQUIRE_ALL=1: the parsers are missing, run scripts/fidelity-deps.sh"
    );
    None
}

fn render(kind: Kind, event: &Event, options: &format::Options) -> String {
    let mut buf = vec![0u8; format::MAX_LEN];
    let mut sink = SliceWriter::new(&mut buf);
    let n = format::write(kind, event, options, &mut sink).unwrap();
    String::from_utf8(buf[..n].to_vec()).unwrap()
}

/// The RFC 5424 message (without its octet count) around each syslog payload kind.
fn syslog_messages(event: &Event, options: &format::Options) -> Vec<(Kind, String)> {
    syslog::Payload::KINDS
        .into_iter()
        .map(|kind| {
            let options = syslog::Options {
                payload: syslog::Payload::of(kind, options).unwrap(),
                ..syslog::Options::default()
            };
            let mut buf = vec![0u8; syslog::MAX_LEN];
            let mut sink = SliceWriter::new(&mut buf);
            let n = syslog::write(event, &options, &mut sink).unwrap();
            (kind, String::from_utf8(buf[..n].to_vec()).unwrap())
        })
        .collect()
}

/// Whether pycef's header grammar can hold these header fields (see the module docs).
fn pycef_can_read_header(header: &[String]) -> bool {
    header
        .iter()
        .all(|f| !f.is_empty() && !f.contains(['=', '\\', '|']))
}

/// What pycef must return: header fields by its names, extension keys with custom labels
/// applied (`cs1Label=engine cs1=X` is `"engine": "X"`).
fn pycef_expected(cef: &formats::CefLine, header: bool) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    if header {
        let h = &cef.header;
        for (key, value) in [
            ("CEFVersion", &h[0]),
            ("DeviceVendor", &h[1]),
            ("DeviceProduct", &h[2]),
            ("DeviceVersion", &h[3]),
            ("DeviceEventClassID", &h[4]),
            ("Name", &h[5]),
            ("DeviceName", &h[5]),
            ("Severity", &h[6]),
            ("DeviceSeverity", &h[6]),
        ] {
            map.insert(key.to_owned(), value.clone());
        }
    }
    let labels: BTreeMap<_, _> = cef
        .extension
        .iter()
        .filter_map(|(k, v)| {
            k.strip_suffix("Label")
                .map(|base| (base.to_owned(), v.clone()))
        })
        .collect();
    for (key, value) in &cef.extension {
        if key.ends_with("Label") {
            continue;
        }
        let key = labels.get(key).cloned().unwrap_or_else(|| key.clone());
        map.insert(key, value.clone());
    }
    map
}

#[test]
fn an_alert_from_a_sensor_without_a_version_is_read_whole_by_pycef() {
    let Some(python) = python_with_parsers() else {
        return;
    };
    // The ingest line a sensor that sends no `version` writes.
    let line = br#"{"type":"alert","id":7,"engine":"Operational","severity":"Major","title":"PLC stop","sensor":{"name":"s1","ip":"10.0.0.9"}}"#;
    let decoded = decode_line(line, 0).unwrap();
    let icsfwd::ingest::schema::Message::Event(event) = decoded.message else {
        panic!("not an event");
    };
    assert!(event.sensor().version.is_empty());
    let options = format::Options::default();
    let cef_line = render(Kind::Cef, &event, &options);
    let items =
        json!([{"hec": render(Kind::Hec, &event, &options), "cef": &cef_line, "syslog": []}]);
    let input =
        std::env::temp_dir().join(format!("icsfwd-unversioned-{}.json", std::process::id()));
    std::fs::write(&input, serde_json::to_vec(&items).unwrap()).unwrap();
    let output = Command::new(&python)
        .args(["-c", READER])
        .arg(&input)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&input);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let results: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    let got = &results[0]["cef"];
    assert!(got.is_object(), "pycef refused the line: {cef_line}");
    assert!(
        cef_line.starts_with("CEF:0|icsfwd|OT Sensor|unknown|OPERATIONAL:"),
        "{cef_line}"
    );
    assert_eq!(got["DeviceVersion"], "unknown");
    assert_eq!(got["DeviceProduct"], "OT Sensor");
    assert_eq!(got["Name"], "PLC stop");
    assert_eq!(got["externalId"], "s1-7");
    let want = expected_cef(&event, &options.cef);
    let got: BTreeMap<String, String> = serde_json::from_value(got.clone()).unwrap();
    assert_eq!(got, pycef_expected(&want, true));
}

const NEUTRAL_CEF_HEADER: &str = "CEF:0|v|p|1|sig|name|8|";

fn neutral_header_fields() -> Vec<String> {
    ["0", "v", "p", "1", "sig", "name", "8"]
        .map(str::to_owned)
        .to_vec()
}

#[test]
fn every_hostile_alert_reads_back_exactly_through_pycef_json_and_an_rfc5424_parser() {
    let Some(python) = python_with_parsers() else {
        return;
    };
    // One case per entry and option set.
    let mut cases = Vec::new();
    for entry in corpus() {
        for (which, options) in option_sets(&entry.event) {
            cases.push((entry.name, which, entry.event.clone(), options));
        }
    }
    let mut items = Vec::new();
    let mut pycef_header = Vec::new();
    for (name, _, event, options) in &cases {
        let cef_line = render(Kind::Cef, event, options);
        let want = expected_cef(event, &options.cef);
        let header_ok = pycef_can_read_header(&want.header);
        let for_pycef = if header_ok {
            cef_line
        } else {
            let (_, extension) = split_cef(&cef_line).unwrap();
            println!("{name}: header outside pycef's grammar, pycef reads the extension only");
            format!("{NEUTRAL_CEF_HEADER}{extension}")
        };
        pycef_header.push(header_ok);
        items.push(json!({
            "hec": render(Kind::Hec, event, options),
            "cef": for_pycef,
            "syslog": syslog_messages(event, options).into_iter().map(|(_, m)| m).collect::<Vec<_>>(),
        }));
    }
    let input = std::env::temp_dir().join(format!("icsfwd-hostile-{}.json", std::process::id()));
    std::fs::write(&input, serde_json::to_vec(&items).unwrap()).unwrap();
    let output = Command::new(&python)
        .args(["-c", READER])
        .arg(&input)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&input);
    assert!(
        output.status.success(),
        "the reader failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let results: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(results.len(), cases.len());

    for (((name, which, event, options), result), header_ok) in
        cases.iter().zip(&results).zip(pycef_header)
    {
        let at = format!("{name} ({which})");
        // HEC through Python's json: every member exactly, nothing more.
        assert_eq!(
            result["hec"],
            expected_hec(event, &options.hec),
            "{at}: HEC"
        );

        // CEF through pycef.
        let mut want = expected_cef(event, &options.cef);
        if !header_ok {
            want.header = neutral_header_fields();
        }
        let got: BTreeMap<String, String> = serde_json::from_value(result["cef"].clone())
            .unwrap_or_else(|_| panic!("{at}: pycef could not parse the line: {}", result["cef"]));
        assert_eq!(got, pycef_expected(&want, true), "{at}: CEF via pycef");

        // Syslog through syslog-rfc5424-parser: header, one SD-ELEMENT, MSG = the payload.
        for ((kind, message), parsed) in syslog_messages(event, options)
            .into_iter()
            .zip(result["syslog"].as_array().unwrap())
        {
            let mut frame = format!("{} ", message.len()).into_bytes();
            frame.extend_from_slice(message.as_bytes());
            let strict = formats::read_syslog_frame(&frame).unwrap();
            let sd_params: Vec<Value> = strict.params.iter().map(|(k, v)| json!([k, v])).collect();
            let want = json!({
                "pri": strict.pri,
                "version": 1,
                "timestamp": strict.timestamp,
                "hostname": strict.hostname,
                "appname": syslog::APP_NAME,
                "procid": "-",
                "msgid": strict.msgid,
                "sd": [[syslog::SD_ID, sd_params]],
                "msg": render(kind, event, options),
            });
            assert_eq!(
                parsed, &want,
                "{at}: syslog/{kind:?} via syslog-rfc5424-parser"
            );
            // And the strict reader's fields are the event's (the same check as check_event).
            let syslog_options = syslog::Options {
                payload: syslog::Payload::of(kind, options).unwrap(),
                ..syslog::Options::default()
            };
            formats::check_syslog(event, &syslog_options, kind, options, &frame)
                .unwrap_or_else(|e| panic!("{at}: {e}"));
        }
    }
}
