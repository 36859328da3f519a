//! The splunkd management REST API (port 8089) protocol logic, SANS-IO.
//!
//! What it is: [`Splunkd::handle`] takes one framed [`Request`] and the current time and returns
//! the [`Response`] splunkd would send plus the [`StoredEvent`]s it received, for the caller's
//! store. It covers `POST /services/auth/login`, `POST /services/receivers/simple`,
//! `POST /services/receivers/stream` and `GET /services/data/indexes/<name>` (also under
//! `/servicesNS/<owner>/<app>/`), as Splunk's REST documentation and its Python SDK use them.
//!
//! What it guarantees:
//! - No input panics. Every endpoint but login authenticates first; a request that fails
//!   authentication or authorization stores nothing.
//! - Responses are XML (`text/xml; charset=utf-8`) unless `output_mode=json` is in the query
//!   (for login also in the form body), then JSON. Error bodies are
//!   `<response><messages><msg type="..">text</msg></messages></response>` or
//!   `{"messages":[{"type":"..","text":".."}]}`.
//! - Session keys come from a splitmix64 stream seeded by [`SplunkdConfig::seed`]: the same
//!   seed and the same requests give the same keys, so a run replays.
//! - Ingest metadata (`index`, `host`, `source`, `sourcetype`) is read from the query string
//!   only; the body is stored byte for byte whatever its `Content-Type` (the SDK sends raw
//!   events as `application/x-www-form-urlencoded`, and an `index=` inside them is event text).
//!
//! Authentication: `Authorization: Basic`, `Splunk <sessionKey>`, `Bearer <token>`, and
//! `Cookie: splunkd_<port>=<key>`. Missing credentials, bad Basic credentials or an unknown
//! scheme → 401 `ERROR "Unauthorized"` with `WWW-Authenticate: Basic realm="/splunk"`; a bad or
//! expired session key or token → 401 `WARN "call not properly authenticated"`, no challenge
//! (the third-party mockdr Splunk mock, "measured on 10.4.2"). A user without
//! [`User::can_ingest`] (`edit_tcp`) → 403 on `receivers/*`.
//!
//! What the server layer must do for `receivers/stream`: Splunk's Python SDK sends no
//! `Content-Length` and no chunked encoding and never reads a reply, so the server reads the body
//! until the client shuts down its write side (EOF), then calls [`Splunkd::handle`] with the whole
//! body; writing the returned response is best effort.
//!
//! Choices where Splunk's behaviour is undocumented or known only from third parties (each a
//! constant or one function here, easy to change):
//! - Precedence: an `Authorization` header is used when present, else a `splunkd_<port>`
//!   cookie; a cookie for another port is ignored. A bad cookie key answers like a bad session
//!   key. Session keys expire [`SplunkdConfig::session_timeout_ms`] after their *last use*
//!   (splunkd's `sessionTimeout` is an idle timeout); an expired key is forgotten.
//! - Login: missing `username` or `password` → 400 `WARN` [`MSG_LOGIN_MISSING`]; wrong credentials
//!   → 401 `WARN` [`MSG_LOGIN_FAILED`] with `code="incorrect_username_or_password"` (modern
//!   wording, undocumented; this is what recent splunkd is commonly seen to send, unverified). JSON
//!   success is `{"sessionKey":"..","message":"","code":""}`. With `cookie=1` the reply has
//!   `Set-Cookie: splunkd_<port>=<key>; Path=/; HttpOnly; Max-Age=<session timeout in s>`.
//! - `receivers/simple` XML success body (not found): `<response><index>..</index><bytes>..
//!   </bytes><host>..</host><source>..</source><sourcetype>..</sourcetype></response>`, the
//!   same fields as the JSON one. `receivers/stream` answers the same shape.
//! - Defaults: index `main`, host [`SplunkdConfig::default_host`] (Splunk uses the client
//!   address; [`Splunkd::handle_from`] takes it), source `http-simple` / `http-stream`,
//!   sourcetype [`DEFAULT_SOURCETYPE`] for every body (Splunk's guess for small bodies).
//!   `host_regex` is not modelled.
//! - Check order on `receivers/*`: auth (401) → `edit_tcp` (403) → unknown index (400
//!   `WARN "supplied index '<name>' missing"`) → empty body. An empty `receivers/simple` body
//!   is 400 `WARN` [`MSG_EMPTY_BODY`]; an empty stream (client connected and closed) is 200
//!   and stores nothing. `X-Splunk-Input-Mode` is neither required nor checked.
//! - One request = one [`StoredEvent`] holding the whole body: line breaking is the store's
//!   or the search side's concern, not modelled here.
//! - 403 text: [`MSG_FORBIDDEN`]. Unknown path: 404 `ERROR "Not Found"`; unknown method on a
//!   known path: 405 `ERROR "Method Not Allowed"`; unknown index on `data/indexes/<name>`:
//!   404 `ERROR "Could not find object id=<name>"`. Authentication is checked before routing
//!   (except login), so an unauthenticated request to any path gets 401.
//! - `data/indexes/<name>` answers a one-entry Atom feed (title = name, `alternate` link,
//!   `s:dict` content with `totalEventCount` = events stored in that index), enough for the
//!   Python SDK's `service.indexes["main"]`; the JSON form has the same entry.
//!
//! ```
//! use icsfwd_sim::splunk::http::Request;
//! use icsfwd_sim::splunk::splunkd::{Splunkd, SplunkdConfig, User};
//!
//! let mut config = SplunkdConfig::default();
//! config.users.push(User::new("admin", "changeme", true));
//! let mut splunkd = Splunkd::new(config);
//!
//! let login = Request::from_target("POST", "/services/auth/login?output_mode=json")
//!     .with_body(b"username=admin&password=changeme".to_vec());
//! let (resp, _) = splunkd.handle(&login, 1_700_000_000_000);
//! assert_eq!(resp.status, 200);
//! let key = splunkd.session_keys().next().unwrap().to_owned();
//!
//! let submit = Request::from_target("POST", "/services/receivers/simple?sourcetype=ot")
//!     .with_header("Authorization", &format!("Splunk {key}"))
//!     .with_body(b"plc stop index=other".to_vec());
//! let (resp, events) = splunkd.handle(&submit, 1_700_000_001_000);
//! assert_eq!(resp.status, 200);
//! assert_eq!(events[0].index, "main");
//! assert_eq!(events[0].sourcetype, "ot");
//! assert_eq!(events[0].raw, b"plc stop index=other");
//! ```

use std::collections::BTreeMap;

use serde_json::json;

use super::http::{Request, Response, basic_credentials, parse_urlencoded};

/// The index used when a request names none.
pub const DEFAULT_INDEX: &str = "main";
/// The sourcetype given to bodies that name none (Splunk's own guess for small bodies).
pub const DEFAULT_SOURCETYPE: &str = "unknown-too_small";
/// splunkd's default `sessionTimeout` (1 hour).
pub const DEFAULT_SESSION_TIMEOUT_MS: u64 = 3_600_000;
/// 401 text for missing or bad Basic credentials or an unknown scheme.
pub const MSG_UNAUTHORIZED: &str = "Unauthorized";
/// 401 text for a bad session key, token or cookie.
pub const MSG_NOT_AUTHENTICATED: &str = "call not properly authenticated";
/// 401 text on `auth/login` with wrong credentials (chosen, see module docs).
pub const MSG_LOGIN_FAILED: &str = "Login failed";
/// 400 text on `auth/login` without `username` or `password` (chosen).
pub const MSG_LOGIN_MISSING: &str = "Username and password must be provided";
/// 400 text on `receivers/simple` with an empty body (chosen).
pub const MSG_EMPTY_BODY: &str = "No data was received in the request body";
/// 403 text for a user without `edit_tcp` (chosen).
pub const MSG_FORBIDDEN: &str =
    "You do not have permission to perform this operation (requires capability: edit_tcp)";
/// The Basic challenge realm (`server.conf basicAuthRealm` default).
pub const BASIC_REALM: &str = "/splunk";

/// One splunkd user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The login name.
    pub name: String,
    /// The password, in clear (an emulator).
    pub password: String,
    /// Holds `edit_tcp` (a role such as `admin` or `power`): may post to `receivers/*`.
    pub can_ingest: bool,
}

impl User {
    /// A user named `name` with `password`, allowed to ingest or not.
    #[must_use]
    pub fn new(name: &str, password: &str, can_ingest: bool) -> Self {
        Self {
            name: name.to_owned(),
            password: password.to_owned(),
            can_ingest,
        }
    }
}

/// A static authentication token (`Authorization: Bearer`), standing for one user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BearerToken {
    /// The token text clients send.
    pub token: String,
    /// The name of the [`User`] it authenticates as.
    pub user: String,
}

/// The management API's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplunkdConfig {
    /// The management port: names the `splunkd_<port>` cookie and the Atom ids.
    pub port: u16,
    /// The host name used in Atom ids (`https://<server_name>:<port>/...`).
    pub server_name: String,
    /// The users that may log in or use Basic auth.
    pub users: Vec<User>,
    /// The indexes that exist.
    pub indexes: Vec<String>,
    /// Static bearer tokens.
    pub tokens: Vec<BearerToken>,
    /// Idle time after which a session key (or its cookie) stops working.
    pub session_timeout_ms: u64,
    /// `server.conf allowBasicAuth` (default true); false makes `Basic` an unknown scheme.
    pub allow_basic_auth: bool,
    /// `server.conf allowCookieAuth` (default true); false ignores the cookie.
    pub allow_cookie_auth: bool,
    /// Host given to events that name none when the caller gives no client address.
    pub default_host: String,
    /// Seed of the session-key stream.
    pub seed: u64,
}

impl Default for SplunkdConfig {
    fn default() -> Self {
        Self {
            port: 8089,
            server_name: "localhost".to_owned(),
            users: Vec::new(),
            indexes: vec![DEFAULT_INDEX.to_owned()],
            tokens: Vec::new(),
            session_timeout_ms: DEFAULT_SESSION_TIMEOUT_MS,
            allow_basic_auth: true,
            allow_cookie_auth: true,
            default_host: "localhost".to_owned(),
            seed: 0,
        }
    }
}

/// How a request was authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthKind {
    /// `Authorization: Basic`.
    Basic,
    /// `Authorization: Splunk <sessionKey>`.
    SessionKey,
    /// `Authorization: Bearer <token>`.
    Bearer,
    /// `Cookie: splunkd_<port>=<sessionKey>`.
    Cookie,
}

/// Which receiver endpoint an event came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Receiver {
    /// `POST /services/receivers/simple`.
    Simple,
    /// `POST /services/receivers/stream`.
    Stream,
}

/// One received body, for the caller's store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    /// The index it went to.
    pub index: String,
    /// The host metadata.
    pub host: String,
    /// The source metadata.
    pub source: String,
    /// The sourcetype metadata.
    pub sourcetype: String,
    /// Receipt time, epoch milliseconds.
    pub time_ms: u64,
    /// The body exactly as received.
    pub raw: Vec<u8>,
    /// The user it was sent as.
    pub user: String,
    /// How that user authenticated.
    pub auth: AuthKind,
    /// The endpoint it came through.
    pub receiver: Receiver,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Session {
    user: String,
    last_used_ms: u64,
}

/// The splunkd state machine: configuration, issued session keys, per-index counts.
#[derive(Debug, Clone)]
pub struct Splunkd {
    config: SplunkdConfig,
    rng: u64,
    sessions: BTreeMap<String, Session>,
    event_counts: BTreeMap<String, u64>,
}

/// The output format a request asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Xml,
    Json,
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Caller {
    user: String,
    can_ingest: bool,
    kind: AuthKind,
}

/// The two 401 flavours of 1.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AuthFailure {
    /// Missing, bad Basic or unknown scheme: `ERROR Unauthorized` + challenge.
    Challenge,
    /// Bad session key, token or cookie: `WARN call not properly authenticated`.
    BadToken,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Route {
    Login,
    Receiver(Receiver),
    Index(String),
}

impl Splunkd {
    /// A server with no sessions.
    #[must_use]
    pub fn new(config: SplunkdConfig) -> Self {
        let rng = config.seed;
        Self {
            config,
            rng,
            sessions: BTreeMap::new(),
            event_counts: BTreeMap::new(),
        }
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &SplunkdConfig {
        &self.config
    }

    /// Sets the port the API is served on once it is known (a server bound to port 0 learns
    /// it only after binding): it names the `splunkd_<port>` cookie and the Atom ids, as a real
    /// splunkd names them after its own port.
    pub fn set_port(&mut self, port: u16) {
        self.config.port = port;
    }

    /// Creates index `name` (as an administrator would): `receivers/*` accept it from now on.
    /// False if it existed.
    pub fn create_index(&mut self, name: &str) -> bool {
        if self.config.indexes.iter().any(|known| known == name) {
            return false;
        }
        self.config.indexes.push(name.to_owned());
        true
    }

    /// The session keys currently issued (expired ones are dropped on the next request).
    pub fn session_keys(&self) -> impl Iterator<Item = &str> {
        self.sessions.keys().map(String::as_str)
    }

    /// Handles one request at `now_ms` (epoch ms): the response, and the events it received.
    /// Events that name no host get [`SplunkdConfig::default_host`].
    pub fn handle(&mut self, req: &Request, now_ms: u64) -> (Response, Vec<StoredEvent>) {
        let host = self.config.default_host.clone();
        self.handle_from(req, &host, now_ms)
    }

    /// As [`Splunkd::handle`], with the client address `peer` as the default host, as
    /// splunkd does.
    pub fn handle_from(
        &mut self,
        req: &Request,
        peer: &str,
        now_ms: u64,
    ) -> (Response, Vec<StoredEvent>) {
        let timeout = self.config.session_timeout_ms;
        self.sessions
            .retain(|_, session| now_ms.saturating_sub(session.last_used_ms) <= timeout);
        let format = if req.query_param("output_mode") == Some("json") {
            Format::Json
        } else {
            Format::Xml
        };
        let route = route(&req.path);
        if route == Some(Route::Login) {
            if req.method != "POST" {
                return (
                    error(405, "ERROR", "Method Not Allowed", format),
                    Vec::new(),
                );
            }
            return (self.login(req, now_ms), Vec::new());
        }
        let caller = match self.authenticate(req, now_ms) {
            Ok(caller) => caller,
            Err(failure) => return (unauthorized(failure, format), Vec::new()),
        };
        match route {
            None | Some(Route::Login) => (error(404, "ERROR", "Not Found", format), Vec::new()),
            Some(Route::Receiver(receiver)) => {
                if req.method != "POST" {
                    return (
                        error(405, "ERROR", "Method Not Allowed", format),
                        Vec::new(),
                    );
                }
                self.receive(req, receiver, &caller, peer, now_ms, format)
            }
            Some(Route::Index(name)) => {
                if req.method != "GET" {
                    return (
                        error(405, "ERROR", "Method Not Allowed", format),
                        Vec::new(),
                    );
                }
                (self.index_entry(&name, now_ms, format), Vec::new())
            }
        }
    }

    fn login(&mut self, req: &Request, now_ms: u64) -> Response {
        let form = parse_urlencoded(&String::from_utf8_lossy(&req.body));
        let field = |name: &str| {
            form.iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.as_str())
                .or_else(|| req.query_param(name))
        };
        let format = if field("output_mode") == Some("json") {
            Format::Json
        } else {
            Format::Xml
        };
        let (Some(username), Some(password)) = (field("username"), field("password")) else {
            return error(400, "WARN", MSG_LOGIN_MISSING, format);
        };
        let known = self
            .config
            .users
            .iter()
            .any(|user| user.name == username && user.password == password);
        if !known {
            return login_failed(format);
        }
        let key = self.next_session_key();
        self.sessions.insert(
            key.clone(),
            Session {
                user: username.to_owned(),
                last_used_ms: now_ms,
            },
        );
        let mut resp = match format {
            Format::Json => Response::json(
                200,
                &json!({"sessionKey": key, "message": "", "code": ""}).to_string(),
            ),
            Format::Xml => xml(
                200,
                &format!(
                    "<response>\n  <sessionKey>{}</sessionKey>\n</response>\n",
                    xml_escape(&key)
                ),
            ),
        };
        if field("cookie") == Some("1") {
            resp.headers.push((
                "Set-Cookie".to_owned(),
                format!(
                    "{}={key}; Path=/; HttpOnly; Max-Age={}",
                    self.cookie_name(),
                    self.config.session_timeout_ms / 1000
                ),
            ));
        }
        resp
    }

    fn authenticate(&mut self, req: &Request, now_ms: u64) -> Result<Caller, AuthFailure> {
        if let Some(value) = req.header("Authorization") {
            let (scheme, credentials) = value.trim().split_once(' ').unwrap_or((value, ""));
            let credentials = credentials.trim();
            return match scheme.to_ascii_lowercase().as_str() {
                "basic" if self.config.allow_basic_auth => self.basic(credentials),
                "splunk" => self.session(credentials, AuthKind::SessionKey, now_ms),
                "bearer" => self.bearer(credentials),
                _ => Err(AuthFailure::Challenge),
            };
        }
        if self.config.allow_cookie_auth
            && let Some(key) = req
                .header("Cookie")
                .and_then(|cookies| cookie_value(cookies, &self.cookie_name()))
        {
            return self.session(&key, AuthKind::Cookie, now_ms);
        }
        Err(AuthFailure::Challenge)
    }

    fn basic(&self, credentials: &str) -> Result<Caller, AuthFailure> {
        let (name, password) = basic_credentials(credentials).ok_or(AuthFailure::Challenge)?;
        self.config
            .users
            .iter()
            .find(|user| user.name == name && user.password == password)
            .map(|user| Caller {
                user: user.name.clone(),
                can_ingest: user.can_ingest,
                kind: AuthKind::Basic,
            })
            .ok_or(AuthFailure::Challenge)
    }

    fn session(&mut self, key: &str, kind: AuthKind, now_ms: u64) -> Result<Caller, AuthFailure> {
        let session = self.sessions.get_mut(key).ok_or(AuthFailure::BadToken)?;
        session.last_used_ms = now_ms;
        let name = session.user.clone();
        self.caller(&name, kind)
    }

    fn bearer(&self, token: &str) -> Result<Caller, AuthFailure> {
        let name = self
            .config
            .tokens
            .iter()
            .find(|candidate| candidate.token == token)
            .map(|candidate| candidate.user.clone())
            .ok_or(AuthFailure::BadToken)?;
        self.caller(&name, AuthKind::Bearer)
    }

    /// A session or token whose user has since been removed no longer authenticates.
    fn caller(&self, name: &str, kind: AuthKind) -> Result<Caller, AuthFailure> {
        self.config
            .users
            .iter()
            .find(|user| user.name == name)
            .map(|user| Caller {
                user: user.name.clone(),
                can_ingest: user.can_ingest,
                kind,
            })
            .ok_or(AuthFailure::BadToken)
    }

    fn receive(
        &mut self,
        req: &Request,
        receiver: Receiver,
        caller: &Caller,
        peer: &str,
        now_ms: u64,
        format: Format,
    ) -> (Response, Vec<StoredEvent>) {
        if !caller.can_ingest {
            return (error(403, "ERROR", MSG_FORBIDDEN, format), Vec::new());
        }
        let index = req.query_param("index").unwrap_or(DEFAULT_INDEX);
        if !self.config.indexes.iter().any(|known| known == index) {
            let text = format!("supplied index '{index}' missing");
            return (error(400, "WARN", &text, format), Vec::new());
        }
        if req.body.is_empty() && receiver == Receiver::Simple {
            return (error(400, "WARN", MSG_EMPTY_BODY, format), Vec::new());
        }
        let default_source = match receiver {
            Receiver::Simple => "http-simple",
            Receiver::Stream => "http-stream",
        };
        let event = StoredEvent {
            index: index.to_owned(),
            host: req.query_param("host").unwrap_or(peer).to_owned(),
            source: req
                .query_param("source")
                .unwrap_or(default_source)
                .to_owned(),
            sourcetype: req
                .query_param("sourcetype")
                .unwrap_or(DEFAULT_SOURCETYPE)
                .to_owned(),
            time_ms: now_ms,
            raw: req.body.clone(),
            user: caller.user.clone(),
            auth: caller.kind,
            receiver,
        };
        let resp = receipt(&event, format);
        if event.raw.is_empty() {
            return (resp, Vec::new());
        }
        *self.event_counts.entry(event.index.clone()).or_insert(0) += 1;
        (resp, vec![event])
    }

    fn index_entry(&self, name: &str, now_ms: u64, format: Format) -> Response {
        if !self.config.indexes.iter().any(|known| known == name) {
            let text = format!("Could not find object id={name}");
            return error(404, "ERROR", &text, format);
        }
        let count = self.event_counts.get(name).copied().unwrap_or(0);
        let base = format!("https://{}:{}", self.config.server_name, self.config.port);
        let path = format!("/servicesNS/nobody/search/data/indexes/{name}");
        let updated = iso8601(now_ms);
        match format {
            Format::Json => {
                let body = json!({
                    "links": {"create": "/services/data/indexes/_new"},
                    "origin": format!("{base}/services/data/indexes"),
                    "updated": updated,
                    "entry": [{
                        "name": name,
                        "id": format!("{base}{path}"),
                        "updated": updated,
                        "links": {"alternate": path, "list": path},
                        "author": "nobody",
                        "acl": {"app": "search", "owner": "nobody", "sharing": "global"},
                        "content": {
                            "disabled": false,
                            "totalEventCount": count.to_string(),
                            "homePath": format!("$SPLUNK_DB/{name}/db"),
                        },
                    }],
                    "paging": {"total": 1, "perPage": 30, "offset": 0},
                    "messages": [],
                });
                Response::json(200, &body.to_string())
            }
            Format::Xml => {
                let name = xml_escape(name);
                let path = xml_escape(&path);
                let base = xml_escape(&base);
                xml(
                    200,
                    &format!(
                        r#"<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:s="http://dev.splunk.com/ns/rest" xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">
  <title>indexes</title>
  <id>{base}/services/data/indexes</id>
  <updated>{updated}</updated>
  <generator build="icsfwd-sim" version="9.0.1"/>
  <author>
    <name>Splunk</name>
  </author>
  <opensearch:totalResults>1</opensearch:totalResults>
  <opensearch:itemsPerPage>30</opensearch:itemsPerPage>
  <opensearch:startIndex>0</opensearch:startIndex>
  <s:messages/>
  <entry>
    <title>{name}</title>
    <id>{base}{path}</id>
    <updated>{updated}</updated>
    <link href="{path}" rel="alternate"/>
    <author>
      <name>nobody</name>
    </author>
    <link href="{path}" rel="list"/>
    <content type="text/xml">
      <s:dict>
        <s:key name="disabled">0</s:key>
        <s:key name="eai:acl">
          <s:dict>
            <s:key name="app">search</s:key>
            <s:key name="owner">nobody</s:key>
            <s:key name="sharing">global</s:key>
          </s:dict>
        </s:key>
        <s:key name="homePath">$SPLUNK_DB/{name}/db</s:key>
        <s:key name="totalEventCount">{count}</s:key>
      </s:dict>
    </content>
  </entry>
</feed>
"#
                    ),
                )
            }
        }
    }

    fn cookie_name(&self) -> String {
        format!("splunkd_{}", self.config.port)
    }

    /// splitmix64: two draws give a 32-hex-digit key; the seed replays the sequence.
    fn next_session_key(&mut self) -> String {
        let mut draw = || {
            self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.rng;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        let (high, low) = (draw(), draw());
        format!("{high:016x}{low:016x}")
    }
}

fn route(path: &str) -> Option<Route> {
    let rest = if let Some(rest) = path.strip_prefix("/services/") {
        rest
    } else {
        // `/servicesNS/<owner>/<app>/<rest>`
        let ns = path.strip_prefix("/servicesNS/")?;
        let mut parts = ns.splitn(3, '/');
        let (_owner, _app, rest) = (parts.next()?, parts.next()?, parts.next()?);
        rest
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    match rest {
        "auth/login" if path.starts_with("/services/") => Some(Route::Login),
        "receivers/simple" => Some(Route::Receiver(Receiver::Simple)),
        "receivers/stream" => Some(Route::Receiver(Receiver::Stream)),
        _ => {
            let name = rest.strip_prefix("data/indexes/")?;
            (!name.is_empty() && !name.contains('/'))
                .then(|| Route::Index(super::http::percent_decode(&name.replace('+', "%2B"))))
        }
    }
}

/// The value of cookie `name` in a `Cookie` header (`a=1; b=2`).
fn cookie_value(header: &str, name: &str) -> Option<String> {
    header.split(';').find_map(|pair| {
        let (key, value) = pair.trim().split_once('=')?;
        (key == name).then(|| value.trim_matches('"').to_owned())
    })
}

fn receipt(event: &StoredEvent, format: Format) -> Response {
    match format {
        Format::Json => Response::json(
            200,
            &json!({
                "index": event.index,
                "bytes": event.raw.len(),
                "host": event.host,
                "source": event.source,
                "sourcetype": event.sourcetype,
            })
            .to_string(),
        ),
        Format::Xml => xml(
            200,
            &format!(
                "<response>\n  <index>{}</index>\n  <bytes>{}</bytes>\n  <host>{}</host>\n  \
                 <source>{}</source>\n  <sourcetype>{}</sourcetype>\n</response>\n",
                xml_escape(&event.index),
                event.raw.len(),
                xml_escape(&event.host),
                xml_escape(&event.source),
                xml_escape(&event.sourcetype),
            ),
        ),
    }
}

fn unauthorized(failure: AuthFailure, format: Format) -> Response {
    match failure {
        AuthFailure::BadToken => error(401, "WARN", MSG_NOT_AUTHENTICATED, format),
        AuthFailure::Challenge => {
            let mut resp = error(401, "ERROR", MSG_UNAUTHORIZED, format);
            resp.headers.push((
                "WWW-Authenticate".to_owned(),
                format!("Basic realm=\"{BASIC_REALM}\""),
            ));
            resp
        }
    }
}

fn login_failed(format: Format) -> Response {
    const CODE: &str = "incorrect_username_or_password";
    match format {
        Format::Json => Response::json(
            401,
            &json!({"messages": [{"type": "WARN", "code": CODE, "text": MSG_LOGIN_FAILED}]})
                .to_string(),
        ),
        Format::Xml => xml(
            401,
            &format!(
                "<response>\n  <messages>\n    <msg type=\"WARN\" code=\"{CODE}\">{MSG_LOGIN_FAILED}</msg>\n  \
                 </messages>\n</response>\n"
            ),
        ),
    }
}

/// A splunkd error body with one message.
fn error(status: u16, kind: &str, text: &str, format: Format) -> Response {
    match format {
        Format::Json => Response::json(
            status,
            &json!({"messages": [{"type": kind, "text": text}]}).to_string(),
        ),
        Format::Xml => xml(
            status,
            &format!(
                "<response>\n  <messages>\n    <msg type=\"{kind}\">{}</msg>\n  </messages>\n</response>\n",
                xml_escape(text)
            ),
        ),
    }
}

fn xml(status: u16, body: &str) -> Response {
    Response {
        status,
        headers: vec![(
            "Content-Type".to_owned(),
            "text/xml; charset=utf-8".to_owned(),
        )],
        body: body.as_bytes().to_vec(),
    }
}

/// Escapes text for XML element content and double-quoted attribute values (`'` is kept, so
/// `supplied index 'x' missing` reads as splunkd writes it).
fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            other => out.push(other),
        }
    }
    out
}

/// `YYYY-MM-DDTHH:MM:SS+00:00` for epoch milliseconds (Atom `updated`).
fn iso8601(now_ms: u64) -> String {
    let t = icsfwd_core::time::Civil::from_epoch_ms(now_ms);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+00:00",
        t.year, t.month, t.day, t.hour, t.minute, t.second
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_formats_known_instants() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00+00:00");
        assert_eq!(iso8601(1_700_000_000_000), "2023-11-14T22:13:20+00:00");
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00+00:00");
    }

    #[test]
    fn routes_accept_namespaced_paths_but_login_only_under_services() {
        assert_eq!(route("/services/auth/login"), Some(Route::Login));
        assert_eq!(route("/servicesNS/a/b/auth/login"), None);
        assert_eq!(
            route("/servicesNS/nobody/search/receivers/simple"),
            Some(Route::Receiver(Receiver::Simple))
        );
        assert_eq!(
            route("/services/data/indexes/ot%5Falerts"),
            Some(Route::Index("ot_alerts".to_owned()))
        );
        assert_eq!(route("/services/data/indexes/"), None);
        assert_eq!(route("/other"), None);
    }

    #[test]
    fn cookie_value_finds_the_named_cookie_among_others() {
        assert_eq!(
            cookie_value("a=1; splunkd_8089=k; b=2", "splunkd_8089"),
            Some("k".to_owned())
        );
        assert_eq!(cookie_value("splunkd_8000=k", "splunkd_8089"), None);
    }

    #[test]
    fn xml_escape_escapes_markup() {
        assert_eq!(xml_escape(r#"<a & "b">"#), "&lt;a &amp; &quot;b&quot;&gt;");
    }
}
