//! The emulator's control API: a small plain-HTTP JSON API on its own loopback port, for tests
//! and the CLI to read what was received and to add or remove faults at run time.
//!
//! What it is: [`Control`] is a [`Handler`] over the shared [`Store`], [`Faults`], [`Stats`]
//! and (optionally) the HEC state; [`control_server`] puts it on a socket. Faults never apply
//! to this port.
//!
//! | request | answer |
//! | --- | --- |
//! | `GET /_sim/events?index=&host=&source=&sourcetype=&receiver=&contains=&limit=` | `{"matched":n,"events":[...]}`, the last `limit` (default 1000, at most [`MAX_LIMIT`]) matches, newest last |
//! | `GET /_sim/events/count?by=<receiver\|index\|host\|source\|sourcetype>` (+ the filters above) | `{"by":..,"total":n,"counts":{value:n}}` |
//! | `DELETE /_sim/events` | `{"removed":n}` |
//! | `GET /_sim/faults` | `{"seed":s,"faults":[{"id","spec","fault","fired","state"}]}` |
//! | `POST /_sim/faults` (body: the text syntax, or its JSON form — one fault) | `201 {"id":n,"spec":".."}` |
//! | `DELETE /_sim/faults`, `DELETE /_sim/faults/<id>` | `{"removed":n}` (404 for an unknown id) |
//! | `GET /_sim/stats` | `{"requests":{"hec":{"200":n,..},"splunkd":{..}},"events":{"stored":n,"dropped":n},"pending_acks":n,"faults":n}` |
//! | `POST /_sim/indexes` (body: an index name) | `201 {"index":"..","created":true}` (`200`, `false` if it existed): HEC and splunkd accept it from now on |
//!
//! What it guarantees: every answer is JSON; an error is `{"error":"..","hint":".."}` with a
//! 4xx status saying what to do; request bodies are at most [`MAX_CONTROL_BODY`] bytes, at
//! most [`MAX_CONTROL_CONNECTIONS`] connections at once; filter values are exact matches except
//! `contains` (a substring of the payload text). Request outcomes that are not replies count
//! under `"hang"` and `"reset"` in the stats.
//!
//! ```
//! use icsfwd_sim::splunk::control::{Control, Stats};
//! use icsfwd_sim::splunk::faults::Faults;
//! use icsfwd_sim::splunk::http::Request;
//! use icsfwd_sim::splunk::server::Handler;
//! use icsfwd_sim::splunk::store::{Store, StoreConfig};
//!
//! let control = Control {
//!     store: Store::new(StoreConfig::default()).unwrap(),
//!     faults: Faults::new(1),
//!     stats: Stats::default(),
//!     hec: None,
//!     splunkd: None,
//! };
//! let peer = "127.0.0.1:1".parse().unwrap();
//! let add = Request::from_target("POST", "/_sim/faults").with_body(b"hec:status=503,code=9".to_vec());
//! let resp = control.handle(&add, peer);
//! assert_eq!(resp.status, 201);
//! assert_eq!(resp.body_text(), r#"{"id":1,"spec":"hec:status=503,code=9"}"#);
//! ```

use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde_json::{Value, json};

use super::faults::{FaultSpec, Faults, Server as Kind};
use super::hec::Hec;
use super::http::{Request, Response};
use super::server::{Handler, Limits, PlainTcp, RunningServer, Server};
use super::splunkd::Splunkd;
use super::store::{Field, Filter, Store, Stored};

/// Most events one `GET /_sim/events` returns.
pub const MAX_LIMIT: usize = 10_000;
/// Default `limit` of `GET /_sim/events`.
pub const DEFAULT_LIMIT: usize = 1000;
/// Largest control request body.
pub const MAX_CONTROL_BODY: usize = 64 * 1024;
/// Control connections served at once.
pub const MAX_CONTROL_CONNECTIONS: usize = 16;

/// Requests answered, by server and status (or `hang`/`reset`); clones share the counts.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    inner: Arc<Mutex<BTreeMap<(&'static str, String), u64>>>,
}

impl Stats {
    /// Counts one request to `server` answered with `outcome` (a status, `hang` or `reset`).
    pub fn record(&self, server: Kind, outcome: &str) {
        let mut counts = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        *counts
            .entry((server.name(), outcome.to_owned()))
            .or_insert(0) += 1;
    }

    /// How many requests to `server` ended with `outcome`.
    #[must_use]
    pub fn count(&self, server: Kind, outcome: &str) -> u64 {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&(server.name(), outcome.to_owned()))
            .copied()
            .unwrap_or(0)
    }

    /// `{"hec":{"200":n,..},"splunkd":{..}}`.
    #[must_use]
    pub fn to_json(&self) -> Value {
        let mut out = json!({"hec": {}, "splunkd": {}});
        for ((server, outcome), count) in self
            .inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            if let Some(per_server) = out.get_mut(*server).and_then(Value::as_object_mut) {
                per_server.insert(outcome.clone(), json!(count));
            }
        }
        out
    }
}

/// The control API's state (all shared with the emulated servers).
#[derive(Debug, Clone)]
pub struct Control {
    /// The received events.
    pub store: Store,
    /// The fault registry.
    pub faults: Faults,
    /// Request counts.
    pub stats: Stats,
    /// The HEC state, for the pending-ack count (`None`: reported as 0) and new indexes.
    pub hec: Option<Arc<Mutex<Hec>>>,
    /// The splunkd state, for new indexes.
    pub splunkd: Option<Arc<Mutex<Splunkd>>>,
}

/// Longest index name `POST /_sim/indexes` takes (Splunk's own limit is lower).
pub const MAX_INDEX_NAME: usize = 256;

/// Starts the control API on `addr` (plain HTTP; give it a loopback address).
///
/// # Errors
/// Binding failed.
pub fn control_server(addr: SocketAddr, control: Control) -> io::Result<RunningServer> {
    let limits = Limits {
        max_connections: MAX_CONTROL_CONNECTIONS,
        max_body: MAX_CONTROL_BODY,
        idle_timeout: Duration::from_secs(30),
        read_to_eof_paths: Vec::new(),
        ..Limits::default()
    };
    Server::start_with(addr, limits, PlainTcp, control)
}

fn error(status: u16, error: &str, hint: &str) -> Response {
    Response::json(status, &json!({"error": error, "hint": hint}).to_string())
}

fn ok(status: u16, body: &Value) -> Response {
    Response::json(status, &body.to_string())
}

const ENDPOINTS: &str = "GET/DELETE /_sim/events, GET /_sim/events/count?by=<field>, \
     GET/POST/DELETE /_sim/faults, DELETE /_sim/faults/<id>, GET /_sim/stats, \
     POST /_sim/indexes";

impl Handler for Control {
    fn handle(&self, req: &Request, _peer: SocketAddr) -> Response {
        let path = req.path.trim_end_matches('/');
        match (req.method.as_str(), path) {
            ("GET", "/_sim/events") => self.events(req),
            ("GET", "/_sim/events/count") => self.count(req),
            ("DELETE", "/_sim/events") => ok(200, &json!({"removed": self.store.clear()})),
            ("GET", "/_sim/faults") => {
                let faults: Vec<Value> = self.faults.list().iter().map(|f| f.to_json()).collect();
                ok(200, &json!({"seed": self.faults.seed(), "faults": faults}))
            }
            ("POST", "/_sim/faults") => self.add_fault(req),
            ("DELETE", "/_sim/faults") => ok(200, &json!({"removed": self.faults.clear()})),
            ("DELETE", _) if path.starts_with("/_sim/faults/") => {
                let id = path.trim_start_matches("/_sim/faults/");
                match id.parse::<u64>() {
                    Ok(id) if self.faults.remove(id) => ok(200, &json!({"removed": 1})),
                    Ok(_) => error(
                        404,
                        &format!("no fault with id {id}"),
                        "GET /_sim/faults lists the ids",
                    ),
                    Err(_) => error(
                        400,
                        &format!("fault id {id:?} is not a number"),
                        "use DELETE /_sim/faults/<id> with the id POST answered",
                    ),
                }
            }
            ("GET", "/_sim/stats") => self.stats(),
            ("POST", "/_sim/indexes") => self.create_index(req),
            (
                _,
                "/_sim/events" | "/_sim/events/count" | "/_sim/faults" | "/_sim/stats"
                | "/_sim/indexes",
            ) => error(
                405,
                &format!("{} is not allowed on {path}", req.method),
                ENDPOINTS,
            ),
            _ => error(404, &format!("no endpoint {path}"), ENDPOINTS),
        }
    }
}

impl Control {
    fn filtered(&self, req: &Request) -> Vec<Stored> {
        let param = |name: &str| req.query_param(name).map(str::to_owned);
        let filter = Filter {
            index: param("index"),
            sourcetype: param("sourcetype"),
            host: param("host"),
            contains: param("contains"),
        };
        let source = req.query_param("source");
        let receiver = req.query_param("receiver");
        let mut events = self.store.list(&filter);
        events.retain(|event| {
            source.is_none_or(|wanted| wanted == event.source)
                && receiver.is_none_or(|wanted| wanted == event.receiver.name())
        });
        events
    }

    fn events(&self, req: &Request) -> Response {
        let limit = match req.query_param("limit").map(str::parse::<usize>) {
            None => DEFAULT_LIMIT,
            Some(Ok(limit)) if limit <= MAX_LIMIT => limit,
            Some(_) => {
                return error(
                    400,
                    "limit must be a number up to 10000",
                    "page with filters, or DELETE /_sim/events between runs",
                );
            }
        };
        let events = self.filtered(req);
        let skip = events.len().saturating_sub(limit);
        let listed: Vec<Value> = events.iter().skip(skip).map(Stored::to_json).collect();
        ok(200, &json!({"matched": events.len(), "events": listed}))
    }

    fn count(&self, req: &Request) -> Response {
        let by = req.query_param("by").unwrap_or("receiver");
        let field = match by {
            "receiver" => Field::Receiver,
            "index" => Field::Index,
            "host" => Field::Host,
            "source" => Field::Source,
            "sourcetype" => Field::Sourcetype,
            other => {
                return error(
                    400,
                    &format!("cannot count by {other:?}"),
                    "by= one of receiver, index, host, source, sourcetype",
                );
            }
        };
        let events = self.filtered(req);
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        for event in &events {
            let value = match field {
                Field::Receiver => event.receiver.name(),
                Field::Index => &event.index,
                Field::Host => &event.host,
                Field::Source => &event.source,
                Field::Sourcetype => &event.sourcetype,
            };
            *counts.entry(value.to_owned()).or_insert(0) += 1;
        }
        ok(
            200,
            &json!({"by": by, "total": events.len(), "counts": counts}),
        )
    }

    fn add_fault(&self, req: &Request) -> Response {
        let text = String::from_utf8_lossy(&req.body);
        let text = text.trim();
        let parsed = if text.starts_with('{') {
            serde_json::from_str::<Value>(text)
                .map_err(|err| format!("the body is not JSON: {err}"))
                .and_then(|value| FaultSpec::from_json(&value).map_err(|err| err.to_string()))
        } else {
            text.parse::<FaultSpec>().map_err(|err| err.to_string())
        };
        let spec = match parsed {
            Ok(spec) => spec,
            Err(err) => {
                return error(
                    400,
                    &err,
                    "send one fault as text (e.g. hec:status=503,code=9,next=10) or as JSON \
                     (e.g. {\"target\":\"hec\",\"action\":\"status\",\"http\":503,\"code\":9})",
                );
            }
        };
        let text = spec.to_string();
        match self.faults.add(spec) {
            Ok(id) => ok(201, &json!({"id": id, "spec": text})),
            Err(err) => error(409, &err.to_string(), "DELETE /_sim/faults clears them"),
        }
    }

    fn create_index(&self, req: &Request) -> Response {
        let text = String::from_utf8_lossy(&req.body);
        let name = text.trim();
        let valid = !name.is_empty()
            && name.len() <= MAX_INDEX_NAME
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'));
        if !valid {
            return error(
                400,
                &format!("{name:?} is not an index name"),
                "send the name alone as the body: letters, digits, '_' and '-'",
            );
        }
        let mut created = false;
        if let Some(hec) = &self.hec {
            created |= hec
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .create_index(name);
        }
        if let Some(splunkd) = &self.splunkd {
            created |= splunkd
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .create_index(name);
        }
        let status = if created { 201 } else { 200 };
        ok(status, &json!({"index": name, "created": created}))
    }

    fn stats(&self) -> Response {
        let pending = self.hec.as_ref().map_or(0, |hec| {
            hec.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pending_total()
        });
        ok(
            200,
            &json!({
                "requests": self.stats.to_json(),
                "events": {"stored": self.store.len(), "dropped": self.store.dropped()},
                "pending_acks": pending,
                "faults": self.faults.list().len(),
            }),
        )
    }
}
