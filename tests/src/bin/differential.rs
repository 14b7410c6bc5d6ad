//! `differential`: x509-limbo through certclaims' engine and rustls-webpki, compared.
//!
//! ```text
//! differential LIMBO_JSON [--check DIFFERENCES.json] [--list] [--now RFC3339]
//! ```
//!
//! Prints `testcases N, agree N, differ N` and, with `--list`, each difference. With
//! `--check`, exits 1 on an unlisted difference or a stale entry (details on stderr).

use std::path::PathBuf;
use std::process::ExitCode;

use certclaims_tests::differential::{self, Differences};
use certclaims_tests::limbo::{self, Limbo};
use clap::Parser;

#[derive(Parser, Debug)]
#[command(
    name = "differential",
    about = "Compare certclaims' path engine with rustls-webpki on x509-limbo"
)]
struct Args {
    /// The corpus (`limbo.json`).
    corpus: PathBuf,
    /// The committed list of expected differences.
    #[arg(long, value_name = "DIFFERENCES.json")]
    check: Option<PathBuf>,
    /// Print every difference.
    #[arg(long)]
    list: bool,
    /// Validation time for testcases without one (default: now).
    #[arg(long, value_name = "RFC3339")]
    now: Option<String>,
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("differential: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(args: Args) -> Result<ExitCode, String> {
    let read =
        |p: &PathBuf| std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()));
    let corpus = Limbo::from_json(&read(&args.corpus)?)?;
    let now = limbo::time_or_now(args.now.as_deref())?;
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let compared = limbo::par_map(&corpus.testcases, threads, |tc| {
        differential::compare(tc, now)
    });
    let differ = compared.iter().filter(|c| c.differs()).count();
    println!(
        "testcases {}, agree {}, differ {differ}",
        compared.len(),
        compared.len() - differ
    );
    if args.list {
        for c in compared.iter().filter(|c| c.differs()) {
            let v = |o: &differential::Outcome| match o {
                Ok(s) => format!("SUCCESS ({s})"),
                Err(e) => format!("FAILURE ({e})"),
            };
            println!(
                "{}\n  certclaims: {}\n  webpki:     {}",
                c.id,
                v(&c.certclaims),
                v(&c.webpki)
            );
        }
    }
    let Some(path) = &args.check else {
        return Ok(ExitCode::SUCCESS);
    };
    let listed: Differences =
        serde_json::from_str(&read(path)?).map_err(|e| format!("{}: {e}", path.display()))?;
    let errors = differential::check(&compared, &listed);
    for e in &errors {
        eprintln!("differential: {e}");
    }
    Ok(if errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
