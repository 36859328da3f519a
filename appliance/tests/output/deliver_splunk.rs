//! Delivery workers to splunkd's REST receiver against the Splunk emulator over TLS on
//! 127.0.0.1, with a real spool in a temp dir; and the setup of destinations without a sender.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use crate::deliver_support;

use std::time::Duration;

use deliver_support::*;
use icsfwd::testing::deliver::sender_for;
use icsfwd_sim::splunk::store::{Body, ReceiverKind};

#[test]
fn two_thousand_alerts_reach_splunkd_once_in_order_with_exact_fields_and_the_spool_empties() {
    let tls = Tls::new();
    let emulator = deliver_support::output_support::start(&tls);
    let dir = tempfile::tempdir().unwrap();
    let config = config(
        dir.path(),
        &[splunk_destination(
            "splunkd",
            emulator.splunkd_addr().port(),
            &tls,
            "index = \"ot\"",
        )],
    );
    let group = open_spool(dir.path(), &config);
    let running = start(&config, &group, dir.path());
    let events = events(2000);
    let seqs = produce(&group.handle(), &events, all(&config), 4);
    wait_until(Duration::from_secs(180), "2,000 delivered", || {
        stats_of(&running, "splunkd").delivered == 2000
    });
    wait_until(Duration::from_secs(10), "backlog 0", || {
        backlog(&group.handle(), 0) == 0
    });
    let store = stored(&emulator);
    assert_eq!(store.len(), 2000, "each alert exactly once");
    for (stored, &(_, i)) in store.iter().zip(&seqs) {
        assert_eq!(stored.receiver, ReceiverKind::Simple);
        assert_eq!(
            stored.body,
            Body::Text(text(&events[i])),
            "in sequence order"
        );
        assert_eq!(stored.host, SENSOR_IP);
        assert_eq!(stored.source, "icsfwd");
        assert_eq!(
            stored.sourcetype, "icsfwd:text",
            "the Splunk app's sourcetype"
        );
        assert_eq!(stored.index, "ot");
        assert_eq!(stored.user.as_deref(), Some(USER));
    }
    let report = running.shutdown(Duration::from_secs(10));
    assert!(report.still_running.is_empty(), "{report:?}");
    let spool = group.handle().stats().unwrap();
    assert!(spool.segments_removed > 0, "{spool:?}");
    assert_eq!(spool.disk_bytes, 0, "{spool:?}");
}

#[test]
fn a_syslog_destination_without_a_receiver_retries_and_keeps_its_records_while_the_others_deliver()
{
    let tls = Tls::new();
    let emulator = deliver_support::output_support::start(&tls);
    let dir = tempfile::tempdir().unwrap();
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let syslog = format!(
        "\n[[destination]]\nname = \"siem\"\nkind = \"syslog\"\nhost = \"127.0.0.1\"\n\
         port = {closed_port}\nretry_min = \"50ms\"\nretry_max = \"200ms\"\n"
    );
    let config = config(
        dir.path(),
        &[
            syslog,
            splunk_destination("splunkd", emulator.splunkd_addr().port(), &tls, ""),
        ],
    );
    assert!(sender_for(&config.destinations[0], &config.sensor).is_ok());
    let group = open_spool(dir.path(), &config);
    let running = start(&config, &group, dir.path());
    let events = events(10);
    produce(&group.handle(), &events, all(&config), 1);
    wait_until(Duration::from_secs(30), "splunkd delivered", || {
        stats_of(&running, "splunkd").delivered == 10
    });
    wait_until(Duration::from_secs(30), "siem retried", || {
        stats_of(&running, "siem").retries > 0
    });
    let siem = stats_of(&running, "siem");
    assert_eq!(siem.delivered, 0, "{siem:?}");
    assert!(
        siem.last_error
            .as_deref()
            .is_some_and(|e| e.contains("cannot connect")),
        "{siem:?}"
    );
    assert_eq!(
        backlog(&group.handle(), 0),
        10,
        "kept until the receiver is up"
    );
    assert!(
        running
            .shutdown(Duration::from_secs(10))
            .still_running
            .is_empty()
    );
}

#[test]
fn a_2xx_that_is_not_splunkds_receipt_delivers_nothing_parks_and_recovers_once() {
    let tls = Tls::new();
    let emulator = deliver_support::output_support::start(&tls);
    let dir = tempfile::tempdir().unwrap();
    let config = config(
        dir.path(),
        &[splunk_destination(
            "splunkd",
            emulator.splunkd_addr().port(),
            &tls,
            "",
        )],
    );
    let group = open_spool(dir.path(), &config);
    let running = start(&config, &group, dir.path());
    let port = emulator.splunkd_addr().port();
    let url = format!(
        "the server at https://127.0.0.1:{port}/services/receivers/simple answered 200 with "
    );
    let rounds = [
        ("html", "an HTML page: is it splunkd's management port?"),
        ("empty", "an empty body: is it splunkd's management port?"),
        ("json", "JSON that is not splunkd's receipt"),
    ];
    let all_events = events(10 * rounds.len() as u64);
    for (round, (body, what)) in rounds.iter().enumerate() {
        let fault = format!("splunkd:status=200,body={body},path=/services/receivers");
        let id = emulator.faults().add(fault.parse().unwrap()).unwrap();
        let delivered_before = stats_of(&running, "splunkd").delivered;
        let stored_before = stored(&emulator).len();
        produce(
            &group.handle(),
            &all_events[round * 10..round * 10 + 10],
            all(&config),
            2,
        );
        let reason = wait_parked(&running, "splunkd", what);
        assert!(reason.contains(&url), "{reason}");
        wait_until(Duration::from_secs(30), "a resend while parked", || {
            emulator.faults().list()[0].fired >= 2
        });
        let stats = stats_of(&running, "splunkd");
        assert_eq!(stats.delivered, delivered_before, "{body}: {stats:?}");
        assert_eq!(
            backlog(&group.handle(), 0),
            10,
            "{body}: the spool keeps them"
        );
        assert_eq!(stored(&emulator).len(), stored_before, "{body}");

        assert!(emulator.faults().remove(id));
        wait_until(Duration::from_secs(30), "delivered after the fix", || {
            stats_of(&running, "splunkd").delivered == delivered_before + 10
                && backlog(&group.handle(), 0) == 0
        });
    }
    assert_each_stored_once(&emulator, &all_events);
    assert_eq!(stats_of(&running, "splunkd").dead_lettered, 0);
    let report = running.shutdown(Duration::from_secs(10));
    assert!(report.still_running.is_empty(), "{report:?}");
}
