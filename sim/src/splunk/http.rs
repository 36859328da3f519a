//! A minimal, transport-free HTTP request/response model shared by the Splunk emulators.
//!
//! What it is: the plain data a blocking HTTP server hands to the SANS-IO protocol modules
//! ([`super::hec`], and the splunkd REST module) and the plain data it gets back. There are no
//! sockets, no parsing of the HTTP/1.1 framing and no clock here: the server reads the request
//! line, headers and body, builds a [`Request`], and writes the returned [`Response`].
//!
//! What it guarantees:
//! - Header names are looked up case-insensitively ([`Request::header`]); values are kept as sent.
//! - [`parse_urlencoded`] never fails and never panics: a malformed `%xx` escape is kept
//!   literally, `+` is a space, a pair without `=` has an empty value, and bytes that are not
//!   UTF-8 after decoding are replaced with U+FFFD.
//! - [`Request::from_target`] splits `path?query` and percent-decodes the query pairs.
//!
//! ```
//! use icsfwd_sim::splunk::http::{Request, Response};
//!
//! let req = Request::from_target("POST", "/services/collector/raw?channel=abc&sourcetype=a%20b")
//!     .with_header("authorization", "Splunk 1234")
//!     .with_body(b"hello".to_vec());
//! assert_eq!(req.path, "/services/collector/raw");
//! assert_eq!(req.query_param("sourcetype"), Some("a b"));
//! assert_eq!(req.header("Authorization"), Some("Splunk 1234"));
//!
//! let resp = Response::json(200, r#"{"text":"Success","code":0}"#);
//! assert_eq!(resp.header("content-type"), Some("application/json; charset=UTF-8"));
//! ```

/// One HTTP request, already framed and read in full by the server.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Request {
    /// The method, upper case as sent (`GET`, `POST`, ...).
    pub method: String,
    /// The path without the query string, e.g. `/services/collector/event`.
    pub path: String,
    /// The query string pairs, percent-decoded, in the order sent (duplicates kept).
    pub query: Vec<(String, String)>,
    /// The headers in the order sent; names as sent (use [`Request::header`] to look up).
    pub headers: Vec<(String, String)>,
    /// The body exactly as received (not decompressed).
    pub body: Vec<u8>,
}

impl Request {
    /// A request for `method` on a request-target `path[?query]`; no headers, empty body.
    #[must_use]
    pub fn from_target(method: &str, target: &str) -> Self {
        let (path, query) = match target.split_once('?') {
            Some((path, query)) => (path, parse_urlencoded(query)),
            None => (target, Vec::new()),
        };
        Self {
            method: method.to_owned(),
            path: path.to_owned(),
            query,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// This request with one more header appended.
    #[must_use]
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// This request with its body replaced.
    #[must_use]
    pub fn with_body(mut self, body: Vec<u8>) -> Self {
        self.body = body;
        self
    }

    /// The value of the first header named `name`, compared ASCII case-insensitively.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// The value of the first query parameter named `name` (case-sensitive, as Splunk is).
    #[must_use]
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// One HTTP response for the server to write.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Response {
    /// The HTTP status code.
    pub status: u16,
    /// The headers to send, in order. The server adds framing headers (`Content-Length`).
    pub headers: Vec<(String, String)>,
    /// The body bytes.
    pub body: Vec<u8>,
}

impl Response {
    /// A response with `status`, `Content-Type: application/json; charset=UTF-8` and `body`.
    #[must_use]
    pub fn json(status: u16, body: &str) -> Self {
        Self {
            status,
            headers: vec![(
                "Content-Type".to_owned(),
                "application/json; charset=UTF-8".to_owned(),
            )],
            body: body.as_bytes().to_vec(),
        }
    }

    /// The value of the first header named `name`, compared ASCII case-insensitively.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// The body as text (lossy UTF-8), convenient in tests and logs.
    #[must_use]
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}

/// Parses `application/x-www-form-urlencoded` text (a query string or a form body) into pairs.
///
/// Pairs are separated by `&`; empty pieces are skipped; the first `=` splits name from value;
/// `+` decodes to a space and `%xx` to its byte. Never fails: see the module docs.
#[must_use]
pub fn parse_urlencoded(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
            (percent_decode(name), percent_decode(value))
        })
        .collect()
}

/// Decodes `+` and `%xx` escapes; a malformed escape is kept as written.
#[must_use]
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut rest = bytes;
    while let Some((&first, tail)) = rest.split_first() {
        match first {
            b'+' => {
                out.push(b' ');
                rest = tail;
            }
            b'%' => match tail {
                [high, low, after @ ..] => match (hex_value(*high), hex_value(*low)) {
                    (Some(high), Some(low)) => {
                        out.push(high << 4 | low);
                        rest = after;
                    }
                    _ => {
                        out.push(b'%');
                        rest = tail;
                    }
                },
                _ => {
                    out.push(b'%');
                    rest = tail;
                }
            },
            other => {
                out.push(other);
                rest = tail;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_value(digit: u8) -> Option<u8> {
    char::from(digit)
        .to_digit(16)
        .and_then(|value| u8::try_from(value).ok())
}

/// Decodes the credentials of `Authorization: Basic <base64(user:password)>` (the part after
/// `Basic `) into the user and password; `None` when they are not base64 of UTF-8 with a `:`.
/// Padding is optional, as clients differ.
pub fn basic_credentials(encoded: &str) -> Option<(String, String)> {
    use base64::Engine as _;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const BASE64: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let decoded = BASE64.decode(encoded.trim()).ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_decode_with_or_without_padding() {
        let pair = Some(("admin".to_owned(), "changeme".to_owned()));
        assert_eq!(basic_credentials("YWRtaW46Y2hhbmdlbWU="), pair);
        assert_eq!(basic_credentials("YWRtaW46Y2hhbmdlbWU"), pair);
        assert_eq!(basic_credentials("bm9jb2xvbg=="), None, "no colon");
        assert_eq!(basic_credentials("!!!"), None);
    }

    #[test]
    fn percent_decoding_handles_plus_escapes_and_malformed_escapes() {
        assert_eq!(percent_decode("a+b%20c%2Fd"), "a b c/d");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("%C3%A9"), "\u{e9}");
        assert_eq!(percent_decode("%FF"), "\u{fffd}");
    }

    #[test]
    fn urlencoded_pairs_keep_order_duplicates_and_bare_names() {
        assert_eq!(
            parse_urlencoded("a=1&&b&a=2&c=x%3Dy"),
            vec![
                ("a".to_owned(), "1".to_owned()),
                ("b".to_owned(), String::new()),
                ("a".to_owned(), "2".to_owned()),
                ("c".to_owned(), "x=y".to_owned()),
            ]
        );
    }

    #[test]
    fn header_lookup_ignores_case_and_returns_first() {
        let req = Request::from_target("GET", "/x")
            .with_header("X-Splunk-Request-Channel", "one")
            .with_header("x-splunk-request-channel", "two");
        assert_eq!(req.header("x-SPLUNK-request-CHANNEL"), Some("one"));
        assert_eq!(req.header("missing"), None);
    }
}
