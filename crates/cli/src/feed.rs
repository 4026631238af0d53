//! Reading several captures as one stream of observations in time order,
//! each on the first capture's clock ([`diagnose::clocks`]).

use capture::read::Reader;
use capture::Timestamp;
use diagnose::clocks::{ClockOffset, Samples};
use diagnose::{FrameRef, Obs};
use std::io::Read;
use std::path::{Path, PathBuf};

/// One capture being read, with its next observation waiting (while
/// several are merged; a lone capture's go straight to the caller once
/// iteration starts).
struct Source {
    /// How messages name it ([`crate::inputs::shown`]), and the path it
    /// was opened by.
    name: String,
    path: PathBuf,
    reader: Reader<Box<dyn Read + Send>>,
    /// How far its clock is ahead of the first capture's: subtracted from
    /// its times.
    offset_ns: i64,
    /// When its first frame (of any kind) was taken, and the latest time
    /// among its frames so far.
    first_frame: Option<Timestamp>,
    latest: Timestamp,
    head: Option<Obs>,
    done: bool,
    /// Frames read, DHCP packets found, and packets on the DHCP ports
    /// that were not (unreadable or cut), in this capture.
    frames: u64,
    dhcp: u64,
    not_dhcp: u64,
    clamped: Clamped,
    untimed: Untimed,
    fragments: Fragments,
}

/// The DHCP packets of a capture whose times were out of range (see
/// [`capture::Packet::time_clamped`]): how many, and the first one's frame
/// number and byte offset.
#[derive(Debug, Default, Clone, Copy)]
pub struct Clamped {
    pub packets: u64,
    pub first: Option<(u64, u64)>,
}

impl Clamped {
    /// Notes packet `p` if its time was clamped.
    #[inline]
    pub fn note(&mut self, p: &capture::Packet<'_>) {
        if p.time_clamped {
            self.packets += 1;
            self.first.get_or_insert((p.number, p.offset));
        }
    }

    /// What to tell the user about the capture (`None` if nothing was
    /// clamped; the file's name goes before); `taken` says what was done
    /// with those times.
    pub fn message(&self, taken: &str) -> Option<String> {
        let (frame, offset) = self.first?;
        Some(format!(
            "{} DHCP packet(s) carry a time outside {} to {} (first: frame {frame}, at byte offset \
             {offset}); is the capture's interface time resolution (if_tsresol) or offset (if_tsoffset) wrong? \
             They are {taken} at the nearest of those limits",
            self.packets,
            Timestamp::FIRST_DAY,
            Timestamp::LAST_DAY,
        ))
    }
}

/// The DHCP packets of a capture that carry no time of their own (pcapng
/// Simple Packet Blocks, see [`capture::Packet::untimed`]): how many, and
/// the first one's frame number.
#[derive(Debug, Default, Clone, Copy)]
pub struct Untimed {
    pub packets: u64,
    pub first: Option<u64>,
}

impl Untimed {
    /// Notes packet `p` if it has no time of its own.
    #[inline]
    pub fn note(&mut self, p: &capture::Packet<'_>) {
        if p.untimed {
            self.packets += 1;
            self.first.get_or_insert(p.number);
        }
    }

    /// What to tell the user about the capture (`None` if every packet had
    /// a time; the file's name goes before).
    pub fn message(&self) -> Option<String> {
        let frame = self.first?;
        Some(format!(
            "{} DHCP packet(s) in Simple Packet Blocks carry no time (first: frame {frame}): each is given the \
             time of the packet before it (or, before any, after it; with no timed packet within 64 blocks after \
             it, the interface's if_tsoffset, 1970 without one), so latencies and retry intervals around them are off, \
             and messages repeated without a time between them may be taken for one frame captured twice",
            self.packets
        ))
    }
}

/// IPv4 fragments after the first of DHCP messages' datagrams, which
/// dhcplens does not reassemble: each message is read up to the end of its
/// first fragment, as if the capture had cut it there.
#[derive(Debug, Default)]
pub struct Fragments {
    /// The datagrams whose first fragment held a DHCP message, the latest
    /// [`Fragments::KEPT`] (a datagram's fragments come together).
    firsts: std::collections::VecDeque<wire::frame::FragmentKey>,
    /// Later fragments whose first fragment has not come (yet): a sender
    /// may send the last first. The latest [`Fragments::KEPT`].
    before_first: std::collections::VecDeque<wire::frame::FragmentKey>,
    /// Later fragments of those datagrams.
    pub continued: u64,
}

impl Fragments {
    const KEPT: usize = 64;

    /// Notes DHCP packet `d` if it is a first fragment.
    pub fn note_first(&mut self, d: &wire::DhcpFrame<'_>) {
        if let Some(k) = d.first_fragment_of() {
            if self.firsts.len() == Self::KEPT {
                self.firsts.pop_front();
            }
            self.firsts.push_back(k);
            let before = self.before_first.len();
            self.before_first.retain(|b| *b != k);
            self.continued += (before - self.before_first.len()) as u64;
        }
    }

    /// Notes a frame that [`wire::packet::decode`] skipped as a later
    /// fragment, if it continues a DHCP message.
    pub fn note_later(&mut self, link: wire::LinkType, data: &[u8]) {
        let Some(k) = wire::frame::continued_datagram(link, data) else {
            return;
        };
        if self.firsts.contains(&k) {
            self.continued += 1;
        } else {
            if self.before_first.len() == Self::KEPT {
                self.before_first.pop_front();
            }
            self.before_first.push_back(k);
        }
    }

    /// What to tell the user about the capture (`None` if no fragment
    /// was left; the file's name goes before).
    pub fn message(&self) -> Option<String> {
        (self.continued > 0).then(|| {
            format!(
                "{} IPv4 fragment(s) that continue DHCP messages were not reassembled: each such message is \
                 read up to the end of its first fragment, its size taken from its UDP length",
                self.continued
            )
        })
    }
}

/// What went wrong with an input, for the user (`{"file", "message"}` in
/// JSON reports).
#[derive(serde::Serialize, Clone)]
pub struct InputProblem {
    pub file: String,
    pub message: String,
}

/// Captures merged by timestamp (each file is assumed to be in time order,
/// as capture files are; small disorder between files is tolerated by the
/// engine).
pub struct Feed {
    sources: Vec<Source>,
    /// The captures whose clocks were off, and by how much (their times are
    /// moved onto the first capture's clock).
    pub clock_offsets: Vec<ClockOffset>,
    /// The captures whose clocks could not be measured (no message in
    /// common with the others, among the first of each): taken as they are.
    pub clocks_unmeasured: Vec<usize>,
    /// The captures (among several) that cannot be read twice (standard
    /// input, a pipe, `<(…)`), so that no clock was measured: said as a
    /// warning, and in `clocks_unmeasured` too.
    pub clocks_read_once: Vec<usize>,
    /// Parts of a capture tcpdump rotated (`dump.pcap1`), which hold no
    /// message in common with the other captures, put on the clock of
    /// another part: (part, that part). A part of a capture that was moved
    /// is in `clock_offsets` too, with nothing matched.
    pub clock_parts: Vec<(usize, usize)>,
    pub problems: Vec<InputProblem>,
    /// Captures with frames of an unsupported link type, and that type.
    pub unsupported: Vec<(String, wire::LinkType)>,
    /// Packets on the DHCP ports without a readable DHCP header, and the
    /// first of them: (file, frame, why). Those the capture's snap length
    /// cut short are counted apart: not the packet's fault.
    pub unreadable: u64,
    pub first_unreadable: Option<(String, u64, String)>,
    pub cut_before_header: u64,
    /// The first frame whose time is over a second before one earlier in
    /// its capture (a clock stepped back while capturing): (file, frame,
    /// how far back in ns).
    pub stepped_back: Option<(String, u64, i64)>,
}

/// Frames out of order by less than this are the usual jitter of a capture
/// taken on several CPUs.
const STEP_BACK_NS: i64 = 1_000_000_000;

/// Frames read from the start of each capture, at most, to measure the
/// clocks (the sample may fill before).
const SAMPLE_FRAMES: u64 = 1 << 18;

/// What to do about the captures' clocks.
#[derive(Debug, Clone, Copy)]
pub enum Clocks<'a> {
    /// Measure them against the first capture's, and put every capture on
    /// it (two or more captures, all of them regular files: standard input,
    /// a pipe or a process substitution cannot be read twice).
    Measure,
    /// Take each capture's times as they are.
    Keep,
    /// Apply offsets measured before (when reading the same files again).
    Given(&'a [ClockOffset]),
}

impl Feed {
    /// Opens every file; those that cannot be opened become problems. Two
    /// or more captures are put on the first one's clock, unless one of
    /// them is standard input (which cannot be read twice).
    pub fn open(files: &[impl AsRef<Path>]) -> Feed {
        Feed::open_with(files, Clocks::Measure)
    }

    /// [`Feed::open`], doing as `clocks` says about the captures' clocks.
    pub fn open_with(files: &[impl AsRef<Path>], clocks: Clocks<'_>) -> Feed {
        let mut feed = Feed {
            sources: Vec::new(),
            clock_offsets: Vec::new(),
            clocks_unmeasured: Vec::new(),
            clocks_read_once: Vec::new(),
            clock_parts: Vec::new(),
            problems: Vec::new(),
            unsupported: Vec::new(),
            unreadable: 0,
            first_unreadable: None,
            cut_before_header: 0,
            stepped_back: None,
        };
        for path in files.iter().map(AsRef::as_ref) {
            let shown = crate::inputs::shown(path).into_owned();
            match capture::open(path) {
                Ok(reader) => feed.sources.push(Source {
                    name: shown,
                    path: path.to_path_buf(),
                    reader,
                    offset_ns: 0,
                    first_frame: None,
                    latest: Timestamp(i64::MIN),
                    head: None,
                    done: false,
                    frames: 0,
                    dhcp: 0,
                    not_dhcp: 0,
                    clamped: Clamped::default(),
                    untimed: Untimed::default(),
                    fragments: Fragments::default(),
                }),
                Err(e) => feed.problems.push(InputProblem {
                    file: shown,
                    message: e.to_string(),
                }),
            }
        }
        let read_once: Vec<usize> = (feed.sources.iter().enumerate())
            .filter(|(_, s)| {
                crate::inputs::is_stdin(&s.path)
                    || !std::fs::metadata(&s.path).is_ok_and(|m| m.is_file())
            })
            .map(|(i, _)| i)
            .collect();
        (feed.clock_offsets, feed.clocks_unmeasured) = match clocks {
            Clocks::Measure if feed.sources.len() >= 2 && read_once.is_empty() => {
                measure_clocks(&feed.paths())
            }
            // Not measured, and said: a capture that cannot be read twice
            // would be used up by the measuring.
            Clocks::Measure if feed.sources.len() >= 2 => {
                feed.clocks_read_once = read_once.clone();
                (Vec::new(), read_once)
            }
            Clocks::Given(o) => (o.to_vec(), Vec::new()),
            _ => (Vec::new(), Vec::new()),
        };
        if feed.clocks_read_once.is_empty() {
            feed.place_rotated_parts();
        }
        for o in &feed.clock_offsets {
            if let Some(s) = feed.sources.get_mut(o.file) {
                s.offset_ns = o.offset_ns;
            }
        }
        for i in 0..feed.sources.len() {
            feed.refill(i);
        }
        feed
    }

    /// Puts each unmeasured part of a capture tcpdump rotated (`dump.pcap`,
    /// `dump.pcap1`, …, in one directory), which holds no message in common
    /// with the other captures, on the clock of a part that was placed: the
    /// same host's clock, moved as it was (with no message of its own
    /// counted as matched).
    fn place_rotated_parts(&mut self) {
        if self.clocks_unmeasured.is_empty() {
            return;
        }
        // The capture a file is a part of: its directory, and its name
        // without the part's number.
        let capture_of = |i: usize| {
            let path = &self.sources[i].path;
            let name = path.file_name()?.to_str()?;
            let base = crate::inputs::rotated_from(name).unwrap_or(name);
            let dir = match path.parent() {
                Some(d) if !d.as_os_str().is_empty() => d,
                _ => std::path::Path::new("."),
            };
            Some((std::fs::canonicalize(dir).ok()?.join(base), base != name))
        };
        let captures: Vec<_> = (0..self.sources.len()).map(capture_of).collect();
        // Parts of one capture: the same capture, and one of them numbered.
        let parts_of_one = |a: usize, b: usize| match (&captures[a], &captures[b]) {
            (Some((x, numbered_a)), Some((y, numbered_b))) => {
                a != b && x == y && (*numbered_a || *numbered_b)
            }
            _ => false,
        };
        let mut parts = Vec::new();
        for &f in &self.clocks_unmeasured {
            let placed = (0..self.sources.len())
                .find(|&i| parts_of_one(f, i) && !self.clocks_unmeasured.contains(&i));
            if let Some(b) = placed {
                parts.push((f, b));
            }
        }
        for &(f, b) in &parts {
            if !self.clocks_unmeasured.contains(&f) {
                // Placed already, with another part's group.
                continue;
            }
            // Where `b` is on the first capture's clock, and where `f` is on
            // its own group's (the captures placed against the same root).
            let at = |i: usize, offsets: &[ClockOffset]| {
                offsets
                    .iter()
                    .find(|o| o.file == i)
                    .map(|o| (o.offset_ns, o.reference))
            };
            let base = at(b, &self.clock_offsets).map_or(0, |(o, _)| o);
            let (rel, root) = at(f, &self.clock_offsets).unwrap_or((0, f));
            let shift = base - rel;
            let group: Vec<usize> = std::iter::once(root)
                .chain(
                    self.clock_offsets
                        .iter()
                        .filter(|o| o.reference == root)
                        .map(|o| o.file),
                )
                .collect();
            for &g in &group {
                self.clocks_unmeasured.retain(|&u| u != g);
                let (rel_g, _) = at(g, &self.clock_offsets).unwrap_or((0, root));
                let placed = ClockOffset {
                    file: g,
                    reference: 0,
                    offset_ns: rel_g + shift,
                    measured_against: if g == f { b } else { f },
                    matched: 0,
                    agreeing: 0,
                };
                match self.clock_offsets.iter_mut().find(|o| o.file == g) {
                    // Its own measurement against its group stays.
                    Some(o) if g != f => {
                        o.offset_ns = placed.offset_ns;
                        o.reference = 0;
                    }
                    Some(o) => *o = placed,
                    None => self.clock_offsets.push(placed),
                }
            }
        }
        // On the first capture's clock, an offset under the path's delay is
        // none.
        self.clock_offsets
            .retain(|o| o.reference != 0 || o.offset_ns.abs() >= diagnose::clocks::MIN_OFFSET_NS);
        self.clock_offsets.sort_by_key(|o| o.file);
        self.clock_parts = parts;
    }

    /// What [`Feed::clock_offsets`] and [`Feed::clocks_unmeasured`] say,
    /// one line per capture.
    /// (A capture that cannot be read twice is said by [`Feed::warnings`].)
    pub fn clock_notes(&self) -> Vec<String> {
        let unmeasured = (self.clocks_unmeasured.iter())
            .filter(|f| !self.clocks_read_once.contains(f))
            .map(|&f| {
            let root = (self.clock_offsets.iter())
                .find(|o| o.file == f)
                .map(|o| o.reference);
            let then = match root {
                Some(r) => format!("it is put on {}'s clock instead", self.sources[r].name),
                None => "its times are taken as they are".to_string(),
            };
            format!(
                "{} holds no message in common with {} (the first {} of the smaller one, looked for in all of \
                 the larger), so its clock could not be measured against it: {then}",
                self.sources[f].name,
                self.sources[0].name,
                diagnose::clocks::SAMPLE,
            )
        });
        self.clock_offsets
            .iter()
            .map(|o| {
                let s = o.offset_ns as f64 / 1e9;
                if let Some(&(_, b)) = self.clock_parts.iter().find(|p| p.0 == o.file) {
                    return format!(
                        "{}'s times are moved {:.3} s {} as {}'s are: a part of the same capture \
                         (tcpdump's rotated files)",
                        self.sources[o.file].name,
                        s.abs(),
                        if s > 0.0 { "earlier" } else { "later" },
                        self.sources[b].name,
                    );
                }
                let evidence = if o.measured_against == o.reference {
                    format!("{} of {} messages seen in both agree", o.agreeing, o.matched)
                } else {
                    format!(
                        "placed through {}: {} of {} messages seen in both agree",
                        self.sources[o.measured_against].name, o.agreeing, o.matched
                    )
                };
                if o.offset_ns.abs() < diagnose::clocks::MIN_OFFSET_NS {
                    return format!(
                        "{}'s clock agrees with {}'s ({evidence}); its times are taken as they are",
                        self.sources[o.file].name,
                        self.sources[o.reference].name,
                    );
                }
                format!(
                    "{}'s clock runs {:.3} s {} {}'s ({evidence}); its times are moved {:.3} s {} to match",
                    self.sources[o.file].name,
                    s.abs(),
                    if s > 0.0 { "ahead of" } else { "behind" },
                    self.sources[o.reference].name,
                    s.abs(),
                    if s > 0.0 { "earlier" } else { "later" },
                )
            })
            .chain(unmeasured)
            .collect()
    }

    /// The earliest timestamp among the first packets of the files (ask
    /// before iterating: with one file, the first `next` takes its packet).
    pub fn first_timestamp(&self) -> Option<capture::Timestamp> {
        self.sources
            .iter()
            .filter_map(|s| s.head.as_ref().map(|o| o.ts))
            .min()
    }

    /// When each capture's first frame, DHCP or not, was taken (known once
    /// the feed is open), indexed like [`FrameRef::file`].
    pub fn first_frames(&self) -> Vec<Option<Timestamp>> {
        self.sources.iter().map(|s| s.first_frame).collect()
    }

    /// The names of the files that opened, indexed like [`FrameRef::file`].
    pub fn names(&self) -> Vec<String> {
        self.sources.iter().map(|s| s.name.clone()).collect()
    }

    /// The paths of the files that opened, indexed like [`Feed::names`]:
    /// to read them again.
    pub fn paths(&self) -> Vec<PathBuf> {
        self.sources.iter().map(|s| s.path.clone()).collect()
    }

    /// The captures with frames of a link type dhcplens does not read, as
    /// problems (they are errors, as a file that cannot be read is).
    pub fn unsupported_problems(&self) -> Vec<InputProblem> {
        (self.unsupported.iter())
            .map(|(f, l)| InputProblem {
                file: f.clone(),
                message: format!(
                    "frames with {l} framing were skipped: dhcplens reads Ethernet, Linux cooked (v1, v2), raw IP \
                     and BSD loopback captures"
                ),
            })
            .collect()
    }

    /// What a report from the captures read so far stands on, for the user
    /// (`case` names them together): packets on the DHCP ports that hold no
    /// readable message, a clock that stepped back, times out of range,
    /// packets the snap length cut before their DHCP header. And whether
    /// the report is in doubt for it (problems found: packets were not read,
    /// or their times are wrong).
    pub fn warnings(&self, case: &str) -> (Vec<InputProblem>, bool) {
        let mut out = Vec::new();
        let mut doubtful = false;
        if let Some((file, frame, why)) = &self.first_unreadable {
            out.push(InputProblem {
                file: file.clone(),
                message: format!(
                    "{} packet(s) on the DHCP ports hold no readable DHCP message (first: frame {frame}: {why}); \
                     `dhcplens decode` shows them",
                    self.unreadable
                ),
            });
            doubtful = true;
        }
        if let Some((file, frame, back_ns)) = &self.stepped_back {
            out.push(InputProblem {
                file: file.clone(),
                message: format!(
                    "frame {frame} was taken {:.3} s before a frame ahead of it (the capturing host's clock \
                     stepped back?); times are taken as they are, so latencies and retry intervals around it are off",
                    *back_ns as f64 / 1e9
                ),
            });
        }
        for s in &self.sources {
            if let Some(message) = s.clamped.message("taken") {
                out.push(InputProblem {
                    file: s.name.clone(),
                    message: format!("{message}, so times around them are off"),
                });
                doubtful = true;
            }
            // A borrowed time is near the packet's own: said, not doubted
            // (as a clock that stepped back is).
            if let Some(message) = s.untimed.message() {
                out.push(InputProblem {
                    file: s.name.clone(),
                    message,
                });
            }
            if let Some(message) = s.fragments.message() {
                out.push(InputProblem {
                    file: s.name.clone(),
                    message,
                });
            }
        }
        for &i in &self.clocks_read_once {
            let name = &self.sources[i].name;
            out.push(InputProblem {
                file: name.clone(),
                message: format!(
                    "clocks not measured: {name} cannot be read twice; give it as a file, or use \
                     --keep-clocks to silence this"
                ),
            });
        }
        if self.cut_before_header > 0 {
            out.push(InputProblem {
                file: case.to_string(),
                message: format!(
                    "{} packet(s) on the DHCP ports were cut by the capture's snap length before the end of \
                     their DHCP header and are left out; capture with a larger snap length (tcpdump -s 0)",
                    self.cut_before_header
                ),
            });
        }
        (out, doubtful)
    }

    /// DHCP packets read from all the captures.
    pub fn dhcp(&self) -> u64 {
        self.sources.iter().map(|s| s.dhcp).sum()
    }

    /// The captures that opened but held no DHCP packet, with their frame
    /// counts and whether that is all there is to say of them (no read
    /// error, no unsupported framing, no packet on the DHCP ports that was
    /// unreadable or cut: those are said elsewhere).
    fn without_dhcp(&self) -> impl Iterator<Item = (&str, u64, bool)> {
        self.sources.iter().filter(|s| s.dhcp == 0).map(|s| {
            let said = s.not_dhcp > 0
                || self.problems.iter().any(|p| p.file == s.name)
                || self.unsupported.iter().any(|(n, _)| *n == s.name);
            (s.name.as_str(), s.frames, !said)
        })
    }

    /// A warning naming each capture that held no DHCP packet (unless that
    /// is said elsewhere), to say on stderr and in `input_warnings`; and
    /// whether there was such a capture: it is no answer.
    pub fn without_dhcp_warnings(&self) -> (Vec<InputProblem>, bool) {
        let mut out = Vec::new();
        let mut any = false;
        for (file, frames, unsaid) in self.without_dhcp() {
            if unsaid {
                out.push(InputProblem {
                    file: file.to_string(),
                    message: format!("no DHCP packets among {frames} frame(s)"),
                });
            }
            any = true;
        }
        (out, any)
    }

    /// Reads source `i` up to its next DHCP observation, into its head.
    fn refill(&mut self, i: usize) {
        self.sources[i].head = self.read(i);
    }

    /// Source `i`'s next DHCP observation.
    fn read(&mut self, i: usize) -> Option<Obs> {
        let src = &mut self.sources[i];
        if src.done {
            return None;
        }
        loop {
            let p = match src.reader.next_packet() {
                Ok(Some(p)) => p,
                Ok(None) => {
                    src.done = true;
                    return None;
                }
                Err(e) => {
                    let mut message = e.to_string();
                    if e.is_cut_short() {
                        message.push_str(" (everything before it was analysed)");
                    }
                    self.problems.push(InputProblem {
                        file: src.name.clone(),
                        message,
                    });
                    src.done = true;
                    return None;
                }
            };
            src.frames += 1;
            let at = FrameRef {
                file: i as u16,
                frame: p.number,
            };
            // Kept within the limits, so that durations cannot overflow.
            let ts = Timestamp(
                (p.timestamp.0.saturating_sub(src.offset_ns))
                    .clamp(-Timestamp::LIMIT, Timestamp::LIMIT),
            );
            src.first_frame.get_or_insert(ts);
            if ts.0 < src.latest.0.saturating_sub(STEP_BACK_NS) && self.stepped_back.is_none() {
                self.stepped_back = Some((
                    src.name.clone(),
                    p.number,
                    src.latest.0.saturating_sub(ts.0),
                ));
            }
            src.latest = src.latest.max(ts);
            // Most packets have nothing wrong in them: read in place. The
            // others are decoded, anomalies and all.
            if let Some(plain) = wire::plain::read(p.link, p.data, p.orig_len) {
                src.dhcp += 1;
                src.clamped.note(&p);
                src.untimed.note(&p);
                let mut o = Obs::from_plain(at, ts, &plain);
                o.iface = iface_of(&p);
                return Some(o);
            }
            match wire::packet::decode(p.link, p.data, p.orig_len) {
                Ok(Some(d)) => {
                    src.fragments.note_first(&d);
                    if let Some(mut o) = Obs::new(at, ts, &d, None) {
                        o.iface = iface_of(&p);
                        src.dhcp += 1;
                        src.clamped.note(&p);
                        src.untimed.note(&p);
                        return Some(o);
                    }
                    src.not_dhcp += 1;
                    if d.message_cut() && d.anomalies.iter().all(|a| a.kind.is_capture_artefact()) {
                        // The last record of a capture that ends inside it
                        // is said with the read error, not blamed on the
                        // snap length.
                        if !p.cut_short {
                            self.cut_before_header += 1;
                        }
                        continue;
                    }
                    self.unreadable += 1;
                    if self.first_unreadable.is_none() {
                        let why = d
                            .anomalies
                            .iter()
                            .map(|a| a.kind.to_string())
                            .collect::<Vec<_>>()
                            .join("; ");
                        self.first_unreadable = Some((src.name.clone(), p.number, why));
                    }
                }
                Err(wire::frame::Skip::UnsupportedLinkType(l))
                    if !self.unsupported.iter().any(|(n, _)| *n == src.name) =>
                {
                    self.unsupported.push((src.name.clone(), l));
                }
                Err(wire::frame::Skip::Fragment) => src.fragments.note_later(p.link, p.data),
                // An ICMP error about a DHCP message: "nothing listens on
                // that port" is evidence for the message it quotes.
                Err(wire::frame::Skip::NotUdp) => {
                    if let Some(o) = wire::frame::unreachable(p.link, p.data)
                        .and_then(|u| Obs::quoted(at, ts, &u))
                    {
                        src.clamped.note(&p);
                        src.untimed.note(&p);
                        return Some(o);
                    }
                }
                _ => {}
            }
        }
    }
}

impl Iterator for Feed {
    type Item = Obs;

    fn next(&mut self) -> Option<Obs> {
        // One capture, the usual case: its observations in turn, each read
        // straight to the caller instead of through the head.
        if let [src] = &mut self.sources[..] {
            return src.head.take().or_else(|| self.read(0));
        }
        let i = (0..self.sources.len())
            .filter(|i| self.sources[*i].head.is_some())
            .min_by_key(|i| self.sources[*i].head.as_ref().map(|o| (o.ts, *i)))?;
        let o = self.sources[i].head.take();
        self.refill(i);
        o
    }
}

/// How far each capture's clock is from the first's, measured on the
/// messages at the start of each ([`Samples`]), and which could not be
/// measured. A capture that shares nothing with the first at their starts
/// (a short one taken in the middle of a long one) gets a second look: the
/// larger of the two is read whole for the messages the other's sample
/// holds. Read errors end a pass (the main pass reports them).
fn measure_clocks(files: &[PathBuf]) -> (Vec<ClockOffset>, Vec<usize>) {
    let mut samples = Samples::new(files.len());
    for (i, name) in files.iter().enumerate() {
        each_obs(name, i, Some(SAMPLE_FRAMES), |o| samples.add(i, o));
    }
    let (_, unmeasured) = samples.measured();
    let size = |f: usize| std::fs::metadata(&files[f]).map_or(0, |m| m.len());
    // Which capture to read whole for which: one look per capture read.
    let mut looks: Vec<(usize, Vec<usize>)> = Vec::new();
    for f in unmeasured.into_iter().filter(|&f| samples.has_any(f)) {
        let (big, small) = if size(f) >= size(0) { (f, 0) } else { (0, f) };
        match looks.iter_mut().find(|(b, _)| *b == big) {
            Some((_, s)) => s.push(small),
            None => looks.push((big, vec![small])),
        }
    }
    for (big, small) in looks {
        let mut e = samples.extend(big, small);
        each_obs(&files[big], big, None, |o| {
            e.add(o);
            true
        });
    }
    samples.measured()
}

/// Calls `take` with each DHCP observation of capture `name` (index `file`)
/// in turn, on its own clock, until it returns `false`, the capture ends or
/// cannot be read further, or `frames` frames were read.
fn each_obs(name: &Path, file: usize, frames: Option<u64>, mut take: impl FnMut(&Obs) -> bool) {
    let Ok(mut reader) = capture::open(name) else {
        return;
    };
    let mut read = 0;
    while let Ok(Some(p)) = reader.next_packet() {
        read += 1;
        let at = FrameRef {
            file: file as u16,
            frame: p.number,
        };
        let o = match wire::plain::read(p.link, p.data, p.orig_len) {
            Some(plain) => Some(Obs::from_plain(at, p.timestamp, &plain)),
            None => wire::packet::decode(p.link, p.data, p.orig_len)
                .ok()
                .flatten()
                .and_then(|d| Obs::new(at, p.timestamp, &d, None)),
        };
        if o.is_some_and(|o| !take(&o)) || frames.is_some_and(|n| read >= n) {
            break;
        }
    }
}

/// A packet's pcapng interface, as an observation keeps it.
fn iface_of(p: &capture::Packet<'_>) -> u16 {
    u16::try_from(p.interface).unwrap_or(u16::MAX)
}
