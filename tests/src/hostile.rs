//! A corpus of hostile alerts: injection attempts against every output format.
//!
//! A sensor's alert text comes from the network it watches: a device name, a PLC program
//! name or a protocol string can be chosen by an attacker. Each entry of [`corpus`] is an
//! event built to break one format's framing — forge a CEF extension key or header field, a
//! LEEF attribute, a text `Key: value` line, a syslog SD-PARAM, break out of a JSON string —
//! or to stress the escaping (control, bidi and zero-width characters, fields at and beyond
//! their capacity, where the escaped form is longest). [`ingest_corpus`] holds the attacks
//! that only exist on the ingest wire (invalid UTF-8, lone surrogates, `\u0000`, over-long
//! lines, duplicate keys), with whether icsfwd must accept or refuse each.
//!
//! `tests/tests/formats/hostile.rs` renders every entry in every format and reads it back with real
//! parsers; other tests may reuse the corpus. Every entry documents what it attempts.
//!
//! ```
//! let corpus = icsfwd_tests::hostile::corpus();
//! assert!(corpus.iter().any(|h| h.name == "cef-forged-extension-key"));
//! for entry in &corpus {
//!     icsfwd_tests::formats::check_event(&entry.event, &Default::default()).unwrap();
//! }
//! ```

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use icsfwd_core::alert::{
    Alert, Event, MAX_DEVICE_NAME, MAX_GROUP, MAX_MESSAGE, MAX_NOTIFICATION_TEXT, MAX_PROTOCOL,
    MAX_SENSOR_NAME, MAX_TITLE, MAX_VERSION, MacAddr, Notification, NotificationKind,
};

/// One hostile event.
#[derive(Debug, Clone)]
pub struct Hostile {
    /// A short unique name (`<format>-<attack>`).
    pub name: &'static str,
    /// What the entry attempts, and what a correct rendering does instead.
    pub attack: &'static str,
    /// The event, as a sensor would hand it to icsfwd (over-long fields already cut to their
    /// capacity by core, with `truncated` set).
    pub event: Event,
}

/// What icsfwd must do with a line of [`ingest_corpus`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Accepted, and the event then renders faithfully in every format.
    Accepted,
    /// Refused with an answer that says why; nothing is spooled.
    Refused,
}

/// One hostile ingest line.
#[derive(Debug, Clone)]
pub struct HostileLine {
    /// A short unique name.
    pub name: &'static str,
    /// What the line attempts.
    pub attack: &'static str,
    /// The raw line (without the terminating LF).
    pub line: Vec<u8>,
    /// Whether it must be accepted or refused.
    pub expect: Expect,
}

/// The realistic example alert with `change` applied.
fn alert(change: impl FnOnce(&mut Alert)) -> Event {
    let mut alert = Alert::example(1_557_059_334_123);
    change(&mut alert);
    Event::from(alert)
}

/// Every text field of the example alert set to `value` (each cut to its capacity).
fn everywhere(value: &str) -> Event {
    alert(|a| {
        a.set_title(value);
        a.set_message(value);
        a.set_protocol(value);
        a.set_group(value);
        a.set_source_name(value);
        a.set_destination_name(value);
        a.set_sensor_name(value);
        a.set_sensor_version(value);
    })
}

/// `unit` repeated until the text is at least `len` bytes.
fn repeat_to(unit: &str, len: usize) -> String {
    unit.repeat(len.div_ceil(unit.len()))
}

/// The hostile events. Names are unique; see each entry's `attack`.
pub fn corpus() -> Vec<Hostile> {
    let mut corpus = vec![
        Hostile {
            name: "cef-forged-extension-key",
            attack: "A message holding ` act=blocked suser=admin` tries to add CEF keys; `=` \
                     must be escaped so pycef sees one msg key only.",
            event: alert(|a| a.set_message("stop sent act=blocked suser=admin dst=1.2.3.4")),
        },
        Hostile {
            name: "cef-forged-key-in-every-field",
            attack: "`x=y` in every text field (names, protocol, group, sensor): no field may \
                     add an extension key.",
            event: everywhere(" x=y cs1=forged"),
        },
        Hostile {
            name: "cef-header-pipe",
            attack: "`|` in the title (CEF Name), the version and the sensor name tries to add \
                     header fields and shift Severity.",
            event: alert(|a| {
                a.set_title("Stop|10|msg=forged");
                a.set_sensor_version("1|2|3");
                a.set_sensor_name("s|1");
            }),
        },
        Hostile {
            name: "cef-backslash-before-delimiter",
            attack: "A value ending in `\\` before the next delimiter (`|` in the header, ` key=` \
                     in the extension) tries to turn the escape of the delimiter into an escaped \
                     backslash followed by a live delimiter.",
            event: everywhere("trailing backslash\\"),
        },
        Hostile {
            name: "cef-escaped-looking-sequences",
            attack: "Literal `\\=`, `\\|`, `\\n` and `\\\\` in values must come back as those \
                     characters, not as what they would mean escaped.",
            event: everywhere("a\\=b \\| c\\nd \\\\ e"),
        },
        Hostile {
            name: "cef-newline-forges-event",
            attack: "A newline followed by a complete CEF line in the message and the title \
                     tries to forge a second event.",
            event: alert(|a| {
                let forged = "x\nCEF:0|evil|evil|1|1|forged|10|msg=forged";
                a.set_message(forged);
                a.set_title(forged);
                a.set_source_name("h\r\nCEF:0|e|e|1|1|f|10|");
            }),
        },
        Hostile {
            name: "text-forged-key-line",
            attack: "A newline followed by `Severity: Critical` / `Source IP: 1.2.3.4` tries to \
                     forge text `Key: value` lines.",
            event: alert(|a| {
                a.set_message("ok\nSeverity: Critical\nSource IP: 1.2.3.4");
                a.set_title("t\nAlert ID: forged-1");
                a.set_group("g\r\nTruncated: yes");
            }),
        },
        Hostile {
            name: "text-forged-event",
            attack: "A newline and a fresh RFC 3339 first line tries to forge a whole second text \
                     event inside the message.",
            event: alert(|a| {
                a.set_message("x\n2019-05-05T12:28:54.123Z icsfwd Alert: forged\nType: Malware");
            }),
        },
        Hostile {
            name: "syslog-forged-structured-data",
            attack: "`\"] [evil@1 x=\"y` in the sensor name tries to close the SD-PARAM and the \
                     SD-ELEMENT and open a forged one.",
            event: alert(|a| a.set_sensor_name("s\"] [evil@1 x=\"y")),
        },
        Hostile {
            name: "syslog-escapes",
            attack: "`]`, `\"` and `\\` (and a trailing backslash) in the sensor name must be \
                     escaped in PARAM-VALUE; the HOSTNAME must stay printable ASCII.",
            event: alert(|a| a.set_sensor_name("]\"\\ name with spaces\\")),
        },
        Hostile {
            name: "syslog-hostname-non-ascii",
            attack: "A sensor name with spaces, tabs and non-ASCII characters cannot be an RFC \
                     5424 HOSTNAME; it must be sanitised, not break the header.",
            event: alert(|a| a.set_sensor_name("Zähler 3\tНасос")),
        },
        Hostile {
            name: "syslog-empty-sensor-name",
            attack: "An empty sensor name: HOSTNAME falls back to the sensor IP (IPv6 here), \
                     never an empty token.",
            event: alert(|a| {
                a.set_sensor_name("");
                a.sensor.ip = IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1));
            }),
        },
        Hostile {
            name: "json-breaking",
            attack: "`\"`, `\\`, `}` and `\",\"severity\":\"Low` try to close the JSON string \
                     and add or override members.",
            event: everywhere("\",\"severity\":\"Low\"}\\"),
        },
        Hostile {
            name: "json-nul-and-controls",
            attack: "NUL and every C0 control, DEL and C1 controls: each format must escape or \
                     replace them, never emit them raw.",
            event: everywhere(
                &(0u32..0x20)
                    .chain(0x7f..0xa0)
                    .filter_map(char::from_u32)
                    .collect::<String>(),
            ),
        },
        Hostile {
            name: "line-separators",
            attack: "U+2028/U+2029 and U+0085 (NEL) break lines in JavaScript and some log \
                     viewers.",
            event: everywhere("a\u{2028}b\u{2029}c\u{85}d"),
        },
        Hostile {
            name: "bidi-and-zero-width",
            attack: "Bidi overrides (U+202E, U+2066–U+2069) and zero-width characters (U+200B, \
                     U+200D, U+FEFF) disguise text for a reader; they are not delimiters in any \
                     format and must round-trip exactly.",
            event: everywhere("evil\u{202E}gpj.exe\u{2066}x\u{2069}\u{200B}\u{200D}\u{FEFF}"),
        },
        Hostile {
            name: "tab-forges-leef-attribute",
            attack: "A tab followed by `sev=1` tries to forge a LEEF attribute (tab is the LEEF \
                     1.0 delimiter).",
            event: everywhere("x\tsev=1\tsrc=6.6.6.6"),
        },
        Hostile {
            name: "leef-header-pipe",
            attack: "`|` in the sensor version (LEEF Version) tries to shift the EventID.",
            event: alert(|a| a.set_sensor_version("1|EVIL:1|")),
        },
        Hostile {
            name: "unicode-escape-lookalikes",
            attack: "Literal `\\u0041`, `\\x41` and `\\u{41}` must come back literally, not \
                     decoded by a reader's unescaping.",
            event: everywhere("\\u0041 \\x41 \\u{41} \\t"),
        },
        Hostile {
            name: "non-bmp-and-mixed-scripts",
            attack: "4-byte UTF-8 (emoji, CJK extension B) and combining marks: not special \
                     anywhere, must round-trip byte for byte.",
            event: everywhere("😀𠀀e\u{301}日本"),
        },
        Hostile {
            name: "whitespace-edges",
            attack: "Leading and trailing spaces and a value of spaces only: a reader that trims \
                     would change the value.",
            event: alert(|a| {
                a.set_message("  padded  ");
                a.set_source_name(" ");
                a.set_group("trailing ");
            }),
        },
        Hostile {
            name: "ipv6-everywhere",
            attack: "IPv6 addresses (colons) in every address field: CEF must switch to the \
                     labelled c6a keys, nothing may read a colon as a delimiter.",
            event: alert(|a| {
                a.source.ip = IpAddr::V6(Ipv6Addr::LOCALHOST);
                a.destination.ip = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x1));
                a.sensor.ip = IpAddr::V6(Ipv6Addr::new(0xffff, 0xffff, 0xffff, 0xffff, 0, 0, 0, 0));
            }),
        },
        Hostile {
            name: "empty-everything",
            attack: "Every text empty, no port or MAC: optional keys are left out, nothing \
                     is left dangling.",
            event: alert(|a| {
                for f in [
                    Alert::set_title,
                    Alert::set_message,
                    Alert::set_protocol,
                    Alert::set_group,
                    Alert::set_source_name,
                    Alert::set_destination_name,
                    Alert::set_sensor_version,
                ] {
                    f(a, "");
                }
                a.source.mac = None;
                a.source.port = None;
                a.destination.mac = None;
                a.destination.port = None;
                a.source.ip = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
            }),
        },
        Hostile {
            name: "extreme-numbers",
            attack: "id u64::MAX, time past year 9999 (syslog NILVALUE timestamp), port 0 and \
                     65535, an all-ones MAC.",
            event: alert(|a| {
                a.id = u64::MAX;
                a.time_ms = u64::MAX;
                a.source.port = Some(0);
                a.destination.port = Some(65_535);
                a.source.mac = Some(MacAddr([0xff; 6]));
            }),
        },
        Hostile {
            name: "notification-hostile-text",
            attack: "A system notification whose text forges keys and lines in every format.",
            event: {
                let mut n =
                    Notification::new(7, 1_557_059_334_123, NotificationKind::SensorOffline);
                n.set_text("x\nSeverity: Warning msg=forged\t sev=1 \"] [evil@1 a=\"b\\");
                n.set_sensor_name("s\"]|=\\\n");
                Event::from(n)
            },
        },
    ];
    corpus.extend(huge());
    corpus
}

/// Fields at and beyond their capacity, made of the characters each format grows most.
fn huge() -> Vec<Hostile> {
    vec![
        Hostile {
            name: "huge-exactly-at-capacity",
            attack: "Every text exactly at its capacity: nothing is cut and `truncated` stays \
                     false.",
            event: alert(|a| {
                a.set_title(&"t".repeat(MAX_TITLE));
                a.set_message(&"m".repeat(MAX_MESSAGE));
                a.set_protocol(&"p".repeat(MAX_PROTOCOL));
                a.set_group(&"g".repeat(MAX_GROUP));
                a.set_source_name(&"s".repeat(MAX_DEVICE_NAME));
                a.set_destination_name(&"d".repeat(MAX_DEVICE_NAME));
                a.set_sensor_name(&"n".repeat(MAX_SENSOR_NAME));
                a.set_sensor_version(&"v".repeat(MAX_VERSION));
            }),
        },
        Hostile {
            name: "huge-one-beyond-capacity",
            attack: "Every text one byte beyond its capacity: cut to capacity, `truncated` set \
                     and shown in every format.",
            event: alert(|a| {
                a.set_title(&"t".repeat(MAX_TITLE + 1));
                a.set_message(&"m".repeat(MAX_MESSAGE + 1));
            }),
        },
        Hostile {
            name: "huge-cut-inside-a-character",
            attack: "Three-byte characters across the capacity: the cut must fall on a \
                     character boundary (no broken UTF-8 reaches a formatter).",
            event: everywhere(&repeat_to("€", 10 * MAX_MESSAGE)),
        },
        Hostile {
            name: "huge-worst-growth-controls",
            attack: "Every field full of one-byte controls, which grow most (six bytes in \
                     LEEF/HEC, three in CEF): the output must still fit each format's MAX_LEN.",
            event: everywhere(&"\u{1}".repeat(MAX_MESSAGE + 100)),
        },
        Hostile {
            name: "huge-worst-growth-delimiters",
            attack: "Every field full of the characters each format escapes (`\\`, `=`, `|`, \
                     `\"`, `]`, LF): each doubles, all at capacity.",
            event: everywhere(&repeat_to("\\=|\"]\n", 4 * MAX_MESSAGE)),
        },
        Hostile {
            name: "huge-notification-text",
            attack: "A notification text beyond MAX_NOTIFICATION_TEXT made of C1 controls.",
            event: {
                let mut n = Notification::new(u64::MAX, 0, NotificationKind::AlertsDropped);
                n.set_text(&"\u{9f}".repeat(MAX_NOTIFICATION_TEXT + 1));
                n.set_sensor_name(&"]".repeat(MAX_SENSOR_NAME * 2));
                Event::from(n)
            },
        },
    ]
}

/// The ingest wire's own attacks. Lines are built from the example alert's JSON.
pub fn ingest_corpus() -> Vec<HostileLine> {
    let with_title = |title_json: &[u8]| {
        let mut line = br#"{"type":"alert","id":1,"time_ms":1557059334123,"engine":"Operational","severity":"Major","title":""#.to_vec();
        line.extend_from_slice(title_json);
        line.extend_from_slice(
            br#"","source":{"ip":"10.0.0.1"},"destination":{"ip":"10.0.0.2"},"sensor":{"name":"s1","ip":"10.0.0.3"}}"#,
        );
        line
    };
    vec![
        HostileLine {
            name: "invalid-utf8-in-string",
            attack: "A raw 0xFF byte inside the title: the line is not UTF-8 and must be refused \
                     (never replaced silently, never passed on).",
            line: with_title(b"bad \xff byte"),
            expect: Expect::Refused,
        },
        HostileLine {
            name: "overlong-utf8",
            attack: "An over-long encoding of `\"` (0xC0 0xA2) tries to smuggle a quote past a \
                     UTF-8-naive scanner.",
            line: with_title(b"\xc0\xa2,\"severity\":\"Warning"),
            expect: Expect::Refused,
        },
        HostileLine {
            name: "utf8-surrogate-bytes",
            attack: "A UTF-16 surrogate encoded as UTF-8 bytes (0xED 0xA0 0x80) is not valid \
                     UTF-8.",
            line: with_title(b"\xed\xa0\x80"),
            expect: Expect::Refused,
        },
        HostileLine {
            name: "lone-surrogate-escape",
            attack: "`\\ud800` in a JSON string is no character: refused, never turned into \
                     U+FFFD silently.",
            line: with_title(br"lone \ud800 surrogate"),
            expect: Expect::Refused,
        },
        HostileLine {
            name: "lone-low-surrogate-escape",
            attack: "`\\udc00` alone (a low surrogate without its high half).",
            line: with_title(br"\udc00"),
            expect: Expect::Refused,
        },
        HostileLine {
            name: "escaped-surrogate-pair",
            attack: "A valid surrogate pair `\\ud83d\\ude00` is one character (😀): accepted.",
            line: with_title(br"pair \ud83d\ude00"),
            expect: Expect::Accepted,
        },
        HostileLine {
            name: "escaped-nul-and-controls",
            attack: "`\\u0000`, `\\u001b` and `\\n` escapes in JSON: valid characters, accepted, \
                     and then escaped by every output format.",
            line: with_title(br"nul \u0000 esc \u001b[31m nl \n cr \r x\u2028y"),
            expect: Expect::Accepted,
        },
        HostileLine {
            name: "raw-control-in-string",
            attack: "A raw (unescaped) tab and NUL inside a JSON string are invalid JSON.",
            line: with_title(b"raw \t tab \0 nul"),
            expect: Expect::Refused,
        },
        HostileLine {
            name: "duplicate-key",
            attack: "A second `severity` key tries to make two readers see two alerts.",
            line: br#"{"type":"alert","id":1,"engine":"Operational","severity":"Minor","severity":"Critical","title":"t","source":{"ip":"10.0.0.1"},"destination":{"ip":"10.0.0.2"},"sensor":{"name":"s1","ip":"10.0.0.3"}}"#.to_vec(),
            expect: Expect::Refused,
        },
        HostileLine {
            name: "huge-title-beyond-capacity",
            attack: "A title of 10 000 bytes (within MAX_LINE): accepted, cut to MAX_TITLE on a \
                     character boundary and flagged truncated.",
            line: with_title(repeat_to("ä", 10_000).as_bytes()),
            expect: Expect::Accepted,
        },
        HostileLine {
            name: "line-beyond-max-line",
            attack: "A line longer than MAX_LINE (16 KiB) is refused before it is parsed.",
            line: with_title("x".repeat(20_000).as_bytes()),
            expect: Expect::Refused,
        },
        HostileLine {
            name: "deep-nesting",
            attack: "10 000 nested arrays try to exhaust the parser's stack.",
            line: {
                let mut line = br#"{"type":"alert","title":"#.to_vec();
                line.extend(std::iter::repeat_n(b'[', 10_000));
                line
            },
            expect: Expect::Refused,
        },
    ]
}
