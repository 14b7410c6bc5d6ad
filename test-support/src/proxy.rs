//! Real TLS-terminating reverse proxies (nginx, Apache httpd, HAProxy, Caddy) for
//! end-to-end tests of client certificates forwarded in a header.
//!
//! Each [`Proxy`] is the real binary from Debian, run in the foreground with a configuration
//! written into its own temporary directory (pid, logs, runtime and temp files, Caddy's
//! storage and `HOME` too: nothing under `/etc` or `/var` is read or written, and a system
//! service of the same program may or may not be running). It terminates TLS on
//! `127.0.0.1:PORT` with the given server certificate, requests client certificates and
//! verifies them against `client_ca`, and forwards every request over plain HTTP/1.1 to the
//! upstream, setting exactly the configured headers and removing any client-sent header of
//! the same name first, so a client cannot inject them. The process is killed on drop.
//!
//! Source address of the upstream connection ([`ProxyConfig::with_source_addr`]):
//!
//! | proxy | how | supported |
//! |---|---|---|
//! | nginx 1.22 | `proxy_bind ADDR;` | yes |
//! | Apache httpd 2.4 (Debian) | `ProxySourceAddress ADDR` (mod_proxy) | yes |
//! | HAProxy 2.6 | `server ... source ADDR` | yes |
//! | Caddy 2.6 | none: the `http` transport has no `local_address` before Caddy 2.7 (the Caddyfile parser rejects it: "unrecognized subdirective local_address") | no: connects from 127.0.0.1 |
//!
//! [`Proxy::source_addr`] is the address the upstream actually sees.

use std::fmt::Write as _;
use std::fs::File;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::net::{free_addr, LOOPBACK};

/// How long [`Proxy::start`] waits for the listen port to accept.
pub const START_TIMEOUT: Duration = Duration::from_secs(10);

/// Set to `1` to skip the proxy tests on a machine without the proxies (otherwise a missing
/// binary fails the test: `./scripts/test.sh` installs them).
pub const SKIP_ENV: &str = "CERTCLAIMS_SKIP_PROXIES";

/// Which proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProxyKind {
    /// nginx (`/usr/sbin/nginx`).
    Nginx,
    /// Apache httpd (`/usr/sbin/apache2`) with mod_ssl, mod_proxy_http and mod_headers.
    Apache,
    /// HAProxy (`haproxy`).
    Haproxy,
    /// Caddy (`caddy`).
    Caddy,
}

impl ProxyKind {
    /// Every kind.
    pub const ALL: [Self; 4] = [Self::Nginx, Self::Apache, Self::Haproxy, Self::Caddy];

    /// The program run (found on `PATH`, or at Debian's path for Apache).
    pub fn binary(self) -> &'static str {
        match self {
            Self::Nginx => "nginx",
            Self::Apache => "apache2",
            Self::Haproxy => "haproxy",
            Self::Caddy => "caddy",
        }
    }

    /// Whether this proxy can connect to the upstream from a chosen local address.
    pub fn supports_source_addr(self) -> bool {
        !matches!(self, Self::Caddy)
    }

    /// The proxy-native expression for the verified client certificate (the leaf), and how
    /// it is encoded in the header.
    pub fn client_cert_expression(self) -> (&'static str, CertEncoding) {
        match self {
            Self::Nginx => ("$ssl_client_escaped_cert", CertEncoding::UrlEncodedPem),
            Self::Apache => ("%{SSL_CLIENT_CERT}s", CertEncoding::Pem),
            Self::Haproxy => ("%[ssl_c_der,base64]", CertEncoding::Base64Der),
            Self::Caddy => (
                "{http.request.tls.client.certificate_der_base64}",
                CertEncoding::Base64Der,
            ),
        }
    }

    fn path(self) -> PathBuf {
        match self {
            Self::Apache => {
                let debian = Path::new("/usr/sbin/apache2");
                if debian.exists() {
                    return debian.to_path_buf();
                }
                find_on_path("apache2").unwrap_or_else(|| debian.to_path_buf())
            }
            other => find_on_path(other.binary())
                .or_else(|| {
                    let sbin = Path::new("/usr/sbin").join(other.binary());
                    sbin.exists().then_some(sbin)
                })
                .unwrap_or_else(|| PathBuf::from(other.binary())),
        }
    }
}

impl std::fmt::Display for ProxyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Nginx => "nginx",
            Self::Apache => "apache",
            Self::Haproxy => "haproxy",
            Self::Caddy => "caddy",
        })
    }
}

/// How a proxy's certificate expression encodes the certificate in a header value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertEncoding {
    /// PEM, percent-encoded (nginx `$ssl_client_escaped_cert`).
    UrlEncodedPem,
    /// PEM as is (Apache `%{SSL_CLIENT_CERT}s`); line breaks may arrive as spaces. Without a
    /// client certificate (optional mode) Apache sends the header as `(null)`.
    Pem,
    /// Base64 of the DER, no armour, one line (HAProxy, Caddy). Without a client certificate
    /// (optional mode) HAProxy sends an empty value and Caddy 2.6 the placeholder's own text
    /// (`{http.request.tls.client.certificate_der_base64}`): not base64, never the client's.
    Base64Der,
}

/// Whether the proxy requires a client certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerifyClient {
    /// A client without a valid certificate is refused (in the handshake, or with an HTTP
    /// error before anything is forwarded: nginx answers 400).
    Require,
    /// A certificate is requested and verified if presented; clients without one pass.
    Optional,
}

/// What to run; build with [`ProxyConfig::new`] and the `with_*` methods.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProxyConfig {
    /// Which proxy.
    pub kind: ProxyKind,
    /// Where it listens for TLS (a loopback address; by default 127.0.0.1 and a free port).
    pub listen: SocketAddr,
    /// PEM server certificate chain (leaf first).
    pub server_cert: PathBuf,
    /// PEM private key of the server certificate.
    pub server_key: PathBuf,
    /// PEM CA certificate(s) client certificates are verified against.
    pub client_ca: PathBuf,
    /// The plain-HTTP upstream.
    pub upstream: SocketAddr,
    /// Connect to the upstream from this local address, where the proxy supports it.
    pub source_addr: Option<IpAddr>,
    /// Headers set on every forwarded request: (name, proxy-native value expression).
    pub headers: Vec<(String, String)>,
    /// Require or only request client certificates.
    pub verify_client: VerifyClient,
}

impl ProxyConfig {
    /// `kind` on 127.0.0.1 and a free port, requiring client certificates, no headers, the
    /// proxy's default source address.
    pub fn new(
        kind: ProxyKind,
        server_cert: impl Into<PathBuf>,
        server_key: impl Into<PathBuf>,
        client_ca: impl Into<PathBuf>,
        upstream: SocketAddr,
    ) -> Self {
        Self {
            kind,
            listen: free_addr(LOOPBACK),
            server_cert: server_cert.into(),
            server_key: server_key.into(),
            client_ca: client_ca.into(),
            upstream,
            source_addr: None,
            headers: Vec::new(),
            verify_client: VerifyClient::Require,
        }
    }

    /// Adds a header `name` with the proxy-native `value` expression.
    #[must_use]
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Connects to the upstream from `ip` (e.g. 127.0.0.2), where the proxy supports it.
    #[must_use]
    pub fn with_source_addr(mut self, ip: IpAddr) -> Self {
        self.source_addr = Some(ip);
        self
    }

    /// Require (default) or only request client certificates.
    #[must_use]
    pub fn with_verify_client(mut self, verify: VerifyClient) -> Self {
        self.verify_client = verify;
        self
    }

    /// Listens on `addr` instead of a free port on 127.0.0.1.
    #[must_use]
    pub fn with_listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }
}

/// A running proxy; killed (and waited for) on drop.
#[derive(Debug)]
pub struct Proxy {
    config: ProxyConfig,
    child: Child,
    dir: tempfile::TempDir,
}

impl Proxy {
    /// Whether `kind`'s binary is installed.
    pub fn binary_available(kind: ProxyKind) -> bool {
        let path = kind.path();
        path.is_absolute() && path.exists()
    }

    /// Whether the proxy tests are to be skipped (`CERTCLAIMS_SKIP_PROXIES=1`).
    pub fn skip_requested() -> bool {
        std::env::var(SKIP_ENV).is_ok_and(|v| v == "1")
    }

    /// Writes the configuration into a new temporary directory, starts the proxy in the
    /// foreground and waits (at most [`START_TIMEOUT`]) until its port accepts. `Err` carries
    /// the reason with the proxy's stderr and error log.
    pub fn start(config: ProxyConfig) -> Result<Self, String> {
        if !Self::binary_available(config.kind) {
            return Err(format!(
                "{} is not installed (the Debian package `{}`; ./scripts/test.sh installs it; \
                 {SKIP_ENV}=1 skips these tests)",
                config.kind.path().display(),
                package(config.kind)
            ));
        }
        // Loopback only, and never the ports a system service of the same proxy may hold.
        let loopback = |ip: IpAddr| ip.is_loopback();
        if !loopback(config.listen.ip())
            || !loopback(config.upstream.ip())
            || config.source_addr.is_some_and(|ip| !loopback(ip))
        {
            return Err(format!(
                "listen {}, upstream {} and source {:?} must be loopback addresses",
                config.listen, config.upstream, config.source_addr
            ));
        }
        if matches!(config.listen.port(), 0 | 80 | 443) {
            return Err(format!(
                "listen port {}: choose a free port (not 0, 80 or 443)",
                config.listen.port()
            ));
        }
        for (name, _) in &config.headers {
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
                return Err(format!(
                    "header name {name:?}: letters, digits and '-' only"
                ));
            }
        }
        let dir = tempfile::Builder::new()
            .prefix(&format!("certclaims-{}-", config.kind))
            .tempdir()
            .map_err(|e| format!("temp dir: {e}"))?;
        let mut cmd = Command::new(config.kind.path());
        prepare(&config, dir.path(), &mut cmd)?;
        let stdout = File::create(dir.path().join("stdout.log")).map_err(|e| e.to_string())?;
        let stderr = File::create(dir.path().join("stderr.log")).map_err(|e| e.to_string())?;
        let child = cmd
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .map_err(|e| format!("spawn {cmd:?}: {e}"))?;
        let mut proxy = Self { config, child, dir };
        proxy.wait_until_listening()?;
        Ok(proxy)
    }

    fn wait_until_listening(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "{} exited before listening ({status}):\n{}",
                    self.config.kind,
                    self.logs()
                ));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(format!(
                    "{} did not accept on {} within {START_TIMEOUT:?}:\n{}",
                    self.config.kind,
                    self.config.listen,
                    self.logs()
                ));
            }
            let attempt = left.min(Duration::from_millis(500));
            if std::net::TcpStream::connect_timeout(&self.config.listen, attempt).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The configuration it runs with.
    pub fn config(&self) -> &ProxyConfig {
        &self.config
    }

    /// Where it listens.
    pub fn listen(&self) -> SocketAddr {
        self.config.listen
    }

    /// `https://localhost:PORT` (resolve `localhost` to the listen address, e.g. curl's
    /// `--resolve`; the server certificate is for `localhost`).
    pub fn url(&self) -> String {
        format!("https://localhost:{}", self.config.listen.port())
    }

    /// The address the upstream sees connections from: the configured source address where
    /// the proxy supports one, else 127.0.0.1 (the kernel's choice for a loopback upstream).
    pub fn source_addr(&self) -> IpAddr {
        match self.config.source_addr {
            Some(ip) if self.config.kind.supports_source_addr() => ip,
            _ => LOOPBACK,
        }
    }

    /// The configuration file as written.
    pub fn config_text(&self) -> String {
        std::fs::read_to_string(self.dir.path().join(config_file(self.config.kind)))
            .unwrap_or_default()
    }

    /// The proxy's stdout, stderr and error log so far.
    pub fn logs(&self) -> String {
        let mut all = String::new();
        for name in ["stderr.log", "stdout.log", "error.log", "startup.log"] {
            if let Ok(text) = std::fs::read_to_string(self.dir.path().join(name)) {
                if !text.trim().is_empty() {
                    let _ = writeln!(all, "--- {name}\n{}", text.trim_end());
                }
            }
        }
        if all.is_empty() {
            all.push_str("(no output)");
        }
        all
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn package(kind: ProxyKind) -> &'static str {
    kind.binary()
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn config_file(kind: ProxyKind) -> &'static str {
    match kind {
        ProxyKind::Nginx => "nginx.conf",
        ProxyKind::Apache => "httpd.conf",
        ProxyKind::Haproxy => "haproxy.cfg",
        ProxyKind::Caddy => "Caddyfile",
    }
}

/// A path inside a configuration file: absolute, double-quoted.
fn q(p: &Path) -> String {
    format!("\"{}\"", p.display())
}

/// A header value expression, double-quoted for the proxy's config syntax.
fn qv(v: &str) -> String {
    format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
}

fn absolute(p: &Path) -> Result<PathBuf, String> {
    std::fs::canonicalize(p).map_err(|e| format!("{}: {e}", p.display()))
}

fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find(|l| l.starts_with("Uid:"))
            .and_then(|l| l.split_whitespace().nth(2))
            == Some("0")
    })
}

/// Writes the configuration for `c` into `dir` and sets up `cmd`.
fn prepare(c: &ProxyConfig, dir: &Path, cmd: &mut Command) -> Result<(), String> {
    let cert = absolute(&c.server_cert)?;
    let key = absolute(&c.server_key)?;
    let ca = absolute(&c.client_ca)?;
    let dir = absolute(dir)?;
    let file = dir.join(config_file(c.kind));
    let text = match c.kind {
        ProxyKind::Nginx => {
            for t in ["body", "proxy", "fastcgi", "uwsgi", "scgi"] {
                std::fs::create_dir_all(dir.join("tmp").join(t)).map_err(|e| e.to_string())?;
            }
            cmd.args(["-e", &dir.join("error.log").display().to_string()])
                .args(["-p", &dir.display().to_string()])
                .args(["-c", &file.display().to_string()])
                .args(["-g", "daemon off;"]);
            nginx(c, &dir, &cert, &key, &ca)
        }
        ProxyKind::Apache => {
            std::fs::create_dir_all(dir.join("run")).map_err(|e| e.to_string())?;
            cmd.arg("-X")
                .args(["-d", &dir.display().to_string()])
                .args(["-f", &file.display().to_string()])
                .args(["-E", &dir.join("startup.log").display().to_string()]);
            apache(c, &dir, &cert, &key, &ca)
        }
        ProxyKind::Haproxy => {
            // HAProxy wants the certificate and its key in one file.
            let mut pem = std::fs::read_to_string(&cert).map_err(|e| e.to_string())?;
            if !pem.ends_with('\n') {
                pem.push('\n');
            }
            pem.push_str(&std::fs::read_to_string(&key).map_err(|e| e.to_string())?);
            let combined = dir.join("server-with-key.pem");
            std::fs::write(&combined, pem).map_err(|e| e.to_string())?;
            cmd.args(["-f", &file.display().to_string(), "-db"]);
            haproxy(c, &combined, &ca)
        }
        ProxyKind::Caddy => {
            for d in ["home", "data", "config"] {
                std::fs::create_dir_all(dir.join(d)).map_err(|e| e.to_string())?;
            }
            cmd.args(["run", "--config", &file.display().to_string()])
                .args(["--adapter", "caddyfile"])
                .env("HOME", dir.join("home"))
                .env("XDG_DATA_HOME", dir.join("data"))
                .env("XDG_CONFIG_HOME", dir.join("config"));
            caddy(c, &dir, &cert, &key, &ca)
        }
    };
    std::fs::write(&file, text).map_err(|e| format!("{}: {e}", file.display()))
}

fn nginx(c: &ProxyConfig, dir: &Path, cert: &Path, key: &Path, ca: &Path) -> String {
    let tmp = dir.join("tmp");
    let verify = match c.verify_client {
        VerifyClient::Require => "on",
        VerifyClient::Optional => "optional",
    };
    let mut t = String::new();
    // One process (no master): as root it would otherwise switch the workers to `nobody`.
    t.push_str("master_process off;\nworker_processes 1;\n");
    let _ = writeln!(t, "pid {};", q(&dir.join("nginx.pid")));
    let _ = writeln!(t, "error_log {} info;", q(&dir.join("error.log")));
    t.push_str("events { worker_connections 64; }\nhttp {\n  access_log off;\n");
    for (d, sub) in [
        ("client_body_temp_path", "body"),
        ("proxy_temp_path", "proxy"),
        ("fastcgi_temp_path", "fastcgi"),
        ("uwsgi_temp_path", "uwsgi"),
        ("scgi_temp_path", "scgi"),
    ] {
        let _ = writeln!(t, "  {d} {};", q(&tmp.join(sub)));
    }
    let _ = writeln!(t, "  server {{\n    listen {} ssl;", c.listen);
    t.push_str("    server_name localhost;\n");
    let _ = writeln!(t, "    ssl_certificate {};", q(cert));
    let _ = writeln!(t, "    ssl_certificate_key {};", q(key));
    let _ = writeln!(t, "    ssl_client_certificate {};", q(ca));
    let _ = writeln!(
        t,
        "    ssl_verify_client {verify};\n    ssl_verify_depth 4;"
    );
    t.push_str("    location / {\n");
    let _ = writeln!(t, "      proxy_pass http://{};", c.upstream);
    t.push_str("      proxy_http_version 1.1;\n      proxy_set_header Connection \"\";\n");
    if let Some(ip) = c.source_addr {
        let _ = writeln!(t, "      proxy_bind {ip};");
    }
    // proxy_set_header replaces a client-sent header of the same name.
    for (name, value) in &c.headers {
        let _ = writeln!(t, "      proxy_set_header {name} {};", qv(value));
    }
    t.push_str("    }\n  }\n}\n");
    t
}

fn apache(c: &ProxyConfig, dir: &Path, cert: &Path, key: &Path, ca: &Path) -> String {
    let modules = Path::new("/usr/lib/apache2/modules");
    let verify = match c.verify_client {
        VerifyClient::Require => "require",
        VerifyClient::Optional => "optional",
    };
    let mut t = String::new();
    let _ = writeln!(t, "ServerRoot {}", q(dir));
    let _ = writeln!(t, "DefaultRuntimeDir {}", q(&dir.join("run")));
    let _ = writeln!(t, "PidFile {}", q(&dir.join("apache.pid")));
    let _ = writeln!(t, "Mutex file:{} default", dir.join("run").display());
    let _ = writeln!(t, "ErrorLog {}", q(&dir.join("error.log")));
    t.push_str("LogLevel warn ssl:info proxy:info\n");
    for (name, file) in [
        ("mpm_event_module", "mod_mpm_event.so"),
        ("authz_core_module", "mod_authz_core.so"),
        ("socache_shmcb_module", "mod_socache_shmcb.so"),
        ("ssl_module", "mod_ssl.so"),
        ("proxy_module", "mod_proxy.so"),
        ("proxy_http_module", "mod_proxy_http.so"),
        ("headers_module", "mod_headers.so"),
    ] {
        let _ = writeln!(t, "LoadModule {name} {}", q(&modules.join(file)));
    }
    if running_as_root() {
        // httpd refuses to serve as root; everything it reads is opened before it switches.
        t.push_str("User nobody\nGroup nogroup\n");
    }
    let _ = writeln!(t, "Listen {}", c.listen);
    t.push_str("ServerName localhost\nSSLSessionCache none\n");
    let _ = writeln!(t, "<VirtualHost {}>", c.listen);
    t.push_str("  ServerName localhost\n  SSLEngine on\n");
    let _ = writeln!(t, "  SSLCertificateFile {}", q(cert));
    let _ = writeln!(t, "  SSLCertificateKeyFile {}", q(key));
    let _ = writeln!(t, "  SSLCACertificateFile {}", q(ca));
    let _ = writeln!(t, "  SSLVerifyClient {verify}\n  SSLVerifyDepth 4");
    t.push_str("  SSLOptions +ExportCertData\n");
    let _ = writeln!(t, "  ProxyPass / http://{}/", c.upstream);
    if let Some(ip) = c.source_addr {
        let _ = writeln!(t, "  ProxySourceAddress {ip}");
    }
    for (name, value) in &c.headers {
        // `early`: before anything else looks at the request's headers.
        let _ = writeln!(t, "  RequestHeader unset {name} early");
        let _ = writeln!(t, "  RequestHeader set {name} {}", qv(value));
    }
    t.push_str("</VirtualHost>\n");
    t
}

fn haproxy(c: &ProxyConfig, cert_and_key: &Path, ca: &Path) -> String {
    let verify = match c.verify_client {
        VerifyClient::Require => "required",
        VerifyClient::Optional => "optional",
    };
    let mut t = String::new();
    t.push_str("global\n  log stderr format raw local0 info\n  maxconn 64\n");
    t.push_str("defaults\n  mode http\n  log global\n  option httplog\n");
    t.push_str("  timeout connect 5s\n  timeout client 10s\n  timeout server 10s\n");
    t.push_str("frontend tls\n");
    let _ = writeln!(
        t,
        "  bind {} ssl crt {} ca-file {} verify {verify}",
        c.listen,
        q(cert_and_key),
        q(ca)
    );
    for (name, value) in &c.headers {
        let _ = writeln!(t, "  http-request del-header {name}");
        let _ = writeln!(t, "  http-request set-header {name} {}", qv(value));
    }
    t.push_str("  default_backend upstream\nbackend upstream\n");
    let _ = write!(t, "  server up {}", c.upstream);
    if let Some(ip) = c.source_addr {
        let _ = write!(t, " source {ip}");
    }
    t.push('\n');
    t
}

fn caddy(c: &ProxyConfig, dir: &Path, cert: &Path, key: &Path, ca: &Path) -> String {
    let mode = match c.verify_client {
        VerifyClient::Require => "require_and_verify",
        VerifyClient::Optional => "verify_if_given",
    };
    let mut t = String::new();
    // Caddy 2.6 has no `persist_config` option: its autosave goes to XDG_CONFIG_HOME, which
    // is inside the temporary directory.
    t.push_str("{\n  admin off\n  auto_https off\n  skip_install_trust\n");
    let _ = writeln!(t, "  storage file_system {}", q(&dir.join("data")));
    t.push_str("}\n");
    let _ = writeln!(t, "https://localhost:{} {{", c.listen.port());
    let _ = writeln!(t, "  bind {}", c.listen.ip());
    let _ = writeln!(t, "  tls {} {} {{", q(cert), q(key));
    let _ = writeln!(t, "    client_auth {{\n      mode {mode}");
    // Caddy 2.6 reads one certificate per trusted_ca_cert_file: one file per CA in `ca`.
    let bundle = std::fs::read_to_string(ca).unwrap_or_default();
    let blocks: Vec<&str> = bundle
        .split_inclusive("-----END CERTIFICATE-----")
        .filter(|b| b.contains("-----BEGIN CERTIFICATE-----"))
        .collect();
    if blocks.len() <= 1 {
        let _ = writeln!(t, "      trusted_ca_cert_file {}", q(ca));
    }
    for (i, block) in blocks.iter().enumerate().filter(|_| blocks.len() > 1) {
        let one = dir.join(format!("client-ca-{i}.pem"));
        if std::fs::write(&one, block.trim_start()).is_ok() {
            let _ = writeln!(t, "      trusted_ca_cert_file {}", q(&one));
        }
    }
    t.push_str("    }\n  }\n");
    let _ = writeln!(t, "  reverse_proxy {} {{", c.upstream);
    for (name, value) in &c.headers {
        // `header_up NAME VALUE` sets (replaces every client-sent value). Not preceded by
        // `header_up -NAME`: Caddy 2.6 applies deletions after sets, which would remove the
        // header altogether.
        let _ = writeln!(t, "    header_up {name} {}", qv(value));
    }
    t.push_str("  }\n}\n");
    t
}
