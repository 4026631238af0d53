//! Named network namespaces (`ip netns`), entered from a short-lived thread.
//!
//! Every namespace the lab creates is called `dlab-<pid>.<start>-<seq>-<role>`:
//! the pid of the process that owns it and that process's start time (field
//! 22 of `/proc/<pid>/stat`), which together name one process even after
//! its pid is reused, so [`sweep_stale`] can remove what a killed run left
//! behind (and a new process with a reused pid never meets a stale name),
//! and a per-process sequence number, so parallel tests never collide.
//! `scripts/test` sweeps the same way before and after a test run.

use std::ffi::OsStr;
use std::fs;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::sys;

/// What every lab namespace name starts with.
pub const PREFIX: &str = "dlab-";

/// The sysctl trees that are per network namespace, the only ones
/// [`Netns::sysctl`] writes (any other, e.g. `kernel/` or `vm/`, would set
/// the host's value).
const NETNS_SYSCTLS: [&str; 3] = ["net/ipv4/", "net/ipv6/", "net/bridge/"];

/// `dlab-<pid>.<start>`: the part of this process's namespace names that
/// says it owns them.
pub fn own_prefix() -> String {
    static OWN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    OWN.get_or_init(|| {
        let pid = std::process::id() as i32;
        let start = sys::start_time(pid).unwrap_or(0);
        format!("{PREFIX}{pid}.{start}")
    })
    .clone()
}

/// A network namespace, deleted (with every process still in it) on drop.
#[derive(Debug)]
pub struct Netns {
    name: String,
}

impl Netns {
    /// Creates the namespace, brings `lo` up and turns IPv6 off in it (so
    /// captures hold no neighbour discovery noise).
    pub fn create(name: &str) -> Result<Netns> {
        ip_root(&["netns", "add", name])?;
        let ns = Netns {
            name: name.to_string(),
        };
        ns.ip(&["link", "set", "lo", "up"])?;
        ns.sysctl("net/ipv6/conf/all/disable_ipv6", "1")?;
        ns.sysctl("net/ipv6/conf/default/disable_ipv6", "1")?;
        Ok(ns)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs `f` on a thread that has entered this namespace, and returns its
    /// result. Sockets opened there stay in this namespace.
    pub fn enter<T: Send>(&self, f: impl FnOnce() -> T + Send) -> Result<T> {
        std::thread::scope(|s| {
            s.spawn(|| -> Result<T> {
                sys::enter_netns(&self.name)?;
                Ok(f())
            })
            .join()
            .map_err(|_| anyhow::anyhow!("thread in namespace {} panicked", self.name))?
        })
    }

    /// Writes a sysctl under `/proc/sys/` for this namespace, e.g.
    /// `net/ipv4/ip_forward`. Only keys under `net/ipv4`, `net/ipv6` and
    /// `net/bridge` are accepted: others are not per namespace.
    pub fn sysctl(&self, key: &str, value: &str) -> Result<()> {
        check_sysctl_key(key)?;
        let path = format!("/proc/sys/{key}");
        self.enter(|| -> std::io::Result<()> {
            fs::OpenOptions::new()
                .write(true)
                .open(&path)?
                .write_all(value.as_bytes())
        })?
        .with_context(|| format!("setting {key}={value} in {}", self.name))
    }

    /// `ip -n <ns> <args>`.
    pub fn ip(&self, args: &[&str]) -> Result<String> {
        let mut all = vec!["-n", &self.name];
        all.extend_from_slice(args);
        ip_root(&all)
    }

    /// A command that runs `program` in this namespace (`ip netns exec`, so
    /// `/etc/netns/<name>/` overrides apply).
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name]).arg(program);
        c
    }

    /// Runs `program args` in this namespace to completion; fails with its
    /// output when it exits non-zero.
    pub fn run(&self, program: &str, args: &[&str]) -> Result<String> {
        let mut c = self.command(program);
        c.args(args);
        output_of(c, &format!("{program} {}", args.join(" ")))
    }

    /// Pids of the processes whose network namespace this is.
    pub fn pids(&self) -> Vec<i32> {
        pids_in(&self.name)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        kill_all_in(&self.name);
        if let Err(e) = ip_root(&["netns", "del", &self.name]) {
            eprintln!("lab: could not delete namespace {}: {e:#}", self.name);
        }
    }
}

/// Refuses a sysctl key outside the per-namespace trees, or one that could
/// climb out of them (`..`, empty or `.` components).
fn check_sysctl_key(key: &str) -> Result<()> {
    let inside = NETNS_SYSCTLS.iter().any(|t| key.starts_with(t));
    let clean = key
        .split('/')
        .all(|c| !c.is_empty() && c != "." && c != "..");
    if !inside || !clean {
        bail!(
            "refusing sysctl {key:?}: only keys under {} are per network namespace",
            NETNS_SYSCTLS.map(|t| t.trim_end_matches('/')).join(", ")
        );
    }
    Ok(())
}

fn output_of(mut c: Command, what: &str) -> Result<String> {
    let out = c
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {what}"))?;
    if !out.status.success() {
        bail!(
            "{what} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim(),
            String::from_utf8_lossy(&out.stdout).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

pub(crate) fn ip_root(args: &[&str]) -> Result<String> {
    let mut c = Command::new("ip");
    c.args(args);
    output_of(c, &format!("ip {}", args.join(" ")))
}

fn pids_in(name: &str) -> Vec<i32> {
    Command::new("ip")
        .args(["netns", "pids", name])
        .stderr(Stdio::null())
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// SIGKILLs every process left in namespace `name` and waits (briefly) until
/// they are gone, so deleting it frees it. Processes that survive that are
/// named on stderr (the namespace is deleted anyway, and lives on, unnamed,
/// as long as they do).
fn kill_all_in(name: &str) {
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let pids: Vec<i32> = pids_in(name)
            .into_iter()
            .filter(|p| *p != std::process::id() as i32)
            .collect();
        if pids.is_empty() {
            return;
        }
        if Instant::now() > deadline {
            let survivors: Vec<String> = pids
                .iter()
                .map(|&p| format!("{p} ({})", command_line(p)))
                .collect();
            eprintln!(
                "lab: processes in namespace {name} survived SIGKILL for 3 s: {}",
                survivors.join(", ")
            );
            return;
        }
        for p in pids {
            let _ = sys::kill(p, sys::SIGKILL);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Process `pid`'s command line, for messages.
fn command_line(pid: i32) -> String {
    match fs::read(format!("/proc/{pid}/cmdline")) {
        Ok(b) if !b.is_empty() => String::from_utf8_lossy(&b)
            .trim_end_matches('\0')
            .replace('\0', " "),
        _ => fs::read_to_string(format!("/proc/{pid}/comm"))
            .map(|c| format!("[{}]", c.trim()))
            .unwrap_or_else(|_| "gone".into()),
    }
}

/// Who owns a lab namespace, read from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner {
    pub pid: i32,
    /// The owner's start time; `None` in names of older runs
    /// (`dlab-<pid>-<seq>-…`), judged by pid alone.
    pub start: Option<u64>,
}

impl Owner {
    /// Whether the owning process still runs: its pid is alive and, when the
    /// name has it, with the same start time (not a reused pid).
    pub fn alive(&self) -> bool {
        if !sys::pid_alive(self.pid) {
            return false;
        }
        match self.start {
            None => true,
            // A process that vanished between the two checks is gone.
            Some(start) => sys::start_time(self.pid) == Some(start),
        }
    }
}

/// The owner in a lab namespace name, if it is one.
pub fn owner(name: &str) -> Option<Owner> {
    let rest = name.strip_prefix(PREFIX)?;
    let (id, _) = rest.split_once('-')?;
    let (pid, start) = match id.split_once('.') {
        Some((pid, start)) => (pid, Some(start.parse().ok()?)),
        None => (id, None),
    };
    Some(Owner {
        pid: pid.parse().ok()?,
        start,
    })
}

/// The pid in a lab namespace name, if it is one.
pub fn owner_pid(name: &str) -> Option<i32> {
    owner(name).map(|o| o.pid)
}

/// Deletes lab namespaces (and their processes) whose owning process is dead:
/// what a killed test run left behind. Returns their names.
pub fn sweep_stale() -> Vec<String> {
    let mut removed = Vec::new();
    let Ok(dir) = fs::read_dir("/run/netns") else {
        return removed;
    };
    for entry in dir.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(owner) = owner(&name) else {
            continue;
        };
        // Our own (pid and start time) are alive too.
        if owner.alive() {
            continue;
        }
        kill_all_in(&name);
        if ip_root(&["netns", "del", &name]).is_ok() {
            removed.push(name);
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_pid_reads_only_lab_names() {
        assert_eq!(owner_pid("dlab-1234-7-server"), Some(1234));
        assert_eq!(owner_pid("dlab-1234-7-sw-lan"), Some(1234));
        assert_eq!(owner_pid("dltest-logs-25958-s"), None);
        assert_eq!(owner_pid("dlab-x-1"), None);
        assert_eq!(owner_pid("other"), None);
        assert_eq!(
            owner("dlab-1234.98765-7-sw-lan"),
            Some(Owner {
                pid: 1234,
                start: Some(98765)
            })
        );
        assert_eq!(
            owner("dlab-1234-7-server"),
            Some(Owner {
                pid: 1234,
                start: None
            })
        );
        assert_eq!(owner("dlab-1234.x-7-server"), None);
    }

    #[test]
    fn ownership_needs_the_same_start_time() {
        let own = owner(&format!("{}-0-x", own_prefix())).unwrap();
        assert_eq!(own.pid, std::process::id() as i32);
        assert!(own.alive());
        let reused = Owner {
            start: Some(own.start.unwrap() + 1),
            ..own
        };
        assert!(!reused.alive(), "a pid with another start time is not ours");
        let legacy = Owner { start: None, ..own };
        assert!(legacy.alive());
    }

    #[test]
    fn only_per_namespace_sysctls_are_accepted() {
        for ok in [
            "net/ipv4/ip_forward",
            "net/ipv6/conf/all/disable_ipv6",
            "net/bridge/bridge-nf-call-iptables",
        ] {
            assert!(check_sysctl_key(ok).is_ok(), "{ok}");
        }
        for bad in [
            "kernel/core_pattern",
            "vm/overcommit_memory",
            "net/core/somaxconn",
            "net/ipv4/../../kernel/core_pattern",
            "net/ipv4//x",
            "/net/ipv4/ip_forward",
            "net/ipv4",
            "net/ipv4x/y",
        ] {
            assert!(check_sysctl_key(bad).is_err(), "{bad}");
        }
    }
}
