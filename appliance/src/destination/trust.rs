//! Which certificate authorities a TLS destination trusts (`trust`, `ca_file`): the roots
//! compiled into icsfwd, the operating system's bundle, or one PEM file. Shared by the HTTPS
//! client ([`super::http`]) and syslog over TLS ([`super::syslog::session`]).
//!
//! What each trusts, and only that:
//! - [`Trust::Bundled`] (the default without `ca_file`): the Mozilla roots compiled into the
//!   binary (the `webpki-roots` crate); nothing installed on the machine is read.
//! - [`Trust::System`]: the certificates of the operating system's bundle, read when the
//!   sender is built: the file `SSL_CERT_FILE` names when it is set (as OpenSSL does), else the
//!   first of [`SYSTEM_BUNDLES`] that exists (Debian's `update-ca-certificates` writes the
//!   first). A CA installed into that bundle is trusted; the compiled-in roots are not.
//! - [`Trust::CaFile`] (the default with `ca_file`): the certificates of that PEM file alone.
//!
//! (The example is the unit test `doc_examples::module_example` below: this module is
//! internal to the crate, so its example names crate paths.)

use std::path::{Path, PathBuf};

use ureq::tls::Certificate;

use super::http::{SetupError, read_ca_certs};

/// Where the operating system keeps its CA bundle (PEM), in the order they are tried: Debian
/// and Ubuntu, RHEL and Fedora (two), SUSE, Alpine and the BSDs.
pub(crate) const SYSTEM_BUNDLES: [&str; 5] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// The variable that names the system bundle instead of [`SYSTEM_BUNDLES`] (OpenSSL's).
pub(crate) const SSL_CERT_FILE: &str = "SSL_CERT_FILE";

/// The certificate authorities a destination trusts (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Trust {
    /// `trust = "bundled"`: the Mozilla roots compiled into icsfwd.
    #[default]
    Bundled,
    /// `trust = "system"`: the operating system's CA bundle.
    System,
    /// `trust = "ca_file"` (or `ca_file` alone): only the certificates of this PEM file.
    CaFile(PathBuf),
}

/// The roots a sender is built with.
#[derive(Debug, Clone)]
pub(crate) enum Roots {
    /// The compiled-in Mozilla roots.
    Bundled,
    /// Certificates read from a file.
    Read(Vec<Certificate<'static>>),
}

/// The system bundle: `SSL_CERT_FILE` (looked up with `env`) when set, else the first of
/// [`SYSTEM_BUNDLES`] that exists.
#[must_use]
pub(crate) fn system_bundle(env: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    match env(SSL_CERT_FILE).filter(|v| !v.trim().is_empty()) {
        Some(named) => Some(PathBuf::from(named)),
        None => SYSTEM_BUNDLES
            .iter()
            .map(Path::new)
            .find(|p| p.is_file())
            .map(Path::to_path_buf),
    }
}

impl Trust {
    /// The roots to build a sender with; the system bundle is found with the process's
    /// environment.
    ///
    /// # Errors
    /// No system bundle, or a file that cannot be read or holds no PEM certificate.
    pub(crate) fn roots(&self) -> Result<Roots, SetupError> {
        match self {
            Trust::Bundled => Ok(Roots::Bundled),
            Trust::System => {
                let path = system_bundle(|name| std::env::var(name).ok())
                    .ok_or(SetupError::NoSystemBundle)?;
                Ok(Roots::Read(read_ca_certs(&path)?))
            }
            Trust::CaFile(path) => Ok(Roots::Read(read_ca_certs(path)?)),
        }
    }

    /// What it trusts, for `check-config` and `icsfwd test`: `bundled (the Mozilla roots
    /// compiled into icsfwd, 146 roots)`, `system (/etc/ssl/certs/ca-certificates.crt, 140
    /// roots)`, `ca_file (/etc/icsfwd/splunk-ca.pem, 1 root)`, or what cannot be read.
    #[must_use]
    pub(crate) fn describe(&self) -> String {
        let (word, path) = match self {
            Trust::Bundled => {
                let n = webpki_roots::TLS_SERVER_ROOTS.len();
                return format!("bundled (the Mozilla roots compiled into icsfwd, {n} roots)");
            }
            Trust::System => match system_bundle(|name| std::env::var(name).ok()) {
                Some(path) => ("system", path),
                None => return format!("system ({})", SetupError::NoSystemBundle),
            },
            Trust::CaFile(path) => ("ca_file", path.clone()),
        };
        match read_ca_certs(&path) {
            Ok(certs) => {
                let n = certs.len();
                let plural = if n == 1 { "root" } else { "roots" };
                format!("{word} ({}, {n} {plural})", path.display())
            }
            Err(err) => format!("{word} ({err})"),
        }
    }
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
    fn ssl_cert_file_names_the_system_bundle_and_an_empty_one_is_unset() {
        let named = |name: &str| (name == SSL_CERT_FILE).then(|| "/x/y.pem".to_owned());
        assert_eq!(system_bundle(named), Some(PathBuf::from("/x/y.pem")));
        let empty = |name: &str| (name == SSL_CERT_FILE).then(String::new);
        let found = system_bundle(empty);
        assert!(found.is_none_or(|p| SYSTEM_BUNDLES.iter().any(|b| Path::new(b) == p)));
    }

    #[test]
    fn bundled_names_the_compiled_in_roots() {
        assert!(
            Trust::Bundled
                .describe()
                .starts_with("bundled (the Mozilla roots")
        );
    }

    #[test]
    fn an_unreadable_ca_file_is_described_with_its_error() {
        let described = Trust::CaFile("/nonexistent/ca.pem".into()).describe();
        assert!(
            described.starts_with("ca_file (cannot read /nonexistent/ca.pem"),
            "{described}"
        );
    }
}

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation, run as unit tests.

    #[test]
    fn module_example() {
        use crate::destination::trust::{Trust, system_bundle};

        assert_eq!(Trust::default(), Trust::Bundled);
        let env = |name: &str| (name == "SSL_CERT_FILE").then(|| "/opt/ca/bundle.pem".to_owned());
        assert_eq!(
            system_bundle(env).unwrap().to_str(),
            Some("/opt/ca/bundle.pem")
        );
    }
}
