//! Re-records `examples/` at the workspace root from the lab's scenarios:
//! one directory per scenario with its captures (`*.pcap`), its logs
//! (`*.log`) and a one-line `DESCRIPTION`.
//!
//! Usage: `cargo run -p lab --bin record-examples [-- SCENARIO...]` (as root).
//! Scenarios run in parallel; an example is replaced only when its scenario
//! reproduced and passed its checks.

use std::fs;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use lab::scenarios::{Recording, Scenario, ALL};
use lab::Lab;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("usage: record-examples [SCENARIO...]\nscenarios:");
        for s in ALL {
            println!("  {}", s.name);
        }
        return ExitCode::SUCCESS;
    }
    let chosen: Vec<&Scenario> = if args.is_empty() {
        ALL.iter().collect()
    } else {
        let mut v = Vec::new();
        for a in &args {
            match lab::scenarios::find(a) {
                Some(s) => v.push(s),
                None => {
                    eprintln!("record-examples: no scenario {a:?} (see --help)");
                    return ExitCode::from(2);
                }
            }
        }
        v
    };
    let tools: Vec<lab::Tool> = chosen
        .iter()
        .flat_map(|s| s.tools.iter().copied())
        .collect();
    if let Some(why) = lab::unavailable(&tools) {
        eprintln!("record-examples: cannot run the lab here: {why}");
        return ExitCode::from(2);
    }
    let examples = lab::workspace_root().join("examples");
    let results: Vec<(&str, Result<Recording>)> = std::thread::scope(|s| {
        let handles: Vec<_> = chosen
            .iter()
            .map(|sc| {
                let h = s.spawn(move || Lab::new(sc.name).and_then(|lab| sc.run_in(lab)));
                (sc.name, h)
            })
            .collect();
        handles
            .into_iter()
            .map(|(name, h)| {
                let r = h
                    .join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("the scenario panicked")));
                (name, r)
            })
            .collect()
    });
    let mut failed = 0;
    for (name, r) in results {
        match r.and_then(|rec| export(&rec, &examples).map(|()| rec)) {
            Ok(rec) => println!("{name}: {}", rec.description),
            Err(e) => {
                failed += 1;
                eprintln!("record-examples: {name} failed, examples/{name} left as it was: {e:#}");
            }
        }
    }
    if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Replaces `examples/<name>/` with the recording's files and DESCRIPTION.
fn export(rec: &Recording, examples: &Path) -> Result<()> {
    let dest = examples.join(&rec.name);
    for f in &rec.files {
        if !rec.dir.join(f).is_file() {
            bail!("{} is missing from {}", f, rec.dir.display());
        }
    }
    if dest.exists() {
        fs::remove_dir_all(&dest).with_context(|| format!("removing {}", dest.display()))?;
    }
    fs::create_dir_all(&dest).with_context(|| format!("creating {}", dest.display()))?;
    for f in &rec.files {
        fs::copy(rec.dir.join(f), dest.join(f))
            .with_context(|| format!("copying {f} to {}", dest.display()))?;
    }
    let line = rec.description.replace('\n', " ");
    fs::write(dest.join("DESCRIPTION"), format!("{line}\n"))?;
    Ok(())
}
