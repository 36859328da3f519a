//! HEC ingest rate of the emulator on loopback, plain HTTP and TLS.
//!
//! K client threads, each on one keep-alive connection, post batches of realistic HEC
//! envelopes (generated alerts rendered by `icsfwd_core::format`) to
//! `/services/collector/event` until N events are stored. Every reply must be HTTP 200 with
//! HEC code 0, and the store must hold exactly N events at the end, or the bench fails.
//!
//! The bodies are rendered once before the clock starts, so the rate is the server's (HTTP
//! framing, TLS, JSON parsing, store), not the generator's.
//!
//! Reading the figures: with 4 clients and batches of 100, a rate stuck near 9,000 events/s
//! (about 40 ms per request) is Nagle's algorithm on the server socket meeting the client's
//! delayed ACK (the reply's head and body leave in two writes), not CPU; `TCP_NODELAY` on the
//! accepted socket, or one write per reply, removes it.
//!
//! Environment: `HEC_BENCH_EVENTS` (default 500000), `HEC_BENCH_CLIENTS` (default 4),
//! `HEC_BENCH_BATCH` (events per request, default 100), `HEC_BENCH_MODES` (`plain,tls`).
//!
//! Run: `cargo bench -p icsfwd-sim --bench hec_ingest`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use icsfwd_core::alert::Event;
use icsfwd_core::format::{self, Kind};
use icsfwd_sim::generator::Generator;
use icsfwd_sim::splunk::hec::{HecConfig, Token};
use icsfwd_sim::splunk::server::{
    DEFAULT_MAX_BODY, HecHandler, Limits, RunningServer, Server, hec_server,
};
use icsfwd_sim::splunk::store::{Store, StoreConfig};
use icsfwd_sim::splunk::tls::TlsMaterial;
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, StreamOwned};

const TOKEN: &str = "bench-token";
/// Distinct pre-rendered batches the clients cycle through.
const DISTINCT_BATCHES: usize = 64;
const IO_TIMEOUT: Duration = Duration::from_secs(60);

struct Settings {
    events: usize,
    clients: usize,
    batch: usize,
    modes: Vec<String>,
}

fn env_number(name: &str, default: usize) -> anyhow::Result<usize> {
    match std::env::var(name) {
        Ok(text) => {
            let value: usize = text
                .trim()
                .parse()
                .with_context(|| format!("{name}={text:?} is not a number"))?;
            ensure!(value > 0, "{name} must be at least 1");
            Ok(value)
        }
        Err(_) => Ok(default),
    }
}

fn settings() -> anyhow::Result<Settings> {
    let modes = std::env::var("HEC_BENCH_MODES").unwrap_or_else(|_| "plain,tls".to_owned());
    let modes: Vec<String> = modes.split(',').map(|m| m.trim().to_owned()).collect();
    for mode in &modes {
        ensure!(
            mode == "plain" || mode == "tls",
            "HEC_BENCH_MODES: unknown mode {mode:?} (plain, tls)"
        );
    }
    Ok(Settings {
        events: env_number("HEC_BENCH_EVENTS", 500_000)?,
        clients: env_number("HEC_BENCH_CLIENTS", 4)?,
        batch: env_number("HEC_BENCH_BATCH", 100)?,
        modes,
    })
}

/// `count` envelopes from a seeded generator, each one HEC JSON object, concatenated.
fn render_envelopes(count: usize) -> anyhow::Result<Vec<Vec<u8>>> {
    let options = format::Options::default();
    let mut buf = vec![0u8; format::MAX_LEN];
    let mut envelopes = Vec::with_capacity(count);
    for alert in Generator::new(7, 1_764_000_000_000).take(count) {
        let event = Event::from(alert);
        let mut sink = format::SliceWriter::new(&mut buf);
        format::write(Kind::Hec, &event, &options, &mut sink)
            .map_err(|err| anyhow::anyhow!("rendering: {err}"))?;
        envelopes.push(sink.written().to_vec());
    }
    Ok(envelopes)
}

/// A whole request (head + body) for each pre-rendered batch, and each one's body size.
fn render_requests(batch: usize) -> anyhow::Result<Vec<(Vec<u8>, usize)>> {
    let envelopes = render_envelopes(batch * DISTINCT_BATCHES)?;
    Ok(envelopes.chunks(batch).map(request_for).collect())
}

fn request_for(envelopes: &[Vec<u8>]) -> (Vec<u8>, usize) {
    let body: Vec<u8> = envelopes.concat();
    let mut request = format!(
        "POST /services/collector/event HTTP/1.1\r\nHost: localhost\r\n\
         Authorization: Splunk {TOKEN}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(&body);
    (request, body.len())
}

fn hec_config() -> HecConfig {
    HecConfig {
        tokens: vec![Token::new("bench", TOKEN)],
        ..HecConfig::default()
    }
}

/// Reads one response; fails unless it is 200 with HEC code 0.
fn expect_success<R: BufRead>(reader: &mut R, line: &mut String) -> anyhow::Result<()> {
    line.clear();
    reader.read_line(line)?;
    ensure!(line.starts_with("HTTP/1.1 200 "), "status line {line:?}");
    let mut length = None;
    loop {
        line.clear();
        reader.read_line(line)?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = Some(value.trim().parse::<usize>()?);
        }
    }
    let length = length.context("reply without Content-Length")?;
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let reply: serde_json::Value = serde_json::from_slice(&body)?;
    ensure!(
        reply.get("code").and_then(serde_json::Value::as_u64) == Some(0),
        "HEC reply {reply}"
    );
    Ok(())
}

/// Work shared by the clients: batch numbers are claimed from `next`.
struct Work {
    events: usize,
    batch: usize,
    next: AtomicUsize,
    requests: Vec<(Vec<u8>, usize)>,
    envelopes_for_tail: Vec<Vec<u8>>,
}

/// Posts claimed batches over `stream` until none is left; returns (events, body bytes).
fn client<S: Read + Write>(stream: S, work: &Work) -> anyhow::Result<(usize, usize)> {
    let mut reader = BufReader::with_capacity(64 * 1024, stream);
    let mut line = String::new();
    let (mut events, mut bytes) = (0, 0);
    loop {
        let number = work.next.fetch_add(1, Ordering::Relaxed);
        let first = number.saturating_mul(work.batch);
        if first >= work.events {
            break;
        }
        let count = work.batch.min(work.events - first);
        let tail;
        let (request, body_len) = if count == work.batch {
            let index = number % work.requests.len();
            let Some((request, body_len)) = work.requests.get(index) else {
                bail!("no batch {index}");
            };
            (request.as_slice(), *body_len)
        } else {
            let envelopes = work.envelopes_for_tail.get(..count).context("tail batch")?;
            tail = request_for(envelopes);
            (tail.0.as_slice(), tail.1)
        };
        let stream = reader.get_mut();
        stream.write_all(request)?;
        stream.flush()?;
        expect_success(&mut reader, &mut line)?;
        events += count;
        bytes += body_len;
        if count < work.batch {
            break;
        }
    }
    Ok((events, bytes))
}

fn connect(addr: SocketAddr) -> anyhow::Result<TcpStream> {
    let tcp = TcpStream::connect(addr)?;
    tcp.set_nodelay(true)?;
    tcp.set_read_timeout(Some(IO_TIMEOUT))?;
    tcp.set_write_timeout(Some(IO_TIMEOUT))?;
    Ok(tcp)
}

enum Mode {
    Plain,
    Tls(Arc<ClientConfig>),
}

fn run(
    label: &str,
    server: RunningServer,
    store: &Store,
    mode: &Mode,
    settings: &Settings,
    work: Work,
) -> anyhow::Result<()> {
    let addr = server.local_addr();
    let work = Arc::new(work);
    let started = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..settings.clients {
        let work = Arc::clone(&work);
        let tls = match mode {
            Mode::Plain => None,
            Mode::Tls(config) => Some(Arc::clone(config)),
        };
        handles.push(thread::spawn(move || -> anyhow::Result<(usize, usize)> {
            let tcp = connect(addr)?;
            match tls {
                None => client(tcp, &work),
                Some(config) => {
                    let conn = ClientConnection::new(config, ServerName::try_from("localhost")?)?;
                    client(StreamOwned::new(conn, tcp), &work)
                }
            }
        }));
    }
    let (mut events, mut bytes) = (0, 0);
    for handle in handles {
        let (client_events, client_bytes) = handle
            .join()
            .map_err(|_| anyhow::anyhow!("a client thread panicked"))??;
        events += client_events;
        bytes += client_bytes;
    }
    let elapsed = started.elapsed().as_secs_f64();
    server.shutdown();

    ensure!(
        events == settings.events,
        "sent {events} of {}",
        settings.events
    );
    ensure!(
        store.len() == events && store.dropped() == 0,
        "store holds {} (dropped {}), sent {events}",
        store.len(),
        store.dropped()
    );
    #[expect(
        clippy::cast_precision_loss,
        reason = "counts far below 2^52 in a rate printout"
    )]
    let (events_f, bytes_f) = (events as f64, bytes as f64);
    println!(
        "hec_ingest {label:5}: {events} events ({:.1} MB of bodies) in {elapsed:.3} s by {} \
         clients, batches of {}: {:.0} events/s, {:.1} MB/s; store holds {}",
        bytes_f / 1e6,
        settings.clients,
        settings.batch,
        events_f / elapsed,
        bytes_f / 1e6 / elapsed,
        store.len(),
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let settings = settings()?;
    let requests = render_requests(settings.batch)?;
    let envelopes_for_tail = render_envelopes(settings.batch)?;
    let work = || Work {
        events: settings.events,
        batch: settings.batch,
        next: AtomicUsize::new(0),
        requests: requests.clone(),
        envelopes_for_tail: envelopes_for_tail.clone(),
    };
    let store_config = StoreConfig {
        max_events: settings.events,
        jsonl: None,
    };
    let addr: SocketAddr = "127.0.0.1:0".parse()?;
    for mode in &settings.modes {
        let store = Store::new(store_config.clone())?;
        if mode == "plain" {
            let server = hec_server(addr, hec_config(), store.clone())?;
            run("plain", server, &store, &Mode::Plain, &settings, work())?;
        } else {
            let material = TlsMaterial::generate::<&str>(&[])?;
            let config = hec_config();
            let limits = Limits {
                max_body: config.max_content_length.min(DEFAULT_MAX_BODY),
                ..Limits::default()
            };
            let server = Server::start_with(
                addr,
                limits,
                material.acceptor()?,
                HecHandler::new(config, store.clone()),
            )?;
            let client_config = material.client_config()?;
            run(
                "tls",
                server,
                &store,
                &Mode::Tls(client_config),
                &settings,
                work(),
            )?;
        }
    }
    Ok(())
}
