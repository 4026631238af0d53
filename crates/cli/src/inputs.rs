//! Turning command-line inputs into files to read: `-` is stdin, a directory
//! stands for the captures (and logs) inside it.

use std::path::Path;

/// How every message, report and JSON field names standard input (given as `-`).
pub const STDIN_NAME: &str = "<stdin>";

/// How messages, reports and JSON name input `path`: [`STDIN_NAME`] for `-`.
pub fn shown(path: &str) -> &str {
    if path == "-" {
        STDIN_NAME
    } else {
        path
    }
}

/// What to add to the message of an input that could not be opened: a
/// directory's file whose name is not UTF-8 is listed under a name with
/// U+FFFD in it, which no file has. (Inputs are passed on as text.)
pub fn open_hint(path: &str) -> &'static str {
    if path.contains('\u{FFFD}') && !Path::new(path).exists() {
        " (its name is not UTF-8, which dhcplens cannot pass on: rename the file, or give it on standard input, \
         e.g. `dhcplens diagnose - < FILE`)"
    } else {
        ""
    }
}

/// Standard input can be read once: an error if `-` comes more than once
/// among `inputs`.
pub fn stdin_once<'a>(inputs: impl IntoIterator<Item = &'a str>) -> anyhow::Result<()> {
    if inputs.into_iter().filter(|i| *i == "-").count() > 1 {
        anyhow::bail!("standard input (-) can be read only once: give it once");
    }
    Ok(())
}

/// Whether `a` and `b` name the same file: the same argument, or the same
/// canonical path (`-`, stdin, is no path).
pub fn same_file(a: &str, b: &str) -> bool {
    let canonical = |p: &str| (p != "-").then(|| std::fs::canonicalize(p).ok()).flatten();
    a == b || canonical(a).is_some_and(|c| Some(c) == canonical(b))
}

/// File extensions read as captures when a directory is given.
const CAPTURE_EXTENSIONS: [&str; 4] = ["pcap", "pcapng", "cap", "dmp"];
/// File extensions read as logs when a directory is given.
const LOG_EXTENSIONS: [&str; 2] = ["log", "journal"];

fn has_ext(p: &Path, exts: &[&str]) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| exts.iter().any(|x| x.eq_ignore_ascii_case(e)))
}

fn dir_entries(dir: &Path, exts: &[&str]) -> std::io::Result<Vec<String>> {
    let mut v: Vec<String> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && has_ext(p, exts))
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    v.sort();
    Ok(v)
}

/// Capture paths for `inputs`: files as given, directories expanded (sorted).
pub fn captures(inputs: &[String]) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    for i in inputs {
        let p = Path::new(i);
        if i != "-" && p.is_dir() {
            let found = dir_entries(p, &CAPTURE_EXTENSIONS)
                .map_err(|e| anyhow::anyhow!("{i}: cannot list the directory: {e}"))?;
            if found.is_empty() {
                anyhow::bail!(
                    "{i}: the directory holds no capture files (*.pcap, *.pcapng, *.cap)"
                );
            }
            out.extend(found);
        } else {
            out.push(i.clone());
        }
    }
    Ok(out)
}

/// Log files inside the directories among `inputs`.
pub fn logs_in_dirs(inputs: &[String]) -> Vec<String> {
    inputs
        .iter()
        .filter(|i| *i != "-" && Path::new(i).is_dir())
        .flat_map(|i| dir_entries(Path::new(i), &LOG_EXTENSIONS).unwrap_or_default())
        .collect()
}
