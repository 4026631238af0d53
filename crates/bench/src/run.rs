//! `dhcplens-bench run`: times dhcplens and its peers on one capture.
//!
//! Every command reads the same file from the page cache and writes to
//! /dev/null (`pipe`, through `| cat`); runs alternate (diagnose, stdin,
//! pipe, decode, tshark, tcpdump, stdin, diagnose, …) so that drift in the
//! machine's load hits all of them alike; medians are reported. The file-reading and the stdin-reading
//! `diagnose` run side by side and swap places every round ([`round`]), so
//! that each follows the other and the peers (`tshark` frees half a
//! gigabyte just before) equally often. Peak RSS is `ru_maxrss` from
//! `wait4(2)` on each child (for the stdin run, of dhcplens, not of `cat`).

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

/// What to time.
#[derive(Debug, Clone)]
pub struct Options {
    pub file: PathBuf,
    pub runs: usize,
    pub dhcplens: Option<PathBuf>,
    /// Run `cargo build --release -p dhcplens` first (when the binary is the
    /// workspace's).
    pub build: bool,
    /// Subset of diagnose, decode, tshark, tcpdump, stdin, pipe.
    pub only: Vec<String>,
    /// Leave the file's pages in the page cache as they are, instead of
    /// reading it back ([`recache`]).
    pub keep_cache: bool,
}

/// One timed command.
#[derive(Debug, Clone)]
pub struct Tool {
    pub name: &'static str,
    pub program: PathBuf,
    pub args: Vec<String>,
    /// Exit codes that mean success (dhcplens exits 1 when it found problems).
    pub ok_codes: &'static [i32],
    /// Where `cat` stands, if anywhere.
    pub cat: Cat,
}

/// A `cat` piped to or from a timed command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cat {
    /// None: the command reads the file and writes to /dev/null.
    No,
    /// `cat FILE | command`: the file comes through a pipe.
    Before,
    /// `command | cat`: the output goes through a pipe (into /dev/null).
    After,
}

impl Tool {
    pub fn command_line(&self, file: &Path) -> String {
        let prog = self.program.display().to_string();
        let line = format!("{prog} {}", self.args.join(" "));
        match self.cat {
            Cat::No => line,
            Cat::Before => format!("cat {} | {line}", file.display()),
            Cat::After => format!("{line} | cat"),
        }
    }
}

/// One run's measurements.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub wall: Duration,
    /// Peak resident set size in bytes.
    pub max_rss: u64,
}

/// The tools for `file`, given the dhcplens binary.
pub fn tools(dhcplens: &Path, file: &Path) -> Vec<Tool> {
    let f = file.display().to_string();
    vec![
        Tool {
            name: "diagnose",
            program: dhcplens.to_path_buf(),
            args: vec!["diagnose".into(), "--json".into(), f.clone()],
            ok_codes: &[0, 1],
            cat: Cat::No,
        },
        Tool {
            name: "stdin",
            program: dhcplens.to_path_buf(),
            args: vec!["diagnose".into(), "--json".into(), "-".into()],
            ok_codes: &[0, 1],
            cat: Cat::Before,
        },
        Tool {
            name: "pipe",
            program: dhcplens.to_path_buf(),
            args: vec!["diagnose".into(), "--json".into(), f.clone()],
            ok_codes: &[0, 1],
            cat: Cat::After,
        },
        Tool {
            name: "decode",
            program: dhcplens.to_path_buf(),
            args: vec!["decode".into(), "--json".into(), f.clone()],
            ok_codes: &[0, 1],
            cat: Cat::No,
        },
        Tool {
            name: "tshark",
            program: "tshark".into(),
            args: [
                "-r",
                &f,
                "-T",
                "fields",
                "-e",
                "dhcp.id",
                "-e",
                "dhcp.option.dhcp",
                "-e",
                "dhcp.hw.mac_addr",
                "-e",
                "dhcp.ip.your",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
            ok_codes: &[0],
            cat: Cat::No,
        },
        Tool {
            name: "tcpdump",
            program: "tcpdump".into(),
            args: vec!["-nn".into(), "-v".into(), "-r".into(), f],
            ok_codes: &[0],
            cat: Cat::No,
        },
    ]
}

/// The order of the tools in round `run`: as listed, but with `diagnose`
/// and `stdin` (adjacent in [`tools`]) swapped in odd rounds.
pub fn round(tools: &[Tool], run: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..tools.len()).collect();
    let pos = |name| tools.iter().position(|t| t.name == name);
    if let (Some(a), Some(b)) = (pos("diagnose"), pos("stdin")) {
        if run % 2 == 1 {
            order.swap(a, b);
        }
    }
    order
}

#[allow(unsafe_code)]
mod sys {
    use std::io;
    use std::os::unix::process::ExitStatusExt;
    use std::process::ExitStatus;

    /// Waits for child `pid` and returns its status and resource usage
    /// (`wait4(2)`: the usage of that child alone).
    pub fn wait4(pid: u32) -> io::Result<(ExitStatus, libc::rusage)> {
        let mut status: libc::c_int = 0;
        // SAFETY: rusage is plain old data; all-zero bytes are a valid value.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        loop {
            // SAFETY: both pointers are to live, writable locals of the right types.
            let r = unsafe { libc::wait4(pid as libc::pid_t, &mut status, 0, &mut usage) };
            if r == -1 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            return Ok((ExitStatus::from_raw(status), usage));
        }
    }

    /// CPU time (user + system) this process has used, in seconds.
    pub fn cpu_seconds() -> f64 {
        // SAFETY: rusage is plain old data; all-zero bytes are a valid value.
        let mut u: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: the pointer is to a live, writable local of the right type.
        unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
        let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
        secs(u.ru_utime) + secs(u.ru_stime)
    }

    /// Asks the kernel to drop `file`'s clean pages from the page cache.
    pub fn drop_cached(file: &std::fs::File) -> io::Result<()> {
        use std::os::fd::AsRawFd;
        // SAFETY: a valid open descriptor; fadvise reads and writes no memory
        // of this process.
        let r = unsafe { libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
        if r != 0 {
            return Err(io::Error::from_raw_os_error(r));
        }
        Ok(())
    }
}

pub(crate) use sys::cpu_seconds;

fn devnull() -> io::Result<File> {
    File::options().write(true).open("/dev/null")
}

/// Runs `tool` once with its output sent to `stdout` (a file or /dev/null),
/// its error output to `stderr_path`; checks its exit code.
fn run_once(tool: &Tool, file: &Path, stdout: Stdio, stderr_path: &Path) -> anyhow::Result<Sample> {
    let stderr = File::create(stderr_path)?;
    let start = Instant::now();
    let mut cat = None;
    let mut cmd = Command::new(&tool.program);
    // With `cat` after the command, `stdout` is cat's.
    let (cmd_stdout, cat_stdout) = match tool.cat {
        Cat::After => (Stdio::piped(), Some(stdout)),
        Cat::No | Cat::Before => (stdout, None),
    };
    cmd.args(&tool.args).stdout(cmd_stdout).stderr(stderr);
    if tool.cat == Cat::Before {
        let mut c = Command::new("cat")
            .arg(file)
            .stdout(Stdio::piped())
            .spawn()
            .context("cannot run cat")?;
        cmd.stdin(c.stdout.take().expect("piped stdout"));
        cat = Some(c);
    } else {
        cmd.stdin(Stdio::null());
    }
    let mut child = cmd
        .spawn()
        .with_context(|| format!("cannot run {}", tool.program.display()))?;
    if let Some(stdout) = cat_stdout {
        let c = Command::new("cat")
            .stdin(child.stdout.take().expect("piped stdout"))
            .stdout(stdout)
            .spawn()
            .context("cannot run cat")?;
        cat = Some(c);
    }
    let (status, usage) = sys::wait4(child.id())?;
    if let Some(mut c) = cat {
        c.wait()?;
    }
    let wall = start.elapsed();
    check_status(tool, status, stderr_path)?;
    Ok(Sample {
        wall,
        // Linux reports ru_maxrss in kilobytes.
        max_rss: (usage.ru_maxrss.max(0) as u64) * 1024,
    })
}

fn check_status(tool: &Tool, status: ExitStatus, stderr_path: &Path) -> anyhow::Result<()> {
    if status.code().is_some_and(|c| tool.ok_codes.contains(&c)) {
        return Ok(());
    }
    let err = std::fs::read_to_string(stderr_path).unwrap_or_default();
    let tail: Vec<&str> = err.lines().rev().take(10).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    bail!(
        "{} failed ({status}):\n{}",
        tool.name,
        if tail.is_empty() {
            "(no error output)".to_string()
        } else {
            tail.join("\n")
        }
    )
}

fn fnv(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

const FNV_START: u64 = 0xcbf2_9ce4_8422_2325;

/// A number token as compared: floats rounded to 10 significant digits (sums
/// of latencies differ in their last bits with the order of addition).
fn number_token(tok: &[u8], out: &mut Vec<u8>) {
    let float = tok.iter().any(|b| matches!(b, b'.' | b'e' | b'E'));
    match std::str::from_utf8(tok)
        .ok()
        .and_then(|t| t.parse::<f64>().ok())
    {
        Some(x) if float => out.extend_from_slice(format!("{x:.9e}").as_bytes()),
        _ => out.extend_from_slice(tok),
    }
}

/// Two digests of `dhcplens diagnose --json` output after its first line
/// (the header naming the input, which differs between a file and stdin):
/// `exact` over the bytes, `canonical` over the transaction lines as a
/// multiset (their order is not part of the result) and the closing line,
/// with floats rounded ([`number_token`]) and line-ending commas dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Digest {
    pub exact: u64,
    pub canonical: u64,
    pub bytes: u64,
}

/// Computes a [`Digest`] over a stream in constant memory (the closing line
/// of a large diagnosis is hundreds of megabytes).
#[derive(Debug)]
struct Digester {
    header: bool,
    exact: u64,
    bytes: u64,
    /// Canonical hash of the current line, and its first byte.
    line: u64,
    first: Option<u8>,
    /// Commas (or CR) seen outside strings, not yet known to end the line.
    pending: Vec<u8>,
    in_string: bool,
    escaped: bool,
    number: Vec<u8>,
    scratch: Vec<u8>,
    set: u64,
    count: u64,
    tail: u64,
}

impl Digester {
    fn new() -> Digester {
        Digester {
            header: true,
            exact: FNV_START,
            bytes: 0,
            line: FNV_START,
            first: None,
            pending: Vec::new(),
            in_string: false,
            escaped: false,
            number: Vec::new(),
            scratch: Vec::new(),
            set: 0,
            count: 0,
            tail: FNV_START,
        }
    }

    fn emit(&mut self, b: u8) {
        if !self.pending.is_empty() {
            self.line = fnv(self.line, &self.pending);
            self.pending.clear();
        }
        self.first.get_or_insert(b);
        self.line = fnv(self.line, &[b]);
    }

    fn end_number(&mut self) {
        if self.number.is_empty() {
            return;
        }
        self.scratch.clear();
        number_token(&self.number, &mut self.scratch);
        self.number.clear();
        let t = std::mem::take(&mut self.scratch);
        for &b in &t {
            self.emit(b);
        }
        self.scratch = t;
    }

    fn end_line(&mut self) {
        self.end_number();
        self.pending.clear();
        if self.first == Some(b'{') {
            self.set = self.set.wrapping_add(crate::rng::mix64(self.line));
            self.count += 1;
        } else if self.first.is_some() {
            self.tail = fnv(self.tail, &self.line.to_le_bytes());
        }
        self.line = FNV_START;
        self.first = None;
        self.in_string = false;
        self.escaped = false;
    }

    fn feed(&mut self, mut chunk: &[u8]) {
        if self.header {
            match chunk.iter().position(|&b| b == b'\n') {
                Some(p) => {
                    self.header = false;
                    chunk = &chunk[p + 1..];
                }
                None => return,
            }
        }
        self.exact = fnv(self.exact, chunk);
        self.bytes += chunk.len() as u64;
        for &b in chunk {
            if self.in_string {
                self.emit(b);
                if self.escaped {
                    self.escaped = false;
                } else if b == b'\\' {
                    self.escaped = true;
                } else if b == b'"' {
                    self.in_string = false;
                }
                continue;
            }
            if !self.number.is_empty() || b == b'-' || b.is_ascii_digit() {
                if matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
                    && self.number.len() < 64
                {
                    self.number.push(b);
                    continue;
                }
                self.end_number();
            }
            match b {
                b'\n' => self.end_line(),
                b',' | b'\r' => self.pending.push(b),
                b'"' => {
                    self.in_string = true;
                    self.emit(b);
                }
                _ => self.emit(b),
            }
        }
    }

    fn finish(mut self) -> Digest {
        self.end_line();
        Digest {
            exact: self.exact,
            canonical: crate::rng::mix64(self.set ^ crate::rng::mix64(self.tail ^ self.count)),
            bytes: self.bytes,
        }
    }
}

pub fn digest(mut r: impl Read) -> io::Result<Digest> {
    let mut d = Digester::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match r.read(&mut buf) {
            Ok(0) => break,
            Ok(k) => d.feed(&buf[..k]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(d.finish())
}

/// Runs `tool` untimed and digests its output.
fn output_digest(tool: &Tool, file: &Path, stderr_path: &Path) -> anyhow::Result<Digest> {
    let stderr = File::create(stderr_path)?;
    let mut cmd = Command::new(&tool.program);
    cmd.args(&tool.args)
        .stdout(Stdio::piped())
        .stderr(stderr)
        .stdin(Stdio::null());
    let mut cat = None;
    if tool.cat == Cat::Before {
        let mut c = Command::new("cat")
            .arg(file)
            .stdout(Stdio::piped())
            .spawn()?;
        cmd.stdin(c.stdout.take().expect("piped stdout"));
        cat = Some(c);
    }
    let mut child = cmd.spawn()?;
    let out = child.stdout.take().expect("piped stdout");
    let d = digest(out)?;
    let status = child.wait()?;
    if let Some(mut c) = cat {
        c.wait()?;
    }
    check_status(tool, status, stderr_path)?;
    Ok(d)
}

/// The workspace this binary was built from.
fn workspace_root() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    p.canonicalize().unwrap_or(p)
}

/// Finds (and unless told otherwise, builds) the release dhcplens binary.
fn find_dhcplens(o: &Options, log: &mut impl Write) -> anyhow::Result<PathBuf> {
    if let Some(p) = &o.dhcplens {
        if !p.is_file() {
            bail!("{} does not exist", p.display());
        }
        if !p.components().any(|c| c.as_os_str() == "release") {
            writeln!(
                log,
                "warning: {} is not under a release/ directory: is it a release build?",
                p.display()
            )?;
        }
        return Ok(p.clone());
    }
    let root = workspace_root();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let bin = target.join("release/dhcplens");
    if o.build {
        writeln!(
            log,
            "building: cargo build --release -p dhcplens (in {})",
            root.display()
        )?;
        let status = Command::new("cargo")
            .args(["build", "--release", "-p", "dhcplens"])
            .current_dir(&root)
            .status()
            .context("cannot run cargo")?;
        if !status.success() {
            bail!("cargo build --release -p dhcplens failed ({status})");
        }
    }
    if !bin.is_file() {
        bail!(
            "{} is missing: build it with `cargo build --release -p dhcplens` in {}, or pass --dhcplens PATH",
            bin.display(),
            root.display()
        );
    }
    Ok(bin.canonicalize().unwrap_or(bin))
}

/// Reads the whole file (to put it in the page cache); returns the time taken.
fn read_through(path: &Path) -> io::Result<Duration> {
    let t = Instant::now();
    let mut f = File::open(path)?;
    let mut buf = vec![0u8; 1 << 20];
    while f.read(&mut buf)? > 0 {}
    Ok(t.elapsed())
}

/// Drops `path` from the page cache and reads it back in; returns the time
/// the read took.
///
/// The same file in the page cache does not always read equally fast:
/// 1m.pcap, after hours in the cache of this project's machine (Linux 6.18,
/// ext4), read at 2.2–3.6 GB/s; dropped and read back (the kernel reading
/// ahead, in large pieces), at 5.3–7.5 GB/s; and fresh from `gen` at
/// 4.7–6.1 GB/s. So that every measurement starts from the same cache, `run`
/// and `stages` read the file back first unless told `--keep-cache`.
pub fn recache(path: &Path) -> io::Result<Duration> {
    let f = File::open(path)?;
    // Dirty pages cannot be dropped: write them out first.
    f.sync_data()?;
    sys::drop_cached(&f)?;
    read_through(path)
}

/// Bytes of `path` in the page cache, from util-linux `fincore`.
fn resident_bytes(path: &Path) -> Option<u64> {
    let out = Command::new("fincore")
        .args(["--bytes", "--noheadings", "--output", "RES"])
        .arg(path)
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

/// Counts the frames of a capture with dhcplens's own reader.
pub fn count_frames(path: &Path) -> anyhow::Result<(u64, String)> {
    let name = path.to_string_lossy();
    let mut r = capture::open(path).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    let format = match r.format() {
        capture::Format::Pcap { nanos: true, .. } => "pcap (ns)",
        capture::Format::Pcap { .. } => "pcap (µs)",
        capture::Format::Pcapng => "pcapng",
    };
    let mut n = 0u64;
    while r
        .next_packet()
        .map_err(|e| anyhow::anyhow!("{name}: {e}"))?
        .is_some()
    {
        n += 1;
    }
    Ok((n, format.to_string()))
}

fn first_line(program: &str, arg: &str) -> String {
    Command::new(program)
        .arg(arg)
        .output()
        .ok()
        .map(|o| {
            let mut s = String::from_utf8_lossy(&o.stdout).into_owned();
            s.push_str(&String::from_utf8_lossy(&o.stderr));
            s.lines().next().unwrap_or("").trim().to_string()
        })
        .unwrap_or_else(|| format!("{program}: not found"))
}

/// The machine, for the README's performance section.
pub fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map_or("unknown CPU".to_string(), |s| s.trim().to_string());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .unwrap_or_default()
        .trim()
        .to_string();
    let mem_kb: u64 = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    format!(
        "{model}, {cores} cores, {:.0} GB RAM, Linux {kernel}",
        mem_kb as f64 / 1024.0 / 1024.0
    )
}

pub(crate) fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

fn si(v: f64) -> String {
    if v >= 1e9 {
        format!("{:.2} G", v / 1e9)
    } else if v >= 1e6 {
        format!("{:.2} M", v / 1e6)
    } else if v >= 1e3 {
        format!("{:.1} k", v / 1e3)
    } else {
        format!("{v:.0}")
    }
}

pub fn run(o: &Options, out: &mut impl Write) -> anyhow::Result<()> {
    let known = ["diagnose", "decode", "tshark", "tcpdump", "stdin", "pipe"];
    for w in &o.only {
        if !known.contains(&w.as_str()) {
            bail!(
                "unknown command {w:?} in --only (known: {})",
                known.join(", ")
            );
        }
    }
    let file = &o.file;
    let size = std::fs::metadata(file)
        .with_context(|| format!("cannot read {}", file.display()))?
        .len();
    let needs_dhcplens = o
        .only
        .iter()
        .any(|w| matches!(w.as_str(), "diagnose" | "decode" | "stdin" | "pipe"));
    let dhcplens = if needs_dhcplens {
        find_dhcplens(o, out)?
    } else {
        PathBuf::from("dhcplens")
    };
    let mut tools: Vec<Tool> = tools(&dhcplens, file)
        .into_iter()
        .filter(|t| o.only.iter().any(|w| w == t.name))
        .collect();
    // The stdin comparison needs the file-reading diagnose as its reference.
    if tools.iter().any(|t| t.name == "stdin") && !tools.iter().any(|t| t.name == "diagnose") {
        tools.insert(0, self::tools(&dhcplens, file).remove(0));
    }

    // Page cache: read it back (or once, as it is), then check what is resident.
    let cold = if o.keep_cache {
        read_through(file)?
    } else {
        recache(file)?
    };
    let warm = read_through(file)?;
    let resident = resident_bytes(file);
    let (packets, format) = count_frames(file)?;
    let mb = size as f64 / 1e6;

    writeln!(out, "machine:  {}", machine())?;
    writeln!(
        out,
        "file:     {} ({format}, {packets} packets, {mb:.1} MB)",
        file.display()
    )?;
    write!(
        out,
        "cache:    {} in {:.2} s, again at {:.2} GB/s",
        if o.keep_cache {
            "read once"
        } else {
            "dropped and read back"
        },
        cold.as_secs_f64(),
        size as f64 / warm.as_secs_f64().max(1e-9) / 1e9
    )?;
    match resident {
        Some(r) => writeln!(
            out,
            "; fincore: {:.1} % resident",
            100.0 * r as f64 / size.max(1) as f64
        )?,
        None => writeln!(out, " (fincore unavailable)")?,
    }
    if needs_dhcplens {
        writeln!(
            out,
            "dhcplens: {} ({}, release build)",
            dhcplens.display(),
            first_line(&dhcplens.to_string_lossy(), "--version")
        )?;
    }
    if tools.iter().any(|t| t.name == "tshark") {
        writeln!(out, "tshark:   {}", first_line("tshark", "--version"))?;
    }
    if tools.iter().any(|t| t.name == "tcpdump") {
        writeln!(out, "tcpdump:  {}", first_line("tcpdump", "--version"))?;
    }
    writeln!(out, "commands (output to /dev/null):")?;
    for t in &tools {
        writeln!(out, "  {:<9} {}", t.name, t.command_line(file))?;
    }
    out.flush()?;

    let tmp = std::env::temp_dir();
    let stderr_path = tmp.join(format!("dhcplens-bench-{}.stderr", std::process::id()));

    // Same answer from the file and from stdin (untimed; also warms the binary).
    let mut identical = None;
    if let (Some(a), Some(b)) = (
        tools.iter().find(|t| t.name == "diagnose"),
        tools.iter().find(|t| t.name == "stdin"),
    ) {
        let da = output_digest(a, file, &stderr_path)?;
        let db = output_digest(b, file, &stderr_path)?;
        identical = Some((da, db));
    }

    // What ru_maxrss reports for a process that does nothing, started the
    // same way: Linux carries the spawning process's high-water mark through
    // exec when the child shares its memory until then (vfork, posix_spawn).
    let floor = run_once(
        &Tool {
            name: "true",
            program: "true".into(),
            args: Vec::new(),
            ok_codes: &[0],
            cat: Cat::No,
        },
        file,
        Stdio::from(devnull()?),
        &stderr_path,
    )?
    .max_rss;

    let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); tools.len()];
    for run in 0..o.runs {
        for i in round(&tools, run) {
            let t = &tools[i];
            let s = run_once(t, file, Stdio::from(devnull()?), &stderr_path)?;
            eprintln!(
                "run {}/{}: {:<9} {:>8.3} s  {:>7.1} MB RSS",
                run + 1,
                o.runs,
                t.name,
                s.wall.as_secs_f64(),
                s.max_rss as f64 / 1e6
            );
            samples[i].push(s);
        }
    }
    let _ = std::fs::remove_file(&stderr_path);

    let medians: Vec<f64> = samples
        .iter()
        .map(|v| median(&v.iter().map(|s| s.wall.as_secs_f64()).collect::<Vec<_>>()))
        .collect();
    let peers: Vec<usize> = (0..tools.len())
        .filter(|i| !matches!(tools[*i].name, "stdin" | "pipe"))
        .collect();
    writeln!(out)?;
    writeln!(
        out,
        "{} runs of each, alternating; wall time; peak RSS = ru_maxrss from wait4(2) on the child (max over runs;",
        o.runs
    )?;
    writeln!(
        out,
        "`true` started the same way reports {:.1} MB, a floor under every figure)",
        floor as f64 / 1e6
    )?;
    writeln!(
        out,
        "\"vs X\" = X's median time / this row's: how many times faster this row is than X"
    )?;
    writeln!(out)?;
    let mut header =
        "| command | median s | min–max s | packets/s | MB/s | peak RSS MB |".to_string();
    let mut rule = "|---|---:|---:|---:|---:|---:|".to_string();
    for p in &peers {
        header.push_str(&format!(" vs {} |", tools[*p].name));
        rule.push_str("---:|");
    }
    writeln!(out, "{header}")?;
    writeln!(out, "{rule}")?;
    for (i, t) in tools.iter().enumerate() {
        let walls: Vec<f64> = samples[i].iter().map(|s| s.wall.as_secs_f64()).collect();
        let (lo, hi) = walls
            .iter()
            .fold((f64::MAX, 0.0f64), |(a, b), w| (a.min(*w), b.max(*w)));
        let rss = samples[i].iter().map(|s| s.max_rss).max().unwrap_or(0);
        let m = medians[i];
        let mut row = format!(
            "| {} | {m:.3} | {lo:.3}–{hi:.3} | {} | {:.0} | {:.1} |",
            match t.name {
                "stdin" => "diagnose from stdin",
                "pipe" => "diagnose into a pipe",
                name => name,
            },
            si(packets as f64 / m),
            mb / m,
            rss as f64 / 1e6
        );
        for p in &peers {
            row.push_str(&format!(" {:.1}× |", medians[*p] / m));
        }
        writeln!(out, "{row}")?;
    }
    if let (Some(a), Some(b)) = (
        tools.iter().position(|t| t.name == "diagnose"),
        tools.iter().position(|t| t.name == "stdin"),
    ) {
        let diff = 100.0 * (medians[b] - medians[a]) / medians[a];
        writeln!(out)?;
        writeln!(
            out,
            "stdin vs file: `cat FILE | dhcplens diagnose --json -` {:.3} s vs `dhcplens diagnose --json FILE` {:.3} s: {diff:+.1} % (target: within 10 %)",
            medians[b], medians[a]
        )?;
        if let Some((da, db)) = identical {
            let verdict = if da.exact == db.exact {
                "identical"
            } else if da.canonical == db.canonical {
                "identical up to the order of streamed transactions and float rounding \
                 (dhcplens's output order varies from run to run)"
            } else {
                "DIFFERENT"
            };
            writeln!(
                out,
                "outputs from the file and from stdin: {verdict} ({} and {} bytes after the header line)",
                da.bytes, db.bytes
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagnose_and_stdin_run_side_by_side_and_swap_every_round() {
        let all = tools(Path::new("dhcplens"), Path::new("x.pcap"));
        let names = |run| -> Vec<&str> { round(&all, run).iter().map(|i| all[*i].name).collect() };
        assert_eq!(
            names(0),
            ["diagnose", "stdin", "pipe", "decode", "tshark", "tcpdump"]
        );
        assert_eq!(
            names(1),
            ["stdin", "diagnose", "pipe", "decode", "tshark", "tcpdump"]
        );
        assert_eq!(names(2), names(0));
        // Without stdin, the order is the list's in every round.
        let some: Vec<Tool> = all.iter().filter(|t| t.name != "stdin").cloned().collect();
        assert_eq!(round(&some, 1), [0, 1, 2, 3, 4]);
    }

    #[test]
    fn digest_skips_the_header_and_sees_through_order_and_rounding() {
        let a = "{\"case\":\"x.pcap\",\"transactions\":[\n{\"a\":1,\"t\":0.5},\n{\"b\":2}\n],\"servers\":[{\"m\":0.0012070015126582276}]}\n";
        let b = "{\"case\":\"-\",\"transactions\":[\n{\"b\":2},\n{\"a\":1,\"t\":0.5}\n],\"servers\":[{\"m\":0.0012070015126582280}]}\n";
        let c = "{\"case\":\"-\",\"transactions\":[\n{\"b\":2},\n{\"a\":1,\"t\":0.6}\n],\"servers\":[{\"m\":0.0012070015126582280}]}\n";
        let da = digest(a.as_bytes()).unwrap();
        let db = digest(io::Read::chain(&b.as_bytes()[..5], &b.as_bytes()[5..])).unwrap();
        let dc = digest(c.as_bytes()).unwrap();
        assert_ne!(da.exact, db.exact);
        assert_eq!(da.canonical, db.canonical);
        assert_ne!(da.canonical, dc.canonical);
        assert_eq!(digest(a.as_bytes()).unwrap(), da);
        // Same bytes after the header: exactly equal.
        let a2 = a.replacen("x.pcap", "-", 1);
        assert_eq!(digest(a2.as_bytes()).unwrap().exact, da.exact);
    }

    #[test]
    fn floats_outside_strings_are_rounded_and_line_end_commas_dropped() {
        let d = |s: &str| digest(format!("header\n{s}").as_bytes()).unwrap().canonical;
        assert_eq!(
            d("{\"y\":1.23456789012345,\"n\":-12}"),
            d("{\"y\":1.23456789012399,\"n\":-12},")
        );
        assert_ne!(d("{\"y\":1.2345}"), d("{\"y\":1.2346}"));
        // Inside strings nothing is rounded.
        assert_ne!(
            d("{\"x\":\"1.23456789012345\"}"),
            d("{\"x\":\"1.23456789012399\"}")
        );
        assert_ne!(d("{\"x\":\"a,\"}"), d("{\"x\":\"a\"}"));
        // Commas inside a line still count.
        assert_ne!(d("{\"a\":[1,2]}"), d("{\"a\":[12]}"));
    }

    #[test]
    fn median_of_odd_and_even() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}
