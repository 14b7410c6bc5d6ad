//! `serve`'s log: one line per request and per refused handshake, through `tracing`, as text
//! (`--log-format text`, the default) or JSON objects (`--log-format json`, one per line:
//! `timestamp`, `level`, `message` and the event's fields at the top level), on stderr.

use std::io::IsTerminal;

/// `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LogFormat {
    /// Human-readable lines: timestamp, level, message, then `field=value` pairs.
    Text,
    /// One JSON object per line.
    Json,
}

/// Installs the subscriber for the process (a second call is a no-op).
pub(crate) fn init(format: LogFormat) {
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_max_level(tracing::Level::INFO);
    let _ = match format {
        LogFormat::Text => builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .try_init(),
    };
}
