//! Reading one `[[destination]]` table, in this order: its `name` and `kind` ([`Head`]), the
//! kind's own keys into that kind's serde struct (`deny_unknown_fields`, in
//! `<kind>/config.rs`), then the keys every kind shares ([`Shared`]: TLS, timeouts, retry).
//!
//! A key the kind's struct refuses is explained against the other kinds ([`KINDS`]): a key of
//! another kind "does not apply" to this one (unless its value has the wrong type for that
//! kind: then that is what is reported), a key of no kind is unknown and the fix lists every
//! key a destination may have. The lists come from the serde structs themselves, so a key is
//! written once, in its kind's struct.

use std::collections::HashSet;
use std::ops::Range;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use toml::de::DeTable;

use super::{ClientCert, DestinationKind, IDLE, KINDS, MAX_NAME, Retry, Timeouts, Tls};
use crate::config::raw::{S, Text};
use crate::config::table::{
    attempt, deserialize_within, drop_key, fields_of, key_error_budget, locate_in_table,
    report_serde, top_key,
};
use crate::config::validate::{Ctx, duration, flag, key, required, text};
use crate::destination::secret;
use crate::destination::trust::{SSL_CERT_FILE, SYSTEM_BUNDLES, Trust, system_bundle};

/// `name` and `kind`: read first, the kind decides how the rest is read.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Head {
    name: Option<S<String>>,
    kind: Option<S<String>>,
}

/// The keys every kind shares.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Shared {
    verify: Option<S<bool>>,
    trust: Option<S<String>>,
    ca_file: Option<S<String>>,
    client_cert: Option<S<String>>,
    client_key: Option<S<String>>,
    connect_timeout: Option<S<Text>>,
    tls_timeout: Option<S<Text>>,
    response_timeout: Option<S<Text>>,
    retry_min: Option<S<Text>>,
    retry_max: Option<S<Text>>,
}

/// What reading a destination needs of one kind; each kind's `config.rs` has its `KIND`.
pub(crate) struct Kind {
    /// Its name, as written in `kind = "..."`.
    pub(crate) name: &'static str,
    /// What it is, written after its name when an unknown kind is refused (may be empty).
    pub(crate) about: &'static str,
    /// Its keys: the fields of its serde struct.
    pub(crate) keys: fn() -> &'static [&'static str],
    /// Whether a table of its keys has the types its struct wants.
    pub(crate) check: fn(&DeTable<'_>, &Range<usize>) -> Result<(), toml::de::Error>,
    /// Deserializes its keys (the table without `name`, `kind` and the shared keys) into its
    /// serde struct, each refused key reported ([`kind_keys`]).
    pub(crate) keys_of: fn(&mut Ctx<'_>, DeTable<'_>, &KeyPlace<'_>, &mut usize) -> Option<Own>,
}

/// A kind's serde struct of keys, and how it becomes that kind's settings.
pub(crate) trait KindKeys: DeserializeOwned + 'static {
    /// The kind's name, as written in `kind = "..."`.
    const NAME: &'static str;
    /// Validates the keys into the kind's settings.
    const SETTINGS: Settings<Self>;
}

/// Validates a kind's keys `K` (of the table at the span, with the key path given) into the
/// kind's settings, every problem reported with its place and fix; `None` when one was
/// refused.
pub(crate) type Settings<K> = fn(&mut Ctx<'_>, &K, &Range<usize>, &str) -> Option<DestinationKind>;

/// [`Kind::keys_of`] of the kind whose keys are `K`: reads them ([`kind_keys`]) and keeps
/// them with their place for [`KindKeys::SETTINGS`].
pub(crate) fn keys_of<K: KindKeys>(
    ctx: &mut Ctx<'_>,
    t: DeTable<'_>,
    place: &KeyPlace<'_>,
    budget: &mut usize,
) -> Option<Own> {
    let (keys, misplaced) = kind_keys::<K>(ctx, t, place, K::NAME, budget)?;
    let (span, prefix) = (place.span.clone(), place.prefix.to_owned());
    Some(Own {
        validate: Box::new(move |ctx| K::SETTINGS(ctx, &keys, &span, &prefix)),
        misplaced,
    })
}

/// Where a destination's keys are: its table's span and key path.
pub(crate) struct KeyPlace<'a> {
    /// The table.
    pub(crate) span: &'a Range<usize>,
    /// Its key path, `destination[i]`.
    pub(crate) prefix: &'a str,
}

/// Validates a kind's deserialized keys into its settings (`None` when a value was refused).
pub(crate) type Validate = Box<dyn FnOnce(&mut Ctx<'_>) -> Option<DestinationKind>>;

/// A kind's own keys as deserialized, to be validated into its settings.
pub(crate) struct Own {
    /// Validates them, once the name and the kind are checked.
    pub(crate) validate: Validate,
    /// Whether a key of another kind was written (reported; the destination is refused).
    pub(crate) misplaced: bool,
}

/// A destination's parts besides its id and name.
pub(crate) type Parts = (DestinationKind, Tls, Timeouts, Retry);

/// One element of `[[destination]]`, as read.
pub(crate) struct Element {
    /// Its name as written (trimmed; empty when missing or refused), for rules to resolve.
    pub(crate) written_name: String,
    /// Where its name's value is, for a report about it.
    pub(crate) name_span: Option<Range<usize>>,
    /// Its name, validated.
    pub(crate) name: Option<String>,
    /// The rest, validated: `None` when anything was refused.
    pub(crate) parts: Option<Parts>,
}

/// Reads the destination table `t` (at `span`, key path `prefix`): every key first (a key
/// refused by its struct is reported), then the values. With `validate` false (a destination
/// beyond the capacity) only its keys are checked. `None` when more than
/// [`MAX_KEY_ERRORS_PER_TABLE`] keys were wrong: the table is left unread.
pub(crate) fn read(
    ctx: &mut Ctx<'_>,
    t: DeTable<'_>,
    span: &Range<usize>,
    prefix: &str,
    validate: bool,
) -> Option<Element> {
    let place = KeyPlace { span, prefix };
    let mut budget = key_error_budget();
    let [head, shared, own] = split(t);
    let head: Head = deserialize_within(ctx, head, span, prefix, &mut budget)?;
    let shared: Shared = deserialize_within(ctx, shared, span, prefix, &mut budget)?;
    let word = head
        .kind
        .as_ref()
        .map(|v| v.get_ref().trim().to_ascii_lowercase());
    let kind = KINDS
        .iter()
        .copied()
        .find(|kind| validate && word.as_deref() == Some(kind.name));
    let own = match kind {
        Some(kind) => Some((kind.keys_of)(ctx, own, &place, &mut budget)?),
        None => {
            keys_of_no_kind(ctx, own, &place, &mut budget)?;
            None
        }
    };
    let written_name = head
        .name
        .as_ref()
        .map_or(String::new(), |n| n.get_ref().trim().to_owned());
    let name_span = head.name.as_ref().map(S::span);
    if !validate {
        return Some(Element {
            written_name,
            name_span,
            name: None,
            parts: None,
        });
    }
    let name = destination_name(ctx, &head.name, span, prefix);
    let parts = match (kind_of(ctx, &head.kind, span, prefix), own) {
        (Some(_), Some(own)) => rest(ctx, own, &shared, prefix),
        _ => None,
    };
    Some(Element {
        written_name,
        name_span,
        name,
        parts,
    })
}

/// `t` split into its `name` and `kind`, the shared keys, and the rest (the kind's own).
fn split(t: DeTable<'_>) -> [DeTable<'_>; 3] {
    let (head_keys, shared_keys) = (fields_of::<Head>(), fields_of::<Shared>());
    let mut parts = [DeTable::new(), DeTable::new(), DeTable::new()];
    for (k, v) in t {
        let at = if head_keys.contains(&k.get_ref().as_ref()) {
            0
        } else if shared_keys.contains(&k.get_ref().as_ref()) {
            1
        } else {
            2
        };
        if let Some(part) = parts.get_mut(at) {
            part.insert(k, v);
        }
    }
    parts
}

/// The kind `kind` names, or reported as missing or unknown.
fn kind_of(
    ctx: &mut Ctx<'_>,
    kind: &Option<S<String>>,
    span: &Range<usize>,
    prefix: &str,
) -> Option<&'static Kind> {
    let k = key(prefix, "kind");
    let quoted = listed(|kind| format!("\"{}\"", kind.name));
    let v = required(ctx, kind, span, &k, &format!("add kind = {quoted}"))?;
    let word = v.get_ref().trim().to_ascii_lowercase();
    let found = KINDS.iter().copied().find(|kind| kind.name == word);
    if found.is_none() {
        let described = listed(|kind| format!("\"{}\"{}", kind.name, kind.about));
        ctx.report(
            v.span(),
            &k,
            format!("unknown destination kind {:?}", v.get_ref()),
            format!("use {described}"),
        );
    }
    found
}

/// Every kind, each as `show` writes it: `a, b or c`.
fn listed(show: impl Fn(&Kind) -> String) -> String {
    let shown: Vec<String> = KINDS.iter().map(|kind| show(kind)).collect();
    match shown.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// Every key a destination may have: `name`, `kind`, each kind's, then the shared ones.
fn keys_here() -> String {
    let mut seen = HashSet::new();
    let all = fields_of::<Head>()
        .iter()
        .chain(KINDS.iter().flat_map(|kind| (kind.keys)().iter()))
        .chain(fields_of::<Shared>())
        .filter(|k| seen.insert(**k))
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>();
    all.join(", ")
}

/// Whether the table `t` deserializes into `K` (the [`Kind::check`] of a kind).
pub(crate) fn check<K: DeserializeOwned>(
    t: &DeTable<'_>,
    span: &Range<usize>,
) -> Result<(), toml::de::Error> {
    attempt::<K>(t, span).map(|_| ())
}

/// Deserializes the keys `t` of a destination of kind `kind` into its serde struct `K`,
/// reporting every key `K` refuses (see the module docs) and taking it out; also says whether
/// a key of another kind was written. `None` once the table's `budget` of wrong keys is spent.
pub(crate) fn kind_keys<K: DeserializeOwned>(
    ctx: &mut Ctx<'_>,
    mut t: DeTable<'_>,
    place: &KeyPlace<'_>,
    kind: &str,
    budget: &mut usize,
) -> Option<(K, bool)> {
    let KeyPlace { span, prefix } = *place;
    let mut misplaced = false;
    loop {
        if *budget == 0 {
            return None;
        }
        let e = match attempt::<K>(&t, span) {
            Ok(keys) => return Some((keys, misplaced)),
            Err(e) => e,
        };
        *budget -= 1;
        let at = e.span().unwrap_or(span.clone());
        let top = match top_key(&t, at.start) {
            // An unknown key of the table itself (not one inside a value, such as level_map's).
            Some(top)
                if e.message().starts_with("unknown field")
                    && locate_in_table(&t, at.start) == top =>
            {
                misplaced |= explain_key(ctx, &t, &top, at, (span, prefix), Some(kind)).1;
                top
            }
            _ => report_serde(ctx, &e, &t, span, prefix)?,
        };
        drop_key(ctx, &mut t, prefix, &top);
    }
}

/// The keys `t` of a destination whose kind is missing, unknown or not read (beyond the
/// capacity): a key of no kind is reported unknown, one with the wrong type for its kind as
/// such. `None` once the table's `budget` of wrong keys is spent.
fn keys_of_no_kind(
    ctx: &mut Ctx<'_>,
    mut t: DeTable<'_>,
    place: &KeyPlace<'_>,
    budget: &mut usize,
) -> Option<()> {
    let KeyPlace { span, prefix } = *place;
    let keys: Vec<(String, Range<usize>)> = t
        .iter()
        .map(|(k, _)| (k.get_ref().to_string(), k.span()))
        .collect();
    for (top, at) in keys {
        if *budget == 0 {
            return None;
        }
        if explain_key(ctx, &t, &top, at, (span, prefix), None).0 {
            *budget -= 1;
            drop_key(ctx, &mut t, prefix, &top);
        }
    }
    Some(())
}

/// Explains why the key `top` of `t` (serde refused it at `at`) is not one of `kind`'s:
/// another kind's key with the wrong type, another kind's key that does not apply, or a key of
/// no kind. Returns whether it was reported, and whether as not applying.
fn explain_key(
    ctx: &mut Ctx<'_>,
    t: &DeTable<'_>,
    top: &str,
    at: Range<usize>,
    (span, prefix): (&Range<usize>, &str),
    kind: Option<&str>,
) -> (bool, bool) {
    let Some((k, v)) = t.get_key_value(top) else {
        return (false, false);
    };
    let other = KINDS
        .iter()
        .find(|other| Some(other.name) != kind && (other.keys)().contains(&top));
    let Some(other) = other else {
        let path = if top.is_empty() {
            prefix.to_owned()
        } else {
            key(prefix, top)
        };
        ctx.report(
            at,
            &path,
            format!("unknown key `{top}`"),
            format!("check the spelling; the keys here are: {}", keys_here()),
        );
        return (true, false);
    };
    let mut alone = DeTable::new();
    alone.insert(k.clone(), v.clone());
    if let Err(e) = (other.check)(&alone, span) {
        report_serde(ctx, &e, &alone, span, prefix);
        return (true, false);
    }
    let Some(kind) = kind else {
        return (false, false);
    };
    ctx.report(
        v.span(),
        &key(prefix, top),
        format!("`{top}` does not apply to a {kind} destination"),
        "remove it (see docs/configuration.md for the keys of each kind)".to_owned(),
    );
    (true, true)
}

/// The kind's values, then the shared ones.
fn rest(ctx: &mut Ctx<'_>, own: Own, shared: &Shared, prefix: &str) -> Option<Parts> {
    let kind = (own.validate)(ctx);
    let uses_tls = kind.as_ref().is_none_or(DestinationKind::uses_tls);
    let tls = tls(ctx, shared, prefix, uses_tls);
    let timeouts = timeouts(ctx, shared, prefix);
    let retry = retry(ctx, shared, prefix);
    if own.misplaced {
        return None;
    }
    Some((kind?, tls?, timeouts?, retry?))
}

/// The required, unique `name`: letters, digits, `-`, `_`, `.`, at most [`MAX_NAME`] bytes.
fn destination_name(
    ctx: &mut Ctx<'_>,
    name: &Option<S<String>>,
    span: &Range<usize>,
    prefix: &str,
) -> Option<String> {
    let k = key(prefix, "name");
    let v = required(ctx, name, span, &k, "add name = \"<unique name>\"")?;
    let name = text(ctx, v, &k, MAX_NAME)?;
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        || name.starts_with('.')
    {
        ctx.report(
            v.span(),
            &k,
            format!("{name:?} has characters other than letters, digits, '-', '_' and '.'"),
            "use a name such as \"soc-hec\" (it names files in the spool)".to_owned(),
        );
        return None;
    }
    Some(name)
}

/// The TLS keys, for a destination that uses TLS (`uses_tls`); refused otherwise.
fn tls(ctx: &mut Ctx<'_>, raw: &Shared, prefix: &str, uses_tls: bool) -> Option<Tls> {
    if !uses_tls {
        let mut ok = true;
        for (name, v) in [
            ("ca_file", raw.ca_file.as_ref().map(S::span)),
            ("trust", raw.trust.as_ref().map(S::span)),
            ("client_cert", raw.client_cert.as_ref().map(S::span)),
            ("client_key", raw.client_key.as_ref().map(S::span)),
            ("verify", raw.verify.as_ref().map(S::span)),
        ] {
            if let Some(at) = v {
                ok = false;
                ctx.report(
                    at,
                    &key(prefix, name),
                    format!("`{name}` applies only to syslog over TLS"),
                    "set transport = \"tls\" (or \"relp-tls\"), or remove the key".to_owned(),
                );
            }
        }
        return ok.then_some(Tls::default());
    }
    let verify = flag(&raw.verify, true);
    let trust = trust(ctx, raw, prefix);
    let client = match (&raw.client_cert, &raw.client_key) {
        (Some(cert), Some(k)) => {
            let cert = readable_file(ctx, cert, &key(prefix, "client_cert"), false);
            let k = readable_file(ctx, k, &key(prefix, "client_key"), true);
            Some(ClientCert {
                cert: cert?,
                key: k?,
            })
        }
        (Some(one), None) | (None, Some(one)) => {
            let (present, missing) = if raw.client_cert.is_some() {
                ("client_cert", "client_key")
            } else {
                ("client_key", "client_cert")
            };
            ctx.report(
                one.span(),
                &key(prefix, present),
                format!("{present} is set without {missing}"),
                format!("set {missing} too (a client certificate needs its key)"),
            );
            return None;
        }
        (None, None) => None,
    };
    Some(Tls {
        verify,
        trust: trust?,
        client,
    })
}

/// `trust` and `ca_file`: what the destination trusts (see [`crate::destination::trust`]).
fn trust(ctx: &mut Ctx<'_>, raw: &Shared, prefix: &str) -> Option<Trust> {
    let word = raw
        .trust
        .as_ref()
        .map(|v| (v, v.get_ref().trim().to_ascii_lowercase()));
    let ca_key = key(prefix, "ca_file");
    match (word, &raw.ca_file) {
        (None, None) => Some(Trust::Bundled),
        (None, Some(file)) => Some(Trust::CaFile(readable_file(ctx, file, &ca_key, false)?)),
        (Some((_, w)), Some(file)) if w == "ca_file" => {
            Some(Trust::CaFile(readable_file(ctx, file, &ca_key, false)?))
        }
        (Some((v, w)), None) if w == "ca_file" => {
            ctx.report(
                v.span(),
                &key(prefix, "trust"),
                "trust = \"ca_file\" but ca_file is not set".to_owned(),
                "set ca_file = \"/etc/icsfwd/splunk-ca.pem\" (the CA that signed the server's \
                 certificate)"
                    .to_owned(),
            );
            None
        }
        (Some((_, w)), Some(file)) if w == "bundled" || w == "system" => {
            ctx.report(
                file.span(),
                &ca_key,
                format!("ca_file is set but trust = \"{w}\" does not read it"),
                format!(
                    "remove ca_file to trust {}, or set trust = \"ca_file\" to trust only it",
                    if w == "system" {
                        "the system's CA bundle"
                    } else {
                        "the compiled-in roots"
                    }
                ),
            );
            None
        }
        (Some((_, w)), None) if w == "bundled" => Some(Trust::Bundled),
        (Some((_, w)), None) if w == "system" => system_trust(ctx, raw, prefix),
        (Some((v, _)), _) => {
            ctx.report(
                v.span(),
                &key(prefix, "trust"),
                format!("unknown trust {:?}", v.get_ref()),
                "use \"bundled\" (the Mozilla roots compiled into icsfwd), \"system\" (the \
                 operating system's CA bundle) or \"ca_file\" (only the file ca_file names)"
                    .to_owned(),
            );
            None
        }
    }
}

/// `trust = "system"`: refused when no system bundle is found (with the variables `ctx` reads).
fn system_trust(ctx: &mut Ctx<'_>, raw: &Shared, prefix: &str) -> Option<Trust> {
    let env = ctx.env;
    if system_bundle(env).is_some() {
        return Some(Trust::System);
    }
    let at = raw.trust.as_ref().map_or(0..0, S::span);
    ctx.report(
        at,
        &key(prefix, "trust"),
        format!(
            "trust = \"system\" but no system CA bundle exists ({SSL_CERT_FILE} is not set; \
             looked in {})",
            SYSTEM_BUNDLES.join(", ")
        ),
        "install the ca-certificates package, or set trust = \"ca_file\" and ca_file".to_owned(),
    );
    None
}

/// `connect_timeout`, `tls_timeout`, `response_timeout`.
fn timeouts(ctx: &mut Ctx<'_>, raw: &Shared, prefix: &str) -> Option<Timeouts> {
    let range = (Duration::from_millis(100), Duration::from_secs(3600));
    let connect = duration(
        ctx,
        &raw.connect_timeout,
        &key(prefix, "connect_timeout"),
        Duration::from_secs(10),
        range,
    );
    let tls = duration(
        ctx,
        &raw.tls_timeout,
        &key(prefix, "tls_timeout"),
        Duration::from_secs(10),
        range,
    );
    let response = duration(
        ctx,
        &raw.response_timeout,
        &key(prefix, "response_timeout"),
        Duration::from_secs(30),
        range,
    );
    Some(Timeouts {
        connect: connect?,
        tls: tls?,
        response: response?,
        idle: IDLE,
    })
}

/// `retry_min` and `retry_max`.
fn retry(ctx: &mut Ctx<'_>, raw: &Shared, prefix: &str) -> Option<Retry> {
    let range = (Duration::from_millis(10), Duration::from_secs(3600));
    let min = duration(
        ctx,
        &raw.retry_min,
        &key(prefix, "retry_min"),
        Duration::from_secs(1),
        range,
    )?;
    let max = duration(
        ctx,
        &raw.retry_max,
        &key(prefix, "retry_max"),
        Duration::from_secs(300),
        range,
    )?;
    if min > max {
        let at = raw
            .retry_min
            .as_ref()
            .or(raw.retry_max.as_ref())
            .map_or(0..0, S::span);
        ctx.report(
            at,
            &key(prefix, "retry_min"),
            format!("retry_min ({min:?}) is longer than retry_max ({max:?})"),
            "make retry_min at most retry_max".to_owned(),
        );
        return None;
    }
    Some(Retry { min, max })
}

/// A file that must exist and be readable (a CA, a certificate, a key).
pub(crate) fn readable_file(
    ctx: &mut Ctx<'_>,
    v: &S<String>,
    key: &str,
    private: bool,
) -> Option<PathBuf> {
    let path = ctx.resolve(v.get_ref());
    let shown = path.display().to_string();
    let meta = match std::fs::metadata(&path) {
        Ok(m) if m.is_file() => m,
        Ok(_) => {
            ctx.report(
                v.span(),
                key,
                format!("{shown} is not a regular file"),
                "name a PEM file".to_owned(),
            );
            return None;
        }
        Err(e) => {
            ctx.report(
                v.span(),
                key,
                format!("cannot read {shown}: {e}"),
                "fix the path (relative paths start at the config file's directory)".to_owned(),
            );
            return None;
        }
    };
    use std::os::unix::fs::PermissionsExt as _;
    let mode = meta.permissions().mode() & 0o777;
    if private && !secret::is_private(mode) {
        ctx.report(
            v.span(),
            key,
            format!("private key {shown} is readable by group or others (mode {mode:04o})"),
            format!("run `chmod 600 {shown}`"),
        );
        return None;
    }
    if let Err(e) = std::fs::File::open(&path) {
        ctx.report(
            v.span(),
            key,
            format!("cannot open {shown}: {e}"),
            format!("make {shown} readable by the user icsfwd runs as"),
        );
        return None;
    }
    Some(path)
}
