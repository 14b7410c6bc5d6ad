//! Unit-testing a policy in isolation with the test kit: no server, no files, no clock.
//!
//! `cargo run -p certclaims-examples --example policy_test` checks the policy below and
//! prints the verdicts; `cargo test -p certclaims-examples` runs the same checks as tests.

use certclaims::test_kit::{Pki, NOW};
use certclaims::{Code, Validator};

/// The policy under test: only payments workloads in prod, who get the `payments` role.
const POLICY: &str = r#"{
  "version": 1,
  "identity": { "allow": [ { "spiffe_id": "spiffe://example.org/ns/prod/sa/*" } ] },
  "claims": { "add": [ { "when": { "spiffe_id": "spiffe://example.org/ns/prod/sa/payments" },
                         "claims": { "role": ["payments", "refunds"] } } ] }
}"#;

/// The policy with the test PKI's root as its trust anchor.
fn validator(pki: &Pki) -> Validator {
    let mut policy = certclaims::Policy::from_json(POLICY).expect("policy parses");
    policy.trust.anchors.push(pki.root_pem());
    Validator::from_policy(&policy, certclaims::crypto::ALL).expect("policy builds")
}

/// Verdict for a client with a SPIFFE ID: its roles, or the rejection code.
fn verdict(pki: &Pki, v: &Validator, spiffe: &str) -> Result<Vec<String>, Code> {
    let client = pki.client("workload").spiffe(spiffe).issue();
    v.verify(client.leaf(), client.intermediates(), NOW)
        .map(|p| p.claim_values("role").map(String::from).collect())
        .map_err(|r| r.code())
}

fn main() {
    let pki = Pki::new();
    let v = validator(&pki);
    for id in [
        "spiffe://example.org/ns/prod/sa/payments",
        "spiffe://example.org/ns/prod/sa/web",
        "spiffe://example.org/ns/dev/sa/payments",
        "spiffe://example.org/ns/prod/sa/payments/extra",
    ] {
        println!("{id:<50} {:?}", verdict(&pki, &v, id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payments_in_prod_gets_roles() {
        let pki = Pki::new();
        let v = validator(&pki);
        assert_eq!(
            verdict(&pki, &v, "spiffe://example.org/ns/prod/sa/payments"),
            Ok(vec!["payments".to_string(), "refunds".to_string()])
        );
    }

    #[test]
    fn other_prod_workloads_get_in_without_roles() {
        let pki = Pki::new();
        let v = validator(&pki);
        assert_eq!(
            verdict(&pki, &v, "spiffe://example.org/ns/prod/sa/web"),
            Ok(vec![])
        );
    }

    #[test]
    fn dev_and_deeper_paths_are_denied() {
        let pki = Pki::new();
        let v = validator(&pki);
        assert_eq!(
            verdict(&pki, &v, "spiffe://example.org/ns/dev/sa/payments"),
            Err(Code::PolicyDenied)
        );
        assert_eq!(
            verdict(&pki, &v, "spiffe://example.org/ns/prod/sa/payments/extra"),
            Err(Code::PolicyDenied)
        );
    }

    #[test]
    fn expired_certificates_never_reach_the_policy() {
        let pki = Pki::new();
        let v = validator(&pki);
        let old = pki
            .client("old")
            .spiffe("spiffe://example.org/ns/prod/sa/payments")
            .expired()
            .issue();
        assert_eq!(
            v.verify(old.leaf(), old.intermediates(), NOW)
                .map(|_| ())
                .map_err(|r| r.code()),
            Err(Code::Expired)
        );
    }
}
