//! Regression tests for issue 12: the CLI reads at most its limit plus one byte of any input
//! (defect 8), `certclaims serve` answers every method on every path with JSON and one log
//! line (defect 9), and `mint` puts private keys only in files created 0600 (defect 10).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_certclaims");
const MIB: u64 = 1024 * 1024;

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Runs the binary with `stdin` fed from `feed` (a writer thread; its write errors ignored),
/// killing it after `deadline`. Returns (exit code, stdout, stderr).
fn run_with(
    args: &[&str],
    feed: impl FnOnce(std::process::ChildStdin) + Send + 'static,
    deadline: Duration,
) -> (Option<i32>, String, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn certclaims");
    let stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || feed(stdin));
    let collect = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = r.read_to_end(&mut v);
            String::from_utf8_lossy(&v).into_owned()
        })
    };
    let out = collect(Box::new(child.stdout.take().expect("stdout")));
    let err = collect(Box::new(child.stderr.take().expect("stderr")));
    let end = Instant::now() + deadline;
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait") {
            break st;
        }
        if Instant::now() > end {
            let _ = child.kill();
            let _ = child.wait();
            panic!("certclaims {args:?} still running after {deadline:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = writer.join();
    (status.code(), out.join().unwrap(), err.join().unwrap())
}

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    run_with(args, drop, Duration::from_secs(30))
}

fn minted() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("pki");
    let (code, _, err) = run(&["mint", "--out", s(&dir), "--client", "alice"]);
    assert_eq!(code, Some(0), "{err}");
    (tmp, dir)
}

// --- Defect 8: at most limit + 1 bytes of every input ----------------------------------------

#[test]
fn stdin_is_read_only_up_to_the_limit_plus_one_byte() {
    let (_tmp, dir) = minted();
    let written = Arc::new(AtomicU64::new(0));
    let counter = written.clone();
    // 64 MiB offered; the CLI must stop reading after 1 MiB + 1 byte and answer malformed.
    let feed = move |mut stdin: std::process::ChildStdin| {
        let chunk = vec![b'A'; 64 * 1024];
        for _ in 0..1024 {
            if stdin.write_all(&chunk).is_err() {
                return;
            }
            counter.fetch_add(chunk.len() as u64, Ordering::SeqCst);
        }
    };
    let policy = dir.join("policy.json");
    let (code, out, err) = run_with(
        &["verify", "--policy", s(&policy), "-"],
        feed,
        Duration::from_secs(60),
    );
    assert_eq!(code, Some(1), "{err}");
    let rejection: Value = serde_json::from_str(&out).expect("rejection JSON");
    assert_eq!(rejection["error"]["code"], "malformed", "{rejection}");
    // What the writer got rid of: what the CLI read, plus what the pipe buffers held.
    let n = written.load(Ordering::SeqCst);
    assert!(n <= 2 * MIB, "the CLI consumed {n} bytes of standard input");
}

#[test]
fn endless_inputs_end_at_the_limit() {
    let (_tmp, dir) = minted();
    let policy = dir.join("policy.json");
    let zero = "/dev/zero";
    let quick = Duration::from_secs(60);

    // A chain or a certificate to inspect: malformed, exit 1.
    for args in [
        vec!["verify", "--policy", s(&policy), zero],
        vec!["inspect", zero],
    ] {
        let (code, out, err) = run_with(&args, drop, quick);
        assert_eq!(code, Some(1), "{args:?}: {err}");
        let rejection: Value = serde_json::from_str(&out).expect("rejection JSON");
        assert_eq!(rejection["error"]["code"], "malformed", "{args:?}");
    }
    // A policy or an anchor: a configuration error naming the limit, exit 2.
    let chain = dir.join("alice.pem");
    for (args, limit, blame) in [
        (vec!["verify", "--policy", zero, s(&chain)], 64 * MIB, ""),
        (
            vec![
                "verify",
                "--policy",
                s(&policy),
                "--anchor",
                zero,
                s(&chain),
            ],
            MIB,
            "--anchor: ",
        ),
    ] {
        let (code, out, err) = run_with(&args, drop, quick);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert_eq!(out, "");
        assert_eq!(
            err,
            format!("certclaims: {blame}/dev/zero: larger than the limit of {limit} bytes\n")
        );
    }
    // At the limit exactly, an input is read and judged as usual.
    let tmp = tempfile::tempdir().unwrap();
    let big = tmp.path().join("big.pem");
    let mut pem = std::fs::read(&chain).unwrap();
    pem.resize(MIB as usize, b'\n');
    std::fs::write(&big, &pem).unwrap();
    let (code, out, err) = run(&["verify", "--policy", s(&policy), s(&big)]);
    assert_eq!(code, Some(0), "{out}{err}");
    pem.push(b'\n');
    std::fs::write(&big, &pem).unwrap();
    let (code, out, _) = run(&["verify", "--policy", s(&policy), s(&big)]);
    assert_eq!(code, Some(1));
    assert!(out.contains("\"malformed\""), "{out}");
}

// --- Defect 10 (mint part): key files are 0600 from the start --------------------------------

#[cfg(unix)]
#[test]
fn mint_never_writes_a_key_into_a_file_others_can_read() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("pki");
    std::fs::create_dir(&dir).unwrap();
    // Files that already exist, readable by everyone, one held open by a reader, one a
    // symlink to a file outside the folder.
    let key = dir.join("alice.key");
    std::fs::write(&key, "old\n").unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut reader = std::fs::File::open(&key).unwrap();
    let old_inode = std::fs::metadata(&key).unwrap().ino();
    let outside = tmp.path().join("outside.txt");
    std::fs::write(&outside, "not a key\n").unwrap();
    std::fs::set_permissions(&outside, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::os::unix::fs::symlink(&outside, dir.join("alice.p12")).unwrap();

    // Without --force mint refuses to replace them (and to mint a CA beside them).
    let (code, _, err) = run(&["mint", "--out", s(&dir), "--client", "alice"]);
    assert_eq!(code, Some(2), "{err}");
    let (code, _, err) = run(&["mint", "--out", s(&dir), "--client", "alice", "--force"]);
    assert_eq!(code, Some(0), "{err}");

    // The reader of the old file never sees the new key.
    let mut seen = String::new();
    reader.read_to_string(&mut seen).unwrap();
    assert_eq!(seen, "old\n");
    assert_ne!(std::fs::metadata(&key).unwrap().ino(), old_inode);
    // The symlink's target is untouched; the .p12 is a file of its own.
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "not a key\n");
    assert!(std::fs::symlink_metadata(dir.join("alice.p12"))
        .unwrap()
        .file_type()
        .is_file());
    for name in ["ca.key", "server.key", "alice.key", "alice.p12"] {
        let meta = std::fs::symlink_metadata(dir.join(name)).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{name}");
    }
    assert!(std::fs::read_to_string(&key)
        .unwrap()
        .starts_with("-----BEGIN PRIVATE KEY-----"));
    // No temporary file is left behind.
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "alice.key",
            "alice.p12",
            "alice.pem",
            "ca.key",
            "ca.pem",
            "policy.json",
            "server.key",
            "server.pem"
        ]
    );
}

// --- Defect 9: every method on every path answers JSON, with one log line --------------------

struct Server {
    child: Child,
    port: u16,
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start(dir: &Path) -> Self {
        let mut child = Command::new(BIN)
            .args(["serve", "--policy", s(&dir.join("policy.json"))])
            .args(["--tls-cert", s(&dir.join("server.pem"))])
            .args(["--tls-key", s(&dir.join("server.key"))])
            .args(["--listen", "127.0.0.1:0", "--mode", "allow"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn certclaims serve");
        let stderr = child.stderr.take().expect("stderr");
        let log: Arc<Mutex<Vec<String>>> = Arc::default();
        let (tx, rx) = mpsc::channel();
        {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    log.lock().unwrap().push(line.clone());
                    let _ = tx.send(line);
                }
            });
        }
        let mut server = Self {
            child,
            port: 0,
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while server.port == 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = rx
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("serve did not start: {:?}", server.lines()));
            if let Some(rest) = line.strip_prefix("certclaims serve: https://127.0.0.1:") {
                server.port = rest.split(' ').next().unwrap().parse().unwrap();
            }
        }
        server
    }

    fn lines(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Waits (up to 10 s) until `n` log lines contain `part`, then gives them.
    fn lines_with(&self, part: &str, n: usize) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let found: Vec<String> = self
                .lines()
                .into_iter()
                .filter(|l| l.contains(part))
                .collect();
            if found.len() >= n || Instant::now() > deadline {
                return found;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `curl -X METHOD https://localhost:PORT/PATH` without a client certificate: (status, body).
fn curl(server: &Server, dir: &Path, method: &str, path: &str) -> (u16, String) {
    let port = server.port;
    let out = Command::new("curl")
        .args(["-q", "-sS", "--noproxy", "*", "--max-time", "10"])
        .args(["--resolve", &format!("localhost:{port}:127.0.0.1")])
        .args(["--cacert", s(&dir.join("ca.pem"))])
        .args(["-X", method, "-w", "\n%{http_code}"])
        .arg(format!("https://localhost:{port}{path}"))
        .output()
        .expect("curl (a Debian package the README's test command installs)");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, status) = stdout.rsplit_once('\n').unwrap_or(("", &stdout));
    (status.trim().parse().unwrap_or(0), body.to_string())
}

#[test]
fn serve_answers_every_method_on_every_path_with_json_and_one_log_line() {
    let (_tmp, dir) = minted();
    let server = Server::start(&dir);
    // Ready once /healthz answers.
    let deadline = Instant::now() + Duration::from_secs(10);
    while curl(&server, &dir, "GET", "/healthz").0 != 200 {
        assert!(Instant::now() < deadline, "{:?}", server.lines());
        std::thread::sleep(Duration::from_millis(100));
    }
    let no_certificate = serde_json::json!({"error": {
        "code": "no_certificate",
        "message": "no client certificate was presented",
        "step": "input",
    }});
    for (method, path) in [
        ("POST", "/healthz"),
        ("PUT", "/healthz"),
        ("DELETE", "/healthz"),
        ("OPTIONS", "/healthz"),
        ("PATCH", "/whoami"),
        ("POST", "/"),
        ("BREW", "/any/path"),
    ] {
        let (status, body) = curl(&server, &dir, method, path);
        assert_eq!(status, 401, "{method} {path}: {body}");
        let json: Value = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("{method} {path}: not JSON ({e}): {body:?}"));
        assert_eq!(json["error"]["code"], no_certificate["error"]["code"]);
        assert_eq!(json["error"]["step"], "input");
        let line = format!("{method} {path} 401 no_certificate");
        let lines = server.lines_with(&line, 1);
        assert_eq!(lines.len(), 1, "{:#?}", server.lines());
        // `<timestamp>  INFO <line> peer=… method=… path=… status=401 outcome=no_certificate`
        assert!(
            lines[0].contains(&format!("Z  INFO {line} peer=127.0.0.1:"))
                && lines[0].contains(" status=401 outcome=no_certificate "),
            "{lines:?}"
        );
    }
    // GET /healthz keeps its answer and logs once per request.
    // Every GET /healthz answered 200 so far (the readiness loop's one and this one) has
    // its line; wait for both before counting, since log lines arrive after the answers.
    let (status, body) = curl(&server, &dir, "GET", "/healthz");
    assert_eq!((status, body.trim()), (200, "ok"));
    assert_eq!(server.lines_with("GET /healthz 200 healthz", 2).len(), 2);
    curl(&server, &dir, "GET", "/healthz");
    assert_eq!(server.lines_with("GET /healthz 200 healthz", 3).len(), 3);
}
