//! The Splunk packages (`splunk-app/TA-icsfwd`, the add-on, and `splunk-app/icsfwd_ot_alerts`,
//! the app) read what icsfwd-core renders, exactly, and their content is safe to run.
//!
//! What it proves, with the packages' own `.conf`, CSV and dashboard files read at test time (no
//! regex is copied here):
//! - line breaking: a stream of text events (`icsfwd:text`), and of CEF / LEEF lines, split by
//!   the sourcetype's `LINE_BREAKER` gives back exactly one event per rendering, whatever a
//!   hostile value contains; `TIME_PREFIX` lands on the event's own time;
//! - extraction: the `EXTRACT-*` rules of each sourcetype (in Splunk's order: by class name,
//!   `in <field>` reading an earlier field) applied to every rendering of a hostile corpus
//!   yield exactly the expected fields, each with the value icsfwd put on the wire (its escaped
//!   form), and no other field: no value forges a key;
//! - CIM: the add-on's `FIELDALIAS-*` and `EVAL-*` are evaluated (a small evaluator of the eval
//!   subset they use, module `spl`, which refuses anything else) over the extracted fields of
//!   every rendering, then its automatic lookups (module `lookups`); each event lands in the
//!   eventtype of its kind, and for every eventtype tagged into Intrusion Detection (`ids` +
//!   `attack`) or Alerts (`alert`) every required field of the model has one non-empty value in
//!   every icsfwd sourcetype, with `severity`, `action`, `ids_type`, `type` and `transport` in
//!   the model's value lists and `src`/`dest`/`dvc` the alert's addresses; `user` is never set;
//! - `signature_id` is one value per kind of alert on every transport (the catalogue's kinds
//!   and the hostile corpus), and every catalogue kind the ATT&CK tables map carries exactly
//!   its techniques and tactics on every transport; every table row names a current ATT&CK for
//!   ICS technique under one of its own tactics (`tests/data/attack-ics/`); the asset table
//!   adds categories and priority only when an admin fills it;
//! - dashboards and searches: every dashboard token that enters SPL carries `|s`; every SPL
//!   string (views, saved searches, search macros) balances its quotes and brackets, uses known
//!   commands and only defined macros, eventtypes and sourcetypes, and names only fields the
//!   add-on produces; every saved search ships disabled, scheduled at most 12 times an hour,
//!   suppressed, and documented in the app's README; the HEC input template is disabled and
//!   asks for indexer acknowledgement.
//!
//! Why Rust's `regex` crate and not Python: the events come straight from icsfwd-core here,
//! and the app's regexes are restricted to the common subset of PCRE and `regex` (no
//! look-around or back-references, ASCII classes only), which a test below enforces, so both
//! engines give the same matches (both are leftmost-first; `regex` refuses any construct
//! outside the subset at compile time instead of silently differing).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

use icsfwd_core::alert::{Alert, Engine, Event, MacAddr, Notification, NotificationKind, Severity};
use icsfwd_core::format::{Kind, SliceWriter, cef, leef, syslog, text};
use regex::Regex;

/// Every event of the corpus happens at this time: 2019-05-05T12:28:54.123Z.
const TIME_MS: u64 = 1_557_059_334_123;
const TIME_TEXT: &str = "2019-05-05T12:28:54.123Z";
const TIME_LEEF: &str = "May 05 2019 12:28:54.123";

/// The add-on (`splunk-app/TA-icsfwd`): sourcetypes, CIM, lookups.
fn ta_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join("splunk-app/TA-icsfwd")
}

/// The app (`splunk-app/icsfwd_ot_alerts`): dashboards, saved searches, macros.
fn app_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join("splunk-app/icsfwd_ot_alerts")
}

/// A `.conf` file: stanzas in file order, each with its settings in file order.
type Conf = Vec<(String, Vec<(String, String)>)>;

/// A `.conf` file of the add-on's `default/`.
fn read_conf(name: &str) -> Conf {
    parse_conf(&ta_dir().join("default").join(name))
}

/// Parses a `.conf` file as Splunk does, strictly: a line ending in `\` continues on the next
/// (the line break is kept), a stanza or a key given twice is refused.
fn parse_conf(path: &Path) -> Conf {
    let text = std::fs::read_to_string(path).unwrap();
    let mut conf: Conf = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let mut line = line.trim_end().to_owned();
        while line.ends_with('\\') {
            line.pop();
            line.push('\n');
            line.push_str(lines.next().expect("a continuation line").trim_end());
        }
        if line.trim_start().starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if let Some(stanza) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            assert!(
                conf.iter().all(|(n, _)| n != stanza),
                "{}: stanza [{stanza}] twice",
                path.display()
            );
            conf.push((stanza.to_owned(), Vec::new()));
            continue;
        }
        let (key, value) = line.split_once('=').expect("key = value");
        let stanza = conf.last_mut().expect("a setting inside a stanza");
        let key = key.trim().to_owned();
        assert!(
            stanza.1.iter().all(|(k, _)| *k != key),
            "{}: [{}] {key} twice",
            path.display(),
            stanza.0
        );
        stanza.1.push((key, value.trim().to_owned()));
    }
    conf
}

fn stanza<'c>(conf: &'c Conf, name: &str) -> &'c [(String, String)] {
    &conf
        .iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no stanza [{name}]"))
        .1
}

fn setting<'s>(settings: &'s [(String, String)], key: &str) -> &'s str {
    settings
        .iter()
        .find(|(k, _)| k == key)
        .unwrap_or_else(|| panic!("no {key}"))
        .1
        .as_str()
}

/// Splunk search-time extraction: every `EXTRACT-<class>` in class-name order, the first match
/// of each; a named group that took part adds its value (a second value makes it multivalue).
fn extract(settings: &[(String, String)], raw: &str) -> BTreeMap<String, Vec<String>> {
    let mut rules: Vec<(&str, &str)> = settings
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("EXTRACT-").map(|class| (class, v.as_str())))
        .collect();
    rules.sort();
    let in_field = Regex::new(r"^(.*) in ([A-Za-z0-9_]+)$").unwrap();
    let mut fields: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (_, rule) in rules {
        let (pattern, source) = match in_field.captures(rule) {
            Some(c) => (c.get(1).unwrap().as_str(), Some(c[2].to_owned())),
            None => (rule, None),
        };
        let input = match &source {
            Some(field) => match fields.get(field) {
                Some(values) => values[0].clone(),
                None => continue,
            },
            None => raw.to_owned(),
        };
        let re = compiled(pattern);
        if let Some(caps) = re.captures(&input) {
            for name in re.capture_names().flatten() {
                if let Some(m) = caps.name(name) {
                    fields
                        .entry(name.to_owned())
                        .or_default()
                        .push(m.as_str().to_owned());
                }
            }
        }
    }
    fields
}

/// `pattern` compiled once per test thread (debug-build regex compilation dominates otherwise).
fn compiled(pattern: &str) -> Regex {
    thread_local! {
        static CACHE: std::cell::RefCell<BTreeMap<String, Regex>> =
            const { std::cell::RefCell::new(BTreeMap::new()) };
    }
    CACHE.with(|cache| {
        cache
            .borrow_mut()
            .entry(pattern.to_owned())
            .or_insert_with(|| Regex::new(pattern).unwrap_or_else(|e| panic!("{pattern}: {e}")))
            .clone()
    })
}

/// Splits a stream with `LINE_BREAKER`: its first group is dropped between events.
fn break_events(settings: &[(String, String)], stream: &str) -> Vec<String> {
    let re = Regex::new(setting(settings, "LINE_BREAKER")).unwrap();
    let mut events = Vec::new();
    let mut start = 0;
    for caps in re.captures_iter(stream) {
        let group = caps.get(1).expect("LINE_BREAKER has a capture group");
        events.push(stream[start..group.start()].to_owned());
        start = group.end();
    }
    events.push(stream[start..].to_owned());
    events.retain(|e| !e.trim_end_matches(['\r', '\n']).is_empty());
    events
        .into_iter()
        .map(|e| e.trim_end_matches(['\r', '\n']).to_owned())
        .collect()
}

// ---- the hostile corpus ----------------------------------------------------------------

/// Strings that try every trick on every format.
const HOSTILE: &[&str] = &[
    "line1\nline2\r\nSeverity: Warning",
    "Message: forged\nAlert ID: evil-1",
    "x\n2019-05-05T12:28:54.123Z icsfwd Alert: forged event",
    "a=b c=d src=6.6.6.6 msg=forged",
    " rt=0 externalId=evil cs2=Warning dvc=1.1.1.1",
    "tab\tsrc=6.6.6.6\tid=evil\tsev=1",
    "pipe | CEF:0|evil|x|1|y|z|10|src=6.6.6.6",
    "LEEF:1.0|evil|x|1|y|\tsrc=6.6.6.6",
    "quotes \"double\" 'single' \\ backslash \\n not-a-newline \\= \\|",
    "ends with backslash \\",
    "unicode é 日本 🦀 \u{0085}nel \u{2028}ls \u{2029}ps \u{7f}del \u{1b}[31m \u{0}nul",
    "Alert: Notification: Type: Protocol Violation",
    "<9>1 - - - - - [icsfwd@32473 id=\"x\"] CEF:0|",
    "] \" \\ ]] [sd@1 a=\"b\"]",
    "",
];

fn long(c: &str, n: usize) -> String {
    c.repeat(n)
}

fn corpus() -> Vec<Event> {
    let mut events = Vec::new();
    let mut strings: Vec<String> = HOSTILE.iter().map(|s| (*s).to_owned()).collect();
    strings.push(long("é\n=|\\", 1000)); // far beyond every capacity: cut and flagged
    strings.push(long("A", 5000));
    for (i, s) in strings.iter().enumerate() {
        let engine = Engine::ALL[i % Engine::ALL.len()];
        let severity = Severity::ALL[i % Severity::ALL.len()];
        let mut alert = Alert::new(i as u64 + 1, TIME_MS, engine, severity);
        alert.set_title(&format!("T{i} {s}"));
        alert.set_message(s);
        alert.set_protocol(&s.chars().take(20).collect::<String>());
        alert.set_group(s);
        alert.set_source_name(s);
        alert.set_destination_name(&format!("{s}-dst"));
        alert.set_sensor_name(if i % 3 == 0 { s } else { "sensor-plant-a" });
        alert.set_sensor_version(if i % 2 == 0 { s } else { "22.3.1" });
        alert.source.ip = if i % 2 == 0 {
            IpAddr::V4(Ipv4Addr::new(10, 20, 1, i as u8))
        } else {
            IpAddr::V6(Ipv6Addr::new(
                0xfe80, 0, 0, 0, 0x21b, 0x1bff, 0xfeaa, i as u16,
            ))
        };
        alert.destination.ip = if i % 3 == 0 {
            IpAddr::V6(Ipv6Addr::LOCALHOST)
        } else {
            IpAddr::V4(Ipv4Addr::new(10, 20, 3, 11))
        };
        if i % 2 == 1 {
            alert.source.mac = Some(MacAddr([0, 0x1b, 0x1b, 0xaa, 0x0f, i as u8]));
            alert.source.port = Some(49_152);
            alert.destination.port = Some(0);
        } else {
            alert.destination.mac = Some(MacAddr([0, 0x0e, 0x8c, 1, 2, 3]));
            alert.destination.port = Some(502);
        }
        alert.sensor.ip = IpAddr::V4(Ipv4Addr::new(10, 1, 0, 5));
        events.push(Event::Alert(alert));
        let kind = NotificationKind::ALL[i % NotificationKind::ALL.len()];
        let mut note = Notification::new(1000 + i as u64, TIME_MS, kind);
        note.set_text(s);
        note.set_sensor_name(if i % 2 == 0 { s } else { "sensor-plant-b" });
        note.sensor.ip = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1));
        events.push(Event::Notification(note));
    }
    events.push(Event::Alert(Alert::example(TIME_MS)));
    events
}

fn render(kind: Kind, event: &Event) -> String {
    String::from_utf8(icsfwd_tests::render(kind, event).unwrap()).unwrap()
}

fn render_syslog(payload: syslog::Payload, event: &Event) -> String {
    let options = syslog::Options {
        payload,
        ..syslog::Options::default()
    };
    let mut buf = vec![0u8; syslog::MAX_LEN];
    let mut sink = SliceWriter::new(&mut buf);
    let n = syslog::write(event, &options, &mut sink).unwrap();
    buf.truncate(n);
    String::from_utf8(buf).unwrap()
}

// ---- expected fields, from the format specs in docs/output-formats.md ------------------

fn text_escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\u{0}'..='\u{1f}' | '\u{7f}' => write!(out, "\\x{:02x}", c as u32).unwrap(),
            '\u{80}'..='\u{9f}' | '\u{2028}' | '\u{2029}' => {
                write!(out, "\\u{{{:04x}}}", c as u32).unwrap();
            }
            c => out.push(c),
        }
    }
    out
}

fn cef_ext_escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '=' => out.push_str("\\="),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() || c == '\u{2028}' || c == '\u{2029}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

fn cef_header_escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '|' => out.push_str("\\|"),
            c if c.is_control() || c == '\u{2028}' || c == '\u{2029}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

fn leef_escape(s: &str, header: bool) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '|' if header => out.push_str("\\|"),
            c if c.is_control() || c == '\u{2028}' || c == '\u{2029}' => {
                write!(out, "\\u{:04X}", c as u32).unwrap();
            }
            c => out.push(c),
        }
    }
    out
}

fn mac(m: &MacAddr) -> String {
    let b = m.0;
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        b[0], b[1], b[2], b[3], b[4], b[5]
    )
}

fn event_id(event: &Event) -> String {
    match event {
        Event::Alert(a) => format!("{}-{}", a.sensor.name, a.id),
        Event::Notification(n) => format!("{}-{}", n.sensor.name, n.id),
    }
}

fn kind_name(kind: NotificationKind) -> &'static str {
    kind.as_str()
}

type Fields = BTreeMap<String, Vec<String>>;

fn put(fields: &mut Fields, key: &str, value: String) {
    fields.entry(key.to_owned()).or_default().push(value);
}

fn expected_text(event: &Event) -> Fields {
    let mut f = Fields::new();
    put(&mut f, "label", "icsfwd".into());
    let esc = text_escape;
    match event {
        Event::Alert(a) => {
            put(&mut f, "icsfwd_event_class", "Alert".into());
            put(&mut f, "title", esc(&a.title));
            put(&mut f, "engine", a.engine.as_str().into());
            put(&mut f, "icsfwd_severity", a.severity.as_str().into());
            for (prefix, ep) in [("src", &a.source), ("dest", &a.destination)] {
                put(&mut f, &format!("{prefix}_name"), esc(&ep.name));
                put(&mut f, &format!("{prefix}_ip"), ep.ip.to_string());
                if let Some(m) = &ep.mac {
                    put(&mut f, &format!("{prefix}_mac"), mac(m));
                }
                if let Some(p) = ep.port {
                    put(&mut f, &format!("{prefix}_port"), p.to_string());
                }
            }
            put(&mut f, "protocol", esc(&a.protocol));
            put(&mut f, "alert_group", esc(&a.group));
            put(&mut f, "message", esc(&a.message));
            put(&mut f, "sensor_name", esc(&a.sensor.name));
            put(&mut f, "sensor_ip", a.sensor.ip.to_string());
            if a.truncated {
                put(&mut f, "truncated", "yes".into());
            }
        }
        Event::Notification(n) => {
            put(&mut f, "icsfwd_event_class", "Notification".into());
            put(&mut f, "title", kind_name(n.kind).into());
            put(&mut f, "engine", "System notification".into());
            put(&mut f, "icsfwd_severity", n.kind.severity().as_str().into());
            put(&mut f, "message", esc(&n.text));
            put(&mut f, "sensor_name", esc(&n.sensor.name));
            put(&mut f, "sensor_ip", n.sensor.ip.to_string());
            if n.truncated {
                put(&mut f, "truncated", "yes".into());
            }
        }
    }
    put(&mut f, "id", esc(&event_id(event)));
    // Splunk creates no field for an empty match; the extraction below keeps empty values,
    // so the comparison is exact about them too.
    f
}

fn nonempty(f: &mut Fields, key: &str, value: String) {
    if !value.is_empty() {
        put(f, key, value);
    }
}

fn ip_keys(f: &mut Fields, key: &str, ip: &IpAddr) {
    put(f, key, ip.to_string());
}

/// A CEF or LEEF header field as written: an empty one is `format::EMPTY_HEADER_FIELD`.
fn never_empty(value: &str) -> &str {
    if value.is_empty() {
        icsfwd_core::format::EMPTY_HEADER_FIELD
    } else {
        value
    }
}

fn expected_cef(event: &Event) -> Fields {
    let mut f = Fields::new();
    let e = cef_ext_escape;
    put(&mut f, "cef_vendor", "icsfwd".into());
    put(&mut f, "cef_product", "OT Sensor".into());
    put(
        &mut f,
        "sensor_version",
        cef_header_escape(never_empty(&event.sensor().version)),
    );
    put(
        &mut f,
        "icsfwd_kind_id",
        cef::signature_id(event).to_string(),
    );
    let (sev, truncated) = match event {
        Event::Alert(a) => (a.severity, a.truncated),
        Event::Notification(n) => (n.kind.severity(), n.truncated),
    };
    put(&mut f, "cef_severity", sev.level_0_to_10().to_string());
    put(&mut f, "id", e(&event_id(event)));
    match event {
        Event::Alert(a) => {
            put(&mut f, "title", cef_header_escape(never_empty(&a.title)));
            nonempty(&mut f, "alert_group", e(&a.group));
            nonempty(&mut f, "protocol", e(&a.protocol));
            for (prefix, ep) in [("src", &a.source), ("dest", &a.destination)] {
                ip_keys(&mut f, &format!("{prefix}_ip"), &ep.ip);
                if let Some(p) = ep.port {
                    put(&mut f, &format!("{prefix}_port"), p.to_string());
                }
                if let Some(m) = &ep.mac {
                    put(&mut f, &format!("{prefix}_mac"), mac(m));
                }
                nonempty(&mut f, &format!("{prefix}_name"), e(&ep.name));
            }
            put(&mut f, "engine", a.engine.as_str().into());
            nonempty(&mut f, "message", e(&a.message));
        }
        Event::Notification(n) => {
            put(&mut f, "title", kind_name(n.kind).into());
            put(&mut f, "alert_group", "System notification".into());
            nonempty(&mut f, "message", e(&n.text));
        }
    }
    ip_keys(&mut f, "sensor_ip", &event.sensor().ip);
    nonempty(&mut f, "sensor_name", e(&event.sensor().name));
    put(&mut f, "icsfwd_severity", sev.as_str().into());
    if truncated {
        put(&mut f, "truncated", "true".into());
    }
    f
}

fn expected_leef(event: &Event) -> Fields {
    let mut f = Fields::new();
    let e = |s: &str| leef_escape(s, false);
    put(&mut f, "leef_vendor", "icsfwd".into());
    put(&mut f, "leef_product", "OT Sensor".into());
    put(
        &mut f,
        "sensor_version",
        leef_escape(never_empty(&event.sensor().version), true),
    );
    put(
        &mut f,
        "icsfwd_kind_id",
        cef::signature_id(event).to_string(),
    );
    let (sev, truncated) = match event {
        Event::Alert(a) => (a.severity, a.truncated),
        Event::Notification(n) => (n.kind.severity(), n.truncated),
    };
    put(&mut f, "leef_sev", sev.level_0_to_10().to_string());
    put(&mut f, "icsfwd_severity", sev.as_str().into());
    put(&mut f, "id", e(&event_id(event)));
    match event {
        Event::Alert(a) => {
            nonempty(&mut f, "alert_group", e(&a.group));
            put(&mut f, "engine", a.engine.as_str().into());
            nonempty(&mut f, "title", e(&a.title));
            nonempty(&mut f, "protocol", e(&a.protocol));
            for (prefix, ep) in [("src", &a.source), ("dest", &a.destination)] {
                ip_keys(&mut f, &format!("{prefix}_ip"), &ep.ip);
                nonempty(&mut f, &format!("{prefix}_name"), e(&ep.name));
                if let Some(m) = &ep.mac {
                    put(&mut f, &format!("{prefix}_mac"), mac(m));
                }
                if let Some(p) = ep.port {
                    put(&mut f, &format!("{prefix}_port"), p.to_string());
                }
            }
            nonempty(&mut f, "message", e(&a.message));
        }
        Event::Notification(n) => {
            put(&mut f, "alert_group", "System notification".into());
            put(&mut f, "title", kind_name(n.kind).into());
            nonempty(&mut f, "message", e(&n.text));
        }
    }
    nonempty(&mut f, "sensor_name", e(&event.sensor().name));
    put(&mut f, "sensor_ip", event.sensor().ip.to_string());
    if truncated {
        put(&mut f, "truncated", "true".into());
    }
    f
}

/// The extracted fields without the intermediate ones a later `EXTRACT ... in` reads.
fn visible(mut fields: Fields) -> Fields {
    fields.remove("cef_extension");
    fields.remove("leef_attributes");
    fields
}

fn assert_fields(what: &str, raw: &str, got: Fields, want: Fields) {
    if got != want {
        let mut diff = String::new();
        for key in got.keys().chain(want.keys()).collect::<BTreeSet<_>>() {
            if got.get(key) != want.get(key) {
                writeln!(
                    diff,
                    "  {key}: got {:?}, want {:?}",
                    got.get(key),
                    want.get(key)
                )
                .unwrap();
            }
        }
        panic!("{what}: fields differ for {raw:?}\n{diff}");
    }
}

// ---- the tests ------------------------------------------------------------------------

#[test]
fn app_regexes_stay_in_the_common_subset_of_pcre_and_rust_regex() {
    let props = read_conf("props.conf");
    let forbidden = [
        "\\d", "\\w", "\\s", "\\b", "(?=", "(?!", "(?<=", "(?<!", "\\1",
    ];
    let mut checked = 0;
    for (name, settings) in &props {
        for (key, value) in settings {
            if key.starts_with("EXTRACT-") || key == "LINE_BREAKER" || key == "TIME_PREFIX" {
                for bad in forbidden {
                    assert!(!value.contains(bad), "[{name}] {key} uses {bad}: {value}");
                }
                let pattern = value.rsplit_once(" in ").map_or(value.as_str(), |(p, f)| {
                    if f.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                        p
                    } else {
                        value
                    }
                });
                Regex::new(pattern).unwrap_or_else(|e| panic!("[{name}] {key}: {e}"));
                checked += 1;
            }
        }
    }
    assert!(checked > 50, "only {checked} regexes found");
}

#[test]
fn text_events_break_one_per_alert_and_time_comes_from_the_first_line() {
    let props = read_conf("props.conf");
    let st = stanza(&props, "icsfwd:text");
    assert_eq!(setting(st, "SHOULD_LINEMERGE"), "false");
    let events = corpus();
    let rendered: Vec<String> = events.iter().map(|e| render(Kind::Text, e)).collect();
    let stream = rendered.concat();
    let broken = break_events(st, &stream);
    assert_eq!(
        broken.len(),
        rendered.len(),
        "one Splunk event per rendering"
    );
    let prefix = Regex::new(setting(st, "TIME_PREFIX")).unwrap();
    for (got, want) in broken.iter().zip(&rendered) {
        assert_eq!(got, want.trim_end_matches('\n'));
        let at = prefix.find(got).unwrap().end();
        assert!(got[at..].starts_with(TIME_TEXT), "{got:?}");
        assert!(got.len() <= setting(st, "TRUNCATE").parse::<usize>().unwrap());
    }
    assert_eq!(
        setting(st, "TIME_FORMAT"),
        "%Y-%m-%dT%H:%M:%S.%3NZ",
        "matches the RFC 3339 UTC time with milliseconds of the text format"
    );
    assert!(text::MAX_LEN <= setting(st, "TRUNCATE").parse::<usize>().unwrap());
}

#[test]
fn cef_and_leef_lines_break_one_per_event_and_time_comes_from_rt_and_devtime() {
    let props = read_conf("props.conf");
    for (sourcetype, kind, expect_time) in [
        ("icsfwd:cef", Kind::Cef, TIME_MS.to_string()),
        ("icsfwd:leef", Kind::Leef, TIME_LEEF.to_owned()),
    ] {
        let st = stanza(&props, sourcetype);
        let truncate: usize = setting(st, "TRUNCATE").parse().unwrap();
        // syslog::MAX_LEN includes the largest payload bound (format::MAX_LEN).
        assert!(syslog::MAX_LEN <= truncate);
        let prefix = Regex::new(setting(st, "TIME_PREFIX")).unwrap();
        for framing in ["bare", "syslog"] {
            let rendered: Vec<String> = corpus()
                .iter()
                .map(|e| match (framing, kind) {
                    ("bare", k) => render(k, e),
                    (_, Kind::Cef) => {
                        render_syslog(syslog::Payload::Cef(cef::Options::default()), e)
                    }
                    _ => render_syslog(syslog::Payload::Leef(leef::Options::default()), e),
                })
                .collect();
            let broken = break_events(st, &rendered.join("\n"));
            assert_eq!(broken, rendered, "{sourcetype} {framing}");
            for event in &broken {
                let at = prefix
                    .find(event)
                    .unwrap_or_else(|| panic!("{sourcetype}: no TIME_PREFIX in {event:?}"))
                    .end();
                assert!(
                    event[at..].starts_with(&expect_time),
                    "{sourcetype} {framing}: time read at {:?}",
                    &event[at..event.len().min(at + 30)]
                );
            }
        }
    }
}

#[test]
fn every_field_is_extracted_exactly_and_no_value_forges_one() {
    let props = read_conf("props.conf");
    let text_st = stanza(&props, "icsfwd:text");
    let cef_st = stanza(&props, "icsfwd:cef");
    let leef_st = stanza(&props, "icsfwd:leef");
    for event in corpus() {
        let raw = render(Kind::Text, &event);
        let raw = raw.trim_end_matches('\n');
        assert_fields("text", raw, extract(text_st, raw), expected_text(&event));

        let raw = render(Kind::Cef, &event);
        assert_fields(
            "cef",
            &raw,
            visible(extract(cef_st, &raw)),
            expected_cef(&event),
        );
        let framed = render_syslog(syslog::Payload::Cef(cef::Options::default()), &event);
        assert_fields(
            "syslog cef",
            &framed,
            visible(extract(cef_st, &framed)),
            expected_cef(&event),
        );

        let raw = render(Kind::Leef, &event);
        assert_fields(
            "leef",
            &raw,
            visible(extract(leef_st, &raw)),
            expected_leef(&event),
        );
        let framed = render_syslog(syslog::Payload::Leef(leef::Options::default()), &event);
        assert_fields(
            "syslog leef",
            &framed,
            visible(extract(leef_st, &framed)),
            expected_leef(&event),
        );
    }
}

/// The sourcetype of `event` in each of the app's sourcetypes, in that order: HEC (by kind),
/// text, CEF, LEEF.
fn sourcetypes_of(event: &Event) -> [&'static str; 4] {
    let hec = match event {
        Event::Alert(_) => "icsfwd:alert",
        Event::Notification(n) if n.kind == NotificationKind::Health => "icsfwd:health",
        Event::Notification(_) => "icsfwd:notification",
    };
    [hec, "icsfwd:text", "icsfwd:cef", "icsfwd:leef"]
}

/// The search-time fields of `event` rendered for `sourcetype`, in Splunk's order: extraction
/// (`KV_MODE = json` over the HEC event object, plus the envelope's indexed `fields`, which
/// makes those multivalue as in Splunk; `EXTRACT-*` for the others, empty matches dropped),
/// then `FIELDALIAS-*`, then every `EVAL-*` computed from the fields as they were before any
/// eval (Splunk's calculated fields do not see each other), then the automatic lookups
/// (`LOOKUP-*`, in class-name order) over the add-on's shipped lookup tables.
fn search_time(props: &Conf, sourcetype: &str, event: &Event) -> Fields {
    search_time_with(props, sourcetype, event, &Tables::shipped())
}

/// [`search_time`], then the automatic lookups (`LOOKUP-*`) over `tables`.
fn search_time_with(props: &Conf, sourcetype: &str, event: &Event, tables: &Tables) -> Fields {
    let mut fields = calculated_fields(props, sourcetype, event);
    lookups::apply(stanza(props, sourcetype), tables, &mut fields);
    fields
}

/// Extraction, field aliases and calculated fields of `event` rendered for `sourcetype`.
fn calculated_fields(props: &Conf, sourcetype: &str, event: &Event) -> Fields {
    let st = stanza(props, sourcetype);
    let mut fields: Fields = if sourcetype.starts_with("icsfwd:alert")
        || sourcetype.starts_with("icsfwd:notification")
        || sourcetype.starts_with("icsfwd:health")
    {
        assert_eq!(setting(st, "KV_MODE"), "json");
        let envelope: serde_json::Value = serde_json::from_str(&render(Kind::Hec, event)).unwrap();
        assert_eq!(envelope["sourcetype"], sourcetype);
        let mut fields = Fields::new();
        for part in ["event", "fields"] {
            for (key, value) in envelope[part].as_object().unwrap() {
                let text = match value {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                put(&mut fields, key, text);
            }
        }
        fields
    } else {
        let raw = match sourcetype {
            "icsfwd:text" => render(Kind::Text, event),
            "icsfwd:cef" => render(Kind::Cef, event),
            _ => render(Kind::Leef, event),
        };
        let mut fields = extract(st, &raw);
        fields.retain(|_, values| {
            values.retain(|v| !v.is_empty());
            !values.is_empty()
        });
        fields
    };
    for (key, value) in st {
        if key.starts_with("FIELDALIAS-") {
            let words: Vec<&str> = value.split_whitespace().collect();
            for pair in words.chunks(3) {
                assert_eq!(pair.len(), 3, "{value}");
                assert!(pair[1].eq_ignore_ascii_case("AS"), "{value}");
                if let Some(values) = fields.get(pair[0]).cloned() {
                    fields.insert(pair[2].to_owned(), values);
                }
            }
        }
    }
    let before = fields.clone();
    for (key, expr) in st {
        if let Some(target) = key.strip_prefix("EVAL-") {
            match spl::eval(expr, &before) {
                spl::Value::Null => {
                    fields.remove(target);
                }
                value => {
                    fields.insert(target.to_owned(), value.into_values());
                }
            }
        }
    }
    fields
}

/// A small evaluator for the part of Splunk's `eval` language the app's calculated fields use:
/// string and number literals, field names, `.` (concatenation), `==`, `!=`, `AND`, `OR`, and
/// the functions `if`, `case`, `coalesce`, `nullif`, `isnull`, `isnotnull`, `like`, `match`,
/// `lower`, `replace`, `mvindex`, `true`. Anything else is refused, so an expression the test
/// cannot evaluate fails the test instead of being skipped.
mod spl {
    use super::Fields;
    use regex::Regex;

    /// An eval value.
    #[derive(Debug, Clone, PartialEq)]
    pub enum Value {
        Null,
        Str(String),
        Multi(Vec<String>),
        Bool(bool),
    }

    impl Value {
        pub fn into_values(self) -> Vec<String> {
            match self {
                Value::Null => Vec::new(),
                Value::Str(s) => vec![s],
                Value::Multi(v) => v,
                Value::Bool(b) => vec![b.to_string()],
            }
        }
        /// The single value Splunk compares and concatenates: the first of a multivalue.
        fn text(&self) -> Option<String> {
            match self {
                Value::Null => None,
                Value::Str(s) => Some(s.clone()),
                Value::Multi(v) => v.first().cloned(),
                Value::Bool(b) => Some(b.to_string()),
            }
        }
        fn truthy(&self) -> bool {
            matches!(self, Value::Bool(true))
        }
    }

    #[derive(Debug, Clone, PartialEq)]
    enum Token {
        Str(String),
        Num(String),
        Ident(String),
        Op(&'static str),
    }

    fn tokens(expr: &str) -> Vec<Token> {
        let mut out = Vec::new();
        let chars: Vec<char> = expr.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c.is_whitespace() {
                i += 1;
            } else if c == '"' {
                let mut s = String::new();
                i += 1;
                while chars[i] != '"' {
                    if chars[i] == '\\' {
                        i += 1;
                        // Only \\ and \" are written, so the string reads the same whether or not
                        // a reader interprets other backslash escapes.
                        assert!(
                            chars[i] == '\\' || chars[i] == '"',
                            "eval: write a backslash doubled in {expr}"
                        );
                    }
                    s.push(chars[i]);
                    i += 1;
                }
                i += 1;
                out.push(Token::Str(s));
            } else if c.is_ascii_digit() {
                let start = i;
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
                out.push(Token::Num(chars[start..i].iter().collect()));
            } else if c.is_ascii_alphabetic() || c == '_' {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                out.push(Token::Ident(chars[start..i].iter().collect()));
            } else {
                let two: String = chars[i..chars.len().min(i + 2)].iter().collect();
                let op = match (two.as_str(), c) {
                    ("==", _) => "==",
                    ("!=", _) => "!=",
                    (_, '(') => "(",
                    (_, ')') => ")",
                    (_, ',') => ",",
                    (_, '.') => ".",
                    _ => panic!("eval: unsupported character {c:?} in {expr}"),
                };
                i += op.len();
                out.push(Token::Op(op));
            }
        }
        out
    }

    struct Parser<'a> {
        tokens: Vec<Token>,
        at: usize,
        fields: &'a Fields,
    }

    impl Parser<'_> {
        fn peek(&self) -> Option<&Token> {
            self.tokens.get(self.at)
        }
        fn next(&mut self) -> Token {
            self.at += 1;
            self.tokens[self.at - 1].clone()
        }
        fn expect(&mut self, op: &'static str) {
            assert_eq!(self.next(), Token::Op(op), "eval: expected {op}");
        }
        fn is_word(&self, word: &str) -> bool {
            matches!(self.peek(), Some(Token::Ident(w)) if w == word)
        }
        fn or(&mut self) -> Value {
            let mut left = self.and();
            while self.is_word("OR") {
                self.next();
                let right = self.and();
                left = Value::Bool(left.truthy() || right.truthy());
            }
            left
        }
        fn and(&mut self) -> Value {
            let mut left = self.comparison();
            while self.is_word("AND") {
                self.next();
                let right = self.comparison();
                left = Value::Bool(left.truthy() && right.truthy());
            }
            left
        }
        fn comparison(&mut self) -> Value {
            let left = self.concat();
            let op = match self.peek() {
                Some(Token::Op("==")) => "==",
                Some(Token::Op("!=")) => "!=",
                _ => return left,
            };
            self.next();
            let right = self.concat();
            match (left.text(), right.text()) {
                (Some(a), Some(b)) => Value::Bool((a == b) == (op == "==")),
                _ => Value::Null,
            }
        }
        fn concat(&mut self) -> Value {
            let mut left = self.primary();
            while self.peek() == Some(&Token::Op(".")) {
                self.next();
                let right = self.primary();
                left = match (left.text(), right.text()) {
                    (Some(a), Some(b)) => Value::Str(a + &b),
                    _ => Value::Null,
                };
            }
            left
        }
        fn args(&mut self) -> Vec<Value> {
            self.expect("(");
            let mut args = Vec::new();
            if self.peek() != Some(&Token::Op(")")) {
                loop {
                    args.push(self.or());
                    if self.peek() == Some(&Token::Op(",")) {
                        self.next();
                    } else {
                        break;
                    }
                }
            }
            self.expect(")");
            args
        }
        fn primary(&mut self) -> Value {
            match self.next() {
                Token::Str(s) | Token::Num(s) => Value::Str(s),
                Token::Op("(") => {
                    let v = self.or();
                    self.expect(")");
                    v
                }
                Token::Ident(name) if self.peek() == Some(&Token::Op("(")) => {
                    let args = self.args();
                    call(&name, args)
                }
                Token::Ident(name) => match self.fields.get(&name) {
                    None => Value::Null,
                    Some(v) if v.len() == 1 => Value::Str(v[0].clone()),
                    Some(v) => Value::Multi(v.clone()),
                },
                other => panic!("eval: unexpected {other:?}"),
            }
        }
    }

    fn call(name: &str, args: Vec<Value>) -> Value {
        let text = |i: usize| args[i].text();
        match (name, args.len()) {
            ("if", 3) => {
                if args[0].truthy() {
                    args[1].clone()
                } else {
                    args[2].clone()
                }
            }
            ("case", n) if n % 2 == 0 => args
                .chunks(2)
                .find(|pair| pair[0].truthy())
                .map_or(Value::Null, |pair| pair[1].clone()),
            ("coalesce", _) => args
                .iter()
                .find(|v| **v != Value::Null)
                .cloned()
                .unwrap_or(Value::Null),
            ("nullif", 2) => {
                if text(0) == text(1) {
                    Value::Null
                } else {
                    args[0].clone()
                }
            }
            ("isnull", 1) => Value::Bool(args[0] == Value::Null),
            ("isnotnull", 1) => Value::Bool(args[0] != Value::Null),
            ("true", 0) => Value::Bool(true),
            ("lower", 1) => text(0).map_or(Value::Null, |s| Value::Str(s.to_lowercase())),
            ("mvindex", 2) => match (&args[0], text(1).as_deref()) {
                (Value::Multi(v), Some("0")) => v.first().cloned().map_or(Value::Null, Value::Str),
                (Value::Str(s), Some("0")) => Value::Str(s.clone()),
                (Value::Null, _) => Value::Null,
                other => panic!("eval: mvindex{other:?}"),
            },
            ("match", 2) => match (text(0), text(1)) {
                (Some(s), Some(re)) => Value::Bool(Regex::new(&re).unwrap().is_match(&s)),
                _ => Value::Null,
            },
            ("like", 2) => match (text(0), text(1)) {
                (Some(s), Some(pattern)) => {
                    let re = format!(
                        "^{}$",
                        regex::escape(&pattern).replace('%', ".*").replace('_', ".")
                    );
                    Value::Bool(Regex::new(&re).unwrap().is_match(&s))
                }
                _ => Value::Null,
            },
            ("replace", 3) => match (text(0), text(1), text(2)) {
                (Some(s), Some(re), Some(with)) => Value::Str(
                    Regex::new(&re)
                        .unwrap()
                        .replace_all(&s, replacement(&with).as_str())
                        .into_owned(),
                ),
                _ => Value::Null,
            },
            _ => panic!("eval: unsupported function {name}/{}", args.len()),
        }
    }

    /// Splunk's replacement text (`\\1` names a group) in the `regex` crate's syntax (`${1}`).
    fn replacement(with: &str) -> String {
        let mut out = String::new();
        let mut chars = with.chars().peekable();
        while let Some(c) = chars.next() {
            match (c, chars.peek()) {
                ('\\', Some(d)) if d.is_ascii_digit() => {
                    out.push_str(&format!("${{{d}}}"));
                    chars.next();
                }
                ('$', _) => out.push_str("$$"),
                _ => out.push(c),
            }
        }
        out
    }

    /// Evaluates `expr` over `fields`.
    pub fn eval(expr: &str, fields: &Fields) -> Value {
        let mut parser = Parser {
            tokens: tokens(expr),
            at: 0,
            fields,
        };
        let value = parser.or();
        assert_eq!(
            parser.at,
            parser.tokens.len(),
            "eval: trailing tokens in {expr}"
        );
        value
    }
}

/// Tags of each eventtype, from tags.conf.
fn eventtype_tags() -> BTreeMap<String, BTreeSet<String>> {
    read_conf("tags.conf")
        .into_iter()
        .filter_map(|(name, settings)| {
            let eventtype = name.strip_prefix("eventtype=")?.to_owned();
            let tags = settings
                .into_iter()
                .filter(|(_, v)| v == "enabled")
                .map(|(k, _)| k)
                .collect();
            Some((eventtype, tags))
        })
        .collect()
}

/// CIM 4.20 fields the data models (Splunk_SA_CIM 4.20.0) and pytest-splunk-addon list as
/// required. The Alerts model's `user` is deliberately not set (see
/// `user_is_left_unset_on_every_sourcetype`).
const IDS_REQUIRED: &[&str] = &[
    "action",
    "category",
    "dest",
    "dvc",
    "ids_type",
    "severity",
    "signature",
    "vendor_product",
    "src",
];
const ALERTS_REQUIRED: &[&str] = &[
    "app",
    "description",
    "dest",
    "id",
    "severity",
    "signature",
    "signature_id",
    "src",
    "type",
];

fn cim_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "critical",
        Severity::Major => "high",
        Severity::Minor => "medium",
        Severity::Warning => "low",
    }
}

#[test]
fn every_cim_required_field_is_produced_for_every_tagged_eventtype_and_sourcetype() {
    let props = read_conf("props.conf");
    let eventtypes = read_conf("eventtypes.conf");
    let tags = eventtype_tags();
    let search_re = compiled(r"^sourcetype=icsfwd:\* icsfwd_event_kind=([a-z*]+)$");
    let one = |fields: &Fields, name: &str| -> Option<String> {
        match fields.get(name).map(Vec::as_slice) {
            Some([value]) => Some(value.clone()),
            _ => None,
        }
    };
    let mut tagged = 0;
    let mut checked = 0;
    for (eventtype, settings) in &eventtypes {
        let search = setting(settings, "search");
        let kind = search_re
            .captures(search)
            .unwrap_or_else(|| panic!("[{eventtype}] search has another shape: {search}"))[1]
            .to_owned();
        let tagset = tags.get(eventtype).cloned().unwrap_or_default();
        let mut required: Vec<&str> = Vec::new();
        if tagset.contains("ids") && tagset.contains("attack") {
            required.extend(IDS_REQUIRED);
        }
        if tagset.contains("alert") {
            required.extend(ALERTS_REQUIRED);
        }
        if !required.is_empty() {
            tagged += 1;
        }
        for event in corpus() {
            let (is_alert, severity) = match &event {
                Event::Alert(a) => (true, a.severity),
                Event::Notification(n) => (false, n.kind.severity()),
            };
            for sourcetype in sourcetypes_of(&event) {
                let fields = search_time(&props, sourcetype, &event);
                let at = format!("[{eventtype}] {sourcetype} {event:?}");
                let event_kind = one(&fields, "icsfwd_event_kind");
                let want_kind = match () {
                    () if is_alert => "alert",
                    // The HEC form of the forwarder's health report has its own sourcetype.
                    () if sourcetype == "icsfwd:health" => "health",
                    () => "notification",
                };
                assert_eq!(event_kind.as_deref(), Some(want_kind), "{at}");
                assert_eq!(
                    one(&fields, "severity").as_deref(),
                    Some(cim_severity(severity)),
                    "{at}"
                );
                if kind != "*" && event_kind.as_deref() != Some(kind.as_str()) {
                    continue;
                }
                for field in &required {
                    assert!(
                        one(&fields, field).is_some_and(|v| !v.is_empty()),
                        "{at}: CIM field {field} is {:?}",
                        fields.get(*field)
                    );
                }
                if let Event::Alert(alert) = &event
                    && !required.is_empty()
                {
                    let allowed: [(&str, &[&str]); 3] = [
                        ("action", &["allowed", "blocked"]),
                        ("ids_type", &["network", "host", "application", "wireless"]),
                        ("type", &["alarm", "alert", "event", "task", "warning"]),
                    ];
                    for (field, values) in allowed {
                        let value = one(&fields, field).unwrap();
                        assert!(values.contains(&value.as_str()), "{at}: {field}={value}");
                    }
                    assert_eq!(
                        one(&fields, "src"),
                        Some(alert.source.ip.to_string()),
                        "{at}"
                    );
                    assert_eq!(
                        one(&fields, "dest"),
                        Some(alert.destination.ip.to_string()),
                        "{at}"
                    );
                    assert_eq!(
                        one(&fields, "dvc"),
                        Some(alert.sensor.ip.to_string()),
                        "{at}"
                    );
                    for port in ["src_port", "dest_port"] {
                        if let Some(p) = one(&fields, port) {
                            p.parse::<u16>()
                                .unwrap_or_else(|_| panic!("{at}: {port}={p}"));
                        }
                    }
                    if let Some(t) = one(&fields, "transport") {
                        assert!(["tcp", "udp", "icmp"].contains(&t.as_str()), "{at}: {t}");
                    }
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(tagged, 1, "icsfwd_alert is the one CIM-tagged eventtype");
    assert!(checked >= 4 * 18, "only {checked} alert renderings checked");
}

#[test]
fn transport_is_derived_for_fixed_transport_protocols_only() {
    let props = read_conf("props.conf");
    for (protocol, want) in [
        ("S7", Some("tcp")),
        ("Modbus/TCP", Some("tcp")),
        ("AMS(ADS)", Some("tcp")),
        ("BACnet", Some("udp")),
        ("ICMP", Some("icmp")),
        ("ProfinetDCP", None),
        ("", None),
    ] {
        let mut alert = Alert::example(TIME_MS);
        alert.protocol.clear();
        alert.set_protocol(protocol);
        let event = Event::Alert(alert);
        for sourcetype in sourcetypes_of(&event) {
            let fields = search_time(&props, sourcetype, &event);
            assert_eq!(
                fields.get("transport").map(|v| v[0].as_str()),
                want,
                "{sourcetype} {protocol}"
            );
        }
    }
}

#[test]
fn severity_maps_every_vendor_severity_to_a_cim_value_in_every_sourcetype() {
    let props = read_conf("props.conf");
    let pair = Regex::new(r#"=="(Critical|Major|Minor|Warning)", "([a-z]+)""#).unwrap();
    let want = BTreeMap::from([
        ("Critical".to_owned(), "critical".to_owned()),
        ("Major".to_owned(), "high".to_owned()),
        ("Minor".to_owned(), "medium".to_owned()),
        ("Warning".to_owned(), "low".to_owned()),
    ]);
    let mut stanzas = 0;
    let event_sourcetypes = [
        "icsfwd:alert",
        "icsfwd:notification",
        "icsfwd:text",
        "icsfwd:cef",
        "icsfwd:leef",
    ];
    for (name, settings) in props
        .iter()
        .filter(|(n, _)| event_sourcetypes.contains(&n.as_str()))
    {
        let eval = setting(settings, "EVAL-severity");
        let got: BTreeMap<String, String> = pair
            .captures_iter(eval)
            .map(|c| (c[1].to_owned(), c[2].to_owned()))
            .collect();
        assert_eq!(got, want, "[{name}] {eval}");
        assert_eq!(setting(settings, "EVAL-action"), "\"allowed\"");
        assert_eq!(setting(settings, "EVAL-ids_type"), "\"network\"");
        stanzas += 1;
    }
    assert_eq!(stanzas, 5, "every icsfwd sourcetype");
    for severity in Severity::ALL {
        assert!(
            want.contains_key(severity.as_str()),
            "{severity:?} has a CIM value"
        );
    }
}

// ---- every SPL string: views, saved searches, search macros -------------------------------

/// Where an SPL string was found, and the string as Splunk stores it.
struct Spl {
    at: String,
    text: String,
}

fn xml_unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

fn views() -> Vec<(PathBuf, String)> {
    let mut views: Vec<(PathBuf, String)> =
        std::fs::read_dir(app_dir().join("default/data/ui/views"))
            .unwrap()
            .map(|e| {
                let path = e.unwrap().path();
                let xml = std::fs::read_to_string(&path).unwrap();
                (path, xml)
            })
            .collect();
    views.sort();
    views
}

/// The SPL of a view: every `<query>` and the search (`q=`) of every drilldown link to the
/// search page, XML-unescaped, tokens as written.
fn view_spl(at: &str, xml: &str) -> Vec<Spl> {
    let query = Regex::new(r"(?s)<query>(.*?)</query>").unwrap();
    let link =
        Regex::new(r"(?s)<link[^>]*>\s*search\?q=(.*?)(?:&amp;earliest=.*?)?\s*</link>").unwrap();
    let mut out = Vec::new();
    for c in query.captures_iter(xml) {
        out.push(Spl {
            at: format!("{at} <query>"),
            text: xml_unescape(&c[1]),
        });
    }
    for c in link.captures_iter(xml) {
        out.push(Spl {
            at: format!("{at} <link>"),
            text: xml_unescape(&c[1]),
        });
    }
    out
}

/// Every SPL string of the app: views, the `search` of every saved search, and the macros
/// whose definition is a search pipeline.
fn every_spl() -> Vec<Spl> {
    let mut out = Vec::new();
    for (path, xml) in views() {
        out.extend(view_spl(&path.display().to_string(), &xml));
    }
    for (name, settings) in parse_conf(&app_dir().join("default/savedsearches.conf")) {
        out.push(Spl {
            at: format!("savedsearches.conf [{name}]"),
            text: setting(&settings, "search").to_owned(),
        });
    }
    for (name, settings) in parse_conf(&app_dir().join("default/macros.conf")) {
        let definition = setting(&settings, "definition");
        if definition.contains('|') {
            out.push(Spl {
                at: format!("macros.conf [{name}]"),
                text: definition.to_owned(),
            });
        }
    }
    out
}

/// Dashboard tokens (`$name$`, `$name|f$`) that enter `spl` without the `|s` filter, which
/// quotes the value and escapes its quotes so that no value can end the string.
fn unquoted_tokens(spl: &str) -> Vec<String> {
    Regex::new(r"\$[^$\s]*\$")
        .unwrap()
        .find_iter(spl)
        .map(|m| m.as_str().to_owned())
        .filter(|token| !token.ends_with("|s$"))
        .collect()
}

#[test]
fn every_dashboard_token_that_enters_spl_is_quoted_with_the_s_filter() {
    let mut checked = 0;
    for (path, xml) in views() {
        for spl in view_spl(&path.display().to_string(), &xml) {
            assert_eq!(
                unquoted_tokens(&spl.text),
                Vec::<String>::new(),
                "{}: {}",
                spl.at,
                spl.text
            );
            checked += spl.text.matches('$').count() / 2;
        }
    }
    assert!(checked > 60, "only {checked} tokens found");
}

#[test]
fn the_token_check_catches_the_old_unfiltered_drilldowns() {
    // What the views did before: a protocol name from network traffic put inside quotes.
    let old = r#"<drilldown><link target="_blank">search?q=`icsfwd_index` eventtype=icsfwd_alert protocol="$click.value$"&amp;earliest=$time.earliest$&amp;latest=$time.latest$</link></drilldown>
<search><query>`icsfwd_index` eventtype=icsfwd_alert id="$alert_id$" | table _time</query></search>
<link>search?q=x $click.name2$=$click.value2|s$</link>"#;
    let found: Vec<String> = view_spl("probe", old)
        .iter()
        .flat_map(|spl| unquoted_tokens(&spl.text))
        .collect();
    assert_eq!(found, ["$alert_id$", "$click.value$", "$click.name2$"]);
}

/// The SPL commands the app's searches may use.
const SPL_COMMANDS: &[&str] = &[
    "search",
    "stats",
    "eventstats",
    "timechart",
    "sort",
    "head",
    "table",
    "dedup",
    "eval",
    "where",
    "fields",
    "append",
    "mvexpand",
];

/// Splits `spl` at its top-level pipes (outside quotes and brackets) after checking that
/// quotes, brackets, parentheses and backquotes balance; subsearches are returned too.
fn pipeline(at: &str, spl: &str) -> Vec<String> {
    let mut commands = vec![String::new()];
    let mut subsearches = Vec::new();
    let mut depth: Vec<char> = Vec::new();
    let (mut quoted, mut macro_call) = (false, false);
    let mut chars = spl.chars();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '\\' => {
                    commands.last_mut().unwrap().push(c);
                    commands
                        .last_mut()
                        .unwrap()
                        .push(chars.next().expect("an escaped character"));
                    continue;
                }
                '"' => quoted = false,
                _ => {}
            }
        } else {
            match c {
                '"' => quoted = true,
                '`' => macro_call = !macro_call,
                '(' | '[' => depth.push(c),
                ')' => assert_eq!(depth.pop(), Some('('), "{at}: unbalanced ) in {spl}"),
                ']' => assert_eq!(depth.pop(), Some('['), "{at}: unbalanced ] in {spl}"),
                '|' if depth.is_empty() && !macro_call => {
                    commands.push(String::new());
                    continue;
                }
                _ => {}
            }
        }
        commands.last_mut().unwrap().push(c);
    }
    assert!(
        !quoted && !macro_call && depth.is_empty(),
        "{at}: unbalanced quote, ` or bracket in {spl}"
    );
    for command in &commands {
        if let Some(open) = command.find("[search ") {
            let inner = &command[open + 1..command.rfind(']').unwrap()];
            subsearches.extend(pipeline(at, inner));
        }
    }
    commands.extend(subsearches);
    commands.into_iter().map(|c| c.trim().to_owned()).collect()
}

#[test]
fn every_spl_string_uses_known_commands_and_defined_macros_eventtypes_and_sourcetypes() {
    let macros: BTreeSet<String> = parse_conf(&app_dir().join("default/macros.conf"))
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    let eventtypes: BTreeSet<String> = read_conf("eventtypes.conf")
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    let sourcetypes: BTreeSet<String> = read_conf("props.conf")
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    let macro_use = Regex::new(r"`([^`(]+)`").unwrap();
    let eventtype_use = Regex::new(r"eventtype=([A-Za-z0-9_]+)").unwrap();
    let sourcetype_use = Regex::new(r"sourcetype=([A-Za-z0-9_:]+)").unwrap();
    let mut checked = 0;
    // A token's value as Splunk puts it in: `|s` quotes it.
    let quoted_token = Regex::new(r"\$[^$\s]*\|s\$").unwrap();
    for spl in every_spl() {
        let text = quoted_token.replace_all(&spl.text, "\"value\"");
        let commands = pipeline(&spl.at, &text);
        for (i, command) in commands.iter().enumerate() {
            let verb = command.split_whitespace().next().unwrap_or("");
            // The first command is an implicit `search` (a macro, a term or `search`).
            if i > 0 || verb == "search" {
                assert!(
                    SPL_COMMANDS.contains(&verb),
                    "{}: unknown command {verb:?} in {}",
                    spl.at,
                    spl.text
                );
            }
        }
        for c in macro_use.captures_iter(&spl.text) {
            assert!(
                macros.contains(&c[1]),
                "{}: macro `{}` is not defined",
                spl.at,
                &c[1]
            );
        }
        for c in eventtype_use.captures_iter(&spl.text) {
            assert!(
                eventtypes.contains(&c[1]),
                "{}: eventtype {} is not defined",
                spl.at,
                &c[1]
            );
        }
        for c in sourcetype_use.captures_iter(&spl.text) {
            assert!(
                sourcetypes.contains(&c[1]),
                "{}: sourcetype {} is not defined",
                spl.at,
                &c[1]
            );
        }
        checked += 1;
    }
    assert!(checked >= 40, "only {checked} SPL strings");
}

#[test]
fn the_structural_check_catches_a_broken_search() {
    for bad in [
        r#"`icsfwd_index` title="x | stats count"#,
        "`icsfwd_index` | where (a==1",
        "x | stats count ] | head 1",
    ] {
        assert!(
            std::panic::catch_unwind(|| pipeline("probe", bad)).is_err(),
            "{bad}"
        );
    }
    let commands = pipeline(
        "probe",
        r#"`m` title="a | b" | where f("|") | append [search x | head 1]"#,
    );
    assert_eq!(
        commands
            .iter()
            .map(|c| c.split_whitespace().next().unwrap())
            .collect::<Vec<_>>(),
        ["`m`", "where", "append", "search", "head"]
    );
}

/// SPL words the app's searches use that are not fields: commands, functions, keywords.
const SPL_WORDS: &[&str] = &[
    "search",
    "stats",
    "eventstats",
    "timechart",
    "count",
    "dc",
    "by",
    "AS",
    "as",
    "sort",
    "head",
    "table",
    "dedup",
    "eval",
    "where",
    "fields",
    "append",
    "mvexpand",
    "mvzip",
    "values",
    "max",
    "latest",
    "earliest",
    "strftime",
    "round",
    "now",
    "relative_time",
    "if",
    "case",
    "null",
    "isnull",
    "isnotnull",
    "OR",
    "AND",
    "NOT",
    "_index_earliest",
    "_index_latest",
];
/// Fields Splunk gives every event.
const BUILTIN_FIELDS: &[&str] = &[
    "_time",
    "_indextime",
    "sourcetype",
    "source",
    "host",
    "index",
    "eventtype",
    "tag",
];
/// The fields of the forwarder's health events (sourcetype `icsfwd:health`, reserved in the
/// add-on's props.conf for when icsfwd sends them).
const HEALTH_FIELDS: &[&str] = &["destination", "state", "reason", "backlog"];

#[test]
fn every_search_names_only_fields_the_add_on_produces() {
    let props = read_conf("props.conf");
    let mut known: BTreeSet<String> = BUILTIN_FIELDS
        .iter()
        .chain(HEALTH_FIELDS)
        .map(|s| (*s).to_owned())
        .collect();
    // With an asset table filled in, as an admin would.
    let Event::Alert(example) = Event::Alert(Alert::example(TIME_MS)) else {
        unreachable!()
    };
    let assets = Table::from_rows(
        &["asset", "category", "zone", "criticality"],
        &[
            &[&example.source.ip.to_string(), "hmi", "l2", "high"],
            &[&example.destination.ip.to_string(), "plc", "l1", "critical"],
        ],
    );
    let tables = Tables::shipped().with("icsfwd_assets", assets);
    for event in corpus() {
        for sourcetype in sourcetypes_of(&event) {
            known.extend(search_time_with(&props, sourcetype, &event, &tables).into_keys());
        }
    }
    let strings = Regex::new(r#""(?:[^"\\]|\\.)*""#).unwrap();
    let tokens = Regex::new(r"\$[^$]*\$|`[^`]*`|[-+]?[0-9][0-9A-Za-z@.]*|@[a-z]+").unwrap();
    let defined_re = Regex::new(r"(?:\bAS\s+|\beval\s+)([A-Za-z_][A-Za-z0-9_.]*)").unwrap();
    let word = Regex::new(r"(=\s*)?(-?[A-Za-z_][A-Za-z0-9_.]*)").unwrap();
    // What a search macro defines (AS, eval) is a field of every search that calls it.
    let from_macros: BTreeSet<String> = parse_conf(&app_dir().join("default/macros.conf"))
        .iter()
        .flat_map(|(_, settings)| {
            defined_re
                .captures_iter(setting(settings, "definition"))
                .map(|c| c[1].to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    let mut checked = 0;
    for spl in every_spl() {
        let q = tokens
            .replace_all(&strings.replace_all(&spl.text, " "), " ")
            .into_owned();
        let mut defined: BTreeSet<String> = defined_re
            .captures_iter(&q)
            .map(|c| c[1].to_owned())
            .collect();
        defined.extend(from_macros.iter().cloned());
        for c in word.captures_iter(&q) {
            let name = c[2].trim_start_matches('-');
            if c.get(1).is_some() || SPL_WORDS.contains(&name) || defined.contains(name) {
                continue;
            }
            assert!(
                known.contains(name),
                "{}: names {name:?}, which the add-on does not produce: {q}",
                spl.at
            );
            checked += 1;
        }
    }
    assert!(checked > 150, "only {checked} field references found");
}

#[test]
fn saved_searches_ship_disabled_scheduled_suppressed_and_documented() {
    let saved = parse_conf(&app_dir().join("default/savedsearches.conf"));
    let readme = std::fs::read_to_string(app_dir().join("README.md")).unwrap();
    let names: Vec<&str> = saved.iter().map(|(n, _)| n.as_str()).collect();
    for wanted in [
        "Critical OT alert",
        "Sensor offline",
        "Sensor silent",
        "Alerts dropped",
        "Backup failure",
        "Forwarder destination parked or backlog growing",
        "Burst of one signature",
    ] {
        assert!(
            names.contains(&format!("icsfwd - {wanted}").as_str()),
            "no saved search for {wanted}: {names:?}"
        );
    }
    for (name, settings) in &saved {
        for (key, value) in [
            ("disabled", "1"),
            ("is_scheduled", "1"),
            ("alert.suppress", "1"),
            ("alert.digest_mode", "0"),
            ("alert.track", "1"),
        ] {
            assert_eq!(setting(settings, key), value, "[{name}] {key}");
        }
        for key in [
            "description",
            "dispatch.earliest_time",
            "dispatch.latest_time",
            "alert.suppress.period",
            "alert.suppress.fields",
        ] {
            assert!(!setting(settings, key).is_empty(), "[{name}] {key}");
        }
        // AppInspect warns on a schedule that runs more than 12 times an hour.
        let cron = setting(settings, "cron_schedule");
        let fields: Vec<&str> = cron.split_whitespace().collect();
        assert_eq!(fields.len(), 5, "[{name}] {cron}");
        let per_hour = match fields[0] {
            "*" => 60,
            m if m.starts_with("*/") => 60 / m[2..].parse::<usize>().unwrap(),
            m => m.split(',').count(),
        };
        assert!(per_hour <= 12, "[{name}] runs {per_hour} times an hour");
        // Every suppression field is one the search returns.
        let search = setting(settings, "search");
        for field in setting(settings, "alert.suppress.fields").split(',') {
            assert!(
                search.contains(field) || field == "destination" || field == "sensor_name",
                "[{name}] suppresses on {field}, which its search does not return"
            );
        }
        // The README says what it detects, when it runs and how to enable it.
        let section = readme
            .split(&format!("### {name}"))
            .nth(1)
            .unwrap_or_else(|| panic!("README.md has no section ### {name}"));
        let section = section.split("\n### ").next().unwrap();
        assert!(
            section.contains(&format!("`{cron}`")),
            "README.md [{name}]: no schedule `{cron}`"
        );
        assert!(
            section.contains(setting(settings, "alert.suppress.period")),
            "README.md [{name}]: no suppression period"
        );
    }
    assert!(
        readme.contains("disabled = 0"),
        "README.md says how to enable the saved searches"
    );
}

#[test]
fn the_probe_catches_a_forged_field_and_an_unknown_dashboard_field() {
    // The two checks above must be able to fail: a rule with a bad regex yields a wrong
    // value, and an unknown name is not in the produced set.
    let rules = vec![(
        "EXTRACT-a_bad".to_owned(),
        "(?m)(?<message>Key: [^\\n]*)".to_owned(),
    )];
    let event = &corpus()[0];
    let raw = render(Kind::Text, event);
    let got = extract(&rules, &raw);
    assert_ne!(got.get("message"), expected_text(event).get("message"));
    let props = read_conf("props.conf");
    for sourcetype in sourcetypes_of(event) {
        assert!(!search_time(&props, sourcetype, event).contains_key("no_such_field"));
    }
}

#[test]
fn first_line_splits_label_and_title_when_the_title_imitates_the_label() {
    let props = read_conf("props.conf");
    let st = stanza(&props, "icsfwd:text");
    for label in ["icsfwd", "plant A ops", ""] {
        let mut alert = Alert::example(TIME_MS);
        alert.set_title("x Alert: y Notification: z");
        let event = Event::Alert(alert);
        let mut options = text::Options::default();
        options.label.clear();
        options.label.push_str(label).unwrap();
        let mut buf = vec![0u8; text::MAX_LEN];
        let mut sink = SliceWriter::new(&mut buf);
        let n = text::write(&event, &options, &mut sink).unwrap();
        let raw = String::from_utf8(buf[..n].to_vec()).unwrap();
        let fields = extract(st, &raw);
        assert_eq!(fields["label"], [label], "{raw:?}");
        assert_eq!(fields["icsfwd_event_class"], ["Alert"]);
        assert_eq!(fields["title"], ["x Alert: y Notification: z"]);
    }
}

// ---- lookups ---------------------------------------------------------------------------

/// A lookup table: its header and rows, as read from a CSV file.
#[derive(Debug, Clone, Default)]
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// Reads a CSV file (RFC 4180: quoted fields may hold commas and doubled quotes).
    fn read(path: &Path) -> Table {
        let text = std::fs::read_to_string(path).unwrap();
        let mut lines = text.lines().filter(|l| !l.is_empty()).map(csv_fields);
        let header = lines.next().expect("a header");
        let rows: Vec<Vec<String>> = lines.collect();
        for row in &rows {
            assert_eq!(row.len(), header.len(), "{}: {row:?}", path.display());
        }
        Table { header, rows }
    }

    fn from_rows(header: &[&str], rows: &[&[&str]]) -> Table {
        Table {
            header: header.iter().map(|s| (*s).to_owned()).collect(),
            rows: rows
                .iter()
                .map(|r| r.iter().map(|s| (*s).to_owned()).collect())
                .collect(),
        }
    }

    fn column(&self, name: &str) -> usize {
        self.header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name} in {:?}", self.header))
    }
}

fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                fields.last_mut().unwrap().push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(String::new()),
            _ => fields.last_mut().unwrap().push(c),
        }
    }
    fields
}

/// The lookup tables by transforms.conf stanza, with its matching settings.
struct Tables {
    tables: BTreeMap<String, (Table, bool, usize)>,
}

impl Tables {
    /// The add-on's own tables (lookups/ as shipped).
    fn shipped() -> Tables {
        let mut tables = BTreeMap::new();
        for (name, settings) in read_conf("transforms.conf") {
            let file = setting(&settings, "filename");
            let table = Table::read(&ta_dir().join("lookups").join(file));
            let case_sensitive = setting(&settings, "case_sensitive_match") != "false";
            let max_matches = setting(&settings, "max_matches").parse().unwrap();
            tables.insert(name, (table, case_sensitive, max_matches));
        }
        Tables { tables }
    }

    /// The shipped tables with `name` replaced by `table` (an admin's own rows).
    fn with(mut self, name: &str, table: Table) -> Tables {
        let entry = self.tables.get_mut(name).expect("a transforms.conf stanza");
        assert_eq!(entry.0.header, table.header, "the shipped header");
        entry.0 = table;
        self
    }
}

/// Splunk's automatic lookups: `LOOKUP-<class> = <table> <column> [AS <field>] ...
/// OUTPUT|OUTPUTNEW <column> [AS <field>] ...`, in class-name order; the rows whose columns
/// equal the event's input fields (up to `max_matches`, in file order) give every output
/// field their values (several rows: multivalue); OUTPUTNEW leaves a field that exists alone.
mod lookups {
    use super::{Fields, Tables};

    pub fn apply(settings: &[(String, String)], tables: &Tables, fields: &mut Fields) {
        let mut rules: Vec<(&str, &str)> = settings
            .iter()
            .filter_map(|(k, v)| k.strip_prefix("LOOKUP-").map(|class| (class, v.as_str())))
            .collect();
        rules.sort();
        for (_, rule) in rules {
            apply_one(rule, tables, fields);
        }
    }

    /// `a [AS b] c [AS d] ...` as (column, field) pairs.
    fn pairs(words: &[&str]) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < words.len() {
            if words
                .get(i + 1)
                .is_some_and(|w| w.eq_ignore_ascii_case("AS"))
            {
                out.push((words[i].to_owned(), words[i + 2].to_owned()));
                i += 3;
            } else {
                out.push((words[i].to_owned(), words[i].to_owned()));
                i += 1;
            }
        }
        out
    }

    fn apply_one(rule: &str, tables: &Tables, fields: &mut Fields) {
        let words: Vec<&str> = rule.split_whitespace().collect();
        let at = words
            .iter()
            .position(|w| *w == "OUTPUT" || *w == "OUTPUTNEW")
            .unwrap_or_else(|| panic!("no OUTPUT in {rule}"));
        let only_new = words[at] == "OUTPUTNEW";
        let (table, case_sensitive, max_matches) = tables
            .tables
            .get(words[0])
            .unwrap_or_else(|| panic!("no transforms.conf stanza {}", words[0]));
        let same = |a: &str, b: &str| {
            if *case_sensitive {
                a == b
            } else {
                a.eq_ignore_ascii_case(b)
            }
        };
        let inputs = pairs(&words[1..at]);
        let rows: Vec<&Vec<String>> = table
            .rows
            .iter()
            .filter(|row| {
                inputs.iter().all(|(column, field)| {
                    let cell = &row[table.column(column)];
                    fields
                        .get(field)
                        .is_some_and(|values| values.iter().any(|v| same(v, cell)))
                })
            })
            .take(*max_matches)
            .collect();
        for (column, field) in pairs(&words[at + 1..]) {
            if only_new && fields.contains_key(&field) {
                continue;
            }
            let values: Vec<String> = rows
                .iter()
                .map(|row| row[table.column(&column)].clone())
                .filter(|v| !v.is_empty())
                .collect();
            if !values.is_empty() {
                fields.insert(field, values);
            }
        }
    }
}

// ---- signature_id, ATT&CK for ICS, assets, user ----------------------------------------------

/// An alert of every kind of the simulator's catalogue, as the generator raises it.
fn catalogue_alerts() -> Vec<(icsfwd_sim::catalogue::Entry, Event)> {
    icsfwd_sim::catalogue::CATALOGUE
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            let mut alert = Alert::example(TIME_MS);
            alert.id = 5000 + i as u64;
            alert.engine = entry.engine;
            alert.severity = entry.severity;
            alert.title.clear();
            alert.set_title(entry.title);
            alert.group.clear();
            alert.set_group(entry.group);
            alert.protocol.clear();
            alert.set_protocol(entry.protocols[0]);
            (*entry, Event::Alert(alert))
        })
        .collect()
}

/// The one signature_id of `event` in `sourcetype`.
fn signature_id_in(props: &Conf, sourcetype: &str, event: &Event) -> String {
    match search_time(props, sourcetype, event).get("signature_id") {
        Some(values) if values.len() == 1 => values[0].clone(),
        other => panic!("{sourcetype}: signature_id is {other:?} for {event:?}"),
    }
}

#[test]
fn signature_id_is_one_value_per_kind_on_every_transport() {
    let props = read_conf("props.conf");
    let mut events: Vec<Event> = catalogue_alerts().into_iter().map(|(_, e)| e).collect();
    let kinds = events.len();
    events.extend(corpus());
    let mut ids_of_kinds = BTreeSet::new();
    for (n, event) in events.iter().enumerate() {
        // The title, with what CEF cannot carry in its header (control characters, line and
        // paragraph separators) read as U+FFFD; a notification's kind token.
        let want = match event {
            Event::Alert(a) => a
                .title
                .chars()
                .map(|c| {
                    if c.is_control() || c == '\u{2028}' || c == '\u{2029}' {
                        '\u{fffd}'
                    } else {
                        c
                    }
                })
                .collect::<String>(),
            Event::Notification(n) => format!("notification:{}", n.kind.token()),
        };
        for sourcetype in sourcetypes_of(event) {
            assert_eq!(
                signature_id_in(&props, sourcetype, event),
                want,
                "{sourcetype}: {event:?}"
            );
        }
        if n < kinds {
            ids_of_kinds.insert(want);
        }
    }
    assert_eq!(
        ids_of_kinds.len(),
        kinds,
        "one signature_id per catalogue kind"
    );
    assert!(kinds >= 60, "{kinds} kinds");
}

#[test]
fn signature_id_differs_across_transports_without_the_decoding() {
    // The probe: with signature_id = title (the decoding removed) a title holding a backslash,
    // a pipe or a line break reads differently over HEC, text, CEF and LEEF.
    let mut alert = Alert::example(TIME_MS);
    alert.title.clear();
    alert.set_title("a\\b|c\nd");
    let event = Event::Alert(alert);
    let mut props = read_conf("props.conf");
    for (_, settings) in props.iter_mut() {
        for (key, value) in settings.iter_mut() {
            if key == "EVAL-signature_id" {
                *value = "title".to_owned();
            }
        }
    }
    let ids: BTreeSet<String> = sourcetypes_of(&event)
        .iter()
        .map(|st| signature_id_in(&props, st, &event))
        .collect();
    assert!(ids.len() > 1, "{ids:?}");
    let props = read_conf("props.conf");
    let ids: BTreeSet<String> = sourcetypes_of(&event)
        .iter()
        .map(|st| signature_id_in(&props, st, &event))
        .collect();
    assert_eq!(ids, BTreeSet::from(["a\\b|c\u{fffd}d".to_owned()]));
}

/// ATT&CK fields every mapped alert carries, and where each comes from in the lookup table.
const ATTACK_FIELDS: [(&str, &str); 7] = [
    ("mitre_technique_id", "mitre_technique_id"),
    ("mitre_technique", "mitre_technique"),
    ("mitre_tactic_id", "mitre_tactic_id"),
    ("mitre_tactic", "mitre_tactic"),
    ("annotations.mitre_attack", "mitre_technique_id"),
    (
        "annotations.mitre_attack.mitre_technique_id",
        "mitre_technique_id",
    ),
    (
        "annotations.mitre_attack.mitre_tactic_id",
        "mitre_tactic_id",
    ),
];

/// The rows of an ATT&CK table whose key column equals `key` (case-insensitively).
fn attack_rows<'t>(table: &'t Table, key: &str) -> Vec<&'t Vec<String>> {
    table
        .rows
        .iter()
        .filter(|row| row[0].eq_ignore_ascii_case(key))
        .collect()
}

#[test]
fn every_mapped_catalogue_kind_carries_its_attack_techniques_on_every_transport() {
    let props = read_conf("props.conf");
    let by_signature = Table::read(&ta_dir().join("lookups/icsfwd_attack_ics_by_signature.csv"));
    let by_group = Table::read(&ta_dir().join("lookups/icsfwd_attack_ics_by_alert_group.csv"));
    let mut mapped = 0;
    for (entry, event) in catalogue_alerts() {
        let mut rows = attack_rows(&by_signature, entry.title);
        if rows.is_empty() {
            rows = attack_rows(&by_group, entry.group);
        }
        if !rows.is_empty() {
            mapped += 1;
        }
        for sourcetype in sourcetypes_of(&event) {
            let fields = search_time(&props, sourcetype, &event);
            for (field, column) in ATTACK_FIELDS {
                let c = by_signature.column(column);
                let want: Vec<String> = rows.iter().map(|row| row[c].clone()).collect();
                let got = fields.get(field).cloned().unwrap_or_default();
                assert_eq!(got, want, "{sourcetype} {}: {field}", entry.title);
            }
        }
    }
    assert!(mapped >= 60, "only {mapped} catalogue kinds mapped");
    // A title the table does not list falls back on its alert group.
    let mut alert = Alert::example(TIME_MS);
    alert.title.clear();
    alert.set_title("A New Kind Of Scan");
    alert.group.clear();
    alert.set_group("Scan");
    let event = Event::Alert(alert);
    for sourcetype in sourcetypes_of(&event) {
        let fields = search_time(&props, sourcetype, &event);
        assert_eq!(fields["mitre_technique_id"], ["T0846"], "{sourcetype}");
    }
}

#[test]
fn attack_rows_name_current_ics_techniques_under_their_own_tactics() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/attack-ics");
    let techniques = Table::read(&data.join("ics-techniques.csv"));
    let tactics = Table::read(&data.join("ics-tactics.csv"));
    let technique = |id: &str| {
        techniques
            .rows
            .iter()
            .find(|row| row[0] == id)
            .unwrap_or_else(|| panic!("{id} is not a current ATT&CK for ICS technique"))
    };
    let mut rows = 0;
    for file in [
        "icsfwd_attack_ics_by_signature.csv",
        "icsfwd_attack_ics_by_alert_group.csv",
    ] {
        let table = Table::read(&ta_dir().join("lookups").join(file));
        assert_eq!(
            table.header[1..],
            [
                "mitre_technique_id",
                "mitre_technique",
                "mitre_tactic_id",
                "mitre_tactic"
            ]
        );
        let mut seen = BTreeSet::new();
        for row in &table.rows {
            let known = technique(&row[1]);
            assert_eq!(row[2], known[1], "{file}: {row:?}");
            let tactic = tactics
                .rows
                .iter()
                .find(|t| t[0] == row[3])
                .unwrap_or_else(|| panic!("{file}: tactic {} is not an ICS tactic", row[3]));
            assert_eq!(row[4], tactic[2], "{file}: {row:?}");
            assert!(
                known[2].split(';').any(|t| t == tactic[1]),
                "{file}: {} is not a tactic of {} ({})",
                tactic[1],
                row[1],
                known[2]
            );
            assert!(
                seen.insert((row[0].to_lowercase(), row[1].clone())),
                "{row:?} twice"
            );
            rows += 1;
        }
    }
    assert!(rows >= 70, "{rows} rows");
    // Every title row names a kind of the catalogue (no typo leaves a row unreachable).
    let by_signature = Table::read(&ta_dir().join("lookups/icsfwd_attack_ics_by_signature.csv"));
    for row in &by_signature.rows {
        assert!(
            icsfwd_sim::catalogue::CATALOGUE
                .iter()
                .any(|e| e.title.eq_ignore_ascii_case(&row[0]))
                || row[0] == Alert::example(TIME_MS).title.as_str(),
            "{} is no catalogue title",
            row[0]
        );
    }
}

#[test]
fn asset_context_is_added_only_when_an_admin_provides_the_table() {
    let props = read_conf("props.conf");
    let event = Event::Alert(Alert::example(TIME_MS));
    let Event::Alert(alert) = &event else {
        unreachable!()
    };
    let asset_fields = [
        "src_category",
        "src_zone",
        "src_priority",
        "dest_category",
        "dest_zone",
        "dest_priority",
        "priority",
    ];
    let shipped = Table::read(&ta_dir().join("lookups/icsfwd_assets.csv"));
    assert!(shipped.rows.is_empty(), "the asset table ships empty");
    for sourcetype in sourcetypes_of(&event) {
        let fields = search_time(&props, sourcetype, &event);
        for field in asset_fields {
            assert!(!fields.contains_key(field), "{sourcetype}: {field}");
        }
    }
    let source_ip = alert.source.ip.to_string();
    // The destination by name (upper case: names match case-insensitively), the source by IP.
    let dest_name = alert.destination.name.to_uppercase();
    let table = Table::from_rows(
        &["asset", "category", "zone", "criticality"],
        &[
            &[&source_ip, "engineering_workstation", "level-2", "high"],
            &[&dest_name, "plc", "cell-3", "critical"],
        ],
    );
    let tables = Tables::shipped().with("icsfwd_assets", table);
    for sourcetype in sourcetypes_of(&event) {
        let fields = search_time_with(&props, sourcetype, &event, &tables);
        let want = [
            ("src_category", "engineering_workstation"),
            ("src_zone", "level-2"),
            ("src_priority", "high"),
            ("dest_category", "plc"),
            ("dest_zone", "cell-3"),
            ("dest_priority", "critical"),
            ("priority", "critical"),
        ];
        for (field, value) in want {
            assert_eq!(
                fields.get(field).map(Vec::as_slice),
                Some([value.to_owned()].as_slice()),
                "{sourcetype}: {field}"
            );
        }
    }
}

#[test]
fn user_is_left_unset_on_every_sourcetype() {
    // A shared placeholder (the CIM's "unknown") would make every OT alert one risk object in
    // Enterprise Security.
    let props = read_conf("props.conf");
    for event in corpus() {
        for sourcetype in sourcetypes_of(&event) {
            let fields = search_time(&props, sourcetype, &event);
            assert!(
                !fields.contains_key("user"),
                "{sourcetype}: {:?}",
                fields.get("user")
            );
        }
    }
}

#[test]
fn hec_input_template_is_disabled_and_asks_for_indexer_acknowledgement() {
    assert!(
        !ta_dir().join("default/inputs.conf").exists(),
        "Splunk Cloud refuses an app that defines a HEC token"
    );
    let conf = parse_conf(&ta_dir().join("README/inputs.conf.example"));
    assert_eq!(conf.len(), 1);
    let (name, settings) = &conf[0];
    assert!(name.starts_with("http://"), "{name}");
    assert_eq!(setting(settings, "disabled"), "1");
    assert_eq!(setting(settings, "useACK"), "1");
    assert_eq!(setting(settings, "sourcetype"), "icsfwd:alert");
    let index = setting(settings, "index");
    assert!(
        setting(settings, "indexes")
            .split(',')
            .any(|i| i.trim() == index)
    );
    assert!(!setting(settings, "token").is_empty());
}
