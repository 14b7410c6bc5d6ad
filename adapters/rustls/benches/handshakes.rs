//! Full mTLS handshakes over loopback: a rustls server whose client certificate verifier is
//! certclaims against the same server with rustls's own `WebPkiClientVerifier` and the same
//! root, in one run: `cargo bench -p certclaims-rustls --bench handshakes`.
//!
//! Each iteration is one TCP connection to 127.0.0.1 and one full TLS 1.3 handshake (no
//! resumption, no tickets) with a 3-certificate P-256 chain from the client; the server
//! answers one byte after the handshake, so the client's time includes the server's
//! verification of its certificate. certclaims runs twice: with its validation cache (a
//! returning client, the default) and with the cache off (every handshake verifies).
#![allow(missing_docs)] // criterion_group! generates an undocumented function

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;

use certclaims::{CacheOptions, Validator};
use certclaims_rustls::rustls::server::{NoServerSessionStorage, WebPkiClientVerifier};
use certclaims_rustls::rustls::{
    self, ClientConfig, ClientConnection, ServerConfig, ServerConnection, StreamOwned,
};
use certclaims_rustls::{CertclaimsVerifier, Mode};
use certclaims_test_support::tls::{
    chain_of, client_with_cert, key_of, localhost_pki, provider, roots,
};
use criterion::{criterion_group, criterion_main, Criterion};

/// Serves `config` on a loopback port until the process ends: per connection, a handshake
/// and one byte.
fn serve(config: Arc<ServerConfig>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let addr = listener.local_addr().expect("local address");
    std::thread::spawn(move || {
        for tcp in listener.incoming() {
            let Ok(tcp) = tcp else { continue };
            let _ = tcp.set_nodelay(true);
            let Ok(conn) = ServerConnection::new(Arc::clone(&config)) else {
                continue;
            };
            let mut tls = StreamOwned::new(conn, tcp);
            // The write drives the handshake to its end (the client's certificate verified).
            let _ = tls.write_all(b"!").and_then(|()| tls.flush());
            tls.conn.send_close_notify();
            let _ = tls.flush();
        }
    });
    addr
}

fn handshake(client: &Arc<ClientConfig>, addr: SocketAddr) {
    let tcp = TcpStream::connect(addr).expect("connect");
    tcp.set_nodelay(true).expect("nodelay");
    let name = "localhost".try_into().expect("server name");
    let conn = ClientConnection::new(Arc::clone(client), name).expect("client");
    let mut tls = StreamOwned::new(conn, tcp);
    let mut byte = [0u8; 1];
    tls.read_exact(&mut byte)
        .expect("the server's byte after the handshake");
    assert_eq!(&byte, b"!");
}

fn bench(c: &mut Criterion) {
    let (pki, server) = localhost_pki();
    let alice = pki
        .client("alice")
        .spiffe("spiffe://example.org/ns/prod/sa/alice")
        .issue();
    let provider = provider();
    let server_config = |verifier: Arc<dyn rustls::server::danger::ClientCertVerifier>| {
        let mut config = ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_protocol_versions(&[&rustls::version::TLS13])
            .expect("TLS 1.3")
            .with_client_cert_verifier(verifier)
            .with_single_cert(chain_of(&server), key_of(&server))
            .expect("server certificate");
        config.session_storage = Arc::new(NoServerSessionStorage {});
        config.send_tls13_tickets = 0;
        Arc::new(config)
    };
    let certclaims = |cache| {
        let validator = Validator::builder(provider.signature_verification_algorithms.all)
            .with_anchors([pki.root_der()])
            .with_cache(cache)
            .build()
            .expect("validator");
        server_config(CertclaimsVerifier::new(
            Arc::new(validator),
            &provider,
            Mode::Require,
        ))
    };
    let webpki = server_config(
        WebPkiClientVerifier::builder_with_provider(Arc::new(roots(&pki)), Arc::clone(&provider))
            .build()
            .expect("webpki verifier"),
    );
    let servers = [
        ("rustls WebPkiClientVerifier", serve(webpki)),
        (
            "certclaims, cache on",
            serve(certclaims(CacheOptions::DEFAULT)),
        ),
        (
            "certclaims, cache off",
            serve(certclaims(CacheOptions::OFF)),
        ),
    ];
    let client = client_with_cert(&pki, &alice);
    for (_, addr) in &servers {
        handshake(&client, *addr);
    }
    let mut g = c.benchmark_group("full mTLS 1.3 handshake over loopback (P-256 client chain)");
    for (name, addr) in servers {
        g.bench_function(name, |b| b.iter(|| handshake(&client, addr)));
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
