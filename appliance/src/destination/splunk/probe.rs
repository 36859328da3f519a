//! `icsfwd test` of a `splunk` destination: the receiver URL with its metadata and how it
//! authenticates, then the shared HTTP steps ([`crate::destination::probe`]).

use std::io::{self, Write};
use std::net::IpAddr;

use super::sender::{SIMPLE_PATH, SplunkSender, percent_encode};
use super::{Auth, Splunk};
use crate::destination::Destination;
use crate::destination::probe::{self, Conclusion, ProbeOptions, Sent, TestAlert, Words};

/// Runs the test of `destination` (`splunk` its settings, `sensor_ip` its `host`), writing
/// each step to `out`: on each host when it lists several.
pub(crate) fn run(
    destination: &Destination,
    splunk: &Splunk,
    sensor_ip: IpAddr,
    alert: &TestAlert,
    out: &mut dyn Write,
    options: &ProbeOptions,
) -> io::Result<Conclusion> {
    probe::header(destination, out)?;
    let urls = splunk.base_urls();
    if let [base] = urls.as_slice() {
        describe_url(splunk, base, sensor_ip, out)?;
    }
    describe_auth(splunk, out)?;
    probe::describe_path(&splunk.proxy, &urls, out)?;
    probe::describe_tls(&destination.tls, out)?;
    let hosts: Vec<String> = splunk.hosts.iter().map(ToString::to_string).collect();
    probe::each_host(out, &hosts, |i, out| {
        let mut one = splunk.clone();
        one.hosts = splunk.hosts.get(i).cloned().into_iter().collect();
        if let (true, Some(base)) = (hosts.len() > 1, urls.get(i)) {
            describe_url(splunk, base, sensor_ip, out)?;
        }
        run_one(destination, &one, sensor_ip, alert, out, options)
    })
}

/// The test of one host (`splunk` lists only it).
fn run_one(
    destination: &Destination,
    splunk: &Splunk,
    sensor_ip: IpAddr,
    alert: &TestAlert,
    out: &mut dyn Write,
    options: &ProbeOptions,
) -> io::Result<Conclusion> {
    let built = SplunkSender::new(splunk, sensor_ip, &destination.tls, &destination.timeouts);
    let mut sender = match built {
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

/// The receiver URL at `base` with its query (never a secret).
fn describe_url(
    splunk: &Splunk,
    base: &str,
    sensor_ip: IpAddr,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut query = format!(
        "host={}&source={}&sourcetype={}",
        percent_encode(&sensor_ip.to_string()),
        percent_encode(&splunk.source),
        percent_encode(&splunk.sourcetype)
    );
    if let Some(index) = &splunk.index {
        query.push_str("&index=");
        query.push_str(&percent_encode(index));
    }
    query.push_str("&output_mode=json");
    writeln!(out, "url: {base}{SIMPLE_PATH}?{query}")
}

/// How it authenticates (never a secret).
fn describe_auth(splunk: &Splunk, out: &mut dyn Write) -> io::Result<()> {
    match &splunk.auth {
        Auth::Basic { username, .. } => {
            writeln!(out, "auth: basic, user {username:?} (password not shown)")?;
        }
        Auth::Session { username, .. } => writeln!(
            out,
            "auth: session key from /services/auth/login, user {username:?} (password not \
             shown)"
        )?,
        Auth::Bearer { .. } => writeln!(out, "auth: bearer token (not shown)")?,
    }
    Ok(())
}

/// splunkd's words for the fixes that depend on the kind.
pub(crate) fn words(splunk: &Splunk) -> Words {
    let credentials = match splunk.auth {
        Auth::Bearer { .. } => {
            "check the token (token, token_file or token_env) and that it is enabled in Splunk"
        }
        Auth::Basic { .. } | Auth::Session { .. } => {
            "check username and password (password, password_file or password_env)"
        }
    };
    Words {
        credentials,
        index: splunk.index.clone(),
        index_whose: "or allow the user's role to write to it",
        wrong_endpoint: WRONG_ENDPOINT,
    }
}

/// What to check when what answered is not splunkd's management port.
pub(crate) const WRONG_ENDPOINT: &str = "what answered is not splunkd's management port: check \
                                         host and port (8089 by default; not the web port 8000 \
                                         nor HEC's 8088)";
