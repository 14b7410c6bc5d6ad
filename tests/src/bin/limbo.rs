//! `limbo`: run the x509-limbo corpus through certclaims.
//!
//! ```text
//! limbo LIMBO_JSON [--out RESULTS.json] [--check EXCEPTIONS.json] [--now RFC3339]
//!       [--sample-out SAMPLE.json [--sample-every N]]
//! ```
//!
//! Prints exactly one line on stdout, `pass N, unexpected_success N, unexpected_failure N,
//! skipped N`. With `--check`, exits 1 when a count is worse than the committed baseline or a
//! testcase diverges from limbo's expectation without a listed exception (details on stderr).
//!
//! `--sample-out` writes the sample the npm package's conformance test reads
//! (`wasm/test/limbo.mjs`): every N-th testcase and every CLIENT testcase, as a policy
//! document, a PEM chain and the native verdict ([`certclaims_tests::limbo::sample`]). A
//! disagreement between the policy-document path and the harness's builder path exits 1 and
//! writes no sample.
//!
//! Exit 2 is a usage or I/O error.

use std::path::PathBuf;
use std::process::ExitCode;

use certclaims::pki_types::UnixTime;

use certclaims_tests::limbo::{self, Baseline, Limbo, LimboResults, Sample, Summary};
use clap::Parser;

#[derive(Parser, Debug)]
#[command(
    name = "limbo",
    about = "Run the x509-limbo corpus through the certclaims validator"
)]
struct Args {
    /// The corpus (`limbo.json`).
    corpus: PathBuf,
    /// Write the results file here (`{"version":1,"harness":"certclaims","results":[…]}`).
    #[arg(long, value_name = "RESULTS.json")]
    out: Option<PathBuf>,
    /// Compare with a committed baseline and fail on any regression.
    #[arg(long, value_name = "EXCEPTIONS.json")]
    check: Option<PathBuf>,
    /// Validation time for testcases without one (default: now, as the limbo schema says).
    #[arg(long, value_name = "RFC3339")]
    now: Option<String>,
    /// Worker threads (default: the available parallelism).
    #[arg(long)]
    threads: Option<usize>,
    /// Write the npm package's conformance sample here.
    #[arg(long, value_name = "SAMPLE.json")]
    sample_out: Option<PathBuf>,
    /// Sample every N-th testcase (CLIENT testcases are always sampled).
    #[arg(long, value_name = "N", default_value_t = limbo::DEFAULT_SAMPLE_EVERY,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    sample_every: usize,
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("limbo: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(args: Args) -> Result<ExitCode, String> {
    let read =
        |p: &PathBuf| std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()));
    let corpus = Limbo::from_json(&read(&args.corpus)?)?;
    let baseline = match &args.check {
        Some(p) => Some(
            serde_json::from_str::<Baseline>(&read(p)?)
                .map_err(|e| format!("{}: {e}", p.display()))?,
        ),
        None => None,
    };
    let now = limbo::time_or_now(args.now.as_deref())?;
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));

    let results = limbo::run(&corpus.testcases, now, threads);
    let summary = Summary::of(&corpus.testcases, &results);

    let sample_failed = match &args.sample_out {
        Some(out) => !write_sample(&corpus, now, args.sample_every, threads, out)?,
        None => false,
    };
    if sample_failed {
        println!("{summary}");
        return Ok(ExitCode::from(1));
    }

    if let Some(out) = &args.out {
        let doc = LimboResults {
            version: 1,
            harness: "certclaims".into(),
            results,
        };
        let json = serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?;
        std::fs::write(out, json + "\n").map_err(|e| format!("{}: {e}", out.display()))?;
        println!("{summary}");
        return Ok(finish_check(&corpus, &doc.results, baseline.as_ref()));
    }
    println!("{summary}");
    Ok(finish_check(&corpus, &results, baseline.as_ref()))
}

/// Writes the sample; `false` (and no file) when the policy path disagrees with the harness.
fn write_sample(
    corpus: &Limbo,
    now: UnixTime,
    every: usize,
    threads: usize,
    out: &PathBuf,
) -> Result<bool, String> {
    let report = limbo::sample(&corpus.testcases, now, every, threads);
    for error in &report.errors {
        eprintln!("limbo: SAMPLE MISMATCH: {error}");
    }
    if !report.errors.is_empty() {
        eprintln!(
            "limbo: {} sampled testcase(s) where the policy document and the harness disagree; \
             no sample written",
            report.errors.len()
        );
        return Ok(false);
    }
    let left_out: Vec<String> = report
        .left_out
        .iter()
        .map(|(why, n)| format!("{n} {why}"))
        .collect();
    eprintln!(
        "limbo: sample of {} testcases written to {} (left out: {})",
        report.cases.len(),
        out.display(),
        if left_out.is_empty() {
            "none".into()
        } else {
            left_out.join(", ")
        }
    );
    let doc = Sample {
        version: 1,
        every,
        cases: report.cases,
    };
    let json = serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?;
    std::fs::write(out, json + "\n").map_err(|e| format!("{}: {e}", out.display()))?;
    Ok(true)
}

fn finish_check(
    corpus: &Limbo,
    results: &[limbo::TestcaseResult],
    baseline: Option<&Baseline>,
) -> ExitCode {
    let Some(baseline) = baseline else {
        return ExitCode::SUCCESS;
    };
    let report = limbo::check(&corpus.testcases, results, baseline);
    for note in &report.notes {
        eprintln!("limbo: note: {note}");
    }
    for error in &report.errors {
        eprintln!("limbo: REGRESSION: {error}");
    }
    if report.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "limbo: {} regression(s) against the baseline",
            report.errors.len()
        );
        ExitCode::from(1)
    }
}
