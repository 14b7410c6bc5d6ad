//! # certclaims-rustls
//!
//! A rustls 0.23 [`ClientCertVerifier`] that runs the certclaims validator and policy inside
//! the TLS handshake, so a client that does not qualify is refused with the right TLS alert,
//! and a client that does yields a [`Principal`] for the connection without verifying twice.
//!
//! ```text
//! ClientHello ─► CertificateRequest (hints: trust anchor subjects)
//! Certificate ─► CertclaimsVerifier::verify_client_cert ─► Validator::verify ─► Principal
//!                 │ rejection ─► alert (unknown_ca, certificate_expired, access_denied, …)
//!                 └ outcome kept in the validator's cache (certclaims::cache), keyed by
//!                   SHA-256 of the exact chain bytes
//! after handshake: CertclaimsVerifier::principal(conn.peer_certificates()) ─► Arc<Principal>
//! ```
//!
//! Modes mirror Kestrel's `ClientCertificateMode`: [`Mode::Require`], [`Mode::Allow`]
//! (anonymous clients get through; a presented certificate must still verify) and
//! [`Mode::None`]; [`Mode::Http`] (nginx's `optional_no_ca`) lets every client through whose
//! certificate's key signed the handshake, and leaves the verdict to the HTTP layer, which
//! answers the rejection JSON. Signature algorithms come from the server's rustls
//! `CryptoProvider`.
//!
//! [`Reloadable`] swaps trust anchors and policy while the server runs: new connections use
//! the new generation, existing connections keep the principal they were admitted with.

use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use certclaims::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use certclaims::{Code, Principal, Rejection, Validator};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{
    CertificateError, DigitallySignedStruct, DistinguishedName, ServerConfig, SignatureScheme,
};

pub use certclaims;
pub use rustls;

/// Whether the server asks for, and insists on, a client certificate (Kestrel's
/// `ClientCertificateMode`).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// A valid certificate is required; handshakes without one fail (`certificate_required`).
    #[default]
    Require,
    /// A certificate is requested but optional; one that is presented must verify.
    Allow,
    /// No certificate is requested.
    None,
    /// A certificate is requested but optional, and the handshake accepts any the client
    /// proves it holds (its CertificateVerify signature is checked); the verdict is left to
    /// the HTTP layer, which answers the rejection (401/403 JSON) so the client sees why
    /// instead of a TLS alert. nginx's `ssl_verify_client optional_no_ca`; `principal` (or
    /// the tower layer) must be consulted for every request.
    Http,
}

impl std::str::FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "require" => Ok(Self::Require),
            "allow" => Ok(Self::Allow),
            "none" => Ok(Self::None),
            "http" | "optional_no_ca" => Ok(Self::Http),
            other => Err(format!(
                "unknown mode `{other}` (require, allow, http, none)"
            )),
        }
    }
}

/// A client certificate a verifier refused in a handshake: what an observer (logs, metrics)
/// is told.
#[non_exhaustive]
pub struct Refusal<'a> {
    /// Why.
    pub rejection: &'a Rejection,
    /// The certificate the client presented (unverified: it was refused).
    pub leaf: &'a CertificateDer<'a>,
}

/// Called with every refusal a verifier produces in a handshake (for logs and metrics).
pub type RejectionObserver = Arc<dyn Fn(&Refusal<'_>) + Send + Sync>;

/// The rustls client certificate verifier backed by a certclaims [`Validator`].
pub struct CertclaimsVerifier {
    validator: Arc<Validator>,
    observer: Option<RejectionObserver>,
    mode: Mode,
    algorithms: WebPkiSupportedAlgorithms,
    hints: Vec<DistinguishedName>,
}

impl fmt::Debug for CertclaimsVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertclaimsVerifier")
            .field("validator", &self.validator)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

fn unix_now() -> UnixTime {
    UnixTime::since_unix_epoch(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default(),
    )
}

impl CertclaimsVerifier {
    /// A verifier over `validator`, using `provider`'s signature verification algorithms for
    /// both the chain and the handshake signature.
    ///
    /// The validator must have been built with the same algorithms
    /// (`provider.signature_verification_algorithms.all`); see [`validator_for`].
    pub fn new(validator: Arc<Validator>, provider: &CryptoProvider, mode: Mode) -> Arc<Self> {
        Self::with_observer(validator, provider, mode, None)
    }

    /// [`CertclaimsVerifier::new`] with a rejection observer.
    pub fn with_observer(
        validator: Arc<Validator>,
        provider: &CryptoProvider,
        mode: Mode,
        observer: Option<RejectionObserver>,
    ) -> Arc<Self> {
        let hints = validator
            .anchor_subjects()
            .map(DistinguishedName::in_sequence)
            .collect();
        Arc::new(Self {
            validator,
            observer,
            mode,
            algorithms: provider.signature_verification_algorithms,
            hints,
        })
    }

    /// The validator of this generation.
    pub fn validator(&self) -> &Arc<Validator> {
        &self.validator
    }

    /// The mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The principal of a connection this verifier admitted, given its
    /// `peer_certificates()`.
    ///
    /// A chain verified in a handshake is answered by the validator's cache
    /// ([`certclaims::cache`]) without verifying again: the entry is keyed by the exact chain
    /// bytes, so it serves this connection and any other presenting the same chain (a session
    /// resumed within this generation included) for the cache's TTL, never past the
    /// principal's `usable_until`, while it is among the most recent. Otherwise (a resumed
    /// session whose chain this generation never verified, an entry past its time or evicted)
    /// the presented chain is verified now with this generation's validator. No certificate is
    /// `no_certificate` (allow mode).
    pub fn principal(
        &self,
        peer_certificates: Option<&[CertificateDer<'_>]>,
    ) -> Result<Arc<Principal>, Rejection> {
        let Some((leaf, intermediates)) = peer_certificates.and_then(|c| c.split_first()) else {
            return Err(Rejection::no_certificate());
        };
        self.validator
            .verify(leaf, intermediates, unix_now())
            .map(Arc::new)
    }
}

/// A validator built from a policy with `provider`'s algorithms.
pub fn validator_for(
    policy: &certclaims::Policy,
    provider: &CryptoProvider,
) -> Result<Validator, certclaims::PolicyError> {
    Validator::from_policy(policy, provider.signature_verification_algorithms.all)
}

/// The one mapping from certclaims rejections to rustls errors, hence TLS alerts (through
/// rustls's own `CertificateError` → `AlertDescription` conversion).
///
/// | code | alert |
/// |---|---|
/// | `malformed`, `invalid_certificate` | bad_certificate |
/// | `unknown_issuer`, `self_signed_not_allowed`, `chained_not_allowed`, `unknown_revocation_status` | unknown_ca |
/// | `expired`, `not_yet_valid` | certificate_expired |
/// | `revoked` | certificate_revoked |
/// | `bad_signature`, `unsupported_algorithm` | decrypt_error |
/// | `wrong_usage`, `key_usage`, `ca_as_leaf` | unsupported_certificate |
/// | `name_constraint_violation` | bad_certificate |
/// | `denied`, `policy_denied` | access_denied |
/// | `no_certificate` | certificate_required |
/// | `chain_too_deep`, others | certificate_unknown |
pub fn to_rustls_error(rejection: &Rejection) -> rustls::Error {
    let e = match rejection.code() {
        Code::NoCertificate => return rustls::Error::NoCertificatesPresented,
        Code::Malformed | Code::InvalidCertificate => CertificateError::BadEncoding,
        Code::UnknownIssuer | Code::SelfSignedNotAllowed | Code::ChainedNotAllowed => {
            CertificateError::UnknownIssuer
        }
        Code::UnknownRevocationStatus => CertificateError::UnknownRevocationStatus,
        Code::Expired => CertificateError::Expired,
        Code::NotYetValid => CertificateError::NotValidYet,
        Code::Revoked => CertificateError::Revoked,
        Code::BadSignature | Code::UnsupportedAlgorithm => CertificateError::BadSignature,
        Code::WrongUsage | Code::KeyUsage | Code::CaAsLeaf => CertificateError::InvalidPurpose,
        Code::NameConstraintViolation => CertificateError::NotValidForName,
        Code::Denied | Code::PolicyDenied => CertificateError::ApplicationVerificationFailure,
        _ => CertificateError::Other(rustls::OtherError(Arc::new(rejection.clone()))),
    };
    rustls::Error::InvalidCertificate(e)
}

impl ClientCertVerifier for CertclaimsVerifier {
    fn offer_client_auth(&self) -> bool {
        self.mode != Mode::None
    }

    fn client_auth_mandatory(&self) -> bool {
        self.mode == Mode::Require
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &self.hints
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        // The outcome stays in the validator's cache for `principal` to pick up.
        match self.validator.verify(end_entity, intermediates, now) {
            Ok(_) => Ok(ClientCertVerified::assertion()),
            Err(rejection) => {
                if let Some(observe) = &self.observer {
                    observe(&Refusal {
                        rejection: &rejection,
                        leaf: end_entity,
                    });
                }
                if self.mode == Mode::Http {
                    // Possession is still proven (the CertificateVerify signature); the HTTP
                    // layer answers the rejection.
                    return Ok(ClientCertVerified::assertion());
                }
                Err(to_rustls_error(&rejection))
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// One generation of server configuration: the rustls config and the verifier inside it.
#[derive(Debug, Clone)]
pub struct Generation {
    /// The rustls server configuration to accept new connections with.
    pub config: Arc<ServerConfig>,
    /// The verifier in `config`, to get each connection's principal.
    pub verifier: Arc<CertclaimsVerifier>,
    /// Increments with every reload, starting at 1.
    pub number: u64,
}

/// What a TLS server needs besides the validator: its own identity, the mode, ALPN.
#[derive(Clone)]
#[non_exhaustive]
pub struct TlsSettings {
    /// The crypto provider (its algorithms verify client chains and handshake signatures).
    pub provider: Arc<CryptoProvider>,
    /// The server's certificate chain.
    pub cert_chain: Vec<CertificateDer<'static>>,
    /// The server's private key.
    pub key: Arc<PrivateKeyDer<'static>>,
    /// Client certificate mode.
    pub mode: Mode,
    /// ALPN protocols, most preferred first (default `h2`, `http/1.1`).
    pub alpn: Vec<Vec<u8>>,
    /// Observer of handshake rejections.
    pub observer: Option<RejectionObserver>,
}

impl fmt::Debug for TlsSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsSettings")
            .field("cert_chain", &self.cert_chain.len())
            .field("mode", &self.mode)
            .field("alpn", &self.alpn)
            .finish_non_exhaustive()
    }
}

impl TlsSettings {
    /// Settings with `h2` and `http/1.1` ALPN and no observer.
    pub fn new(
        provider: Arc<CryptoProvider>,
        cert_chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
        mode: Mode,
    ) -> Self {
        Self {
            provider,
            cert_chain,
            key: Arc::new(key),
            mode,
            alpn: vec![b"h2".to_vec(), b"http/1.1".to_vec()],
            observer: None,
        }
    }

    /// Sets the rejection observer.
    #[must_use]
    pub fn with_observer(mut self, observer: RejectionObserver) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Sets the ALPN protocols.
    #[must_use]
    pub fn with_alpn(mut self, alpn: Vec<Vec<u8>>) -> Self {
        self.alpn = alpn;
        self
    }

    /// A validator built from a policy with this provider's algorithms.
    pub fn validator(
        &self,
        policy: &certclaims::Policy,
    ) -> Result<Validator, certclaims::PolicyError> {
        validator_for(policy, &self.provider)
    }
}

/// A server configuration whose trust, policy and own identity can be replaced while the
/// server runs: each [`reload`](Self::reload) or [`replace`](Self::replace) makes a new
/// [`Generation`] for new connections; open connections keep theirs.
#[derive(Debug)]
pub struct Reloadable {
    current: RwLock<State>,
}

#[derive(Debug)]
struct State {
    generation: Arc<Generation>,
    settings: Arc<TlsSettings>,
}

impl Reloadable {
    /// A reloadable configuration starting with `validator`.
    pub fn new(settings: TlsSettings, validator: Validator) -> Result<Self, rustls::Error> {
        let first = Self::generation(&settings, validator, 1)?;
        Ok(Self {
            current: RwLock::new(State {
                generation: Arc::new(first),
                settings: Arc::new(settings),
            }),
        })
    }

    fn generation(
        settings: &TlsSettings,
        validator: Validator,
        number: u64,
    ) -> Result<Generation, rustls::Error> {
        let verifier = CertclaimsVerifier::with_observer(
            Arc::new(validator),
            &settings.provider,
            settings.mode,
            settings.observer.clone(),
        );
        let mut config = ServerConfig::builder_with_provider(settings.provider.clone())
            .with_safe_default_protocol_versions()?
            .with_client_cert_verifier(verifier.clone())
            .with_single_cert(settings.cert_chain.clone(), settings.key.clone_key())?;
        config.alpn_protocols = settings.alpn.clone();
        Ok(Generation {
            config: Arc::new(config),
            verifier,
            number,
        })
    }

    /// The generation new connections should use.
    pub fn current(&self) -> Arc<Generation> {
        match self.current.read() {
            Ok(g) => g.generation.clone(),
            Err(poisoned) => poisoned.into_inner().generation.clone(),
        }
    }

    /// Replaces trust and policy for new connections, keeping the settings; returns the new
    /// generation number.
    pub fn reload(&self, validator: Validator) -> Result<u64, rustls::Error> {
        self.swap(None, validator)
    }

    /// Replaces the settings (a renewed server certificate and key, say) and the validator
    /// together for new connections; returns the new generation number. On an error (a key
    /// that does not match the certificate) nothing changes.
    pub fn replace(
        &self,
        settings: TlsSettings,
        validator: Validator,
    ) -> Result<u64, rustls::Error> {
        self.swap(Some(settings), validator)
    }

    fn swap(
        &self,
        settings: Option<TlsSettings>,
        validator: Validator,
    ) -> Result<u64, rustls::Error> {
        let mut guard = match self.current.write() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        let number = guard.generation.number + 1;
        let settings = settings.map_or_else(|| guard.settings.clone(), Arc::new);
        let generation = Self::generation(&settings, validator, number)?;
        *guard = State {
            generation: Arc::new(generation),
            settings,
        };
        Ok(number)
    }

    /// The settings of the current generation.
    pub fn settings(&self) -> Arc<TlsSettings> {
        match self.current.read() {
            Ok(g) => g.settings.clone(),
            Err(poisoned) => poisoned.into_inner().settings.clone(),
        }
    }
}
