//! `certclaims`: verify and inspect client certificate chains against a certclaims policy.
//!
//! Exit codes are a contract: 0 verified (principal JSON on stdout), 1 rejected (rejection
//! JSON on stdout), 2 usage, configuration or I/O error (message on stderr).

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use certclaims::pki_types::{CertificateDer, UnixTime};
use certclaims::{Chain, Policy, Validator};
use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(name = "certclaims", version, about = "mTLS client certificates to verified claims")]
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
        /// Extra trust anchor PEM files, added to the policy's `trust.anchors`.
        #[arg(long = "anchor", value_name = "PEM")]
        anchors: Vec<PathBuf>,
        /// Validation time, RFC 3339 (default: now).
        #[arg(long, value_name = "RFC3339")]
        at: Option<String>,
        /// The chain PEM file (`-` for standard input).
        chain: PathBuf,
    },
    /// Print what the certificates in a PEM file say about themselves, WITHOUT validation.
    Inspect {
        /// The PEM file (`-` for standard input).
        cert: PathBuf,
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
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Verify {
            policy,
            anchors,
            at,
            chain,
        } => verify(&policy, &anchors, at.as_deref(), &chain),
        Command::Inspect { cert } => inspect(&cert),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("certclaims: {e}");
            ExitCode::from(2)
        }
    }
}

fn read(path: &Path) -> Result<Vec<u8>, CliError> {
    if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)
            .map_err(|e| CliError(format!("reading standard input: {e}")))?;
        return Ok(buf);
    }
    std::fs::read(path).map_err(|e| CliError(format!("{}: {e}", path.display())))
}

fn read_string(path: &Path) -> Result<String, CliError> {
    String::from_utf8(read(path)?).map_err(|_| CliError(format!("{}: not UTF-8 text", path.display())))
}

/// Parses an RFC 3339 timestamp into a `UnixTime`; times before 1970 are refused.
fn parse_time(s: &str) -> Result<UnixTime, CliError> {
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map_err(|e| CliError(format!("--at {s:?} is not an RFC 3339 time: {e}")))?;
    let secs = u64::try_from(t.unix_timestamp()).map_err(|_| CliError(format!("--at {s:?} is before 1970")))?;
    Ok(UnixTime::since_unix_epoch(Duration::from_secs(secs)))
}

fn now() -> Result<UnixTime, CliError> {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(UnixTime::since_unix_epoch)
        .map_err(|_| CliError("the system clock is before 1970".into()))
}

fn print_json(value: &serde_json::Value) {
    println!("{}", serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string()));
}

fn verify(policy_path: &Path, anchors: &[PathBuf], at: Option<&str>, chain_path: &Path) -> Result<ExitCode, CliError> {
    let mut policy = Policy::from_json(&read_string(policy_path)?)
        .map_err(|e| CliError(format!("{}: {e}", policy_path.display())))?;
    for a in anchors {
        policy.trust.anchors.push(read_string(a)?);
    }
    let validator = Validator::from_policy(&policy, certclaims::crypto::ALL)
        .map_err(|e| CliError(format!("{}: {e}", policy_path.display())))?;
    let time = match at {
        Some(s) => parse_time(s)?,
        None => now()?,
    };
    let pem = read(chain_path)?;
    match Chain::from_pem(&pem).and_then(|chain| validator.verify_chain(&chain, time)) {
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

fn inspect(path: &Path) -> Result<ExitCode, CliError> {
    let pem = read(path)?;
    let chain = match Chain::from_pem(&pem) {
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
