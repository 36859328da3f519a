//! The keys of a `splunk` destination ([`Keys`], read after `kind`, unknown keys refused) and
//! their validation into [`Splunk`], every problem with its place and fix.

use std::ops::Range;

use icsfwd_core::format::hec;
use serde::Deserialize;

use super::{Auth, DEFAULT_SOURCETYPE, NAME, Splunk};
use crate::config::raw::S;
use crate::config::table::fields_of;
use crate::config::validate::{Ctx, key, optional_text, port, secret};
use crate::destination::config::{Kind, KindKeys, Settings, check, keys_of};
use crate::destination::failover::hosts;
use crate::destination::http::Scheme;
use crate::destination::proxy;
use crate::destination::{DestinationKind, Secret};

/// The keys of `kind = "splunk"` (besides `name`, `kind` and the keys every kind shares).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Keys {
    host: Option<S<String>>,
    hosts: Option<S<Vec<S<String>>>>,
    port: Option<S<i64>>,
    scheme: Option<S<String>>,
    auth: Option<S<String>>,
    username: Option<S<String>>,
    password: Option<S<String>>,
    password_file: Option<S<String>>,
    password_env: Option<S<String>>,
    token: Option<S<String>>,
    token_file: Option<S<String>>,
    token_env: Option<S<String>>,
    index: Option<S<String>>,
    source: Option<S<String>>,
    sourcetype: Option<S<String>>,
    proxy: Option<S<String>>,
    proxy_credentials_file: Option<S<String>>,
    no_proxy: Option<S<Vec<S<String>>>>,
}

/// How a `splunk` destination is read.
pub(crate) const KIND: Kind = Kind {
    name: NAME,
    about: " (splunkd REST, 8089)",
    keys: fields_of::<Keys>,
    check: check::<Keys>,
    keys_of: keys_of::<Keys>,
};

impl KindKeys for Keys {
    const NAME: &'static str = NAME;
    const SETTINGS: Settings<Self> =
        |ctx, keys, span, prefix| validate(ctx, keys, span, prefix).map(DestinationKind::Splunk);
}

/// The settings the keys `raw` (of the table at `span`, key path `prefix`) describe.
fn validate(ctx: &mut Ctx<'_>, raw: &Keys, span: &Range<usize>, prefix: &str) -> Option<Splunk> {
    let port = port(ctx, &raw.port, &key(prefix, "port"), 8089);
    let hosts = hosts(ctx, (&raw.host, &raw.hosts), port, span, prefix);
    let scheme = scheme(ctx, &raw.scheme, &key(prefix, "scheme"));
    let password = secret(
        ctx,
        prefix,
        "password",
        &raw.password,
        &raw.password_file,
        &raw.password_env,
    );
    let token = secret(
        ctx,
        prefix,
        "token",
        &raw.token,
        &raw.token_file,
        &raw.token_env,
    );
    let auth = auth(ctx, raw, span, prefix, (password, token));
    let index = optional_text(ctx, &raw.index, &key(prefix, "index"), hec::MAX_OPTION_LEN);
    let source = optional_text(
        ctx,
        &raw.source,
        &key(prefix, "source"),
        hec::MAX_OPTION_LEN,
    );
    let sourcetype = optional_text(
        ctx,
        &raw.sourcetype,
        &key(prefix, "sourcetype"),
        hec::MAX_OPTION_LEN,
    );
    let proxy = proxy::validate(
        ctx,
        (&raw.proxy, &raw.proxy_credentials_file, &raw.no_proxy),
        prefix,
    );
    let sourcetype = sourcetype
        .ok()?
        .unwrap_or_else(|| DEFAULT_SOURCETYPE.to_owned());
    let mut splunk = Splunk::new(scheme?, "", 8089, auth?);
    splunk.hosts = hosts?;
    splunk.index = index.ok()?;
    if let Some(source) = source.ok()? {
        splunk.source = source;
    }
    splunk.sourcetype = sourcetype;
    splunk.proxy = proxy?;
    Some(splunk)
}

/// How it authenticates: `auth`, with `username` and a password, or a token.
fn auth(
    ctx: &mut Ctx<'_>,
    raw: &Keys,
    span: &Range<usize>,
    prefix: &str,
    (password, token): (Result<Option<Secret>, ()>, Result<Option<Secret>, ()>),
) -> Option<Auth> {
    let username = optional_text(ctx, &raw.username, &key(prefix, "username"), 256);
    let auth_key = key(prefix, "auth");
    let auth_word = raw
        .auth
        .as_ref()
        .map(|v| v.get_ref().trim().to_ascii_lowercase());
    match (auth_word.as_deref(), username, password, token) {
        (_, Err(()), _, _) | (_, _, Err(()), _) | (_, _, _, Err(())) => None,
        (Some("basic") | None, Ok(Some(username)), Ok(Some(password)), Ok(None)) => {
            Some(Auth::Basic { username, password })
        }
        (Some("session"), Ok(Some(username)), Ok(Some(password)), Ok(None)) => {
            Some(Auth::Session { username, password })
        }
        (Some("bearer") | None, Ok(None), Ok(None), Ok(Some(token))) => {
            Some(Auth::Bearer { token })
        }
        (Some(word), _, _, _) if !matches!(word, "basic" | "session" | "bearer") => {
            let at = raw.auth.as_ref().map_or(span.clone(), S::span);
            ctx.report(
                at,
                &auth_key,
                format!("unknown auth {word:?}"),
                "use \"basic\" (username + password on every request), \"session\" (log in \
                 once with username + password) or \"bearer\" (token)"
                    .to_owned(),
            );
            None
        }
        (word, _, _, _) => {
            let at = raw.auth.as_ref().map_or(span.clone(), S::span);
            let need = match word {
                Some("bearer") => {
                    "auth = \"bearer\" needs token (or token_file/token_env) and no \
                                   username or password"
                }
                Some(_) => {
                    "this auth needs username and password (or password_file/\
                            password_env) and no token"
                }
                None => {
                    "set username with password (or password_file/password_env), or a \
                         token (token_file/token_env), not both"
                }
            };
            ctx.report(
                at,
                &auth_key,
                "the credentials do not fit the authentication method".to_owned(),
                need.to_owned(),
            );
            None
        }
    }
}

/// `scheme`: `https` (default) or `http`.
fn scheme(ctx: &mut Ctx<'_>, v: &Option<S<String>>, k: &str) -> Option<Scheme> {
    match v
        .as_ref()
        .map(|v| (v, v.get_ref().trim().to_ascii_lowercase()))
    {
        None => Some(Scheme::Https),
        Some((_, s)) if s == "https" => Some(Scheme::Https),
        Some((_, s)) if s == "http" => Some(Scheme::Http),
        Some((v, _)) => {
            ctx.report(
                v.span(),
                k,
                format!("unknown scheme {:?}", v.get_ref()),
                "use \"https\" (default) or \"http\" (tests only)".to_owned(),
            );
            None
        }
    }
}
