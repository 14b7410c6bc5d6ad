//! `certclaims demo --json`: the README's main job, run as a black box.

use certclaims_test_support::certclaims;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_certclaims");

#[test]
fn demo_json_reports_five_cases_all_as_expected() {
    let out = certclaims(BIN, &["demo", "--json"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    let doc: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {stdout}"));
    assert_eq!(doc["ok"], true, "{doc:#}");
    let server = doc["server"].as_str().expect("server");
    let port: u16 = server
        .strip_prefix("https://127.0.0.1:")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("loopback server address: {server}"));
    assert_ne!(port, 0);

    let results = doc["results"].as_array().expect("results");
    assert_eq!(results.len(), 5, "{doc:#}");
    for r in results {
        assert_eq!(r["ok"], true, "{r:#}");
        assert!(r["description"].as_str().is_some_and(|d| !d.is_empty()));
    }
    let by_case = |name: &str| -> &Value {
        results
            .iter()
            .find(|r| r["case"] == name)
            .unwrap_or_else(|| panic!("case {name}: {doc:#}"))
    };

    // The valid client: HTTP 200 and a principal, with the policy's role claim.
    let alice = by_case("alice");
    assert_eq!(alice["expected"], serde_json::json!({"status": 200}));
    assert_eq!(alice["client"], serde_json::json!({"status": 200}));
    assert_eq!(alice["server_code"], Value::Null);
    let p = &alice["principal"];
    assert_eq!(p["authentication_type"], "Certificate");
    assert_eq!(p["subject"], "CN=alice,O=certclaims");
    assert_eq!(p["spiffe_id"], "spiffe://demo.example/ns/prod/sa/alice");
    assert!(p["issuer"]
        .as_str()
        .is_some_and(|i| i.starts_with("CN=certclaims development CA ")));
    assert!(
        p["claims"]
            .as_array()
            .expect("claims")
            .iter()
            .any(|c| c["type"] == certclaims::claim_types::ROLE && c["value"] == "payments"),
        "{p:#}"
    );

    // The four refusals: the alert the client received and the code the server logged.
    for (case, alert, code) in [
        ("anonymous", "certificate_required", "no_certificate"),
        ("stranger", "unknown_ca", "unknown_issuer"),
        ("eve", "certificate_expired", "expired"),
        ("mallory", "access_denied", "policy_denied"),
    ] {
        let r = by_case(case);
        assert_eq!(
            r["expected"],
            serde_json::json!({"alert": alert, "server_code": code}),
            "{r:#}"
        );
        assert_eq!(r["client"], serde_json::json!({"alert": alert}), "{r:#}");
        assert_eq!(r["server_code"], code, "{r:#}");
        assert_eq!(r["principal"], Value::Null, "{r:#}");
    }
}

#[test]
fn demo_text_says_all_five_cases_behaved() {
    let out = certclaims(BIN, &["demo"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("all 5 cases behaved as expected"),
        "{stdout}"
    );
    assert_eq!(stdout.lines().filter(|l| l.starts_with("ok  ")).count(), 5);
    assert!(!stdout.contains("FAIL"), "{stdout}");
}
