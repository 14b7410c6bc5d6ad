//! `certclaims mint`: a development PKI in a folder, like mkcert for client certificates.

use std::fs;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose, SanType,
};

use crate::CliError;

/// Default PKCS#12 password (the .NET samples' `changeit`).
pub(crate) const DEFAULT_P12_PASSWORD: &str = "changeit";

/// Every development CA gets its own name (`certclaims development CA <8 hex>`), so that
/// certificates of two folders never look like they come from the same issuer.
const CA_CN_PREFIX: &str = "certclaims development CA";
const CA_O: &str = "certclaims";

/// One client certificate to issue.
#[derive(Debug, Clone, Default)]
pub(crate) struct ClientSpec {
    pub(crate) name: String,
    pub(crate) spiffe: Vec<String>,
    pub(crate) dns: Vec<String>,
    pub(crate) email: Vec<String>,
    /// Validity as (notBefore, notAfter) Unix seconds; default: an hour ago to a year ahead.
    pub(crate) validity: Option<(i64, i64)>,
}

/// The development CA of a folder.
pub(crate) struct DevCa {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
}

fn err(what: &str, e: impl std::fmt::Display) -> CliError {
    CliError(format!("{what}: {e}"))
}

fn dt(secs: i64) -> Result<time::OffsetDateTime, CliError> {
    time::OffsetDateTime::from_unix_timestamp(secs).map_err(|e| err("time", e))
}

pub(crate) fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn ca_params(cn: &str, now: i64) -> Result<CertificateParams, CliError> {
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, CA_O);
    dn.push(DnType::CommonName, cn);
    p.distinguished_name = dn;
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    p.key_identifier_method = KeyIdMethod::Sha256;
    p.not_before = dt(now - 3600)?;
    p.not_after = dt(now + 10 * 365 * 86_400)?;
    Ok(p)
}

fn hex_prefix(bytes: &[u8]) -> String {
    bytes.iter().take(4).map(|b| format!("{b:02x}")).collect()
}

/// Writes a private key or PKCS#12 file readable by its owner only, from the start: the
/// contents go into a new file created with mode 0600 in the same folder, which then
/// replaces `path` (a rename). No moment exists at which the key is in a file others can
/// read, an earlier file at `path` (its mode, a reader holding it open, a symlink) never
/// sees the new contents, and an interrupted run leaves the old file or the new one.
fn write_private(path: &Path, contents: &[u8]) -> Result<(), CliError> {
    use std::io::Write;
    let e = |e: std::io::Error| err(&path.display().to_string(), e);
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".certclaims-mint-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(fs::Permissions::from_mode(0o600));
    }
    let mut file = builder.tempfile_in(dir).map_err(e)?;
    file.write_all(contents).map_err(e)?;
    file.as_file().sync_all().map_err(e)?;
    file.persist(path).map_err(|p| e(p.error))?;
    Ok(())
}

fn write(path: &Path, contents: &[u8]) -> Result<(), CliError> {
    fs::write(path, contents).map_err(|e| err(&path.display().to_string(), e))
}

impl DevCa {
    /// Loads the CA of `dir`, or creates one.
    pub(crate) fn open_or_create(dir: &Path) -> Result<Self, CliError> {
        fs::create_dir_all(dir).map_err(|e| err(&dir.display().to_string(), e))?;
        let (cert_path, key_path) = (dir.join("ca.pem"), dir.join("ca.key"));
        // One without the other: minting a new CA would overwrite ca.pem while policy.json
        // and server.pem still belong to the old one.
        if cert_path.exists() != key_path.exists() {
            let (present, missing) = if cert_path.exists() {
                (&cert_path, &key_path)
            } else {
                (&key_path, &cert_path)
            };
            return Err(CliError(format!(
                "{} exists but {} does not: restore it, or mint into an empty folder",
                present.display(),
                missing.display()
            )));
        }
        if cert_path.exists() && key_path.exists() {
            let key_pem = crate::read_string(&key_path, crate::MAX_PEM_BYTES)?;
            let key =
                KeyPair::from_pem(&key_pem).map_err(|e| err(&key_path.display().to_string(), e))?;
            let pem = crate::read_string(&cert_path, crate::MAX_PEM_BYTES)?;
            // The issuer name and key usages are this tool's own constants; only the key and
            // certificate are read back.
            let der = certclaims::Chain::from_pem(pem.as_bytes())
                .map_err(|e| err(&cert_path.display().to_string(), e))?;
            let info = certclaims::inspect(der.leaf())
                .map_err(|e| err(&cert_path.display().to_string(), e))?;
            let cn = info
                .common_name()
                .filter(|cn| cn.starts_with(CA_CN_PREFIX))
                .ok_or_else(|| {
                    CliError(format!(
                        "{}: not a certclaims development CA",
                        cert_path.display()
                    ))
                })?;
            let issuer = Issuer::new(ca_params(cn, unix_now())?, key);
            return Ok(Self { issuer, pem });
        }
        let key = KeyPair::generate().map_err(|e| err("CA key", e))?;
        let tag = {
            use sha2::Digest;
            hex_prefix(&sha2::Sha256::digest(key.public_key_pem().as_bytes()))
        };
        let params = ca_params(&format!("{CA_CN_PREFIX} {tag}"), unix_now())?;
        let cert = params
            .self_signed(&key)
            .map_err(|e| err("CA certificate", e))?;
        let pem = cert.pem();
        write(&cert_path, pem.as_bytes())?;
        write_private(&key_path, key.serialize_pem().as_bytes())?;
        Ok(Self {
            issuer: Issuer::new(params, key),
            pem,
        })
    }

    /// The CA certificate (PEM).
    pub(crate) fn pem(&self) -> &str {
        &self.pem
    }

    fn leaf_params(
        cn: &str,
        not_before: i64,
        not_after: i64,
    ) -> Result<CertificateParams, CliError> {
        let mut p = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::OrganizationName, CA_O);
        dn.push(DnType::CommonName, cn);
        p.distinguished_name = dn;
        p.is_ca = IsCa::ExplicitNoCa;
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        p.use_authority_key_identifier_extension = true;
        p.not_before = dt(not_before)?;
        p.not_after = dt(not_after)?;
        Ok(p)
    }

    /// Issues `DIR/server.pem` + `DIR/server.key` for localhost, 127.0.0.1 and ::1.
    pub(crate) fn issue_server(&self, dir: &Path) -> Result<(), CliError> {
        let now = unix_now();
        let mut p = Self::leaf_params("localhost", now - 3600, now + 365 * 86_400)?;
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        p.subject_alt_names = vec![
            SanType::DnsName("localhost".try_into().map_err(|e| err("SAN", e))?),
            SanType::IpAddress([127, 0, 0, 1].into()),
            SanType::IpAddress(std::net::Ipv6Addr::LOCALHOST.into()),
        ];
        let key = KeyPair::generate().map_err(|e| err("server key", e))?;
        let cert = p
            .signed_by(&key, &self.issuer)
            .map_err(|e| err("server certificate", e))?;
        write(
            &dir.join("server.pem"),
            format!("{}{}", cert.pem(), self.pem).as_bytes(),
        )?;
        write_private(&dir.join("server.key"), key.serialize_pem().as_bytes())
    }

    /// Issues `DIR/NAME.pem` (leaf then CA), `DIR/NAME.key`, `DIR/NAME.p12`.
    pub(crate) fn issue_client(
        &self,
        dir: &Path,
        spec: &ClientSpec,
        p12_password: &str,
    ) -> Result<PathBuf, CliError> {
        if spec.name.is_empty()
            || !spec
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            || spec.name.starts_with('.')
        {
            return Err(CliError(format!(
                "client name {:?}: use letters, digits, '-', '_' and '.'",
                spec.name
            )));
        }
        if ["ca", "server", "policy"].contains(&spec.name.as_str()) {
            return Err(CliError(format!("client name {:?} is reserved", spec.name)));
        }
        let now = unix_now();
        let (nb, na) = spec.validity.unwrap_or((now - 3600, now + 365 * 86_400));
        let mut p = Self::leaf_params(&spec.name, nb, na)?;
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        for uri in &spec.spiffe {
            if !certclaims::policy::is_valid_spiffe_id(uri) {
                return Err(CliError(format!(
                    "--spiffe {uri:?} is not a SPIFFE ID: write spiffe://TRUST-DOMAIN/PATH, \
                     e.g. spiffe://example.org/ns/prod/sa/alice (lower-case trust domain of \
                     letters, digits, '.', '-', '_'; path segments of letters, digits, '.', \
                     '-', '_', not '.' or '..'; no trailing '/', query, port or user)"
                )));
            }
            p.subject_alt_names.push(SanType::URI(
                uri.as_str().try_into().map_err(|e| err("--spiffe", e))?,
            ));
        }
        for d in &spec.dns {
            p.subject_alt_names.push(SanType::DnsName(
                d.as_str().try_into().map_err(|e| err("--dns", e))?,
            ));
        }
        for m in &spec.email {
            p.subject_alt_names.push(SanType::Rfc822Name(
                m.as_str().try_into().map_err(|e| err("--email", e))?,
            ));
        }
        let key = KeyPair::generate().map_err(|e| err("client key", e))?;
        let cert = p
            .signed_by(&key, &self.issuer)
            .map_err(|e| err("client certificate", e))?;
        let pem_path = dir.join(format!("{}.pem", spec.name));
        write(&pem_path, format!("{}{}", cert.pem(), self.pem).as_bytes())?;
        write_private(
            &dir.join(format!("{}.key", spec.name)),
            key.serialize_pem().as_bytes(),
        )?;

        let ca_der = certclaims::Chain::from_pem(self.pem.as_bytes())
            .map_err(|e| err("CA certificate", e))?
            .leaf()
            .to_vec();
        let chain = [cert.der().to_vec(), ca_der]
            .iter()
            .map(|d| p12_keystore::Certificate::from_der(d))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| err("PKCS#12", e))?;
        let pk = p12_keystore::PrivateKey::from_der(&key.serialize_der())
            .map_err(|e| err("PKCS#12 key", e))?;
        let mut store = p12_keystore::KeyStore::new();
        let key_id = {
            use sha2::Digest;
            sha2::Sha256::digest(cert.der()).to_vec()
        };
        store.add_entry(
            &spec.name,
            p12_keystore::KeyStoreEntry::PrivateKeyChain(p12_keystore::PrivateKeyChain::new(
                p12_keystore::LocalKeyId(key_id[..20].to_vec()),
                pk,
                chain,
            )),
        );
        let p12 = store
            .writer(p12_password)
            .write()
            .map_err(|e| err("PKCS#12", e))?;
        write_private(&dir.join(format!("{}.p12", spec.name)), &p12)?;
        Ok(pem_path)
    }

    /// Writes `DIR/policy.json` trusting this CA (kept if it exists).
    pub(crate) fn write_policy(&self, dir: &Path) -> Result<(), CliError> {
        let path = dir.join("policy.json");
        if path.exists() {
            return Ok(());
        }
        let policy = serde_json::json!({
            "version": 1,
            "trust": {"anchors": [self.pem]},
            "identity": {"allow": []},
            "claims": {"issuer": "LOCAL AUTHORITY", "add": []}
        });
        let text = serde_json::to_string_pretty(&policy).map_err(|e| err("policy.json", e))?;
        write(&path, format!("{text}\n").as_bytes())
    }
}

/// The issuer (RFC 4514) of the first certificate of a PEM file, if it holds one.
fn issuer_of(path: &Path) -> Option<String> {
    let pem = crate::read_string(path, crate::MAX_PEM_BYTES).ok()?;
    let chain = certclaims::Chain::from_pem(pem.as_bytes()).ok()?;
    certclaims::inspect(chain.leaf())
        .ok()
        .map(|i| i.issuer().to_string())
}

/// The names of the files of `dir` with one of `extensions`, sorted.
fn files_with(dir: &Path, extensions: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| {
            extensions
                .iter()
                .any(|x| n.strip_suffix(x).is_some_and(|stem| stem.ends_with('.')))
        })
        .collect();
    out.sort();
    out
}

/// `certclaims mint`. Without `force` it never replaces a client's files and never puts
/// certificates of two CAs in one folder: a folder with certificates but no CA, a
/// certificate there issued by another CA, or a client name already issued is an error that
/// says what to do.
pub(crate) fn run(
    dir: &Path,
    clients: &[ClientSpec],
    p12_password: &str,
    force: bool,
) -> Result<(), CliError> {
    let folder = dir.display();
    if !force {
        if !dir.join("ca.pem").exists() && !dir.join("ca.key").exists() {
            let mut present = files_with(dir, &["pem", "key", "p12"]);
            if dir.join("policy.json").exists() {
                present.push("policy.json".into());
            }
            if !present.is_empty() {
                return Err(CliError(format!(
                    "{folder} has no CA (ca.pem, ca.key) but holds {}: a new CA there would mix \
                     two CAs in one folder; mint into an empty folder, restore the CA, or pass \
                     --force",
                    present.join(", ")
                )));
            }
        }
        for spec in clients {
            let taken: Vec<String> = ["pem", "key", "p12"]
                .iter()
                .map(|x| format!("{}.{x}", spec.name))
                .filter(|n| dir.join(n).exists())
                .collect();
            if !taken.is_empty() {
                return Err(CliError(format!(
                    "{folder}/{} already exists: client {:?} was issued before; choose another \
                     --client name, or pass --force to issue a new key and certificate in its \
                     place",
                    taken.join(", "),
                    spec.name
                )));
            }
        }
    }
    let ca = DevCa::open_or_create(dir)?;
    let ca_subject = certclaims::Chain::from_pem(ca.pem.as_bytes())
        .ok()
        .and_then(|c| certclaims::inspect(c.leaf()).ok())
        .map(|i| i.subject().to_string())
        .unwrap_or_default();
    let foreign: Vec<String> = files_with(dir, &["pem"])
        .into_iter()
        .filter(|n| n != "ca.pem")
        .filter(|n| issuer_of(&dir.join(n)).is_some_and(|i| i != ca_subject))
        .collect();
    if !foreign.is_empty() && !force {
        return Err(CliError(format!(
            "{folder}: {} issued by another CA than {folder}/ca.pem ({ca_subject}): one folder \
             holds one CA's certificates; mint into another folder, or pass --force",
            foreign.join(", ")
        )));
    }
    let server_is_foreign = foreign.iter().any(|n| n == "server.pem");
    if server_is_foreign || !dir.join("server.pem").exists() || !dir.join("server.key").exists() {
        ca.issue_server(dir)?;
    }
    for spec in clients {
        let path = ca.issue_client(dir, spec, p12_password)?;
        eprintln!("issued {}", path.display());
    }
    ca.write_policy(dir)?;
    eprintln!(
        "PKI in {}: ca.pem, server.pem/.key, policy.json",
        dir.display()
    );
    Ok(())
}
