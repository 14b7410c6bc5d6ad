//! Forwarded client certificates: every format round-trips a minted chain to exactly the
//! direct principal, the published documentation samples decode, and the trust model holds
//! (untrusted peers, appended XFCC elements, duplicates, limits, companion checks).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::IpAddr;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use certclaims::forwarded::{Format, Forwarder, Untrusted, Verification, XfccElement};
use certclaims::pki_types::{CertificateDer, UnixTime};
use certclaims::test_kit::{Issued, Pki, DAY, NOW};
use certclaims::{Code, PolicyError, Principal, Rejection, Source, Step, Validator};
use serde_json::{json, Value};

const PROXY: &str = "127.0.0.2";

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn b64(der: &[u8]) -> String {
    STANDARD.encode(der)
}

fn pem(der: &[u8]) -> String {
    let body = b64(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    )
}

/// nginx's `NGX_ESCAPE_URI_COMPONENT`: everything but ALPHA, DIGIT, `-`, `.`, `_`, `~`.
fn url_component(s: &str) -> String {
    const SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(s, SET).to_string()
}

fn certs(i: &Issued) -> Vec<CertificateDer<'static>> {
    std::iter::once(i.leaf().clone())
        .chain(i.intermediates().iter().cloned())
        .collect()
}

/// The headers a proxy of `format` sends for `chain` (the test kit's encoders).
fn encode(format: Format, chain: &[CertificateDer<'_>]) -> Vec<(String, String)> {
    certclaims::test_kit::forwarded_headers(format, chain)
}

/// Whether a format carries intermediates.
fn carries_chain(format: Format) -> bool {
    matches!(
        format,
        Format::Rfc9440
            | Format::Gcp
            | Format::Xfcc
            | Format::AwsAlb
            | Format::Apache
            | Format::Pem
            | Format::Traefik
    )
}

fn fwd(format: Format) -> Forwarder {
    Forwarder::new(format, [format!("{PROXY}/32"), "fd00::/8".to_string()]).unwrap()
}

/// A validator for `pki` with the issuing CA also configured as an intermediate, so that
/// leaf-only formats build the same path.
fn validator(pki: &Pki, extra: Value) -> Validator {
    let mut p = json!({"trust": {"intermediates": [pki.issuing_ca().pem()]}});
    common::merge(&mut p, extra);
    common::validator(pki, p)
}

fn auth(
    f: &Forwarder,
    v: &Validator,
    peer: &str,
    headers: &[(String, String)],
) -> Result<Principal, Rejection> {
    f.authenticate(v, ip(peer), headers, NOW)
}

fn code(r: Result<Principal, Rejection>) -> (Code, String) {
    let r = r.expect_err("expected a rejection");
    (r.code(), r.detail().to_string())
}

fn h(name: &str, value: &str) -> (String, String) {
    (name.to_string(), value.to_string())
}

#[test]
fn every_format_gives_the_direct_principal_for_a_minted_chain() {
    let pki = Pki::new();
    let alice = pki
        .client("alice")
        .spiffe("spiffe://example.org/ns/prod/sa/alice")
        .dns("alice.svc.example")
        .issue();
    let v = validator(&pki, json!({}));
    let mut direct = v
        .verify(alice.leaf(), alice.intermediates(), NOW)
        .unwrap()
        .to_json();
    assert_eq!(direct["source"], "direct");
    direct["source"] = json!("forwarded");
    for &format in Format::ALL {
        let headers = encode(format, &certs(&alice));
        let p = auth(&fwd(format), &v, PROXY, &headers)
            .unwrap_or_else(|r| panic!("{format}: {r}\n{headers:?}"));
        assert_eq!(p.source(), Source::Forwarded, "{format}");
        assert_eq!(p.to_json(), direct, "{format}");
        // The chain the proxy forwarded is the one that was validated; leaf-only formats
        // complete it from the policy's intermediates.
        assert_eq!(p.chain().len(), 3, "{format}");
    }
}

#[test]
fn chain_formats_carry_the_intermediates_themselves() {
    let pki = Pki::new();
    let alice = pki.client("alice").issue();
    // No intermediates in the policy: only formats that forward the chain can validate.
    let v = common::validator(&pki, json!({}));
    for &format in Format::ALL {
        let r = auth(&fwd(format), &v, PROXY, &encode(format, &certs(&alice)));
        if carries_chain(format) {
            assert!(r.is_ok(), "{format}: {:?}", r.err());
        } else {
            assert_eq!(code(r).0, Code::UnknownIssuer, "{format}");
        }
    }
}

/// RFC 9440 Appendix A: Figures 2 and 3 with the display line breaks removed. The chain
/// validates against its own root (Figure 1's third certificate) while the leaf was valid.
#[test]
fn rfc9440_appendix_a_example_decodes_and_validates() {
    let leaf = ":MIIBqDCCAU6gAwIBAgIBBzAKBggqhkjOPQQDAjA6MRswGQYDVQQKDBJMZXQncyBBdXRoZW50aWNhdGUxGzAZBgNVBAMMEkxBIEludGVybWVkaWF0ZSBDQTAeFw0yMDAxMTQyMjU1MzNaFw0yMTAxMjMyMjU1MzNaMA0xCzAJBgNVBAMMAkJDMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE8YnXXfaUgmnMtOXU/IncWalRhebrXmckC8vdgJ1p5Be5F/3YC8OthxM4+k1M6aEAEFcGzkJiNy6J84y7uzo9M6NyMHAwCQYDVR0TBAIwADAfBgNVHSMEGDAWgBRm3WjLa38lbEYCuiCPct0ZaSED2DAOBgNVHQ8BAf8EBAMCBsAwEwYDVR0lBAwwCgYIKwYBBQUHAwIwHQYDVR0RAQH/BBMwEYEPYmRjQGV4YW1wbGUuY29tMAoGCCqGSM49BAMCA0gAMEUCIBHda/r1vaL6G3VliL4/Di6YK0Q6bMjeSkC3dFCOOB8TAiEAx/kHSB4urmiZ0NX5r5XarmPk0wmuydBVoU4hBVZ1yhk=:";
    let intermediate = "MIIB5jCCAYugAwIBAgIBFjAKBggqhkjOPQQDAjBWMQswCQYDVQQGEwJVUzEbMBkGA1UECgwSTGV0J3MgQXV0aGVudGljYXRlMSowKAYDVQQDDCFMZXQncyBBdXRoZW50aWNhdGUgUm9vdCBBdXRob3JpdHkwHhcNMjAwMTE0MjEzMjMwWhcNMzAwMTExMjEzMjMwWjA6MRswGQYDVQQKDBJMZXQncyBBdXRoZW50aWNhdGUxGzAZBgNVBAMMEkxBIEludGVybWVkaWF0ZSBDQTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABJf+aA54RC5pyLAR5yfXVYmNpgd+CGUTDp2KOGhc0gK91zxhHesEYkdXkpS2UN8Kati+yHtWCV3kkhCngGyv7RqjZjBkMB0GA1UdDgQWBBRm3WjLa38lbEYCuiCPct0ZaSED2DAfBgNVHSMEGDAWgBTEA2Q6eecKu9g9yb5glbkhhVINGDASBgNVHRMBAf8ECDAGAQH/AgEAMA4GA1UdDwEB/wQEAwIBhjAKBggqhkjOPQQDAgNJADBGAiEA5pLvaFwRRkxomIAtDIwg9D7gC1xzxBl4r28EzmSO1pcCIQCJUShpSXO9HDIQMUgH69fNDEMHXD3RRX5gP7kuu2KGMg==";
    let root = "MIICBjCCAaygAwIBAgIJAKS0yiqKtlhoMAoGCCqGSM49BAMCMFYxCzAJBgNVBAYTAlVTMRswGQYDVQQKDBJMZXQncyBBdXRoZW50aWNhdGUxKjAoBgNVBAMMIUxldCdzIEF1dGhlbnRpY2F0ZSBSb290IEF1dGhvcml0eTAeFw0yMDAxMTQyMTI1NDVaFw00MDAxMDkyMTI1NDVaMFYxCzAJBgNVBAYTAlVTMRswGQYDVQQKDBJMZXQncyBBdXRoZW50aWNhdGUxKjAoBgNVBAMMIUxldCdzIEF1dGhlbnRpY2F0ZSBSb290IEF1dGhvcml0eTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABFoaHU+Z5bPKmGzlYXtCf+E6HYj62fORaHDOrt+yyh3H/rTcs7ynFfGn+gyFsrSP3Ez88rajv+U2NfD0o0uZ4PmjYzBhMB0GA1UdDgQWBBTEA2Q6eecKu9g9yb5glbkhhVINGDAfBgNVHSMEGDAWgBTEA2Q6eecKu9g9yb5glbkhhVINGDAPBgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB/wQEAwIBhjAKBggqhkjOPQQDAgNIADBFAiEAmAeg1ycKHriqHnaD4M/UDBpQRpkmdcRFYGMg1Qyrkx4CIB4ivz3wQcQkGhcsUZ1SOImd/lq1Q0FLf09rGfLQPWDc";
    // Figure 3 as sent: the intermediate and the root, `, ` between them.
    let chain = format!(":{intermediate}:, :{root}:");
    let root_pem = pem(&STANDARD.decode(root).unwrap());
    let v = Validator::from_policy_json(
        &json!({"version": 1, "trust": {"anchors": [root_pem]}}).to_string(),
        certclaims::crypto::ALL,
    )
    .unwrap();
    let f = fwd(Format::Rfc9440);
    let headers = [h("Client-Cert", leaf), h("Client-Cert-Chain", &chain)];
    // 2020-06-01T00:00:00Z, inside the leaf's validity (2020-01-14 .. 2021-01-23).
    let at = UnixTime::since_unix_epoch(std::time::Duration::from_secs(1_590_969_600));
    let p = f.authenticate(&v, ip(PROXY), &headers[..], at).unwrap();
    assert_eq!(p.subject(), "CN=BC");
    assert_eq!(p.serial(), "07");
    assert_eq!(p.emails(), ["bdc@example.com"]);
    assert_eq!(p.issuer(), "CN=LA Intermediate CA,O=Let's Authenticate");
    assert_eq!(p.chain().len(), 3);
    // The same example, split into two header lines (RFC 9440 2.3 allows it).
    let split = [
        h("client-cert", leaf),
        h("client-cert-chain", &format!(":{intermediate}:")),
        h("client-cert-chain", &format!(":{root}:")),
    ];
    assert_eq!(f.authenticate(&v, ip(PROXY), &split[..], at).unwrap(), p);
}

#[test]
fn envoy_documentation_samples_without_a_cert_are_no_certificate() {
    // Envoy's XFCC examples carry Hash/Subject/URI but no Cert: nothing to validate, and
    // identity is never taken from the Subject or URI text.
    let samples = [
        r#"By=http://frontend.lyft.com;Hash=468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688;Subject="/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=Test Client";URI=http://testclient.lyft.com"#,
        r#"By=http://frontend.lyft.com;Hash=468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688;URI=http://testclient.lyft.com,By=http://backend.lyft.com;Hash=9ba61d6425303443c0748a02dd8de688468ed33be74eee6556d90c0149c1309e;URI=http://frontend.lyft.com"#,
        r#"By=http://frontend.lyft.com;Hash=468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688;Subject="/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=Test Client";URI=http://testclient.lyft.com;DNS=lyft.com;DNS=www.lyft.com"#,
    ];
    let pki = Pki::new();
    let v = validator(&pki, json!({}));
    for s in samples {
        let (c, _) = code(auth(
            &fwd(Format::Xfcc),
            &v,
            PROXY,
            &[h("x-forwarded-client-cert", s)],
        ));
        assert_eq!(c, Code::NoCertificate, "{s}");
    }
}

#[test]
fn only_the_last_xfcc_element_counts() {
    let pki = Pki::new();
    let alice = pki.client("alice").issue();
    let mallory = pki.client("mallory").issue();
    let v = validator(&pki, json!({}));
    let value = |i: &Issued| encode(Format::Xfcc, &certs(i)).remove(0).1;
    // APPEND_FORWARD: the client sent an element claiming to be mallory; the trusted hop
    // appended alice's. Only the last counts.
    let appended = format!("{},{}", value(&mallory), value(&alice));
    let f = fwd(Format::Xfcc);
    let p = auth(&f, &v, PROXY, &[h("x-forwarded-client-cert", &appended)]).unwrap();
    assert_eq!(p.common_name(), Some("alice"));
    // An element's own Subject/URI text is ignored: identity comes from the certificate.
    let lying = format!(
        "{};Subject=\"CN=admin\";URI=spiffe://example.org/ns/prod/sa/admin",
        value(&alice)
    );
    let p = auth(&f, &v, PROXY, &[h("x-forwarded-client-cert", &lying)]).unwrap();
    assert_eq!(p.common_name(), Some("alice"));
    assert!(p.uris().is_empty());
    // A sanitising hop sends one element: more is refused with `only`.
    let mut only = f.clone();
    only.xfcc_element = XfccElement::Only;
    let only = only.check().unwrap();
    let (c, msg) = code(auth(
        &only,
        &v,
        PROXY,
        &[h("x-forwarded-client-cert", &appended)],
    ));
    assert_eq!(c, Code::MalformedHeader);
    assert!(msg.contains("2 XFCC elements"), "{msg}");
    assert!(auth(
        &only,
        &v,
        PROXY,
        &[h("x-forwarded-client-cert", &value(&alice))]
    )
    .is_ok());
}

#[test]
fn xfcc_hash_and_chain_must_agree_with_cert() {
    let pki = Pki::new();
    let alice = pki.client("alice").issue();
    let bob = pki.client("bob").issue();
    let v = validator(&pki, json!({}));
    let f = fwd(Format::Xfcc);
    let good = encode(Format::Xfcc, &certs(&alice)).remove(0).1;
    let bob_hash = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bob.leaf().as_ref()));
    let wrong_hash = good.replacen("Hash=", &format!("Hash={bob_hash}"), 1);
    let wrong_hash = {
        // Replace the whole 64-hex value after `Hash=`.
        let start = wrong_hash.find("Hash=").unwrap() + 5;
        format!(
            "{}{}",
            &wrong_hash[..start + 64],
            &wrong_hash[start + 128..]
        )
    };
    let (c, msg) = code(auth(
        &f,
        &v,
        PROXY,
        &[h("x-forwarded-client-cert", &wrong_hash)],
    ));
    assert_eq!(c, Code::MalformedHeader);
    assert!(msg.contains("`Hash` is not the SHA-256"), "{msg}");

    let bob_chain: String = certs(&bob).iter().map(|c| url_component(&pem(c))).collect();
    let mixed = format!(
        "Cert=\"{}\";Chain=\"{bob_chain}\"",
        url_component(&pem(alice.leaf()))
    );
    let (c, msg) = code(auth(&f, &v, PROXY, &[h("x-forwarded-client-cert", &mixed)]));
    assert_eq!(c, Code::MalformedHeader);
    assert!(
        msg.contains("`Chain` does not begin with the certificate in `Cert`"),
        "{msg}"
    );
    // Cert alone, no Hash: accepted.
    let cert_only = format!("Cert=\"{}\"", url_component(&pem(alice.leaf())));
    assert!(auth(&f, &v, PROXY, &[h("x-forwarded-client-cert", &cert_only)]).is_ok());
}

#[test]
fn untrusted_peers_are_refused_or_stripped_and_never_decoded() {
    let pki = Pki::new();
    let alice = pki.client("alice").issue();
    let v = validator(&pki, json!({}));
    let f = fwd(Format::Haproxy);
    let headers = encode(Format::Haproxy, &certs(&alice));
    for peer in ["127.0.0.1", "127.0.0.3", "::1", "10.0.0.1"] {
        let (c, msg) = code(auth(&f, &v, peer, &headers));
        assert_eq!(c, Code::UntrustedForwarder, "{peer}");
        assert!(
            !msg.contains(PROXY) && !msg.contains("fd00"),
            "configuration leaked: {msg}"
        );
        assert!(msg.contains("`x-ssl-client-cert`"), "{msg}");
    }
    // Garbage from an untrusted peer is not decoded: still untrusted_forwarder.
    let (c, _) = code(auth(&f, &v, "127.0.0.1", &[h("X-SSL-Client-Cert", "%%%")]));
    assert_eq!(c, Code::UntrustedForwarder);
    // No header from an untrusted peer: just no certificate.
    assert_eq!(code(auth(&f, &v, "127.0.0.1", &[])).0, Code::NoCertificate);
    // Strip mode: as if absent.
    let mut strip = f.clone();
    strip.untrusted = Untrusted::Strip;
    let strip = strip.check().unwrap();
    assert_eq!(
        code(auth(&strip, &v, "127.0.0.1", &headers)).0,
        Code::NoCertificate
    );
    // IPv6 ranges and IPv4-mapped addresses.
    assert!(auth(&f, &v, "fd00::5", &headers).is_ok());
    assert!(auth(&f, &v, "::ffff:127.0.0.2", &headers).is_ok());
    assert!(f.trusts(ip("127.0.0.2")) && !f.trusts(ip("127.0.0.4")));
}

#[test]
fn a_valid_certificate_of_a_foreign_ca_is_unknown_issuer_even_from_the_proxy() {
    let pki = Pki::new();
    // Another PKI with other CA names (same-named CAs would be bad_signature).
    let other = Pki::with_key_type("Foreign", certclaims::test_kit::KeyType::P256);
    let eve = other.client("eve").issue();
    let v = validator(&pki, json!({}));
    for &format in Format::ALL {
        let (c, _) = code(auth(&fwd(format), &v, PROXY, &encode(format, &certs(&eve))));
        assert_eq!(c, Code::UnknownIssuer, "{format}");
    }
}

#[test]
fn danger_trust_proxy_verdict_is_explicit_and_labelled() {
    let pki = Pki::new();
    let other = Pki::new();
    let eve = other.client("eve").issue();
    let v = validator(&pki, json!({}));
    let f = Forwarder::from_json(
        r#"{"format": "haproxy", "trusted_proxies": ["127.0.0.2"], "verification": "danger_trust_proxy_verdict"}"#,
    )
    .unwrap();
    assert_eq!(f.verification, Verification::DangerTrustProxyVerdict);
    let p = auth(&f, &v, PROXY, &encode(Format::Haproxy, &certs(&eve))).unwrap();
    assert_eq!(p.source(), Source::ForwardedUnverified);
    assert_eq!(p.to_json()["source"], "forwarded_unverified");
    assert_eq!(p.common_name(), Some("eve"));
    // The leaf's own checks still apply.
    let expired = pki.client("old").expired().issue();
    assert_eq!(
        code(auth(
            &f,
            &v,
            PROXY,
            &encode(Format::Haproxy, &certs(&expired))
        ))
        .0,
        Code::Expired
    );
    let server = pki
        .client("srv")
        .eku(certclaims::test_kit::Eku::ServerAuth)
        .issue();
    assert_eq!(
        code(auth(
            &f,
            &v,
            PROXY,
            &encode(Format::Haproxy, &certs(&server))
        ))
        .0,
        Code::WrongUsage
    );
    let denied = validator(&other, json!({"trust": {"deny": [eve.fingerprint()]}}));
    assert_eq!(
        code(auth(
            &f,
            &denied,
            PROXY,
            &encode(Format::Haproxy, &certs(&eve))
        ))
        .0,
        Code::Denied
    );
    let rules = validator(
        &pki,
        json!({"identity": {"allow": [{"subject": {"cn": "alice"}}]}}),
    );
    assert_eq!(
        code(auth(
            &f,
            &rules,
            PROXY,
            &encode(Format::Haproxy, &certs(&eve))
        ))
        .0,
        Code::PolicyDenied
    );
    // Still only from the trusted proxy.
    assert_eq!(
        code(auth(
            &f,
            &v,
            "127.0.0.1",
            &encode(Format::Haproxy, &certs(&eve))
        ))
        .0,
        Code::UntrustedForwarder
    );
}

#[test]
fn duplicates_other_formats_and_limits_are_rejected_with_their_codes() {
    let pki = Pki::new();
    let alice = pki.client("alice").issue();
    let v = validator(&pki, json!({}));
    let f = fwd(Format::Haproxy);
    let one = b64(alice.leaf());
    // Two lines of the certificate header.
    let (c, msg) = code(auth(
        &f,
        &v,
        PROXY,
        &[h("x-ssl-client-cert", &one), h("X-SSL-Client-Cert", &one)],
    ));
    assert_eq!(c, Code::MalformedHeader);
    assert_eq!(
        msg,
        "the `x-ssl-client-cert` header appears 2 times; a forwarder sends it once"
    );
    // Two formats at once.
    let (c, msg) = code(auth(
        &f,
        &v,
        PROXY,
        &[
            h("x-ssl-client-cert", &one),
            h("client-cert", &format!(":{one}:")),
        ],
    ));
    assert_eq!(c, Code::MalformedHeader);
    assert!(
        msg.contains("two forwarded-certificate formats at once"),
        "{msg}"
    );
    // Over the size limit: refused before decoding.
    let mut small = f.clone();
    small.max_header_bytes = 100;
    let small = small.check().unwrap();
    let (c, msg) = code(auth(&small, &v, PROXY, &[h("x-ssl-client-cert", &one)]));
    assert_eq!(c, Code::MalformedHeader);
    assert_eq!(
        msg,
        format!(
            "the `x-ssl-client-cert` header is {} bytes; the limit is 100 bytes (max_header_bytes)",
            one.len()
        )
    );
    // More certificates than max_certificates (8): chain_too_deep, in every chain format.
    let many: Vec<CertificateDer<'static>> = std::iter::repeat_n(alice.leaf().clone(), 9).collect();
    for format in [
        Format::Rfc9440,
        Format::Xfcc,
        Format::AwsAlb,
        Format::Apache,
        Format::Pem,
        Format::Traefik,
    ] {
        let (c, msg) = code(auth(&fwd(format), &v, PROXY, &encode(format, &many)));
        assert_eq!(c, Code::ChainTooDeep, "{format}: {msg}");
        assert!(msg.contains("past 8 certificates"), "{format}: {msg}");
    }
}

#[test]
fn malformed_values_name_the_header_format_and_byte() {
    let pki = Pki::new();
    let v = validator(&pki, json!({}));
    let cases: &[(Format, &str, &str)] = &[
        (Format::Haproxy, "MIIB*AAA", "the `x-ssl-client-cert` header (haproxy format), byte 4: `*` is not a base64 character"),
        (Format::Rfc9440, "MIIB", "the `client-cert` header (rfc9440 format), byte 0: expected a structured-field byte sequence `:base64:`, found `M`"),
        (Format::Rfc9440, ":MA==: x", "the `client-cert` header (rfc9440 format), byte 6: trailing characters after the byte sequence"),
        (Format::Nginx, "-----BEGIN%20CERTIFICATE-----%0AMII%ZZ", "the `ssl-client-cert` header (nginx format), byte 35: `%` is not followed by two hexadecimal digits"),
        (Format::Nginx, "-----BEGIN%20PRIVATE%20KEY-----", "byte 11 of the URL-decoded value: a PEM block labelled `PRIVATE KEY`"),
        (Format::Xfcc, "Cert=\"abc", "the `x-forwarded-client-cert` header (xfcc format), byte 5: an XFCC quoted value without its closing `\"`"),
        (Format::Traefik, "MA==,", "the `x-forwarded-tls-client-cert` header (traefik format), byte 5 of the URL-decoded value: empty base64 certificate"),
        (Format::Cloudflare, "AAAA", "does not decode to a DER certificate"),
    ];
    for (format, value, want) in cases {
        let (c, msg) = code(auth(
            &fwd(*format),
            &v,
            PROXY,
            &[h(format.default_header(), value)],
        ));
        assert_eq!(c, Code::MalformedHeader, "{format} {value}");
        assert!(
            msg.contains(want),
            "{format} {value}:\n  got  {msg}\n  want {want}"
        );
        assert!(
            msg.ends_with("check that the proxy forwards the certificate in this format"),
            "{msg}"
        );
    }
    let r = auth(
        &fwd(Format::Haproxy),
        &v,
        PROXY,
        &[h("x-ssl-client-cert", "!")],
    )
    .unwrap_err();
    assert_eq!((r.step(), r.http_status()), (Step::Input, 400));
}

#[test]
fn absent_values_each_proxy_sends_are_no_certificate() {
    let pki = Pki::new();
    let v = validator(&pki, json!({}));
    let cases: &[(Format, &str)] = &[
        (Format::Apache, "(null)"),
        (Format::Haproxy, ""),
        (Format::Caddy, "  "),
        (
            Format::Caddy,
            "{http.request.tls.client.certificate_der_base64}",
        ),
        (Format::Rfc9440, "::"),
        (Format::Gcp, ""),
    ];
    for (format, value) in cases {
        let r = auth(
            &fwd(*format),
            &v,
            PROXY,
            &[h(format.default_header(), value)],
        );
        assert_eq!(code(r).0, Code::NoCertificate, "{format} {value:?}");
    }
    // A chain without its leaf is broken, not absent.
    let (c, msg) = code(auth(
        &fwd(Format::Rfc9440),
        &v,
        PROXY,
        &[h(
            "client-cert-chain",
            &format!(":{}:", b64(&pki.root_der())),
        )],
    ));
    assert_eq!(c, Code::MalformedHeader);
    assert!(
        msg.contains("a chain header without the certificate header"),
        "{msg}"
    );
}

#[test]
fn legacy_encodings_decode_too() {
    let pki = Pki::new();
    let alice = pki.client("alice").issue();
    let v = validator(&pki, json!({}));
    // nginx's deprecated `$ssl_client_cert`: each line after the first prefixed with a tab,
    // the final newline dropped.
    let folded = pem(alice.leaf()).trim_end().replace('\n', "\n\t");
    assert!(auth(
        &fwd(Format::Nginx),
        &v,
        PROXY,
        &[h("ssl-client-cert", &folded)]
    )
    .is_ok());
    // Traefik up to 2.9.3 URL-escaped each certificate (traefik#9379).
    let escaped: Vec<String> = certs(&alice)
        .iter()
        .map(|c| url_component(&b64(c)))
        .collect();
    let p = auth(
        &fwd(Format::Traefik),
        &v,
        PROXY,
        &[h("x-forwarded-tls-client-cert", &escaped.join(","))],
    )
    .unwrap();
    assert_eq!(p.common_name(), Some("alice"));
    // Apache `expr=%{escape:%{SSL_CLIENT_CERT}}`: lower-case hex, `+=/` literal.
    let apache_escape = pem(alice.leaf()).replace(' ', "%20").replace('\n', "%0a");
    assert!(auth(
        &fwd(Format::Nginx),
        &v,
        PROXY,
        &[h("ssl-client-cert", &apache_escape)]
    )
    .is_ok());
}

#[test]
fn companion_headers_and_shared_secret() {
    let pki = Pki::new();
    let alice = pki.client("alice").issue();
    let v = validator(&pki, json!({}));
    let f = Forwarder::from_json(
        r#"{"format": "nginx", "trusted_proxies": ["127.0.0.2/32"],
            "require_headers": [{"name": "X-SSL-Client-Verify", "value": "SUCCESS"}],
            "shared_secret": {"header": "X-Certclaims-Proxy-Secret", "value": "0123456789abcdef-secret"}}"#,
    )
    .unwrap();
    let cert = encode(Format::Nginx, &certs(&alice)).remove(0);
    let verify = h("x-ssl-client-verify", "SUCCESS");
    let secret = h("x-certclaims-proxy-secret", "0123456789abcdef-secret");
    assert!(auth(
        &f,
        &v,
        PROXY,
        &[cert.clone(), verify.clone(), secret.clone()]
    )
    .is_ok());
    let cases = [
        (
            vec![cert.clone(), h("x-ssl-client-verify", "FAILED:unable to verify"), secret.clone()],
            "the forwarder's header `x-ssl-client-verify` is `FAILED:unable to verify`, not `SUCCESS`",
        ),
        (
            vec![cert.clone(), secret.clone()],
            "the forwarder's header `x-ssl-client-verify` is missing",
        ),
        (
            vec![cert.clone(), verify.clone(), h("x-certclaims-proxy-secret", "0123456789abcdef-secreT")],
            "the forwarder's shared secret (header `x-certclaims-proxy-secret`) is missing or wrong",
        ),
        (
            vec![cert.clone(), verify.clone()],
            "the forwarder's shared secret (header `x-certclaims-proxy-secret`) is missing or wrong",
        ),
    ];
    for (headers, want) in cases {
        let (c, msg) = code(auth(&f, &v, PROXY, &headers));
        assert_eq!(c, Code::ForwarderCheckFailed, "{headers:?}");
        assert!(msg.starts_with(want), "{msg}");
        assert!(!msg.contains("0123456789abcdef"), "secret leaked: {msg}");
    }
    // The secret never shows in Debug either.
    assert!(!format!("{f:?}").contains("0123456789abcdef"));
    // A companion header from an untrusted peer makes the request untrusted too.
    assert_eq!(
        code(auth(&f, &v, "127.0.0.1", &[verify])).0,
        Code::UntrustedForwarder
    );
}

#[test]
fn trusted_proxies_are_addresses_and_cidrs_of_both_families() {
    let pki = Pki::new();
    let alice = pki.client("alice").issue();
    let v = validator(&pki, json!({}));
    let f = Forwarder::from_json(
        r#"{"format": "haproxy", "trusted_proxies": ["10.0.0.0/8", "192.168.7.9", "2001:db8::/32", "fd00::1", "::ffff:172.16.0.0/108"]}"#,
    )
    .unwrap();
    let headers = encode(Format::Haproxy, &certs(&alice));
    for peer in [
        "10.0.0.1",
        "10.255.255.255",
        "192.168.7.9",
        "2001:db8:ffff::1",
        "fd00::1",
        "172.16.9.9",
        "::ffff:10.1.1.1",
    ] {
        let p = auth(&f, &v, peer, &headers).unwrap_or_else(|e| panic!("{peer}: {e}"));
        assert_eq!(p.common_name(), Some("alice"), "{peer}");
    }
    for peer in [
        "11.0.0.1",
        "192.168.7.8",
        "2001:db9::1",
        "fd00::2",
        "172.32.0.1",
        "::1",
        "127.0.0.1",
    ] {
        assert_eq!(
            code(auth(&f, &v, peer, &headers)).0,
            Code::UntrustedForwarder,
            "{peer}"
        );
    }
}

#[test]
fn forwarder_documents_are_checked_and_errors_name_the_field() {
    let cases: &[(&str, &str)] = &[
        (r#"{"format": "nginx", "trusted_proxies": ["127.0.0.2"], "comment": 1}"#, "unknown field `comment`"),
        (r#"{"format": "envoy", "trusted_proxies": ["127.0.0.2"]}"#, "unknown variant `envoy`"),
        (r#"{"format": "nginx"}"#, "missing field `trusted_proxies`"),
        (r#"{"format": "nginx", "trusted_proxies": []}"#, "invalid policy field `forwarder.trusted_proxies`: no trusted proxy"),
        (r#"{"format": "nginx", "trusted_proxies": ["127.0.0.2", "proxy.local"]}"#, "`forwarder.trusted_proxies[1]`: `proxy.local` is not an IP address or CIDR"),
        (r#"{"format": "nginx", "trusted_proxies": ["0.0.0.0/0"]}"#, "`0.0.0.0/0` trusts every address"),
        (r#"{"format": "nginx", "trusted_proxies": ["10.0.0.0/33"]}"#, "`10.0.0.0/33` is not an IP address or CIDR"),
        (r#"{"format": "nginx", "trusted_proxies": ["::/129"]}"#, "`::/129` is not an IP address or CIDR"),
        (r#"{"format": "nginx", "trusted_proxies": ["10.0.0.0/"]}"#, "`10.0.0.0/` is not an IP address or CIDR"),
        (r#"{"format": "nginx", "trusted_proxies": ["10.0.0.0/+8"]}"#, "`10.0.0.0/+8` is not an IP address or CIDR"),
        (r#"{"format": "nginx", "trusted_proxies": ["10.0.0.0/0008"]}"#, "`10.0.0.0/0008` is not an IP address or CIDR"),
        (r#"{"format": "nginx", "trusted_proxies": ["10.0.0.0/8/8"]}"#, "`10.0.0.0/8/8` is not an IP address or CIDR"),
        (r#"{"format": "nginx", "trusted_proxies": ["/8"]}"#, "`/8` is not an IP address or CIDR"),
        (r#"{"format": "nginx", "trusted_proxies": ["10.0.0/8"]}"#, "`10.0.0/8` is not an IP address or CIDR"),
        (r#"{"format": "nginx", "trusted_proxies": ["::/0"]}"#, "`::/0` trusts every address"),
        (r#"{"format": "haproxy", "trusted_proxies": ["::1"], "chain_header": "x-chain"}"#, "`forwarder.chain_header`: the `haproxy` format carries its chain in the certificate header"),
        (r#"{"format": "apache", "trusted_proxies": ["::1"], "chain_header": "x-chain"}"#, "include `{n}`"),
        (r#"{"format": "nginx", "trusted_proxies": ["::1"], "header": "bad header"}"#, "`forwarder.header`: `bad header` is not an HTTP header name"),
        (r#"{"format": "nginx", "trusted_proxies": ["::1"], "shared_secret": {"header": "x-s", "value": "short"}}"#, "at least 16 bytes"),
        (r#"{"format": "nginx", "trusted_proxies": ["::1"], "max_certificates": 0}"#, "`forwarder.max_certificates`: must be between 1 and 65"),
        (r#"{"format": "nginx", "trusted_proxies": ["::1"], "xfcc_element": "only"}"#, "applies to the xfcc format only"),
        (r#"{"format": "nginx", "trusted_proxies": ["::1"], "header": "X-Verify", "require_headers": [{"name": "x-verify", "value": "1"}]}"#, "the header `x-verify` is named twice"),
    ];
    for (doc, want) in cases {
        let e = Forwarder::from_json(doc).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains(want), "{doc}\n  got  {msg}\n  want {want}");
        if msg.starts_with("invalid forwarder JSON") {
            assert!(matches!(e, PolicyError::ForwarderJson(_)));
        }
    }
    // A BOM (PowerShell) and defaults.
    let f = Forwarder::from_json(
        "\u{feff}{\"format\":\"gcp\",\"trusted_proxies\":[\"35.191.0.0/16\"]}",
    )
    .unwrap();
    assert_eq!(f.header(), "x-client-cert-leaf");
    assert_eq!(f.untrusted, Untrusted::Reject);
    assert_eq!(f.verification, Verification::Revalidate);
    // Every format name parses back.
    for &format in Format::ALL {
        assert_eq!(format.as_str().parse::<Format>().unwrap(), format);
    }
    assert!("envoy"
        .parse::<Format>()
        .unwrap_err()
        .contains("expected one of: rfc9440, xfcc"));
}

#[test]
fn custom_header_names_are_read_and_only_them() {
    let pki = Pki::new();
    let alice = pki.client("alice").issue();
    let v = validator(&pki, json!({}));
    let f = Forwarder::from_json(
        r#"{"format": "apache", "trusted_proxies": ["127.0.0.2"], "header": "SSL_CLIENT_CERT", "chain_header": "SSL_CLIENT_CERT_CHAIN_{n}"}"#,
    )
    .unwrap();
    let spaced = |d: &[u8]| pem(d).replace('\n', " ");
    let headers = [
        h("ssl_client_cert", &spaced(alice.leaf())),
        h(
            "SSL_CLIENT_CERT_CHAIN_0",
            &spaced(&alice.intermediates()[0]),
        ),
        h("ssl_client_cert_chain_1", "(null)"),
    ];
    let p = auth(&f, &common::validator(&pki, json!({})), PROXY, &headers).unwrap();
    assert_eq!(p.chain().len(), 3);
    assert!(f.reads_header("SSL_CLIENT_CERT_CHAIN_12"));
    assert!(!f.reads_header("SSL_CLIENT_CERT_CHAIN_x"));
    assert!(!f.reads_header("x-ssl-client-cert"));
    // The default header name is not read when another is configured; arriving alone, it
    // is another format's header (HAProxy's), which a request must not mix with ours.
    let (c, msg) = code(auth(
        &f,
        &v,
        PROXY,
        &[h("x-ssl-client-cert", &spaced(alice.leaf()))],
    ));
    assert_eq!(c, Code::MalformedHeader);
    assert!(
        msg.contains("two forwarded-certificate formats at once"),
        "{msg}"
    );
    assert_eq!(
        code(auth(&f, &v, PROXY, &[h("x-other", "1")])).0,
        Code::NoCertificate
    );
}

#[test]
fn validity_uses_the_policy_in_forwarded_mode_as_in_direct_mode() {
    let pki = Pki::new();
    let late = pki
        .client("late")
        .validity(NOW.as_secs() - 10 * DAY, NOW.as_secs() - 60)
        .issue();
    let strict = validator(&pki, json!({}));
    let skew = validator(&pki, json!({"trust": {"clock_skew_seconds": 3600}}));
    let headers = encode(Format::Rfc9440, &certs(&late));
    let f = fwd(Format::Rfc9440);
    assert_eq!(code(auth(&f, &strict, PROXY, &headers)).0, Code::Expired);
    assert!(auth(&f, &skew, PROXY, &headers).is_ok());
}

#[test]
fn rfc9440_platform_values_decode_like_headers() {
    use certclaims::forwarded::decode_rfc9440;
    let pki = Pki::new();
    let alice = pki.client("alice").issue();
    let headers = encode(Format::Rfc9440, &certs(&alice));
    let chain = decode_rfc9440(
        headers[0].1.as_bytes(),
        headers[1].1.as_bytes(),
        "certRFC9440",
        "certChainRFC9440",
    )
    .unwrap();
    assert_eq!(chain.certs(), certs(&alice).as_slice());
    let r = decode_rfc9440(b"", b"", "certRFC9440", "certChainRFC9440").unwrap_err();
    assert_eq!(r.code(), Code::NoCertificate);
    let r = decode_rfc9440(b":AAAA", b"", "certRFC9440", "certChainRFC9440").unwrap_err();
    assert_eq!(
        (r.code(), r.detail()),
        (
            Code::MalformedHeader,
            "`certRFC9440` (RFC 9440), byte 0: unterminated byte sequence (no closing `:`)"
        )
    );
    let many = [headers[1].1.as_str(); 8].join(", ");
    let r = decode_rfc9440(headers[0].1.as_bytes(), many.as_bytes(), "l", "c").unwrap_err();
    assert_eq!(r.code(), Code::ChainTooDeep);
}
