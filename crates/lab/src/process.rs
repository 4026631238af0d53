//! Processes the lab runs inside its namespaces, their output captured into
//! the run directory, stopped (with their whole process group) on drop.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use capture::Timestamp;

use crate::log::{Log, POLL};
use crate::sys;

/// Where a process's standard output and error go.
#[derive(Debug, Clone)]
pub enum Output {
    /// Each line prefixed the way syslog writes it (RFC 3339 time, host,
    /// `tag[pid]:`), as the program would have logged to syslog.
    Stamped {
        path: PathBuf,
        host: String,
        tag: String,
    },
    /// Copied as is.
    Raw(PathBuf),
}

impl Output {
    fn path(&self) -> &PathBuf {
        match self {
            Output::Stamped { path, .. } | Output::Raw(path) => path,
        }
    }
}

/// A running (or finished) child process.
#[derive(Debug)]
pub struct Process {
    name: String,
    child: Child,
    log: Log,
    pump: Option<JoinHandle<()>>,
    status: Option<ExitStatus>,
}

impl Process {
    /// Starts `cmd` (typically from [`crate::Netns::command`]) in its own
    /// process group, its output going to `output`.
    pub fn spawn(name: &str, mut cmd: Command, output: Output) -> Result<Process> {
        let path = output.path().clone();
        // Waits look only at this process's lines, not at a predecessor's
        // with the same log.
        let log = Log::after_current_end(&path);
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        let (reader, writer) = sys::pipe().context("creating a pipe")?;
        cmd.stdin(Stdio::null())
            .stdout(Stdio::from(writer.try_clone()?))
            .stderr(Stdio::from(writer))
            .process_group(0);
        let child = cmd
            .spawn()
            .with_context(|| format!("starting {name}: {cmd:?}"))?;
        // `cmd` holds the pipe's write ends: drop it so the reader sees EOF
        // when the child exits.
        drop(cmd);
        let pid = child.id();
        let pump = std::thread::Builder::new()
            .name(format!("log-{name}"))
            .spawn(move || pump(reader, file, &output, pid))
            .context("starting a log thread")?;
        Ok(Process {
            name: name.to_string(),
            child,
            log,
            pump: Some(pump),
            status: None,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// The file its output goes to.
    pub fn log(&self) -> &Log {
        &self.log
    }

    /// Its exit status, if it has exited.
    pub fn try_status(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            if let Ok(Some(s)) = self.child.try_wait() {
                self.status = Some(s);
            }
        }
        self.status
    }

    /// `Ok` while it runs; an error naming its exit status once it has exited.
    pub fn check_running(&mut self) -> Result<()> {
        match self.try_status() {
            None => Ok(()),
            Some(s) => bail!("{} exited ({s})", self.name),
        }
    }

    /// Waits for a line of its output holding every one of `needles`; fails at
    /// once if it exits first.
    pub fn wait_for(&mut self, needles: &[&str], timeout: Duration) -> Result<String> {
        let log = self.log.clone();
        let found = log.wait_count_while(needles, 1, timeout, || self.check_running())?;
        Ok(found.into_iter().next().expect("one line"))
    }

    /// Waits up to `timeout` for it to exit by itself.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(s) = self.try_status() {
                self.join_pump();
                return Some(s);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(POLL);
        }
    }

    /// Sends `signal` to the process itself (not its group).
    pub fn signal(&self, signal: i32) -> Result<()> {
        sys::kill(self.pid(), signal).with_context(|| format!("signalling {}", self.name))
    }

    /// SIGINT, then waits up to `timeout` for it to exit (SIGKILL after that).
    pub fn interrupt(&mut self, timeout: Duration) -> Result<ExitStatus> {
        if self.try_status().is_none() {
            self.signal(sys::SIGINT)?;
        }
        self.finish(timeout)
    }

    /// SIGTERM to its process group, then waits up to 3 s (SIGKILL after that).
    pub fn stop(&mut self) -> Result<ExitStatus> {
        if self.try_status().is_none() {
            sys::kill(-self.pid(), sys::SIGTERM)?;
        }
        self.finish(Duration::from_secs(3))
    }

    fn finish(&mut self, timeout: Duration) -> Result<ExitStatus> {
        if let Some(s) = self.wait_exit(timeout) {
            return Ok(s);
        }
        sys::kill(-self.pid(), sys::SIGKILL)?;
        let s = self.child.wait().context("waiting for a killed process")?;
        self.status = Some(s);
        self.join_pump();
        Ok(s)
    }

    /// Waits (briefly) for the log thread to write the last lines. A
    /// grandchild still holding the pipe must not block: then it is left.
    fn join_pump(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(1);
        while let Some(p) = &self.pump {
            if p.is_finished() {
                let _ = self.pump.take().map(JoinHandle::join);
            } else if Instant::now() >= deadline {
                self.pump = None;
            } else {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if self.try_status().is_none() {
            let _ = sys::kill(-self.pid(), sys::SIGTERM);
            if self.wait_exit(Duration::from_secs(2)).is_none() {
                let _ = sys::kill(-self.pid(), sys::SIGKILL);
                let _ = self.child.wait();
            }
        }
        // Every process of its group, even after the leader exited.
        let _ = sys::kill(-self.pid(), sys::SIGKILL);
        self.join_pump();
    }
}

/// Copies the child's output into the log file, line by line, flushing each
/// so waits see it at once.
fn pump(reader: impl Read, mut file: File, output: &Output, pid: u32) {
    let mut r = BufReader::new(reader);
    let mut line = Vec::new();
    loop {
        line.clear();
        match r.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let res = match output {
            Output::Raw(_) => file.write_all(&line),
            Output::Stamped { host, tag, .. } => {
                let text = String::from_utf8_lossy(&line);
                let text = text.trim_end_matches(['\n', '\r']);
                writeln!(
                    file,
                    "{} {host} {tag}[{pid}]: {text}",
                    syslog_time(Timestamp::now())
                )
            }
        };
        if res.is_err() {
            return;
        }
        let _ = file.flush();
    }
}

/// RFC 3339 with microseconds and a numeric UTC offset, as rsyslog writes it.
pub(crate) fn syslog_time(t: Timestamp) -> String {
    let s = t.to_string();
    match s.strip_suffix('Z') {
        Some(base) => format!("{base}+00:00"),
        None => s,
    }
}

/// A status as text: `exit 0`, `signal 15`.
pub fn describe(s: ExitStatus) -> String {
    match (s.code(), s.signal()) {
        (Some(c), _) => format!("exit {c}"),
        (None, Some(sig)) => format!("signal {sig}"),
        _ => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syslog_time_has_a_numeric_offset() {
        assert_eq!(
            syslog_time(Timestamp::from_secs(0)),
            "1970-01-01T00:00:00.000000+00:00"
        );
    }

    #[test]
    fn output_is_stamped_and_the_exit_is_seen() {
        let dir = std::env::temp_dir().join(format!("lab-proc-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("echo.log");
        let _ = std::fs::remove_file(&path);
        let mut c = Command::new("sh");
        c.args(["-c", "echo one; echo two >&2"]);
        let mut p = Process::spawn(
            "echo",
            c,
            Output::Stamped {
                path: path.clone(),
                host: "box".into(),
                tag: "sh".into(),
            },
        )
        .unwrap();
        let s = p.wait_exit(Duration::from_secs(10)).expect("exits");
        assert!(s.success());
        let lines = p.log().lines();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(
            lines[0].ends_with(&format!(" box sh[{}]: one", p.pid())),
            "{lines:?}"
        );
        assert!(lines[1].ends_with(": two"), "{lines:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
