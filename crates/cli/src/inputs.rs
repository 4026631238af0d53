//! Turning command-line inputs into files to read: `-` is stdin, a directory
//! stands for the captures (and logs) inside it.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

/// How every message, report and JSON field names standard input (given as `-`).
pub const STDIN_NAME: &str = "<stdin>";

/// Whether `path` is `-`: standard input.
pub fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// How messages, reports and JSON name input `path`: [`STDIN_NAME`] for `-`,
/// and bytes of a name that are not UTF-8 as U+FFFD (only opening a file
/// needs its real name).
pub fn shown(path: &Path) -> Cow<'_, str> {
    if is_stdin(path) {
        Cow::Borrowed(STDIN_NAME)
    } else {
        path.to_string_lossy()
    }
}

/// Standard input can be read once: an error if `-` comes more than once
/// among `inputs`.
pub fn stdin_once(inputs: impl IntoIterator<Item = impl AsRef<Path>>) -> anyhow::Result<()> {
    if inputs.into_iter().filter(|i| is_stdin(i.as_ref())).count() > 1 {
        anyhow::bail!("standard input (-) can be read only once: give it once");
    }
    Ok(())
}

/// Whether `a` and `b` name the same file: the same argument, or the same
/// canonical path (`-`, stdin, is no path).
pub fn same_file(a: &Path, b: &Path) -> bool {
    let canonical = |p: &Path| {
        (!is_stdin(p))
            .then(|| std::fs::canonicalize(p).ok())
            .flatten()
    };
    a.as_os_str() == b.as_os_str() || canonical(a).is_some_and(|c| Some(c) == canonical(b))
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

fn dir_entries(dir: &Path, exts: &[&str]) -> std::io::Result<Vec<PathBuf>> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && has_ext(p, exts))
        .collect();
    v.sort();
    Ok(v)
}

/// Whether input `path` is a directory to look into (`-` never is).
pub fn is_dir(path: &Path) -> bool {
    !is_stdin(path) && path.is_dir()
}

/// Capture paths for `inputs`: files as given, directories expanded (sorted).
pub fn captures(inputs: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for i in inputs {
        if is_dir(i) {
            let name = shown(i);
            let found = dir_entries(i, &CAPTURE_EXTENSIONS)
                .map_err(|e| anyhow::anyhow!("{name}: cannot list the directory: {e}"))?;
            if found.is_empty() {
                anyhow::bail!(
                    "{name}: the directory holds no capture files (*.pcap, *.pcapng, *.cap)"
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
pub fn logs_in_dirs(inputs: &[PathBuf]) -> Vec<PathBuf> {
    inputs
        .iter()
        .filter(|i| is_dir(i))
        .flat_map(|i| dir_entries(i, &LOG_EXTENSIONS).unwrap_or_default())
        .collect()
}
