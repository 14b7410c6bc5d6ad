//! `docs/policy.schema.json` against the parser: at every place of the policy document, the
//! schema's properties are exactly the fields the core accepts, and its enums exactly the
//! values (both read from the parser's own "expected one of" errors), and documents the
//! schema describes load.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use certclaims::test_kit::Pki;
use certclaims::{Policy, PolicyError};
use serde_json::{json, Value};

fn schema() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/policy.schema.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("schema file")).expect("schema JSON")
}

/// The schema object at `#/$defs/NAME`, or the root.
fn def<'a>(schema: &'a Value, name: &str) -> &'a Value {
    if name.is_empty() {
        schema
    } else {
        &schema["$defs"][name]
    }
}

/// The backquoted names of a serde "expected one of `a`, `b`" (or "expected `a`") message.
fn expected_names(message: &str) -> BTreeSet<String> {
    let tail = message
        .split_once("expected")
        .map(|(_, t)| t)
        .unwrap_or_else(|| panic!("no expectation in {message:?}"));
    let tail = tail.split(" at line ").next().unwrap_or(tail);
    tail.split('`')
        .skip(1)
        .step_by(2)
        .map(String::from)
        .collect()
}

fn json_error(doc: &Value) -> String {
    match Policy::from_json(&doc.to_string()) {
        Err(PolicyError::Json(m)) => m,
        other => panic!("expected a JSON error for {doc}, got {other:?}"),
    }
}

/// Sets `value` at the dotted `path` of `doc` (`identity.allow.0.subject`).
fn set(doc: &mut Value, path: &str, key: &str, value: Value) {
    let mut at = doc;
    for part in path.split('.').filter(|p| !p.is_empty()) {
        at = match part.parse::<usize>() {
            Ok(i) => &mut at[i],
            Err(_) => &mut at[part],
        };
    }
    at[key] = value;
}

/// A document with something at every place the checks below reach.
fn base() -> Value {
    let pki = Pki::new();
    json!({
        "version": 1,
        "trust": {
            "anchors": [pki.root_pem()],
            "crls": [Pki::crl_pem(&pki.crl(&[]))],
            "revocation": {},
        },
        "identity": {"allow": [{"subject": {"cn": "alice"}}]},
        "claims": {"add": [{"when": {"subject": {"cn": "alice"}}, "claims": {"role": "r"}}]},
    })
}

#[test]
fn schema_properties_are_the_fields_the_parser_accepts() {
    let schema = schema();
    let places = [
        ("", ""),
        ("trust", "trust"),
        ("trust.revocation", "revocation"),
        ("identity", "identity"),
        ("identity.allow.0", "rule"),
        ("identity.allow.0.subject", "nameMatch"),
        ("claims", "claims"),
        ("claims.add.0", "claimGrant"),
    ];
    for (path, name) in places {
        let mut doc = base();
        set(&mut doc, path, "zz_unknown", json!(1));
        let accepted = expected_names(&json_error(&doc));
        let described: BTreeSet<String> = def(&schema, name)["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("no properties at {name}"))
            .keys()
            .cloned()
            .collect();
        assert_eq!(
            described, accepted,
            "schema #/$defs/{name} vs the parser at `{path}`"
        );
        assert_eq!(def(&schema, name)["additionalProperties"], false, "{name}");
    }
}

#[test]
fn schema_enums_are_the_values_the_parser_accepts() {
    let schema = schema();
    let enums = [
        ("trust", "allowed_types", "trust"),
        ("trust", "extended_key_usage", "trust"),
        ("trust.revocation", "depth", "revocation"),
        ("trust.revocation", "unknown_status", "revocation"),
        ("trust.revocation", "expired_crl", "revocation"),
    ];
    for (path, field, name) in enums {
        let mut doc = base();
        set(&mut doc, path, field, json!("zz_unknown"));
        let accepted = expected_names(&json_error(&doc));
        let described: BTreeSet<String> = def(&schema, name)["properties"][field]["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("no enum for {field}"))
            .iter()
            .map(|v| v.as_str().expect("string").to_string())
            .collect();
        assert_eq!(described, accepted, "{path}.{field}");
        // Each value the schema lists loads.
        for v in &described {
            let mut doc = base();
            set(&mut doc, path, field, json!(v));
            Policy::from_json(&doc.to_string())
                .unwrap_or_else(|e| panic!("{path}.{field} = {v}: {e}"));
        }
    }
}

#[test]
fn a_document_naming_the_schema_loads() {
    let mut doc = base();
    doc["$schema"] =
        json!("https://github.com/certclaims/certclaims/blob/main/docs/policy.schema.json");
    Policy::from_json(&doc.to_string()).expect("$schema is allowed");
    doc["$schema"] = json!(1);
    assert!(matches!(
        Policy::from_json(&doc.to_string()),
        Err(PolicyError::Json(_))
    ));
}
