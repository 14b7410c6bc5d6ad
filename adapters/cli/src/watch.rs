//! `serve`'s file watch: a change of the policy, a file it names, or the server's
//! certificate or key reloads them (debounced), as SIGHUP does.
//!
//! The directories holding the files are watched, not the files: editors replace a file by
//! renaming a new one over it, and Kubernetes swaps a mounted ConfigMap or Secret by renaming
//! a symlink, which no watch on the old file would see. Each burst of events (debounced for
//! [`DEBOUNCE`]) compares the files' contents with the last reload's, so that a touch, an
//! unrelated file in the same directory or a save without change reloads nothing.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use notify_debouncer_mini::notify::RecursiveMode;
use sha2::{Digest, Sha256};

/// How long the files must stay quiet before a reload.
pub(crate) const DEBOUNCE: Duration = Duration::from_millis(400);

/// The most bytes of a watched file read to fingerprint it.
const MAX_BYTES: u64 = 16 * 1024 * 1024;

/// What the watch calls: reloads everything and returns the files the new state was read
/// from (which a new policy may have changed).
pub(crate) type Reload = std::sync::Arc<dyn Fn(&str) -> Option<Vec<PathBuf>> + Send + Sync>;

/// The contents of `files` as last seen: the SHA-256 of each (`None`: unreadable).
fn fingerprint(files: &[PathBuf]) -> Vec<(PathBuf, Option<[u8; 32]>)> {
    files
        .iter()
        .map(|f| {
            let digest = std::fs::File::open(f).ok().and_then(|file| {
                use std::io::Read;
                let mut bytes = Vec::new();
                file.take(MAX_BYTES).read_to_end(&mut bytes).ok()?;
                Some(Sha256::digest(&bytes).into())
            });
            (f.clone(), digest)
        })
        .collect()
}

fn directory_of(file: &Path) -> PathBuf {
    match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Watches the directories of `files` on a thread of its own; after each debounced burst of
/// changes whose files' contents differ from the last reload's, calls `reload` and watches
/// the files it returns. Failing to set up the watch is logged, and SIGHUP still works.
pub(crate) fn spawn(files: Vec<PathBuf>, reload: Reload) {
    let (tx, rx) = std::sync::mpsc::channel();
    let mut debouncer = match notify_debouncer_mini::new_debouncer(DEBOUNCE, tx) {
        Ok(d) => d,
        Err(e) => {
            tracing::error!(error = %e, "cannot watch files ({e}); reload with SIGHUP");
            return;
        }
    };
    let mut watched: BTreeSet<PathBuf> = BTreeSet::new();
    let mut watch = move |debouncer: &mut notify_debouncer_mini::Debouncer<_>,
                          files: &[PathBuf]| {
        for dir in files.iter().map(|f| directory_of(f)) {
            if watched.contains(&dir) {
                continue;
            }
            match debouncer.watcher().watch(&dir, RecursiveMode::NonRecursive) {
                Ok(()) => {
                    watched.insert(dir);
                }
                Err(e) => tracing::error!(
                    error = %e,
                    "cannot watch {} ({e}); reload with SIGHUP after changing files there",
                    dir.display()
                ),
            }
        }
    };
    watch(&mut debouncer, &files);
    let mut seen = fingerprint(&files);
    std::thread::spawn(move || {
        while let Ok(events) = rx.recv() {
            if events.is_err() {
                continue;
            }
            let files: Vec<PathBuf> = seen.iter().map(|(f, _)| f.clone()).collect();
            let now = fingerprint(&files);
            if now == seen {
                continue;
            }
            seen = now;
            if let Some(files) = reload("files changed") {
                watch(&mut debouncer, &files);
                seen = fingerprint(&files);
            }
        }
    });
}
