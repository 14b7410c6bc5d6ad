//! Real TLS 1.3 / 1.2 handshakes on 127.0.0.1: a tokio-rustls client (aws-lc-rs) against a
//! tokio-rustls server whose client certificate verifier is certclaims.
//!
//! rustls hands the verifier the real clock, so every PKI here is minted around it
//! (`Pki::at(UnixTime::now())`) rather than around the test kit's pinned `NOW`.
//!
//! The little server protocol: after a successful handshake the server writes one line, the
//! JSON of the connection's identity (the principal, or the rejection in allow/none mode), and
//! writes it again for every line the client sends. In TLS 1.3 the client's handshake is done
//! before the server has looked at its certificate, so a refusal shows up as the alert on the
//! client's first read.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use certclaims::pki_types::{CertificateDer, UnixTime};
use certclaims::test_kit::{Eku, Issued, KeyType, Pki, DAY};
use certclaims::{Code, Policy, Principal, Rejection, Validator};
use certclaims_rustls::rustls::client::ResolvesClientCert;
use certclaims_rustls::rustls::server::ServerSessionMemoryCache;
use certclaims_rustls::rustls::sign::CertifiedKey;
use certclaims_rustls::rustls::{
    self, AlertDescription, ClientConfig, HandshakeKind, ServerConfig, SignatureScheme,
};
use certclaims_rustls::{
    to_rustls_error, CertclaimsVerifier, Mode, RejectionObserver, Reloadable, TlsSettings,
};
use certclaims_test_support::tls::{
    chain_of, client_config, key_of, localhost_pki, provider, roots, rustls_error, tls_connect,
    STEP,
};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::{client, TlsAcceptor};

/// A PKI minted around the real clock, with a server certificate for `localhost`.
struct World {
    pki: Pki,
    server: Issued,
}

impl World {
    fn new() -> Self {
        let (pki, server) = localhost_pki();
        Self { pki, server }
    }

    fn policy(&self, trust: Value, identity: Value) -> Policy {
        let mut trust = trust;
        trust["anchors"] = json!([self.pki.root_pem()]);
        let doc = json!({"version": 1, "trust": trust, "identity": identity});
        Policy::from_json(&doc.to_string()).unwrap()
    }

    fn settings(&self, mode: Mode) -> TlsSettings {
        TlsSettings::new(
            provider(),
            chain_of(&self.server),
            key_of(&self.server),
            mode,
        )
    }

    /// A client configuration trusting this PKI's root; no session resumption unless
    /// `resume` (so that every connection verifies the client certificate).
    fn client(&self, cert: Option<&Issued>, resume: bool) -> Arc<ClientConfig> {
        self.client_with(cert, resume, rustls::DEFAULT_VERSIONS)
    }

    fn client_with(
        &self,
        cert: Option<&Issued>,
        resume: bool,
        versions: &[&'static rustls::SupportedProtocolVersion],
    ) -> Arc<ClientConfig> {
        client_config(&self.pki)
            .maybe_cert(cert)
            .versions(versions)
            .resume(resume)
            .build()
    }
}

/// Records every rejection the verifier reports.
fn observer() -> (RejectionObserver, Arc<Mutex<Vec<Rejection>>>) {
    let seen: Arc<Mutex<Vec<Rejection>>> = Arc::default();
    let log = seen.clone();
    (
        Arc::new(move |r: &certclaims_rustls::Refusal<'_>| {
            log.lock().unwrap().push(r.rejection.clone())
        }),
        seen,
    )
}

fn identity_json(identity: &Result<Arc<Principal>, Rejection>) -> Value {
    match identity {
        Ok(p) => p.to_json(),
        Err(r) => r.to_json(),
    }
}

/// What the server learned about one accepted connection.
struct Accepted {
    verifier: Arc<CertclaimsVerifier>,
    peer: Option<Vec<CertificateDer<'static>>>,
    identity: Result<Arc<Principal>, Rejection>,
    kind: Option<HandshakeKind>,
}

impl Accepted {
    fn peer(&self) -> Option<&[CertificateDer<'static>]> {
        self.peer.as_deref()
    }
}

/// Which configuration (and verifier) the server accepts the next connection with.
type Source = Arc<dyn Fn() -> (Arc<ServerConfig>, Arc<CertclaimsVerifier>) + Send + Sync>;

struct Server {
    addr: SocketAddr,
    events: mpsc::UnboundedReceiver<Result<Accepted, rustls::Error>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    async fn reloadable(tls: Arc<Reloadable>) -> Self {
        Self::start(Arc::new(move || {
            let g = tls.current();
            (g.config.clone(), g.verifier.clone())
        }))
        .await
    }

    async fn start(source: Source) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, events) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let (config, verifier) = source();
                let tx = tx.clone();
                tokio::spawn(async move {
                    let accept = TlsAcceptor::from(config).accept(tcp).into_fallible();
                    let stream = match accept.await {
                        Ok(s) => s,
                        Err((e, mut tcp)) => {
                            let _ = tx.send(Err(rustls_error(&e)));
                            // As `serve` does: FIN, then drain, so that the client reads the
                            // alert instead of a reset caused by its own unread data.
                            let _ = tcp.shutdown().await;
                            let mut buf = [0u8; 1024];
                            let drain = async {
                                while matches!(tcp.read(&mut buf).await, Ok(n) if n > 0) {}
                            };
                            let _ = tokio::time::timeout(Duration::from_secs(1), drain).await;
                            return;
                        }
                    };
                    let conn = stream.get_ref().1;
                    let peer: Option<Vec<CertificateDer<'static>>> = conn
                        .peer_certificates()
                        .map(|c| c.iter().map(|c| c.clone().into_owned()).collect());
                    let identity = verifier.principal(conn.peer_certificates());
                    let kind = conn.handshake_kind();
                    let line = format!("{}\n", identity_json(&identity));
                    let _ = tx.send(Ok(Accepted {
                        verifier,
                        peer,
                        identity,
                        kind,
                    }));
                    let mut s = BufReader::new(stream);
                    let mut buf = String::new();
                    loop {
                        if s.get_mut().write_all(line.as_bytes()).await.is_err() {
                            return;
                        }
                        buf.clear();
                        match s.read_line(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(_) => {}
                        }
                    }
                });
            }
        });
        Self { addr, events, task }
    }

    /// The server side of the next connection.
    async fn next(&mut self) -> Result<Accepted, rustls::Error> {
        tokio::time::timeout(STEP, self.events.recv())
            .await
            .expect("server event in time")
            .expect("server running")
    }
}

/// The client side of a connection.
struct Conn {
    stream: BufReader<client::TlsStream<TcpStream>>,
}

impl Conn {
    async fn open(addr: SocketAddr, config: &Arc<ClientConfig>) -> Result<Self, rustls::Error> {
        let stream = tls_connect(addr, config).await?;
        Ok(Self {
            stream: BufReader::new(stream),
        })
    }

    /// Reads one line of JSON (the first read shows a TLS 1.3 refusal as an alert).
    async fn line(&mut self) -> Result<Value, rustls::Error> {
        let mut buf = String::new();
        match tokio::time::timeout(STEP, self.stream.read_line(&mut buf))
            .await
            .expect("read in time")
        {
            Ok(0) => Err(rustls::Error::General("closed without an alert".into())),
            Ok(_) => Ok(serde_json::from_str(&buf).unwrap()),
            Err(e) => Err(rustls_error(&e)),
        }
    }

    /// Asks the server again for the connection's identity.
    async fn who(&mut self) -> Result<Value, rustls::Error> {
        self.stream
            .get_mut()
            .write_all(b"who\n")
            .await
            .map_err(|e| rustls_error(&e))?;
        self.line().await
    }

    fn kind(&self) -> Option<HandshakeKind> {
        self.stream.get_ref().get_ref().1.handshake_kind()
    }
}

/// Connects and reads the server's first line: the identity JSON, or the TLS error.
async fn attempt(addr: SocketAddr, config: &Arc<ClientConfig>) -> Result<Value, rustls::Error> {
    Conn::open(addr, config).await?.line().await
}

fn spiffe(sa: &str) -> String {
    format!("spiffe://example.org/ns/prod/sa/{sa}")
}

/// An unrelated PKI ("Other Root CA" / "Other Issuing CA") minted around the same instant.
fn other_pki(pki: &Pki) -> Pki {
    Pki::with_key_type_at("Other", KeyType::P256, pki.base())
}

fn settings_validator(w: &World, policy: &Policy) -> Validator {
    w.settings(Mode::Require).validator(policy).unwrap()
}

/// The core's verdict on `client`, to compare with what came through TLS.
fn core_json(validator: &Validator, client: &Issued) -> Value {
    let p = validator
        .verify(client.leaf(), client.intermediates(), UnixTime::now())
        .unwrap();
    p.to_json()
}

#[tokio::test]
async fn require_mode_admits_a_valid_client_with_the_cores_principal() {
    let w = World::new();
    let alice = w
        .pki
        .client("alice")
        .spiffe(&spiffe("alice"))
        .dns("alice.svc.example")
        .issue();
    let policy = w.policy(
        json!({}),
        json!({"allow": [{"spiffe_id": "spiffe://example.org/ns/*/sa/alice"}]}),
    );
    let settings = w.settings(Mode::Require);
    let validator = settings.validator(&policy).unwrap();
    let core = core_json(&validator, &alice);
    let tls = Arc::new(Reloadable::new(settings, validator).unwrap());
    let mut server = Server::reloadable(tls.clone()).await;

    let mut conn = Conn::open(server.addr, &w.client(Some(&alice), false))
        .await
        .unwrap();
    let seen = conn.line().await.unwrap();
    assert_eq!(seen, core);
    assert_eq!(seen["spiffe_id"], spiffe("alice"));
    assert_eq!(seen["common_name"], "alice");
    assert_eq!(seen["dns"], json!(["alice.svc.example"]));
    assert_eq!(seen["chain"].as_array().unwrap().len(), 3);

    let accepted = server.next().await.unwrap();
    assert_eq!(accepted.kind, Some(HandshakeKind::Full));
    let principal = accepted.identity.as_ref().unwrap();
    assert_eq!(principal.to_json(), core);
    // The presented chain is exactly leaf + issuing CA.
    assert_eq!(accepted.peer().unwrap(), chain_of(&alice).as_slice());
    assert!(Arc::ptr_eq(&accepted.verifier, &tls.current().verifier));
    assert_eq!(tls.current().number, 1);
    // Asked again on the same connection: the same principal.
    assert_eq!(conn.who().await.unwrap(), core);
}

#[tokio::test]
async fn every_rejection_reaches_the_client_as_its_alert() {
    let w = World::new();
    let pki = &w.pki;
    let id = spiffe("svc");
    let alice = pki.client("alice").spiffe(&id).issue();
    let foreign = other_pki(pki).client("alice").spiffe(&id).issue();
    // Another PKI whose CAs carry the very names of ours: the name chain fits, the signature
    // does not.
    let impostor = Pki::at(pki.base()).client("alice").spiffe(&id).issue();
    let expired = pki.client("old").spiffe(&id).expired().issue();
    let not_yet = pki.client("early").spiffe(&id).not_yet_valid().issue();
    let revoked = pki.client("revoked").spiffe(&id).issue();
    let server_eku = pki.client("svc").spiffe(&id).eku(Eku::ServerAuth).issue();
    let outsider = pki
        .client("outsider")
        .spiffe("spiffe://other.example/ns/prod/sa/x")
        .issue();
    let banned = pki.client("banned").spiffe(&id).issue();
    let deep_ca = pki.sub_ca(pki.issuing_ca(), "Deep CA");
    let deep = pki.client("deep").spiffe(&id).issued_by(&deep_ca).issue();
    let ca_leaf = pki.client("ca").spiffe(&id).ca().issue();
    let self_signed = pki.client("self").spiffe(&id).self_signed().issue();
    let policy = w.policy(
        json!({
            "crls": [Pki::crl_pem(&pki.crl(&[&revoked]))],
            // Only the issuing CA publishes a CRL: leaves of other CAs have no known status.
            "revocation": {"depth": "end_entity", "unknown_status": "allow"},
            "deny": [banned.fingerprint()],
            "max_depth": 1,
        }),
        json!({"allow": [{"spiffe_id": "spiffe://example.org/ns/*/sa/*"}]}),
    );
    let (obs, seen) = observer();
    let settings = w.settings(Mode::Require).with_observer(obs);
    let validator = settings.validator(&policy).unwrap();
    let core = core_json(&validator, &alice);
    let tls = Arc::new(Reloadable::new(settings, validator).unwrap());
    let mut server = Server::reloadable(tls).await;

    // The valid client first: the policy with CRLs and a deny-list still admits it.
    assert_eq!(
        attempt(server.addr, &w.client(Some(&alice), false)).await,
        Ok(core.clone())
    );
    assert_eq!(
        server.next().await.unwrap().identity.unwrap().to_json(),
        core
    );

    let cases: [(&str, Option<&Issued>, Code, AlertDescription); 12] = [
        (
            "two intermediates, max_depth 1",
            Some(&deep),
            Code::ChainTooDeep,
            AlertDescription::CertificateUnknown,
        ),
        (
            "CA certificate as client certificate",
            Some(&ca_leaf),
            Code::CaAsLeaf,
            AlertDescription::UnsupportedCertificate,
        ),
        (
            "self-signed",
            Some(&self_signed),
            Code::SelfSignedNotAllowed,
            AlertDescription::UnknownCA,
        ),
        (
            "unknown issuer",
            Some(&foreign),
            Code::UnknownIssuer,
            AlertDescription::UnknownCA,
        ),
        (
            "same-named impostor CA",
            Some(&impostor),
            Code::BadSignature,
            AlertDescription::DecryptError,
        ),
        (
            "expired",
            Some(&expired),
            Code::Expired,
            AlertDescription::CertificateExpired,
        ),
        (
            "not yet valid",
            Some(&not_yet),
            Code::NotYetValid,
            AlertDescription::CertificateExpired,
        ),
        (
            "revoked",
            Some(&revoked),
            Code::Revoked,
            AlertDescription::CertificateRevoked,
        ),
        (
            "wrong EKU",
            Some(&server_eku),
            Code::WrongUsage,
            AlertDescription::UnsupportedCertificate,
        ),
        (
            "policy denied",
            Some(&outsider),
            Code::PolicyDenied,
            AlertDescription::AccessDenied,
        ),
        (
            "deny-listed",
            Some(&banned),
            Code::Denied,
            AlertDescription::AccessDenied,
        ),
        (
            "no certificate",
            None,
            Code::NoCertificate,
            AlertDescription::CertificateRequired,
        ),
    ];
    for (name, client, code, alert) in cases {
        let before = seen.lock().unwrap().len();
        let got = attempt(server.addr, &w.client(client, false)).await;
        assert_eq!(got, Err(rustls::Error::AlertReceived(alert)), "{name}");
        let server_error = server.next().await.err().expect(name);
        let observed: Vec<Rejection> = seen.lock().unwrap()[before..].to_vec();
        if code == Code::NoCertificate {
            // rustls refuses an empty Certificate message itself; the verifier is not asked.
            assert_eq!(
                server_error,
                rustls::Error::NoCertificatesPresented,
                "{name}"
            );
            assert!(observed.is_empty(), "{name}: {observed:?}");
        } else {
            assert_eq!(observed.len(), 1, "{name}: {observed:?}");
            assert_eq!(observed[0].code(), code, "{name}");
            // The server failed with exactly the error of the one mapping.
            // (rustls's `OtherError` never compares equal: compare those by their text.)
            assert_eq!(
                format!("{server_error:?}"),
                format!("{:?}", to_rustls_error(&observed[0])),
                "{name}"
            );
        }
    }
}

#[tokio::test]
async fn tls12_clients_are_verified_and_refused_too() {
    let w = World::new();
    let alice = w.pki.client("alice").spiffe(&spiffe("alice")).issue();
    let foreign = other_pki(&w.pki).client("alice").issue();
    let policy = w.policy(json!({}), json!({}));
    let settings = w.settings(Mode::Require);
    let validator = settings.validator(&policy).unwrap();
    let core = core_json(&validator, &alice);
    let tls = Arc::new(Reloadable::new(settings, validator).unwrap());
    let mut server = Server::reloadable(tls).await;
    let tls12 = &[&rustls::version::TLS12];

    let mut conn = Conn::open(server.addr, &w.client_with(Some(&alice), false, tls12))
        .await
        .unwrap();
    assert_eq!(
        conn.stream.get_ref().get_ref().1.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_2)
    );
    assert_eq!(conn.line().await, Ok(core.clone()));
    assert_eq!(
        server.next().await.unwrap().identity.unwrap().to_json(),
        core
    );

    // In TLS 1.2 the server's alert arrives before its Finished: the handshake itself fails.
    let refused = Conn::open(server.addr, &w.client_with(Some(&foreign), false, tls12)).await;
    assert_eq!(
        refused.err(),
        Some(rustls::Error::AlertReceived(AlertDescription::UnknownCA))
    );
    assert_eq!(
        server.next().await.err(),
        Some(rustls::Error::InvalidCertificate(
            rustls::CertificateError::UnknownIssuer
        ))
    );
}

#[tokio::test]
async fn client_key_types_sign_the_handshake() {
    let w = World::new();
    let policy = w.policy(json!({}), json!({}));
    let settings = w.settings(Mode::Require);
    let validator = settings.validator(&policy).unwrap();
    let tls = Arc::new(Reloadable::new(settings, settings_validator(&w, &policy)).unwrap());
    let mut server = Server::reloadable(tls).await;
    for key_type in [KeyType::P384, KeyType::Ed25519, KeyType::Rsa2048] {
        let client = w.pki.client("keys").key_type(key_type).issue();
        let got = attempt(server.addr, &w.client(Some(&client), false)).await;
        assert_eq!(got, Ok(core_json(&validator, &client)), "{key_type:?}");
        assert!(
            server.next().await.unwrap().identity.is_ok(),
            "{key_type:?}"
        );
    }
}

/// A client certificate resolver that records each CertificateRequest it answers.
#[derive(Debug)]
struct Recording {
    key: Arc<CertifiedKey>,
    requests: Mutex<Vec<Vec<Vec<u8>>>>,
}

impl ResolvesClientCert for Recording {
    fn resolve(
        &self,
        root_hint_subjects: &[&[u8]],
        _sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        self.requests
            .lock()
            .unwrap()
            .push(root_hint_subjects.iter().map(|h| h.to_vec()).collect());
        Some(self.key.clone())
    }

    fn has_certs(&self) -> bool {
        true
    }
}

fn recording_client(w: &World, cert: &Issued) -> (Arc<ClientConfig>, Arc<Recording>) {
    let key = CertifiedKey::from_der(chain_of(cert), key_of(cert), &provider()).unwrap();
    let recording = Arc::new(Recording {
        key: Arc::new(key),
        requests: Mutex::default(),
    });
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots(&w.pki))
        .with_client_cert_resolver(recording.clone());
    config.resumption = rustls::client::Resumption::disabled();
    (Arc::new(config), recording)
}

#[tokio::test]
async fn require_mode_requests_a_certificate_with_the_anchor_as_hint() {
    let w = World::new();
    let alice = w.pki.client("alice").issue();
    let settings = w.settings(Mode::Require);
    let validator = settings.validator(&w.policy(json!({}), json!({}))).unwrap();
    let tls = Arc::new(Reloadable::new(settings, validator).unwrap());
    let mut server = Server::reloadable(tls).await;
    let (config, recording) = recording_client(&w, &alice);

    assert!(attempt(server.addr, &config).await.is_ok());
    assert!(server.next().await.unwrap().identity.is_ok());
    let requests = recording.requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 1, "one CertificateRequest");
    assert_eq!(requests[0].len(), 1, "one hint: the one trust anchor");
    // The hint is the anchor's DER Name: in the self-signed root it is both issuer and subject.
    let hint = &requests[0][0];
    let root = w.pki.root_der();
    assert_eq!(hint[0], 0x30, "a SEQUENCE");
    let occurrences = root.windows(hint.len()).filter(|x| x == hint).count();
    assert_eq!(occurrences, 2);
}

#[tokio::test]
async fn mode_none_does_not_request_a_certificate() {
    let w = World::new();
    let alice = w.pki.client("alice").issue();
    let settings = w.settings(Mode::None);
    let validator = settings.validator(&w.policy(json!({}), json!({}))).unwrap();
    let tls = Arc::new(Reloadable::new(settings, validator).unwrap());
    let mut server = Server::reloadable(tls).await;
    let (config, recording) = recording_client(&w, &alice);

    let got = attempt(server.addr, &config).await;
    assert_eq!(got, Ok(Rejection::no_certificate().to_json()));
    assert!(recording.requests.lock().unwrap().is_empty(), "never asked");
    let accepted = server.next().await.unwrap();
    assert!(accepted.peer.is_none());
    assert_eq!(accepted.identity.unwrap_err(), Rejection::no_certificate());
}

#[tokio::test]
async fn allow_mode_lets_anonymous_clients_in_but_checks_presented_certificates() {
    let w = World::new();
    let alice = w.pki.client("alice").issue();
    let expired = w.pki.client("old").expired().issue();
    let foreign = other_pki(&w.pki).client("alice").issue();
    let (obs, seen) = observer();
    let settings = w.settings(Mode::Allow).with_observer(obs);
    let validator = settings.validator(&w.policy(json!({}), json!({}))).unwrap();
    let core = core_json(&validator, &alice);
    let tls = Arc::new(Reloadable::new(settings, validator).unwrap());
    let mut server = Server::reloadable(tls).await;

    // Anonymous: through, with no principal.
    let mut anon = Conn::open(server.addr, &w.client(None, false))
        .await
        .unwrap();
    let no_cert = Rejection::no_certificate().to_json();
    assert_eq!(anon.line().await, Ok(no_cert.clone()));
    assert_eq!(no_cert["error"]["code"], "no_certificate");
    let accepted = server.next().await.unwrap();
    assert!(accepted.peer.is_none());
    let err = accepted.identity.unwrap_err();
    assert_eq!(err.code(), Code::NoCertificate);
    assert_eq!(err.http_status(), 401);
    assert_eq!(anon.who().await, Ok(no_cert));

    // A valid certificate still yields its principal.
    assert_eq!(
        attempt(server.addr, &w.client(Some(&alice), false)).await,
        Ok(core)
    );
    assert!(server.next().await.unwrap().identity.is_ok());

    // A presented certificate must verify.
    for (client, code, alert) in [
        (
            &expired,
            Code::Expired,
            AlertDescription::CertificateExpired,
        ),
        (&foreign, Code::UnknownIssuer, AlertDescription::UnknownCA),
    ] {
        let got = attempt(server.addr, &w.client(Some(client), false)).await;
        assert_eq!(got, Err(rustls::Error::AlertReceived(alert)));
        assert!(server.next().await.is_err());
        assert_eq!(seen.lock().unwrap().last().unwrap().code(), code);
    }
    assert_eq!(seen.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn reload_refuses_new_connections_and_keeps_existing_principals() {
    let w = World::new();
    let alice = w.pki.client("alice").spiffe(&spiffe("alice")).issue();
    let bob = w.pki.client("bob").spiffe(&spiffe("bob")).issue();
    let (obs, seen) = observer();
    let settings = w.settings(Mode::Require).with_observer(obs);
    let gen1 = settings
        .validator(&w.policy(
            json!({}),
            json!({"allow": [{"spiffe_id": "spiffe://example.org/ns/prod/sa/*"}]}),
        ))
        .unwrap();
    let gen2 = settings
        .validator(&w.policy(
            json!({}),
            json!({"allow": [{"spiffe_id": "spiffe://example.org/ns/prod/sa/bob"}]}),
        ))
        .unwrap();
    let alice_json = core_json(&gen1, &alice);
    let tls = Arc::new(Reloadable::new(settings, gen1).unwrap());
    let mut server = Server::reloadable(tls.clone()).await;
    // One client configuration for alice, with session resumption on: a session of generation
    // 1 must not carry her past generation 2's policy.
    let alice_config = w.client(Some(&alice), true);

    let mut before = Conn::open(server.addr, &alice_config).await.unwrap();
    assert_eq!(before.line().await, Ok(alice_json.clone()));
    let first = server.next().await.unwrap();
    let admitted = first.identity.clone().unwrap();
    assert_eq!(first.kind, Some(HandshakeKind::Full));
    // Within generation 1 her session resumes.
    let mut resumed = Conn::open(server.addr, &alice_config).await.unwrap();
    assert_eq!(resumed.line().await, Ok(alice_json.clone()));
    assert_eq!(resumed.kind(), Some(HandshakeKind::Resumed));
    let resumed_side = server.next().await.unwrap();
    assert_eq!(resumed_side.kind, Some(HandshakeKind::Resumed));
    // Same generation, same chain: the cache entry of the first handshake serves it.
    assert_eq!(**resumed_side.identity.as_ref().unwrap(), *admitted);

    assert_eq!(tls.reload(gen2).unwrap(), 2);
    assert_eq!(tls.current().number, 2);

    // New connections use generation 2: alice is refused (no resumption into it), bob admitted.
    let refused = attempt(server.addr, &alice_config).await;
    assert_eq!(
        refused,
        Err(rustls::Error::AlertReceived(AlertDescription::AccessDenied))
    );
    assert!(server.next().await.is_err());
    assert_eq!(
        seen.lock().unwrap().last().unwrap().code(),
        Code::PolicyDenied
    );
    let bob_got = attempt(server.addr, &w.client(Some(&bob), false)).await;
    assert_eq!(bob_got.unwrap()["spiffe_id"], spiffe("bob"));
    let bobs = server.next().await.unwrap();
    assert!(Arc::ptr_eq(&bobs.verifier, &tls.current().verifier));

    // The connection opened before the reload keeps the principal it was admitted with.
    assert_eq!(before.who().await, Ok(alice_json.clone()));
    assert_eq!(resumed.who().await, Ok(alice_json));
    // Its generation's verifier still hands out that principal (from its cache); the new one
    // would not.
    assert!(!Arc::ptr_eq(&first.verifier, &tls.current().verifier));
    let hits = first.verifier.validator().cache_stats().hits;
    let kept = first.verifier.principal(first.peer()).unwrap();
    assert_eq!(*kept, *admitted);
    assert_eq!(first.verifier.validator().cache_stats().hits, hits + 1);
    assert_eq!(
        tls.current()
            .verifier
            .principal(first.peer())
            .unwrap_err()
            .code(),
        Code::PolicyDenied
    );
}

#[tokio::test]
async fn principal_is_handed_off_without_verifying_again() {
    let w = World::new();
    let alice = w.pki.client("alice").issue();
    let settings = w.settings(Mode::Require);
    let validator = settings.validator(&w.policy(json!({}), json!({}))).unwrap();
    let tls = Arc::new(Reloadable::new(settings, validator).unwrap());
    let mut server = Server::reloadable(tls).await;

    let mut conn = Conn::open(server.addr, &w.client(Some(&alice), false))
        .await
        .unwrap();
    conn.line().await.unwrap();
    let accepted = server.next().await.unwrap();
    let first = accepted.identity.clone().unwrap();
    // Every pick-up is answered by the validator's cache, which the handshake filled: the
    // same principal, and no new verification.
    let before = accepted.verifier.validator().cache_stats();
    for _ in 0..3 {
        let again = accepted.verifier.principal(accepted.peer()).unwrap();
        assert_eq!(*again, *first);
    }
    let after = accepted.verifier.validator().cache_stats();
    assert_eq!(
        (after.hits - before.hits, after.misses - before.misses),
        (3, 0)
    );
    // Keyed by the exact chain: the leaf alone (without the intermediate it was presented with)
    // is not the verified chain: it is verified afresh and, lacking its intermediate, fails.
    let leaf_only = [alice.leaf().clone()];
    let fresh = accepted.verifier.principal(Some(&leaf_only)).unwrap_err();
    assert_eq!(fresh.code(), Code::UnknownIssuer);
    assert_eq!(
        accepted.verifier.principal(None).unwrap_err(),
        Rejection::no_certificate()
    );
    assert_eq!(
        accepted.verifier.principal(Some(&[][..])).unwrap_err(),
        Rejection::no_certificate()
    );
}

#[tokio::test]
async fn hand_off_entry_ends_with_the_certificate_and_is_verified_again() {
    let w = World::new();
    // Valid for two more seconds of real time.
    let now = UnixTime::now().as_secs();
    let brief = w.pki.client("brief").validity(now - DAY, now + 2).issue();
    let settings = w.settings(Mode::Require);
    let validator = settings.validator(&w.policy(json!({}), json!({}))).unwrap();
    let tls = Arc::new(Reloadable::new(settings, validator).unwrap());
    let mut server = Server::reloadable(tls).await;

    let mut conn = Conn::open(server.addr, &w.client(Some(&brief), false))
        .await
        .unwrap();
    assert!(conn.line().await.is_ok());
    let accepted = server.next().await.unwrap();
    let first = accepted.identity.clone().unwrap();
    assert_eq!(first.not_after().as_secs(), now + 2);
    let hits = accepted.verifier.validator().cache_stats().hits;
    assert_eq!(
        *accepted.verifier.principal(accepted.peer()).unwrap(),
        *first
    );
    assert_eq!(accepted.verifier.validator().cache_stats().hits, hits + 1);

    // Past notAfter the cached principal is not reused: the chain is verified again, expired.
    while UnixTime::now().as_secs() <= now + 3 {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let later = accepted.verifier.principal(accepted.peer()).unwrap_err();
    assert_eq!(later.code(), Code::Expired);
}

#[tokio::test]
async fn a_resumed_session_is_verified_again_by_a_verifier_that_did_not_see_it() {
    // Two verifiers sharing one session cache, so that a session made under the first resumes
    // under the second: the second never verified the chain in a handshake, so `principal`
    // must verify it now, with its own policy.
    let w = World::new();
    let alice = w.pki.client("alice").spiffe(&spiffe("alice")).issue();
    let p = provider();
    let admit = || settings_validator(&w, &w.policy(json!({}), json!({})));
    let only_bob = w
        .settings(Mode::Require)
        .validator(&w.policy(
            json!({}),
            json!({"allow": [{"spiffe_id": "spiffe://example.org/ns/prod/sa/bob"}]}),
        ))
        .unwrap();
    let cache = ServerSessionMemoryCache::new(64);
    let make = |validator: Validator| {
        let verifier = CertclaimsVerifier::new(Arc::new(validator), &p, Mode::Require);
        let mut config = ServerConfig::builder_with_provider(p.clone())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_client_cert_verifier(verifier.clone())
            .with_single_cert(chain_of(&w.server), key_of(&w.server))
            .unwrap();
        config.session_storage = cache.clone();
        (Arc::new(config), verifier)
    };
    let first = make(admit());
    let second = make(admit());
    let third = make(only_bob);
    let current = Arc::new(Mutex::new(first));
    let source = current.clone();
    let mut server = Server::start(Arc::new(move || source.lock().unwrap().clone())).await;
    let config = w.client(Some(&alice), true);
    let alice_json = core_json(&admit(), &alice);

    let mut full = Conn::open(server.addr, &config).await.unwrap();
    assert_eq!(full.line().await, Ok(alice_json.clone()));
    let a = server.next().await.unwrap();
    assert_eq!(a.kind, Some(HandshakeKind::Full));
    let from_handshake = a.identity.unwrap();

    // Same policy, other verifier: resumed, verified again (a new principal, same content).
    *current.lock().unwrap() = second;
    let mut resumed = Conn::open(server.addr, &config).await.unwrap();
    assert_eq!(resumed.line().await, Ok(alice_json));
    assert_eq!(resumed.kind(), Some(HandshakeKind::Resumed));
    let b = server.next().await.unwrap();
    assert_eq!(b.kind, Some(HandshakeKind::Resumed));
    assert_eq!(b.peer(), Some(chain_of(&alice).as_slice()));
    let reverified = b.identity.unwrap();
    assert!(!Arc::ptr_eq(&reverified, &from_handshake));
    assert_eq!(*reverified, *from_handshake);

    // A policy that denies her: the resumed handshake succeeds (rustls does not call the
    // verifier), but no principal comes out of it.
    *current.lock().unwrap() = third;
    let mut denied = Conn::open(server.addr, &config).await.unwrap();
    let line = denied.line().await.unwrap();
    assert_eq!(line["error"]["code"], "policy_denied");
    assert_eq!(denied.kind(), Some(HandshakeKind::Resumed));
    let c = server.next().await.unwrap();
    assert_eq!(c.identity.unwrap_err().code(), Code::PolicyDenied);
}

/// The one mapping, code by code, down to the alert rustls sends (README's table).
#[test]
fn every_code_maps_to_the_documented_alert() {
    use AlertDescription as A;
    let table = [
        (Code::Malformed, A::BadCertificate),
        (Code::NoCertificate, A::CertificateRequired),
        (Code::UnknownIssuer, A::UnknownCA),
        (Code::BadSignature, A::DecryptError),
        (Code::Expired, A::CertificateExpired),
        (Code::NotYetValid, A::CertificateExpired),
        (Code::WrongUsage, A::UnsupportedCertificate),
        (Code::KeyUsage, A::UnsupportedCertificate),
        (Code::CaAsLeaf, A::UnsupportedCertificate),
        (Code::Revoked, A::CertificateRevoked),
        (Code::UnknownRevocationStatus, A::UnknownCA),
        (Code::SelfSignedNotAllowed, A::UnknownCA),
        (Code::ChainedNotAllowed, A::UnknownCA),
        (Code::ChainTooDeep, A::CertificateUnknown),
        (Code::NameConstraintViolation, A::BadCertificate),
        (Code::UnsupportedAlgorithm, A::DecryptError),
        (Code::Denied, A::AccessDenied),
        (Code::PolicyDenied, A::AccessDenied),
        (Code::InvalidCertificate, A::BadCertificate),
    ];
    for (code, alert) in table {
        let rejection = Rejection::new(code, certclaims::Step::Validation, "test");
        let sent = match to_rustls_error(&rejection) {
            rustls::Error::InvalidCertificate(e) => A::from(e),
            rustls::Error::NoCertificatesPresented => A::CertificateRequired,
            other => panic!("{code}: {other:?}"),
        };
        assert_eq!(sent, alert, "{code}");
    }
    // Codes without a dedicated certificate error carry the rejection itself.
    match to_rustls_error(&Rejection::new(
        Code::ChainTooDeep,
        certclaims::Step::Validation,
        "too deep",
    )) {
        rustls::Error::InvalidCertificate(rustls::CertificateError::Other(other)) => {
            let inner = other.0.downcast_ref::<Rejection>().expect("a Rejection");
            assert_eq!(inner.code(), Code::ChainTooDeep);
            assert_eq!(inner.detail(), "too deep");
        }
        other => panic!("{other:?}"),
    }
}
