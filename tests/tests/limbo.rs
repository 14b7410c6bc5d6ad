//! The limbo harness in-process: the hand-written part of the x509-limbo corpus (everything
//! but the generated `bettertls::` testcases) must agree, testcase by testcase, with the
//! committed exceptions file. CI runs the whole corpus through the `limbo` binary with
//! `--check`; this test keeps `cargo test` honest about the core's own checks.
//!
//! The corpus is read from `$LIMBO_JSON`, else from `shared/conformance/x509-limbo/limbo.json`
//! beside the work tree; without it the corpus test says so and passes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use certclaims_tests::limbo::{self, ActualResult, Baseline, Expected, Limbo};

const EXCEPTIONS: &str = include_str!("../limbo/exceptions.json");

fn corpus_path() -> PathBuf {
    match std::env::var_os("LIMBO_JSON") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/conformance/x509-limbo/limbo.json"),
    }
}

#[test]
fn the_exceptions_file_agrees_with_its_counts() {
    let baseline: Baseline = serde_json::from_str(EXCEPTIONS).unwrap();
    assert_eq!(baseline.version, 1);
    let count = |expected: Expected, actual: ActualResult| {
        baseline
            .exceptions
            .values()
            .filter(|e| e.expected == expected && e.actual == actual)
            .count()
    };
    assert_eq!(
        count(Expected::Failure, ActualResult::Success),
        baseline.counts.unexpected_success
    );
    assert_eq!(
        count(Expected::Success, ActualResult::Failure),
        baseline.counts.unexpected_failure
    );
    let skipped = count(Expected::Success, ActualResult::Skipped)
        + count(Expected::Failure, ActualResult::Skipped);
    assert_eq!(skipped, baseline.counts.skipped);
    for (id, e) in &baseline.exceptions {
        assert!(e.reason.len() > 20, "{id}: give a reason");
        assert!(
            !matches!(
                (e.expected, e.actual),
                (Expected::Success, ActualResult::Success)
                    | (Expected::Failure, ActualResult::Failure)
            ),
            "{id}: an exception must diverge"
        );
    }
}

#[test]
fn hand_written_testcases_match_the_exceptions_file() {
    let path = corpus_path();
    let Ok(json) = std::fs::read_to_string(&path) else {
        eprintln!(
            "x509-limbo corpus not found at {}; set LIMBO_JSON to run this test",
            path.display()
        );
        return;
    };
    let corpus = Limbo::from_json(&json).unwrap();
    let subset: Vec<_> = corpus
        .testcases
        .into_iter()
        .filter(|t| !t.id.starts_with("bettertls::"))
        .collect();
    assert!(
        subset.len() > 100,
        "the corpus lost its hand-written testcases"
    );
    // Testcases without a validation time are valid from 1970 to 2969.
    let now = limbo::parse_time("2026-01-01T00:00:00Z").unwrap();
    let results = limbo::run(&subset, now, 2);
    let baseline: Baseline = serde_json::from_str(EXCEPTIONS).unwrap();
    let report = limbo::check_divergences(&subset, &results, &baseline.exceptions);
    assert_eq!(report.errors, Vec::<String>::new());
    assert_eq!(report.notes, Vec::<String>::new());
}
