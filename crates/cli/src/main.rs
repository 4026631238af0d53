//! `dhcplens`: the command line. Thin: arguments in, library calls, printers out.
//!
//! Exit codes: 0 healthy / answered, 1 problems found / no answer, 2 error.

mod args;
mod behind;
mod compare;
mod decode;
mod diagnose;
mod diagnose_text;
mod explain;
mod feed;
mod html;
mod inputs;
mod packet_json;
mod packet_text;
mod probe_args;
mod send;
mod serve;
mod style;
#[cfg(test)]
mod testutil;
mod watch;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;

use args::{Cli, Command};

/// What a command concluded, mapped to the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 0: healthy, or the question was answered.
    Healthy,
    /// 1: problems found, or no answer.
    Problems,
    /// 2: an error kept the command from doing its job (fully).
    Error,
}

impl Outcome {
    /// The worse of two outcomes.
    pub fn and(self, other: Outcome) -> Outcome {
        use Outcome::*;
        match (self, other) {
            (Error, _) | (_, Error) => Error,
            (Problems, _) | (_, Problems) => Problems,
            _ => Healthy,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let style = style::Style::new(cli.color);
    let behind = match cli.command {
        // The commands whose reports run to hundreds of megabytes.
        Command::Decode(_) | Command::Diagnose(_) => behind::WriteBehind::for_stdout(),
        _ => None,
    };
    let result = match behind {
        Some(behind) => {
            let mut out = io::BufWriter::with_capacity(64 * 1024, behind);
            let result = run(&cli.command, style, &mut out);
            let written = out
                .into_inner()
                .map_err(io::IntoInnerError::into_error)
                .and_then(behind::WriteBehind::finish);
            finished(result, written)
        }
        None => {
            let mut out = io::BufWriter::with_capacity(64 * 1024, io::stdout().lock());
            let result = run(&cli.command, style, &mut out);
            let flushed = out.flush();
            finished(result, flushed)
        }
    };
    match result {
        Ok(Outcome::Healthy) => ExitCode::from(0),
        Ok(Outcome::Problems) => ExitCode::from(1),
        Ok(Outcome::Error) => ExitCode::from(2),
        Err(e) if is_broken_pipe(&e) => ExitCode::from(0),
        Err(e) => {
            warn(format_args!("error: {e:#}"));
            ExitCode::from(2)
        }
    }
}

/// Runs one command, writing its report to `out`.
fn run(command: &Command, style: style::Style, out: &mut impl Write) -> anyhow::Result<Outcome> {
    match command {
        Command::Decode(a) => decode::run(a, style, out),
        Command::Diagnose(a) => diagnose::run(a, style, out),
        Command::Probe(a) => send::probe(a, style, out),
        Command::Replay(a) => send::replay(a, style, out),
        Command::Diff(a) => compare::diff_cmd(a, style, out),
        Command::Bisect(a) => compare::bisect_cmd(a, style, out),
        Command::Watch(a) => watch::run(a, style, out),
        Command::Explain(a) => explain::run(a, style, out),
        Command::Serve(a) => serve::run(a, style, out),
    }
}

/// A run's outcome once its output is flushed: a command that ran to its
/// end keeps its outcome when only the last of its output found the reader
/// gone (`| head`); one that stopped because of it has none (exit 0).
fn finished<T>(result: anyhow::Result<Outcome>, flushed: io::Result<T>) -> anyhow::Result<Outcome> {
    match (result, flushed) {
        (Ok(o), Err(e)) if e.kind() == io::ErrorKind::BrokenPipe => Ok(o),
        (result, flushed) => result.and_then(|o| flushed.map(|_| o).map_err(Into::into)),
    }
}

/// Output closed early (e.g. `| head`): not an error. (`serde_json` keeps
/// the I/O error of a failed write out of the error's chain, but says its
/// kind.)
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        let kind = match c.downcast_ref::<serde_json::Error>() {
            Some(e) => e.io_error_kind(),
            None => c.downcast_ref::<io::Error>().map(io::Error::kind),
        };
        kind == Some(io::ErrorKind::BrokenPipe)
    })
}

/// Prints a warning about an input to stderr, prefixed like every message.
/// A stderr that is closed (`2>&1 | head -1`) is not an error: where
/// `eprintln!` would panic, the message is lost.
/// Its controls are written out ([`style::printable`]): warnings quote
/// file names and log lines.
pub fn warn(what: impl std::fmt::Display) {
    let what = what.to_string();
    let _ = writeln!(io::stderr().lock(), "dhcplens: {}", style::printable(&what));
}
