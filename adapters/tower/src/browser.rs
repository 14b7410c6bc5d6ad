//! Pages for people in browsers.
//!
//! In a browser the user agent does mutual TLS: it asks the person which certificate to
//! send, and no script on the page ever sees it. What the server can do is answer the
//! person: who the browser's certificate says they are, or why it was refused and how to
//! install one. [`prefers_html`] negotiates on `Accept` (a browser's navigation asks for
//! `text/html` first; curl's `*/*`, `fetch()`'s default and `application/json` get JSON),
//! [`principal_response`] answers a principal as an HTML page or JSON, and
//! [`BrowserPagesLayer`] turns every certclaims rejection answered inside it (by
//! [`rejection_response`](crate::rejection_response): [`Require`](crate::Require), the
//! extractors, [`Forwarded`](crate::Forwarded)) into an HTML page for browsers, with the
//! same status.
//!
//! Pages are self-contained (inline style, no script, no external resource), every value
//! taken from a certificate is escaped, and they carry `Content-Security-Policy:
//! default-src 'none'; style-src 'unsafe-inline'`. Negotiated responses carry `Vary: Accept`.

use std::fmt::Write as _;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use certclaims::{Code, Principal, Rejection};
use http::header::{self, HeaderMap, HeaderValue};
use http::{Request, Response};
use tower_layer::Layer;
use tower_service::Service;

/// Whether the request's `Accept` prefers `text/html` to `application/json`: HTML only when
/// `text/html` is acceptable and weighs more than JSON (a tie, `*/*` alone, or no `Accept`
/// gives JSON). The most specific media range sets each type's weight (`text/html` over
/// `text/*` over `*/*`), as RFC 9110 12.5.1 says.
pub fn prefers_html(headers: &HeaderMap) -> bool {
    let mut html = Weight::default();
    let mut json = Weight::default();
    for value in headers.get_all(header::ACCEPT) {
        let Ok(value) = value.to_str() else {
            continue;
        };
        for range in value.split(',') {
            let mut parts = range.split(';');
            let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let mut q = 1000;
            for param in parts {
                if let Some((name, v)) = param.split_once('=') {
                    if name.trim().eq_ignore_ascii_case("q") {
                        q = parse_q(v.trim()).unwrap_or(0);
                    }
                }
            }
            html.offer(&media, "text", "html", q);
            json.offer(&media, "application", "json", q);
        }
    }
    html.q() > 0 && html.q() > json.q()
}

/// A media type's weight from the most specific range that matches it: (specificity, q).
#[derive(Default)]
struct Weight(Option<(u8, u16)>);

impl Weight {
    fn offer(&mut self, range: &str, kind: &str, sub: &str, q: u16) {
        let specificity = match range.split_once('/') {
            Some(("*", "*")) => 1,
            Some((k, "*")) if k == kind => 2,
            Some((k, s)) if k == kind && s == sub => 3,
            _ => return,
        };
        match self.0 {
            Some((best, _)) if best > specificity => {}
            // Equally specific ranges repeated: the highest weight counts.
            Some((best, old)) if best == specificity => self.0 = Some((best, old.max(q))),
            _ => self.0 = Some((specificity, q)),
        }
    }

    fn q(&self) -> u16 {
        self.0.map_or(0, |(_, q)| q)
    }
}

/// A `qvalue` (`0`, `0.5`, `1.000`) in thousandths; `None` when malformed.
fn parse_q(v: &str) -> Option<u16> {
    let (int, frac) = v.split_once('.').unwrap_or((v, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let frac_value = format!("{frac:0<3}").parse::<u16>().ok()?;
    match int {
        "0" => Some(frac_value),
        "1" if frac_value == 0 => Some(1000),
        _ => None,
    }
}

/// The principal as an HTML page when the request prefers it ([`prefers_html`]), else as
/// its JSON document (pretty-printed, one trailing newline); `Vary: Accept` either way.
pub fn principal_response<B: From<Bytes>>(
    request: &HeaderMap,
    principal: &Principal,
) -> Response<B> {
    let mut res = if prefers_html(request) {
        html_response(principal_page(principal))
    } else {
        let mut res = Response::new(B::from(Bytes::from(format!("{:#}\n", principal.to_json()))));
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        res
    };
    res.headers_mut()
        .insert(header::VARY, HeaderValue::from_static("accept"));
    res
}

fn html_response<B: From<Bytes>>(page: String) -> Response<B> {
    let mut res = Response::new(B::from(Bytes::from(page)));
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

fn esc(text: &str) -> std::borrow::Cow<'_, str> {
    html_escape::encode_text(text)
}

const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;max-width:48rem;margin:2rem auto;\
padding:0 1rem;color:#1b1b1b}h1{font-size:1.5rem}table{border-collapse:collapse;width:100%}\
th,td{text-align:left;vertical-align:top;padding:.3rem .6rem;border-bottom:1px solid #ddd}\
th{width:11rem;font-weight:600}code,td.v{font-family:ui-monospace,monospace;font-size:.9rem;\
word-break:break-all}.refused{color:#a11}.ok{color:#176d2e}li{margin:.3rem 0}";

fn page(title: &str, class: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{t}</title><style>{STYLE}</style></head>\n<body>\n<h1 class=\"{class}\">{t}</h1>\n\
         {body}</body></html>\n",
        t = esc(title),
    )
}

fn row(out: &mut String, name: &str, values: &[&str]) {
    if values.is_empty() {
        return;
    }
    let _ = write!(out, "<tr><th>{}</th><td class=\"v\">", esc(name));
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push_str("<br>");
        }
        out.push_str(&esc(v));
    }
    out.push_str("</td></tr>\n");
}

/// The HTML page of a principal: who the certificate says the person is (subject, SPIFFE
/// ID, names), until when, from which issuer, and the claims the policy granted.
pub fn principal_page(p: &Principal) -> String {
    let doc = p.to_json();
    let text = |field: &str| doc[field].as_str().unwrap_or("").to_string();
    let mut body = String::from(
        "<p>Your browser presented a client certificate that this server trusts.</p>\n<table>\n",
    );
    row(&mut body, "Subject", &[p.subject()]);
    if let Some(id) = p.spiffe_id() {
        row(&mut body, "SPIFFE ID", &[id]);
    }
    row(&mut body, "DNS names", &names(p.dns()));
    row(&mut body, "URIs", &names(p.uris()));
    row(&mut body, "Email addresses", &names(p.emails()));
    row(&mut body, "UPNs", &names(p.upns()));
    row(&mut body, "IP addresses", &names(p.ips()));
    row(&mut body, "Issuer", &[p.issuer()]);
    row(&mut body, "Valid from", &[&text("not_before")]);
    row(&mut body, "Expires", &[&text("not_after")]);
    row(&mut body, "Serial", &[p.serial()]);
    row(&mut body, "SHA-256", &[p.fingerprint_sha256()]);
    body.push_str("</table>\n<h2>Claims</h2>\n<table>\n");
    for claim in p.claims() {
        row(&mut body, short_type(claim.claim_type()), &[claim.value()]);
    }
    body.push_str("</table>\n");
    let title = match p.common_name() {
        Some(cn) => format!("Signed in as {cn}"),
        None => format!("Signed in as {}", p.subject()),
    };
    page(&title, "ok", &body)
}

fn names(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// The last segment of a claim type URI (`.../claims/role` → `role`).
fn short_type(claim_type: &str) -> &str {
    claim_type.rsplit('/').next().unwrap_or(claim_type)
}

/// The HTML page of a rejection: what was refused and why (the rejection's message, which
/// names the certificate and the rule and never the server's configuration), and, when no
/// certificate came, how to install one in each browser.
pub fn rejection_page(r: &Rejection) -> String {
    let mut body = String::new();
    let title = if r.code() == Code::NoCertificate {
        body.push_str(
            "<p>This site admits people by their client certificate, and your browser did not \
             send one.</p>\n",
        );
        body.push_str(INSTALL);
        "Client certificate required"
    } else {
        let _ = write!(
            body,
            "<p>Your browser's client certificate was refused.</p>\n<table>\n\
             <tr><th>Reason</th><td>{}</td></tr>\n<tr><th>Code</th><td><code>{}</code></td></tr>\n\
             <tr><th>Step</th><td><code>{}</code></td></tr>\n</table>\n\
             <p>To use another certificate, close every window of the browser (it remembers \
             the certificate it chose for this site until then) and open this page again.</p>\n",
            esc(r.detail()),
            esc(r.code().as_str()),
            esc(r.step().as_str()),
        );
        "Client certificate refused"
    };
    page(title, "refused", &body)
}

/// How to install the `.p12` that `certclaims mint` makes (or any PKCS#12 file).
const INSTALL: &str = "<h2>Install your certificate</h2>\n\
<p>You need your certificate and key as a PKCS#12 file (<code>NAME.p12</code>; \
<code>certclaims mint --client NAME</code> writes one, password <code>changeit</code> unless \
<code>--p12-password</code> was given). Import it, then close every window of the browser \
and open this page again: the browser asks which certificate to send.</p>\n<ul>\n\
<li><b>Chrome, Chromium, Edge on Linux</b> (NSS): Settings → Privacy and security → \
Security → Manage certificates → Your certificates → Import; or \
<code>pk12util -d sql:$HOME/.pki/nssdb -i NAME.p12</code>.</li>\n\
<li><b>Firefox</b> (its own store): Settings → Privacy &amp; Security → Certificates → \
View Certificates → Your Certificates → Import.</li>\n\
<li><b>macOS</b> (Safari, Chrome, Edge): open <code>NAME.p12</code> to add it to the login \
keychain; or <code>security import NAME.p12 -k ~/Library/Keychains/login.keychain-db</code>.</li>\n\
<li><b>Windows</b> (Edge, Chrome): open <code>NAME.p12</code>, choose Current User and the \
Personal store; or <code>Import-PfxCertificate -FilePath NAME.p12 -CertStoreLocation \
Cert:\\CurrentUser\\My -Password (Read-Host -AsSecureString)</code>.</li>\n</ul>\n";

/// Turns certclaims rejection responses into HTML pages for browsers ([`prefers_html`]),
/// keeping their status; every other response passes through. See the [module](self).
#[derive(Debug, Clone, Copy, Default)]
pub struct BrowserPagesLayer;

impl BrowserPagesLayer {
    /// The layer.
    pub fn new() -> Self {
        Self
    }
}

impl<S> Layer<S> for BrowserPagesLayer {
    type Service = BrowserPages<S>;

    fn layer(&self, inner: S) -> Self::Service {
        BrowserPages { inner }
    }
}

/// The service of [`BrowserPagesLayer`].
#[derive(Debug, Clone)]
pub struct BrowserPages<S> {
    inner: S,
}

impl<S, ReqB, ResB> Service<Request<ReqB>> for BrowserPages<S>
where
    S: Service<Request<ReqB>, Response = Response<ResB>>,
    S::Future: Send + 'static,
    ResB: From<Bytes>,
{
    type Response = Response<ResB>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response<ResB>, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqB>) -> Self::Future {
        let html = prefers_html(req.headers());
        let fut = self.inner.call(req);
        Box::pin(async move {
            let mut res = fut.await?;
            if let Some(rejection) = res.extensions().get::<Rejection>() {
                if html {
                    let mut page = html_response::<ResB>(rejection_page(rejection));
                    *page.status_mut() = res.status();
                    std::mem::swap(page.extensions_mut(), res.extensions_mut());
                    res = page;
                }
                res.headers_mut()
                    .insert(header::VARY, HeaderValue::from_static("accept"));
            }
            Ok(res)
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn accept(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn browsers_get_html_and_programs_get_json() {
        // Chrome's and Firefox's navigation Accept.
        assert!(prefers_html(&accept(
            "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,\
             image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
        )));
        assert!(prefers_html(&accept(
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        )));
        assert!(prefers_html(&accept("TEXT/HTML")));
        assert!(prefers_html(&accept("text/*")));
        // curl, fetch(), API clients, nothing at all.
        assert!(!prefers_html(&HeaderMap::new()));
        assert!(!prefers_html(&accept("*/*")));
        assert!(!prefers_html(&accept("application/json")));
        assert!(!prefers_html(&accept("application/json, text/html")));
        assert!(!prefers_html(&accept("text/html;q=0.5, application/json")));
        assert!(prefers_html(&accept("text/html, application/json;q=0.9")));
        // The most specific range decides: text/html excluded despite */*.
        assert!(!prefers_html(&accept("text/html;q=0, */*")));
        // Malformed weights count as 0.
        assert!(!prefers_html(&accept("text/html;q=2")));
        assert!(!prefers_html(&accept("text/html;q=abc")));
        assert!(prefers_html(&accept(
            "text/html;q=0.999, application/json;q=0.998"
        )));
    }

    #[test]
    fn q_values() {
        assert_eq!(parse_q("1"), Some(1000));
        assert_eq!(parse_q("1.000"), Some(1000));
        assert_eq!(parse_q("0.8"), Some(800));
        assert_eq!(parse_q("0.05"), Some(50));
        assert_eq!(parse_q("0"), Some(0));
        assert_eq!(parse_q("1.5"), None);
        assert_eq!(parse_q("0.1234"), None);
        assert_eq!(parse_q("-1"), None);
        assert_eq!(parse_q(""), None);
    }

    #[test]
    fn rejection_pages_escape_and_explain() {
        let r = Rejection::new(
            Code::UnknownIssuer,
            certclaims::Step::Validation,
            "no issuer for `CN=<script>alert(1)</script>`: present the chain",
        );
        let page = rejection_page(&r);
        assert!(page.contains("Client certificate refused"), "{page}");
        assert!(
            page.contains("no issuer for `CN=&lt;script&gt;alert(1)&lt;/script&gt;`"),
            "{page}"
        );
        assert!(!page.contains("<script>"), "{page}");
        assert!(page.contains("<code>unknown_issuer</code>"), "{page}");
        let page = rejection_page(&Rejection::no_certificate());
        assert!(page.contains("Client certificate required"), "{page}");
        assert!(
            page.contains("pk12util -d sql:$HOME/.pki/nssdb -i NAME.p12"),
            "{page}"
        );
        assert!(page.contains("Import-PfxCertificate"), "{page}");
    }

    #[test]
    fn principal_pages_escape_certificate_text() {
        use certclaims::pki_types::UnixTime;
        let pki = certclaims::test_kit::Pki::new();
        let leaf = pki
            .client("<img src=x onerror=alert(1)>")
            .spiffe("spiffe://example.org/ns/prod/sa/x")
            .issue();
        let v = certclaims::Validator::from_policy(&pki.policy(), certclaims::crypto::ALL).unwrap();
        let p = v
            .verify(leaf.leaf(), leaf.intermediates(), UnixTime::now())
            .unwrap();
        let page = principal_page(&p);
        assert!(!page.contains("<img"), "{page}");
        assert!(
            page.contains("&lt;img src=x onerror=alert(1)&gt;"),
            "{page}"
        );
        assert!(
            page.contains(
                "<tr><th>SPIFFE ID</th><td class=\"v\">spiffe://example.org/ns/prod/sa/x</td></tr>"
            ),
            "{page}"
        );
        // Negotiated: HTML for a browser, the JSON document otherwise; Vary either way.
        let res: Response<Bytes> = principal_response(&accept("text/html"), &p);
        assert_eq!(
            res.headers()[header::CONTENT_TYPE],
            "text/html; charset=utf-8"
        );
        assert_eq!(res.headers()[header::VARY], "accept");
        assert_eq!(res.body(), page.as_bytes());
        let res: Response<Bytes> = principal_response(&accept("*/*"), &p);
        assert_eq!(res.headers()[header::CONTENT_TYPE], "application/json");
        assert_eq!(res.headers()[header::VARY], "accept");
        assert_eq!(res.body(), format!("{:#}\n", p.to_json()).as_bytes());
    }
}
