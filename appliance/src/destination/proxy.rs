//! How an HTTP destination (`hec`, `splunk`) reaches its server: directly, through the HTTP
//! proxy its configuration names, or through the proxy the environment names.
//!
//! What it guarantees:
//! - Direct is the default, whatever the environment holds: `HTTPS_PROXY`, `HTTP_PROXY`,
//!   `ALL_PROXY` and `NO_PROXY` (and their lower-case forms) are read only with
//!   `proxy = "env"`, so `icsfwd test` from an admin shell takes the same path as the service.
//! - A proxy is an `http://` proxy; https URLs go through it in a `CONNECT` tunnel, so TLS and
//!   its verification stay end to end between icsfwd and Splunk (plain `http` URLs are tunnelled
//!   too).
//! - The proxy's credentials come from a file (`proxy_credentials_file`, `user:password`, mode
//!   0600, read like every secret file, see [`super::secret`]) and are never printed: [`Hop`]
//!   shows host and port only.
//! - `no_proxy` entries are host names or addresses: an entry matches that host and every
//!   host below it (`example.com` and `.example.com` both match `splunk.example.com` and
//!   `example.com`), `*` matches every host.
//!
//! (The example is the unit test `doc_examples::module_example` below: this module is
//! internal to the crate, so its example names crate paths.)

use std::fmt;

use super::{Secret, secret};
use crate::config::raw::S;
use crate::config::validate::{Ctx, key};

/// The proxy setting of an HTTP destination (`proxy`, `proxy_credentials_file`, `no_proxy`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Proxy {
    /// No `proxy` key: connect to the server directly; the environment is ignored.
    #[default]
    Direct,
    /// `proxy = "http://host:port"`.
    Server(ProxyServer),
    /// `proxy = "env"`: the proxy `HTTPS_PROXY`, `HTTP_PROXY` or `ALL_PROXY` names, except for
    /// the hosts `NO_PROXY` lists, read when the sender is built.
    Env,
}

/// An HTTP proxy named in the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyServer {
    /// Its host name or address.
    pub host: String,
    /// Its port.
    pub port: u16,
    /// `user:password` for `Proxy-Authorization: Basic`, from `proxy_credentials_file`.
    pub credentials: Option<Credentials>,
    /// Hosts reached directly (`no_proxy`), see the module docs.
    pub no_proxy: Vec<String>,
}

/// A proxy user and password (`Debug` shows neither).
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The user name.
    pub user: Secret,
    /// The password.
    pub password: Secret,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Credentials([redacted])")
    }
}

impl Credentials {
    /// Splits the contents of a credentials file, `user:password`; `None` without a `:` or
    /// with an empty user.
    #[must_use]
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let (user, password) = text.split_once(':')?;
        (!user.is_empty()).then(|| Self {
            user: Secret::new(user),
            password: Secret::new(password),
        })
    }
}

/// One proxy a request goes through: what errors and `icsfwd test` name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hop {
    /// Its host.
    pub host: String,
    /// Its port.
    pub port: u16,
    /// Its credentials, if any.
    pub credentials: Option<Credentials>,
    /// The environment variable it came from (`proxy = "env"`), else `None`.
    pub from: Option<&'static str>,
}

impl fmt::Display for Hop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "proxy [{}]:{}", self.host, self.port)?;
        } else {
            write!(f, "proxy {}:{}", self.host, self.port)?;
        }
        if let Some(var) = self.from {
            write!(f, " (from {var})")?;
        }
        Ok(())
    }
}

/// The proxy for each URL scheme, and the hosts reached directly.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Routes {
    /// For `https` URLs.
    pub https: Option<Hop>,
    /// For `http` URLs.
    pub http: Option<Hop>,
    /// Hosts reached directly.
    pub no_proxy: Vec<String>,
}

/// The environment names a proxy icsfwd cannot use (`proxy = "env"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvError {
    /// The variable.
    pub variable: &'static str,
    /// Its value without any `user:password@`.
    pub shown: String,
}

impl fmt::Display for EnvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} = {:?} is not an http:// proxy with a host and port (proxy = \"env\"): fix the \
             variable, or set proxy = \"http://host:port\" in the destination",
            self.variable, self.shown
        )
    }
}

impl std::error::Error for EnvError {}

/// The variables `proxy = "env"` reads for https URLs, first found wins.
const HTTPS_VARS: [&str; 4] = ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"];
/// The variables `proxy = "env"` reads for http URLs, first found wins.
const HTTP_VARS: [&str; 4] = ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"];
/// The variables `proxy = "env"` reads for the hosts reached directly.
const NO_PROXY_VARS: [&str; 2] = ["NO_PROXY", "no_proxy"];

impl Routes {
    /// The routes of `proxy`; `env` looks up an environment variable (only for
    /// [`Proxy::Env`]).
    ///
    /// # Errors
    /// With [`Proxy::Env`], a variable that names no usable `http://` proxy.
    pub(crate) fn resolve(
        proxy: &Proxy,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, EnvError> {
        match proxy {
            Proxy::Direct => Ok(Self::default()),
            Proxy::Server(server) => {
                let hop = Hop {
                    host: server.host.clone(),
                    port: server.port,
                    credentials: server.credentials.clone(),
                    from: None,
                };
                Ok(Self {
                    https: Some(hop.clone()),
                    http: Some(hop),
                    no_proxy: server.no_proxy.clone(),
                })
            }
            Proxy::Env => {
                let first = |vars: &[&'static str]| {
                    vars.iter()
                        .find_map(|v| env(v).filter(|s| !s.trim().is_empty()).map(|s| (*v, s)))
                };
                let hop = |found: Option<(&'static str, String)>| {
                    found.map(|(var, value)| env_hop(var, &value)).transpose()
                };
                let no_proxy = first(&NO_PROXY_VARS).map_or(Vec::new(), |(_, list)| {
                    list.split(',')
                        .map(|e| e.trim().to_owned())
                        .filter(|e| !e.is_empty())
                        .collect()
                });
                Ok(Self {
                    https: hop(first(&HTTPS_VARS))?,
                    http: hop(first(&HTTP_VARS))?,
                    no_proxy,
                })
            }
        }
    }

    /// The proxy a request to `url` goes through, `None` for a direct connection.
    #[must_use]
    pub(crate) fn hop_for(&self, url: &str) -> Option<&Hop> {
        let (scheme, rest) = url.split_once("://")?;
        let hop = match scheme {
            "https" => self.https.as_ref()?,
            "http" => self.http.as_ref()?,
            _ => return None,
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let host = host_of(authority.rsplit_once('@').map_or(authority, |(_, h)| h));
        let direct = self
            .no_proxy
            .iter()
            .any(|entry| no_proxy_matches(entry, host));
        (!direct).then_some(hop)
    }
}

/// The host of an `authority` (`host:port`, `[v6]:port`), without the port.
fn host_of(authority: &str) -> &str {
    if let Some(v6) = authority.strip_prefix('[') {
        return v6.split(']').next().unwrap_or_default();
    }
    authority.rsplit_once(':').map_or(authority, |(h, _)| h)
}

/// Whether the `no_proxy` `entry` covers `host` (see the module docs).
#[must_use]
pub(crate) fn no_proxy_matches(entry: &str, host: &str) -> bool {
    let entry = entry.trim().trim_start_matches('*').trim_start_matches('.');
    if entry.is_empty() {
        // `*` (or `.`/`*.` alone): every host.
        return true;
    }
    let entry = entry.trim_start_matches('[').trim_end_matches(']');
    let (host, entry) = (host.to_ascii_lowercase(), entry.to_ascii_lowercase());
    host == entry
        || host
            .strip_suffix(&entry)
            .is_some_and(|above| above.ends_with('.'))
}

/// The hop the environment variable `var` (value `value`) names.
fn env_hop(var: &'static str, value: &str) -> Result<Hop, EnvError> {
    let value = value.trim();
    let (scheme, rest) = value.split_once("://").unwrap_or(("http", value));
    let authority = rest.split('/').next().unwrap_or_default();
    let (userinfo, hostport) = authority
        .rsplit_once('@')
        .map_or((None, authority), |(u, h)| (Some(u), h));
    let parsed = hostport
        .rsplit_once(':')
        .and_then(|(h, p)| Some((h, p.parse::<u16>().ok()?)))
        .filter(|(h, p)| !h.is_empty() && *p != 0 && scheme.eq_ignore_ascii_case("http"));
    let Some((host, port)) = parsed else {
        return Err(EnvError {
            variable: var,
            shown: format!("{scheme}://{hostport}"),
        });
    };
    let credentials = userinfo.and_then(|u| Credentials::parse(&percent_decode(u)));
    Ok(Hop {
        host: host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned(),
        port,
        credentials,
        from: Some(var),
    })
}

/// `%XX` escapes of a URL's user information decoded (an invalid escape is kept as written).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b, hex) {
            (b'%', Some(decoded)) => {
                out.push(decoded);
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The keys `proxy`, `proxy_credentials_file` and `no_proxy` of an HTTP destination, as read.
pub(crate) type Keys<'k> = (
    &'k Option<S<String>>,
    &'k Option<S<String>>,
    &'k Option<S<Vec<S<String>>>>,
);

/// Validates the proxy keys of the destination at `prefix` (every problem reported with its
/// place and fix).
pub(crate) fn validate(ctx: &mut Ctx<'_>, keys: Keys<'_>, prefix: &str) -> Option<Proxy> {
    let (proxy, credentials_file, no_proxy) = keys;
    let word = proxy
        .as_ref()
        .map(|v| v.get_ref().trim().to_ascii_lowercase());
    let needs_server = match word.as_deref() {
        None | Some("direct") => Some("no proxy is set"),
        Some("env") => {
            Some("proxy = \"env\" takes the proxy and its exceptions from the environment")
        }
        Some(_) => None,
    };
    if let Some(why) = needs_server {
        let mut ok = true;
        for (name, at) in [
            (
                "proxy_credentials_file",
                credentials_file.as_ref().map(S::span),
            ),
            ("no_proxy", no_proxy.as_ref().map(S::span)),
        ] {
            if let Some(at) = at {
                ok = false;
                let fix = if word.as_deref() == Some("env") {
                    format!(
                        "remove {name} (credentials go in the variable's URL, exceptions in NO_PROXY)"
                    )
                } else {
                    format!("set proxy = \"http://host:port\", or remove {name}")
                };
                ctx.report(
                    at,
                    &key(prefix, name),
                    format!("{name} is set but {why}"),
                    fix,
                );
            }
        }
        let env = word.as_deref() == Some("env");
        return ok.then_some(if env { Proxy::Env } else { Proxy::Direct });
    }
    let v = proxy.as_ref()?;
    let (host, port) = proxy_url(ctx, v, &key(prefix, "proxy"));
    let credentials = credentials_file
        .as_ref()
        .map(|file| credentials(ctx, file, &key(prefix, "proxy_credentials_file")));
    let no_proxy = match no_proxy {
        Some(list) => no_proxy_list(ctx, list, &key(prefix, "no_proxy")),
        None => Some(Vec::new()),
    };
    Some(Proxy::Server(ProxyServer {
        host: host?,
        port: port?,
        credentials: credentials.transpose().ok()?,
        no_proxy: no_proxy?,
    }))
}

/// `proxy = "http://host:port"`: its host and port, each `None` when reported.
fn proxy_url(ctx: &mut Ctx<'_>, v: &S<String>, k: &str) -> (Option<String>, Option<u16>) {
    let text = v.get_ref().trim();
    let fix = "write proxy = \"http://proxy.example.com:3128\" (an http:// proxy; https URLs \
               are tunnelled through it with CONNECT), \"env\", or remove the key";
    let refuse = |ctx: &mut Ctx<'_>, why: String| {
        ctx.report(v.span(), k, why, fix.to_owned());
        (None, None)
    };
    let Some((scheme, rest)) = text.split_once("://") else {
        return refuse(ctx, format!("{text:?} is not a proxy URL"));
    };
    if !scheme.eq_ignore_ascii_case("http") {
        return refuse(ctx, format!("{scheme}:// proxies are not supported"));
    }
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.contains('@') {
        ctx.report(
            v.span(),
            k,
            "the proxy URL holds credentials".to_owned(),
            "remove user:password@ from the URL and write them in a file named by \
             proxy_credentials_file (mode 0600)"
                .to_owned(),
        );
        return (None, None);
    }
    let parsed = authority
        .rsplit_once(':')
        .filter(|(h, _)| !h.is_empty() && !h.contains(['/', '?', '#', ' ']))
        .and_then(|(h, p)| Some((h, p.parse::<u16>().ok().filter(|p| *p != 0)?)));
    match parsed {
        Some((host, port)) => (
            Some(
                host.trim_start_matches('[')
                    .trim_end_matches(']')
                    .to_owned(),
            ),
            Some(port),
        ),
        None => refuse(
            ctx,
            format!("{text:?} is not http://host:port (the port is required)"),
        ),
    }
}

/// `proxy_credentials_file`: `user:password`; `Err` when reported.
fn credentials(ctx: &mut Ctx<'_>, file: &S<String>, k: &str) -> Result<Credentials, ()> {
    let path = ctx.resolve(file.get_ref());
    let shown = path.display().to_string();
    match secret::read_file(&path) {
        Ok(text) => match Credentials::parse(text.expose().trim_end()) {
            Some(c) => Ok(c),
            None => {
                ctx.report(
                    file.span(),
                    k,
                    format!("{shown} does not hold user:password"),
                    format!("write the proxy's user and password as user:password in {shown}"),
                );
                Err(())
            }
        },
        Err(e) => {
            ctx.report(file.span(), k, e.message, e.fix);
            Err(())
        }
    }
}

/// `no_proxy`: host names or addresses, each as the module docs describe.
fn no_proxy_list(ctx: &mut Ctx<'_>, list: &S<Vec<S<String>>>, k: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut ok = true;
    for (i, entry) in list.get_ref().iter().enumerate() {
        let text = entry.get_ref().trim();
        let body = text.trim_start_matches('*').trim_start_matches('.');
        let good = text.len() <= 253
            && (text == "*" || !body.is_empty())
            && body
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | ':' | '[' | ']'));
        if good {
            out.push(text.to_owned());
        } else {
            ok = false;
            ctx.report(
                entry.span(),
                &format!("{k}[{i}]"),
                format!("{text:?} is not a host name, domain or address"),
                "write a host or domain such as \"splunk.example.com\" or \".example.com\" \
                 (it covers the hosts below it too), an address, or \"*\" (no port, no CIDR)"
                    .to_owned(),
            );
        }
    }
    ok.then_some(out)
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

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    #[test]
    fn the_environment_is_ignored_unless_proxy_is_env() {
        let env = vars(&[("ALL_PROXY", "http://p:3128"), ("https_proxy", "p:1")]);
        assert_eq!(
            Routes::resolve(&Proxy::Direct, &env).unwrap(),
            Routes::default()
        );
        let routes = Routes::resolve(&Proxy::Env, &env).unwrap();
        assert_eq!(
            routes.https.as_ref().unwrap().to_string(),
            "proxy p:1 (from https_proxy)"
        );
        assert_eq!(
            routes.http.as_ref().unwrap().to_string(),
            "proxy p:3128 (from ALL_PROXY)"
        );
    }

    #[test]
    fn no_proxy_entries_match_the_host_and_the_hosts_below_it() {
        assert!(no_proxy_matches("example.com", "splunk.example.com"));
        assert!(no_proxy_matches(".example.com", "example.com"));
        assert!(no_proxy_matches("*.Example.com", "a.b.example.COM"));
        assert!(!no_proxy_matches("example.com", "badexample.com"));
        assert!(no_proxy_matches("*", "anything"));
        assert!(no_proxy_matches("::1", "::1"));
        let routes = Routes::resolve(
            &Proxy::Env,
            vars(&[
                ("HTTPS_PROXY", "http://p:1"),
                ("NO_PROXY", "localhost, .corp"),
            ]),
        )
        .unwrap();
        assert!(routes.hop_for("https://localhost:8088/x").is_none());
        assert!(routes.hop_for("https://splunk.corp:8088/x").is_none());
        assert!(routes.hop_for("https://splunk.example:8088/x").is_some());
        assert!(routes.hop_for("http://splunk.example:8088/x").is_none());
    }

    #[test]
    fn env_credentials_are_decoded_and_never_shown() {
        let routes = Routes::resolve(
            &Proxy::Env,
            vars(&[("HTTPS_PROXY", "http://bob:p%40ss@proxy:8080/")]),
        )
        .unwrap();
        let hop = routes.https.unwrap();
        let credentials = hop.credentials.clone().unwrap();
        assert_eq!(credentials.password.expose(), "p@ss");
        assert!(!format!("{hop} {hop:?}").contains("p@ss"), "{hop:?}");
    }

    #[test]
    fn an_unusable_env_proxy_is_an_error_that_hides_its_password() {
        for value in [
            "socks5://u:secret@p:1080",
            "http://u:secret@p",
            "http://:8080",
        ] {
            let err = Routes::resolve(&Proxy::Env, vars(&[("HTTPS_PROXY", value)])).unwrap_err();
            assert!(!err.to_string().contains("secret"), "{err}");
            assert!(err.to_string().contains("HTTPS_PROXY"), "{err}");
        }
    }

    #[test]
    fn credentials_need_a_user_and_a_colon() {
        assert!(Credentials::parse("user:pa:ss").is_some());
        assert_eq!(
            Credentials::parse("user:pa:ss").unwrap().password.expose(),
            "pa:ss"
        );
        assert!(Credentials::parse("nocolon").is_none());
        assert!(Credentials::parse(":pw").is_none());
    }
}

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation, run as unit tests.

    #[test]
    fn module_example() {
        use crate::destination::proxy::{Proxy, Routes};

        // The environment names a proxy, the destination does not: it goes direct.
        let env = |name: &str| (name == "HTTPS_PROXY").then(|| "http://127.0.0.1:9".to_owned());
        let routes = Routes::resolve(&Proxy::Direct, env).unwrap();
        assert!(
            routes
                .hop_for("https://splunk:8088/services/collector")
                .is_none()
        );
        // With proxy = "env" it is honoured.
        let routes = Routes::resolve(&Proxy::Env, env).unwrap();
        let hop = routes
            .hop_for("https://splunk:8088/services/collector")
            .unwrap();
        assert_eq!(hop.to_string(), "proxy 127.0.0.1:9 (from HTTPS_PROXY)");
    }
}
