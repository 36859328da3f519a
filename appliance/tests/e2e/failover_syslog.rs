//! Failover of a `syslog` destination with two hosts, through the real binary: two syslog
//! receivers of the simulator over TLS (and, over RELP, two scripted RELP receivers), the
//! connection on one of them, that receiver stopped while alerts still stream (its listener
//! and connection closed). Every accepted alert arrives (0 lost): the records the broken
//! connection left unconfirmed (unanswered, over RELP) are re-sent on the other host and
//! counted as possible duplicates, which bound every extra copy.

use std::collections::BTreeSet;
use std::io::{Read as _, Write as _};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::e2e::{
    Shown, alerts_to, counted, destination, feed_all, ids_of, scratch, start_service, stop_cleanly,
    wait_for, wait_for_destination,
};
use icsfwd::testing::destination::syslog::relp;
use icsfwd_core::alert::Event;
use icsfwd_sim::feed::{self, Options, Target};
use icsfwd_sim::scenario::{Params, Scenario};
use icsfwd_sim::splunk::emulator::{Emulator, EmulatorConfig, RunningEmulator};
use icsfwd_sim::splunk::store::{Body, Filter, ReceiverKind, Store};

/// `count` steady-background alerts at `rate` per second (ids `<sensor>-1..=count`).
fn steady(count: u64, rate: f64) -> Vec<(u64, Event)> {
    let params = Params {
        rate,
        count,
        seed: 25,
        ..Params::default()
    };
    Scenario::Steady.events(&params).unwrap().collect()
}

/// An emulator with a syslog receiver over TLS.
fn receiver(tls: &crate::support::Tls) -> RunningEmulator {
    Emulator::start(EmulatorConfig {
        syslog_port: Some(0),
        ..crate::support::config(tls)
    })
    .unwrap()
}

/// The event ids of the CEF messages `store` holds (their `externalId`).
fn cef_ids(store: &Store) -> Vec<String> {
    store
        .list(&Filter::default())
        .into_iter()
        .filter(|r| r.receiver == ReceiverKind::Syslog)
        .filter_map(|r| match r.body {
            Body::Text(text) => text
                .split(" externalId=")
                .nth(1)
                .and_then(|rest| rest.split(' ').next())
                .map(str::to_owned),
            Body::Json(_) => None,
        })
        .collect()
}

#[test]
fn when_the_syslog_host_in_use_stops_mid_stream_the_other_takes_over_and_none_is_lost() {
    let tls = crate::support::Tls::new();
    let first = receiver(&tls);
    let second = receiver(&tls);
    let (first_store, second_store) = (first.store().clone(), second.store().clone());
    let dir = scratch("failover-syslog");
    let body = format!(
        "[[destination]]\nname = \"siem\"\nkind = \"syslog\"\n\
         hosts = [\"localhost:{one}\", \"localhost:{two}\"]\ntransport = \"tls\"\n\
         payload = \"cef\"\nca_file = \"{ca}\"\nretry_min = \"100ms\"\nretry_max = \"1s\"\n\n\
         {rules}",
        one = first.syslog_addr().unwrap().port(),
        two = second.syslog_addr().unwrap().port(),
        ca = tls.ca_file.display(),
        rules = alerts_to("siem"),
    );
    let config = crate::e2e::write_config_body(&dir, &body);
    let service = start_service(&config, &dir);
    let mut shown = Shown::default();

    let mut events = steady(2_000, 300.0);
    let later = events.split_off(500);
    let expected: BTreeSet<String> = ids_of(&events).union(&ids_of(&later)).cloned().collect();
    assert_eq!(feed_all(&dir, events).accepted, 500);
    wait_for("the first 500", Duration::from_secs(60), || {
        first_store.len() + second_store.len() >= 500
    });
    // One connection carries the stream: stop the receiver it goes to.
    let (in_use, other, in_use_store, other_store) = if first_store.len() >= second_store.len() {
        (first, second, first_store, second_store)
    } else {
        (second, first, second_store, first_store)
    };
    assert_eq!(
        other_store.len(),
        0,
        "a connection stays on its host while it works"
    );

    let socket = crate::e2e::socket_in(&dir);
    let producer = std::thread::spawn(move || {
        let options = Options {
            pace: true,
            ..Options::default()
        };
        feed::send(
            later.into_iter(),
            &Target::Unix(socket),
            &options,
            &mut |_| {},
        )
        .unwrap()
    });
    wait_for(
        "the stream to be under way",
        Duration::from_secs(60),
        || in_use_store.len() >= 700,
    );
    let stopped_port = in_use.syslog_addr().unwrap().port();
    let other_port = other.syslog_addr().unwrap().port();
    in_use.shutdown();
    let on_stopped = in_use_store.len();
    assert_eq!(producer.join().unwrap().accepted, 1_500);

    let status = wait_for_destination(
        &mut shown,
        &config,
        "siem",
        "the backlog to drain",
        Duration::from_secs(60),
        |d| d["delivered"] == 2_000 && d["backlog"] == 0 && d["acks_pending"] == 0,
    );
    let siem = destination(&status, "siem");
    assert_eq!(
        in_use_store.len(),
        on_stopped,
        "nothing reached the stopped host"
    );
    assert!(
        other_store.len() >= 2_000 - on_stopped,
        "the other host took the rest: {siem:#}"
    );
    let mut all = counted(&cef_ids(&in_use_store));
    for (id, n) in counted(&cef_ids(&other_store)) {
        *all.entry(id).or_insert(0) += n;
    }
    assert_eq!(
        all.keys().cloned().collect::<BTreeSet<_>>(),
        expected,
        "every accepted alert arrived: none lost"
    );
    let extra: u64 = all.values().map(|n| n - 1).sum();
    println!(
        "{} alerts, 0 lost, {extra} extra copies, {} counted possible duplicates, {} retries",
        expected.len(),
        siem["possible_duplicates"],
        siem["retries"]
    );
    assert!(
        extra <= siem["possible_duplicates"].as_u64().unwrap(),
        "{extra} uncounted duplicates: {siem:#}"
    );
    assert_eq!(
        siem["possible_loss"], 0,
        "tcp-ack loses nothing it confirmed: {siem:#}"
    );

    // Status names each host and which one is marked down (until its down time is over).
    let hosts = siem["hosts"].as_array().expect("hosts in status");
    let host = |port: u16| {
        hosts
            .iter()
            .find(|h| h["host"] == format!("localhost:{port}"))
            .unwrap_or_else(|| panic!("no localhost:{port} in {siem:#}"))
    };
    assert_eq!(hosts.len(), 2, "{siem:#}");
    assert_eq!(host(stopped_port)["state"], "down", "{siem:#}");
    assert!(host(stopped_port)["down_until_ms"].as_u64().is_some());
    assert_eq!(host(other_port)["state"], "up", "{siem:#}");
    assert_eq!(host(other_port)["down_until_ms"], serde_json::Value::Null);
    let text = shown.status_text(&config);
    assert!(
        text.contains(&format!("  hosts: localhost:{}", hosts_first_port(&body))),
        "{text}"
    );
    let log = stop_cleanly(service, &mut shown);
    assert!(log.contains("took over"), "the takeover is logged: {log}");
    other.shutdown();
    drop(std::fs::remove_dir_all(&dir));
}

/// The port of the first host in a configuration's `hosts = [...]`.
fn hosts_first_port(body: &str) -> String {
    let after = body.split("hosts = [\"localhost:").nth(1).unwrap();
    after.split('"').next().unwrap().to_owned()
}

/// A scripted RELP receiver on 127.0.0.1: it opens sessions, answers every `syslog` command
/// with `200 OK` and keeps each message, until told to die: then it stops listening, answers
/// nothing more, and closes its connections 200 ms later.
struct RelpReceiver {
    port: u16,
    messages: Arc<Mutex<Vec<String>>>,
    dead: Arc<AtomicBool>,
}

impl RelpReceiver {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let messages = Arc::new(Mutex::new(Vec::new()));
        let dead = Arc::new(AtomicBool::new(false));
        let (kept, stop) = (Arc::clone(&messages), Arc::clone(&dead));
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let (kept, stop) = (Arc::clone(&kept), Arc::clone(&stop));
                        std::thread::spawn(move || serve_relp(stream, &kept, &stop));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
            // The listener is dropped here: connects are refused from now on.
        });
        Self {
            port,
            messages,
            dead,
        }
    }

    fn received(&self) -> Vec<String> {
        self.messages.lock().unwrap().clone()
    }
}

/// One RELP session of [`RelpReceiver`].
fn serve_relp(mut stream: TcpStream, kept: &Mutex<Vec<String>>, dead: &AtomicBool) {
    stream
        .set_read_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let mut dying: Option<Instant> = None;
    loop {
        // Dying: it still reads (and keeps) what arrives for 200 ms, answering nothing, then
        // closes: those messages reached it unanswered, as with a receiver that hangs and dies.
        if dead.load(Ordering::SeqCst) {
            let since = *dying.get_or_insert_with(Instant::now);
            if since.elapsed() >= Duration::from_millis(200) {
                drop(stream.shutdown(Shutdown::Both));
                return;
            }
        }
        match stream.read(&mut chunk) {
            Ok(0) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(_) => continue,
        }
        let mut answers = Vec::new();
        while let Some((frame, used)) = relp::parse_frame(&buf, 1 << 20).unwrap() {
            let text: &[u8] = match frame.command {
                b"open" => b"200 OK\nrelp_version=0\nrelp_software=test\ncommands=syslog",
                b"syslog" => {
                    let message = String::from_utf8_lossy(frame.data).into_owned();
                    kept.lock().unwrap().push(message);
                    b"200 OK"
                }
                _ => b"200 OK",
            };
            relp::encode_frame(&mut answers, frame.txnr, "rsp", text).unwrap();
            buf.drain(..used);
        }
        if dying.is_none() && stream.write_all(&answers).is_err() {
            return;
        }
    }
}

/// The event ids (`externalId`) of CEF messages.
fn ids_in(messages: &[String]) -> Vec<String> {
    messages
        .iter()
        .filter_map(|m| m.split(" externalId=").nth(1))
        .filter_map(|rest| rest.split(' ').next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn when_the_relp_host_in_use_dies_mid_stream_the_unanswered_records_are_resent_on_the_other() {
    let (first, second) = (RelpReceiver::start(), RelpReceiver::start());
    let dir = scratch("failover-relp");
    let body = format!(
        "[[destination]]\nname = \"siem\"\nkind = \"syslog\"\n\
         hosts = [\"127.0.0.1:{one}\", \"127.0.0.1:{two}\"]\ntransport = \"relp\"\n\
         payload = \"cef\"\nretry_min = \"100ms\"\nretry_max = \"1s\"\n\n{rules}",
        one = first.port,
        two = second.port,
        rules = alerts_to("siem"),
    );
    let config = crate::e2e::write_config_body(&dir, &body);
    let service = start_service(&config, &dir);
    let mut shown = Shown::default();

    let mut events = steady(1_500, 300.0);
    let later = events.split_off(300);
    let expected: BTreeSet<String> = ids_of(&events).union(&ids_of(&later)).cloned().collect();
    assert_eq!(feed_all(&dir, events).accepted, 300);
    wait_for("the first 300", Duration::from_secs(60), || {
        first.received().len() >= 300
    });
    assert!(second.received().is_empty(), "a session stays on its host");
    let socket = crate::e2e::socket_in(&dir);
    let producer = std::thread::spawn(move || {
        let options = Options {
            pace: true,
            ..Options::default()
        };
        feed::send(
            later.into_iter(),
            &Target::Unix(socket),
            &options,
            &mut |_| {},
        )
        .unwrap()
    });
    wait_for(
        "the stream to be under way",
        Duration::from_secs(60),
        || first.received().len() >= 600,
    );
    first.dead.store(true, Ordering::SeqCst);
    assert_eq!(producer.join().unwrap().accepted, 1_200);

    let status = wait_for_destination(
        &mut shown,
        &config,
        "siem",
        "the backlog to drain",
        Duration::from_secs(60),
        |d| d["delivered"] == 1_500 && d["backlog"] == 0 && d["acks_pending"] == 0,
    );
    let siem = destination(&status, "siem");
    let mut all = counted(&ids_in(&first.received()));
    for (id, n) in counted(&ids_in(&second.received())) {
        *all.entry(id).or_insert(0) += n;
    }
    assert_eq!(
        all.keys().cloned().collect::<BTreeSet<_>>(),
        expected,
        "every accepted alert arrived: none lost"
    );
    let extra: u64 = all.values().map(|n| n - 1).sum();
    println!(
        "relp: {} alerts, 0 lost, {extra} extra copies, {} counted possible duplicates",
        expected.len(),
        siem["possible_duplicates"]
    );
    assert!(
        extra > 0,
        "messages the dying host took without answering were resent on the other: {siem:#}"
    );
    assert!(
        extra <= siem["possible_duplicates"].as_u64().unwrap(),
        "{extra} uncounted duplicates: {siem:#}"
    );
    let log = stop_cleanly(service, &mut shown);
    assert!(log.contains("RELP receiver 127.0.0.1:"), "{log}");
    assert!(
        log.contains("took over from"),
        "the takeover is logged: {log}"
    );
    drop(std::fs::remove_dir_all(&dir));
}
