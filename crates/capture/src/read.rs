//! Reading pcap and pcapng files, streamed from any `Read` (a file or a pipe).
//!
//! [`Reader::next_packet`] lends each packet out of one internal buffer, so
//! memory is bounded by the largest block, not by the file. It always advances
//! or stops: every call consumes at least one whole block or returns an error,
//! and after an error it returns `Ok(None)`. A file cut short yields every
//! complete packet, then the bytes of the cut one (flagged), then an
//! [`Error`] saying where the cut is.

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use wire::LinkType;

use crate::ahead::{Pieces, HEADROOM};
use crate::time::Timestamp;

/// The largest block this reader accepts: far above any real packet, and
/// small enough that a corrupt length cannot make it allocate gigabytes.
pub const MAX_BLOCK: usize = 16 * 1024 * 1024;

const CHUNK: usize = 256 * 1024;

/// How far a Simple Packet Block that starts a section looks for the time
/// of a packet after it: at most this many blocks, starting within this
/// many bytes (so that memory stays bounded by the largest block).
const AHEAD_BLOCKS: usize = 64;
const AHEAD_BYTES: usize = 1 << 20;

/// Which kind of file it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Classic pcap; `nanos` when the magic says nanosecond timestamps.
    Pcap {
        nanos: bool,
        big_endian: bool,
    },
    Pcapng,
}

/// One packet, borrowed from the reader's buffer.
#[derive(Debug, Clone, Copy)]
pub struct Packet<'a> {
    /// 1-based position among the file's packets (as Wireshark numbers frames).
    pub number: u64,
    pub timestamp: Timestamp,
    pub link: LinkType,
    /// pcapng interface id (0 for pcap).
    pub interface: u32,
    /// The captured bytes.
    pub data: &'a [u8],
    /// The packet's length on the wire.
    pub orig_len: usize,
    /// Byte offset of the packet's record or block in the file.
    pub offset: u64,
    /// The file ends inside this packet's record: `data` is what there was.
    pub cut_short: bool,
    /// The time the file gives is outside ±[`Timestamp::LIMIT`] (a pcapng
    /// interface's resolution or offset is wrong): `timestamp` is that
    /// limit, not the packet's time.
    pub time_clamped: bool,
    /// The block carries no time (a pcapng Simple Packet Block):
    /// `timestamp` is borrowed from the packet read before it in its
    /// section, or, when none came before, from the first after it that has
    /// a time (the interface's `if_tsoffset` when there is none either).
    pub untimed: bool,
}

impl Packet<'_> {
    /// Whether the snap length (or a cut) left out part of the packet.
    pub fn is_truncated(&self) -> bool {
        self.data.len() < self.orig_len || self.cut_short
    }
}

/// A read error, at a byte offset of the file.
#[derive(Debug)]
pub struct Error {
    pub offset: u64,
    pub kind: ErrorKind,
}

#[derive(Debug)]
pub enum ErrorKind {
    /// The file could not be opened (missing, a directory, no permission).
    Open(io::Error),
    Io(io::Error),
    /// The file is empty.
    Empty,
    /// The first bytes are no pcap or pcapng magic; `hint` says what it looks like.
    NotACapture {
        found: Vec<u8>,
        hint: Option<&'static str>,
    },
    /// The file ends inside a header or block.
    CutShort {
        what: &'static str,
        needed: usize,
        available: usize,
    },
    /// A length or field that cannot be right.
    Corrupt(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ErrorKind::Open(e) => write!(f, "cannot open: {e}"),
            ErrorKind::Io(e) => write!(f, "read error at byte {}: {e}", self.offset),
            ErrorKind::Empty => f.write_str("the file is empty"),
            ErrorKind::NotACapture { found, hint } => {
                write!(f, "not a pcap or pcapng file (it starts with {found:02x?})")?;
                if let Some(h) = hint {
                    write!(f, "; {h}")?;
                }
                Ok(())
            }
            ErrorKind::CutShort { what, needed, available } => write!(
                f,
                "the capture is cut short at byte {}: {what} needs {needed} bytes, {available} remain \
                 (the capture was probably stopped while writing)",
                self.offset + *available as u64
            ),
            ErrorKind::Corrupt(why) => write!(f, "corrupt capture at byte {}: {why}", self.offset),
        }
    }
}

impl std::error::Error for Error {}

impl Error {
    /// Whether this is the end of a capture that was cut short (everything
    /// before it was read).
    pub fn is_cut_short(&self) -> bool {
        matches!(self.kind, ErrorKind::CutShort { .. })
    }
}

/// A pcapng interface: its link type and how to turn its timestamps into nanoseconds.
#[derive(Debug, Clone, Copy)]
struct Interface {
    link: LinkType,
    /// Timestamp units per second as 10^n (`Decimal(n)`) or 2^n (`Binary(n)`).
    resolution: Resolution,
    offset_secs: i64,
    /// The most bytes kept of each packet; 0: no limit.
    snaplen: usize,
}

#[derive(Debug, Clone, Copy)]
enum Resolution {
    Decimal(u32),
    Binary(u32),
}

impl Resolution {
    fn to_nanos(self, units: u64) -> i128 {
        let units = i128::from(units);
        match self {
            Resolution::Decimal(n) if n <= 9 => units * 10i128.pow(9 - n),
            Resolution::Decimal(n) => units / 10i128.pow((n - 9).min(38)),
            Resolution::Binary(n) => (units * 1_000_000_000) >> n.min(127),
        }
    }
}

/// The fields of a packet block, with `data` relative to the block body.
struct PacketFields {
    interface: u32,
    units: Option<u64>,
    data: std::ops::Range<usize>,
    orig_len: usize,
}

/// Reads an Enhanced (6), obsolete (2) or Simple (3) Packet Block body.
/// With `cut`, the file ends inside the block: its header must be whole, its
/// packet data may be short (`data` is what there is).
fn packet_block_of(kind: u32, b: &[u8], swap: bool, cut: bool) -> Result<PacketFields, String> {
    let (interface, units, caplen, orig_len, at) = match kind {
        6 | 2 => {
            if b.len() < 20 {
                return Err(format!(
                    "packet block body of {} bytes is too short for its header",
                    b.len()
                ));
            }
            let units =
                (u64::from(u32_at(&b[4..8], swap)) << 32) | u64::from(u32_at(&b[8..12], swap));
            let interface = if kind == 6 {
                u32_at(&b[0..4], swap)
            } else {
                u32::from(u16_at(&b[0..2], swap))
            };
            (
                interface,
                Some(units),
                u32_at(&b[12..16], swap) as usize,
                u32_at(&b[16..20], swap) as usize,
                20,
            )
        }
        _ => {
            if b.len() < 4 {
                return Err("simple packet block is too short for its header".into());
            }
            let orig = u32_at(&b[0..4], swap) as usize;
            (0, None, orig.min(b.len() - 4), orig, 4)
        }
    };
    let caplen = if cut {
        caplen.min(b.len() - at)
    } else {
        caplen
    };
    if at + caplen > b.len() {
        return Err(format!(
            "packet block says {caplen} captured bytes but holds only {}",
            b.len() - at
        ));
    }
    Ok(PacketFields {
        interface,
        units,
        data: at..at + caplen,
        orig_len,
    })
}

enum State {
    Pcap {
        link: LinkType,
        nanos: bool,
        swap: bool,
    },
    Pcapng {
        swap: bool,
        interfaces: Vec<Interface>,
        /// The time of the last packet read in this section that had one
        /// (ns): what a Simple Packet Block, which has none, is given.
        last_time: Option<i128>,
        /// When `last_time` is only the interface's offset, because a
        /// look-ahead found no timed packet: the file offset it looked up
        /// to. A block without a time past it looks ahead again.
        borrowed_until: Option<u64>,
    },
    Done,
}

/// A streaming capture reader.
pub struct Reader<R> {
    input: Input<R>,
    buf: Vec<u8>,
    /// Unconsumed bytes are `buf[start..end]`; `buf[start]` is at file offset `offset`.
    start: usize,
    end: usize,
    offset: u64,
    eof: bool,
    state: State,
    format: Format,
    count: u64,
    /// The last error, returned once before `Ok(None)`.
    pending: Option<Error>,
    /// An input error met while looking ahead (for a Simple Packet Block's
    /// time), returned when the blocks already read are used up.
    deferred: Option<Error>,
}

/// Where a reader's bytes come from.
enum Input<R> {
    /// `read` on the reader's own thread, into its buffer.
    Direct(R),
    /// Pieces read ahead on a thread of their own (pipes).
    Ahead(Pieces),
}

/// When standard input is a pipe, asks for a 1 MiB pipe buffer (Linux's
/// default is 64 KiB): `cat big.pcap | dhcplens diagnose -` then reads in
/// large pieces and swaps with the writer a sixteenth as often. Refusal (not
/// a pipe, or above `/proc/sys/fs/pipe-max-size`) changes nothing.
#[allow(unsafe_code)] // the one system call in this module
fn widen_stdin_pipe() {
    // SAFETY: fcntl(2) on descriptor 0 with an integer argument, no pointer;
    // the result is deliberately ignored (see above).
    unsafe {
        libc::fcntl(0, libc::F_SETPIPE_SZ, 1 << 20);
    }
}

/// Whether standard input is a regular file (`- < file`).
fn stdin_is_a_file() -> bool {
    use std::os::fd::AsFd;
    io::stdin()
        .as_fd()
        .try_clone_to_owned()
        .and_then(|fd| File::from(fd).metadata())
        .is_ok_and(|m| m.is_file())
}

/// Opens `path` (or standard input for `-`).
///
/// Pipes (standard input or named) are read ahead on a thread of their own
/// (`ahead.rs`): a pipe costs the kernel more per byte than the page cache
/// does, and that work then overlaps the caller's. Regular files, also on
/// standard input (`- < file`), are read directly: read ahead, they were no
/// faster (docs/performance.md).
///
/// Standard input that is a terminal is refused at once rather than waited
/// on: a capture is binary, nobody types one.
///
/// `path` need not be UTF-8: a file name is bytes.
pub fn open(path: impl AsRef<Path>) -> Result<Reader<Box<dyn Read + Send>>, Error> {
    let path = path.as_ref();
    let input: Box<dyn Read + Send> = if path.as_os_str() == "-" {
        if io::IsTerminal::is_terminal(&io::stdin()) {
            return Err(Error {
                offset: 0,
                kind: ErrorKind::Open(io::Error::other(
                    "standard input is a terminal, not a capture: pipe one in \
                     (e.g. `tcpdump -U -w - port 67 or port 68 | dhcplens decode -`) or name a file",
                )),
            });
        }
        if stdin_is_a_file() {
            Box::new(io::stdin())
        } else {
            widen_stdin_pipe();
            return Reader::ahead(Box::new(io::stdin()));
        }
    } else {
        let open = |e: io::Error| Error {
            offset: 0,
            kind: ErrorKind::Open(e),
        };
        let f = File::open(path).map_err(open)?;
        let meta = f.metadata().map_err(open)?;
        // Linux opens a directory for reading; its first read fails.
        if meta.is_dir() {
            return Err(open(io::ErrorKind::IsADirectory.into()));
        }
        // A named pipe (or a device) is read ahead, like standard input.
        if !meta.is_file() {
            return Reader::ahead(Box::new(f));
        }
        Box::new(f)
    };
    Reader::new(input)
}

/// Why a packet block's interface index finds no description.
fn undescribed_interface(index: u32, described: usize) -> String {
    match described {
        0 => format!("packet block refers to interface {index}, but the section describes no interface"),
        n => format!(
            "packet block refers to interface {index}, but the section describes only interfaces 0 to {}",
            n - 1
        ),
    }
}

/// Whether a pcapng section's byte-order magic (bytes 8..12 of its header)
/// means the other byte order than this machine's; `None` if it is no
/// byte-order magic.
fn section_swap(magic: [u8; 4]) -> Option<bool> {
    match magic {
        [0x4d, 0x3c, 0x2b, 0x1a] => Some(cfg!(target_endian = "big")),
        [0x1a, 0x2b, 0x3c, 0x4d] => Some(cfg!(target_endian = "little")),
        _ => None,
    }
}

fn u16_at(b: &[u8], swap: bool) -> u16 {
    let v = u16::from_ne_bytes([b[0], b[1]]);
    if swap {
        v.swap_bytes()
    } else {
        v
    }
}

fn u64_at(b: &[u8], swap: bool) -> u64 {
    let v = u64::from_ne_bytes(b[..8].try_into().expect("8 bytes"));
    if swap {
        v.swap_bytes()
    } else {
        v
    }
}

fn u32_at(b: &[u8], swap: bool) -> u32 {
    let v = u32::from_ne_bytes([b[0], b[1], b[2], b[3]]);
    if swap {
        v.swap_bytes()
    } else {
        v
    }
}

/// The first four bytes of pcap (both resolutions, both orders) and pcapng files.
const MAGICS: [[u8; 4]; 5] = [
    [0xd4, 0xc3, 0xb2, 0xa1],
    [0xa1, 0xb2, 0xc3, 0xd4],
    [0x4d, 0x3c, 0xb2, 0xa1],
    [0xa1, 0xb2, 0x3c, 0x4d],
    [0x0a, 0x0d, 0x0d, 0x0a],
];

/// Whether `head`, a file's first four bytes, is a pcap or pcapng magic
/// (e.g. to refuse writing a report over a capture).
pub fn is_capture_magic(head: [u8; 4]) -> bool {
    MAGICS.contains(&head)
}

/// The compression format (or archive) a file starting with `head` is in,
/// by its magic: "gzip", "zstd", "xz", "bzip2", "lz4" or "zip" (a capture
/// is often kept so; dhcplens reads none of them).
pub fn compression(head: &[u8]) -> Option<&'static str> {
    match head {
        [0x1f, 0x8b, ..] => Some("gzip"),
        [0x28, 0xb5, 0x2f, 0xfd, ..] => Some("zstd"),
        [0xfd, b'7', b'z', b'X', b'Z', 0x00, ..] => Some("xz"),
        // "BZh" and the block size, '1' to '9' (100 to 900 kB).
        [b'B', b'Z', b'h', b'1'..=b'9', ..] => Some("bzip2"),
        // The LZ4 frame format's magic, 0x184D2204 little-endian.
        [0x04, 0x22, 0x4d, 0x18, ..] => Some("lz4"),
        [b'P', b'K', 0x03, 0x04, ..] => Some("zip"),
        _ => None,
    }
}

/// How many leading bytes [`sniff`] looks at.
const SNIFF_LEN: usize = 256;

/// What a file that is not a capture probably is, from its first
/// [`SNIFF_LEN`] bytes.
fn sniff(head: &[u8]) -> Option<&'static str> {
    match compression(head) {
        Some("gzip") => return Some("it is gzip-compressed: decompress it first (`gunzip`)"),
        Some("zstd") => return Some("it is zstd-compressed: decompress it first (`unzstd`)"),
        Some("xz") => return Some("it is xz-compressed: decompress it first (`unxz`)"),
        Some("bzip2") => return Some("it is bzip2-compressed: decompress it first (`bunzip2`)"),
        Some("lz4") => return Some("it is lz4-compressed: decompress it first (`unlz4`)"),
        Some(_) => return Some("it is a zip archive: extract the capture first"),
        None => {}
    }
    if head.first() == Some(&b'{') || head.first() == Some(&b'[') {
        return Some(
            "it looks like JSON (tshark -T json output?): dhcplens reads the capture itself",
        );
    }
    let text = head
        .iter()
        .take(SNIFF_LEN)
        .all(|&c| c == b'\n' || c == b'\r' || c == b'\t' || (0x20..0x7f).contains(&c));
    if text {
        return Some("it looks like text: for a server or client log use `dhcplens explain`");
    }
    None
}

impl<R: Read> Reader<R> {
    /// Reads the file header and prepares to stream packets.
    pub fn new(input: R) -> Result<Reader<R>, Error> {
        Reader::with_input(Input::Direct(input))
    }

    /// Like [`Reader::new`], but `input` is read ahead on a thread of its
    /// own (`ahead.rs`), or directly if no thread can be started.
    pub fn ahead(input: R) -> Result<Reader<R>, Error>
    where
        R: Send + 'static,
    {
        match Pieces::spawn(input) {
            Ok(pieces) => Reader::with_input(Input::Ahead(pieces)),
            Err(input) => Reader::new(input),
        }
    }

    fn with_input(input: Input<R>) -> Result<Reader<R>, Error> {
        let mut r = Reader {
            input,
            // Small to start (most captures are small); grown on the first refill.
            buf: vec![0; 64 * 1024],
            start: 0,
            end: 0,
            offset: 0,
            eof: false,
            state: State::Done,
            format: Format::Pcapng,
            count: 0,
            pending: None,
            deferred: None,
        };
        let have = r.fill(24)?;
        if have == 0 {
            return Err(Error {
                offset: 0,
                kind: ErrorKind::Empty,
            });
        }
        let head = r.buf[r.start..r.end].to_vec();
        let magic = &head[..head.len().min(4)];
        match magic {
            [0xd4, 0xc3, 0xb2, 0xa1]
            | [0xa1, 0xb2, 0xc3, 0xd4]
            | [0x4d, 0x3c, 0xb2, 0xa1]
            | [0xa1, 0xb2, 0x3c, 0x4d] => r.read_pcap_header()?,
            [0x0a, 0x0d, 0x0d, 0x0a] => {
                r.format = Format::Pcapng;
                r.state = State::Pcapng {
                    swap: false,
                    interfaces: Vec::new(),
                    last_time: None,
                    borrowed_until: None,
                };
            }
            _ if have < 4 && MAGICS.iter().any(|m| m.starts_with(magic)) => {
                return Err(r.cut("the file header", 24, have));
            }
            _ => {
                // Sniff the same 256 bytes however the input arrives in pieces.
                let have = r.fill(SNIFF_LEN)?;
                let head = &r.buf[r.start..r.start + have.min(SNIFF_LEN)];
                return Err(Error {
                    offset: 0,
                    kind: ErrorKind::NotACapture {
                        found: magic.to_vec(),
                        hint: sniff(head),
                    },
                });
            }
        }
        Ok(r)
    }

    pub fn format(&self) -> Format {
        self.format
    }

    /// Whether the reader has caught up with a pipe read ahead: its buffer
    /// does not hold the next block whole and no piece is waiting behind
    /// it, so that the next packet waits for the pipe's writer (a live
    /// `tcpdump -U -w -`). A caller printing as it reads flushes its output
    /// then, so that a live pipe's packets show as they arrive, while the
    /// output of an input that comes faster, or in large chunks, still goes
    /// out in large writes. Always false for files and other inputs read
    /// directly, and once there is nothing more to wait for (the end, an
    /// error).
    pub fn caught_up(&mut self) -> bool {
        if self.eof || self.pending.is_some() || self.deferred.is_some() || self.holds_next_block()
        {
            return false;
        }
        match &mut self.input {
            Input::Ahead(pieces) => !pieces.any_waiting(),
            Input::Direct(_) => false,
        }
    }

    /// Whether the buffer holds the next record or block whole (or the
    /// reader is done): the next packet does not wait for the input.
    fn holds_next_block(&self) -> bool {
        let b = &self.buf[self.start..self.end];
        match self.state {
            State::Done => true,
            State::Pcap { swap, .. } => {
                b.len() >= 16 && b.len() >= 16 + u32_at(&b[8..12], swap) as usize
            }
            State::Pcapng { swap, .. } => {
                if b.len() < 12 {
                    return false;
                }
                // A section header's own magic sets its byte order.
                let swap = if b[..4] == [0x0a, 0x0d, 0x0d, 0x0a] {
                    match section_swap([b[8], b[9], b[10], b[11]]) {
                        Some(swap) => swap,
                        // An error, at once.
                        None => return true,
                    }
                } else {
                    swap
                };
                b.len() >= u32_at(&b[4..8], swap) as usize
            }
        }
    }

    /// Ensures at least `n` unconsumed bytes, unless the input ends first;
    /// returns how many there are (up to what was read).
    fn fill(&mut self, n: usize) -> Result<usize, Error> {
        if self.end - self.start >= n || self.eof {
            return Ok(self.end - self.start);
        }
        if let Some(e) = self.deferred.take() {
            self.state = State::Done;
            return Err(e);
        }
        if let Input::Ahead(_) = self.input {
            return self.fill_from_pieces(n);
        }
        if self.start + n > self.buf.len() {
            // Compact, then grow if one block is bigger than the buffer.
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            let want = n.max(2 * CHUNK).next_power_of_two();
            if want > self.buf.len() {
                self.buf.resize(want, 0);
            }
        }
        while self.end - self.start < n {
            let want = (self.buf.len() - self.end).min(CHUNK.max(n));
            let Input::Direct(input) = &mut self.input else {
                unreachable!("pieces are taken above")
            };
            match input.read(&mut self.buf[self.end..self.end + want]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(k) => self.end += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.io_error(e)),
            }
        }
        Ok(self.end - self.start)
    }

    /// [`Reader::fill`] from pieces read ahead. A piece's data starts after
    /// [`HEADROOM`] free bytes, where the unparsed end of the buffer (a
    /// block cut between pieces) is put, and the piece becomes the buffer;
    /// an end larger than that (a block over 64 KiB) gathers the pieces'
    /// bytes after it instead.
    fn fill_from_pieces(&mut self, n: usize) -> Result<usize, Error> {
        let Input::Ahead(pieces) = &mut self.input else {
            unreachable!("called for pieces only")
        };
        while self.end - self.start < n {
            let (mut piece, end) = match pieces.next_piece() {
                Ok(Some(piece)) => piece,
                Ok(None) => {
                    self.eof = true;
                    break;
                }
                Err(e) => return Err(self.io_error(e)),
            };
            let tail = self.end - self.start;
            if tail <= HEADROOM {
                let at = HEADROOM - tail;
                piece[at..HEADROOM].copy_from_slice(&self.buf[self.start..self.end]);
                pieces.recycle(std::mem::replace(&mut self.buf, piece));
                self.start = at;
                self.end = end;
            } else {
                self.buf.copy_within(self.start..self.end, 0);
                self.buf.truncate(tail);
                self.buf.extend_from_slice(&piece[HEADROOM..end]);
                pieces.recycle(piece);
                self.start = 0;
                self.end = self.buf.len();
            }
        }
        Ok(self.end - self.start)
    }

    /// The input failed after the bytes read so far: the reader is done.
    fn io_error(&mut self, e: io::Error) -> Error {
        self.state = State::Done;
        Error {
            offset: self.offset + (self.end - self.start) as u64,
            kind: ErrorKind::Io(e),
        }
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        self.offset += n as u64;
    }

    fn cut(&self, what: &'static str, needed: usize, available: usize) -> Error {
        Error {
            offset: self.offset,
            kind: ErrorKind::CutShort {
                what,
                needed,
                available,
            },
        }
    }

    fn corrupt(&self, why: String) -> Error {
        Error {
            offset: self.offset,
            kind: ErrorKind::Corrupt(why),
        }
    }

    fn read_pcap_header(&mut self) -> Result<(), Error> {
        let have = self.fill(24)?;
        if have < 24 {
            return Err(self.cut("the pcap file header", 24, have));
        }
        let h = &self.buf[self.start..self.start + 24];
        let (nanos, swap) = match [h[0], h[1], h[2], h[3]] {
            [0xd4, 0xc3, 0xb2, 0xa1] => (false, cfg!(target_endian = "big")),
            [0xa1, 0xb2, 0xc3, 0xd4] => (false, cfg!(target_endian = "little")),
            [0x4d, 0x3c, 0xb2, 0xa1] => (true, cfg!(target_endian = "big")),
            _ => (true, cfg!(target_endian = "little")),
        };
        // The link type is the low 16 bits; the top bits may carry an FCS length.
        let link = LinkType::from_linktype(u32_at(&h[20..24], swap) & 0xffff);
        let big_endian = swap == cfg!(target_endian = "little");
        self.format = Format::Pcap { nanos, big_endian };
        self.state = State::Pcap { link, nanos, swap };
        self.consume(24);
        Ok(())
    }

    /// The next packet, `Ok(None)` at the end. After an error, `Ok(None)`.
    pub fn next_packet(&mut self) -> Result<Option<Packet<'_>>, Error> {
        if let Some(e) = self.pending.take() {
            self.state = State::Done;
            return Err(e);
        }
        match self.state {
            State::Done => Ok(None),
            State::Pcap { link, nanos, swap } => self.next_pcap(link, nanos, swap),
            State::Pcapng { .. } => self.next_pcapng(),
        }
    }

    fn next_pcap(
        &mut self,
        link: LinkType,
        nanos: bool,
        swap: bool,
    ) -> Result<Option<Packet<'_>>, Error> {
        let have = self.fill(16)?;
        if have == 0 {
            self.state = State::Done;
            return Ok(None);
        }
        if have < 16 {
            self.state = State::Done;
            return Err(self.cut("a pcap record header", 16, have));
        }
        let h = &self.buf[self.start..self.start + 16];
        let secs = i64::from(u32_at(&h[0..4], swap));
        let frac = i64::from(u32_at(&h[4..8], swap));
        let caplen = u32_at(&h[8..12], swap) as usize;
        let orig_len = u32_at(&h[12..16], swap) as usize;
        if caplen > MAX_BLOCK {
            self.state = State::Done;
            return Err(self.corrupt(format!(
                "record {} claims {caplen} captured bytes, more than any real packet",
                self.count + 1
            )));
        }
        let timestamp = Timestamp(secs * 1_000_000_000 + if nanos { frac } else { frac * 1000 });
        let have = self.fill(16 + caplen)?;
        let offset = self.offset;
        self.count += 1;
        let number = self.count;
        if have < 16 + caplen {
            // Lend what there is of the cut record, then report the cut.
            self.pending = Some(self.cut("a pcap record", 16 + caplen, have));
            let at = self.start + 16;
            let data_end = self.start + have;
            self.consume(have);
            return Ok(Some(Packet {
                number,
                timestamp,
                link,
                interface: 0,
                data: &self.buf[at..data_end],
                orig_len: orig_len.max(caplen),
                offset,
                cut_short: true,
                time_clamped: false,
                untimed: false,
            }));
        }
        let at = self.start + 16;
        self.consume(16 + caplen);
        Ok(Some(Packet {
            number,
            timestamp,
            link,
            interface: 0,
            data: &self.buf[at..at + caplen],
            orig_len: orig_len.max(caplen),
            offset,
            cut_short: false,
            time_clamped: false,
            untimed: false,
        }))
    }

    fn next_pcapng(&mut self) -> Result<Option<Packet<'_>>, Error> {
        loop {
            let have = self.fill(12)?;
            if have == 0 {
                self.state = State::Done;
                return Ok(None);
            }
            if have < 12 {
                self.state = State::Done;
                return Err(self.cut("a pcapng block header", 12, have));
            }
            let b = &self.buf[self.start..self.start + 12];
            let raw_type = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            if raw_type == 0x0a0d_0d0a {
                // A Section Header Block: its byte-order magic sets the section's order.
                let magic = [b[8], b[9], b[10], b[11]];
                let Some(swap) = section_swap(magic) else {
                    self.state = State::Done;
                    return Err(
                        self.corrupt(format!("section header has byte-order magic {magic:02x?}"))
                    );
                };
                let len = u32_at(&b[4..8], swap) as usize;
                self.check_block_len(len)?;
                self.state = State::Pcapng {
                    swap,
                    interfaces: Vec::new(),
                    last_time: None,
                    borrowed_until: None,
                };
                self.block(len)?;
                self.consume(len);
                continue;
            }
            let State::Pcapng { swap, .. } = self.state else {
                unreachable!("pcapng state")
            };
            let kind = u32_at(&b[0..4], swap);
            let len = u32_at(&b[4..8], swap) as usize;
            self.check_block_len(len)?;
            if matches!(kind, 2 | 3 | 6) {
                let have = self.fill(len)?;
                if have < len {
                    // The file ends inside a packet block: lend what there
                    // is of its packet, then report the cut (as for a cut
                    // pcap record).
                    let body = self.start + 8..self.start + have;
                    if let Ok((p, iface)) = self.packet_of_block(kind, body.clone(), swap, true) {
                        self.pending = Some(self.cut("a pcapng block", len, have));
                        return Ok(Some(self.lend(p, iface, body.start, have, true)));
                    }
                }
            }
            self.block(len)?;
            let body = self.start + 8..self.start + len - 4;
            match kind {
                // Interface Description Block.
                1 => {
                    let iface = self.interface_block(body, swap)?;
                    if let State::Pcapng { interfaces, .. } = &mut self.state {
                        interfaces.push(iface);
                    }
                    self.consume(len);
                }
                // Enhanced (6), obsolete (2) and Simple (3) Packet Blocks.
                2 | 3 | 6 => {
                    let (p, iface) = match self.packet_of_block(kind, body.clone(), swap, false) {
                        Ok(x) => x,
                        Err(why) => return Err(self.fail(why)),
                    };
                    if p.units.is_none() && self.looks_ahead() {
                        // No packet of its section before it had a time:
                        // look for the next one's. (Reading ahead may
                        // move the buffer: the block is still at `start`.)
                        // Not found, the interface's offset stands for
                        // the blocks looked over, which do not look again
                        // (each would wait on a pipe for 64 blocks more).
                        match self.time_ahead(len, swap) {
                            Ok(ns) => self.set_last_time(ns, None),
                            Err(scanned) => {
                                let offset = i128::from(iface.offset_secs) * 1_000_000_000;
                                self.set_last_time(offset, Some(self.offset + scanned as u64));
                            }
                        }
                    }
                    let body_start = self.start + 8;
                    return Ok(Some(self.lend(p, iface, body_start, len, false)));
                }
                // Name resolution, statistics, decryption secrets, custom: not packets.
                _ => self.consume(len),
            }
        }
    }

    /// The packet fields of the packet block whose body is `body` in the
    /// buffer, and its interface (`cut`: the file ends inside the block, so
    /// its data may be short; see [`packet_block_of`]).
    fn packet_of_block(
        &self,
        kind: u32,
        body: std::ops::Range<usize>,
        swap: bool,
        cut: bool,
    ) -> Result<(PacketFields, Interface), String> {
        let State::Pcapng { interfaces, .. } = &self.state else {
            unreachable!("pcapng state")
        };
        let mut p = packet_block_of(kind, &self.buf[body], swap, cut)?;
        let iface = interfaces
            .get(p.interface as usize)
            .copied()
            .ok_or_else(|| undescribed_interface(p.interface, interfaces.len()))?;
        // A Simple Packet Block has no captured length of its own: its
        // packet is what the interface's snap length kept of it, and the
        // rest of its body is padding (draft-ietf-opsawg-pcapng §4.4: its
        // captured length is the least of the original length and the snap
        // length).
        if kind == 3 && iface.snaplen > 0 && p.data.len() > iface.snaplen {
            p.data.end = p.data.start + iface.snaplen;
        }
        Ok((p, iface))
    }

    /// Lends packet `p` of the block whose body starts at `body_start`, and
    /// consumes `consumed` bytes (the block, or what there was of it).
    fn lend(
        &mut self,
        p: PacketFields,
        iface: Interface,
        body_start: usize,
        consumed: usize,
        cut_short: bool,
    ) -> Packet<'_> {
        let offset_ns = i128::from(iface.offset_secs) * 1_000_000_000;
        let ns = match p.units {
            Some(t) => {
                let ns = iface.resolution.to_nanos(t) + offset_ns;
                self.set_last_time(ns, None);
                ns
            }
            // A Simple Packet Block: no time of its own (see `untimed`).
            None => self.last_time().unwrap_or(offset_ns),
        };
        let timestamp = Timestamp::clamped(ns);
        let offset = self.offset;
        self.count += 1;
        let data = body_start + p.data.start..body_start + p.data.end;
        self.consume(consumed);
        Packet {
            number: self.count,
            timestamp,
            link: iface.link,
            interface: p.interface,
            data: &self.buf[data],
            orig_len: p.orig_len.max(p.data.len()),
            offset,
            cut_short,
            time_clamped: i128::from(timestamp.0) != ns,
            untimed: p.units.is_none(),
        }
    }

    /// The time of the last packet read in the section (see
    /// `State::Pcapng`).
    fn last_time(&self) -> Option<i128> {
        match self.state {
            State::Pcapng { last_time, .. } => last_time,
            _ => None,
        }
    }

    /// Sets the time a Simple Packet Block is given: a packet's own (or
    /// one found ahead), or, with `borrowed_until`, the interface's offset
    /// for the blocks a look-ahead went over without finding one.
    fn set_last_time(&mut self, ns: i128, until: Option<u64>) {
        if let State::Pcapng {
            last_time,
            borrowed_until,
            ..
        } = &mut self.state
        {
            *last_time = Some(ns);
            *borrowed_until = until;
        }
    }

    /// Whether a Simple Packet Block here looks ahead for a time: no packet
    /// of its section had one yet, or it is past what the last look-ahead
    /// went over.
    fn looks_ahead(&self) -> bool {
        match self.state {
            State::Pcapng {
                last_time,
                borrowed_until,
                ..
            } => last_time.is_none() || borrowed_until.is_some_and(|u| self.offset >= u),
            _ => false,
        }
    }

    /// The time of the first packet after the block of `skip` bytes at the
    /// start of the buffer that has one, in the same section, among the
    /// next [`AHEAD_BLOCKS`] blocks and within [`AHEAD_BYTES`]: for a
    /// Simple Packet Block that comes before any such packet. The blocks
    /// stay in the buffer, unconsumed. A read error is kept (`deferred`)
    /// until the blocks already read are used up. Not found: how many bytes
    /// from the block's start were looked over.
    fn time_ahead(&mut self, skip: usize, swap: bool) -> Result<i128, usize> {
        let mut at = skip;
        for _ in 0..AHEAD_BLOCKS {
            if at > AHEAD_BYTES {
                return Err(at);
            }
            // A block's header, and an (obsolete) Packet Block's time. A
            // read error here does not end the reading yet: the blocks
            // already read come first (see `deferred`).
            let state = std::mem::replace(&mut self.state, State::Done);
            let filled = self.fill(at + 20);
            self.state = state;
            let have = match filled {
                Ok(have) => have,
                Err(e) => {
                    self.deferred = Some(e);
                    return Err(at);
                }
            };
            if have < at + 20 {
                return Err(at);
            }
            let b = &self.buf[self.start + at..self.start + at + 20];
            let kind = u32_at(&b[0..4], swap);
            let len = u32_at(&b[4..8], swap) as usize;
            if kind == 0x0a0d_0d0a || len < 12 || len % 4 != 0 {
                // Another section, or a block the main loop will refuse.
                return Err(at);
            }
            if kind == 6 || kind == 2 {
                let interface = if kind == 6 {
                    u32_at(&b[8..12], swap)
                } else {
                    u32::from(u16_at(&b[8..10], swap))
                };
                let units = (u64::from(u32_at(&b[12..16], swap)) << 32)
                    | u64::from(u32_at(&b[16..20], swap));
                let State::Pcapng { interfaces, .. } = &self.state else {
                    return Err(at);
                };
                let Some(iface) = interfaces.get(interface as usize) else {
                    return Err(at);
                };
                return Ok(iface.resolution.to_nanos(units)
                    + i128::from(iface.offset_secs) * 1_000_000_000);
            }
            at += len;
        }
        Err(at)
    }

    fn fail(&mut self, why: String) -> Error {
        self.state = State::Done;
        self.corrupt(why)
    }

    fn check_block_len(&mut self, len: usize) -> Result<(), Error> {
        if len < 12 || len % 4 != 0 {
            return Err(self.fail(format!(
                "block length {len} is not a multiple of 4 of at least 12"
            )));
        }
        if len > MAX_BLOCK {
            return Err(self.fail(format!("block length {len} is larger than any real block")));
        }
        Ok(())
    }

    /// Makes the whole block of `len` bytes available and checks its trailing length.
    fn block(&mut self, len: usize) -> Result<(), Error> {
        let have = self.fill(len)?;
        if have < len {
            self.state = State::Done;
            return Err(self.cut("a pcapng block", len, have));
        }
        let trailer = &self.buf[self.start + len - 4..self.start + len];
        let lead = &self.buf[self.start + 4..self.start + 8];
        if trailer != lead {
            return Err(self.fail(format!(
                "block's trailing length {:02x?} differs from its leading length {lead:02x?}",
                trailer
            )));
        }
        Ok(())
    }

    fn interface_block(
        &mut self,
        body: std::ops::Range<usize>,
        swap: bool,
    ) -> Result<Interface, Error> {
        let b = &self.buf[body];
        if b.len() < 8 {
            return Err(self.fail("interface description block is too short".into()));
        }
        let link = LinkType::from_linktype(u32::from(u16_at(&b[0..2], swap)));
        let mut iface = Interface {
            link,
            resolution: Resolution::Decimal(6),
            offset_secs: 0,
            snaplen: u32_at(&b[4..8], swap) as usize,
        };
        let mut at = 8;
        // Options: code, length, value padded to 4; bounded by the block.
        while at + 4 <= b.len() {
            let code = u16_at(&b[at..at + 2], swap);
            let olen = usize::from(u16_at(&b[at + 2..at + 4], swap));
            let v = at + 4;
            if code == 0 || v + olen > b.len() {
                break;
            }
            match (code, olen) {
                (9, 1) => {
                    let r = b[v];
                    iface.resolution = if r & 0x80 == 0 {
                        Resolution::Decimal(u32::from(r))
                    } else {
                        Resolution::Binary(u32::from(r & 0x7f))
                    };
                }
                (14, 8) => iface.offset_secs = u64_at(&b[v..v + 8], swap) as i64,
                _ => {}
            }
            at = v + olen + (4 - olen % 4) % 4;
        }
        Ok(iface)
    }
}
