//! `limbo`: run the x509-limbo corpus through certclaims.
//!
//! ```text
//! limbo LIMBO_JSON [--out RESULTS.json] [--check EXCEPTIONS.json] [--now RFC3339]
//! ```
//!
//! Prints exactly one line on stdout, `pass N, unexpected_success N, unexpected_failure N,
//! skipped N`. With `--check`, exits 1 when a count is worse than the committed baseline or a
//! testcase diverges from limbo's expectation without a listed exception (details on stderr).
//! Exit 2 is a usage or I/O error.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::SystemTime;

use certclaims::pki_types::UnixTime;
use certclaims_tests::limbo::{self, Baseline, Limbo, LimboResults, Summary};
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
    let now = match &args.now {
        Some(t) => limbo::parse_time(t)?,
        None => UnixTime::since_unix_epoch(
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_err(|e| format!("system clock: {e}"))?,
        ),
    };
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));

    let results = limbo::run(&corpus.testcases, now, threads);
    let summary = Summary::of(&corpus.testcases, &results);

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
