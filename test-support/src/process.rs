//! Bounded process runners: no test hangs on a child process.

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Longest an external tool (`openssl`, `curl`) may run before it is killed.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(20);

/// Longest a `certclaims` command may run (`demo` does a whole PKI and five handshakes).
pub const CERTCLAIMS_TIMEOUT: Duration = Duration::from_secs(120);

/// Runs `cmd` with `stdin` as its standard input and [`COMMAND_TIMEOUT`] as its bound.
pub fn run(cmd: &mut Command, stdin: &[u8]) -> Output {
    run_with_timeout(cmd, stdin, COMMAND_TIMEOUT)
}

/// Runs `cmd` with `stdin` as its standard input, collecting stdout and stderr; kills it and
/// panics if it outlives `timeout`.
pub fn run_with_timeout(cmd: &mut Command, stdin: &[u8], timeout: Duration) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "spawn {cmd:?}: {e} (openssl, curl and the proxies are Debian packages \
                 that ./scripts/test.sh installs)"
            )
        });
    let mut input = child.stdin.take().expect("stdin");
    let data = stdin.to_vec();
    // Threads, so that a child that writes a lot before reading cannot deadlock us.
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let reader = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            buf
        })
    };
    let out = reader(Box::new(child.stdout.take().expect("stdout")));
    let err = reader(Box::new(child.stderr.take().expect("stderr")));
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} did not finish within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = writer.join();
    Output {
        status,
        stdout: out.join().expect("stdout reader"),
        stderr: err.join().expect("stderr reader"),
    }
}

/// `openssl ARGS...` in the current directory (bounded); the caller checks the status.
pub fn openssl(args: &[&str]) -> Output {
    run(Command::new("openssl").args(args), b"")
}

/// `openssl ARGS...` in `dir` (bounded), which must succeed.
pub fn openssl_in(dir: &Path, args: &[&str]) -> Output {
    let out = run(Command::new("openssl").current_dir(dir).args(args), b"");
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        text(&out.stderr)
    );
    out
}

/// `curl -q -sS --noproxy '*' --max-time 10 ARGS...` (bounded; no `~/.curlrc`, no proxy
/// from the environment); the caller checks the status.
pub fn curl(args: &[&str]) -> Output {
    // -q must come first.
    let mut cmd = Command::new("curl");
    cmd.args(["-q", "-sS", "--noproxy", "*", "--max-time", "10"])
        .args(args);
    run(&mut cmd, b"")
}

/// The `certclaims` binary at `bin` (tests of the cli crate pass
/// `env!("CARGO_BIN_EXE_certclaims")`) with `args`, bounded by [`CERTCLAIMS_TIMEOUT`].
/// Use [`run_with_timeout`] for another directory or standard input.
pub fn certclaims(bin: impl AsRef<OsStr>, args: &[&str]) -> Output {
    run_with_timeout(Command::new(bin).args(args), b"", CERTCLAIMS_TIMEOUT)
}

/// The JSON document on `out`'s stdout; panics with stdout and stderr if it is not one.
pub fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            text(&out.stdout),
            text(&out.stderr)
        )
    })
}

/// Bytes as text (lossy UTF-8).
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A path as a `&str` argument (test paths are UTF-8).
pub fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn stdin_reaches_the_child_and_output_comes_back() {
        let out = run(&mut Command::new("cat"), b"hello");
        assert!(out.status.success());
        assert_eq!(out.stdout, b"hello");
    }

    #[test]
    fn a_child_that_outlives_its_bound_is_killed() {
        let started = Instant::now();
        let result = std::panic::catch_unwind(|| {
            run_with_timeout(
                Command::new("sleep").arg("30"),
                b"",
                Duration::from_millis(200),
            )
        });
        let message = result.err().unwrap();
        let message = message.downcast_ref::<String>().unwrap();
        assert!(message.contains("did not finish within 200ms"), "{message}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn json_of_stdout() {
        let out = run(Command::new("echo").arg(r#"{"a": 1}"#), b"");
        assert_eq!(json(&out)["a"], 1);
    }
}
