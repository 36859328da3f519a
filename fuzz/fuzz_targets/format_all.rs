//! Any event in, every format out: never a panic, always within `MAX_LEN`, and each output
//! passes a structural check of its format's escaping.
#![no_main]

use icsfwd_core::alert::Event;
use icsfwd_core::format::{self, Kind, SliceWriter, syslog};
use libfuzzer_sys::fuzz_target;

/// The keys a text event may have, in any order; a forged line would start with something else.
const TEXT_KEYS: [&str; 17] = [
    "Type",
    "Severity",
    "Source name",
    "Source IP",
    "Source MAC",
    "Source port",
    "Destination name",
    "Destination IP",
    "Destination MAC",
    "Destination port",
    "Protocol",
    "Alert group",
    "Message",
    "Sensor",
    "Sensor IP",
    "Alert ID",
    "Truncated",
];

fuzz_target!(|data: &[u8]| {
    // postcard is the spool's own encoding of an event, so every decodable input is an event
    // the appliance could hand to a formatter.
    let Ok(event) = postcard::from_bytes::<Event>(data) else {
        return;
    };
    let options = format::Options::default();
    let mut buf = vec![0u8; format::MAX_LEN.max(syslog::MAX_FRAMED_LEN)];
    for kind in Kind::ALL {
        let mut sink = SliceWriter::new(&mut buf);
        let n = format::write(kind, &event, &options, &mut sink).expect("fits MAX_LEN");
        assert!(n <= format::MAX_LEN);
        let out = std::str::from_utf8(sink.written()).expect("valid UTF-8");
        match kind {
            Kind::Hec => {
                let value: serde_json::Value = serde_json::from_str(out).expect("valid JSON");
                assert!(value.get("event").is_some());
            }
            Kind::Cef | Kind::Leef => assert!(!out.contains(['\n', '\r']), "raw line break"),
            Kind::Text => {
                let mut lines = out.lines();
                let _first = lines.next();
                for line in lines {
                    let key = line.split(": ").next().unwrap_or("");
                    assert!(TEXT_KEYS.contains(&key), "forged line {line:?}");
                }
            }
        }
    }
    for kind in syslog::Payload::KINDS {
        let syslog_options = syslog::Options {
            payload: syslog::Payload::of(kind, &options).expect("a syslog payload kind"),
            ..syslog::Options::default()
        };
        let mut sink = SliceWriter::new(&mut buf);
        let n = syslog::write_framed(&event, &syslog_options, &mut sink).expect("fits");
        assert!(n <= syslog::MAX_FRAMED_LEN);
        let out = sink.written();
        let space = out.iter().position(|&b| b == b' ').expect("length prefix");
        let len: usize = std::str::from_utf8(&out[..space]).unwrap().parse().unwrap();
        assert_eq!(len, out.len() - space - 1, "octet count matches");
        assert_eq!(out.get(space + 1), Some(&b'<'));
    }
});
