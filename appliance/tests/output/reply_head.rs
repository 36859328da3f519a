//! The HTTP client's buffers are small (`destination::http::HTTP_BUFFER`, 16 KiB, not ureq's
//! 128 KiB): a reply whose head fits in them is read as any other, one whose head does not
//! is an invalid reply that names the limit and is retried, promptly and without losing the
//! batch.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use crate::support as output_support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::thread;
use std::time::{Duration, Instant};

use icsfwd::testing::destination::classify::Action;
use icsfwd::testing::destination::hec::Hec;
use icsfwd::testing::destination::hec::sender::HecSender;
use icsfwd::testing::destination::http::HTTP_BUFFER;
use icsfwd::testing::destination::{Secret, Sender};
use output_support::*;

/// A one-connection HEC stand-in on 127.0.0.1 that answers every request with success and a
/// reply head padded to about `head_bytes` by one filler header.
fn server(head_bytes: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        let Ok((stream, _)) = listener.accept() else {
            return;
        };
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut writer = stream;
        loop {
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
                if line == "\r\n" {
                    break;
                }
            }
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_err() {
                return;
            }
            let reply = br#"{"text":"Success","code":0}"#;
            let filler = "x".repeat(head_bytes.saturating_sub(120));
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Filler: {filler}\r\n\
                 Content-Length: {}\r\n\r\n",
                reply.len()
            );
            if writer.write_all(head.as_bytes()).is_err() || writer.write_all(reply).is_err() {
                return;
            }
        }
    });
    format!("http://{addr}")
}

fn sender(url: &str) -> HecSender {
    let tls = Tls::new();
    let hec = Hec::new(vec![url.parse().unwrap()], Secret::new(HEC_TOKEN));
    HecSender::new(&hec, &tls.options(), &timeouts()).unwrap()
}

#[test]
fn a_reply_head_of_a_few_kilobytes_is_read() {
    // A load balancer's cookies and headers: several KB, well inside the buffer.
    let head = HTTP_BUFFER * 3 / 4;
    let mut sender = sender(&server(head));
    let events = events(5);
    let outcome = sender.send(&batch(&events), Instant::now());
    assert!(outcome.all_delivered(), "{head}-byte head: {outcome:?}");
}

#[test]
fn a_reply_head_beyond_the_buffer_is_a_prompt_retried_error() {
    let mut sender = sender(&server(HTTP_BUFFER + 4096));
    let events = events(5);
    let started = Instant::now();
    let outcome = sender.send(&batch(&events), Instant::now());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert!(!outcome.all_delivered(), "{outcome:?}");
    assert!(
        outcome
            .parts
            .iter()
            .all(|p| matches!(p.action, Action::Retry { .. })),
        "{outcome:?}"
    );
    let error = outcome.last_error.clone().unwrap_or_default();
    assert!(
        error.starts_with("invalid reply from http://127.0.0.1:")
            && error.contains(&(HTTP_BUFFER - 1).to_string()),
        "{error}"
    );
}
