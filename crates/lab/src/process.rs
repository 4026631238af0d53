//! Processes the lab runs inside its namespaces, their output captured into
//! the run directory, stopped (with their whole process group) on drop.
//!
//! A process's exit is seen without reaping it (`waitid` with `WNOWAIT`).
//! When it leaves no other process in its group it is reaped at once (so a
//! restarted daemon finds no live pid in its old pid file); otherwise the
//! leader stays a zombie until the [`Process`] is dropped, so its pid, which
//! is also its process group's id, cannot be reused by an unrelated process
//! while the lab still signals that group. The group of a reaped leader is
//! never signalled.

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
    /// Its exit status once it has exited.
    status: Option<ExitStatus>,
    /// Whether the leader was reaped: from then on its pid may name another
    /// process (group), which is never signalled.
    reaped: bool,
}

impl Process {
    /// Starts `cmd` (typically from [`crate::Netns::command`]) in its own
    /// process group, its output going to `output`.
    ///
    /// The child gets SIGKILL if the *thread* calling this exits
    /// (`PR_SET_PDEATHSIG`), so a test process killed before its `Drop`s ran
    /// leaves no daemon running in an orphaned namespace. Spawn a process
    /// from the thread that keeps it (not from a short-lived helper thread),
    /// or it dies with that thread. See `sys::die_with_parent` for what the
    /// setting does not cover.
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
        sys::die_with_parent(&mut cmd);
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
            reaped: false,
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

    /// Its exit status, if it has exited. The process is not reaped (see
    /// the module's documentation).
    pub fn try_status(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            if let Ok(Some(s)) = sys::exit_status_nowait(self.pid(), false) {
                self.exited(s);
            }
        }
        self.status
    }

    /// Notes the leader's exit, and reaps it when nothing else is left in
    /// its group (an empty group cannot be joined again, so nothing is left
    /// to signal either).
    fn exited(&mut self, s: ExitStatus) {
        self.status = Some(s);
        if !self.reaped && sys::group_members(self.pid()).is_empty() {
            let _ = self.child.wait();
            self.reaped = true;
        }
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
        // Not exited, so not reaped: the group id is still its own.
        sys::kill(-self.pid(), sys::SIGKILL)?;
        let s = sys::exit_status_nowait(self.pid(), true)
            .context("waiting for a killed process")?
            .context("a killed process did not exit")?;
        self.exited(s);
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
            let _ = self.wait_exit(Duration::from_secs(2));
        }
        if !self.reaped {
            // Every process of its group, even after the leader exited: the
            // leader is alive or a zombie, so the group id is still the one
            // it made, never a reused pid's.
            let _ = sys::kill(-self.pid(), sys::SIGKILL);
            // Only now is the leader reaped (waited for if it ignored
            // SIGTERM); nothing signals its pid after this.
            let _ = self.child.wait();
            self.reaped = true;
        }
        self.join_pump();
    }
}

/// Makes the child `cmd` starts get SIGKILL when the calling *thread*
/// exits (`PR_SET_PDEATHSIG`), as [`Process::spawn`] does, for tests that run
/// a command of their own in a namespace. Spawn it from the thread that
/// waits for it.
pub fn die_with_parent(cmd: &mut Command) {
    sys::die_with_parent(cmd);
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

    #[test]
    fn a_leader_is_reaped_at_once_alone_and_kept_while_its_group_lives() {
        let dir = std::env::temp_dir().join(format!("lab-proc-group-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // Alone: reaped as soon as its exit is seen.
        let c = Command::new("true");
        let mut p = Process::spawn("true", c, Output::Raw(dir.join("true.log"))).unwrap();
        assert!(p.wait_exit(Duration::from_secs(10)).unwrap().success());
        assert!(p.reaped);
        drop(p);
        // With a child left in its group: a zombie until dropped, then the
        // group is killed before the leader is reaped.
        let mut c = Command::new("sh");
        c.args(["-c", "sleep 60 & echo $!"]);
        let mut p = Process::spawn("sh", c, Output::Raw(dir.join("sh.log"))).unwrap();
        assert!(p.wait_exit(Duration::from_secs(10)).unwrap().success());
        let line = p
            .log()
            .wait_count_while(&[""], 1, Duration::from_secs(10), || Ok(()));
        let sleeper: i32 = line.unwrap()[0].trim().parse().unwrap();
        assert!(!p.reaped);
        assert!(sys::pid_alive(p.pid()), "the leader stays a zombie");
        assert!(sys::pid_alive(sleeper));
        drop(p);
        let deadline = Instant::now() + Duration::from_secs(10);
        while sys::start_time(sleeper).is_some_and(|_| {
            std::fs::read_to_string(format!("/proc/{sleeper}/cmdline"))
                .is_ok_and(|c| c.starts_with("sleep"))
        }) {
            assert!(Instant::now() < deadline, "the group was not killed");
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
