//! The .NET `HttpClient` + `client-cert.pfx` + password pattern, in Rust: load a PKCS#12
//! file, present its certificate over TLS, call a URL, print the status and body.
//!
//! ```sh
//! cargo run -p certclaims-examples --example mtls_client -- pki/alice.p12 changeit https://localhost:8443/whoami pki/ca.pem
//! ```

use std::sync::Arc;

use certclaims::pki_types::pem::PemObject;
use certclaims::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use p12_keystore::{KeyStore, Pkcs12ImportPolicy};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [p12, password, url, ca] = args.as_slice() else {
        return Err("usage: mtls_client CLIENT.p12 PASSWORD URL CA.pem".into());
    };

    // The PKCS#12 file: one private key with its certificate chain.
    let store = KeyStore::from_pkcs12(&std::fs::read(p12)?, password, Pkcs12ImportPolicy::Relaxed)?;
    let (_alias, chain) = store
        .private_key_chain()
        .ok_or("no private key in the PKCS#12 file")?;
    let certs: Vec<CertificateDer<'static>> = chain
        .certs()
        .iter()
        .map(|c| CertificateDer::from(c.as_der().to_vec()))
        .collect();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(chain.key().as_der().to_vec()));

    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(ca)? {
        roots.add(c?)?;
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(roots)
    .with_client_auth_cert(certs, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];

    let uri: hyper::Uri = url.parse()?;
    let host = uri.host().ok_or("URL without host")?.to_string();
    let port = uri.port_u16().unwrap_or(443);
    let tcp = tokio::net::TcpStream::connect((host.as_str(), port)).await?;
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from(host.clone())?, tcp)
        .await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls)).await?;
    tokio::spawn(conn);
    let req = hyper::Request::get(uri.path())
        .header("host", host)
        .body(Empty::<Bytes>::new())?;
    let res = sender.send_request(req).await?;
    let status = res.status();
    let body = res.into_body().collect().await?.to_bytes();
    println!("{status}");
    println!("{}", String::from_utf8_lossy(&body));
    if !status.is_success() {
        std::process::exit(1);
    }
    Ok(())
}
