//! The HEC sender's ack state across a "restart" (a new sender on the same spool directory),
//! against the Splunk emulator over TLS on 127.0.0.1: what is asked about, on which channel,
//! and what is sent again.

use std::time::{Duration, Instant};

use crate::support::*;
use icsfwd::testing::destination::hec::Hec;
use icsfwd::testing::destination::hec::ack_state::record_mark;
use icsfwd::testing::destination::hec::sender::HecSender;
use icsfwd::testing::destination::{Restored, Secret, Sender};
use icsfwd_core::alert::Event;

fn acks_sender(url: String, tls: &Tls, deadline: Duration) -> HecSender {
    let mut hec = Hec::new(vec![url.parse().unwrap()], Secret::new(ACK_TOKEN));
    hec.ack = true;
    hec.ack_deadline = deadline;
    hec.batch.max_events = 3;
    HecSender::new(&hec, &tls.options(), &timeouts()).unwrap()
}

/// The `(seq, mark)` of records 100.. as the worker reads them at start.
fn marks(events: &[Event]) -> Vec<(u64, u32)> {
    batch(events)
        .iter()
        .map(|(seq, event)| (*seq, record_mark(*seq, event)))
        .collect()
}

fn only(verdicts: &[(u64, Restored)], want: Restored) -> Vec<u64> {
    verdicts
        .iter()
        .filter(|(_, r)| *r == want)
        .map(|(s, _)| *s)
        .collect()
}

#[test]
fn a_restarted_sender_asks_the_old_channel_then_confirms_from_its_own_file() {
    let tls = Tls::new();
    let emulator = start(&tls);
    emulator.hec().lock().unwrap().ack_delay = true;
    let dir = tempfile::tempdir().unwrap();
    let events = events(9);
    let deadline = Duration::from_secs(300);

    // The first run: three requests answered with ack ids, then it dies.
    let mut first = acks_sender(emulator.hec_url(), &tls, deadline);
    assert_eq!(first.resume(dir.path(), "h"), None, "nothing before");
    let outcome = first.send(&batch(&events), Instant::now());
    assert_eq!(outcome.sent(), 9);
    let old_channel = first.channel().to_owned();
    drop(first);

    // The restart: a new channel; the records are awaited, not sent again.
    let mut second = acks_sender(emulator.hec_url(), &tls, deadline);
    assert_ne!(second.channel(), old_channel);
    assert_eq!(second.resume(dir.path(), "h"), Some(108));
    let verdicts = second.restore(&marks(&events), Instant::now());
    assert_eq!(
        only(&verdicts, Restored::Awaiting),
        (100..=108).collect::<Vec<_>>()
    );
    assert_eq!(second.pending_acks(), 9);
    assert!(
        second.poll_acks(Instant::now()).indexed.is_empty(),
        "not indexed yet"
    );
    // Splunk indexes them: the query on the old channel finds them.
    assert_eq!(
        emulator
            .hec()
            .lock()
            .unwrap()
            .release_acks(Some(&old_channel)),
        3
    );
    let report = second.poll_acks(Instant::now());
    assert_eq!(
        report.indexed,
        (100..=108).collect::<Vec<_>>(),
        "{report:?}"
    );
    assert_eq!(
        emulator.store().list(&Default::default()).len(),
        9,
        "sent once"
    );
    drop(second);

    // A third start reads the `indexed` lines: confirmed without asking Splunk (which
    // forgets an ack once read `true`).
    let mut third = acks_sender(emulator.hec_url(), &tls, deadline);
    assert_eq!(third.resume(dir.path(), "h"), Some(108));
    let verdicts = third.restore(&marks(&events), Instant::now());
    assert_eq!(
        only(&verdicts, Restored::Confirmed),
        (100..=108).collect::<Vec<_>>()
    );
    assert_eq!(third.pending_acks(), 0);
    drop(third);
    // They stay in the file (confirmed) while the spool holds them; once the records are
    // acknowledged in the spool (not read at start any more), the file forgets them.
    let mut fourth = acks_sender(emulator.hec_url(), &tls, deadline);
    assert_eq!(fourth.resume(dir.path(), "h"), Some(108));
    assert!(fourth.restore(&[], Instant::now()).is_empty());
    drop(fourth);
    let mut fifth = acks_sender(emulator.hec_url(), &tls, deadline);
    assert_eq!(fifth.resume(dir.path(), "h"), None);
}

#[test]
fn records_that_do_not_match_or_passed_the_deadline_are_sent_again() {
    let tls = Tls::new();
    let emulator = start(&tls);
    emulator.hec().lock().unwrap().ack_delay = true;
    let dir = tempfile::tempdir().unwrap();
    let events = events(9);

    let mut first = acks_sender(emulator.hec_url(), &tls, Duration::from_secs(300));
    first.resume(dir.path(), "h");
    assert_eq!(first.send(&batch(&events), Instant::now()).sent(), 9);
    drop(first);

    // Record 104 is not the one the request carried (another spool, a replaced segment):
    // its request (103..=105) is not trusted; 108 is missing (evicted): 106..=108 neither.
    let mut second = acks_sender(emulator.hec_url(), &tls, Duration::from_secs(300));
    second.resume(dir.path(), "h");
    let mut read = marks(&events);
    read[4].1 ^= 1;
    read.pop();
    let verdicts = second.restore(&read, Instant::now());
    assert_eq!(only(&verdicts, Restored::Awaiting), vec![100, 101, 102]);
    assert_eq!(
        only(&verdicts, Restored::Resend),
        vec![103, 104, 105, 106, 107]
    );
    assert_eq!(second.pending_acks(), 3);
    drop(second);

    // Past the ack deadline (counted from the first send): sent again.
    std::thread::sleep(Duration::from_millis(1_100));
    let mut third = acks_sender(emulator.hec_url(), &tls, Duration::from_secs(1));
    third.resume(dir.path(), "h");
    let verdicts = third.restore(&marks(&events), Instant::now());
    assert_eq!(only(&verdicts, Restored::Resend), vec![100, 101, 102]);
    assert_eq!(third.pending_acks(), 0);
}

#[test]
fn a_reissued_ack_id_expires_the_older_request_instead_of_confirming_it() {
    let tls = Tls::new();
    let emulator = start(&tls);
    emulator.hec().lock().unwrap().ack_delay = true;
    let dir = tempfile::tempdir().unwrap();
    let mut hec = Hec::new(
        vec![emulator.hec_url().parse().unwrap()],
        Secret::new(ACK_TOKEN),
    );
    hec.ack = true;
    hec.batch.max_events = 3;
    hec.channel = Some("0b9e8d7c-6a5f-4e3d-8c2b-1a0f9e8d7c6b".to_owned());
    let mut sender = HecSender::new(&hec, &tls.options(), &timeouts()).unwrap();
    sender.resume(dir.path(), "h");
    let events = events(6);
    let all = batch(&events);
    assert_eq!(sender.send(&all[..3], Instant::now()).sent(), 3);
    // Splunk restarts: the channel's ack ids start at 0 again, and the next request gets the
    // id the first one holds.
    {
        let mut hec = emulator.hec().lock().unwrap();
        let config = hec.config().clone();
        *hec = icsfwd_sim::splunk::hec::Hec::new(config);
        hec.ack_delay = true;
    }
    assert_eq!(sender.send(&all[3..], Instant::now()).sent(), 3);
    emulator.hec().lock().unwrap().release_acks(None);
    let report = sender.poll_acks(Instant::now());
    assert_eq!(report.expired, vec![100, 101, 102], "{report:?}");
    assert_eq!(report.indexed, vec![103, 104, 105], "{report:?}");
}
