//! Helpers for the unit tests of the commands that write pcapng (`-w`).

/// The packets of a pcapng written in this host's byte order, as
/// (`epb_flags`, comments) of each Enhanced Packet Block (`None`: the block
/// has no epb_flags). Reads only whole blocks: what a file cut short ends
/// with is left out, as a reader would.
pub fn epb_options(file: &[u8]) -> Vec<(Option<u32>, Vec<String>)> {
    let u32_at = |b: &[u8], i: usize| u32::from_ne_bytes(b[i..i + 4].try_into().unwrap());
    let u16_at = |b: &[u8], i: usize| u16::from_ne_bytes(b[i..i + 2].try_into().unwrap());
    let mut out = Vec::new();
    let mut at = 0;
    while at + 12 <= file.len() {
        let kind = u32_at(file, at);
        let len = u32_at(file, at + 4) as usize;
        if at + len > file.len() {
            break;
        }
        if kind == 6 {
            let caplen = u32_at(file, at + 20) as usize;
            let mut o = at + 28 + caplen.div_ceil(4) * 4;
            let end = at + len - 4;
            let (mut flags, mut comments) = (None, Vec::new());
            while o + 4 <= end {
                let (code, l) = (u16_at(file, o), usize::from(u16_at(file, o + 2)));
                match code {
                    0 => break,
                    1 => {
                        comments.push(String::from_utf8_lossy(&file[o + 4..o + 4 + l]).into_owned())
                    }
                    2 if l == 4 => flags = Some(u32_at(file, o + 4)),
                    _ => {}
                }
                o += 4 + l.div_ceil(4) * 4;
            }
            out.push((flags, comments));
        }
        at += len;
    }
    out
}

/// A fresh directory for one test's files: new (one that exists already is
/// never taken), readable by its owner only.
pub fn temp_dir(test: &str) -> std::path::PathBuf {
    use std::os::unix::fs::DirBuilderExt;
    for n in 0..100u32 {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = std::env::temp_dir().join(format!(
            "dhcplens-{test}-{}-{n}-{nanos}",
            std::process::id()
        ));
        match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => return dir,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => panic!("{}: {e}", dir.display()),
        }
    }
    panic!("no new directory for {test} after 100 tries")
}

/// Moves the calling thread (the test's own: libtest runs each test on a
/// thread of its own) into a fresh network namespace, holding only a
/// loopback that is down, for a unit test that calls `probe`, `replay` or
/// `bisect` in-process outside the lab's namespaces.
///
/// Contract: those tests check refusals that come before any socket is
/// opened; after this, should a refusal regress, a socket the command
/// opens is in the empty namespace, where no packet can leave and no host
/// interface exists. As root (CI), `unshare(CLONE_NEWNET)` moves this
/// thread only (and the threads it starts later), never the rest of the
/// test binary; not root, nothing changes (a raw socket or the DHCP ports
/// cannot be opened anyway), nor where the call is refused (said on
/// stderr). Calling it again moves the thread to another empty namespace.
/// Says whether the thread was moved.
#[allow(unsafe_code)]
pub fn isolate_network() -> bool {
    use std::os::unix::fs::MetadataExt;
    if !std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0) {
        return false;
    }
    // SAFETY: unshare(2) with a flag only; CLONE_NEWNET changes the calling
    // thread's network namespace and needs no single-threaded process.
    if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "isolate_network: root under CI=true, but unshare(CLONE_NEWNET) failed: {}",
            std::io::Error::last_os_error()
        );
        eprintln!(
            "isolate_network: unshare(CLONE_NEWNET): {}: not sandboxed",
            std::io::Error::last_os_error()
        );
        return false;
    }
    true
}

/// Guards [`isolate_network`]: the thread is moved to a namespace of its
/// own, and the rest of the test binary stays where it was.
#[test]
fn isolate_network_moves_the_calling_thread_only() {
    let ns = |p: &str| std::fs::read_link(p).unwrap();
    let (thread, process) = (ns("/proc/thread-self/ns/net"), ns("/proc/self/ns/net"));
    if !isolate_network() {
        return;
    }
    assert_ne!(ns("/proc/thread-self/ns/net"), thread);
    assert_eq!(ns("/proc/self/ns/net"), process);
}
