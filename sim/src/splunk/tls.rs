//! TLS for the Splunk emulators: a CA and a server certificate generated at start, and a
//! rustls transport for [`Server`](super::server::Server).
//!
//! What it is: [`TlsMaterial::generate`] makes, in memory, a self-signed CA
//! ("icsfwd-sim test CA 1a2b3c4d", the suffix from its random key, so two runs' CAs never
//! share a name) and a server certificate it signs, valid for `localhost`,
//! `127.0.0.1`, `::1` and any extra names the caller passes. [`TlsMaterial::write_ca`] writes
//! the CA certificate (PEM) where a client can read it to verify the emulator — the forwarder
//! keeps TLS verification on against the simulator just as against a real Splunk.
//! [`TlsAcceptor`] is the [`Accept`] transport that speaks TLS on each accepted connection;
//! [`TlsMaterial::client_config`] is a rustls client configuration that trusts only this CA
//! (for tests and benches). [`TlsMaterial::from_pem_files`] loads a user's own certificate
//! chain, key and CA instead.
//!
//! For mutual TLS, [`TlsMaterial::generate_with_client`] also issues a client certificate
//! from the same CA; [`TlsMaterial::server_config_requiring_client_certs`] is a server that
//! refuses a client without one, and [`TlsMaterial::write_client_identity`] /
//! [`TlsMaterial::write_server_identity`] write the certificates and keys as PEM files for a
//! client such as icsfwd (`client_cert`, `client_key`) or an outside server such as rsyslogd.
//!
//! What it guarantees:
//! - The handshake runs inside [`Accept::accept`], on the connection's own thread, bounded by
//!   the server's idle timeout (set on the socket before `accept` is called). A failed
//!   handshake (untrusted certificate, plain HTTP on the TLS port, a client that stalls) ends
//!   that connection only, as an `io::Error`; the server keeps serving the others.
//! - `TCP_NODELAY` is set on every TLS connection (see [`TlsAcceptor`]'s `accept`): rustls
//!   sends one record per write, and Nagle's algorithm would hold a reply's last record until
//!   the client's delayed ACK (40 ms per request on Linux).
//! - TLS 1.3 and TLS 1.2 are offered, with rustls' safe cipher suites; the ALPN protocol
//!   `http/1.1` is advertised (a client offering ALPN without `http/1.1` is refused, as
//!   rustls does by default).
//! - The generated CA's private key lives only inside [`TlsMaterial::generate`] (and
//!   [`TlsMaterial::generate_with_client`]): it is dropped once the server (and client)
//!   certificates are signed, so it is never written anywhere and no further certificate can be
//!   issued from it. The server and client keys are held in memory and are never printed
//!   (`Debug` on [`TlsMaterial`] leaves them out); written to a file only when asked, mode
//!   0600 on Unix.
//! - [`TlsMaterial::write_ca`] writes a temporary file beside the target, syncs it, then
//!   renames it over the target: a reader sees the old file or the whole new one, never half.
//!   On Unix the file is mode 0644 (the CA certificate is public).
//! - [`TlsMaterial::write_server_pem`] is the one way the server key leaves memory: for a test
//!   that hands the material to another TLS server (rsyslogd's RELP input). The key file is
//!   created with mode 0600.
//!
//! Choices (Splunk's documentation only says that splunkd's default scheme is https): the crypto
//! provider is rustls' `ring` (no aws-lc, so the build needs no cmake); keys are ECDSA P-256
//! (rcgen's default, fast to generate); the server presents its leaf certificate only (the client
//! holds the CA); validity is rcgen's default wide window (1975–4096), since the material is
//! generated per start and is not meant to outlive it; the server certificate's common name is
//! `localhost`.
//!
//! ```no_run
//! use icsfwd_sim::splunk::http::Response;
//! use icsfwd_sim::splunk::server::{Limits, Server};
//! use icsfwd_sim::splunk::tls::TlsMaterial;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let material = TlsMaterial::generate(&["splunk.test"])?;
//! material.write_ca(std::path::Path::new("/tmp/icsfwd-sim-ca.pem"))?;
//! let server = Server::start_with(
//!     "127.0.0.1:0".parse()?,
//!     Limits::default(),
//!     material.acceptor()?,
//!     |_: &icsfwd_sim::splunk::http::Request, _| Response::json(200, "{}"),
//! )?;
//! // curl --cacert /tmp/icsfwd-sim-ca.pem https://localhost:<port>/
//! println!("https://localhost:{}/", server.local_addr().port());
//! # Ok(())
//! # }
//! ```
//!
//! Generation without the network, and a client trusting the CA:
//!
//! ```
//! use icsfwd_sim::splunk::tls::TlsMaterial;
//!
//! let material = TlsMaterial::generate::<&str>(&[]).unwrap();
//! assert!(material.ca_pem().starts_with("-----BEGIN CERTIFICATE-----"));
//! let client = material.client_config().unwrap();
//! assert_eq!(client.alpn_protocols, vec![b"http/1.1".to_vec()]);
//! ```

use std::fmt;
use std::fs;
use std::io::{self, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig, ServerConnection, StreamOwned};

use super::server::Accept;

/// The generated CA's common name, before a per-run suffix of 8 hex digits.
pub const CA_COMMON_NAME: &str = "icsfwd-sim test CA";
/// The names every generated server certificate is valid for.
pub const DEFAULT_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];
/// The ALPN protocol advertised by the server and offered by [`TlsMaterial::client_config`].
pub const ALPN_HTTP_1_1: &[u8] = b"http/1.1";

/// What went wrong making or loading TLS material.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A name for the server certificate is neither a DNS name nor an IP address.
    InvalidName(String),
    /// Generating a key or certificate failed.
    Generate(rcgen::Error),
    /// rustls refused the configuration (e.g. the key does not match the certificate).
    Config(rustls::Error),
    /// Reading or writing a file failed.
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// A PEM file holds no usable item of the kind needed.
    Pem {
        /// The file.
        path: PathBuf,
        /// What was looked for and why it failed.
        detail: String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidName(name) => {
                write!(f, "{name:?} is neither a DNS name nor an IP address")
            }
            Self::Generate(err) => write!(f, "generating TLS material: {err}"),
            Self::Config(err) => write!(f, "TLS configuration: {err}"),
            Self::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Self::Pem { path, detail } => write!(f, "{}: {detail}", path.display()),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Generate(err) => Some(err),
            Self::Config(err) => Some(err),
            Self::Io { source, .. } => Some(source),
            Self::InvalidName(_) | Self::Pem { .. } => None,
        }
    }
}

impl From<rcgen::Error> for Error {
    fn from(err: rcgen::Error) -> Self {
        Self::Generate(err)
    }
}

impl From<rustls::Error> for Error {
    fn from(err: rustls::Error) -> Self {
        Self::Config(err)
    }
}

/// A certificate and its key as PEM text (the key is a secret: never printed).
struct Identity {
    cert_pem: String,
    key_pem: String,
}

/// A server certificate chain, its key and the CA that clients should trust; with
/// [`TlsMaterial::generate_with_client`], also a client certificate from the same CA.
pub struct TlsMaterial {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    ca: CertificateDer<'static>,
    ca_pem: String,
    /// The server's certificate and key as PEM, for generated material.
    server: Option<Identity>,
    client: Option<Identity>,
}

impl fmt::Debug for TlsMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The key is a secret: never printed.
        f.debug_struct("TlsMaterial")
            .field("chain_len", &self.chain.len())
            .field("ca_pem_len", &self.ca_pem.len())
            .field("client_identity", &self.client.is_some())
            .finish_non_exhaustive()
    }
}

impl TlsMaterial {
    /// A new CA and a server certificate it signs for [`DEFAULT_NAMES`] plus `extra_names`
    /// (an IP address literal becomes an IP SAN, anything else a DNS SAN; duplicates are
    /// dropped).
    ///
    /// # Errors
    /// [`Error::InvalidName`] if a name is neither a DNS name nor an IP address (checked as a
    /// client checks the name it connects to); [`Error::Generate`] if generation failed.
    pub fn generate<S: AsRef<str>>(extra_names: &[S]) -> Result<Self, Error> {
        Self::generate_inner(extra_names, None)
    }

    /// As [`generate`](Self::generate), and a client certificate for `client_name` (its
    /// common name and a DNS name; extended key usage client authentication) signed by the
    /// same CA, for mutual TLS.
    ///
    /// # Errors
    /// As [`generate`](Self::generate).
    pub fn generate_with_client<S: AsRef<str>>(
        extra_names: &[S],
        client_name: &str,
    ) -> Result<Self, Error> {
        Self::generate_inner(extra_names, Some(client_name))
    }

    fn generate_inner<S: AsRef<str>>(
        extra_names: &[S],
        client_name: Option<&str>,
    ) -> Result<Self, Error> {
        let ca_key = KeyPair::generate()?;
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        // A per-run suffix: two runs' CAs must differ by name, or a client holding the wrong
        // one finds it as the issuer and reports a bad signature instead of an unknown issuer.
        let suffix: String = ca_key
            .public_key_raw()
            .iter()
            .rev()
            .take(4)
            .map(|byte| format!("{byte:02x}"))
            .collect();
        ca_params.distinguished_name = distinguished_name(&format!("{CA_COMMON_NAME} {suffix}"));
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_cert = ca_params.self_signed(&ca_key)?;
        let issuer = Issuer::new(ca_params, ca_key);

        let mut names: Vec<String> = Vec::new();
        for name in DEFAULT_NAMES
            .iter()
            .copied()
            .chain(extra_names.iter().map(AsRef::as_ref))
        {
            if rustls::pki_types::ServerName::try_from(name).is_err() {
                return Err(Error::InvalidName(name.to_owned()));
            }
            if !names.iter().any(|known| known == name) {
                names.push(name.to_owned());
            }
        }
        let server_key = KeyPair::generate()?;
        let mut server_params = CertificateParams::new(names)?;
        server_params.distinguished_name = distinguished_name("localhost");
        server_params.is_ca = IsCa::ExplicitNoCa;
        server_params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        server_params.use_authority_key_identifier_extension = true;
        let server_cert = server_params.signed_by(&server_key, &issuer)?;
        let client = match client_name {
            Some(name) => {
                let client_key = KeyPair::generate()?;
                let mut params = CertificateParams::new(vec![name.to_owned()])?;
                params.distinguished_name = distinguished_name(name);
                params.is_ca = IsCa::ExplicitNoCa;
                params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
                params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
                params.use_authority_key_identifier_extension = true;
                let cert = params.signed_by(&client_key, &issuer)?;
                Some(Identity {
                    cert_pem: cert.pem(),
                    key_pem: client_key.serialize_pem(),
                })
            }
            None => None,
        };
        // `issuer` (and with it the CA key) is dropped at the end of this function.

        Ok(Self {
            chain: vec![server_cert.der().clone()],
            server: Some(Identity {
                cert_pem: server_cert.pem(),
                key_pem: server_key.serialize_pem(),
            }),
            key: PrivateKeyDer::from(server_key),
            ca: ca_cert.der().clone(),
            ca_pem: ca_cert.pem(),
            client,
        })
    }

    /// Material a user brings: `chain` (PEM, the server certificate first, then any
    /// intermediates), `key` (PEM, PKCS#8, PKCS#1 or SEC1) and `ca` (PEM, the certificate
    /// clients should trust; the first one in the file is used).
    ///
    /// # Errors
    /// [`Error::Io`] if a file cannot be read, [`Error::Pem`] if one holds no certificate or
    /// key, or a PEM section is malformed.
    pub fn from_pem_files(chain: &Path, key: &Path, ca: &Path) -> Result<Self, Error> {
        let chain_certs = read_certificates(chain)?;
        let key_text = read_file(key)?;
        let key_der = PrivateKeyDer::from_pem_slice(&key_text).map_err(|err| Error::Pem {
            path: key.to_owned(),
            detail: format!("no usable private key: {err}"),
        })?;
        let ca_text = read_file(ca)?;
        let ca_cert = read_certificates(ca)?
            .into_iter()
            .next()
            .ok_or_else(|| no_certificate(ca))?;
        let ca_pem = String::from_utf8_lossy(&ca_text).into_owned();
        Ok(Self {
            chain: chain_certs,
            key: key_der,
            ca: ca_cert,
            ca_pem,
            server: None,
            client: None,
        })
    }

    /// The CA certificate, PEM (the text [`write_ca`](Self::write_ca) writes).
    #[must_use]
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The CA certificate, DER.
    #[must_use]
    pub fn ca_der(&self) -> &CertificateDer<'static> {
        &self.ca
    }

    /// The certificate chain the server presents, DER, leaf first.
    #[must_use]
    pub fn chain(&self) -> &[CertificateDer<'static>] {
        &self.chain
    }

    /// Writes [`ca_pem`](Self::ca_pem) to `path` atomically (temporary file in the same
    /// directory, sync, rename), mode 0644 on Unix.
    ///
    /// # Errors
    /// [`Error::Io`] naming the file that could not be written or renamed.
    pub fn write_ca(&self, path: &Path) -> Result<(), Error> {
        write_atomically(path, self.ca_pem.as_bytes(), 0o644)
    }

    /// Writes the client certificate (PEM) to `cert` and its key (PEM, mode 0600 on Unix) to
    /// `key`, each atomically like [`write_ca`](Self::write_ca).
    ///
    /// # Errors
    /// [`Error::Pem`] if this material has no client identity (not made by
    /// [`generate_with_client`](Self::generate_with_client)); [`Error::Io`] naming the file
    /// that could not be written.
    pub fn write_client_identity(&self, cert: &Path, key: &Path) -> Result<(), Error> {
        let identity = self.client.as_ref().ok_or_else(|| Error::Pem {
            path: cert.to_owned(),
            detail: "this TLS material has no client certificate (generate_with_client)".to_owned(),
        })?;
        write_atomically(cert, identity.cert_pem.as_bytes(), 0o644)?;
        write_atomically(key, identity.key_pem.as_bytes(), 0o600)
    }

    /// Writes the server certificate (PEM) to `chain` and its key (PEM, mode 0600 on Unix) to
    /// `key`, for a server run outside this process (rsyslogd in the tests).
    ///
    /// # Errors
    /// [`Error::Pem`] for material loaded from files (its files exist already);
    /// [`Error::Io`] naming the file that could not be written.
    pub fn write_server_identity(&self, chain: &Path, key: &Path) -> Result<(), Error> {
        let identity = self.server.as_ref().ok_or_else(|| Error::Pem {
            path: chain.to_owned(),
            detail: "loaded TLS material: use its own files".to_owned(),
        })?;
        write_atomically(chain, identity.cert_pem.as_bytes(), 0o644)?;
        write_atomically(key, identity.key_pem.as_bytes(), 0o600)
    }

    /// As [`server_config`](Self::server_config), but a client must present a certificate
    /// signed by this material's CA: without one the handshake is refused (under TLS 1.3 the
    /// refusal, alert `certificate_required`, follows the client's Finished).
    ///
    /// # Errors
    /// [`Error::Config`]: the CA is not a usable trust anchor, or the key does not fit.
    pub fn server_config_requiring_client_certs(&self) -> Result<Arc<ServerConfig>, Error> {
        let mut roots = RootCertStore::empty();
        roots.add(self.ca.clone())?;
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
            .build()
            .map_err(|err| Error::Config(rustls::Error::General(err.to_string())))?;
        let mut config = ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
            .with_client_cert_verifier(verifier)
            .with_single_cert(self.chain.clone(), self.key.clone_key())?;
        config.alpn_protocols = vec![ALPN_HTTP_1_1.to_vec()];
        Ok(Arc::new(config))
    }

    /// A rustls server configuration presenting this material: TLS 1.3 and 1.2, no client
    /// authentication, ALPN `http/1.1`.
    ///
    /// # Errors
    /// [`Error::Config`]: the key does not fit the certificate or is of an unsupported kind.
    pub fn server_config(&self) -> Result<Arc<ServerConfig>, Error> {
        let mut config = ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
            .with_no_client_auth()
            .with_single_cert(self.chain.clone(), self.key.clone_key())?;
        config.alpn_protocols = vec![ALPN_HTTP_1_1.to_vec()];
        Ok(Arc::new(config))
    }

    /// The [`Accept`] transport serving this material (see [`server_config`](Self::server_config)).
    ///
    /// # Errors
    /// As [`server_config`](Self::server_config).
    pub fn acceptor(&self) -> Result<TlsAcceptor, Error> {
        Ok(TlsAcceptor::new(self.server_config()?))
    }

    /// Writes the server certificate chain (PEM, leaf first) to `chain` and its private key
    /// (PEM; a new file, mode 0600 on Unix) to `key`, for a server other than the emulator
    /// to present this material.
    ///
    /// # Errors
    /// [`Error::Io`] naming the file that could not be written (the key file must not exist).
    pub fn write_server_pem(&self, chain: &Path, key: &Path) -> Result<(), Error> {
        use base64::Engine as _;
        let pem = |label: &str, der: &[u8]| {
            let text = base64::engine::general_purpose::STANDARD.encode(der);
            let mut out = format!("-----BEGIN {label}-----\n");
            for line in text.as_bytes().chunks(64) {
                out.push_str(&String::from_utf8_lossy(line));
                out.push('\n');
            }
            out.push_str(&format!("-----END {label}-----\n"));
            out
        };
        let certs: String = self
            .chain
            .iter()
            .map(|cert| pem("CERTIFICATE", cert))
            .collect();
        fs::write(chain, certs).map_err(|source| Error::Io {
            path: chain.to_owned(),
            source,
        })?;
        let label = match &self.key {
            PrivateKeyDer::Pkcs1(_) => "RSA PRIVATE KEY",
            PrivateKeyDer::Sec1(_) => "EC PRIVATE KEY",
            _ => "PRIVATE KEY",
        };
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        options
            .open(key)
            .and_then(|mut file| file.write_all(pem(label, self.key.secret_der()).as_bytes()))
            .map_err(|source| Error::Io {
                path: key.to_owned(),
                source,
            })
    }

    /// A rustls client configuration trusting only this material's CA: TLS 1.3 and 1.2,
    /// verification on, ALPN `http/1.1`.
    ///
    /// # Errors
    /// [`Error::Config`]: the CA certificate is not a usable trust anchor.
    pub fn client_config(&self) -> Result<Arc<ClientConfig>, Error> {
        let mut roots = RootCertStore::empty();
        roots.add(self.ca.clone())?;
        client_config_with_roots(roots)
    }
}

/// A rustls client configuration trusting only the certificates in the PEM file `ca_file`
/// (what a client of the emulator does with the file [`TlsMaterial::write_ca`] wrote).
///
/// # Errors
/// [`Error::Io`] if the file cannot be read; [`Error::Pem`] if it holds no certificate that
/// parses as a trust anchor.
pub fn client_config_trusting(ca_file: &Path) -> Result<Arc<ClientConfig>, Error> {
    let mut roots = RootCertStore::empty();
    let (added, _ignored) = roots.add_parsable_certificates(read_certificates(ca_file)?);
    if added == 0 {
        return Err(Error::Pem {
            path: ca_file.to_owned(),
            detail: "no certificate usable as a trust anchor".to_owned(),
        });
    }
    client_config_with_roots(roots)
}

fn client_config_with_roots(roots: RootCertStore) -> Result<Arc<ClientConfig>, Error> {
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![ALPN_HTTP_1_1.to_vec()];
    Ok(Arc::new(config))
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn distinguished_name(common_name: &str) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    name.push(DnType::OrganizationName, "icsfwd-sim");
    name.push(DnType::CommonName, common_name);
    name
}

/// Writes `bytes` to `path` whole: a temporary file beside it, created with `mode` on Unix,
/// synced, then renamed over it.
fn write_atomically(path: &Path, bytes: &[u8], mode: u32) -> Result<(), Error> {
    let mut temp_name = path.file_name().unwrap_or_default().to_owned();
    temp_name.push(format!(".tmp-{}", std::process::id()));
    let temp = path.with_file_name(temp_name);
    let io_error = |path: &Path| {
        let path = path.to_owned();
        move |source| Error::Io { path, source }
    };
    let written = (|| {
        let mut options = fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(mode);
        }
        #[cfg(not(unix))]
        let _ = mode;
        let mut file = options.open(&temp)?;
        #[cfg(unix)]
        {
            // The mode given at creation is reduced by the umask: set it exactly.
            use std::os::unix::fs::PermissionsExt as _;
            file.set_permissions(fs::Permissions::from_mode(mode))?;
        }
        file.write_all(bytes)?;
        file.sync_all()
    })();
    if let Err(source) = written {
        drop(fs::remove_file(&temp));
        return Err(io_error(&temp)(source));
    }
    fs::rename(&temp, path).map_err(|source| {
        drop(fs::remove_file(&temp));
        io_error(path)(source)
    })
}

fn read_file(path: &Path) -> Result<Vec<u8>, Error> {
    fs::read(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })
}

fn no_certificate(path: &Path) -> Error {
    Error::Pem {
        path: path.to_owned(),
        detail: "no CERTIFICATE section".to_owned(),
    }
}

/// Every certificate in a PEM file, in order; at least one.
fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, Error> {
    let text = read_file(path)?;
    let certs = CertificateDer::pem_slice_iter(&text)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| Error::Pem {
            path: path.to_owned(),
            detail: format!("malformed PEM: {err}"),
        })?;
    if certs.is_empty() {
        return Err(no_certificate(path));
    }
    Ok(certs)
}

/// The TLS transport: each accepted TCP connection becomes a rustls server stream, handshake
/// completed. Cheap to clone (one shared configuration).
#[derive(Debug, Clone)]
pub struct TlsAcceptor {
    config: Arc<ServerConfig>,
}

impl TlsAcceptor {
    /// An acceptor serving `config` (e.g. from [`TlsMaterial::server_config`]).
    #[must_use]
    pub fn new(config: Arc<ServerConfig>) -> Self {
        Self { config }
    }

    /// The configuration it serves.
    #[must_use]
    pub fn config(&self) -> &Arc<ServerConfig> {
        &self.config
    }
}

impl Accept for TlsAcceptor {
    type Stream = StreamOwned<ServerConnection, TcpStream>;

    /// Runs the whole handshake before returning.
    ///
    /// # Errors
    /// `InvalidData` for a TLS failure (the rustls error inside), `UnexpectedEof` if the
    /// client closed mid-handshake, or the socket's error (e.g. the idle timeout).
    fn accept(&self, mut tcp: TcpStream) -> io::Result<Self::Stream> {
        // Each write of the stream is one TLS record sent at once: with Nagle's algorithm a
        // reply's second record (the body after the head) would wait for the client's delayed
        // ACK, 40 ms per request on Linux.
        tcp.set_nodelay(true)?;
        let mut conn = ServerConnection::new(Arc::clone(&self.config))
            .map_err(|err| io::Error::new(io::ErrorKind::InvalidData, err))?;
        while conn.is_handshaking() {
            conn.complete_io(&mut tcp)?;
        }
        Ok(StreamOwned::new(conn, tcp))
    }

    /// Sends `close_notify` so the client sees an orderly end of the TLS stream.
    fn finish(&self, stream: &mut Self::Stream) {
        stream.conn.send_close_notify();
        drop(stream.flush());
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

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("icsfwd-sim-tls-{name}-{}", std::process::id()));
        drop(fs::remove_dir_all(&dir));
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn an_extra_name_no_client_could_ask_for_is_refused() {
        for name in ["not a dns name", "", "héllo.test", "a..b"] {
            let err = TlsMaterial::generate(&[name]).unwrap_err();
            assert!(
                matches!(err, Error::InvalidName(ref n) if n == name),
                "{name}: {err}"
            );
        }
    }

    #[test]
    fn a_client_identity_is_written_with_its_key_private_and_the_server_identity_loads_back() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = temp_dir("identity");
        let material = TlsMaterial::generate_with_client::<&str>(&[], "icsfwd-client").unwrap();
        let (cert, key) = (dir.join("client.pem"), dir.join("client.key"));
        material.write_client_identity(&cert, &key).unwrap();
        let mode = |path: &Path| fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!((mode(&cert), mode(&key)), (0o644, 0o600));
        assert!(fs::read_to_string(&key).unwrap().contains("PRIVATE KEY"));
        let (chain, server_key) = (dir.join("server.pem"), dir.join("server.key"));
        material.write_server_identity(&chain, &server_key).unwrap();
        assert_eq!(mode(&server_key), 0o600);
        material.write_ca(&dir.join("ca.pem")).unwrap();
        let loaded = TlsMaterial::from_pem_files(&chain, &server_key, &dir.join("ca.pem")).unwrap();
        assert!(loaded.server_config_requiring_client_certs().is_ok());
        let plain = TlsMaterial::generate::<&str>(&[]).unwrap();
        let err = plain.write_client_identity(&cert, &key).unwrap_err();
        assert!(err.to_string().contains("no client certificate"), "{err}");
        assert!(
            loaded.write_server_identity(&chain, &server_key).is_err(),
            "loaded material has its own files"
        );
        drop(fs::remove_dir_all(&dir));
    }

    #[test]
    fn debug_does_not_print_the_key() {
        let material = TlsMaterial::generate::<&str>(&[]).unwrap();
        let shown = format!("{material:?}");
        assert!(!shown.contains("key"), "{shown}");
    }

    #[test]
    fn material_written_as_pem_files_loads_back_and_serves() {
        let dir = temp_dir("load");
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);
        let leaf_key = KeyPair::generate().unwrap();
        let leaf = CertificateParams::new(vec!["localhost".to_owned()])
            .unwrap()
            .signed_by(&leaf_key, &issuer)
            .unwrap();
        fs::write(dir.join("chain.pem"), leaf.pem()).unwrap();
        fs::write(dir.join("key.pem"), leaf_key.serialize_pem()).unwrap();
        fs::write(dir.join("ca.pem"), ca_cert.pem()).unwrap();

        let loaded = TlsMaterial::from_pem_files(
            &dir.join("chain.pem"),
            &dir.join("key.pem"),
            &dir.join("ca.pem"),
        )
        .unwrap();
        assert_eq!(loaded.ca_der(), ca_cert.der());
        assert_eq!(loaded.chain(), [leaf.der().clone()]);
        assert!(
            loaded.server_config().is_ok(),
            "key matches the certificate"
        );
        assert!(loaded.client_config().is_ok());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn server_pem_files_load_back_as_the_same_material_with_a_private_key_file() {
        let dir = temp_dir("server-pem");
        let material = TlsMaterial::generate::<&str>(&[]).unwrap();
        let (chain, key, ca) = (
            dir.join("chain.pem"),
            dir.join("key.pem"),
            dir.join("ca.pem"),
        );
        material.write_server_pem(&chain, &key).unwrap();
        material.write_ca(&ca).unwrap();
        let loaded = TlsMaterial::from_pem_files(&chain, &key, &ca).unwrap();
        assert_eq!(loaded.chain(), material.chain());
        assert_eq!(loaded.key.secret_der(), material.key.secret_der());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(&key).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let again = material.write_server_pem(&chain, &key).unwrap_err();
        assert!(
            matches!(again, Error::Io { ref path, .. } if path == &key),
            "{again}"
        );
        drop(fs::remove_dir_all(&dir));
    }

    #[test]
    fn from_pem_files_names_the_file_that_is_wrong() {
        let dir = temp_dir("bad");
        let material = TlsMaterial::generate::<&str>(&[]).unwrap();
        material.write_ca(&dir.join("ca.pem")).unwrap();
        fs::write(dir.join("empty.pem"), "").unwrap();
        let cases = [
            // (chain, key, ca, file named in the error)
            ("missing.pem", "ca.pem", "ca.pem", "missing.pem"),
            ("empty.pem", "ca.pem", "ca.pem", "empty.pem"),
            ("ca.pem", "ca.pem", "ca.pem", "ca.pem"), // a certificate is no key
            ("ca.pem", "empty.pem", "ca.pem", "empty.pem"),
        ];
        for (chain, key, ca, named) in cases {
            let err = TlsMaterial::from_pem_files(&dir.join(chain), &dir.join(key), &dir.join(ca))
                .unwrap_err();
            assert!(err.to_string().contains(named), "{chain}/{key}/{ca}: {err}");
        }
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn write_ca_replaces_the_file_whole_and_leaves_no_temporary() {
        let dir = temp_dir("write");
        let path = dir.join("ca.pem");
        fs::write(&path, "old contents").unwrap();
        let material = TlsMaterial::generate::<&str>(&[]).unwrap();
        material.write_ca(&path).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), material.ca_pem());
        let entries: Vec<_> = fs::read_dir(&dir).unwrap().collect();
        assert_eq!(entries.len(), 1, "only ca.pem remains");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o644);
        }
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn write_ca_into_a_missing_directory_names_the_file() {
        let material = TlsMaterial::generate::<&str>(&[]).unwrap();
        let path = std::env::temp_dir().join("icsfwd-sim-no-such-dir/ca.pem");
        let err = material.write_ca(&path).unwrap_err();
        assert!(matches!(err, Error::Io { .. }));
        assert!(err.to_string().contains("icsfwd-sim-no-such-dir"), "{err}");
    }
}
