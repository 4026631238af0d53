//! Prints the events of log files: `cargo run -p logs --example dump -- FILE...`.

use std::path::Path;

use logs::{open, Options, TimeContext};

fn main() {
    let mut failed = false;
    for path in std::env::args().skip(1) {
        let mtime = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_nanos() as i64);
        let options = Options {
            time: TimeContext {
                reference: mtime,
                ..TimeContext::default()
            },
            program: None,
        };
        let mut reader = match open(Path::new(&path), options) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("{e}");
                failed = true;
                continue;
            }
        };
        println!("== {path}");
        for event in &mut reader {
            match event {
                Ok(e) => println!(
                    "{:>4} {:<8} {:<26} {:<24} {}",
                    e.line,
                    e.program.name(),
                    e.kind.name(),
                    e.cause().map_or(String::new(), |c| c.to_string()),
                    serde_json::to_string(&e.fields).unwrap_or_default()
                ),
                Err(e) => {
                    eprintln!("{e}");
                    failed = true;
                }
            }
        }
        println!("   {:?}", reader.stats());
    }
    std::process::exit(i32::from(failed));
}
