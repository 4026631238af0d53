//! Log files written by the lab's daemons and clients, and waiting on them.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Result};

/// How often waits look at a file again.
pub const POLL: Duration = Duration::from_millis(20);

/// A text log file, read afresh on every call (it is being written).
#[derive(Debug, Clone)]
pub struct Log {
    path: PathBuf,
    /// Bytes before this offset belong to earlier writers and are not read.
    start: u64,
}

impl Log {
    pub fn new(path: impl Into<PathBuf>) -> Log {
        Log {
            path: path.into(),
            start: 0,
        }
    }

    /// The part of the file written from now on: a daemon restarted with
    /// the same log must not find its predecessor's lines.
    pub fn after_current_end(path: impl Into<PathBuf>) -> Log {
        let path = path.into();
        let start = fs::metadata(&path).map_or(0, |m| m.len());
        Log { path, start }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The whole file, or what was written since [`Log::after_current_end`]
    /// (empty if it does not exist yet).
    pub fn text(&self) -> String {
        fs::read(&self.path)
            .map(|b| {
                let from = usize::try_from(self.start).map_or(b.len(), |s| s.min(b.len()));
                String::from_utf8_lossy(&b[from..]).into_owned()
            })
            .unwrap_or_default()
    }

    pub fn lines(&self) -> Vec<String> {
        self.text().lines().map(str::to_string).collect()
    }

    /// Lines that contain every one of `needles`.
    pub fn matching(&self, needles: &[&str]) -> Vec<String> {
        self.lines()
            .into_iter()
            .filter(|l| line_matches(l, needles))
            .collect()
    }

    /// The first line that contains every one of `needles`.
    pub fn find(&self, needles: &[&str]) -> Option<String> {
        self.matching(needles).into_iter().next()
    }

    pub fn count(&self, needles: &[&str]) -> usize {
        self.matching(needles).len()
    }

    /// The last `n` lines, for error messages.
    pub fn tail(&self, n: usize) -> String {
        let lines = self.lines();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// Waits until a line contains every one of `needles`; returns it.
    pub fn wait_for(&self, needles: &[&str], timeout: Duration) -> Result<String> {
        Ok(self
            .wait_count(needles, 1, timeout)?
            .into_iter()
            .next()
            .expect("one line"))
    }

    /// Waits until at least `n` lines contain every one of `needles`.
    pub fn wait_count(&self, needles: &[&str], n: usize, timeout: Duration) -> Result<Vec<String>> {
        self.wait_count_while(needles, n, timeout, || Ok(()))
    }

    /// [`Log::wait_count`], calling `alive` on every poll so a wait on a
    /// process that died ends at once with its error.
    pub fn wait_count_while(
        &self,
        needles: &[&str],
        n: usize,
        timeout: Duration,
        mut alive: impl FnMut() -> Result<()>,
    ) -> Result<Vec<String>> {
        let deadline = Instant::now() + timeout;
        loop {
            let found = self.matching(needles);
            if found.len() >= n {
                return Ok(found);
            }
            if let Err(e) = alive() {
                bail!(
                    "waiting for {n} line(s) with {needles:?} in {}: {e:#}\n--- last lines ---\n{}",
                    self.path.display(),
                    self.tail(25)
                );
            }
            if Instant::now() >= deadline {
                bail!(
                    "timed out after {timeout:?} waiting for {n} line(s) with {needles:?} in {} \
                     (found {})\n--- last lines ---\n{}",
                    self.path.display(),
                    found.len(),
                    self.tail(25)
                );
            }
            std::thread::sleep(POLL);
        }
    }
}

pub(crate) fn line_matches(line: &str, needles: &[&str]) -> bool {
    needles.iter().all(|n| line.contains(n))
}

/// Polls `f` until it returns `Some`, or fails with `what` after `timeout`.
pub fn wait_until<T>(
    what: &str,
    timeout: Duration,
    mut f: impl FnMut() -> Result<Option<T>>,
) -> Result<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f()? {
            return Ok(v);
        }
        if Instant::now() >= deadline {
            bail!("timed out after {timeout:?} waiting for {what}");
        }
        std::thread::sleep(POLL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_needs_every_needle() {
        assert!(line_matches(
            "DHCPDISCOVER from aa via eth0",
            &["DISCOVER", "eth0"]
        ));
        assert!(!line_matches(
            "DHCPDISCOVER from aa via eth0",
            &["OFFER", "eth0"]
        ));
        assert!(line_matches("anything", &[]));
    }

    #[test]
    fn missing_file_reads_empty_and_times_out_with_a_reason() {
        let log = Log::new("/nonexistent/lab/test.log");
        assert_eq!(log.text(), "");
        let e = log.wait_for(&["x"], Duration::ZERO).unwrap_err();
        assert!(e.to_string().contains("timed out"), "{e}");
    }

    #[test]
    fn a_log_after_the_current_end_ignores_earlier_lines() {
        let path =
            std::env::temp_dir().join(format!("dhcplens-lab-log-{}.log", std::process::id()));
        fs::write(&path, "Server starting service.\n").unwrap();
        let log = Log::after_current_end(&path);
        assert_eq!(log.text(), "");
        assert!(log.wait_for(&["starting"], Duration::ZERO).is_err());
        let mut f = fs::OpenOptions::new().append(true).open(&path).unwrap();
        std::io::Write::write_all(&mut f, b"Server starting service.\n").unwrap();
        assert_eq!(log.count(&["starting"]), 1);
        assert_eq!(Log::new(&path).count(&["starting"]), 2);
        fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_dead_process_ends_the_wait() {
        let log = Log::new("/nonexistent/lab/test.log");
        let e = log
            .wait_count_while(&["x"], 1, Duration::from_secs(60), || bail!("exited"))
            .unwrap_err();
        assert!(e.to_string().contains("exited"), "{e}");
    }
}
