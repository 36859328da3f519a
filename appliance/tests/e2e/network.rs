//! `icsfwd run`, the real binary, against network faults the other end-to-end tests leave out
//! (N1, N3, N5 and N8 of `docs/RELIABILITY.md`):
//! - N1: a compressed day of alerts spooled during an outage drains completely, each once, in
//!   per-sensor order, and the drain rate is printed;
//! - N3: the ack endpoint answering errors, then hanging, holds records until a `true` ack
//!   without resending anything early;
//! - N5: a blackhole (accepts, never answers the TLS handshake) and a hung or trickling HEC
//!   time out while the splunkd destination, in the same service, delivers everything;
//! - N8: a syslog peer that resets and closes its connections mid-stream loses no alert (the
//!   default `confirm = "tcp-ack"` re-sends what it threw away) and every extra copy is
//!   counted; with `confirm = "write"` it loses at most the window the service reports as
//!   possible loss.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use crate::e2e;
use crate::support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use e2e::{
    Shown, alerts_to, counted, destination, feed_all, hec_destination, ids_of, scratch,
    start_service, stop_cleanly, stored_ids, wait_for, wait_for_destination,
};
use icsfwd::clock::now_ms;
use icsfwd_core::alert::Event;
use icsfwd_sim::scenario::{Params, Scenario};
use icsfwd_sim::splunk::store::ReceiverKind;
use serde_json::Value;

/// `count` steady-background alerts (ids `<sensor>-1..=count`), generated as fast as asked.
fn steady(count: u64, seed: u64) -> Vec<(u64, Event)> {
    let params = Params {
        rate: 1_000_000.0,
        count,
        seed,
        ..Params::default()
    };
    Scenario::Steady.events(&params).unwrap().collect()
}

/// Copies beyond the first, over all ids.
fn extra_copies(by: &BTreeMap<String, u64>) -> u64 {
    by.values().map(|n| n.saturating_sub(1)).sum()
}

fn u64_of(destination: &Value, key: &str) -> u64 {
    destination[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key} in {destination:#}"))
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// N1. HEC is down while a compressed day of traffic arrives (5,000 alerts in CI;
/// `ICSFWD_N1_ALERTS=86400` is one a second for 24 h, run by `scripts/reliability-network.sh`).
/// When it comes back, the spool drains: every alert once, each sensor's alerts in the order
/// they were accepted, and the drain rate is printed.
#[test]
fn a_compressed_day_spooled_during_an_outage_drains_each_alert_once_in_per_sensor_order() {
    let count = env_u64("ICSFWD_N1_ALERTS").unwrap_or(5_000);
    let tls = support::Tls::new();
    let emulator = support::start(&tls);
    let dir = scratch("n1-day");
    let url = format!("https://localhost:{}", emulator.hec_addr().port());
    let body = hec_destination("soc-hec", &[url], support::HEC_TOKEN, &tls.ca_file, "")
        + &alerts_to("soc-hec");
    let config = e2e::write_config_body(&dir, &body);
    let service = start_service(&config, &dir);
    let mut shown = Shown::default();

    let down = emulator.faults().add("hec:down".parse().unwrap()).unwrap();
    let events = steady(count, 61);
    let all = ids_of(&events);
    let fed = Instant::now();
    let tally = feed_all(&dir, events);
    assert_eq!(
        tally.accepted, count,
        "the spool took the whole day: {tally}"
    );
    eprintln!(
        "n1: {count} alerts accepted during the outage in {:.1} s",
        fed.elapsed().as_secs_f64()
    );
    let spooled = wait_for_destination(
        &mut shown,
        &config,
        "soc-hec",
        "the whole day in the backlog",
        Duration::from_secs(30),
        |d| d["backlog"] == count,
    );
    assert_eq!(u64_of(destination(&spooled, "soc-hec"), "delivered"), 0);
    assert_eq!(emulator.store().len(), 0, "nothing got through the outage");

    assert!(emulator.faults().remove(down));
    let back = Instant::now();
    let drained = wait_for_destination(
        &mut shown,
        &config,
        "soc-hec",
        "the backlog to drain",
        Duration::from_secs(60 + count / 500),
        |d| d["delivered"] == count && d["backlog"] == 0,
    );
    let took = back.elapsed().as_secs_f64();
    #[allow(clippy::cast_precision_loss, reason = "a printed rate")]
    let rate = count as f64 / took;
    eprintln!(
        "n1: drained {count} alerts in {took:.1} s ({rate:.0} alerts/s, status polled every 100 ms)"
    );
    let hec = destination(&drained, "soc-hec");
    assert_eq!(u64_of(hec, "dead_lettered"), 0, "{hec:#}");

    let stored = stored_ids(&emulator, ReceiverKind::Hec);
    let by = counted(&stored);
    assert_eq!(by.keys().cloned().collect::<BTreeSet<_>>(), all);
    assert_eq!(
        extra_copies(&by),
        0,
        "a down listener indexes nothing twice"
    );
    // Per sensor, the alert numbers arrive in increasing order.
    let mut last: BTreeMap<&str, u64> = BTreeMap::new();
    for id in &stored {
        let (sensor, number) = id.rsplit_once('-').unwrap();
        let number: u64 = number.parse().unwrap();
        let previous = last.insert(sensor, number);
        assert!(
            previous.is_none_or(|p| p < number),
            "{id} arrived after {sensor}-{}",
            previous.unwrap_or_default()
        );
    }

    stop_cleanly(service, &mut shown);
    shown.assert_no_secret();
    drop(std::fs::remove_dir_all(&dir));
}

/// N3. With indexer acks, the ack endpoint first answers 503, then hangs past the response
/// timeout, and the acks themselves come late. More alerts than the worker holds in flight
/// (10,000) are sent, so the window fills and acks are polled every 250 ms rather than every
/// 10 s. The events are indexed once; the records stay in the backlog (acks pending) until a
/// poll reads `true`; nothing is resent
/// before the ack deadline, so nothing arrives twice and no duplicate is counted.
#[test]
fn ack_endpoint_errors_and_hangs_hold_records_until_a_true_ack_and_resend_nothing_early() {
    const COUNT: u64 = 10_500;
    const WINDOW: u64 = 10_000;
    let tls = support::Tls::new();
    let emulator = support::start(&tls);
    let dir = scratch("n3-ack-endpoint");
    let url = format!("https://localhost:{}", emulator.hec_addr().port());
    let extra = "ack = true\nack_deadline = \"300s\"\nresponse_timeout = \"1s\"\n";
    let body = hec_destination("soc-hec", &[url], support::ACK_TOKEN, &tls.ca_file, extra)
        + &alerts_to("soc-hec");
    let config = e2e::write_config_body(&dir, &body);
    let faults = emulator.faults();
    let errors = faults
        .add(
            "hec:status=503,path=/services/collector/ack,next=4"
                .parse()
                .unwrap(),
        )
        .unwrap();
    let hang = faults
        .add(
            "hec:hang,path=/services/collector/ack,next=2"
                .parse()
                .unwrap(),
        )
        .unwrap();
    faults.add("hec:ack-delay=1500".parse().unwrap()).unwrap();
    let service = start_service(&config, &dir);
    let mut shown = Shown::default();

    let events = steady(COUNT, 62);
    let all = ids_of(&events);
    assert_eq!(feed_all(&dir, events).accepted, COUNT);
    wait_for("a full window indexed", Duration::from_secs(60), || {
        emulator.store().len() >= usize::try_from(WINDOW).unwrap()
    });
    let held = wait_for_destination(
        &mut shown,
        &config,
        "soc-hec",
        "the ack query error to show while records wait",
        Duration::from_secs(30),
        |d| {
            // The 503 ("ack query … refused") or the hang's timeout, whichever the
            // snapshot caught.
            d["last_error"]
                .as_str()
                .is_some_and(|e| e.contains("ack query") || e.contains("in time"))
                && d["acks_pending"].as_u64().unwrap_or(0) > 0
        },
    );
    let hec = destination(&held, "soc-hec");
    assert!(u64_of(hec, "delivered") < COUNT, "{hec:#}");

    let drained = wait_for_destination(
        &mut shown,
        &config,
        "soc-hec",
        "every ack read true",
        Duration::from_secs(60),
        |d| d["delivered"] == COUNT && d["backlog"] == 0 && d["acks_pending"] == 0,
    );
    let listed = faults.list();
    let fired = |id| listed.iter().find(|f| f.id == id).unwrap().fired;
    assert_eq!(fired(errors), 4, "{listed:?}");
    assert_eq!(fired(hang), 2, "{listed:?}");
    let hec = destination(&drained, "soc-hec");
    assert_eq!(u64_of(hec, "possible_duplicates"), 0, "{hec:#}");
    let by = counted(&stored_ids(&emulator, ReceiverKind::Hec));
    assert_eq!(by.keys().cloned().collect::<BTreeSet<_>>(), all);
    assert_eq!(extra_copies(&by), 0, "nothing resent before the deadline");

    stop_cleanly(service, &mut shown);
    shown.assert_no_secret();
    drop(std::fs::remove_dir_all(&dir));
}

/// A TCP listener on 127.0.0.1 that accepts connections and never reads or writes: a TLS
/// handshake to it stalls. Connections are held until the blackhole is dropped.
struct Blackhole {
    port: u16,
    stop: Arc<AtomicBool>,
    accepted: Arc<Mutex<Vec<TcpStream>>>,
}

impl Blackhole {
    fn start() -> Blackhole {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let accepted = Arc::new(Mutex::new(Vec::new()));
        let (stopping, held) = (Arc::clone(&stop), Arc::clone(&accepted));
        std::thread::spawn(move || {
            while !stopping.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => held.lock().unwrap().push(stream),
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        Blackhole {
            port,
            stop,
            accepted,
        }
    }

    fn connections(&self) -> usize {
        self.accepted.lock().unwrap().len()
    }
}

impl Drop for Blackhole {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// N5. Three destinations in one service: a HEC that hangs (then trickles its answers at one
/// byte a second), a HEC URL whose server accepts and never answers the TLS handshake, and
/// the splunkd REST destination. The timeouts fire (not before they are due), the stalled
/// destinations retry with the timeout as their last error, and splunkd delivers every alert
/// meanwhile. Once the HEC answers again it delivers everything; every extra copy the
/// trickle caused (indexed, but the answer never arrived) is counted as a possible duplicate.
#[test]
fn a_hung_a_trickling_and_a_blackholed_destination_time_out_while_splunkd_delivers_everything() {
    const COUNT: u64 = 300;
    let tls = support::Tls::new();
    let emulator = support::start(&tls);
    let blackhole = Blackhole::start();
    let dir = scratch("n5-blackhole");
    let timeouts = "connect_timeout = \"1s\"\ntls_timeout = \"1s\"\nresponse_timeout = \"1s\"\n";
    let hec_url = format!("https://localhost:{}", emulator.hec_addr().port());
    let hole_url = format!("https://localhost:{}", blackhole.port);
    let ca = tls.ca_file.display().to_string();
    let body = hec_destination(
        "hung",
        &[hec_url],
        support::HEC_TOKEN,
        &tls.ca_file,
        timeouts,
    ) + &hec_destination(
        "blackhole",
        &[hole_url],
        support::HEC_TOKEN,
        &tls.ca_file,
        timeouts,
    ) + &format!(
        "[[destination]]\nname = \"soc-splunkd\"\nkind = \"splunk\"\nhost = \"localhost\"\n\
             port = {port}\nusername = \"{user}\"\npassword = \"{password}\"\nca_file = \"{ca}\"\n\
             retry_min = \"100ms\"\nretry_max = \"1s\"\n\n\
             [[rule]]\nname = \"alerts\"\nactions = [\"hung\", \"blackhole\", \"soc-splunkd\"]\n",
        port = emulator.splunkd_addr().port(),
        user = support::USER,
        password = support::PASSWORD,
    );
    let config = e2e::write_config_body(&dir, &body);
    let hang = emulator
        .faults()
        .add("hec:hang,path=/services/collector".parse().unwrap())
        .unwrap();
    let service = start_service(&config, &dir);
    let mut shown = Shown::default();

    let events = steady(COUNT, 63);
    let all = ids_of(&events);
    let fed_ms = now_ms();
    assert_eq!(feed_all(&dir, events).accepted, COUNT);

    // splunkd is not held up by the two stalled destinations.
    let status = wait_for_destination(
        &mut shown,
        &config,
        "soc-splunkd",
        "splunkd to deliver everything",
        Duration::from_secs(30),
        |d| d["delivered"] == COUNT && d["backlog"] == 0,
    );
    let splunkd_ids = counted(&stored_ids(&emulator, ReceiverKind::Simple));
    assert_eq!(splunkd_ids.keys().cloned().collect::<BTreeSet<_>>(), all);
    for stalled in ["hung", "blackhole"] {
        let d = destination(&status, stalled);
        assert_eq!(u64_of(d, "delivered"), 0, "{d:#}");
    }

    for stalled in ["hung", "blackhole"] {
        let status = wait_for_destination(
            &mut shown,
            &config,
            stalled,
            "the stalled destination to retry after a timeout",
            Duration::from_secs(30),
            |d| d["state"] == "retrying" && d["last_error"].is_string(),
        );
        let d = destination(&status, stalled);
        let error = d["last_error"].as_str().unwrap();
        assert!(
            error.contains("timeout") || error.contains("in time"),
            "{stalled}: {error}"
        );
        // The first attempt cannot have failed before its 1 s timeout was due.
        let at = u64_of(d, "last_error_ms");
        assert!(
            at >= fed_ms + 900,
            "{stalled}: failed {} ms after the feed",
            at - fed_ms
        );
        assert_eq!(u64_of(d, "backlog"), COUNT, "{d:#}");
    }
    assert!(blackhole.connections() > 0, "the blackhole was dialled");

    // Now the HEC answers, a byte a second: the response timeout still fires.
    let retries_before = u64_of(destination(&shown.status_json(&config), "hung"), "retries");
    let trickle = emulator
        .faults()
        .add("hec:trickle=1,path=/services/collector".parse().unwrap())
        .unwrap();
    assert!(emulator.faults().remove(hang));
    wait_for_destination(
        &mut shown,
        &config,
        "hung",
        "a trickled answer to time out",
        Duration::from_secs(30),
        |d| d["retries"].as_u64().unwrap_or(0) >= retries_before + 2 && d["delivered"] == 0,
    );
    assert!(emulator.faults().remove(trickle));

    let status = wait_for_destination(
        &mut shown,
        &config,
        "hung",
        "the HEC to deliver once it answers",
        Duration::from_secs(30),
        |d| d["delivered"] == COUNT && d["backlog"] == 0,
    );
    let hung = destination(&status, "hung");
    let by = counted(&stored_ids(&emulator, ReceiverKind::Hec));
    assert_eq!(by.keys().cloned().collect::<BTreeSet<_>>(), all);
    assert!(
        extra_copies(&by) <= u64_of(hung, "possible_duplicates"),
        "every extra copy counted: {} extra, {hung:#}",
        extra_copies(&by)
    );
    let hole = destination(&status, "blackhole");
    assert_eq!(u64_of(hole, "backlog"), COUNT, "{hole:#}");
    assert!(u64_of(hole, "retries") > 0, "{hole:#}");

    // The service still stops promptly with a destination stuck in a handshake.
    let stopping = Instant::now();
    stop_cleanly(service, &mut shown);
    assert!(
        stopping.elapsed() < Duration::from_secs(20),
        "stopped in {:?}",
        stopping.elapsed()
    );
    shown.assert_no_secret();
    drop(blackhole);
    drop(std::fs::remove_dir_all(&dir));
}

/// Reads one RFC 6587 octet-counted frame; `None` at a clean end of stream.
fn read_frame<R: BufRead>(reader: &mut R) -> std::io::Result<Option<String>> {
    let mut digits = Vec::new();
    loop {
        let mut byte = [0u8; 1];
        if reader.read(&mut byte)? == 0 {
            return Ok(None);
        }
        if byte[0] == b' ' {
            break;
        }
        assert!(
            byte[0].is_ascii_digit() && digits.len() < 8,
            "bad frame length"
        );
        digits.push(byte[0]);
    }
    let len: usize = std::str::from_utf8(&digits).unwrap().parse().unwrap();
    let mut frame = vec![0u8; len];
    reader.read_exact(&mut frame)?;
    Ok(Some(String::from_utf8(frame).unwrap()))
}

/// How a receiver connection ends after reading some frames.
#[derive(Clone, Copy, Debug)]
enum End {
    /// Dropped with unread data in the kernel buffer: the kernel sends a reset.
    Reset,
    /// Shut down (FIN) without reading more.
    Close,
}

/// A syslog TCP receiver on 127.0.0.1: connection `i` reads `plan[i].0` frames and ends as
/// `plan[i].1`; connections beyond the plan read until the sender closes. It records the
/// CEF `externalId` of every frame read.
struct SyslogPeer {
    port: u16,
    ids: Arc<Mutex<Vec<String>>>,
}

impl SyslogPeer {
    fn start(plan: Vec<(usize, End)>) -> SyslogPeer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let ids = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&ids);
        std::thread::spawn(move || {
            for (number, stream) in listener.incoming().enumerate() {
                let Ok(stream) = stream else { return };
                let step = plan.get(number).copied();
                let seen = Arc::clone(&seen);
                std::thread::spawn(move || serve(stream, step, &seen));
            }
        });
        SyslogPeer { port, ids }
    }

    fn ids(&self) -> Vec<String> {
        self.ids.lock().unwrap().clone()
    }
}

fn serve(stream: TcpStream, step: Option<(usize, End)>, seen: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let limit = step.map_or(usize::MAX, |(n, _)| n);
    for _ in 0..limit {
        match read_frame(&mut reader) {
            Ok(Some(frame)) => {
                let id = frame
                    .split_once("externalId=")
                    .and_then(|(_, rest)| rest.split(' ').next())
                    .unwrap_or_default()
                    .to_owned();
                seen.lock().unwrap().push(id);
            }
            Ok(None) | Err(_) => return,
        }
    }
    match step {
        Some((_, End::Close)) => drop(stream.shutdown(std::net::Shutdown::Both)),
        // Dropping both handles with unread bytes makes the kernel reset the connection.
        Some((_, End::Reset)) | None => {}
    }
}

/// What one N8 run saw: alerts lost, extra copies received, and the destination's status.
struct PeerRun {
    lost: u64,
    extra: u64,
    siem: Value,
}

/// Forwards 2,000 alerts to a syslog receiver that resets its first connection after 150
/// frames, closes its second after 300 and resets its third after 100 (later connections read
/// everything), with `confirm` set to `confirm` (`None`: the default).
fn syslog_peer_run(name: &str, confirm: Option<&str>) -> PeerRun {
    const COUNT: u64 = 2_000;
    let peer = SyslogPeer::start(vec![
        (150, End::Reset),
        (300, End::Close),
        (100, End::Reset),
    ]);
    let dir = scratch(name);
    let confirm = confirm.map_or(String::new(), |c| format!("confirm = \"{c}\"\n"));
    let body = format!(
        "[[destination]]\nname = \"siem\"\nkind = \"syslog\"\nhost = \"127.0.0.1\"\n\
         port = {port}\ntransport = \"tcp\"\npayload = \"cef\"\n{confirm}retry_min = \"100ms\"\n\
         retry_max = \"1s\"\n\n{rule}",
        port = peer.port,
        rule = alerts_to("siem"),
    );
    let config = e2e::write_config_body(&dir, &body);
    let service = start_service(&config, &dir);
    let mut shown = Shown::default();

    let events = steady(COUNT, 64);
    let all = ids_of(&events);
    // In four parts, so that batches straddle the receiver's connection changes.
    let mut rest = events;
    while !rest.is_empty() {
        let tail = rest.split_off(rest.len().min(500));
        assert!(feed_all(&dir, rest).accepted > 0);
        std::thread::sleep(Duration::from_millis(200));
        rest = tail;
    }
    let status = wait_for_destination(
        &mut shown,
        &config,
        "siem",
        "the syslog backlog to drain",
        Duration::from_secs(60),
        |d| d["delivered"] == COUNT && d["backlog"] == 0,
    );
    let siem = destination(&status, "siem").clone();
    let received = peer.ids();
    let by = counted(&received);
    let arrived: BTreeSet<String> = by.keys().cloned().collect();
    assert!(arrived.is_subset(&all), "nothing invented");
    let lost = u64::try_from(all.difference(&arrived).count()).unwrap();
    let extra = extra_copies(&by);
    eprintln!(
        "{name}: {} frames read, {lost} alerts lost, {extra} extra copies; status {siem}",
        received.len()
    );
    stop_cleanly(service, &mut shown);
    drop(std::fs::remove_dir_all(&dir));
    PeerRun { lost, extra, siem }
}

/// N8. A syslog receiver resets its first connection mid-stream and closes its second one
/// (and a third resets again); later connections read everything. TCP syslog has no
/// application acknowledgement; with the default `confirm = "tcp-ack"` a record leaves the
/// spool only once the receiver's TCP acknowledged it and the connection then stayed open, so
/// what the receiver threw away with a connection is re-sent: no alert is lost, every extra
/// copy is counted in `possible_duplicates`, and nothing is counted as possible loss.
#[test]
fn a_syslog_peer_resetting_and_closing_mid_stream_loses_no_alert_and_counts_every_resend() {
    let run = syslog_peer_run("n8-syslog-peer", None);
    let siem = &run.siem;
    assert_eq!(run.lost, 0, "alerts lost: {siem:#}");
    assert!(
        run.extra <= u64_of(siem, "possible_duplicates"),
        "{} extra copies, more than counted: {siem:#}",
        run.extra
    );
    assert!(
        u64_of(siem, "possible_duplicates") > 0,
        "the peer's drops were seen and re-sent: {siem:#}"
    );
    assert_eq!(u64_of(siem, "possible_loss"), 0, "{siem:#}");
}

/// N8 with `confirm = "write"`, the documented at-most-once choice: a record counts as
/// delivered once written, so the receiver's drops are lost — never more than the window the
/// service reports as `possible_loss` — and every extra copy is still counted.
#[test]
fn with_confirm_write_a_syslog_peer_resetting_mid_stream_loses_at_most_the_reported_window() {
    let run = syslog_peer_run("n8-syslog-peer-write", Some("write"));
    let siem = &run.siem;
    assert!(
        run.lost <= u64_of(siem, "possible_loss"),
        "{} alerts lost, more than the reported window: {siem:#}",
        run.lost
    );
    assert!(
        run.extra <= u64_of(siem, "possible_duplicates"),
        "{} extra copies, more than counted: {siem:#}",
        run.extra
    );
    assert!(
        u64_of(siem, "possible_loss") > 0,
        "the peer's drops were seen: {siem:#}"
    );
}

/// Guards the receiver's frame reader itself: a frame, a second frame, a clean end.
#[test]
fn the_test_receiver_reads_octet_counted_frames() {
    let mut input: &[u8] = b"5 hello3 abc";
    let mut reader = BufReader::new(&mut input);
    assert_eq!(read_frame(&mut reader).unwrap().as_deref(), Some("hello"));
    assert_eq!(read_frame(&mut reader).unwrap().as_deref(), Some("abc"));
    assert_eq!(read_frame(&mut reader).unwrap(), None);
}
