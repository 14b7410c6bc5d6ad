//! A policy file and the files it points at.
//!
//! `trust.anchors`, `trust.intermediates` and `trust.crls` entries are inline PEM or a path,
//! relative to the policy file, of a PEM bundle or a DER certificate / CRL. The core (and the
//! edge package, which has no file system) only sees PEM: this module reads the files, gives
//! the core one entry per certificate or CRL, and remembers where each came from, so that a
//! bad one is named by the policy entry and the file (or the command-line flag) it came from.

use std::path::{Path, PathBuf};

use certclaims::pki_types::pem::PemObject;
use certclaims::pki_types::{CertificateDer, CertificateRevocationListDer};
use certclaims::{Policy, PolicyError};

use crate::CliError;

/// The most bytes of a certificate file a policy or a flag points at (a large CA bundle fits
/// several times).
const MAX_CERTIFICATES_BYTES: u64 = crate::MAX_PEM_BYTES;
/// The most bytes of a CRL file (a large CA's CRL).
const MAX_CRL_FILE_BYTES: u64 = crate::MAX_POLICY_BYTES;

/// Where one entry of a resolved trust list came from.
#[derive(Debug, Clone)]
enum Origin {
    /// Inline PEM, entry `entry` of the policy's list.
    Inline { entry: usize },
    /// Object `nth` (1-based) of `of` in the file named by entry `entry` of the list.
    File {
        entry: usize,
        path: PathBuf,
        nth: usize,
        of: usize,
    },
    /// Object `nth` of `of` in a file given with a command-line flag.
    Flag {
        flag: &'static str,
        path: PathBuf,
        nth: usize,
        of: usize,
    },
}

/// The three lists of the policy that may point at files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum List {
    Anchors,
    Intermediates,
    Crls,
}

impl List {
    fn field(self) -> &'static str {
        match self {
            Self::Anchors => "trust.anchors",
            Self::Intermediates => "trust.intermediates",
            Self::Crls => "trust.crls",
        }
    }
    /// The PEM label and the name of one object of the list.
    fn kind(self) -> (&'static str, &'static str) {
        match self {
            Self::Crls => ("X509 CRL", "CRL"),
            _ => ("CERTIFICATE", "certificate"),
        }
    }
}

/// A policy read from a file, its trust lists resolved to inline PEM.
#[derive(Debug, Clone)]
pub(crate) struct PolicyFile {
    path: PathBuf,
    /// The policy the core sees: every trust list entry is one PEM block.
    pub(crate) policy: Policy,
    anchors: Vec<Origin>,
    intermediates: Vec<Origin>,
    crls: Vec<Origin>,
    /// Every file read: the policy and what it points at (a reload watches them).
    pub(crate) files: Vec<PathBuf>,
}

impl PolicyFile {
    /// Reads `path` and every file its trust lists name.
    pub(crate) fn load(path: &Path) -> Result<Self, CliError> {
        let policy = crate::read_policy(path)?;
        let mut me = Self {
            path: path.to_path_buf(),
            policy: policy.clone(),
            anchors: Vec::new(),
            intermediates: Vec::new(),
            crls: Vec::new(),
            files: vec![path.to_path_buf()],
        };
        let base = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        for list in [List::Anchors, List::Intermediates, List::Crls] {
            let entries = match list {
                List::Anchors => &policy.trust.anchors,
                List::Intermediates => &policy.trust.intermediates,
                List::Crls => &policy.trust.crls,
            };
            let mut resolved = Vec::new();
            let mut origins = Vec::new();
            for (entry, text) in entries.iter().enumerate() {
                if text.contains("-----BEGIN") {
                    resolved.push(text.clone());
                    origins.push(Origin::Inline { entry });
                    continue;
                }
                let name = text.trim();
                if name.is_empty() {
                    return Err(CliError(format!(
                        "{}: invalid policy field `{}[{entry}]`: empty: write inline PEM or the \
                         path of a file",
                        path.display(),
                        list.field()
                    )));
                }
                let file = base.join(name);
                let objects = read_objects(&file, list).map_err(|why| {
                    let hint = if file.exists() {
                        ""
                    } else {
                        " (a path is relative to the policy file; inline PEM starts with \
                         -----BEGIN)"
                    };
                    CliError(format!(
                        "{}: invalid policy field `{}[{entry}]`: {why}{hint}",
                        path.display(),
                        list.field()
                    ))
                })?;
                let of = objects.len();
                for (k, pem) in objects.into_iter().enumerate() {
                    resolved.push(pem);
                    origins.push(Origin::File {
                        entry,
                        path: file.clone(),
                        nth: k + 1,
                        of,
                    });
                }
                me.files.push(file);
            }
            me.set(list, resolved, origins);
        }
        Ok(me)
    }

    fn set(&mut self, list: List, resolved: Vec<String>, origins: Vec<Origin>) {
        let (target, o) = match list {
            List::Anchors => (&mut self.policy.trust.anchors, &mut self.anchors),
            List::Intermediates => (
                &mut self.policy.trust.intermediates,
                &mut self.intermediates,
            ),
            List::Crls => (&mut self.policy.trust.crls, &mut self.crls),
        };
        *target = resolved;
        *o = origins;
    }

    /// Adds the certificates of a file given with a command-line flag (`--anchor FILE`) to a
    /// list; a file that holds none is blamed on the flag.
    pub(crate) fn add_file(
        &mut self,
        list: List,
        flag: &'static str,
        file: &Path,
    ) -> Result<(), CliError> {
        let objects = read_objects(file, list).map_err(|why| CliError(format!("{flag}: {why}")))?;
        let of = objects.len();
        let (target, origins) = match list {
            List::Anchors => (&mut self.policy.trust.anchors, &mut self.anchors),
            List::Intermediates => (
                &mut self.policy.trust.intermediates,
                &mut self.intermediates,
            ),
            List::Crls => (&mut self.policy.trust.crls, &mut self.crls),
        };
        for (k, pem) in objects.into_iter().enumerate() {
            target.push(pem);
            origins.push(Origin::Flag {
                flag,
                path: file.to_path_buf(),
                nth: k + 1,
                of,
            });
        }
        self.files.push(file.to_path_buf());
        Ok(())
    }

    /// A core error about the resolved policy, said of the policy entry, the file or the
    /// flag it came from.
    pub(crate) fn error(&self, e: &PolicyError) -> CliError {
        let policy = self.path.display();
        let PolicyError::Invalid { field, reason } = e else {
            return CliError(format!("{policy}: {e}"));
        };
        for (list, origins) in [
            (List::Anchors, &self.anchors),
            (List::Intermediates, &self.intermediates),
            (List::Crls, &self.crls),
        ] {
            let Some(n) = field
                .strip_prefix(list.field())
                .and_then(|r| r.strip_prefix('['))
                .and_then(|r| r.strip_suffix(']'))
                .and_then(|r| r.parse::<usize>().ok())
            else {
                continue;
            };
            let (_, what) = list.kind();
            // The core names the object it parsed by its place in the resolved list, which
            // is not a place the operator wrote.
            let reason = reason.replace(&format!("{field}: "), "");
            let nth = |nth: usize, of: usize| {
                if of > 1 {
                    format!(", {what} {nth} of {of}")
                } else {
                    String::new()
                }
            };
            return CliError(match origins.get(n) {
                Some(Origin::Inline { entry }) => {
                    format!(
                        "{policy}: invalid policy field `{}[{entry}]`: {reason}",
                        list.field()
                    )
                }
                Some(Origin::File {
                    entry,
                    path,
                    nth: k,
                    of,
                }) => format!(
                    "{policy}: invalid policy field `{}[{entry}]` ({}{}): {reason}",
                    list.field(),
                    path.display(),
                    nth(*k, *of)
                ),
                Some(Origin::Flag {
                    flag,
                    path,
                    nth: k,
                    of,
                }) => format!("{flag} {}{}: {reason}", path.display(), nth(*k, *of)),
                None => format!("{policy}: {e}"),
            });
        }
        CliError(format!("{policy}: {e}"))
    }

    /// Where object `n` of a resolved list came from: `inline` or the file's path.
    pub(crate) fn source(&self, list: List, n: usize) -> String {
        let origins = match list {
            List::Anchors => &self.anchors,
            List::Intermediates => &self.intermediates,
            List::Crls => &self.crls,
        };
        match origins.get(n) {
            Some(Origin::Inline { entry }) => format!("{}[{entry}] (inline)", list.field()),
            Some(Origin::File { entry, path, .. }) => {
                format!("{}[{entry}] ({})", list.field(), path.display())
            }
            Some(Origin::Flag { flag, path, .. }) => format!("{flag} {}", path.display()),
            None => "?".into(),
        }
    }

    /// The policy file's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Builds something from the resolved policy (a validator), its errors said by
    /// [`PolicyFile::error`].
    pub(crate) fn build<T>(
        &self,
        f: impl FnOnce(&Policy) -> Result<T, PolicyError>,
    ) -> Result<T, CliError> {
        f(&self.policy).map_err(|e| self.error(&e))
    }
}

/// The certificates (or CRLs) of one file, each as one PEM block: a PEM bundle, or one DER
/// object. The error says what is wrong with the file, without naming it.
fn read_objects(file: &Path, list: List) -> Result<Vec<String>, String> {
    let (label, what) = list.kind();
    let limit = match list {
        List::Crls => MAX_CRL_FILE_BYTES,
        _ => MAX_CERTIFICATES_BYTES,
    };
    let bytes = crate::read_limited(file, limit).map_err(|e| e.0)?;
    let pem_block = |der: &[u8]| pem::encode(&pem::Pem::new(label, der.to_vec()));
    if bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        let mut out = Vec::new();
        if list == List::Crls {
            for item in CertificateRevocationListDer::pem_slice_iter(&bytes) {
                let der = item.map_err(|e| format!("{}: bad PEM: {e}", file.display()))?;
                out.push(pem_block(der.as_ref()));
            }
        } else {
            for item in CertificateDer::pem_slice_iter(&bytes) {
                let der = item.map_err(|e| format!("{}: bad PEM: {e}", file.display()))?;
                out.push(pem_block(der.as_ref()));
            }
        }
        if out.is_empty() {
            return Err(format!(
                "{} holds no {what} (no -----BEGIN {label}----- block)",
                file.display()
            ));
        }
        return Ok(out);
    }
    if bytes.first() == Some(&0x30) {
        return Ok(vec![pem_block(&bytes)]);
    }
    Err(format!(
        "{} holds no {what}: expected PEM (-----BEGIN {label}-----) or DER",
        file.display()
    ))
}
