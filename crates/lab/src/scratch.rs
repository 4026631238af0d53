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
    /// Creates `dhcplens-<tag>-<pid>-<n>-<nanoseconds>`, `n` counting this
    /// process's scratch directories (tests of one binary run on several
    /// threads): a new directory (one that exists already, planted by
    /// another user or left by a crash, is never taken), readable by its
    /// owner only.
    pub fn new(tag: &str) -> Scratch {
        use std::os::unix::fs::DirBuilderExt;
        static SEQ: AtomicU32 = AtomicU32::new(0);
        for _ in 0..100 {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos());
            let dir = std::env::temp_dir().join(format!(
                "dhcplens-{tag}-{}-{}-{nanos}",
                std::process::id(),
                SEQ.fetch_add(1, Ordering::Relaxed)
            ));
            match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
                Ok(()) => return Scratch(dir),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => panic!("scratch directory {}: {e}", dir.display()),
            }
        }
        panic!("no new scratch directory for {tag} after 100 tries")
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
