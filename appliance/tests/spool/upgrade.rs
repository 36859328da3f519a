//! Reliability S10 end to end: the binary of this release on a spool an earlier release wrote.
//!
//! - The golden spool of icsfwd 0.1 (`spool_fixtures/v1/`: segments, checkpoint, progress log
//!   and a dead-letter file; `spool_fixtures/golden.rs`) is copied and `icsfwd run` drains
//!   its backlog into the Splunk emulator over TLS: every record arrives exactly once, at the
//!   destination that was owed it, with every field as it was written; nothing the checkpoint
//!   or the progress log covers is sent again. `icsfwd deadletter list` then shows its dead
//!   letter and `icsfwd deadletter replay` delivers it.
//! - The same spool as a newer release would leave it (a record, or the checkpoint, of the
//!   next format version) makes `icsfwd run` exit 1 and `icsfwd spool verify` exit 2, each
//!   saying which version it found, which it reads and what to do — and neither changes a
//!   byte, a file or a time stamp in the spool directory.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use crate::e2e;
use crate::golden;
use crate::support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use e2e::{Shown, hec_destination, icsfwd, icsfwd_command, scratch, write_config_body};
use icsfwd_core::alert::Event;
use icsfwd_core::format::{SliceWriter, hec};
use icsfwd_core::record;
use icsfwd_sim::splunk::store::{Body, Filter};

/// The HEC index each golden destination writes to, so the emulator tells them apart.
const INDEXES: [&str; 2] = ["main", "ot"];

/// A copy of the golden spool as `<dir>/spool`, and a configuration naming its two
/// destinations (in order) as HEC destinations of the emulator, `dest-0` into index `main`,
/// `dest-1` into `ot`.
fn golden_service(dir: &Path, tls: &support::Tls, hec_port: u16) -> PathBuf {
    let spool = dir.join("spool");
    std::fs::create_dir_all(&spool).unwrap();
    golden::copy_into(&spool);
    let url = [format!("https://localhost:{hec_port}")];
    let mut body = String::new();
    for (name, index) in golden::NAMES.iter().zip(INDEXES) {
        body += &hec_destination(
            name,
            &url,
            support::HEC_TOKEN,
            &tls.ca_file,
            &format!("index = \"{index}\""),
        );
        body += "\n";
    }
    body += "[[rule]]\nname = \"alerts\"\nactions = [\"dest-0\", \"dest-1\"]\n";
    write_config_body(dir, &body)
}

/// The `event` object HEC carries for `event`, as this release renders it.
fn hec_event(event: &Event) -> serde_json::Value {
    let mut buf = vec![0u8; hec::MAX_LEN];
    let mut out = SliceWriter::new(&mut buf);
    let n = hec::write(event, &hec::Options::default(), &mut out).unwrap();
    let envelope: serde_json::Value = serde_json::from_slice(&buf[..n]).unwrap();
    envelope["event"].clone()
}

/// What the emulator stored, per index: the `event` objects in arrival order.
fn stored_by_index(
    emulator: &icsfwd_sim::splunk::emulator::RunningEmulator,
) -> BTreeMap<String, Vec<serde_json::Value>> {
    let mut out: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
    for stored in emulator.store().list(&Filter::default()) {
        let Body::Json(event) = &stored.body else {
            panic!("a HEC event without a JSON body: {stored:?}");
        };
        out.entry(stored.index.clone())
            .or_default()
            .push(event.clone());
    }
    out
}

#[test]
fn the_golden_spool_of_an_earlier_release_drains_exactly_and_its_dead_letter_replays() {
    let tls = support::Tls::new();
    let emulator = support::start(&tls);
    let dir = scratch("upgrade-drain");
    let config = golden_service(&dir, &tls, emulator.hec_addr().port());
    let mut shown = Shown::default();

    let service = e2e::start_service(&config, &dir);
    for name in golden::NAMES {
        e2e::wait_for_destination(
            &mut shown,
            &config,
            name,
            "the golden backlog to drain",
            Duration::from_secs(60),
            |d| d["backlog"] == 0 && d["delivered"] == 2,
        );
    }
    // Anything sent twice would have arrived by the time the service stops.
    let log = e2e::stop_cleanly(service, &mut shown);
    assert!(
        log.contains("destination dest-1: resumes after its progress hint at record 1"),
        "{log}"
    );

    let stored = stored_by_index(&emulator);
    for (index, (name, splunk_index)) in golden::NAMES.iter().zip(INDEXES).enumerate() {
        let want: Vec<serde_json::Value> = golden::backlog(index as u8)
            .into_iter()
            .map(|seq| hec_event(&golden::event(seq)))
            .collect();
        assert_eq!(
            stored.get(splunk_index).cloned().unwrap_or_default(),
            want,
            "{name}: each record it was owed, once, in order, every field as written"
        );
    }
    assert_eq!(stored.len(), 2, "nothing else arrived: {stored:#?}");
    // The same, spelled out independently of the renderer for a few fields.
    let ot = &stored["ot"];
    assert_eq!(ot[0]["id"], "sensor-golden-102");
    assert_eq!(ot[0]["title"], "Golden alert 2 — Überwachung");
    assert_eq!(ot[0]["dest_ip"], "fd00::12");
    assert_eq!(ot[0]["src_mac"], "00:50:56:01:02:02");
    assert_eq!(ot[1]["id"], "sensor-golden-7");
    assert_eq!(ot[1]["kind"], "alerts_dropped");
    assert_eq!(ot[1]["text"], "3 alerts dropped (quota)");
    let main = &stored["main"];
    assert_eq!(main[1]["id"], "sensor-golden-103");
    assert_eq!(main[1]["truncated"], true);
    assert_eq!(
        main[1]["message"],
        "Line one\nline \"two\" with tab\tand back\\slash"
    );

    // The dead letter the earlier release wrote: listed, then replayed to dest-0.
    let config_arg = config.to_str().unwrap();
    let listed = icsfwd(&["deadletter", "list", "-c", config_arg]);
    shown.keep(&listed);
    let listed_text = String::from_utf8_lossy(&listed.stdout);
    assert_eq!(listed.status.code(), Some(0), "{listed:?}");
    assert!(listed_text.contains("dest-0: 1 record(s)"), "{listed_text}");
    assert!(
        listed_text.contains(golden::DEAD_LETTER_REASON),
        "{listed_text}"
    );
    let replayed = icsfwd(&["deadletter", "replay", "dest-0", "-c", config_arg]);
    shown.keep(&replayed);
    let replayed_text = String::from_utf8_lossy(&replayed.stdout);
    assert_eq!(replayed.status.code(), Some(0), "{replayed:?}");
    assert!(
        replayed_text.contains("1 delivered, 0 still refused"),
        "{replayed_text}"
    );
    let main = stored_by_index(&emulator)["main"].clone();
    assert_eq!(main.len(), 3);
    assert_eq!(
        main[2]["id"], "sensor-golden-101",
        "the dead letter (record 2) arrived"
    );
    assert_eq!(main[2]["severity"], "Minor");
    shown.assert_no_secret();
}

/// `icsfwd run` and `icsfwd spool verify` on the spool in `dir` (refused): both say `expect`,
/// and the spool directory is exactly as it was.
fn refused_by_run_and_verify(dir: &Path, config: &Path, expect: &str) {
    let spool = dir.join("spool");
    let before = golden::snapshot(&spool);

    let mut run = icsfwd_command();
    run.args(["run", "-c", config.to_str().unwrap()]);
    let run = run.output().unwrap();
    let log = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{log}");
    assert!(log.contains(expect), "{log}");
    assert_eq!(
        golden::snapshot(&spool),
        before,
        "icsfwd run changed the spool it refused"
    );

    let verify = icsfwd(&["spool", "verify", "-c", config.to_str().unwrap()]);
    let report = String::from_utf8_lossy(&verify.stdout);
    assert_eq!(verify.status.code(), Some(2), "{report}");
    assert!(report.contains(expect), "{report}");
    assert!(
        report.contains("the service will not start on this spool"),
        "{report}"
    );
    assert_eq!(
        golden::snapshot(&spool),
        before,
        "icsfwd spool verify changed the spool"
    );
}

#[test]
fn a_spool_with_a_record_of_a_newer_format_is_refused_by_run_and_verify_and_left_untouched() {
    let tls = support::Tls::new();
    let dir = scratch("upgrade-newer-record");
    let config = golden_service(&dir, &tls, 9);
    let newer = record::VERSION + 1;
    golden::forge_record_version(&dir.join("spool"), newer);
    refused_by_run_and_verify(
        &dir,
        &config,
        &format!("this spool was written by a newer icsfwd (record version {newer} in "),
    );
    // The rest of the sentence: the versions read and what to do.
    let run = icsfwd(&["spool", "verify", "-c", config.to_str().unwrap()]);
    let report = String::from_utf8_lossy(&run.stdout);
    assert!(
        report.contains(&format!(
            "; this release reads {}): install that release or a newer one to drain it, or \
             stop icsfwd, move the spool directory aside (keep it) and start with an empty one",
            if record::OLDEST_VERSION == record::VERSION {
                record::VERSION.to_string()
            } else {
                format!("{}\u{2013}{}", record::OLDEST_VERSION, record::VERSION)
            }
        )),
        "{report}"
    );
}

#[test]
fn a_spool_with_a_checkpoint_of_a_newer_format_is_refused_by_run_and_verify_and_left_untouched() {
    let tls = support::Tls::new();
    let dir = scratch("upgrade-newer-checkpoint");
    let config = golden_service(&dir, &tls, 9);
    golden::forge_checkpoint_version(&dir.join("spool"), 2);
    refused_by_run_and_verify(
        &dir,
        &config,
        "this spool was written by a newer icsfwd (checkpoint version 2; this release reads 1): \
         install that release or a newer one to drain it",
    );
}
