//! `dhcplens`: the command line. Thin: arguments in, library calls, printers out.
//!
//! Exit codes: 0 healthy / answered, 1 problems found / no answer, 2 error.

mod args;
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
mod style;
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
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(64 * 1024, stdout.lock());
    let result = match &cli.command {
        Command::Decode(a) => decode::run(a, style, &mut out),
        Command::Diagnose(a) => diagnose::run(a, style, &mut out),
        Command::Probe(a) => send::probe(a, style, &mut out),
        Command::Replay(a) => send::replay(a, style, &mut out),
        Command::Diff(a) => compare::diff_cmd(a, style, &mut out),
        Command::Bisect(a) => compare::bisect_cmd(a, style, &mut out),
        Command::Watch(a) => watch::run(a, style, &mut out),
        Command::Explain(a) => explain::run(a, style, &mut out),
    };
    let flushed = out.flush();
    match result.and_then(|o| flushed.map(|_| o).map_err(Into::into)) {
        Ok(Outcome::Healthy) => ExitCode::from(0),
        Ok(Outcome::Problems) => ExitCode::from(1),
        Ok(Outcome::Error) => ExitCode::from(2),
        Err(e) if is_broken_pipe(&e) => ExitCode::from(0),
        Err(e) => {
            eprintln!("dhcplens: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Output closed early (e.g. `| head`): not an error.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// Prints a warning about an input to stderr, prefixed like every message.
pub fn warn(what: impl std::fmt::Display) {
    eprintln!("dhcplens: {what}");
}
