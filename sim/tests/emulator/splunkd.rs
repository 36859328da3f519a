//! splunkd management API behaviour, driven only through `Splunkd::handle` (as
//! `sim/src/splunk/splunkd.rs` documents it).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use icsfwd_sim::splunk::http::{Request, Response};
use icsfwd_sim::splunk::splunkd::{
    AuthKind, BearerToken, MSG_EMPTY_BODY, MSG_FORBIDDEN, MSG_LOGIN_FAILED, MSG_LOGIN_MISSING,
    MSG_NOT_AUTHENTICATED, MSG_UNAUTHORIZED, Receiver, Splunkd, SplunkdConfig, User,
};
use serde_json::{Value, json};

const T0: u64 = 1_700_000_000_000;
const TIMEOUT: u64 = 60_000;

fn config() -> SplunkdConfig {
    SplunkdConfig {
        users: vec![
            User::new("admin", "changeme", true),
            User::new("viewer", "viewpass", false),
        ],
        indexes: vec!["main".to_owned(), "ot".to_owned()],
        tokens: vec![
            BearerToken {
                token: "tok-admin".to_owned(),
                user: "admin".to_owned(),
            },
            BearerToken {
                token: "tok-viewer".to_owned(),
                user: "viewer".to_owned(),
            },
        ],
        session_timeout_ms: TIMEOUT,
        default_host: "sim-host".to_owned(),
        seed: 7,
        ..SplunkdConfig::default()
    }
}

fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", BASE64.encode(format!("{user}:{password}")))
}

/// Logs in and returns the session key read from the XML body.
fn login(splunkd: &mut Splunkd, user: &str, password: &str, now_ms: u64) -> String {
    let req = Request::from_target("POST", "/services/auth/login")
        .with_body(format!("username={user}&password={password}").into_bytes());
    let (resp, events) = splunkd.handle(&req, now_ms);
    assert_eq!(resp.status, 200, "{}", resp.body_text());
    assert!(events.is_empty());
    let body = resp.body_text();
    let start = body.find("<sessionKey>").unwrap() + "<sessionKey>".len();
    let end = body.find("</sessionKey>").unwrap();
    body[start..end].to_owned()
}

fn submit(target: &str, headers: &[(&str, &str)], body: &[u8]) -> Request {
    headers.iter().fold(
        Request::from_target("POST", target).with_body(body.to_vec()),
        |req, (name, value)| req.with_header(name, value),
    )
}

fn json_body(resp: &Response) -> Value {
    serde_json::from_slice(&resp.body).unwrap()
}

fn xml_error(kind: &str, text: &str) -> String {
    format!(
        "<response>\n  <messages>\n    <msg type=\"{kind}\">{text}</msg>\n  </messages>\n</response>\n"
    )
}

/// Request headers of one table row.
type Headers<'a> = Vec<(&'a str, &'a str)>;

/// target, Authorization, body, status, message type, message text.
type RefusalCase<'a> = (&'a str, &'a str, &'a [u8], u16, &'a str, &'a str);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Ok(AuthKind),
    /// 401 ERROR Unauthorized with the Basic challenge.
    Challenge,
    /// 401 WARN call not properly authenticated, no challenge.
    BadToken,
}

#[test]
fn every_auth_scheme_is_accepted_when_valid_and_refused_with_its_documented_401() {
    let mut splunkd = Splunkd::new(config());
    let key = login(&mut splunkd, "admin", "changeme", T0);
    let good_basic = basic("admin", "changeme");
    let wrong_basic = basic("admin", "nope");
    let unknown_user_basic = basic("ghost", "changeme");
    let splunk_good = format!("Splunk {key}");
    let splunk_lower = format!("splunk {key}");
    let cookie_good = format!("other=1; splunkd_8089={key}");
    let cookie_other_port = format!("splunkd_8000={key}");
    let cases: Vec<(&str, Headers<'_>, Expect)> = vec![
        (
            "basic valid",
            vec![("Authorization", &good_basic)],
            Expect::Ok(AuthKind::Basic),
        ),
        (
            "basic wrong password",
            vec![("Authorization", &wrong_basic)],
            Expect::Challenge,
        ),
        (
            "basic unknown user",
            vec![("Authorization", &unknown_user_basic)],
            Expect::Challenge,
        ),
        (
            "basic not base64",
            vec![("Authorization", "Basic !!!")],
            Expect::Challenge,
        ),
        (
            "basic no colon",
            vec![("Authorization", "Basic YWRtaW4=")],
            Expect::Challenge,
        ),
        (
            "session key valid",
            vec![("Authorization", &splunk_good)],
            Expect::Ok(AuthKind::SessionKey),
        ),
        (
            "session key scheme any case",
            vec![("authorization", &splunk_lower)],
            Expect::Ok(AuthKind::SessionKey),
        ),
        (
            "session key unknown",
            vec![("Authorization", "Splunk deadbeef")],
            Expect::BadToken,
        ),
        (
            "session key empty",
            vec![("Authorization", "Splunk")],
            Expect::BadToken,
        ),
        (
            "bearer valid",
            vec![("Authorization", "Bearer tok-admin")],
            Expect::Ok(AuthKind::Bearer),
        ),
        (
            "bearer invalid",
            vec![("Authorization", "Bearer tok-nope")],
            Expect::BadToken,
        ),
        (
            "cookie valid",
            vec![("Cookie", &cookie_good)],
            Expect::Ok(AuthKind::Cookie),
        ),
        (
            "cookie invalid",
            vec![("Cookie", "splunkd_8089=deadbeef")],
            Expect::BadToken,
        ),
        (
            "cookie for another port",
            vec![("Cookie", &cookie_other_port)],
            Expect::Challenge,
        ),
        ("missing", vec![], Expect::Challenge),
        (
            "unknown scheme",
            vec![("Authorization", "Digest abc")],
            Expect::Challenge,
        ),
        (
            "authorization wins over a valid cookie",
            vec![
                ("Authorization", "Bearer tok-nope"),
                ("Cookie", &cookie_good),
            ],
            Expect::BadToken,
        ),
    ];
    for (name, headers, expect) in cases {
        let req = submit("/services/receivers/simple", &headers, b"event");
        let (resp, events) = splunkd.handle(&req, T0 + 1);
        let challenge = resp.header("WWW-Authenticate");
        match expect {
            Expect::Ok(kind) => {
                assert_eq!(resp.status, 200, "{name}: {}", resp.body_text());
                assert_eq!(events.len(), 1, "{name}");
                assert_eq!(events[0].auth, kind, "{name}");
                assert_eq!(events[0].user, "admin", "{name}");
            }
            Expect::Challenge => {
                assert_eq!(resp.status, 401, "{name}");
                assert_eq!(
                    resp.body_text(),
                    xml_error("ERROR", MSG_UNAUTHORIZED),
                    "{name}"
                );
                assert_eq!(challenge, Some("Basic realm=\"/splunk\""), "{name}");
                assert!(events.is_empty(), "{name}");
            }
            Expect::BadToken => {
                assert_eq!(resp.status, 401, "{name}");
                assert_eq!(
                    resp.body_text(),
                    xml_error("WARN", MSG_NOT_AUTHENTICATED),
                    "{name}"
                );
                assert_eq!(challenge, None, "{name}");
                assert!(events.is_empty(), "{name}");
            }
        }
    }
}

#[test]
fn auth_failures_answer_json_with_output_mode_json() {
    let mut splunkd = Splunkd::new(config());
    let req = submit("/services/receivers/simple?output_mode=json", &[], b"e");
    let (resp, _) = splunkd.handle(&req, T0);
    assert_eq!(resp.status, 401);
    assert_eq!(
        resp.header("Content-Type"),
        Some("application/json; charset=UTF-8")
    );
    assert_eq!(
        json_body(&resp),
        json!({"messages": [{"type": "ERROR", "text": "Unauthorized"}]})
    );
    let req = submit(
        "/services/receivers/simple?output_mode=json",
        &[("Authorization", "Bearer wrong")],
        b"e",
    );
    let (resp, _) = splunkd.handle(&req, T0);
    assert_eq!(
        json_body(&resp),
        json!({"messages": [{"type": "WARN", "text": "call not properly authenticated"}]})
    );
}

#[test]
fn session_key_and_cookie_expire_after_the_idle_timeout_and_use_extends_them() {
    for cookie in [false, true] {
        let mut splunkd = Splunkd::new(config());
        let key = login(&mut splunkd, "admin", "changeme", T0);
        let header = if cookie {
            ("Cookie", format!("splunkd_8089={key}"))
        } else {
            ("Authorization", format!("Splunk {key}"))
        };
        let req = submit("/services/receivers/simple", &[(header.0, &header.1)], b"e");
        // Used just inside the timeout: still valid, and the idle clock restarts.
        assert_eq!(splunkd.handle(&req, T0 + TIMEOUT).0.status, 200);
        assert_eq!(splunkd.handle(&req, T0 + 2 * TIMEOUT).0.status, 200);
        // Idle for longer than the timeout: gone for good.
        let (resp, events) = splunkd.handle(&req, T0 + 3 * TIMEOUT + 1);
        assert_eq!(resp.status, 401, "cookie={cookie}");
        assert_eq!(resp.body_text(), xml_error("WARN", MSG_NOT_AUTHENTICATED));
        assert!(events.is_empty());
        assert_eq!(splunkd.session_keys().count(), 0);
    }
}

#[test]
fn basic_and_cookie_auth_can_be_disabled_by_config() {
    let mut splunkd = Splunkd::new(SplunkdConfig {
        allow_basic_auth: false,
        allow_cookie_auth: false,
        ..config()
    });
    let key = login(&mut splunkd, "admin", "changeme", T0);
    let good_basic = basic("admin", "changeme");
    let cookie = format!("splunkd_8089={key}");
    for headers in [
        [("Authorization", good_basic.as_str())],
        [("Cookie", cookie.as_str())],
    ] {
        let (resp, _) = splunkd.handle(&submit("/services/receivers/simple", &headers, b"e"), T0);
        assert_eq!(resp.status, 401);
        assert_eq!(
            resp.header("WWW-Authenticate"),
            Some("Basic realm=\"/splunk\"")
        );
    }
}

#[test]
fn login_answers_the_session_key_in_xml_by_default() {
    let mut splunkd = Splunkd::new(config());
    let req = Request::from_target("POST", "/services/auth/login")
        .with_header("Content-Type", "application/x-www-form-urlencoded")
        .with_body(b"username=admin&password=changeme".to_vec());
    let (resp, _) = splunkd.handle(&req, T0);
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("Content-Type"), Some("text/xml; charset=utf-8"));
    assert_eq!(resp.header("Set-Cookie"), None);
    let key = splunkd.session_keys().next().unwrap().to_owned();
    assert_eq!(key.len(), 32);
    assert_eq!(
        resp.body_text(),
        format!("<response>\n  <sessionKey>{key}</sessionKey>\n</response>\n")
    );
}

#[test]
fn login_answers_json_when_output_mode_json_is_in_the_query_or_the_form() {
    for (target, body) in [
        (
            "/services/auth/login?output_mode=json",
            "username=admin&password=changeme",
        ),
        (
            "/services/auth/login",
            "username=admin&password=changeme&output_mode=json",
        ),
    ] {
        let mut splunkd = Splunkd::new(config());
        let req = Request::from_target("POST", target).with_body(body.as_bytes().to_vec());
        let (resp, _) = splunkd.handle(&req, T0);
        assert_eq!(resp.status, 200);
        let key = splunkd.session_keys().next().unwrap().to_owned();
        assert_eq!(
            json_body(&resp),
            json!({"sessionKey": key, "message": "", "code": ""})
        );
    }
}

#[test]
fn login_with_cookie_1_sets_a_cookie_named_for_the_configured_port_that_authenticates() {
    let mut splunkd = Splunkd::new(SplunkdConfig {
        port: 18089,
        ..config()
    });
    let req = Request::from_target("POST", "/services/auth/login")
        .with_body(b"username=admin&password=changeme&cookie=1".to_vec());
    let (resp, _) = splunkd.handle(&req, T0);
    assert_eq!(resp.status, 200);
    let key = splunkd.session_keys().next().unwrap().to_owned();
    assert_eq!(
        resp.header("Set-Cookie"),
        Some(format!("splunkd_18089={key}; Path=/; HttpOnly; Max-Age=60").as_str())
    );
    // The SDK then sends only the cookie, no Authorization.
    let cookie = format!("splunkd_18089={key}");
    let (resp, events) = splunkd.handle(
        &submit("/services/receivers/simple", &[("Cookie", &cookie)], b"e"),
        T0 + 1,
    );
    assert_eq!(resp.status, 200);
    assert_eq!(events[0].auth, AuthKind::Cookie);
    let stale = format!("splunkd_8089={key}");
    let (resp, _) = splunkd.handle(
        &submit("/services/receivers/simple", &[("Cookie", &stale)], b"e"),
        T0 + 1,
    );
    assert_eq!(resp.status, 401);
}

#[test]
fn login_failures_answer_400_for_missing_fields_and_401_for_wrong_credentials() {
    let cases = [
        (
            "username=admin&password=wrong",
            401,
            "WARN",
            MSG_LOGIN_FAILED,
        ),
        (
            "username=ghost&password=changeme",
            401,
            "WARN",
            MSG_LOGIN_FAILED,
        ),
        ("username=admin", 400, "WARN", MSG_LOGIN_MISSING),
        ("password=changeme", 400, "WARN", MSG_LOGIN_MISSING),
        ("", 400, "WARN", MSG_LOGIN_MISSING),
    ];
    for (body, status, kind, text) in cases {
        let mut splunkd = Splunkd::new(config());
        let req = Request::from_target("POST", "/services/auth/login?output_mode=json")
            .with_body(body.as_bytes().to_vec());
        let (resp, _) = splunkd.handle(&req, T0);
        assert_eq!(resp.status, status, "{body}");
        let messages = &json_body(&resp)["messages"][0];
        assert_eq!(messages["type"], kind, "{body}");
        assert_eq!(messages["text"], text, "{body}");
        assert_eq!(splunkd.session_keys().count(), 0, "{body}");
    }
    let mut splunkd = Splunkd::new(config());
    let req = Request::from_target("POST", "/services/auth/login")
        .with_body(b"username=admin&password=wrong".to_vec());
    let (resp, _) = splunkd.handle(&req, T0);
    assert_eq!(resp.status, 401);
    assert_eq!(
        resp.body_text(),
        "<response>\n  <messages>\n    <msg type=\"WARN\" code=\"incorrect_username_or_password\">\
         Login failed</msg>\n  </messages>\n</response>\n"
    );
}

#[test]
fn session_keys_replay_from_the_seed() {
    let keys = |seed: u64| {
        let mut splunkd = Splunkd::new(SplunkdConfig { seed, ..config() });
        (0..3)
            .map(|i| login(&mut splunkd, "admin", "changeme", T0 + i))
            .collect::<Vec<_>>()
    };
    let first = keys(7);
    assert_eq!(first, keys(7));
    assert_ne!(first, keys(8));
    assert_ne!(first[0], first[1]);
}

#[test]
fn receivers_simple_takes_metadata_from_the_query_only_and_stores_the_body_raw() {
    let mut splunkd = Splunkd::new(config());
    let auth = basic("admin", "changeme");
    let body = b"index=ot&host=evil&source=bad&sourcetype=bad&msg=plc+stop";
    let req = submit(
        "/services/receivers/simple?host=plc-7&source=icsfwd&output_mode=json",
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        body,
    );
    let (resp, events) = splunkd.handle(&req, T0 + 5);
    assert_eq!(resp.status, 200);
    assert_eq!(
        json_body(&resp),
        json!({"index": "main", "bytes": body.len(), "host": "plc-7", "source": "icsfwd",
               "sourcetype": "unknown-too_small"})
    );
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(event.index, "main");
    assert_eq!(event.host, "plc-7");
    assert_eq!(event.source, "icsfwd");
    assert_eq!(event.sourcetype, "unknown-too_small");
    assert_eq!(event.raw, body);
    assert_eq!(event.time_ms, T0 + 5);
    assert_eq!(event.receiver, Receiver::Simple);
}

#[test]
fn receivers_simple_defaults_and_xml_receipt() {
    let mut splunkd = Splunkd::new(config());
    let auth = basic("admin", "changeme");
    let req = submit(
        "/services/receivers/simple?index=ot&sourcetype=icsfwd%3Aalert",
        &[("Authorization", &auth), ("Content-Type", "text/plain")],
        b"a<b",
    );
    let (resp, events) = splunkd.handle_from(&req, "10.0.0.9", T0);
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("Content-Type"), Some("text/xml; charset=utf-8"));
    assert_eq!(
        resp.body_text(),
        "<response>\n  <index>ot</index>\n  <bytes>3</bytes>\n  <host>10.0.0.9</host>\n  \
         <source>http-simple</source>\n  <sourcetype>icsfwd:alert</sourcetype>\n</response>\n"
    );
    assert_eq!(events[0].host, "10.0.0.9");
    assert_eq!(events[0].source, "http-simple");
    // Without a peer address, the configured default host.
    let (_, events) = splunkd.handle(&req, T0);
    assert_eq!(events[0].host, "sim-host");
}

#[test]
fn receivers_refuse_unknown_index_empty_body_and_users_without_edit_tcp() {
    let admin = basic("admin", "changeme");
    let viewer = basic("viewer", "viewpass");
    let unknown_index = "supplied index 'nope' missing";
    let cases: [RefusalCase<'_>; 7] = [
        (
            "/services/receivers/simple?index=nope",
            &admin,
            b"e",
            400,
            "WARN",
            unknown_index,
        ),
        (
            "/services/receivers/stream?index=nope",
            &admin,
            b"e",
            400,
            "WARN",
            unknown_index,
        ),
        (
            "/services/receivers/simple",
            &admin,
            b"",
            400,
            "WARN",
            MSG_EMPTY_BODY,
        ),
        (
            "/services/receivers/simple",
            &viewer,
            b"e",
            403,
            "ERROR",
            MSG_FORBIDDEN,
        ),
        (
            "/services/receivers/stream",
            &viewer,
            b"e",
            403,
            "ERROR",
            MSG_FORBIDDEN,
        ),
        (
            "/services/receivers/simple",
            "Bearer tok-viewer",
            b"e",
            403,
            "ERROR",
            MSG_FORBIDDEN,
        ),
        // The capability is checked before the index.
        (
            "/services/receivers/simple?index=nope",
            &viewer,
            b"e",
            403,
            "ERROR",
            MSG_FORBIDDEN,
        ),
    ];
    for (target, auth, body, status, kind, text) in cases {
        let mut splunkd = Splunkd::new(config());
        let (resp, events) = splunkd.handle(&submit(target, &[("Authorization", auth)], body), T0);
        assert_eq!(resp.status, status, "{target} {auth}");
        assert_eq!(resp.body_text(), xml_error(kind, text), "{target} {auth}");
        assert!(events.is_empty(), "{target} {auth}");
    }
}

#[test]
fn receivers_stream_stores_the_whole_body_and_accepts_an_empty_stream() {
    let mut splunkd = Splunkd::new(config());
    let key = login(&mut splunkd, "admin", "changeme", T0);
    let auth = format!("Splunk {key}");
    let body = b"line one\r\nline two\nline three".to_vec();
    let req = submit(
        "/services/receivers/stream?index=ot&sourcetype=st",
        &[
            ("Authorization", &auth),
            ("X-Splunk-Input-Mode", "Streaming"),
        ],
        &body,
    );
    let (resp, events) = splunkd.handle(&req, T0);
    assert_eq!(resp.status, 200);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].raw, body);
    assert_eq!(events[0].source, "http-stream");
    assert_eq!(events[0].receiver, Receiver::Stream);
    let empty = submit(
        "/services/receivers/stream",
        &[("Authorization", &auth)],
        b"",
    );
    let (resp, events) = splunkd.handle(&empty, T0);
    assert_eq!(resp.status, 200);
    assert!(events.is_empty());
}

#[test]
fn indexes_endpoint_answers_an_atom_entry_the_python_sdk_can_read() {
    let mut splunkd = Splunkd::new(config());
    let auth = basic("admin", "changeme");
    let get =
        |target: &str| Request::from_target("GET", target).with_header("Authorization", &auth);
    splunkd.handle(
        &submit(
            "/services/receivers/simple",
            &[("Authorization", &auth)],
            b"e",
        ),
        T0,
    );
    let (resp, _) = splunkd.handle(&get("/services/data/indexes/main"), T0);
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("Content-Type"), Some("text/xml; charset=utf-8"));
    let body = resp.body_text();
    for needle in [
        "<feed xmlns=\"http://www.w3.org/2005/Atom\" xmlns:s=\"http://dev.splunk.com/ns/rest\"",
        "<title>main</title>",
        "<link href=\"/servicesNS/nobody/search/data/indexes/main\" rel=\"alternate\"/>",
        "<content type=\"text/xml\">",
        "<s:key name=\"totalEventCount\">1</s:key>",
        "<updated>2023-11-14T22:13:20+00:00</updated>",
        "<opensearch:totalResults>1</opensearch:totalResults>",
    ] {
        assert!(body.contains(needle), "missing {needle} in {body}");
    }
    assert_eq!(body.matches("<entry>").count(), 1);

    let (resp, _) = splunkd.handle(
        &get("/servicesNS/nobody/search/data/indexes/ot?output_mode=json"),
        T0,
    );
    assert_eq!(resp.status, 200);
    let body = json_body(&resp);
    assert_eq!(body["entry"][0]["name"], "ot");
    assert_eq!(body["entry"][0]["content"]["totalEventCount"], "0");
    assert_eq!(
        body["entry"][0]["links"]["alternate"],
        "/servicesNS/nobody/search/data/indexes/ot"
    );
}

#[test]
fn indexes_endpoint_answers_404_for_an_unknown_index_and_401_without_auth() {
    let mut splunkd = Splunkd::new(config());
    let auth = basic("viewer", "viewpass");
    let req = Request::from_target("GET", "/services/data/indexes/nope")
        .with_header("Authorization", &auth);
    let (resp, _) = splunkd.handle(&req, T0);
    assert_eq!(resp.status, 404);
    assert_eq!(
        resp.body_text(),
        xml_error("ERROR", "Could not find object id=nope")
    );
    let (resp, _) = splunkd.handle(
        &Request::from_target("GET", "/services/data/indexes/main"),
        T0,
    );
    assert_eq!(resp.status, 401);
}

#[test]
fn unknown_paths_and_methods_are_refused_after_authentication() {
    let mut splunkd = Splunkd::new(config());
    let auth = basic("admin", "changeme");
    let cases = [
        ("GET", "/services/nothing", Some(auth.as_str()), 404),
        ("GET", "/services/nothing", None, 401),
        (
            "GET",
            "/services/receivers/simple",
            Some(auth.as_str()),
            405,
        ),
        (
            "POST",
            "/services/data/indexes/main",
            Some(auth.as_str()),
            405,
        ),
        ("GET", "/services/auth/login", None, 405),
    ];
    for (method, target, auth, status) in cases {
        let mut req = Request::from_target(method, target).with_body(b"e".to_vec());
        if let Some(auth) = auth {
            req = req.with_header("Authorization", auth);
        }
        let (resp, events) = splunkd.handle(&req, T0);
        assert_eq!(resp.status, status, "{method} {target}");
        assert!(events.is_empty());
    }
}
