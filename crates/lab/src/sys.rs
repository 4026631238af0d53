//! The few system calls the lab needs that std does not offer.
#![allow(unsafe_code)]

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, ExitStatus};

/// Moves the calling thread into the network namespace `/run/netns/<name>`.
/// Only this thread changes namespace; call it from a thread that ends soon.
pub(crate) fn enter_netns(name: &str) -> io::Result<()> {
    let path = format!("/run/netns/{name}");
    let f = File::open(&path).map_err(|e| io::Error::new(e.kind(), format!("{path}: {e}")))?;
    // SAFETY: setns(2) on a descriptor we own; it only changes this thread's
    // network namespace.
    let r = unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) };
    if r < 0 {
        let e = io::Error::last_os_error();
        return Err(io::Error::new(e.kind(), format!("setns({path}): {e}")));
    }
    Ok(())
}

/// Sends `signal` to process `pid`, or to process group `-pid` when `pid` is
/// negative. A process that is already gone is not an error.
pub(crate) fn kill(pid: i32, signal: i32) -> io::Result<()> {
    // SAFETY: kill(2) with plain integers.
    let r = unsafe { libc::kill(pid, signal) };
    if r < 0 {
        let e = io::Error::last_os_error();
        if e.raw_os_error() == Some(libc::ESRCH) {
            return Ok(());
        }
        return Err(e);
    }
    Ok(())
}

/// Whether a process with this pid exists (a zombie counts).
pub(crate) fn pid_alive(pid: i32) -> bool {
    if pid <= 0 {
        return false;
    }
    // SAFETY: kill(2) with signal 0 only checks for existence and permission.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

pub(crate) fn is_root() -> bool {
    // SAFETY: geteuid(2) cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// A pipe: its read end as a `File`, its write end as a descriptor (both
/// close-on-exec; `Command` duplicates the write end into the child).
pub(crate) fn pipe() -> io::Result<(File, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: pipe2(2) writes two descriptors into `fds`.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both descriptors are fresh and owned by nobody else.
    unsafe { Ok((File::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1]))) }
}

/// Makes the child that `cmd` starts get SIGKILL when the thread that
/// spawns it exits (`PR_SET_PDEATHSIG`): a test process killed before its
/// `Drop`s run leaves no daemon behind.
///
/// Beware: the "parent" the kernel watches is the spawning *thread*, not
/// the process. A child spawned from a short-lived thread (e.g. inside
/// [`crate::Netns::enter`] or a `thread::scope` worker) is killed when that
/// thread ends, so spawn long-lived processes from the thread that owns
/// them. The setting does not survive a `fork` in the child (a daemon that
/// backgrounds itself), an exec of a set-user-ID binary, or the child
/// changing its credentials (dropping to another user): those cases are left
/// to the namespace teardown and to the sweep of stale namespaces.
pub(crate) fn die_with_parent(cmd: &mut Command) {
    // SAFETY: `getpid`, `prctl`, `getppid` and `_exit` are
    // async-signal-safe; the closure allocates nothing.
    let parent = unsafe { libc::getpid() };
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) < 0 {
                return Err(io::Error::last_os_error());
            }
            // The parent may have died between fork and prctl.
            if libc::getppid() != parent {
                libc::_exit(1);
            }
            Ok(())
        });
    }
}

/// The exit status of child `pid` if it has exited, *without reaping it*
/// (`waitid` with `WNOWAIT`): until it is reaped its pid (and so its process
/// group id) cannot be reused, so the group may still be signalled safely.
/// With `block`, waits for it to exit.
pub(crate) fn exit_status_nowait(pid: i32, block: bool) -> io::Result<Option<ExitStatus>> {
    let mut flags = libc::WEXITED | libc::WNOWAIT;
    if !block {
        flags |= libc::WNOHANG;
    }
    loop {
        // SAFETY: a zeroed siginfo_t is valid; waitid(2) writes into it.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: waitid(2) on our own child with a valid siginfo_t pointer.
        let r = unsafe { libc::waitid(libc::P_PID, pid as libc::id_t, &mut info, flags) };
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        // SAFETY: after a successful waitid these fields are set (si_pid 0
        // when WNOHANG found nothing).
        let (si_pid, status) = unsafe { (info.si_pid(), info.si_status()) };
        if si_pid == 0 {
            return Ok(None);
        }
        let raw = match info.si_code {
            libc::CLD_EXITED => (status & 0xff) << 8,
            libc::CLD_DUMPED => (status & 0x7f) | 0x80,
            _ => status & 0x7f,
        };
        return Ok(Some(ExitStatus::from_raw(raw)));
    }
}

/// The start time of process `pid` (field 22 of `/proc/<pid>/stat`, clock
/// ticks since boot): with the pid, it names one process for good, where a
/// pid alone may be reused.
pub(crate) fn start_time(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_start_time(&stat)
}

/// Field 22 of a `/proc/<pid>/stat` line. The command (field 2) is in
/// parentheses and may itself hold spaces and parentheses: fields are
/// counted after its last `)`.
pub(crate) fn parse_start_time(stat: &str) -> Option<u64> {
    stat_field(stat, 22)?.parse().ok()
}

/// Field `n` (from 1, at least 3) of a `/proc/<pid>/stat` line.
fn stat_field(stat: &str, n: usize) -> Option<&str> {
    let (_, rest) = stat.rsplit_once(')')?;
    // `rest` starts at field 3.
    rest.split_whitespace().nth(n.checked_sub(3)?)
}

/// The processes in process group `pgid` other than its leader `pgid`
/// (zombies included), from `/proc/<pid>/stat` field 5.
pub(crate) fn group_members(pgid: i32) -> Vec<i32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| pid != pgid)
        .filter(|&pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|s| stat_field(&s, 5)?.parse::<i32>().ok())
                == Some(pgid)
        })
        .collect()
}

pub(crate) use libc::{SIGINT, SIGKILL, SIGTERM};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_time_is_field_22_even_with_odd_commands() {
        let line =
            "4242 (a b) c)) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10";
        assert_eq!(parse_start_time(line), Some(987654));
        assert_eq!(parse_start_time("4242 (x) S 1"), None);
        let own = start_time(std::process::id() as i32).expect("our own start time");
        assert_eq!(start_time(std::process::id() as i32), Some(own));
    }

    #[test]
    fn an_exit_is_seen_without_reaping() {
        let mut c = Command::new("sh").args(["-c", "exit 3"]).spawn().unwrap();
        let pid = c.id() as i32;
        let s = exit_status_nowait(pid, true).unwrap().expect("exited");
        assert_eq!(s.code(), Some(3));
        // Not reaped: still a zombie, still ours to wait for.
        assert!(pid_alive(pid));
        assert_eq!(exit_status_nowait(pid, false).unwrap(), Some(s));
        assert_eq!(c.wait().unwrap().code(), Some(3));
        let mut k = Command::new("sleep").arg("30").spawn().unwrap();
        assert_eq!(exit_status_nowait(k.id() as i32, false).unwrap(), None);
        kill(k.id() as i32, SIGKILL).unwrap();
        let s = exit_status_nowait(k.id() as i32, true).unwrap().unwrap();
        assert_eq!(s.signal(), Some(SIGKILL));
        k.wait().unwrap();
    }

    #[test]
    fn group_members_are_found() {
        let mut c = Command::new("sh");
        c.args(["-c", "sleep 30 & wait"]).process_group(0);
        let mut c = c.spawn().unwrap();
        let pid = c.id() as i32;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while group_members(pid).is_empty() {
            assert!(std::time::Instant::now() < deadline, "sleep never started");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        kill(-pid, SIGKILL).unwrap();
        c.wait().unwrap();
    }
}
