//! `certclaims`: verify and inspect client certificate chains against a certclaims policy.
//!
//! Exit codes are a contract: 0 verified (principal JSON on stdout), 1 rejected (rejection
//! JSON on stdout), 2 usage, configuration or I/O error (message on stderr).

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use certclaims::pki_types::{CertificateDer, UnixTime};
use certclaims::{Chain, Policy, Rejection, Validator};
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

mod demo;
mod log;
mod metrics;
mod mint;
mod policy_file;
mod serve;
mod watch;

#[derive(Parser, Debug)]
#[command(
    name = "certclaims",
    version,
    about = "mTLS client certificates to verified claims"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Validate a chain (leaf first, then intermediates, in one PEM file) against a policy and
    /// print the principal JSON (exit 0) or the rejection JSON (exit 1).
    Verify {
        /// The policy JSON file.
        #[arg(long)]
        policy: PathBuf,
        /// Extra trust anchor files (PEM bundle or DER certificate), added to the policy's
        /// `trust.anchors` (repeatable).
        #[arg(long = "anchor", value_name = "FILE")]
        anchors: Vec<PathBuf>,
        /// Extra intermediate certificate files (PEM bundle or DER), added to the policy's
        /// `trust.intermediates`: what a client that sends only its leaf needs (repeatable).
        #[arg(long = "intermediate", value_name = "FILE")]
        intermediates: Vec<PathBuf>,
        /// Validation time, RFC 3339 (default: now).
        #[arg(long, value_name = "RFC3339")]
        at: Option<String>,
        /// The password of a PKCS#12 (.p12/.pfx) chain file (default: none).
        #[arg(long, value_name = "PW")]
        password: Option<String>,
        /// The chain: PEM (leaf first), one DER certificate, or a PKCS#12 file (`-` for
        /// standard input).
        chain: PathBuf,
    },
    /// Print what the certificates in a PEM, DER or PKCS#12 file say about themselves,
    /// WITHOUT validation.
    Inspect {
        /// The password of a PKCS#12 (.p12/.pfx) file (default: none).
        #[arg(long, value_name = "PW")]
        password: Option<String>,
        /// The file (`-` for standard input).
        cert: PathBuf,
    },
    /// Serve HTTPS over mutual TLS (or, with --forwarded, plain HTTP behind a proxy that
    /// forwards the client certificate in a header): every path answers the client's
    /// principal JSON (200) or the rejection JSON; `GET /healthz` answers 200. SIGHUP reloads
    /// the policy.
    Serve(serve::ServeArgs),
    /// Mint a development PKI in a folder: ca.pem, server.pem/.key (localhost, 127.0.0.1,
    /// ::1), NAME.pem/.key/.p12 per client, and policy.json. Re-running adds clients.
    Mint {
        /// The folder.
        #[arg(long)]
        out: PathBuf,
        /// A client to issue (repeatable); the options after it apply to it.
        #[arg(long = "client", value_name = "NAME")]
        clients: Vec<String>,
        /// A SPIFFE ID for the preceding --client.
        #[arg(long, value_name = "URI")]
        spiffe: Vec<String>,
        /// A DNS SAN for the preceding --client.
        #[arg(long, value_name = "NAME")]
        dns: Vec<String>,
        /// An email SAN for the preceding --client.
        #[arg(long, value_name = "ADDR")]
        email: Vec<String>,
        /// Password of the PKCS#12 files.
        #[arg(long = "p12-password", default_value = mint::DEFAULT_P12_PASSWORD)]
        p12_password: String,
        /// Reissue clients that exist (new key and certificate), and mint into a folder that
        /// holds another CA's certificates.
        #[arg(long)]
        force: bool,
    },
    /// Check a policy file and what it points at, and print what it trusts and admits (JSON;
    /// exit 0), or say what is wrong (exit 2).
    Policy {
        #[command(subcommand)]
        action: PolicyCommand,
    },
    /// The end-to-end demonstration: mint a PKI, serve on 127.0.0.1, connect as a valid,
    /// anonymous, foreign, expired and denied client, and print what happened.
    Demo {
        /// Print the results as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
enum PolicyCommand {
    /// Validate POLICY.json (and the files it names) as `verify` and `serve` load it, and
    /// print its trust anchors, intermediates and CRLs with where each came from, what it
    /// admits and grants, and warnings (an anchor that expires soon, an allow-list that
    /// admits anyone the anchors issue).
    Check {
        /// The policy JSON file.
        policy: PathBuf,
        /// The time expiry warnings are judged at, RFC 3339 (default: now).
        #[arg(long, value_name = "RFC3339")]
        at: Option<String>,
    },
}

/// A usage, configuration or I/O error: exit 2.
#[derive(Debug)]
struct CliError(String);

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<E: std::error::Error> From<E> for CliError {
    fn from(e: E) -> Self {
        Self(e.to_string())
    }
}

fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let result = match cli.command {
        Command::Verify {
            policy,
            anchors,
            intermediates,
            at,
            password,
            chain,
        } => verify(
            &policy,
            &anchors,
            &intermediates,
            at.as_deref(),
            password.as_deref(),
            &chain,
        ),
        Command::Inspect { cert, password } => inspect(&cert, password.as_deref()),
        Command::Policy {
            action: PolicyCommand::Check { policy, at },
        } => policy_check(&policy, at.as_deref()),
        Command::Serve(args) => {
            runtime().and_then(|rt| rt.block_on(serve::run(args)).map(|()| ExitCode::SUCCESS))
        }
        Command::Mint {
            out,
            p12_password,
            force,
            ..
        } => matches
            .subcommand_matches("mint")
            .ok_or_else(|| CliError("mint: arguments".into()))
            .and_then(mint_specs)
            .and_then(|specs| mint::run(&out, &specs, &p12_password, force))
            .map(|()| ExitCode::SUCCESS),
        Command::Demo { json } => runtime()
            .and_then(|rt| rt.block_on(demo::run(json)))
            .map(|ok| {
                if ok {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                }
            }),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("certclaims: {e}");
            ExitCode::from(2)
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError(format!("tokio runtime: {e}")))
}

/// Groups `--spiffe/--dns/--email` with the `--client` that precedes them on the command
/// line; without any `--client`, one client named `client` takes them all.
fn mint_specs(m: &clap::ArgMatches) -> Result<Vec<mint::ClientSpec>, CliError> {
    let indexed = |id: &str| -> Vec<(usize, String)> {
        match (m.indices_of(id), m.get_many::<String>(id)) {
            (Some(i), Some(v)) => i.zip(v.cloned()).collect(),
            _ => Vec::new(),
        }
    };
    let clients = indexed("clients");
    let mut specs: Vec<mint::ClientSpec> = if clients.is_empty() {
        vec![mint::ClientSpec {
            name: "client".into(),
            ..Default::default()
        }]
    } else {
        clients
            .iter()
            .map(|(_, n)| mint::ClientSpec {
                name: n.clone(),
                ..Default::default()
            })
            .collect()
    };
    for (id, flag) in [
        ("spiffe", "--spiffe"),
        ("dns", "--dns"),
        ("email", "--email"),
    ] {
        for (pos, value) in indexed(id) {
            let owner = if clients.is_empty() {
                Some(0)
            } else {
                clients.iter().rposition(|(i, _)| *i < pos)
            };
            let Some(k) = owner else {
                return Err(CliError(format!(
                    "{flag} {value}: put it after the --client it belongs to"
                )));
            };
            let spec = &mut specs[k];
            match id {
                "spiffe" => spec.spiffe.push(value),
                "dns" => spec.dns.push(value),
                _ => spec.email.push(value),
            }
        }
    }
    Ok(specs)
}

/// The most bytes of a chain or certificate PEM read (`malformed` beyond): the core's limit.
pub(crate) const MAX_PEM_BYTES: u64 = certclaims::input::limits::MAX_PEM_BYTES as u64;

/// The most bytes of a policy file read: room for its anchors and for CRLs of up to 16 MiB
/// of DER each in PEM (exit 2 beyond).
pub(crate) const MAX_POLICY_BYTES: u64 = 64 * 1024 * 1024;

/// Reads at most `limit + 1` bytes of `path` (`-` is standard input): one more than allowed,
/// so that an input over the limit is known as such without being read to its end (a
/// 300 MiB pipe, `/dev/zero`).
fn read_at_most(path: &Path, limit: u64) -> Result<Vec<u8>, CliError> {
    use std::io::Read;
    let mut buf = Vec::new();
    if path.as_os_str() == "-" {
        std::io::stdin()
            .lock()
            .take(limit.saturating_add(1))
            .read_to_end(&mut buf)
            .map_err(|e| CliError(format!("reading standard input: {e}")))?;
        return Ok(buf);
    }
    std::fs::File::open(path)
        .and_then(|f| f.take(limit.saturating_add(1)).read_to_end(&mut buf))
        .map_err(|e| CliError(format!("{}: {e}", path.display())))?;
    Ok(buf)
}

/// Reads all of `path` if it holds at most `limit` bytes; a larger input is an error (exit 2)
/// after reading `limit + 1` bytes.
pub(crate) fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, CliError> {
    let buf = read_at_most(path, limit)?;
    if buf.len() as u64 > limit {
        let name = if path.as_os_str() == "-" {
            "standard input".to_string()
        } else {
            path.display().to_string()
        };
        return Err(CliError(format!(
            "{name}: larger than the limit of {limit} bytes"
        )));
    }
    Ok(buf)
}

/// A chain or certificate PEM: read up to one byte past the core's limit, so that the core
/// rejects an over-long input as `malformed` (exit 1) as it rejects any other.
fn read_pem_input(path: &Path) -> Result<Vec<u8>, CliError> {
    read_at_most(path, MAX_PEM_BYTES)
}

/// The certificates of a chain input: PEM (leaf first), or one DER certificate. A private
/// key, a CSR, a CRL or a PKCS#12 file where a chain is expected is a usage error (exit 2)
/// that names what the file is and the openssl command that gives a chain; what is neither
/// is the client's `malformed` rejection, as before.
fn chain_of(
    input: &[u8],
    path: &Path,
    password: Option<&str>,
) -> Result<Result<Chain<'static>, Rejection>, CliError> {
    let file = path.display();
    let wrong = |what: &str, how: &str| {
        CliError(format!("{file} is {what}, not a certificate chain: {how}"))
    };
    let pem = |label: &str| {
        input
            .windows(label.len() + 11)
            .any(|w| w.starts_with(b"-----BEGIN ") && &w[11..] == label.as_bytes())
    };
    if input.starts_with(b"-----BEGIN ") || input.windows(11).any(|w| w == b"-----BEGIN ") {
        if !pem("CERTIFICATE-----") {
            for (label, what, how) in [
                ("PRIVATE KEY-----", "a private key", KEY_HELP),
                ("RSA PRIVATE KEY-----", "a private key", KEY_HELP),
                ("EC PRIVATE KEY-----", "a private key", KEY_HELP),
                ("ENCRYPTED PRIVATE KEY-----", "a private key", KEY_HELP),
                ("X509 CRL-----", "a CRL", CRL_HELP),
                (
                    "CERTIFICATE REQUEST-----",
                    "a certificate request (CSR)",
                    CSR_HELP,
                ),
                (
                    "NEW CERTIFICATE REQUEST-----",
                    "a certificate request (CSR)",
                    CSR_HELP,
                ),
                ("PKCS12-----", "a PKCS#12 file in PEM", P12_HELP),
            ] {
                if pem(label) {
                    return Err(wrong(what, how));
                }
            }
        }
        return Ok(Chain::from_pem(input));
    }
    use certclaims::input::{der_kind, DerKind};
    match der_kind(input) {
        DerKind::Pkcs12 => pkcs12_chain(input, path, password).map(Ok),
        DerKind::PrivateKey => Err(wrong("a private key (DER)", KEY_HELP)),
        DerKind::Crl => Err(wrong("a CRL (DER)", CRL_HELP)),
        DerKind::NotDer => Ok(Chain::from_pem(input)),
        _ => Ok(Chain::from_der(vec![CertificateDer::from(input.to_vec())])),
    }
}

const KEY_HELP: &str = "pass the certificate file (with its intermediates, leaf first); a key \
                        belongs in --tls-key of `serve`, not here";
const CRL_HELP: &str = "CRLs go in the policy's trust.crls; pass the certificate chain here";
const CSR_HELP: &str = "a request is not a certificate yet: have the CA issue it, then pass \
                        the issued certificate";
const P12_HELP: &str = "pass the binary .p12/.pfx file (with --password), or extract the \
                        chain with `openssl pkcs12 -in FILE.p12 -nokeys -out chain.pem`";

/// The longest a PKCS#12 file may take to decode (its MAC and bag decryption).
const PKCS12_TIME: Duration = Duration::from_secs(10);

/// The certificate chain of a PKCS#12 file, leaf first (its key is not read further). No
/// `password` tries the empty one.
fn pkcs12_chain(
    input: &[u8],
    path: &Path,
    password: Option<&str>,
) -> Result<Chain<'static>, CliError> {
    use p12_keystore::{KeyStore, Pkcs12ImportPolicy};
    let file = path.display();
    // The file sets its own key-derivation iteration counts: decoding runs on a thread and
    // is given up after PKCS12_TIME (the process exits with the error; the thread with it).
    let (tx, rx) = std::sync::mpsc::channel();
    let (data, pw) = (input.to_vec(), password.unwrap_or("").to_string());
    std::thread::spawn(move || {
        let _ = tx.send(KeyStore::from_pkcs12(
            &data,
            &pw,
            Pkcs12ImportPolicy::Strict,
        ));
    });
    let decoded = rx.recv_timeout(PKCS12_TIME).map_err(|_| {
        CliError(format!(
            "{file}: the PKCS#12 file did not open within {} s (its key-derivation iteration \
             counts are too high): re-export it, e.g. `openssl pkcs12 -export -iter 10000 …`",
            PKCS12_TIME.as_secs()
        ))
    })?;
    let store = decoded.map_err(|e| match password {
        None => CliError(format!(
            "{file} is a PKCS#12 file (.p12/.pfx) that needs a password: pass --password PW \
                 (`certclaims mint` writes them with `changeit`)"
        )),
        Some(_) => CliError(format!(
            "{file}: the PKCS#12 file does not open with this --password ({e})"
        )),
    })?;
    let certs: Vec<CertificateDer<'static>> = match store.private_key_chain() {
        Some((_, chain)) => chain
            .certs()
            .iter()
            .map(|c| CertificateDer::from(c.as_der().to_vec()))
            .collect(),
        None => Vec::new(),
    };
    if certs.is_empty() {
        return Err(CliError(format!(
            "{file}: the PKCS#12 file holds no certificate with its private key: export the \
             client's certificate and key together (`openssl pkcs12 -export -in client.pem \
             -inkey client.key -out client.p12`)"
        )));
    }
    Chain::from_der(certs).map_err(|r| CliError(format!("{file}: {}", r.detail())))
}

/// A text input (policy, anchors) of at most `limit` bytes.
pub(crate) fn read_string(path: &Path, limit: u64) -> Result<String, CliError> {
    String::from_utf8(read_limited(path, limit)?)
        .map_err(|_| CliError(format!("{}: not UTF-8 text", path.display())))
}

/// Reads and parses a policy file (at most [`MAX_POLICY_BYTES`]).
pub(crate) fn read_policy(path: &Path) -> Result<Policy, CliError> {
    Policy::from_json(&read_string(path, MAX_POLICY_BYTES)?)
        .map_err(|e| CliError(format!("{}: {e}", path.display())))
}

/// `--at`: RFC 3339 (`2026-12-01T10:30:00Z`, any offset), or without the seconds
/// (`2026-12-01T10:30Z`), or a date alone (`2026-12-01`, midnight UTC).
fn parse_time(s: &str) -> Result<UnixTime, CliError> {
    use time::format_description::well_known::Rfc3339;
    let bad = || {
        CliError(format!(
            "--at {s:?} is not a time: write RFC 3339, e.g. 2026-12-01T10:30:00Z, \
             2026-12-01T10:30+01:00 or 2026-12-01 (midnight UTC)"
        ))
    };
    let t = if let Ok(t) = time::OffsetDateTime::parse(s, &Rfc3339) {
        t
    } else if s.len() == 10 {
        time::OffsetDateTime::parse(&format!("{s}T00:00:00Z"), &Rfc3339).map_err(|_| bad())?
    } else if s.len() > 16 && s.is_char_boundary(16) && s.as_bytes()[13] == b':' {
        // `YYYY-MM-DDTHH:MM` and an offset: the seconds are zero.
        let with_seconds = format!("{}:00{}", &s[..16], &s[16..]);
        time::OffsetDateTime::parse(&with_seconds, &Rfc3339).map_err(|_| bad())?
    } else {
        return Err(bad());
    };
    let secs = u64::try_from(t.unix_timestamp())
        .map_err(|_| CliError(format!("--at {s:?} is before 1970")))?;
    Ok(UnixTime::since_unix_epoch(Duration::from_secs(secs)))
}

fn now() -> Result<UnixTime, CliError> {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(UnixTime::since_unix_epoch)
        .map_err(|_| CliError("the system clock is before 1970".into()))
}

/// Prints JSON on stdout; a closed pipe (`certclaims verify … | head`) is not an error.
fn print_json(value: &serde_json::Value) {
    use std::io::Write;
    let text = serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string());
    let _ = writeln!(std::io::stdout().lock(), "{text}");
}

fn verify(
    policy_path: &Path,
    anchors: &[PathBuf],
    intermediates: &[PathBuf],
    at: Option<&str>,
    password: Option<&str>,
    chain_path: &Path,
) -> Result<ExitCode, CliError> {
    use policy_file::{List, PolicyFile};
    let mut policy = PolicyFile::load(policy_path)?;
    for a in anchors {
        policy.add_file(List::Anchors, "--anchor", a)?;
    }
    for i in intermediates {
        policy.add_file(List::Intermediates, "--intermediate", i)?;
    }
    let validator = policy.build(|p| Validator::from_policy(p, certclaims::crypto::ALL))?;
    let time = match at {
        Some(s) => parse_time(s)?,
        None => now()?,
    };
    let input = read_pem_input(chain_path)?;
    match chain_of(&input, chain_path, password)?
        .and_then(|chain| validator.verify_chain(&chain, time))
    {
        Ok(principal) => {
            print_json(&principal.to_json());
            Ok(ExitCode::SUCCESS)
        }
        Err(rejection) => {
            print_json(&rejection.to_json());
            Ok(ExitCode::from(1))
        }
    }
}

fn inspect(path: &Path, password: Option<&str>) -> Result<ExitCode, CliError> {
    let input = read_pem_input(path)?;
    let chain = match chain_of(&input, path, password)? {
        Ok(c) => c,
        Err(rejection) => {
            print_json(&rejection.to_json());
            return Ok(ExitCode::from(1));
        }
    };
    let mut certs = Vec::new();
    for cert in chain.certs() {
        match certclaims::inspect(&CertificateDer::from(cert.as_ref())) {
            Ok(info) => certs.push(info.to_json()),
            Err(rejection) => {
                print_json(&rejection.to_json());
                return Ok(ExitCode::from(1));
            }
        }
    }
    print_json(&serde_json::json!({
        "verified": false,
        "warning": "UNVERIFIED: these are the certificates' own claims; nothing was validated",
        "certificates": certs,
    }));
    Ok(ExitCode::SUCCESS)
}

/// Days before an anchor's or intermediate's notAfter from which `policy check` warns.
const EXPIRY_WARNING_DAYS: i64 = 30;

/// `certclaims policy check`.
fn policy_check(path: &Path, at: Option<&str>) -> Result<ExitCode, CliError> {
    use policy_file::{List, PolicyFile};
    let pf = PolicyFile::load(path)?;
    let validator = pf.build(|p| Validator::from_policy(p, certclaims::crypto::ALL))?;
    let now = i64::try_from(
        match at {
            Some(s) => parse_time(s)?,
            None => now()?,
        }
        .as_secs(),
    )
    .unwrap_or(i64::MAX);
    let mut warnings = Vec::new();
    let describe = |list: List, n: usize, der: &CertificateDer<'_>, warnings: &mut Vec<String>| {
        let source = pf.source(list, n);
        let Ok(info) = certclaims::inspect(der) else {
            return serde_json::json!({ "source": source });
        };
        let not_after = info.not_after().to_string();
        let expiry = info.not_after_unix();
        let what = if list == List::Anchors {
            "trust anchor"
        } else {
            "intermediate"
        };
        if expiry < now {
            warnings.push(format!(
                "{what} {} ({source}) expired at {not_after}: nothing it issued validates; \
                 replace it",
                info.subject()
            ));
        } else if expiry - now < EXPIRY_WARNING_DAYS * 86_400 {
            warnings.push(format!(
                "{what} {} ({source}) expires at {not_after}, in {} days: plan its \
                 replacement",
                info.subject(),
                (expiry - now) / 86_400
            ));
        }
        if !info.is_ca() {
            warnings.push(format!(
                "{what} {} ({source}) is not a CA certificate: it cannot issue client \
                 certificates",
                info.subject()
            ));
        }
        serde_json::json!({
            "subject": info.subject(),
            "fingerprint_sha256": info.fingerprint_sha256(),
            "spki_sha256": info.spki_sha256(),
            "not_after": not_after,
            "source": source,
        })
    };
    let anchors: Vec<serde_json::Value> = validator
        .anchors()
        .iter()
        .enumerate()
        .map(|(n, der)| describe(List::Anchors, n, der, &mut warnings))
        .collect();
    let mut intermediates = Vec::new();
    for (n, pem) in pf.policy.trust.intermediates.iter().enumerate() {
        if let Ok(chain) = Chain::from_pem(pem.as_bytes()) {
            intermediates.push(describe(
                List::Intermediates,
                n,
                chain.leaf(),
                &mut warnings,
            ));
        }
    }
    let crls: Vec<serde_json::Value> = (0..pf.policy.trust.crls.len())
        .map(|n| serde_json::json!({ "source": pf.source(List::Crls, n) }))
        .collect();
    // What it admits and grants, as written (the parse above checked it).
    let raw: serde_json::Value = read_string(pf.path(), MAX_POLICY_BYTES)
        .ok()
        .and_then(|t| serde_json::from_str(t.trim_start_matches('\u{feff}')).ok())
        .unwrap_or_default();
    let allow = raw["identity"]["allow"].clone();
    if allow.as_array().is_none_or(|a| a.is_empty()) {
        warnings.push(
            "identity.allow is empty: every certificate that validates against the trust \
             anchors is admitted; list the identities to admit (spiffe_id, dns, email, uri, \
             subject, issuer, fingerprint) to narrow it"
                .into(),
        );
    }
    print_json(&serde_json::json!({
        "policy": pf.path().display().to_string(),
        "valid": true,
        "trust": {
            "anchors": anchors,
            "intermediates": intermediates,
            "crls": crls,
            "allowed_types": raw["trust"].get("allowed_types").cloned().unwrap_or("chained".into()),
            "pinned": raw["trust"].get("pinned").cloned().unwrap_or_else(|| serde_json::json!([])),
            "deny": raw["trust"].get("deny").cloned().unwrap_or_else(|| serde_json::json!([])),
        },
        "admits": allow.as_array().cloned().unwrap_or_default(),
        "claims": raw["claims"].get("add").cloned().unwrap_or_else(|| serde_json::json!([])),
        "warnings": warnings,
    }));
    Ok(ExitCode::SUCCESS)
}
