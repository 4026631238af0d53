//! Where the shared capture corpus is, and its capture files: included with
//! `#[path]` by the corpus tests of several crates (wire, capture, diagnose),
//! so that they all find the same files the same way.

use std::path::{Path, PathBuf};

/// `$DHCPLENS_CORPUS`, or `shared/corpus` beside the workspace root (or
/// beside one of its parents, for a git worktree kept in a subdirectory).
pub fn dir() -> PathBuf {
    if let Some(p) = std::env::var_os("DHCPLENS_CORPUS") {
        return PathBuf::from(p);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.ancestors()
        .skip(1)
        .map(|a| a.join("shared/corpus"))
        .find(|p| p.is_dir())
        .unwrap_or_else(|| root.join("../shared/corpus"))
}

/// Appends the pcap, pcapng and cap files under `dir`, at any depth.
pub fn capture_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("corpus directory") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            capture_files(&p, out);
        } else if matches!(
            p.extension().and_then(|e| e.to_str()),
            Some("pcap" | "pcapng" | "cap")
        ) {
            out.push(p);
        }
    }
}
