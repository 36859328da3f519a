//! `icsfwd test` of a `hec` destination: what it sends to, how it authenticates and whether
//! acks are on, then the shared HTTP steps ([`crate::destination::probe`]).

use std::io::{self, Write};

use super::Hec;
use super::sender::{EVENT_PATH, HecSender};
use crate::destination::Destination;
use crate::destination::probe::{self, Conclusion, ProbeOptions, Sent, TestAlert, Words};

/// Runs the test of `destination` (`hec` its settings), writing each step to `out`.
pub(crate) fn run(
    destination: &Destination,
    hec: &Hec,
    alert: &TestAlert,
    out: &mut dyn Write,
    options: &ProbeOptions,
) -> io::Result<Conclusion> {
    probe::header(destination, out)?;
    describe(hec, out)?;
    let bases: Vec<String> = hec.urls.iter().map(ToString::to_string).collect();
    probe::describe_path(&hec.proxy, &bases, out)?;
    probe::describe_tls(&destination.tls, out)?;
    let urls: Vec<String> = hec.urls.iter().map(ToString::to_string).collect();
    probe::each_host(out, &urls, |i, out| {
        let mut one = hec.clone();
        one.urls = hec.urls.get(i).cloned().into_iter().collect();
        run_one(destination, &one, alert, out, options)
    })
}

/// The test of one URL (`hec` lists only it).
fn run_one(
    destination: &Destination,
    hec: &Hec,
    alert: &TestAlert,
    out: &mut dyn Write,
    options: &ProbeOptions,
) -> io::Result<Conclusion> {
    let mut sender = match HecSender::new(hec, &destination.tls, &destination.timeouts) {
        Ok(sender) => sender,
        Err(err) => {
            let reason = format!("cannot set up the sender: {err}");
            return probe::fail(out, destination, reason);
        }
    };
    match probe::send(destination, &mut sender, alert, out)? {
        Sent::Ended(conclusion) => Ok(conclusion),
        Sent::Answered {
            delivered,
            took,
            status,
        } => probe::answered_over_http(
            &mut sender,
            destination,
            (delivered, took, status),
            out,
            options,
        ),
    }
}

/// The URLs, the authentication and the acks (never a secret).
fn describe(hec: &Hec, out: &mut dyn Write) -> io::Result<()> {
    for url in &hec.urls {
        writeln!(out, "url: {url}{EVENT_PATH}")?;
    }
    writeln!(out, "auth: HEC token (not shown)")?;
    if hec.ack {
        writeln!(
            out,
            "acks: on (ack_deadline {} s)",
            hec.ack_deadline.as_secs()
        )?;
    } else {
        writeln!(out, "acks: off (a 200 means received, not indexed)")?;
    }
    Ok(())
}

/// HEC's words for the fixes that depend on the kind.
pub(crate) fn words(hec: &Hec) -> Words {
    Words {
        credentials: "check the HEC token (token, token_file or token_env) and that it is \
                      enabled in Splunk",
        index: hec.envelope.index.as_ref().map(|i| i.as_str().to_owned()),
        index_whose: "or add it to the token's allowed indexes (Settings › Data inputs › HTTP \
                      Event Collector)",
        wrong_endpoint: "what answered is not Splunk's HEC: check urls (scheme, host and port; \
                         HEC listens on 8088 by default, once enabled in Settings › Data \
                         inputs › HTTP Event Collector › Global Settings)",
    }
}
