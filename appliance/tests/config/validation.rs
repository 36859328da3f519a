//! Bad configurations, each refused with the key, the line and a message that says what is
//! wrong; and good ones, accepted with their defaults.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use crate::common;

use std::time::Duration;

use common::{BASE, parse};
use icsfwd::config::{LogFormat, OnFull, Problems};
use icsfwd::testing::destination::DestinationKind;
use icsfwd::testing::destination::http::Scheme;
use icsfwd::testing::destination::syslog::{Confirm, Transport};

/// `(what it shows, text appended to BASE, key, line, message part)`: each must be the one and
/// only problem reported.
const BAD: &[(&str, &str, &str, usize, &str)] = &[
    (
        "unknown key in a rule",
        "colour = 1\n",
        "rule[0].colour",
        14,
        "unknown key `colour`",
    ),
    (
        "unknown section",
        "[database]\nurl = 1\n",
        "database",
        14,
        "unknown section or key `database`",
    ),
    ("TOML syntax error", "[spool\n", "", 14, "TOML syntax"),
    (
        "wrong type",
        "[log]\nlevel = 3\n",
        "log.level",
        15,
        "wrong type",
    ),
    (
        "unknown log level",
        "[log]\nlevel = \"loud\"\n",
        "log.level",
        15,
        "unknown log level",
    ),
    (
        "unknown log format",
        "[log]\nlevel = \"info\"\nformat = \"xml\"\n",
        "log.format",
        16,
        "unknown log format \"xml\"",
    ),
    (
        "size without a known unit",
        "[spool]\nmax_bytes = \"12 parsecs\"\n",
        "spool.max_bytes",
        15,
        "is not a size",
    ),
    (
        "unknown on_full",
        "[spool]\non_full = \"drop\"\n",
        "spool.on_full",
        15,
        "unknown on_full \"drop\"",
    ),
    (
        "spool smaller than two segments",
        "[spool]\nmax_bytes = \"1 MiB\"\nsegment_bytes = \"1 MiB\"\n",
        "spool.max_bytes",
        15,
        "less than two segments",
    ),
    (
        "commit window without a unit",
        "[spool]\ncommit_window = 5\n",
        "spool.commit_window",
        15,
        "5 has no unit",
    ),
    (
        "commit window beyond a second",
        "[spool]\ncommit_window = \"2s\"\n",
        "spool.commit_window",
        15,
        "out of range",
    ),
    (
        "relative spool dir",
        "[spool]\ndir = \"spool\"\n",
        "spool.dir",
        15,
        "not an absolute path",
    ),
    (
        "ingest on a non-loopback address",
        "[ingest]\ntcp = \"0.0.0.0:5170\"\n",
        "ingest.tcp",
        15,
        "not a loopback address",
    ),
    (
        "world-writable ingest socket",
        "[ingest]\nsocket_mode = 0o666\n",
        "ingest.socket_mode",
        15,
        "every local user",
    ),
    (
        "port zero",
        "[[destination]]\nname = \"b\"\nkind = \"splunk\"\nhost = \"h\"\nport = 0\ntoken_env = \"TOKEN\"\n",
        "destination[1].port",
        18,
        "0 is not a TCP/UDP port",
    ),
    (
        "port above 65535",
        "[[destination]]\nname = \"b\"\nkind = \"syslog\"\nhost = \"h\"\nport = 70000\n",
        "destination[1].port",
        18,
        "70000 is not a TCP/UDP port",
    ),
    (
        "rule naming an unknown destination",
        "[[rule]]\nname = \"r2\"\nactions = [\"hec\", \"nowhere\"]\n",
        "rule[1].actions[1]",
        16,
        "no destination is named \"nowhere\"",
    ),
    (
        "rule with no actions",
        "[[rule]]\nname = \"r2\"\nactions = []\n",
        "rule[1].actions",
        16,
        "would send nowhere",
    ),
    (
        "unknown severity",
        "min_severity = \"huge\"\n",
        "rule[0].min_severity",
        14,
        "unknown severity \"huge\"",
    ),
    (
        "unknown engine",
        "engines = [\"malware\", \"magic\"]\n",
        "rule[0].engines[1]",
        14,
        "unknown engine \"magic\"",
    ),
    (
        "protocols neither all nor a list",
        "protocols = \"modbus\"\n",
        "rule[0].protocols",
        14,
        "neither \"all\" nor a list",
    ),
    (
        "unknown destination kind",
        "[[destination]]\nname = \"x\"\nkind = \"kafka\"\n",
        "destination[1].kind",
        16,
        "unknown destination kind \"kafka\"",
    ),
    (
        "duplicate destination name",
        "[[destination]]\nname = \"hec\"\nkind = \"hec\"\nurls = [\"https://b:8088\"]\ntoken_env = \"TOKEN\"\n",
        "destination[1].name",
        15,
        "\"hec\" is used twice",
    ),
    (
        "destination name with a slash",
        "[[destination]]\nname = \"../x\"\nkind = \"syslog\"\nhost = \"h\"\n",
        "destination[1].name",
        15,
        "has characters other than",
    ),
    (
        "key of another kind",
        "[[destination]]\nname = \"s\"\nkind = \"syslog\"\nhost = \"h\"\ntoken_env = \"TOKEN\"\n",
        "destination[1].token_env",
        18,
        "does not apply to a syslog destination",
    ),
    (
        "duration without a unit",
        "[[destination]]\nname = \"s\"\nkind = \"syslog\"\nhost = \"h\"\nconnect_timeout = 30\n",
        "destination[1].connect_timeout",
        18,
        "30 has no unit",
    ),
    (
        "TLS key on plain syslog",
        "[[destination]]\nname = \"s\"\nkind = \"syslog\"\nhost = \"h\"\nverify = false\n",
        "destination[1].verify",
        18,
        "applies only to syslog over TLS",
    ),
    (
        "TLS key on plain RELP",
        "[[destination]]\nname = \"s\"\nkind = \"syslog\"\nhost = \"h\"\ntransport = \"relp\"\nca_file = \"/x\"\n",
        "destination[1].ca_file",
        19,
        "applies only to syslog over TLS",
    ),
    (
        "unknown syslog transport",
        "[[destination]]\nname = \"s\"\nkind = \"syslog\"\nhost = \"h\"\ntransport = \"relp+tls\"\n",
        "destination[1].transport",
        18,
        "unknown transport \"relp+tls\"",
    ),
    (
        "fixed level with a level map",
        "[[destination]]\nname = \"s\"\nkind = \"syslog\"\nhost = \"h\"\nlevel = \"alert\"\nlevel_map = { major = \"error\" }\n",
        "destination[1].level_map",
        19,
        "level_map is set with a fixed level",
    ),
    (
        "unknown syslog level in the map",
        "[[destination]]\nname = \"s\"\nkind = \"syslog\"\nhost = \"h\"\nlevel_map = { major = \"loud\" }\n",
        "destination[1].level_map.major",
        18,
        "is not a syslog level",
    ),
    (
        "unknown facility",
        "[[destination]]\nname = \"s\"\nkind = \"syslog\"\nhost = \"h\"\nfacility = 24\n",
        "destination[1].facility",
        18,
        "is not a syslog facility",
    ),
    (
        "unknown syslog confirmation",
        "[[destination]]\nname = \"s\"\nkind = \"syslog\"\nhost = \"h\"\nconfirm = \"ack\"\n",
        "destination[1].confirm",
        18,
        "unknown confirmation",
    ),
    (
        "syslog confirmation over UDP",
        "[[destination]]\nname = \"s\"\nkind = \"syslog\"\nhost = \"h\"\ntransport = \"udp\"\n\
         confirm = \"write\"\n",
        "destination[1].confirm",
        19,
        "applies only to syslog over tcp or tls",
    ),
    (
        "confirm on a HEC destination",
        "[[destination]]\nname = \"s\"\nkind = \"hec\"\nurls = [\"https://h\"]\ntoken = \"t\"\n\
         confirm = \"write\"\n",
        "destination[1].confirm",
        19,
        "does not apply to a hec destination",
    ),
    (
        "HEC URL without a scheme",
        "[[destination]]\nname = \"h2\"\nkind = \"hec\"\nurls = [\"https://a:8088\", \"b:8088\"]\ntoken_env = \"TOKEN\"\n",
        "destination[1].urls[1]",
        17,
        "must start with https://",
    ),
    (
        "HEC channel not a GUID",
        "[[destination]]\nname = \"h2\"\nkind = \"hec\"\nurls = [\"https://a\"]\ntoken_env = \"TOKEN\"\nchannel = \"abc\"\n",
        "destination[1].channel",
        19,
        "is not a GUID",
    ),
    (
        "ack deadline without ack",
        "[[destination]]\nname = \"h2\"\nkind = \"hec\"\nurls = [\"https://a\"]\ntoken_env = \"TOKEN\"\nack_deadline = \"60s\"\n",
        "destination[1].ack_deadline",
        19,
        "ack_deadline is set but ack is not",
    ),
    (
        "HEC requests in flight out of range",
        "[[destination]]\nname = \"h2\"\nkind = \"hec\"\nurls = [\"https://a\"]\ntoken_env = \"TOKEN\"\nrequests_in_flight = 9\n",
        "destination[1].requests_in_flight",
        19,
        "9 is out of range",
    ),
    (
        "HEC requests in flight zero",
        "[[destination]]\nname = \"h2\"\nkind = \"hec\"\nurls = [\"https://a\"]\ntoken_env = \"TOKEN\"\nrequests_in_flight = 0\n",
        "destination[1].requests_in_flight",
        19,
        "0 is out of range",
    ),
    (
        "HEC without a token",
        "[[destination]]\nname = \"h2\"\nkind = \"hec\"\nurls = [\"https://a\"]\n",
        "destination[1].token",
        14,
        "is missing",
    ),
    (
        "unset environment variable",
        "[[destination]]\nname = \"h2\"\nkind = \"hec\"\nurls = [\"https://a\"]\ntoken_env = \"NOT_SET\"\n",
        "destination[1].token_env",
        18,
        "environment variable NOT_SET is not set",
    ),
    (
        "two sources for one secret",
        "[[destination]]\nname = \"h2\"\nkind = \"hec\"\nurls = [\"https://a\"]\ntoken_env = \"TOKEN\"\ntoken_file = \"t\"\n",
        "destination[1].token_file",
        19,
        "more than one of token, token_file, token_env",
    ),
    (
        "bearer auth with a username",
        "[[destination]]\nname = \"sp\"\nkind = \"splunk\"\nhost = \"h\"\nauth = \"bearer\"\nusername = \"u\"\npassword_env = \"PASSWORD\"\n",
        "destination[1].auth",
        18,
        "do not fit the authentication method",
    ),
    (
        "host with a scheme",
        "[[destination]]\nname = \"sp\"\nkind = \"splunk\"\nhost = \"https://h\"\ntoken_env = \"TOKEN\"\n",
        "destination[1].host",
        17,
        "is not a host name or address",
    ),
    (
        "client certificate without its key",
        "[[destination]]\nname = \"sp\"\nkind = \"splunk\"\nhost = \"h\"\ntoken_env = \"TOKEN\"\nclient_cert = \"/etc/hostname\"\n",
        "destination[1].client_cert",
        19,
        "client_cert is set without client_key",
    ),
    (
        "missing CA file",
        "[[destination]]\nname = \"sp\"\nkind = \"splunk\"\nhost = \"h\"\ntoken_env = \"TOKEN\"\nca_file = \"/nonexistent/ca.pem\"\n",
        "destination[1].ca_file",
        19,
        "cannot read /nonexistent/ca.pem",
    ),
    (
        "retry_min above retry_max",
        "[[destination]]\nname = \"s\"\nkind = \"syslog\"\nhost = \"h\"\nretry_min = \"10m\"\nretry_max = \"1m\"\n",
        "destination[1].retry_min",
        18,
        "is longer than retry_max",
    ),
    (
        "exclusion without criteria",
        "[[exclusion]]\nname = \"x\"\n",
        "exclusion[0]",
        14,
        "would suppress every alert",
    ),
    (
        "exclusion with a bad subnet",
        "[[exclusion]]\nname = \"x\"\naddresses = [\"10.0.0.0/8\", \"10.0.0.0/33\"]\n",
        "exclusion[0].addresses[1]",
        16,
        "bad address",
    ),
    (
        "exclusion window ending before it starts",
        "[[exclusion]]\nname = \"x\"\nstart = 2026-12-01T04:00:00Z\nend = 2026-12-01T02:00:00Z\n",
        "exclusion[0].end",
        17,
        "time window ends",
    ),
    (
        "exclusion window with one end",
        "[[exclusion]]\nname = \"x\"\nstart = 2026-12-01T04:00:00Z\n",
        "exclusion[0].start",
        16,
        "start is set without end",
    ),
    (
        "exclusion time without an offset",
        "[[exclusion]]\nname = \"x\"\nstart = 2026-12-01T04:00:00\nend = 2026-12-01T05:00:00Z\n",
        "exclusion[0].start",
        16,
        "not a date and time with an offset",
    ),
];

fn only_problem(problems: &Problems) -> &icsfwd::config::Problem {
    assert_eq!(problems.len(), 1, "expected one problem, got:\n{problems}");
    problems.iter().next().unwrap()
}

#[test]
fn each_bad_config_is_refused_with_its_key_line_and_message() {
    assert!(parse(BASE).is_ok(), "{}", parse(BASE).unwrap_err());
    for (what, extra, key, line, message) in BAD {
        let text = format!("{BASE}{extra}");
        let problems = parse(&text).expect_err(what);
        let p = only_problem(&problems);
        assert_eq!(p.key, *key, "{what}: {p}");
        assert_eq!(p.line, *line, "{what}: {p}");
        assert!(p.message.contains(message), "{what}: {p}");
        assert!(!p.fix.is_empty(), "{what}: {p}");
        let shown = p.to_string();
        let place = format!("icsfwd.toml:{line}:");
        assert!(shown.starts_with(&place), "{what}: {shown}");
    }
}

#[test]
fn every_problem_is_listed_not_only_the_first() {
    let text = format!(
        "{BASE}colour = 1\nmin_severity = \"huge\"\n[spool]\non_full = \"drop\"\nmax_byte = 1\n\
         [[destination]]\nname = \"x\"\nkind = \"syslog\"\nhost = \"h\"\nport = 0\nsize = 3\n"
    );
    let problems = parse(&text).unwrap_err();
    let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "rule[0].colour",
            "rule[0].min_severity",
            "spool.on_full",
            "spool.max_byte",
            "destination[1].port",
            "destination[1].size",
        ],
        "{problems}"
    );
    // In file order, with their lines.
    let lines: Vec<usize> = problems.iter().map(|p| p.line).collect();
    assert_eq!(lines, [14, 15, 17, 18, 23, 24]);
}

#[test]
fn a_column_counts_characters_from_one() {
    let problems = parse(&format!("{BASE}min_severity   = \"huge\"\n")).unwrap_err();
    assert_eq!(only_problem(&problems).column, 18);
}

#[test]
fn missing_sections_are_named() {
    let problems = parse("").unwrap_err();
    let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(keys, ["sensor", "destination", "rule"], "{problems}");
    assert!(problems.iter().all(|p| p.line == 1 && p.column == 1));
}

#[test]
fn a_required_key_missing_is_reported_at_its_table() {
    let problems = parse("[sensor]\nname = \"s\"\n").unwrap_err();
    let p = problems.iter().find(|p| p.key == "sensor.ip").unwrap();
    assert_eq!((p.line, p.message.as_str()), (1, "is missing"));
}

fn repeated(section: &str, n: usize) -> String {
    (0..n)
        .map(|i| section.replace("{i}", &i.to_string()))
        .collect()
}

#[test]
fn more_rules_than_the_core_holds_is_an_error_naming_the_capacity() {
    let rules = repeated("[[rule]]\nname = \"r{i}\"\nactions = [\"hec\"]\n", 32);
    let text = format!("{BASE}{rules}");
    let problems = parse(&text).unwrap_err();
    let p = only_problem(&problems);
    assert_eq!(p.key, "rule[32]");
    assert!(p.message.contains("too many rules (at most 32)"), "{p}");
}

#[test]
fn more_destinations_than_a_destination_set_holds_is_an_error_naming_the_capacity() {
    let extra = repeated(
        "[[destination]]\nname = \"d{i}\"\nkind = \"syslog\"\nhost = \"h\"\n",
        32,
    );
    let problems = parse(&format!("{BASE}{extra}")).unwrap_err();
    let p = only_problem(&problems);
    assert_eq!(p.key, "destination[32]");
    assert!(p.message.contains("at most 32"), "{p}");
}

#[test]
fn defaults_fill_what_is_left_out() {
    let config = parse(BASE).unwrap();
    assert_eq!(config.sensor.heartbeat_timeout, Duration::from_secs(300));
    assert_eq!(config.spool.dir.to_str(), Some("/var/lib/icsfwd/spool"));
    assert_eq!(config.spool.max_bytes, 1 << 30);
    assert_eq!(config.spool.on_full, OnFull::Refuse);
    assert_eq!(config.spool.commit_window, Duration::from_millis(5));
    assert_eq!(
        config.ingest.socket.to_str(),
        Some("/run/icsfwd/ingest.sock")
    );
    assert_eq!(config.ingest.socket_mode, 0o660);
    assert_eq!(config.ingest.tcp, None);
    let d = &config.destinations[0];
    assert!(d.tls.verify);
    assert_eq!(d.timeouts.connect, Duration::from_secs(10));
    assert_eq!(d.retry.max, Duration::from_secs(300));
    let DestinationKind::Hec(hec) = &d.kind else {
        panic!("{d:?}")
    };
    assert_eq!(hec.urls[0].port, 8088);
    assert_eq!(hec.urls[0].scheme, Scheme::Https);
    assert!(!hec.ack);
    assert_eq!(hec.batch.max_events, 500);
    assert_eq!(hec.requests_in_flight, 2);
    assert!(
        hec.in_flight_by_cores,
        "left out: lowered while HEC destinations share cores"
    );
    assert!(config.warnings().is_empty(), "{:?}", config.warnings());
}

#[test]
fn hec_requests_in_flight_are_read_from_one_to_eight() {
    for n in [1usize, 4, 8] {
        let text = format!(
            "{BASE}[[destination]]\nname = \"h2\"\nkind = \"hec\"\nurls = [\"https://a\"]\n\
             token_env = \"TOKEN\"\nrequests_in_flight = {n}\n"
        );
        let config = parse(&text).unwrap();
        let DestinationKind::Hec(hec) = &config.destinations[1].kind else {
            panic!()
        };
        assert_eq!(hec.requests_in_flight, n);
        assert!(!hec.in_flight_by_cores, "{n} set: kept whatever the cores");
    }
}

#[test]
fn splunk_defaults_are_port_8089_source_icsfwd_and_sourcetype_icsfwd_text() {
    let text = format!(
        "{BASE}[[destination]]\nname = \"sp\"\nkind = \"splunk\"\nhost = \"h\"\nusername = \"u\"\n\
         password_env = \"PASSWORD\"\n"
    );
    let config = parse(&text).unwrap();
    let DestinationKind::Splunk(s) = &config.destinations[1].kind else {
        panic!()
    };
    assert_eq!(
        (s.hosts[0].port, s.source.as_str(), s.sourcetype.as_str()),
        (8089, "icsfwd", "icsfwd:text")
    );
    assert!(matches!(
        &s.auth,
        icsfwd::testing::destination::splunk::Auth::Basic { username, password }
            if username == "u" && password.expose() == "env-password-VALUE-5678"
    ));
}

#[test]
fn syslog_over_tls_defaults_to_port_6514_and_a_fixed_level_applies_to_every_severity() {
    let text = format!(
        "{BASE}[[destination]]\nname = \"sl\"\nkind = \"syslog\"\nhost = \"h\"\ntransport = \"tls\"\n\
         level = \"alert\"\nfacility = \"local0\"\npayload = \"leef\"\n"
    );
    let config = parse(&text).unwrap();
    let d = &config.destinations[1];
    let DestinationKind::Syslog(s) = &d.kind else {
        panic!()
    };
    assert_eq!((s.hosts[0].port, s.transport), (6514, Transport::Tls));
    assert_eq!(
        s.confirm,
        Confirm::TcpAck,
        "at least once unless written otherwise"
    );
    let options = d.syslog_options().unwrap();
    assert_eq!(options.facility.code(), 16);
    for severity in icsfwd_core::alert::Severity::ALL {
        assert_eq!(options.level.get(severity).code(), 1);
    }
    assert_eq!(d.format(), icsfwd_core::format::Kind::Leef);
}

#[test]
fn syslog_confirm_write_is_the_documented_choice_and_tcp_ack_the_default() {
    for (written, want) in [
        ("", Confirm::TcpAck),
        ("confirm = \"tcp-ack\"\n", Confirm::TcpAck),
        ("confirm = \"write\"\n", Confirm::Write),
        ("confirm = \" Write \"\n", Confirm::Write),
    ] {
        let text = format!(
            "{BASE}[[destination]]\nname = \"sl\"\nkind = \"syslog\"\nhost = \"h\"\n{written}"
        );
        let config = parse(&text).unwrap();
        let DestinationKind::Syslog(s) = &config.destinations[1].kind else {
            panic!()
        };
        assert_eq!(s.confirm, want, "{written:?}");
        assert_eq!(
            want.as_str(),
            if want == Confirm::Write {
                "write"
            } else {
                "tcp-ack"
            }
        );
    }
}

#[test]
fn relp_transports_default_to_port_2514_take_the_tls_keys_over_tls_and_warn_in_plain() {
    let text = format!(
        "{BASE}[[destination]]\nname = \"r\"\nkind = \"syslog\"\nhost = \"h\"\ntransport = \"relp\"\n\
         [[destination]]\nname = \"rt\"\nkind = \"syslog\"\nhost = \"h\"\ntransport = \"RELP-TLS\"\n\
         verify = false\n"
    );
    let config = parse(&text).unwrap();
    let transports: Vec<(u16, Transport)> = config.destinations[1..]
        .iter()
        .map(|d| match &d.kind {
            DestinationKind::Syslog(s) => (s.hosts[0].port, s.transport),
            _ => panic!(),
        })
        .collect();
    assert_eq!(
        transports,
        [(2514, Transport::Relp), (2514, Transport::RelpTls)]
    );
    assert!(Transport::RelpTls.uses_tls() && Transport::Relp.is_relp());
    assert!(!Transport::Relp.uses_tls() && !Transport::Tls.is_relp());
    assert!(!config.destinations[2].tls.verify);
    let warnings = config.warnings().join("\n");
    assert!(
        warnings.contains("\"r\": syslog over relp: alerts cross the network unencrypted"),
        "{warnings}"
    );
    assert!(
        warnings.contains("\"rt\": TLS certificate verification is OFF"),
        "{warnings}"
    );
    assert!(!warnings.contains("\"rt\": syslog over"), "{warnings}");
    let unknown = parse(&format!(
        "{BASE}[[destination]]\nname = \"s\"\nkind = \"syslog\"\nhost = \"h\"\ntransport = \"x\"\n"
    ))
    .unwrap_err();
    let fix = &only_problem(&unknown).fix;
    assert!(fix.contains("\"relp\" or \"relp-tls\""), "{fix}");
}

#[test]
fn verify_false_and_plain_http_are_accepted_but_warned_about() {
    let text = BASE.replace(
        "https://127.0.0.1:8088\"]",
        "http://127.0.0.1:8088\"]\nverify = false",
    );
    let config = parse(&text).unwrap();
    assert!(!config.destinations[0].tls.verify);
    let warnings = config.warnings().join("\n");
    assert!(warnings.contains("plain http"), "{warnings}");
    let text = BASE.replace("token_env", "verify = false\ntoken_env");
    let warnings = parse(&text).unwrap().warnings().join("\n");
    assert!(warnings.contains("verification is OFF"), "{warnings}");
}

#[test]
fn the_log_format_is_journald_by_default_and_json_on_request() {
    assert_eq!(parse(BASE).unwrap().log.format, LogFormat::Journald);
    let config = parse(&format!("{BASE}[log]\nformat = \"JSON\"\n")).unwrap();
    assert_eq!(config.log.format, LogFormat::Json);
    let config = parse(&format!("{BASE}[log]\nformat = \"journald\"\n")).unwrap();
    assert_eq!(config.log.format, LogFormat::Journald);
}

#[test]
fn sizes_and_modes_take_both_spellings() {
    let text = format!(
        "{BASE}[spool]\nmax_bytes = 67108864\nsegment_bytes = \"8 MiB\"\n[ingest]\nsocket_mode = \"0640\"\n\
         tcp = \"[::1]:0\"\nmax_line_bytes = \"128 KiB\"\n"
    );
    let config = parse(&text).unwrap();
    assert_eq!(config.spool.max_bytes, 64 << 20);
    assert_eq!(config.spool.segment_bytes, 8 << 20);
    assert_eq!(config.ingest.socket_mode, 0o640);
    let off = parse(&format!("{BASE}[spool]\ncommit_window = \"0ms\"\n")).unwrap();
    assert_eq!(
        off.spool.commit_window,
        Duration::ZERO,
        "0 turns the window off"
    );
    assert_eq!(config.ingest.tcp.unwrap().to_string(), "[::1]:0");
    assert_eq!(config.ingest.max_line_bytes, 128 << 10);
    // The default is the one the ingest server applies when given no configuration.
    assert_eq!(
        parse(BASE).unwrap().ingest.max_line_bytes,
        icsfwd::ingest::schema::DEFAULT_MAX_LINE_BYTES
    );
}
