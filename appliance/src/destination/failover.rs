//! Several hosts behind one destination: which host a request (or a new connection) goes to,
//! and the hosts marked down after a failure. Every kind that takes a list of hosts (`hec`'s
//! `urls`, `splunk`'s and `syslog`'s `hosts`) uses [`Rotation`] and [`Endpoint`].
//!
//! What it guarantees:
//! - Spread: each call of [`Rotation::order`] starts at the next host in turn (round-robin).
//! - Failover: the order lists every host, those up first; a caller tries them in that order
//!   and marks a host that failed down ([`Rotation::mark_down`]) for [`DOWN_FOR`] (or the
//!   kind's own time), so the next request starts elsewhere.
//! - Come back: a host marked down is tried last, earliest recovery first, never skipped; once
//!   its time is over it is up again and takes its turn. So a single host is paced by the
//!   worker's backoff only.
//! - Bounded: a destination lists at most [`MAX_HOSTS`] hosts (the configuration refuses
//!   more).
//!
//! (The example is the unit test `doc_examples::module_example` below: this module is
//! internal to the crate, so its example names crate paths.)

use std::fmt;
use std::ops::Range;
use std::time::{Duration, Instant};

use crate::config::raw::S;
use crate::config::validate::{Ctx, host as single_host, key};

/// Most hosts (or URLs) one destination lists.
pub(crate) const MAX_HOSTS: usize = 16;

/// How long a host that failed is tried last (not a key).
pub(crate) const DOWN_FOR: Duration = Duration::from_secs(30);

/// A host and its port, as a `splunk` or `syslog` destination lists it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Endpoint {
    /// Host name or address (an IPv6 address without brackets).
    pub host: String,
    /// The port.
    pub port: u16,
}

impl Endpoint {
    /// `host` at `port`.
    #[must_use]
    pub fn new(host: &str, port: u16) -> Self {
        Self {
            host: host.to_owned(),
            port,
        }
    }

    /// Parses `host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 address; a missing port
    /// is `default_port`. The error completes "`<text>` ...".
    ///
    /// # Errors
    ///
    /// No host, a scheme, path or user part, a port outside 1–65535.
    pub(crate) fn parse(text: &str, default_port: u16) -> Result<Self, &'static str> {
        let text = text.trim();
        if text.contains("://") || text.contains(['/', '@', '?', '#']) {
            return Err("is not host or host:port (no scheme, path or user)");
        }
        let (host, port) = if let Some(v6) = text.strip_prefix('[') {
            let (host, after) = v6.split_once(']').ok_or("has an unclosed [")?;
            match after.strip_prefix(':') {
                Some(p) => (host, Some(p)),
                None if after.is_empty() => (host, None),
                None => return Err("has text after the IPv6 address"),
            }
        } else if text.matches(':').count() > 1 {
            // A bare IPv6 address: its port is the default one.
            (text, None)
        } else {
            match text.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (text, None),
            }
        };
        if host.is_empty() || host.len() > 253 {
            return Err("has no valid host");
        }
        if host.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("has no valid host");
        }
        let port = match port {
            None => default_port,
            Some(p) => match p.parse::<u16>() {
                Ok(p) if p > 0 => p,
                _ => return Err("has a port outside 1-65535"),
            },
        };
        Ok(Self::new(host, port))
    }
}

impl fmt::Display for Endpoint {
    /// `host:port`, an IPv6 address in brackets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// The round-robin start and the down marks of a destination's hosts.
#[derive(Debug, Clone)]
pub(crate) struct Rotation {
    down_until: Vec<Option<Instant>>,
    next: usize,
    down_for: Duration,
}

impl Rotation {
    /// `hosts` hosts (at least one is assumed), none down; a failed host is down for
    /// `down_for`.
    #[must_use]
    pub(crate) fn new(hosts: usize, down_for: Duration) -> Self {
        Self {
            down_until: vec![None; hosts.max(1)],
            next: 0,
            down_for,
        }
    }

    /// How many hosts.
    #[must_use]
    pub(crate) fn len(&self) -> usize {
        self.down_until.len()
    }

    /// The order in which to try the hosts for the next request (or connection): the next
    /// host in turn first, hosts marked down at `now` last, earliest recovery first.
    pub(crate) fn order(&mut self, now: Instant) -> Vec<usize> {
        let n = self.down_until.len();
        let start = self.next % n;
        self.next = (start + 1) % n;
        let (mut up, mut down): (Vec<usize>, Vec<usize>) = (0..n)
            .map(|i| (start + i) % n)
            .partition(|&i| self.is_up(i, now));
        down.sort_by_key(|&i| self.down_until.get(i).copied().flatten());
        up.append(&mut down);
        up
    }

    /// Marks host `index` down from `now` for the down time.
    pub(crate) fn mark_down(&mut self, index: usize, now: Instant) {
        if let Some(until) = self.down_until.get_mut(index) {
            *until = Some(now + self.down_for);
        }
    }

    /// Whether host `index` is up at `now`.
    #[must_use]
    pub(crate) fn is_up(&self, index: usize, now: Instant) -> bool {
        self.down_until
            .get(index)
            .is_some_and(|until| until.is_none_or(|until| until <= now))
    }

    /// How long host `index` stays marked down after `now`; `None` when it is up.
    #[must_use]
    pub(crate) fn down_for(&self, index: usize, now: Instant) -> Option<Duration> {
        self.down_until
            .get(index)
            .copied()
            .flatten()
            .and_then(|until| until.checked_duration_since(now))
            .filter(|left| !left.is_zero())
    }

    /// The hosts `names` (in list order) with their marks at `now`, for status.
    #[must_use]
    pub(crate) fn states(
        &self,
        names: impl Iterator<Item = String>,
        now: Instant,
    ) -> Vec<crate::destination::HostState> {
        names
            .enumerate()
            .map(|(i, host)| crate::destination::HostState {
                host,
                down_for: self.down_for(i, now),
            })
            .collect()
    }

    /// The hosts marked down at `now`, in list order.
    #[must_use]
    pub(crate) fn down(&self, now: Instant) -> Vec<usize> {
        (0..self.down_until.len())
            .filter(|&i| !self.is_up(i, now))
            .collect()
    }
}

/// Reports a list (`list`, key `k`) of `what` (plural) that is empty or longer than
/// [`MAX_HOSTS`], with `example` in the fix; `true` when its length is fine.
pub(crate) fn check_len<T>(
    ctx: &mut Ctx<'_>,
    list: &S<Vec<T>>,
    k: &str,
    what: &str,
    example: &str,
) -> bool {
    let len = list.get_ref().len();
    if (1..=MAX_HOSTS).contains(&len) {
        return true;
    }
    let fix = if len == 0 {
        format!("list at least one, such as [{example}], or remove the key")
    } else {
        format!("list at most {MAX_HOSTS} {what}: one destination spreads over 16 at most")
    };
    ctx.report(list.span(), k, format!("has {len} {what}"), fix);
    false
}

/// Reports every entry of `list` (key `k`) whose parsed value (`parsed`, in list order, told
/// apart by its text without regard to case) an earlier entry already names; `true` when each
/// is listed once.
pub(crate) fn check_unique<T: fmt::Display>(
    ctx: &mut Ctx<'_>,
    list: &[S<String>],
    k: &str,
    parsed: &[T],
) -> bool {
    // Host names are case-insensitive: `SIEM` and `siem` are one host.
    let names: Vec<String> = parsed
        .iter()
        .map(|value| value.to_string().to_ascii_lowercase())
        .collect();
    let mut unique = true;
    for (i, (entry, value)) in list.iter().zip(parsed).enumerate() {
        let name = names.get(i);
        let Some(first) = names.iter().position(|earlier| Some(earlier) == name) else {
            continue;
        };
        if first < i {
            unique = false;
            ctx.report(
                entry.span(),
                &format!("{k}[{i}]"),
                format!("names {value} again (as {k}[{first}] does)"),
                "list each host once: a host listed twice would take twice its share".to_owned(),
            );
        }
    }
    unique
}

/// The keys `host` and `hosts` of a destination, as read.
pub(crate) type HostKeys<'a> = (&'a Option<S<String>>, &'a Option<S<Vec<S<String>>>>);

/// The hosts of a `splunk` or `syslog` destination (table at `span`, key path `prefix`):
/// `hosts = ["a", "b:port", ...]` (1 to [`MAX_HOSTS`], each once), or the single `host`; an
/// entry without a port takes `port` (the `port` key or the kind's default).
pub(crate) fn hosts(
    ctx: &mut Ctx<'_>,
    (one, many): HostKeys<'_>,
    port: Option<u16>,
    span: &Range<usize>,
    prefix: &str,
) -> Option<Vec<Endpoint>> {
    let Some(list) = many else {
        let host = single_host(ctx, one, span, prefix);
        return Some(vec![Endpoint::new(&host?, port?)]);
    };
    let k = key(prefix, "hosts");
    if let Some(one) = one {
        ctx.report(
            one.span(),
            &key(prefix, "host"),
            "is set beside hosts".to_owned(),
            "keep one of them: put this host in the hosts list, or remove hosts".to_owned(),
        );
        return None;
    }
    if !check_len(
        ctx,
        list,
        &k,
        "hosts",
        "\"siem-a.example\", \"siem-b.example:6514\"",
    ) {
        return None;
    }
    let port = port?;
    let mut parsed = Vec::with_capacity(list.get_ref().len());
    for (i, entry) in list.get_ref().iter().enumerate() {
        match Endpoint::parse(entry.get_ref(), port) {
            Ok(endpoint) => parsed.push(endpoint),
            Err(why) => ctx.report(
                entry.span(),
                &format!("{k}[{i}]"),
                format!("{:?} {why}", entry.get_ref()),
                "write a host name or address, with :port if it is not the destination's \
                 port, such as \"siem.example:6514\" or \"[fe80::1]:6514\""
                    .to_owned(),
            ),
        }
    }
    if parsed.len() < list.get_ref().len() {
        return None;
    }
    check_unique(ctx, list.get_ref(), &k, &parsed).then_some(parsed)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[test]
    fn endpoints_take_an_optional_port_and_refuse_urls() {
        assert_eq!(
            Endpoint::parse("a:8090", 8089).unwrap(),
            Endpoint::new("a", 8090)
        );
        assert_eq!(
            Endpoint::parse(" a ", 8089).unwrap(),
            Endpoint::new("a", 8089)
        );
        assert_eq!(
            Endpoint::parse("::1", 514).unwrap(),
            Endpoint::new("::1", 514)
        );
        assert_eq!(
            Endpoint::parse("[::1]:9", 514).unwrap(),
            Endpoint::new("::1", 9)
        );
        for bad in [
            "",
            "https://a",
            "a/b",
            "u@a",
            "a:0",
            "a:70000",
            "[::1",
            "[::1]x",
            "a b",
        ] {
            assert!(Endpoint::parse(bad, 1).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_host_marked_down_is_tried_last_and_comes_back_after_its_time() {
        let now = Instant::now();
        let mut rotation = Rotation::new(2, Duration::from_secs(10));
        rotation.mark_down(0, now);
        for _ in 0..3 {
            assert_eq!(rotation.order(now), vec![1, 0]);
        }
        rotation.mark_down(1, now + Duration::from_secs(1));
        assert_eq!(rotation.order(now), vec![0, 1], "earliest recovery first");
        let later = now + Duration::from_secs(11);
        assert_eq!(rotation.down(later), Vec::<usize>::new());
        let single = &mut Rotation::new(1, Duration::from_secs(10));
        single.mark_down(0, now);
        assert_eq!(single.order(now), vec![0], "a single host is never skipped");
    }
}

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation, run as unit tests.

    #[test]
    fn module_example() -> Result<(), &'static str> {
        use crate::destination::failover::{Endpoint, Rotation};
        use std::time::{Duration, Instant};

        let now = Instant::now();
        let mut rotation = Rotation::new(3, Duration::from_secs(30));
        assert_eq!(rotation.order(now), vec![0, 1, 2]);
        assert_eq!(
            rotation.order(now),
            vec![1, 2, 0],
            "spread: the next host starts"
        );
        rotation.mark_down(2, now);
        assert_eq!(rotation.order(now), vec![0, 1, 2], "2 is down: tried last");
        assert_eq!(rotation.order(now), vec![0, 1, 2]);
        assert_eq!(rotation.down(now), vec![2]);
        let later = now + Duration::from_secs(30);
        assert_eq!(rotation.order(later), vec![1, 2, 0], "2 came back");

        let endpoint = Endpoint::parse("[fe80::1]:6514", 514)?;
        assert_eq!((endpoint.host.as_str(), endpoint.port), ("fe80::1", 6514));
        assert_eq!(
            Endpoint::parse("siem.example", 514)?.to_string(),
            "siem.example:514"
        );
        Ok::<(), &'static str>(())
    }
}
