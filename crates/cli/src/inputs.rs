//! Turning command-line inputs into files to read: `-` is stdin, a directory
//! stands for the captures (and logs) inside it.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

/// How every message, report and JSON field names standard input (given as `-`).
pub const STDIN_NAME: &str = "<stdin>";

/// Whether `path` is `-`: standard input.
pub fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// How messages, reports and JSON name input `path`: [`STDIN_NAME`] for `-`,
/// and bytes of a name that are not UTF-8 as U+FFFD (only opening a file
/// needs its real name).
pub fn shown(path: &Path) -> Cow<'_, str> {
    if is_stdin(path) {
        Cow::Borrowed(STDIN_NAME)
    } else {
        path.to_string_lossy()
    }
}

/// Standard input can be read once: an error if `-` comes more than once
/// among `inputs`.
pub fn stdin_once(inputs: impl IntoIterator<Item = impl AsRef<Path>>) -> anyhow::Result<()> {
    if inputs.into_iter().filter(|i| is_stdin(i.as_ref())).count() > 1 {
        anyhow::bail!("standard input (-) can be read only once: give it once");
    }
    Ok(())
}

/// Whether `a` and `b` name the same file: the same argument, or the same
/// canonical path (`-`, stdin, is no path).
pub fn same_file(a: &Path, b: &Path) -> bool {
    // A file that does not exist yet (a lease file a first run will
    // create) is its directory's canonical path and its name.
    let canonical = |p: &Path| {
        if is_stdin(p) {
            return None;
        }
        std::fs::canonicalize(p).ok().or_else(|| {
            let name = p.file_name()?;
            let dir = match p.parent() {
                Some(d) if !d.as_os_str().is_empty() => d,
                _ => Path::new("."),
            };
            Some(std::fs::canonicalize(dir).ok()?.join(name))
        })
    };
    a.as_os_str() == b.as_os_str() || canonical(a).is_some_and(|c| Some(c) == canonical(b))
}

/// File extensions read as captures when a directory is given.
const CAPTURE_EXTENSIONS: [&str; 4] = ["pcap", "pcapng", "cap", "dmp"];
/// File extensions read as logs when a directory is given.
const LOG_EXTENSIONS: [&str; 2] = ["log", "journal"];

/// Extensions that tcpdump's rotated files carry a number after
/// (`tcpdump -C`/`-W -w dump.pcap` writes dump.pcap, dump.pcap1, …).
const ROTATED_EXTENSIONS: [&str; 3] = ["pcap", "pcapng", "cap"];
/// Extensions of compressed files (a capture kept as `dump.pcap.gz`).
const COMPRESSED_EXTENSIONS: [&str; 6] = ["gz", "zst", "xz", "bz2", "lz4", "zip"];

fn has_ext(p: &Path, exts: &[&str]) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| exts.iter().any(|x| x.eq_ignore_ascii_case(e)))
}

/// Whether `p` is named as a capture: a capture extension, or one of
/// tcpdump's rotated files (`.pcap1`, `.pcapng12`, `.cap3`).
fn is_capture_name(p: &Path) -> bool {
    has_ext(p, &CAPTURE_EXTENSIONS)
        || p.file_name()
            .and_then(|n| n.to_str())
            .and_then(rotated_from)
            .is_some()
}

/// The capture that `name` is a later part of, as tcpdump names its
/// rotated files (`dump.pcap3` is a part of `dump.pcap`); `None` for a
/// name that is not such a part.
pub fn rotated_from(name: &str) -> Option<&str> {
    let base = name.trim_end_matches(|c: char| c.is_ascii_digit());
    let ext = Path::new(base).extension()?.to_str()?;
    (base.len() < name.len()
        && ROTATED_EXTENSIONS
            .iter()
            .any(|x| x.eq_ignore_ascii_case(ext)))
    .then_some(base)
}

/// Orders file names as people count: `dump.pcap2` before `dump.pcap10`
/// (runs of digits compare by value), the rest byte by byte.
fn natural_order(a: &Path, b: &Path) -> std::cmp::Ordering {
    use std::os::unix::ffi::OsStrExt;
    let (mut a, mut b) = (a.as_os_str().as_bytes(), b.as_os_str().as_bytes());
    let digits = |s: &[u8]| s.iter().take_while(|c| c.is_ascii_digit()).count();
    while let (Some(&x), Some(&y)) = (a.first(), b.first()) {
        let (n, m) = (digits(a), digits(b));
        let ord = if n > 0 && m > 0 {
            // By value: leading zeros aside, the longer run is larger.
            let (p, q) = (&a[..n], &b[..m]);
            let trim = |s: &[u8]| s.iter().position(|&c| c != b'0').map_or(0, |i| s.len() - i);
            (trim(p).cmp(&trim(q)))
                .then_with(|| p[p.len() - trim(p)..].cmp(&q[q.len() - trim(q)..]))
                .then_with(|| n.cmp(&m))
        } else {
            x.cmp(&y)
        };
        if ord.is_ne() {
            return ord;
        }
        let step = if n > 0 && m > 0 { (n, m) } else { (1, 1) };
        (a, b) = (&a[step.0..], &b[step.1..]);
    }
    a.len().cmp(&b.len())
}

fn dir_entries(dir: &Path, wanted: impl Fn(&Path) -> bool) -> std::io::Result<Vec<PathBuf>> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && wanted(p))
        .collect();
    v.sort_by(|a, b| natural_order(a, b));
    Ok(v)
}

/// The files of the directories among `inputs` that are left out but look
/// like captures, and why: a compressed capture (`dump.pcap.gz`), or a
/// capture by its first bytes whose name is not a capture's. Said as
/// warnings: a directory is read for what it is named as holding.
pub fn skipped_in_dirs(inputs: &[PathBuf]) -> Vec<crate::feed::InputProblem> {
    let skipped = |p: &PathBuf| {
        if is_capture_name(p) || has_ext(p, &LOG_EXTENSIONS) {
            return None;
        }
        let compressed =
            has_ext(p, &COMPRESSED_EXTENSIONS) && is_capture_name(Path::new(p.file_stem()?));
        let mut head = [0; 4];
        let magic = std::fs::File::open(p)
            .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
            .is_ok()
            && capture::read::is_capture_magic(head);
        let message = if magic {
            "skipped: it is a capture, but its name does not end in .pcap, .pcapng, .cap or .dmp; \
             rename it, or name it on the command line"
                .to_string()
        } else if compressed {
            match capture::open(p) {
                Err(capture::Error {
                    kind: capture::read::ErrorKind::NotACapture { hint: Some(h), .. },
                    ..
                }) => format!("skipped: {h}"),
                Err(e) => format!("skipped: {e}"),
                Ok(_) => return None,
            }
        } else {
            return None;
        };
        Some(crate::feed::InputProblem {
            file: shown(p).into_owned(),
            message,
        })
    };
    inputs
        .iter()
        .filter(|i| is_dir(i))
        .flat_map(|i| dir_entries(i, |_| true).unwrap_or_default())
        .filter_map(|p| skipped(&p))
        .collect()
}

/// Whether input `path` is a directory to look into (`-` never is).
pub fn is_dir(path: &Path) -> bool {
    !is_stdin(path) && path.is_dir()
}

/// Capture paths for `inputs`: files as given, directories expanded (in
/// natural order: `dump.pcap`, `dump.pcap1`, …, `dump.pcap10`); a directory
/// that cannot be listed or holds no capture is an error naming it.
pub fn captures(inputs: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let (out, problems) = captures_or_problems(inputs);
    if let Some(p) = problems.first() {
        anyhow::bail!("{}: {}", p.file, p.message);
    }
    Ok(out)
}

/// [`captures`], a directory that cannot be listed or holds no capture
/// being a problem of its own (named as [`shown`] names it, and why) rather
/// than an end: the other inputs are still read.
pub fn captures_or_problems(inputs: &[PathBuf]) -> (Vec<PathBuf>, Vec<crate::feed::InputProblem>) {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for i in inputs {
        if is_dir(i) {
            let name = shown(i).into_owned();
            match dir_entries(i, is_capture_name) {
                Err(e) => problems.push(crate::feed::InputProblem {
                    file: name,
                    message: format!("cannot list the directory: {e}"),
                }),
                Ok(found) if found.is_empty() => {
                    let skipped: String = skipped_in_dirs(std::slice::from_ref(i))
                        .iter()
                        .map(|s| format!("; {}: {}", s.file, s.message))
                        .collect();
                    problems.push(crate::feed::InputProblem {
                        file: name,
                        message: format!(
                            "the directory holds no capture files (*.pcap, *.pcapng, *.cap, *.dmp, or tcpdump's rotated dump.pcap1, …){skipped}"
                        ),
                    })
                }
                Ok(found) => out.extend(found),
            }
        } else {
            out.push(i.clone());
        }
    }
    (out, problems)
}

/// Log files inside the directories among `inputs`.
pub fn logs_in_dirs(inputs: &[PathBuf]) -> Vec<PathBuf> {
    inputs
        .iter()
        .filter(|i| is_dir(i))
        .flat_map(|i| dir_entries(i, |p| has_ext(p, &LOG_EXTENSIONS)).unwrap_or_default())
        .collect()
}
