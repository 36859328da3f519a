//! A small blocking client for the emulator's [control API](super::control): list, count,
//! search and clear the received events, add, list and remove faults, create indexes, read
//! the stats.
//!
//! What it is: [`ControlClient`] speaks minimal HTTP/1.1 over a std [`TcpStream`] to a
//! loopback address: one request per connection (`Connection: close`), a `Content-Length`
//! body, the answer read by its `Content-Length`. [`Query`] holds the event filters and
//! builds the percent-encoded query string.
//!
//! What it guarantees:
//! - Only loopback addresses are contacted (the control API only listens there); anything
//!   else is [`Error::NotLoopback`] before a connection is tried.
//! - Every wait is bounded: connect, write and each read time out after the client's timeout
//!   (default [`DEFAULT_TIMEOUT`]); the answer's head is at most [`MAX_HEAD`] bytes and its
//!   body at most [`MAX_RESPONSE`] bytes, checked against `Content-Length` before reading it.
//! - A 4xx answer's `{"error","hint"}` comes back unchanged as [`Error::Refused`]; a refused
//!   request is the caller's to fix ([`Error::is_refusal`]); every other error means the API
//!   could not be reached or answered wrongly, and its text says what to check.
//!
//! Choices (the control API is the emulator's own): no keep-alive and no chunked answers (the API
//! always sends `Content-Length`); an answer without `Content-Length` is read to EOF within the
//! same bound.
//!
//! ```no_run
//! use icsfwd_sim::splunk::control_client::{ControlClient, Query};
//!
//! let client = ControlClient::new("127.0.0.1:8090".parse().unwrap());
//! let id = client.add_fault("hec:status=503,code=9,next=1").unwrap();
//! let found = client.events(&Query { contains: Some("Modbus".into()), ..Query::default() }).unwrap();
//! println!("{} events mention Modbus", found["matched"]);
//! client.remove_fault(id).unwrap();
//! ```

use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use serde_json::Value;

/// Connect, write and read timeout of a new client.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest answer head (status line and headers) read.
pub const MAX_HEAD: usize = 16 * 1024;
/// Largest answer body read (10 000 events of a few kilobytes each).
pub const MAX_RESPONSE: usize = 64 * 1024 * 1024;

/// What to tell a user whose control API cannot be reached.
const RUNNING_HINT: &str = "is `icsfwd-sim splunk` running? its control port is printed at \
                            start (--control-port, default 8090); pass it with --control";

/// Why a control request failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The address is not loopback; the control API only listens on loopback.
    NotLoopback(SocketAddr),
    /// No connection could be made.
    Connect {
        /// Where.
        addr: SocketAddr,
        /// Why.
        source: io::Error,
    },
    /// The connection failed or timed out while sending or reading.
    Io {
        /// Where.
        addr: SocketAddr,
        /// Why.
        source: io::Error,
    },
    /// The answer was not the HTTP/JSON the control API sends.
    Malformed {
        /// Where.
        addr: SocketAddr,
        /// What was wrong.
        what: String,
    },
    /// The API refused the request (a 4xx status) and said why.
    Refused {
        /// The HTTP status.
        status: u16,
        /// The `error` field.
        error: String,
        /// The `hint` field (what to send instead).
        hint: String,
    },
    /// The API answered with a status other than 2xx or 4xx.
    Server {
        /// The HTTP status.
        status: u16,
        /// The body, as text.
        body: String,
    },
}

impl Error {
    /// Whether the request itself was refused (fix the request), as opposed to the API being
    /// unreachable or failing (fix the setup).
    #[must_use]
    pub fn is_refusal(&self) -> bool {
        matches!(self, Self::Refused { .. })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotLoopback(addr) => write!(
                f,
                "{addr} is not a loopback address: the control API only listens on loopback \
                 (e.g. 127.0.0.1:8090)"
            ),
            Self::Connect { addr, source } => {
                write!(
                    f,
                    "cannot connect to the control API at {addr}: {source}; {RUNNING_HINT}"
                )
            }
            Self::Io { addr, source } => write!(
                f,
                "the control API at {addr} did not answer: {source}; {RUNNING_HINT}"
            ),
            Self::Malformed { addr, what } => write!(
                f,
                "{addr} answered something other than the control API: {what}; {RUNNING_HINT}"
            ),
            Self::Refused {
                status,
                error,
                hint,
            } => write!(f, "refused ({status}): {error}; {hint}"),
            Self::Server { status, body } => {
                write!(f, "the control API failed ({status}): {body}")
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Connect { source, .. } | Self::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Filters of `GET /_sim/events` and `GET /_sim/events/count` (all exact matches except
/// `contains`, a substring of the payload text); `None` does not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// The index.
    pub index: Option<String>,
    /// The host metadata.
    pub host: Option<String>,
    /// The source metadata.
    pub source: Option<String>,
    /// The sourcetype metadata.
    pub sourcetype: Option<String>,
    /// The receiving endpoint: `hec`, `simple` or `stream`.
    pub receiver: Option<String>,
    /// A substring of the payload text.
    pub contains: Option<String>,
    /// The last this many matches (events only; the API's default and cap apply).
    pub limit: Option<usize>,
}

impl Query {
    /// The `name=value` pairs, percent-encoded and joined with `&` (empty without filters).
    #[must_use]
    pub fn to_query_string(&self) -> String {
        let limit = self.limit.map(|limit| limit.to_string());
        let pairs = [
            ("index", self.index.as_deref()),
            ("host", self.host.as_deref()),
            ("source", self.source.as_deref()),
            ("sourcetype", self.sourcetype.as_deref()),
            ("receiver", self.receiver.as_deref()),
            ("contains", self.contains.as_deref()),
            ("limit", limit.as_deref()),
        ];
        pairs
            .iter()
            .filter_map(|(name, value)| value.map(|value| format!("{name}={}", encode(value))))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A client of one emulator's control API.
#[derive(Debug, Clone)]
pub struct ControlClient {
    addr: SocketAddr,
    timeout: Duration,
}

impl ControlClient {
    /// A client of the control API at `addr`, with [`DEFAULT_TIMEOUT`].
    #[must_use]
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// The same client with another connect/read/write timeout (zero is taken as 1 ms).
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// The address it talks to.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `GET /_sim/events`: `{"matched":n,"events":[...]}`, the last matches, newest last.
    ///
    /// # Errors
    /// See [`Error`].
    pub fn events(&self, query: &Query) -> Result<Value, Error> {
        self.call(
            "GET",
            &with_query("/_sim/events", &query.to_query_string()),
            "",
        )
    }

    /// `GET /_sim/events/count?by=`: `{"by":..,"total":n,"counts":{value:n}}` over the events
    /// matching `query` (its `limit` is not sent). `by` is one of `receiver`, `index`, `host`,
    /// `source`, `sourcetype`; the API refuses others.
    ///
    /// # Errors
    /// See [`Error`].
    pub fn count(&self, by: &str, query: &Query) -> Result<Value, Error> {
        let filters = Query {
            limit: None,
            ..query.clone()
        }
        .to_query_string();
        let mut target = format!("/_sim/events/count?by={}", encode(by));
        if !filters.is_empty() {
            target.push('&');
            target.push_str(&filters);
        }
        self.call("GET", &target, "")
    }

    /// `DELETE /_sim/events`: how many events were removed.
    ///
    /// # Errors
    /// See [`Error`].
    pub fn clear_events(&self) -> Result<u64, Error> {
        let answer = self.call("DELETE", "/_sim/events", "")?;
        self.field_u64(&answer, "removed")
    }

    /// `GET /_sim/faults`: `{"seed":s,"faults":[{"id","spec","fault","fired","state"}]}`.
    ///
    /// # Errors
    /// See [`Error`].
    pub fn faults(&self) -> Result<Value, Error> {
        self.call("GET", "/_sim/faults", "")
    }

    /// `POST /_sim/faults` with one fault in the text syntax (or its JSON form): its id.
    ///
    /// # Errors
    /// [`Error::Refused`] with what is allowed for a bad spec; see [`Error`].
    pub fn add_fault(&self, spec: &str) -> Result<u64, Error> {
        let answer = self.call("POST", "/_sim/faults", spec)?;
        self.field_u64(&answer, "id")
    }

    /// `DELETE /_sim/faults/<id>`.
    ///
    /// # Errors
    /// [`Error::Refused`] (404) for an unknown id; see [`Error`].
    pub fn remove_fault(&self, id: u64) -> Result<(), Error> {
        self.call("DELETE", &format!("/_sim/faults/{id}"), "")
            .map(drop)
    }

    /// `DELETE /_sim/faults`: how many faults were removed.
    ///
    /// # Errors
    /// See [`Error`].
    pub fn clear_faults(&self) -> Result<u64, Error> {
        let answer = self.call("DELETE", "/_sim/faults", "")?;
        self.field_u64(&answer, "removed")
    }

    /// `POST /_sim/indexes`: creates index `name` on HEC and splunkd; whether it is new.
    ///
    /// # Errors
    /// [`Error::Refused`] for a name that is not an index name; see [`Error`].
    pub fn create_index(&self, name: &str) -> Result<bool, Error> {
        let answer = self.call("POST", "/_sim/indexes", name)?;
        answer
            .get("created")
            .and_then(Value::as_bool)
            .ok_or_else(|| self.malformed(format!("the answer has no \"created\": {answer}")))
    }

    /// `GET /_sim/stats`: request counts by server and status, the store, pending acks and
    /// the number of faults.
    ///
    /// # Errors
    /// See [`Error`].
    pub fn stats(&self) -> Result<Value, Error> {
        self.call("GET", "/_sim/stats", "")
    }

    fn field_u64(&self, answer: &Value, name: &str) -> Result<u64, Error> {
        answer
            .get(name)
            .and_then(Value::as_u64)
            .ok_or_else(|| self.malformed(format!("the answer has no number {name:?}: {answer}")))
    }

    fn malformed(&self, what: String) -> Error {
        Error::Malformed {
            addr: self.addr,
            what,
        }
    }

    /// One request; a 2xx answer's JSON body, or the error.
    fn call(&self, method: &str, target: &str, body: &str) -> Result<Value, Error> {
        let (status, body) = self.exchange(method, target, body.as_bytes())?;
        let text = String::from_utf8_lossy(&body);
        let json = serde_json::from_str::<Value>(&text);
        match (status, json) {
            (200..=299, Ok(value)) => Ok(value),
            (200..=299, Err(err)) => Err(self.malformed(format!("the answer is not JSON: {err}"))),
            (400..=499, Ok(value)) => Err(Error::Refused {
                status,
                error: text_field(&value, "error"),
                hint: text_field(&value, "hint"),
            }),
            _ => Err(Error::Server {
                status,
                body: text.into_owned(),
            }),
        }
    }

    /// Sends the request and reads the status and body.
    fn exchange(&self, method: &str, target: &str, body: &[u8]) -> Result<(u16, Vec<u8>), Error> {
        let addr = self.addr;
        if !addr.ip().is_loopback() {
            return Err(Error::NotLoopback(addr));
        }
        let io_err = |source| Error::Io { addr, source };
        let stream = TcpStream::connect_timeout(&addr, self.timeout)
            .map_err(|source| Error::Connect { addr, source })?;
        stream
            .set_read_timeout(Some(self.timeout))
            .map_err(io_err)?;
        stream
            .set_write_timeout(Some(self.timeout))
            .map_err(io_err)?;
        let head = format!(
            "{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
             Content-Type: text/plain\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let mut writer = &stream;
        writer.write_all(head.as_bytes()).map_err(io_err)?;
        writer.write_all(body).map_err(io_err)?;
        writer.flush().map_err(io_err)?;
        let mut reader = BufReader::new(&stream).take(bound(MAX_HEAD));
        let status_line = read_line(&mut reader).map_err(io_err)?;
        let status = parse_status(&status_line)
            .ok_or_else(|| self.malformed(format!("bad status line {status_line:?}")))?;
        let mut length = None;
        loop {
            let line = read_line(&mut reader).map_err(io_err)?;
            if line.is_empty() {
                break;
            }
            let Some((name, value)) = line.split_once(':') else {
                return Err(self.malformed(format!("bad header line {line:?}")));
            };
            if name.trim().eq_ignore_ascii_case("content-length") {
                let value = value.trim().parse::<usize>().map_err(|_| {
                    self.malformed(format!("bad Content-Length {:?}", value.trim()))
                })?;
                length = Some(value);
            }
        }
        let mut reader = reader.into_inner();
        let mut body = Vec::new();
        match length {
            Some(length) if length > MAX_RESPONSE => {
                return Err(self.too_large());
            }
            Some(length) => {
                body.resize(length, 0);
                reader.read_exact(&mut body).map_err(io_err)?;
            }
            None => {
                reader
                    .take(bound(MAX_RESPONSE) + 1)
                    .read_to_end(&mut body)
                    .map_err(io_err)?;
                if body.len() > MAX_RESPONSE {
                    return Err(self.too_large());
                }
            }
        }
        Ok((status, body))
    }

    fn too_large(&self) -> Error {
        self.malformed(format!(
            "the answer is larger than {MAX_RESPONSE} bytes; narrow it with filters or a limit"
        ))
    }
}

fn with_query(path: &str, query: &str) -> String {
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    }
}

fn bound(limit: usize) -> u64 {
    u64::try_from(limit).unwrap_or(u64::MAX)
}

fn text_field(value: &Value, name: &str) -> String {
    match value.get(name) {
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

/// One CRLF- (or LF-) ended line without its ending; a head over the bound or cut short is an
/// error.
fn read_line<R: BufRead>(reader: &mut R) -> io::Result<String> {
    let mut line = Vec::new();
    let read = reader.read_until(b'\n', &mut line)?;
    if read == 0 || !line.ends_with(b"\n") {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("the answer's head ended early or is over {MAX_HEAD} bytes"),
        ));
    }
    line.pop();
    if line.ends_with(b"\r") {
        line.pop();
    }
    Ok(String::from_utf8_lossy(&line).into_owned())
}

/// The status of `HTTP/1.x NNN reason`.
fn parse_status(line: &str) -> Option<u16> {
    let mut parts = line.splitn(3, ' ');
    let version = parts.next()?;
    let code = parts.next()?;
    if !version.starts_with("HTTP/1.") || code.len() != 3 {
        return None;
    }
    code.parse().ok()
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        reason = "tests"
    )]

    use super::*;

    #[test]
    fn query_strings_encode_values_and_skip_missing_filters() {
        let cases = [
            (Query::default(), ""),
            (
                Query {
                    index: Some("ot".into()),
                    limit: Some(5),
                    ..Query::default()
                },
                "index=ot&limit=5",
            ),
            (
                Query {
                    contains: Some("a b&c=d/é".into()),
                    sourcetype: Some("icsfwd:alert".into()),
                    ..Query::default()
                },
                "sourcetype=icsfwd%3Aalert&contains=a%20b%26c%3Dd%2F%C3%A9",
            ),
        ];
        for (query, expected) in cases {
            assert_eq!(query.to_query_string(), expected, "{query:?}");
        }
    }

    #[test]
    fn encoded_values_decode_back_to_the_same_text() {
        for value in ["plain", "a+b c", "100%", "x=1&y=2", "é⏎\n"] {
            assert_eq!(super::super::http::percent_decode(&encode(value)), value);
        }
    }

    #[test]
    fn status_lines_parse_only_when_well_formed() {
        let cases = [
            ("HTTP/1.1 200 OK", Some(200)),
            ("HTTP/1.0 404 Not Found", Some(404)),
            ("HTTP/1.1 201", Some(201)),
            ("SSH-2.0-OpenSSH", None),
            ("HTTP/1.1 20 OK", None),
            ("", None),
        ];
        for (line, expected) in cases {
            assert_eq!(parse_status(line), expected, "{line:?}");
        }
    }

    /// Answers one connection with `reply` after reading the request head; the client's
    /// result of `GET /_sim/stats`.
    fn stats_answered_with(reply: &'static [u8]) -> Result<Value, Error> {
        use std::net::TcpListener;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (conn, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(&conn);
            while read_line(&mut reader).is_ok_and(|line| !line.is_empty()) {}
            drop((&conn).write_all(reply));
        });
        let result = ControlClient::new(addr)
            .with_timeout(Duration::from_secs(10))
            .stats();
        server.join().unwrap();
        result
    }

    #[test]
    fn answers_map_to_values_refusals_and_failures() {
        let ok = stats_answered_with(b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n{\"a\":1}");
        assert_eq!(ok.unwrap(), serde_json::json!({"a": 1}));
        let unframed = stats_answered_with(b"HTTP/1.1 200 OK\r\n\r\n[1]");
        assert_eq!(unframed.unwrap(), serde_json::json!([1]));
        let refused = stats_answered_with(
            b"HTTP/1.1 400 Bad Request\r\nContent-Length: 27\r\n\r\n{\"error\":\"no\",\"hint\":\"yes\"}",
        );
        assert!(
            matches!(&refused, Err(Error::Refused { status: 400, error, hint }) if error == "no" && hint == "yes"),
            "{refused:?}"
        );
        let failed = stats_answered_with(b"HTTP/1.1 500 Oops\r\nContent-Length: 4\r\n\r\noops");
        assert!(
            matches!(&failed, Err(Error::Server { status: 500, body }) if body == "oops"),
            "{failed:?}"
        );
        let cut = stats_answered_with(b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n{}");
        assert!(matches!(cut, Err(Error::Io { .. })), "{cut:?}");
        let huge = stats_answered_with(b"HTTP/1.1 200 OK\r\nContent-Length: 999999999999\r\n\r\n");
        assert!(
            matches!(&huge, Err(e) if e.to_string().contains("larger than")),
            "{huge:?}"
        );
        let not_http = stats_answered_with(b"SSH-2.0-OpenSSH_9.6\r\n");
        assert!(
            matches!(not_http, Err(Error::Malformed { .. })),
            "{not_http:?}"
        );
        let not_json = stats_answered_with(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");
        assert!(
            matches!(not_json, Err(Error::Malformed { .. })),
            "{not_json:?}"
        );
    }

    #[test]
    fn a_non_loopback_address_is_refused_before_connecting() {
        let client = ControlClient::new("192.0.2.1:8090".parse().unwrap());
        let err = client.stats().unwrap_err();
        assert!(matches!(err, Error::NotLoopback(_)), "{err}");
        assert!(!err.is_refusal());
    }

    #[test]
    fn a_refused_request_passes_the_error_and_hint_through() {
        let err = Error::Refused {
            status: 400,
            error: "bad".into(),
            hint: "send good".into(),
        };
        assert!(err.is_refusal());
        assert_eq!(err.to_string(), "refused (400): bad; send good");
    }
}
