//! Streaming: a [`LogReader`] over any `BufRead`, memory bounded, with a first look
//! at the bytes to refuse what is not a log.

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Chain, Cursor, Read};
use std::path::Path;

use serde::Serialize;

use crate::event::{Event, Kind, Program, Via};
use crate::parser::{Options, Outcome, Parser};
use wire::HwAddr;

/// How many bytes are looked at to decide whether the input is a log.
pub const SNIFF_LEN: usize = 4096;
/// Longer lines are cut here; the rest of the line is skipped (and counted).
pub const MAX_LINE: usize = 64 * 1024;

/// Why an input is not a log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotALog {
    Pcap,
    Pcapng,
    Compressed(&'static str),
    JournalFile,
    Executable,
    Archive,
    /// NUL bytes or many control bytes.
    Binary,
    /// JSON whose first object has none of journald's fields.
    JsonNotJournal,
    /// `journalctl -o json-pretty` (one field per line).
    JsonPretty,
    /// A JSON array (`[ ... ]`).
    JsonArray,
}

impl fmt::Display for NotALog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotALog::Pcap => f.write_str("it is a pcap capture file; give it as a capture, not as a log"),
            NotALog::Pcapng => f.write_str("it is a pcapng capture file; give it as a capture, not as a log"),
            NotALog::Compressed(what) => write!(f, "it is {what}-compressed; decompress it first (e.g. zcat, xzcat, zstdcat)"),
            NotALog::JournalFile => f.write_str("it is a binary systemd journal file; export it with `journalctl --file FILE -o json` (or -o short-iso)"),
            NotALog::Executable => f.write_str("it is an executable, not a log"),
            NotALog::Archive => f.write_str("it is a zip or tar archive; extract the log first"),
            NotALog::Binary => f.write_str("it holds binary data (NUL or control bytes), not text lines"),
            NotALog::JsonNotJournal => f.write_str("it is JSON but not journald's export: the first object has no MESSAGE, __REALTIME_TIMESTAMP or __CURSOR field"),
            NotALog::JsonPretty => f.write_str("it is journalctl's json-pretty output; use `journalctl -o json` (one object per line)"),
            NotALog::JsonArray => f.write_str("it is a JSON array, not a log; journald's export is `journalctl -o json` (one object per line)"),
        }
    }
}

/// The library's error.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{name}: cannot read: {source}")]
    Io {
        name: String,
        #[source]
        source: io::Error,
    },
    #[error("{name}: not a log: {reason}")]
    NotALog { name: String, reason: NotALog },
    /// The clock offset moves the time of line `line` out of range
    /// ([`crate::TimeBasis::OutOfRange`]); that line's event is not yielded.
    #[error("{name}: line {line}: the clock offset moves its time beyond the years 1677 to 2262: is the offset right?")]
    ClockOffset { name: String, line: u64 },
}

/// What a reader has seen so far. `lines = events + blank + other_program + unknown`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    pub lines: u64,
    pub events: u64,
    pub blank: u64,
    /// Lines whose syslog tag names a program this crate does not read.
    pub other_program: u64,
    /// Lines no parser understood (counted and skipped).
    pub unknown: u64,
    /// Lines longer than [`MAX_LINE`] bytes (cut, then read as usual).
    pub overlong: u64,
    /// Lines that were not valid UTF-8 (read with U+FFFD in place of bad bytes).
    pub invalid_utf8: u64,
}

/// Reads a log line by line and yields its [`Event`]s.
///
/// Memory is bounded by [`MAX_LINE`] plus the reader's own buffer, whatever the input.
/// An error (I/O, or a time the clock offset moves out of range) is yielded once;
/// the iterator then ends.
pub struct LogReader<R> {
    name: String,
    input: Chain<Cursor<Vec<u8>>, R>,
    parser: Parser,
    stats: Stats,
    buf: Vec<u8>,
    done: bool,
    /// The (pid, xid) of dnsmasq's last line about a packet (`None` when
    /// that line gave no xid), for its lines that are about that packet
    /// without saying so.
    dnsmasq_packet: Option<(Option<u32>, u32)>,
    /// Per udhcpc process (pid): whether the last message it sent was a
    /// REQUEST ("broadcasting select"). A few entries: one per interface.
    udhcpc_requested: Vec<(Option<u32>, bool)>,
    /// The interfaces each dhclient process opened: (pid, interface, MAC).
    dhclient_macs: Vec<(Option<u32>, String, HwAddr)>,
}

/// Opens a file and reads it as a log (see [`LogReader::new`]).
pub fn open(path: &Path, options: Options) -> Result<LogReader<BufReader<File>>, Error> {
    let name = path.display().to_string();
    let file = File::open(path).map_err(|source| Error::Io {
        name: name.clone(),
        source,
    })?;
    LogReader::new(name, BufReader::new(file), options)
}

impl<R: BufRead> LogReader<R> {
    /// Looks at the first [`SNIFF_LEN`] bytes and refuses input that is not a log;
    /// `name` (a path, or `-`) is only used in errors.
    pub fn new(name: impl Into<String>, mut reader: R, options: Options) -> Result<Self, Error> {
        let name = name.into();
        let mut head = Vec::with_capacity(SNIFF_LEN);
        (&mut reader)
            .take(SNIFF_LEN as u64)
            .read_to_end(&mut head)
            .map_err(|source| Error::Io {
                name: name.clone(),
                source,
            })?;
        if let Some(reason) = sniff(&head) {
            return Err(Error::NotALog { name, reason });
        }
        Ok(LogReader {
            name,
            input: Cursor::new(head).chain(reader),
            parser: Parser::new(options),
            stats: Stats::default(),
            buf: Vec::new(),
            done: false,
            dnsmasq_packet: None,
            udhcpc_requested: Vec::new(),
            dhclient_macs: Vec::new(),
        })
    }

    /// Gives a line the packet it is about when only its place in the log
    /// tells: dnsmasq is one process that builds a reply right after logging
    /// the packet it answers (`1115474590 DHCPOFFER(eth0) …`), so its "cannot
    /// send DHCP/BOOTP option N" belongs to the last packet line of the same
    /// process.
    ///
    /// udhcpc logs "no lease, failing" whether its DISCOVERs got no OFFER or
    /// its REQUESTs got no ACK: the message it sent last tells which.
    fn attribute(&mut self, e: &mut Event) {
        if e.program == Program::Dhclient {
            self.dhclient_client(e);
            return;
        }
        if e.program == Program::Udhcpc {
            let requested = e.kind == Kind::ClientRequestSent;
            match e.kind {
                Kind::ClientDiscoverSent | Kind::ClientRequestSent => {
                    let slots = &mut self.udhcpc_requested;
                    if let Some(i) = slots.iter().position(|(p, _)| *p == e.pid) {
                        slots[i].1 = requested;
                    } else if slots.len() < 64 {
                        slots.push((e.pid, requested));
                    }
                }
                Kind::ClientNoOffer if self.udhcpc_requested.contains(&(e.pid, true)) => {
                    e.kind = Kind::ClientNoAck;
                }
                _ => {}
            }
            return;
        }
        if e.program != Program::Dnsmasq {
            return;
        }
        if e.kind == Kind::OptionNoSpace {
            if let Some((pid, xid)) = self.dnsmasq_packet {
                if e.fields.xid.is_none() && pid == e.pid {
                    e.fields.xid = Some(xid);
                }
            }
        } else if e.fields.xid.is_some() || e.fields.chaddr.is_some() {
            // A line about a packet; without an xid (no --log-dhcp), the
            // packet before it no longer counts.
            self.dnsmasq_packet = e.fields.xid.map(|x| (e.pid, x));
        }
    }

    /// dhclient names its MAC only as it opens an interface (`Listening on
    /// LPF/eth0/MAC`); its later lines of that process name the interface,
    /// or nothing ("No DHCPOFFERS received."). They are about that MAC: the
    /// interface's, or the process's only one.
    fn dhclient_client(&mut self, e: &mut Event) {
        let iface = match &e.fields.via {
            Some(Via::Interface(i)) => Some(i.as_str()),
            _ => None,
        };
        if e.kind == Kind::ClientListening {
            let (Some(iface), Some(mac)) = (iface, e.fields.chaddr) else {
                return;
            };
            let slots = &mut self.dhclient_macs;
            match slots.iter().position(|(p, i, _)| *p == e.pid && i == iface) {
                Some(n) => slots[n].2 = mac,
                None if slots.len() < 64 => slots.push((e.pid, iface.to_string(), mac)),
                None => {}
            }
            return;
        }
        if e.fields.chaddr.is_some() {
            return;
        }
        let mut of_pid = self.dhclient_macs.iter().filter(|(p, _, _)| *p == e.pid);
        let mac = match iface {
            Some(iface) => of_pid.find(|(_, i, _)| i == iface).map(|s| s.2),
            None => match (of_pid.next(), of_pid.next()) {
                (Some(only), None) => Some(only.2),
                _ => None,
            },
        };
        e.fields.chaddr = mac;
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The next line into `self.buf` (without `\n` / `\r\n`), or `false` at the end.
    fn next_line(&mut self) -> io::Result<bool> {
        self.buf.clear();
        let mut seen_any = false;
        let mut overlong = false;
        loop {
            let avail = match self.input.fill_buf() {
                Ok(a) => a,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if avail.is_empty() {
                break;
            }
            seen_any = true;
            let (chunk, used, end) = match memchr(avail) {
                Some(i) => (&avail[..i], i + 1, true),
                None => (avail, avail.len(), false),
            };
            let room = MAX_LINE.saturating_sub(self.buf.len());
            if chunk.len() > room {
                overlong = true;
            }
            self.buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
            self.input.consume(used);
            if end {
                break;
            }
        }
        if overlong {
            self.stats.overlong += 1;
        }
        if self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        Ok(seen_any)
    }
}

fn memchr(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == b'\n')
}

impl<R: BufRead> Iterator for LogReader<R> {
    type Item = Result<Event, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            match self.next_line() {
                Ok(true) => {}
                Ok(false) => {
                    self.done = true;
                    return None;
                }
                Err(source) => {
                    self.done = true;
                    return Some(Err(Error::Io {
                        name: self.name.clone(),
                        source,
                    }));
                }
            }
            self.stats.lines += 1;
            let text = match std::str::from_utf8(&self.buf) {
                Ok(s) => std::borrow::Cow::Borrowed(s),
                Err(_) => {
                    self.stats.invalid_utf8 += 1;
                    String::from_utf8_lossy(&self.buf)
                }
            };
            match self.parser.parse_line(self.stats.lines, &text) {
                Outcome::Event(mut e) => {
                    self.attribute(&mut e);
                    if e.time_basis == crate::TimeBasis::OutOfRange {
                        self.done = true;
                        return Some(Err(Error::ClockOffset {
                            name: self.name.clone(),
                            line: e.line,
                        }));
                    }
                    self.stats.events += 1;
                    return Some(Ok(*e));
                }
                Outcome::Blank => self.stats.blank += 1,
                Outcome::OtherProgram => self.stats.other_program += 1,
                Outcome::Unknown => self.stats.unknown += 1,
            }
        }
        None
    }
}

/// Decides from the first bytes whether the input cannot be a log.
pub fn sniff(head: &[u8]) -> Option<NotALog> {
    const MAGIC: &[(&[u8], NotALog)] = &[
        (&[0xd4, 0xc3, 0xb2, 0xa1], NotALog::Pcap),
        (&[0xa1, 0xb2, 0xc3, 0xd4], NotALog::Pcap),
        (&[0x4d, 0x3c, 0xb2, 0xa1], NotALog::Pcap),
        (&[0xa1, 0xb2, 0x3c, 0x4d], NotALog::Pcap),
        (&[0x0a, 0x0d, 0x0d, 0x0a], NotALog::Pcapng),
        (&[0x1f, 0x8b], NotALog::Compressed("gzip")),
        (
            &[0xfd, b'7', b'z', b'X', b'Z', 0],
            NotALog::Compressed("xz"),
        ),
        (&[0x28, 0xb5, 0x2f, 0xfd], NotALog::Compressed("zstd")),
        (b"BZh", NotALog::Compressed("bzip2")),
        (b"LPKSHHRH", NotALog::JournalFile),
        (&[0x7f, b'E', b'L', b'F'], NotALog::Executable),
        (b"PK\x03\x04", NotALog::Archive),
    ];
    for (magic, what) in MAGIC {
        if head.starts_with(magic) {
            return Some(what.clone());
        }
    }
    if head.len() > 262 && &head[257..262] == b"ustar" {
        return Some(NotALog::Archive);
    }
    if head.contains(&0) {
        return Some(NotALog::Binary);
    }
    let control = head
        .iter()
        .filter(|&&c| c < 0x20 && !matches!(c, b'\t' | b'\n' | b'\r' | 0x1b | 0x0c))
        .count();
    if control * 100 > head.len().max(1) {
        return Some(NotALog::Binary);
    }
    // Invalid UTF-8, not counting a character cut at the end of the sample.
    let lossy = String::from_utf8_lossy(head);
    let bad = lossy.chars().filter(|&c| c == '\u{fffd}').count();
    if bad > 8 && bad * 10 > lossy.chars().count() {
        return Some(NotALog::Binary);
    }
    json_check(&lossy)
}

fn json_check(head: &str) -> Option<NotALog> {
    let start = head.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    let first_line = start.lines().next().unwrap_or("").trim_end();
    if let Some(after) = start.strip_prefix('[') {
        let second = after.trim_start();
        if first_line == "[" || second.starts_with('{') || second.starts_with(']') {
            return Some(NotALog::JsonArray);
        }
        return None;
    }
    if !start.starts_with('{') {
        return None;
    }
    if first_line == "{" {
        return Some(
            if start.contains("\"__CURSOR\"") || start.contains("\"MESSAGE\"") {
                NotALog::JsonPretty
            } else {
                NotALog::JsonNotJournal
            },
        );
    }
    const JOURNAL_KEYS: [&str; 3] = ["\"MESSAGE\"", "\"__REALTIME_TIMESTAMP\"", "\"__CURSOR\""];
    match serde_json::from_str::<serde_json::Value>(first_line) {
        Ok(serde_json::Value::Object(o)) => {
            let journal = ["MESSAGE", "__REALTIME_TIMESTAMP", "__CURSOR"]
                .iter()
                .any(|k| o.contains_key(*k));
            (!journal).then_some(NotALog::JsonNotJournal)
        }
        Ok(_) => Some(NotALog::JsonNotJournal),
        // A first line longer than the sample: judge by the keys seen so far.
        Err(_) if !head.contains('\n') || first_line.len() + 1 >= head.len() => {
            (!JOURNAL_KEYS.iter().any(|k| first_line.contains(k)))
                .then_some(NotALog::JsonNotJournal)
        }
        // A text line that merely starts with `{`.
        Err(_) => None,
    }
}
