//! Named network namespaces (`ip netns`), entered from a short-lived thread.
//!
//! Every namespace the lab creates is called `dlab-<pid>-<seq>-<role>`: the pid
//! of the process that owns it, so [`sweep_stale`] can remove what a killed run
//! left behind, and a per-process sequence number, so parallel tests never
//! collide.

use std::ffi::OsStr;
use std::fs;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::sys;

/// What every lab namespace name starts with.
pub const PREFIX: &str = "dlab-";

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
    /// `net/ipv4/ip_forward`.
    pub fn sysctl(&self, key: &str, value: &str) -> Result<()> {
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
/// they are gone, so deleting it frees it.
fn kill_all_in(name: &str) {
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let pids: Vec<i32> = pids_in(name)
            .into_iter()
            .filter(|p| *p != std::process::id() as i32)
            .collect();
        if pids.is_empty() || Instant::now() > deadline {
            return;
        }
        for p in pids {
            let _ = sys::kill(p, sys::SIGKILL);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The pid in a lab namespace name, if it is one.
pub fn owner_pid(name: &str) -> Option<i32> {
    let rest = name.strip_prefix(PREFIX)?;
    let (pid, _) = rest.split_once('-')?;
    pid.parse().ok()
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
        let Some(pid) = owner_pid(&name) else {
            continue;
        };
        if pid == std::process::id() as i32 || sys::pid_alive(pid) {
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
    }
}
