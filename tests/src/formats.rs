//! Strict readers of every icsfwd output format, and what each must give back for an event.
//!
//! Each reader follows its format's specification and refuses anything outside it (an unknown
//! escape, an unescaped delimiter, a missing field), so a rendering that passes has exactly the
//! structure the format promises. [`check_event`] renders one event in every format — text,
//! HEC, CEF, LEEF, and RFC 5424 syslog (octet-counted) around each payload — reads every
//! rendering back and compares the fields it finds with the `expected_*` functions, which is written from
//! `docs/output-formats.md`, independently of the formatters: the same keys in the same order,
//! no key more, and every value exactly as the event holds it (after the format's documented
//! lossy replacement: CEF and syslog structured data turn control characters into U+FFFD).
//!
//! Used by the `format_all` fuzz target (`fuzz/`), by the stable replay of the fuzz corpus
//! (`tests/tests/formats/fuzz_corpus.rs`) and by the hostile-alert test (`tests/tests/formats/hostile.rs`).
//!
//! ```
//! use icsfwd_core::alert::{Alert, Event};
//! use icsfwd_tests::formats;
//!
//! let event = Event::from(Alert::example(1_557_059_334_123));
//! formats::check_event(&event, &icsfwd_core::format::Options::default()).unwrap();
//! let line = "CEF:0|v|p|1|SIG:1|Name \\| x|8|msg=a\\=b c=d";
//! let cef = formats::read_cef(line).unwrap();
//! assert_eq!(cef.header[5], "Name | x");
//! assert_eq!(cef.extension, [("msg".to_owned(), "a=b".to_owned()), ("c".to_owned(), "d".to_owned())]);
//! ```

use std::fmt::Write as _;

use icsfwd_core::alert::{Alert, Endpoint, Event, Sensor};
use icsfwd_core::format::{self, Kind, SliceWriter, cef, hec, syslog};
use icsfwd_core::time::{Civil, LEGACY_PATTERN};
use serde_json::{Map, Value, json};

/// Ordered `(key, value)` pairs.
pub type Fields = Vec<(String, String)>;

/// A CEF line read back: the seven header fields after `CEF:` (version, vendor, product,
/// device version, signature id, name, severity), unescaped, and the extension pairs in order,
/// unescaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CefLine {
    /// `0`, vendor, product, version, signature id, name, severity.
    pub header: Vec<String>,
    /// Extension `key=value` pairs in order.
    pub extension: Fields,
}

/// A LEEF 1.0 line read back: the five header fields after `LEEF:` and the attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeefLine {
    /// `1.0`, vendor, product, version, event id.
    pub header: Vec<String>,
    /// Tab-separated `key=value` attributes in order, unescaped.
    pub attributes: Fields,
}

/// A text event read back: the first line (time, label, word, title, unescaped) and the
/// `Key: value` lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextEvent {
    /// The first line, unescaped as a whole (time, label, `Alert:`/`Notification:`, title).
    pub first_line: String,
    /// `Key: value` lines in order, values unescaped.
    pub lines: Fields,
}

/// An RFC 5424 message read back from an RFC 6587 octet-counted frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyslogMessage {
    /// PRI (0–191).
    pub pri: u8,
    /// TIMESTAMP (`-` or RFC 3339).
    pub timestamp: String,
    /// HOSTNAME.
    pub hostname: String,
    /// APP-NAME.
    pub app_name: String,
    /// PROCID.
    pub procid: String,
    /// MSGID.
    pub msgid: String,
    /// The one SD-ELEMENT's SD-ID.
    pub sd_id: String,
    /// Its SD-PARAMs, values unescaped.
    pub params: Fields,
    /// MSG, as bytes.
    pub msg: Vec<u8>,
}

/// Splits `s` at the escape-aware delimiter `delim`: `\` escapes the next character, which
/// must be one of `allowed`. Returns the raw (still escaped) pieces.
fn split_escaped(s: &str, delim: char, max: usize) -> Result<Vec<&str>, String> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut chars = s.char_indices();
    while let Some((at, c)) = chars.next() {
        if pieces.len() == max {
            break;
        }
        if c == '\\' {
            chars.next();
        } else if c == delim {
            pieces.push(&s[start..at]);
            start = at + 1;
        }
    }
    pieces.push(&s[start..]);
    Ok(pieces)
}

/// Undoes backslash escapes with the table `map` (escaped char → value); any other escape,
/// or a lone trailing backslash, is an error.
fn unescape(raw: &str, map: &[(char, char)], what: &str) -> Result<String, String> {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(next) = chars.next() else {
            return Err(format!("{what}: lone trailing backslash in {raw:?}"));
        };
        match map.iter().find(|(e, _)| *e == next) {
            Some((_, v)) => out.push(*v),
            None => return Err(format!("{what}: unknown escape \\{next} in {raw:?}")),
        }
    }
    Ok(out)
}

/// Reads one CEF line strictly: `CEF:0|` and six more header fields closed by unescaped
/// pipes (only `\\` and `\|` escapes there), then the extension, split at each unescaped `=`
/// into `key=value` pairs separated by one space (only `\\`, `\=`, `\n`, `\r` escapes). No
/// raw CR or LF anywhere.
pub fn read_cef(line: &str) -> Result<CefLine, String> {
    if line.contains(['\n', '\r']) {
        return Err(format!("raw line break in CEF {line:?}"));
    }
    let rest = line
        .strip_prefix("CEF:")
        .ok_or_else(|| format!("no CEF: prefix in {line:?}"))?;
    let pieces = split_escaped(rest, '|', 7)?;
    if pieces.len() != 8 {
        return Err(format!("CEF header has {} pipes, not 7", pieces.len() - 1));
    }
    let header = pieces[..7]
        .iter()
        .map(|p| unescape(p, &[('\\', '\\'), ('|', '|')], "CEF header"))
        .collect::<Result<Vec<_>, _>>()?;
    let extension = read_cef_extension(pieces[7])?;
    Ok(CefLine { header, extension })
}

/// Splits a CEF line into its header (through the seventh unescaped `|`) and its extension.
pub fn split_cef(line: &str) -> Result<(&str, &str), String> {
    let rest = line
        .strip_prefix("CEF:")
        .ok_or_else(|| format!("no CEF: prefix in {line:?}"))?;
    let pieces = split_escaped(rest, '|', 7)?;
    let ext = pieces
        .get(7)
        .filter(|_| pieces.len() == 8)
        .ok_or_else(|| format!("CEF header has {} pipes, not 7", pieces.len() - 1))?;
    Ok((&line[..line.len() - ext.len()], ext))
}

fn read_cef_extension(ext: &str) -> Result<Fields, String> {
    if ext.is_empty() {
        return Ok(Vec::new());
    }
    // The byte offsets of unescaped `=`.
    let mut equals = Vec::new();
    let bytes = ext.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'=' => {
                equals.push(i);
                i += 1;
            }
            _ => i += 1,
        }
    }
    // Each key is the run of key characters right before its `=`, preceded by the start or by
    // the one space that ends the previous value.
    let mut keys = Vec::new();
    for &eq in &equals {
        let key_start = ext[..eq]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(0, |at| at + 1);
        if key_start == eq {
            return Err(format!("CEF: `=` with no key at {eq} in {ext:?}"));
        }
        if key_start != 0 && bytes[key_start - 1] != b' ' {
            return Err(format!(
                "CEF: key not after a space at {key_start} in {ext:?}"
            ));
        }
        keys.push((key_start, eq));
    }
    if keys.first().map(|k| k.0) != Some(0) {
        return Err(format!("CEF extension does not start with a key: {ext:?}"));
    }
    let map = [('\\', '\\'), ('=', '='), ('n', '\n'), ('r', '\r')];
    let mut fields = Vec::new();
    for (n, &(start, eq)) in keys.iter().enumerate() {
        let end = keys.get(n + 1).map_or(ext.len(), |next| next.0 - 1);
        if end < eq + 1 {
            return Err(format!("CEF: key {:?} has no value", &ext[start..eq]));
        }
        let value = unescape(&ext[eq + 1..end], &map, "CEF extension")?;
        fields.push((ext[start..eq].to_owned(), value));
    }
    Ok(fields)
}

/// Reads one LEEF 1.0 line strictly: `LEEF:1.0|` and four more header fields closed by
/// unescaped pipes, then tab-separated attributes, each split at its first `=`; escapes
/// `\\`, `\t`, `\n`, `\r`, `\uXXXX` (and `\|` in the header) only; no raw control character
/// but the delimiting tabs.
pub fn read_leef(line: &str) -> Result<LeefLine, String> {
    if line.chars().any(|c| c != '\t' && c.is_control()) {
        return Err(format!("raw control character in LEEF {line:?}"));
    }
    let rest = line
        .strip_prefix("LEEF:")
        .ok_or_else(|| format!("no LEEF: prefix in {line:?}"))?;
    let pieces = split_escaped(rest, '|', 5)?;
    if pieces.len() != 6 {
        return Err(format!("LEEF header has {} pipes, not 5", pieces.len() - 1));
    }
    let header = pieces[..5]
        .iter()
        .map(|p| leef_unescape(p, true))
        .collect::<Result<Vec<_>, _>>()?;
    let mut attributes = Vec::new();
    if !pieces[5].is_empty() {
        for attribute in pieces[5].split('\t') {
            let (key, value) = attribute
                .split_once('=')
                .ok_or_else(|| format!("LEEF attribute without `=`: {attribute:?}"))?;
            if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(format!("LEEF: bad key {key:?}"));
            }
            attributes.push((key.to_owned(), leef_unescape(value, false)?));
        }
    }
    Ok(LeefLine { header, attributes })
}

fn leef_unescape(raw: &str, header: bool) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('|') if header => out.push('|'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                let code = (hex.len() == 4 && hex.chars().all(|h| h.is_ascii_hexdigit()))
                    .then(|| u32::from_str_radix(&hex, 16).ok())
                    .flatten()
                    .and_then(char::from_u32)
                    .ok_or_else(|| format!("LEEF: bad \\u{hex} in {raw:?}"))?;
                out.push(code);
            }
            other => return Err(format!("LEEF: bad escape {other:?} in {raw:?}")),
        }
    }
    Ok(out)
}

/// Reads a text event strictly: LF-terminated lines, no CR or other raw control; the first
/// line unescaped whole; every other line `Key: value` split at the first `": "`. Escapes
/// `\\`, `\r`, `\n`, `\t`, `\xHH`, `\u{HHHH}` only.
pub fn read_text(text: &str) -> Result<TextEvent, String> {
    let body = text
        .strip_suffix('\n')
        .ok_or_else(|| "text event does not end with LF".to_owned())?;
    if body.chars().any(|c| c != '\n' && c.is_control()) {
        return Err(format!("raw control character in text {text:?}"));
    }
    let mut lines = body.split('\n');
    let first_line = text_unescape(lines.next().unwrap_or(""))?;
    let mut fields = Vec::new();
    for line in lines {
        let (key, value) = line
            .split_once(": ")
            .ok_or_else(|| format!("text line without `: `: {line:?}"))?;
        fields.push((key.to_owned(), text_unescape(value)?));
    }
    Ok(TextEvent {
        first_line,
        lines: fields,
    })
}

fn text_unescape(raw: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = raw.chars();
    let hex = |digits: &str| {
        u32::from_str_radix(digits, 16)
            .ok()
            .filter(|_| digits.chars().all(|h| h.is_ascii_hexdigit()))
            .and_then(char::from_u32)
    };
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('r') => out.push('\r'),
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('x') => {
                let digits: String = chars.by_ref().take(2).collect();
                out.push(hex(&digits).ok_or_else(|| format!("text: bad \\x{digits}"))?);
            }
            Some('u') => {
                let digits: String = chars.by_ref().take(6).collect();
                let inner = digits
                    .strip_prefix('{')
                    .and_then(|d| d.strip_suffix('}'))
                    .filter(|d| d.len() == 4)
                    .ok_or_else(|| format!("text: bad \\u{digits}"))?;
                out.push(hex(inner).ok_or_else(|| format!("text: bad \\u{digits}"))?);
            }
            other => return Err(format!("text: bad escape {other:?} in {raw:?}")),
        }
    }
    Ok(out)
}

/// Reads an RFC 6587 octet-counted frame holding one RFC 5424 message, strictly: the count
/// (no leading zero) equals the message length; `<PRI>1 ` with PRI 0–191; TIMESTAMP, HOSTNAME,
/// APP-NAME, PROCID and MSGID are NILVALUE or printable US-ASCII without spaces within their
/// RFC lengths; exactly one SD-ELEMENT whose PARAM-VALUEs escape `"`, `\` and `]` (and hold no
/// raw `]`); one space; MSG.
pub fn read_syslog_frame(frame: &[u8]) -> Result<SyslogMessage, String> {
    let space = frame
        .iter()
        .position(|&b| b == b' ')
        .ok_or("no octet count")?;
    let count = std::str::from_utf8(&frame[..space]).map_err(|e| e.to_string())?;
    if count.is_empty() || count.starts_with('0') || !count.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("bad octet count {count:?}"));
    }
    let message = &frame[space + 1..];
    if count.parse::<usize>().ok() != Some(message.len()) {
        return Err(format!(
            "octet count {count} but the message has {} bytes",
            message.len()
        ));
    }
    let pri_end = message.iter().position(|&b| b == b'>').ok_or("no PRI")?;
    let pri_text = message
        .get(1..pri_end)
        .filter(|_| message.first() == Some(&b'<'))
        .and_then(|p| std::str::from_utf8(p).ok())
        .ok_or("bad PRI")?;
    if pri_text.is_empty()
        || pri_text.len() > 3
        || (pri_text.len() > 1 && pri_text.starts_with('0'))
        || !pri_text.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(format!("bad PRI {pri_text:?}"));
    }
    let pri: u8 = pri_text
        .parse()
        .ok()
        .filter(|p| *p <= 191)
        .ok_or(format!("PRI {pri_text} out of range"))?;
    let mut rest = &message[pri_end + 1..];
    let mut token = |max: usize, what: &str| -> Result<String, String> {
        let end = rest
            .iter()
            .position(|&b| b == b' ')
            .ok_or(format!("no space after {what}"))?;
        let value = &rest[..end];
        if value.is_empty() || value.len() > max || !value.iter().all(u8::is_ascii_graphic) {
            return Err(format!("bad {what} {:?}", String::from_utf8_lossy(value)));
        }
        rest = &rest[end + 1..];
        Ok(String::from_utf8_lossy(value).into_owned())
    };
    if token(2, "VERSION")? != "1" {
        return Err("VERSION is not 1".into());
    }
    let timestamp = token(32, "TIMESTAMP")?;
    let hostname = token(255, "HOSTNAME")?;
    let app_name = token(48, "APP-NAME")?;
    let procid = token(128, "PROCID")?;
    let msgid = token(32, "MSGID")?;
    let (sd_id, params, after) = read_sd_element(rest)?;
    let msg = after
        .strip_prefix(b" ")
        .ok_or("no space after STRUCTURED-DATA")?;
    Ok(SyslogMessage {
        pri,
        timestamp,
        hostname,
        app_name,
        procid,
        msgid,
        sd_id,
        params,
        msg: msg.to_vec(),
    })
}

/// One SD-ELEMENT at the start of `bytes`; returns it and what follows it.
fn read_sd_element(bytes: &[u8]) -> Result<(String, Fields, &[u8]), String> {
    let mut rest = bytes.strip_prefix(b"[").ok_or("no SD-ELEMENT")?;
    let sd_name = |rest: &[u8]| {
        rest.iter()
            .position(|&b| !b.is_ascii_graphic() || matches!(b, b'=' | b']' | b'"'))
            .unwrap_or(rest.len())
    };
    let end = sd_name(rest);
    if end == 0 || end > 32 {
        return Err("bad SD-ID".into());
    }
    let sd_id = String::from_utf8_lossy(&rest[..end]).into_owned();
    rest = &rest[end..];
    let mut params = Vec::new();
    loop {
        match rest.first() {
            Some(b']') => return Ok((sd_id, params, &rest[1..])),
            Some(b' ') => rest = &rest[1..],
            _ => return Err("SD-ELEMENT: expected ` ` or `]`".into()),
        }
        let end = sd_name(rest);
        if end == 0 || end > 32 {
            return Err("bad PARAM-NAME".into());
        }
        let name = String::from_utf8_lossy(&rest[..end]).into_owned();
        rest = rest[end..]
            .strip_prefix(b"=\"")
            .ok_or("PARAM-NAME not followed by =\"")?;
        let mut value = Vec::new();
        loop {
            match rest {
                [b'\\', b @ (b'"' | b'\\' | b']'), tail @ ..] => {
                    value.push(*b);
                    rest = tail;
                }
                [b'"', tail @ ..] => {
                    rest = tail;
                    break;
                }
                [b']', ..] => return Err("unescaped `]` in PARAM-VALUE".into()),
                [b, tail @ ..] => {
                    value.push(*b);
                    rest = tail;
                }
                [] => return Err("unterminated PARAM-VALUE".into()),
            }
        }
        let value = String::from_utf8(value).map_err(|_| "PARAM-VALUE is not UTF-8")?;
        params.push((name, value));
    }
}

// ---- What each format must give back for an event (from docs/output-formats.md) ----

/// CEF's replacement of characters it cannot carry: every control character (and, in the
/// header, LF and CR too) and U+2028/U+2029 become U+FFFD.
fn replaced(value: &str, keep_line_breaks: bool) -> String {
    value
        .chars()
        .map(|c| {
            let breaks = keep_line_breaks && matches!(c, '\n' | '\r');
            if !breaks && (c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')) {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect()
}

/// A CEF header field: controls replaced, and never empty (`format::EMPTY_HEADER_FIELD`).
fn header_field(value: &str) -> String {
    if value.is_empty() {
        format::EMPTY_HEADER_FIELD.to_owned()
    } else {
        replaced(value, false)
    }
}

/// A LEEF header field: never empty (`format::EMPTY_HEADER_FIELD`).
fn leef_header_field(value: &str) -> String {
    if value.is_empty() {
        format::EMPTY_HEADER_FIELD.to_owned()
    } else {
        value.to_owned()
    }
}

fn push(fields: &mut Fields, key: &str, value: impl Into<String>) {
    fields.push((key.to_owned(), value.into()));
}

fn push_nonempty(fields: &mut Fields, key: &str, value: &str) {
    if !value.is_empty() {
        push(fields, key, value);
    }
}

fn message(event: &Event) -> &str {
    match event {
        Event::Alert(a) => &a.message,
        Event::Notification(n) => &n.text,
    }
}

fn event_id(event: &Event) -> String {
    let id = event.event_id();
    format!("{}-{}", id.sensor, id.id)
}

/// The CEF line `options` and `event` must give: header fields and extension pairs.
pub fn expected_cef(event: &Event, options: &cef::Options) -> CefLine {
    let sensor = event.sensor();
    let header = vec![
        "0".to_owned(),
        header_field(&options.vendor),
        header_field(&options.product),
        header_field(&sensor.version),
        cef::signature_id(event).to_string(),
        header_field(event.title()),
        event.severity().level_0_to_10().to_string(),
    ];
    let ext = |v: &str| replaced(v, true);
    let mut f = Vec::new();
    push(&mut f, "rt", event.time_ms().to_string());
    let id = event.event_id();
    push(
        &mut f,
        "externalId",
        format!("{}-{}", ext(id.sensor), id.id),
    );
    let cef_endpoint = |f: &mut Fields, e: &Endpoint, keys: [&str; 6]| {
        if e.ip.is_ipv4() {
            push(f, keys[0], e.ip.to_string());
        } else {
            push(f, keys[1], keys[2]);
            push(f, &keys[1][..4], e.ip.to_string());
        }
        if let Some(port) = e.port {
            push(f, keys[3], port.to_string());
        }
        if let Some(mac) = e.mac {
            push(f, keys[4], mac.to_string());
        }
        push_nonempty(f, keys[5], &ext(&e.name));
    };
    match event {
        Event::Alert(a) => {
            push_nonempty(&mut f, "cat", &ext(&a.group));
            push_nonempty(&mut f, "app", &ext(&a.protocol));
            let src = [
                "src",
                "c6a2Label",
                "Source IPv6 Address",
                "spt",
                "smac",
                "shost",
            ];
            cef_endpoint(&mut f, &a.source, src);
            let dst = [
                "dst",
                "c6a3Label",
                "Destination IPv6 Address",
                "dpt",
                "dmac",
                "dhost",
            ];
            cef_endpoint(&mut f, &a.destination, dst);
        }
        Event::Notification(_) => push(&mut f, "cat", cef::NOTIFICATION_CATEGORY),
    }
    if sensor.ip.is_ipv4() {
        push(&mut f, "dvc", sensor.ip.to_string());
    } else {
        push(&mut f, "c6a1Label", "Device IPv6 Address");
        push(&mut f, "c6a1", sensor.ip.to_string());
    }
    push_nonempty(&mut f, "dvchost", &ext(&sensor.name));
    if let Event::Alert(a) = event {
        push(&mut f, "cs1Label", "engine");
        push(&mut f, "cs1", a.engine.as_str());
    }
    push(&mut f, "cs2Label", "severity");
    push(&mut f, "cs2", event.severity().as_str());
    if event.truncated() {
        push(&mut f, "cs3Label", "truncated");
        push(&mut f, "cs3", "true");
    }
    push_nonempty(&mut f, "msg", &ext(message(event)));
    CefLine {
        header,
        extension: f,
    }
}

/// The LEEF line `options` and `event` must give (LEEF's escaping is lossless).
pub fn expected_leef(event: &Event, options: &format::leef::Options) -> LeefLine {
    let sensor = event.sensor();
    let header = vec![
        "1.0".to_owned(),
        leef_header_field(&options.vendor),
        leef_header_field(&options.product),
        leef_header_field(&sensor.version),
        cef::signature_id(event).to_string(),
    ];
    let mut f = Vec::new();
    push(
        &mut f,
        "devTime",
        Civil::from_epoch_ms(event.time_ms()).legacy().to_string(),
    );
    push(&mut f, "devTimeFormat", LEGACY_PATTERN);
    push(&mut f, "sev", event.severity().level_0_to_10().to_string());
    push(&mut f, "severity", event.severity().as_str());
    match event {
        Event::Alert(a) => {
            push_nonempty(&mut f, "cat", &a.group);
            push(&mut f, "engine", a.engine.as_str());
        }
        Event::Notification(_) => push(&mut f, "cat", cef::NOTIFICATION_CATEGORY),
    }
    push_nonempty(&mut f, "title", event.title());
    push(&mut f, "id", event_id(event));
    if let Event::Alert(a) = event {
        push_nonempty(&mut f, "proto", &a.protocol);
        for (e, side) in [(&a.source, "src"), (&a.destination, "dst")] {
            push(&mut f, side, e.ip.to_string());
            push_nonempty(&mut f, &format!("{side}Name"), &e.name);
            if let Some(mac) = e.mac {
                push(&mut f, &format!("{side}MAC"), mac.to_string());
            }
            if let Some(port) = e.port {
                push(&mut f, &format!("{side}Port"), port.to_string());
            }
        }
    }
    push_nonempty(&mut f, "sensor", &sensor.name);
    push(&mut f, "sensorIP", sensor.ip.to_string());
    if event.truncated() {
        push(&mut f, "truncated", "true");
    }
    push_nonempty(&mut f, "msg", message(event));
    LeefLine {
        header,
        attributes: f,
    }
}

/// The text event `options` and `event` must give (text escaping is lossless).
pub fn expected_text(event: &Event, options: &format::text::Options) -> TextEvent {
    let time = Civil::from_epoch_ms(event.time_ms()).rfc3339();
    let (word, kind_type) = match event {
        Event::Alert(a) => ("Alert", a.engine.as_str()),
        Event::Notification(_) => ("Notification", "System notification"),
    };
    let first_line = format!("{time} {} {word}: {}", options.label, event.title());
    let mut f = Vec::new();
    push(&mut f, "Type", kind_type);
    push(&mut f, "Severity", event.severity().as_str());
    if let Event::Alert(a) = event {
        for (e, side) in [(&a.source, "Source"), (&a.destination, "Destination")] {
            push(&mut f, &format!("{side} name"), e.name.as_str());
            push(&mut f, &format!("{side} IP"), e.ip.to_string());
            if let Some(mac) = e.mac {
                push(&mut f, &format!("{side} MAC"), mac.to_string());
            }
            if let Some(port) = e.port {
                push(&mut f, &format!("{side} port"), port.to_string());
            }
        }
        push(&mut f, "Protocol", a.protocol.as_str());
        push(&mut f, "Alert group", a.group.as_str());
    }
    push(&mut f, "Message", message(event));
    let sensor = event.sensor();
    push(&mut f, "Sensor", sensor.name.as_str());
    push(&mut f, "Sensor IP", sensor.ip.to_string());
    push(&mut f, "Alert ID", event_id(event));
    if event.truncated() {
        push(&mut f, "Truncated", "yes");
    }
    TextEvent {
        first_line,
        lines: f,
    }
}

fn json_sensor(event: &mut Map<String, Value>, sensor: &Sensor, truncated: bool) {
    event.insert("sensor_name".into(), json!(sensor.name.as_str()));
    event.insert("sensor_ip".into(), json!(sensor.ip.to_string()));
    event.insert("sensor_version".into(), json!(sensor.version.as_str()));
    event.insert("truncated".into(), json!(truncated));
}

fn json_alert(a: &Alert) -> (Map<String, Value>, Value) {
    let mut e = Map::new();
    e.insert("alert_id".into(), json!(a.id));
    e.insert(
        "time".into(),
        json!(Civil::from_epoch_ms(a.time_ms).rfc3339().to_string()),
    );
    e.insert("engine".into(), json!(a.engine.as_str()));
    e.insert("severity".into(), json!(a.severity.as_str()));
    e.insert("title".into(), json!(a.title.as_str()));
    e.insert("message".into(), json!(a.message.as_str()));
    e.insert("protocol".into(), json!(a.protocol.as_str()));
    e.insert("alert_group".into(), json!(a.group.as_str()));
    for (p, side) in [(&a.source, "src"), (&a.destination, "dest")] {
        e.insert(format!("{side}_name"), json!(p.name.as_str()));
        e.insert(format!("{side}_ip"), json!(p.ip.to_string()));
        if let Some(mac) = p.mac {
            e.insert(format!("{side}_mac"), json!(mac.to_string()));
        }
        if let Some(port) = p.port {
            e.insert(format!("{side}_port"), json!(port));
        }
    }
    json_sensor(&mut e, &a.sensor, a.truncated);
    let fields = json!({
        "engine": a.engine.as_str(),
        "severity": a.severity.as_str(),
        "sensor": a.sensor.name.as_str(),
        "protocol": a.protocol.as_str(),
    });
    (e, fields)
}

/// The HEC envelope `options` and `event` must give, as a JSON value.
pub fn expected_hec(event: &Event, options: &hec::Options) -> Value {
    let ms = event.time_ms();
    let time: Value =
        serde_json::from_str(&format!("{}.{:03}", ms / 1000, ms % 1000)).unwrap_or(Value::Null);
    let mut envelope = Map::new();
    envelope.insert("time".into(), time);
    let host = options
        .host
        .as_ref()
        .map_or(event.sensor().name.as_str(), |h| h.as_str());
    let sourcetype = match (&options.sourcetype, event) {
        (Some(s), _) => s.as_str(),
        (None, Event::Alert(_)) => hec::SOURCETYPE_ALERT,
        (None, Event::Notification(_)) => hec::SOURCETYPE_NOTIFICATION,
    };
    let index = options.index.as_ref().map_or("", |i| i.as_str());
    for (key, value) in [
        ("host", host),
        ("source", options.source.as_str()),
        ("sourcetype", sourcetype),
        ("index", index),
    ] {
        if !value.is_empty() {
            envelope.insert(key.into(), json!(value));
        }
    }
    let (mut body, fields) = match event {
        Event::Alert(a) => json_alert(a),
        Event::Notification(n) => {
            let mut e = Map::new();
            e.insert("notification_id".into(), json!(n.id));
            e.insert(
                "time".into(),
                json!(Civil::from_epoch_ms(n.time_ms).rfc3339().to_string()),
            );
            e.insert("kind".into(), json!(n.kind.token()));
            e.insert("title".into(), json!(n.kind.as_str()));
            e.insert("severity".into(), json!(n.kind.severity().as_str()));
            e.insert("text".into(), json!(n.text.as_str()));
            json_sensor(&mut e, &n.sensor, n.truncated);
            let fields = json!({
                "kind": n.kind.token(),
                "severity": n.kind.severity().as_str(),
                "sensor": n.sensor.name.as_str(),
            });
            (e, fields)
        }
    };
    body.insert("id".into(), json!(event_id(event)));
    envelope.insert("event".into(), Value::Object(body));
    envelope.insert("fields".into(), fields);
    Value::Object(envelope)
}

/// The syslog HOSTNAME for a sensor (see `format::syslog`).
fn expected_hostname(sensor: &Sensor) -> String {
    if sensor.name.is_empty() {
        return sensor.ip.to_string();
    }
    sensor
        .name
        .chars()
        .map(|c| if c.is_ascii_graphic() { c } else { '_' })
        .collect()
}

/// Renders `event` in the payload `kind` into a fresh buffer.
fn render(kind: Kind, event: &Event, options: &format::Options) -> Result<Vec<u8>, String> {
    let mut buf = vec![0xA5u8; format::MAX_LEN];
    let mut sink = SliceWriter::new(&mut buf);
    let n = format::write(kind, event, options, &mut sink)
        .map_err(|e| format!("{kind:?} did not fit MAX_LEN: {e}"))?;
    if n != sink.len() {
        return Err(format!("{kind:?} returned {n} but wrote {}", sink.len()));
    }
    buf.truncate(n);
    Ok(buf)
}

/// Checks one rendering of `event` in payload format `kind` against the `expected_*` functions.
pub fn check_payload(
    kind: Kind,
    event: &Event,
    options: &format::Options,
    out: &[u8],
) -> Result<(), String> {
    let text = std::str::from_utf8(out).map_err(|e| format!("{kind:?} not UTF-8: {e}"))?;
    match kind {
        Kind::Text => {
            let got = read_text(text)?;
            let want = expected_text(event, &options.text);
            if got != want {
                return Err(format!("text: got {got:#?}\nwant {want:#?}"));
            }
        }
        Kind::Hec => {
            let got: Value =
                serde_json::from_str(text).map_err(|e| format!("HEC not JSON: {e}: {text}"))?;
            let want = expected_hec(event, &options.hec);
            if got != want {
                return Err(format!("HEC: got {got}\nwant {want}"));
            }
        }
        Kind::Cef => {
            let got = read_cef(text)?;
            let want = expected_cef(event, &options.cef);
            if got != want {
                return Err(format!("CEF: got {got:#?}\nwant {want:#?}"));
            }
        }
        Kind::Leef => {
            let got = read_leef(text)?;
            let want = expected_leef(event, &options.leef);
            if got != want {
                return Err(format!("LEEF: got {got:#?}\nwant {want:#?}"));
            }
        }
    }
    Ok(())
}

/// Checks one octet-counted syslog frame of `event` with `options` (the payload inside is
/// checked by [`check_payload`]).
pub fn check_syslog(
    event: &Event,
    options: &syslog::Options,
    payload_kind: Kind,
    payload_options: &format::Options,
    frame: &[u8],
) -> Result<(), String> {
    let got = read_syslog_frame(frame)?;
    let severity = event.severity();
    let pri = options.facility.code() * 8 + options.level.get(severity).code();
    let time = Civil::from_epoch_ms(event.time_ms());
    let timestamp = if time.year <= 9999 {
        time.rfc3339().to_string()
    } else {
        "-".to_owned()
    };
    let mut params = Vec::new();
    let id = event.event_id();
    push(
        &mut params,
        "id",
        format!("{}-{}", replaced(id.sensor, false), id.id),
    );
    let msgid = match event {
        Event::Alert(a) => {
            push(&mut params, "engine", a.engine.as_str());
            syslog::ALERT_MSGID
        }
        Event::Notification(n) => {
            push(&mut params, "kind", n.kind.token());
            n.kind.token()
        }
    };
    push(&mut params, "severity", severity.as_str());
    if event.truncated() {
        push(&mut params, "truncated", "true");
    }
    let want = SyslogMessage {
        pri,
        timestamp,
        hostname: expected_hostname(event.sensor()),
        app_name: syslog::APP_NAME.to_owned(),
        procid: "-".to_owned(),
        msgid: msgid.to_owned(),
        sd_id: syslog::SD_ID.to_owned(),
        params,
        msg: got.msg.clone(),
    };
    if got != want {
        return Err(format!("syslog: got {got:#?}\nwant {want:#?}"));
    }
    let payload = if options.bom {
        got.msg
            .strip_prefix("\u{FEFF}".as_bytes())
            .ok_or("no BOM")?
    } else {
        &got.msg[..]
    };
    check_payload(payload_kind, event, payload_options, payload)
}

/// Renders `event` in every format (every payload kind, then syslog around each of text, CEF
/// and LEEF, framed) with `options`, and checks each rendering. The first problem is returned
/// with the format it was found in.
pub fn check_event(event: &Event, options: &format::Options) -> Result<(), String> {
    for kind in Kind::ALL {
        let out = render(kind, event, options)?;
        check_payload(kind, event, options, &out)?;
    }
    for kind in syslog::Payload::KINDS {
        let Some(payload) = syslog::Payload::of(kind, options) else {
            return Err(format!("{kind:?} is no syslog payload"));
        };
        let syslog_options = syslog::Options {
            payload,
            ..syslog::Options::default()
        };
        let mut buf = vec![0xA5u8; syslog::MAX_FRAMED_LEN];
        let mut sink = SliceWriter::new(&mut buf);
        let n = syslog::write_framed(event, &syslog_options, &mut sink)
            .map_err(|e| format!("syslog/{kind:?} did not fit MAX_FRAMED_LEN: {e}"))?;
        check_syslog(event, &syslog_options, kind, options, &buf[..n])
            .map_err(|e| format!("syslog/{kind:?}: {e}"))?;
    }
    Ok(())
}

/// A short description of `fields` for messages (`key=value` per line).
pub fn describe(fields: &Fields) -> String {
    let mut out = String::new();
    for (k, v) in fields {
        let _ = writeln!(out, "{k}={v:?}");
    }
    out
}
