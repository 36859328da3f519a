//! The emulator over TLS: a client trusting the written CA file is served, any other client
//! or plain HTTP is refused on its own connection while the server goes on serving.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

use std::fs;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use icsfwd_sim::splunk::hec::{HecConfig, Token};
use icsfwd_sim::splunk::http::{Request, Response};
use icsfwd_sim::splunk::server::{HecHandler, Limits, RunningServer, Server};
use icsfwd_sim::splunk::store::{Store, StoreConfig};
use icsfwd_sim::splunk::tls::{TlsMaterial, client_config_trusting};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

const TIMEOUT: Duration = Duration::from_secs(10);

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("icsfwd-sim-tls-it-{name}-{}", std::process::id()));
    drop(fs::remove_dir_all(&dir));
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn echo_server(material: &TlsMaterial) -> RunningServer {
    Server::start_with(
        "127.0.0.1:0".parse().unwrap(),
        Limits::default(),
        material.acceptor().unwrap(),
        |req: &Request, _peer| Response::json(200, &format!(r#"{{"path":"{}"}}"#, req.path)),
    )
    .unwrap()
}

/// One request over a fresh TLS connection; the status and body of the answer.
fn https(
    addr: SocketAddr,
    config: &Arc<ClientConfig>,
    name: &str,
    request: &str,
) -> io::Result<(u16, String)> {
    let tcp = TcpStream::connect(addr)?;
    tcp.set_read_timeout(Some(TIMEOUT))?;
    tcp.set_write_timeout(Some(TIMEOUT))?;
    let server_name = ServerName::try_from(name.to_owned()).unwrap();
    let conn = ClientConnection::new(Arc::clone(config), server_name).unwrap();
    let mut stream = StreamOwned::new(conn, tcp);
    stream.write_all(request.as_bytes())?;
    stream.flush()?;
    read_response(&mut BufReader::new(stream))
}

fn read_response<R: BufRead>(reader: &mut R) -> io::Result<(u16, String)> {
    let mut status_line = String::new();
    reader.read_line(&mut status_line)?;
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| io::Error::other(format!("bad status line {status_line:?}")))?;
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok((status, String::from_utf8(body).unwrap()))
}

fn get(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
}

fn rustls_error(err: &io::Error) -> &rustls::Error {
    err.get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .unwrap_or_else(|| panic!("not a rustls error: {err:?}"))
}

#[test]
fn a_client_trusting_the_written_ca_file_gets_the_answer() {
    let dir = temp_dir("trusted");
    let material = TlsMaterial::generate::<&str>(&[]).unwrap();
    let ca_file = dir.join("ca.pem");
    material.write_ca(&ca_file).unwrap();
    let server = echo_server(&material);

    let config = client_config_trusting(&ca_file).unwrap();
    let (status, body) = https(server.local_addr(), &config, "localhost", &get("/hello")).unwrap();
    assert_eq!(status, 200);
    assert_eq!(body, r#"{"path":"/hello"}"#);
    server.shutdown();
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_client_trusting_another_ca_fails_the_handshake_and_others_are_still_served() {
    let material = TlsMaterial::generate::<&str>(&[]).unwrap();
    let stranger = TlsMaterial::generate::<&str>(&[]).unwrap();
    let server = echo_server(&material);

    let err = https(
        server.local_addr(),
        &stranger.client_config().unwrap(),
        "localhost",
        &get("/"),
    )
    .unwrap_err();
    assert!(
        matches!(
            rustls_error(&err),
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer)
        ),
        "{err:?}"
    );

    let (status, _) = https(
        server.local_addr(),
        &material.client_config().unwrap(),
        "localhost",
        &get("/after"),
    )
    .unwrap();
    assert_eq!(status, 200, "the server still serves trusting clients");
    server.shutdown();
}

#[test]
fn the_certificate_is_valid_for_the_default_and_extra_names_only() {
    let material = TlsMaterial::generate(&["splunk.test", "10.1.2.3"]).unwrap();
    let server = echo_server(&material);
    let config = material.client_config().unwrap();
    // (name the client verifies, valid)
    let cases = [
        ("localhost", true),
        ("127.0.0.1", true),
        ("::1", true),
        ("splunk.test", true),
        ("10.1.2.3", true),
        ("example.com", false),
        ("10.1.2.4", false),
    ];
    for (name, valid) in cases {
        let result = https(server.local_addr(), &config, name, &get("/"));
        if valid {
            assert_eq!(result.unwrap().0, 200, "{name}");
        } else {
            let err = result.unwrap_err();
            assert!(
                matches!(
                    rustls_error(&err),
                    rustls::Error::InvalidCertificate(
                        rustls::CertificateError::NotValidForName
                            | rustls::CertificateError::NotValidForNameContext { .. }
                    )
                ),
                "{name}: {err:?}"
            );
        }
    }
    server.shutdown();
}

#[test]
fn plain_http_on_the_tls_port_gets_no_200_and_the_server_keeps_serving() {
    let material = TlsMaterial::generate::<&str>(&[]).unwrap();
    let server = echo_server(&material);

    let mut plain = TcpStream::connect(server.local_addr()).unwrap();
    plain.set_read_timeout(Some(TIMEOUT)).unwrap();
    plain.write_all(get("/").as_bytes()).unwrap();
    let mut reply = Vec::new();
    match plain.read_to_end(&mut reply) {
        // The server answers with a TLS alert (or nothing) and closes.
        Ok(_) => assert!(
            !reply.starts_with(b"HTTP/1.1 200"),
            "{:?}",
            String::from_utf8_lossy(&reply)
        ),
        // A reset is also a refusal; a timeout would mean the server kept the socket open.
        Err(err) => assert!(
            !matches!(
                err.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ),
            "{err:?}"
        ),
    }

    let (status, _) = https(
        server.local_addr(),
        &material.client_config().unwrap(),
        "localhost",
        &get("/"),
    )
    .unwrap();
    assert_eq!(status, 200);
    server.shutdown();
}

#[test]
fn the_written_ca_file_is_a_pem_a_fresh_root_store_loads() {
    let dir = temp_dir("pem");
    let material = TlsMaterial::generate::<&str>(&[]).unwrap();
    let ca_file = dir.join("ca.pem");
    material.write_ca(&ca_file).unwrap();

    let certs: Vec<_> = CertificateDer::pem_file_iter(&ca_file)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(certs, [material.ca_der().clone()]);
    let mut roots = RootCertStore::empty();
    assert_eq!(roots.add_parsable_certificates(certs), (1, 0));
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn hec_over_tls_stores_a_posted_event() {
    let material = TlsMaterial::generate::<&str>(&[]).unwrap();
    let store = Store::new(StoreConfig::default()).unwrap();
    let config = HecConfig {
        tokens: vec![Token::new("sim", "tok")],
        ..HecConfig::default()
    };
    let server = Server::start_with(
        "127.0.0.1:0".parse().unwrap(),
        Limits::default(),
        material.acceptor().unwrap(),
        HecHandler::new(config, store.clone()),
    )
    .unwrap();
    let body = r#"{"event":"plc stop","host":"plc-1"}"#;
    let request = format!(
        "POST /services/collector/event HTTP/1.1\r\nHost: localhost\r\n\
         Authorization: Splunk tok\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let (status, reply) = https(
        server.local_addr(),
        &material.client_config().unwrap(),
        "localhost",
        &request,
    )
    .unwrap();
    assert_eq!(status, 200, "{reply}");
    assert!(reply.contains(r#""code":0"#), "{reply}");
    assert_eq!(store.len(), 1);
    server.shutdown();
}

#[test]
fn tls_1_3_and_1_2_clients_are_both_served_with_alpn_http_1_1() {
    let material = TlsMaterial::generate::<&str>(&[]).unwrap();
    let server = echo_server(&material);
    let versions: [&'static rustls::SupportedProtocolVersion; 2] =
        [&rustls::version::TLS13, &rustls::version::TLS12];
    for version in versions {
        let mut roots = RootCertStore::empty();
        roots.add(material.ca_der().clone()).unwrap();
        let mut config =
            ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_protocol_versions(&[version])
                .unwrap()
                .with_root_certificates(roots)
                .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];

        let tcp = TcpStream::connect(server.local_addr()).unwrap();
        tcp.set_read_timeout(Some(TIMEOUT)).unwrap();
        let conn =
            ClientConnection::new(Arc::new(config), "localhost".try_into().unwrap()).unwrap();
        let mut stream = StreamOwned::new(conn, tcp);
        stream.write_all(get("/v").as_bytes()).unwrap();
        stream.flush().unwrap();
        let mut reader = BufReader::new(stream);
        let (status, _) = read_response(&mut reader).unwrap();
        assert_eq!(status, 200, "{:?}", version.version);
        let conn = &reader.get_ref().conn;
        assert_eq!(conn.protocol_version(), Some(version.version));
        assert_eq!(conn.alpn_protocol(), Some(&b"http/1.1"[..]));
    }
    server.shutdown();
}
