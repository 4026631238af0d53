//! Scratch directories for tests that write files: each is new and empty,
//! unique to its process, thread and call, and removed when dropped (also
//! when the test panics), so test runs leave nothing behind in the system's
//! temporary directory.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// A fresh directory under the system's temporary directory, removed with
/// everything in it when dropped.
#[derive(Debug)]
pub struct Scratch(PathBuf);

impl Scratch {
    /// Creates `dhcplens-<tag>-<pid>-<n>`, `n` counting this process's
    /// scratch directories (tests of one binary run on several threads).
    pub fn new(tag: &str) -> Scratch {
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "dhcplens-{tag}-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)
            .unwrap_or_else(|e| panic!("scratch directory {}: {e}", dir.display()));
        Scratch(dir)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// `name` in the directory.
    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// Writes `bytes` to `name` in the directory and returns its path.
    pub fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.join(name);
        std::fs::write(&p, bytes).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        p
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::Scratch;

    #[test]
    fn a_scratch_directory_is_fresh_and_removed_on_drop() {
        let a = Scratch::new("scratch-test");
        let b = Scratch::new("scratch-test");
        assert_ne!(a.path(), b.path());
        let f = a.file("x.txt", b"hello");
        assert_eq!(std::fs::read(&f).unwrap(), b"hello");
        let dir = a.path().to_owned();
        drop(a);
        assert!(!dir.exists(), "{} left behind", dir.display());
        assert!(b.path().is_dir());
    }
}
