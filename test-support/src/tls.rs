//! The client side of the TLS tests: rustls 0.23 with aws-lc-rs, test-kit certificates.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use certclaims::pki_types::{
    CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime,
};
use certclaims::test_kit::{Eku, Issued, Pki};
use rustls::crypto::CryptoProvider;
use rustls::{ClientConfig, RootCertStore, SupportedProtocolVersion};
use tokio::net::TcpStream;
use tokio_rustls::{client::TlsStream, TlsConnector};

/// Upper bound for any single network step of a test (a handshake, a read).
pub const STEP: Duration = Duration::from_secs(10);

/// rustls's default provider (aws-lc-rs).
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// The leaf and its intermediates, as a TLS peer presents them.
pub fn chain_of(i: &Issued) -> Vec<CertificateDer<'static>> {
    std::iter::once(i.leaf().clone())
        .chain(i.intermediates().iter().cloned())
        .collect()
}

/// The certificate's private key (PKCS#8).
pub fn key_of(i: &Issued) -> PrivateKeyDer<'static> {
    PrivatePkcs8KeyDer::from(i.key_der().to_vec()).into()
}

/// A server certificate from `pki` for `localhost` (DNS SAN `localhost`, EKU serverAuth).
pub fn localhost_server(pki: &Pki) -> Issued {
    pki.client("localhost")
        .dns("localhost")
        .eku(Eku::ServerAuth)
        .issue()
}

/// A PKI minted around the real clock (rustls and the proxies check certificates at the
/// real time, not the test kit's pinned `NOW`) and its [`localhost_server`] certificate.
pub fn localhost_pki() -> (Pki, Issued) {
    let pki = Pki::at(UnixTime::now());
    let server = localhost_server(&pki);
    (pki, server)
}

/// A root store holding `pki`'s root.
pub fn roots(pki: &Pki) -> RootCertStore {
    let mut roots = RootCertStore::empty();
    roots
        .add(pki.root_der())
        .expect("the test kit's root is a valid anchor");
    roots
}

/// A client trusting `pki`'s root that presents `cert`: default versions, no ALPN, no
/// session resumption (every connection is a full handshake that verifies the certificate).
pub fn client_with_cert(pki: &Pki, cert: &Issued) -> Arc<ClientConfig> {
    client_config(pki).cert(cert).build()
}

/// A client trusting `pki`'s root that presents no certificate (same defaults).
pub fn anonymous_client(pki: &Pki) -> Arc<ClientConfig> {
    client_config(pki).build()
}

/// A builder for a client configuration trusting `pki`'s root; see [`ClientConfigBuilder`].
pub fn client_config(pki: &Pki) -> ClientConfigBuilder<'_> {
    ClientConfigBuilder {
        roots: roots(pki),
        cert: None,
        versions: rustls::DEFAULT_VERSIONS,
        alpn: Vec::new(),
        resume: false,
    }
}

/// A rustls `ClientConfig` under construction. Defaults: no client certificate (anonymous),
/// rustls's default protocol versions, no ALPN, session resumption off.
#[derive(Debug)]
#[must_use]
pub struct ClientConfigBuilder<'a> {
    roots: RootCertStore,
    cert: Option<&'a Issued>,
    versions: &'a [&'static SupportedProtocolVersion],
    alpn: Vec<Vec<u8>>,
    resume: bool,
}

impl<'a> ClientConfigBuilder<'a> {
    /// Presents `cert` (its chain and key) when the server asks for one.
    pub fn cert(mut self, cert: &'a Issued) -> Self {
        self.cert = Some(cert);
        self
    }

    /// Presents `cert` if `Some`, else nothing.
    pub fn maybe_cert(mut self, cert: Option<&'a Issued>) -> Self {
        self.cert = cert;
        self
    }

    /// Only these protocol versions (e.g. `&[&rustls::version::TLS12]`).
    pub fn versions(mut self, versions: &'a [&'static SupportedProtocolVersion]) -> Self {
        self.versions = versions;
        self
    }

    /// Offers these ALPN protocols (e.g. `&[b"h2", b"http/1.1"]`).
    pub fn alpn(mut self, protocols: &[&[u8]]) -> Self {
        self.alpn = protocols.iter().map(|p| p.to_vec()).collect();
        self
    }

    /// Keeps rustls's session resumption on (off by default).
    pub fn resume(mut self, resume: bool) -> Self {
        self.resume = resume;
        self
    }

    /// The configuration.
    pub fn build(self) -> Arc<ClientConfig> {
        let builder = ClientConfig::builder_with_provider(provider())
            .with_protocol_versions(self.versions)
            .expect("protocol versions supported by aws-lc-rs")
            .with_root_certificates(self.roots);
        let mut config = match self.cert {
            Some(c) => builder
                .with_client_auth_cert(chain_of(c), key_of(c))
                .expect("a test-kit certificate and its key"),
            None => builder.with_no_client_auth(),
        };
        config.alpn_protocols = self.alpn;
        if !self.resume {
            config.resumption = rustls::client::Resumption::disabled();
        }
        Arc::new(config)
    }
}

/// The rustls error inside an I/O error from tokio-rustls (or `General("I/O: ...")`).
pub fn rustls_error(e: &std::io::Error) -> rustls::Error {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .cloned()
        .unwrap_or_else(|| rustls::Error::General(format!("I/O: {e}")))
}

/// TCP to `addr`, then a TLS handshake for `localhost`, within [`STEP`] (panics after it).
pub async fn tls_connect(
    addr: SocketAddr,
    config: &Arc<ClientConfig>,
) -> Result<TlsStream<TcpStream>, rustls::Error> {
    let attempt = async {
        let tcp = TcpStream::connect(addr).await?;
        let name = ServerName::try_from("localhost").expect("a DNS name");
        TlsConnector::from(config.clone()).connect(name, tcp).await
    };
    tokio::time::timeout(STEP, attempt)
        .await
        .expect("handshake in time")
        .map_err(|e| rustls_error(&e))
}
