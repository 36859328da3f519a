//! `[metrics]`: absent means off; a loopback address or a Unix socket is accepted with its
//! defaults; a non-loopback address, a name, a relative socket path and a `socket_mode`
//! without a socket are each refused with the key, the line, the column and a fix.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use crate::common;

use std::net::SocketAddr;
use std::path::PathBuf;

use common::{BASE, parse};
use icsfwd::config::MetricsListen;

#[test]
fn metrics_are_off_without_the_section_and_on_loopback_9464_with_it() {
    assert_eq!(parse(BASE).unwrap().metrics, None);
    let config = parse(&format!("{BASE}[metrics]\n")).unwrap();
    let want: SocketAddr = "127.0.0.1:9464".parse().unwrap();
    assert_eq!(config.metrics.unwrap().listen, MetricsListen::Tcp(want));
}

#[test]
fn loopback_addresses_and_unix_sockets_are_accepted() {
    for (listen, want) in [
        (
            r#"listen = "[::1]:9100""#,
            MetricsListen::Tcp("[::1]:9100".parse().unwrap()),
        ),
        (
            r#"listen = "127.0.0.2:0""#,
            MetricsListen::Tcp("127.0.0.2:0".parse().unwrap()),
        ),
        (
            r#"listen = "unix:/run/icsfwd/metrics.sock""#,
            MetricsListen::Unix {
                path: PathBuf::from("/run/icsfwd/metrics.sock"),
                mode: 0o660,
            },
        ),
        (
            "listen = \"unix:/run/icsfwd/m.sock\"\nsocket_mode = \"0640\"",
            MetricsListen::Unix {
                path: PathBuf::from("/run/icsfwd/m.sock"),
                mode: 0o640,
            },
        ),
    ] {
        let text = format!("{BASE}[metrics]\n{listen}\n");
        let config = parse(&text).unwrap_or_else(|p| panic!("{listen}: {p}"));
        assert_eq!(config.metrics.unwrap().listen, want, "{listen}");
    }
}

#[test]
fn each_bad_metrics_setting_is_refused_with_its_place_and_a_fix() {
    // (the [metrics] body, key, column, part of the message, part of the fix); the body's
    // first line is line 15 of the file (BASE has 13, then "[metrics]").
    let bad = [
        (
            r#"listen = "0.0.0.0:9464""#,
            "metrics.listen",
            10,
            "0.0.0.0:9464 is not a loopback address: the metrics endpoint has neither TLS nor \
             authentication",
            "listen on 127.0.0.1 or [::1]",
        ),
        (
            r#"listen = "10.20.0.5:9464""#,
            "metrics.listen",
            10,
            "is not a loopback address",
            "TLS reverse proxy",
        ),
        (
            r#"listen = "localhost:9464""#,
            "metrics.listen",
            10,
            "\"localhost:9464\" is not an address and port, nor unix:<path>",
            "host names are not resolved",
        ),
        (
            r#"listen = "unix:run/metrics.sock""#,
            "metrics.listen",
            10,
            "unix:run/metrics.sock is not an absolute path",
            "unix:/run/icsfwd/metrics.sock",
        ),
        (
            "listen = \"127.0.0.1:9464\"\nsocket_mode = \"0660\"",
            "metrics.socket_mode",
            15,
            "applies to a unix socket only",
            "remove socket_mode",
        ),
        (
            "listen = \"unix:/run/m.sock\"\nsocket_mode = 4096",
            "metrics.socket_mode",
            15,
            "is not a file mode",
            "0o660",
        ),
        ("port = 9464", "metrics.port", 1, "unknown key", ""),
    ];
    for (body, key, column, message, fix) in bad {
        let text = format!("{BASE}[metrics]\n{body}\n");
        let problems = parse(&text).expect_err(body);
        assert_eq!(problems.len(), 1, "{body}: {problems}");
        let p = problems.iter().next().unwrap();
        let line = 15 + body.lines().count() - 1;
        let line = if key == "metrics.socket_mode" {
            line
        } else {
            15
        };
        assert_eq!(
            (p.key.as_str(), p.line, p.column),
            (key, line, column),
            "{p}"
        );
        assert!(p.message.contains(message), "{p}");
        assert!(p.fix.contains(fix) && !p.fix.is_empty(), "{p}");
        assert!(
            p.to_string()
                .starts_with(&format!("icsfwd.toml:{line}:{column}: {key}: ")),
            "{p}"
        );
    }
}
