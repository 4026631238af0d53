//! One line in, at most one [`Event`] out.

use crate::event::{Event, Program};
use crate::framing::{frame, Framing};
use crate::scan::Parsed;
use crate::time::TimeContext;
use crate::{client, dhcplens, dnsmasq, isc, kea};

/// How to read a log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// How to turn the lines' stamps into times.
    pub time: TimeContext,
    /// The program that wrote lines that do not say (plain lines). `None`: guess per
    /// line from the phrasing; a syslog tag, journald identifier or Kea logger name
    /// always wins over this.
    pub program: Option<Program>,
}

/// What became of one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Event(Box<Event>),
    /// Empty or only white space.
    Blank,
    /// From a program this crate does not read (its syslog tag says so).
    OtherProgram,
    /// A DHCP program's line (or an untagged line) that says nothing this crate
    /// knows: start-up banners, option dumps, continuation lines, ...
    Unknown,
}

/// Parses lines; holds only the [`Options`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Parser {
    options: Options,
}

impl Parser {
    pub fn new(options: Options) -> Parser {
        Parser { options }
    }

    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Reads one line (without its newline). `line_no` is 1-based and only copied
    /// into the event. Never panics, whatever the text.
    pub fn parse_line(&self, line_no: u64, line: &str) -> Outcome {
        if line.trim().is_empty() {
            return Outcome::Blank;
        }
        let outer = frame(line);
        // Kea writing its own format to stdout under systemd: the journal's MESSAGE
        // (or a syslog line) holds a whole Kea file line.
        let nested = (outer.framing != Framing::KeaFile
            && outer.message.starts_with(|c: char| c.is_ascii_digit()))
        .then(|| frame(&outer.message))
        .filter(|f| f.framing == Framing::KeaFile);
        let framed = &outer;
        let inner = nested.as_ref();
        let stamp = match inner {
            Some(n) if framed.stamp == crate::time::Stamp::None => n.stamp,
            _ => framed.stamp,
        };
        let mut message: &str = inner.map_or(&framed.message, |n| &n.message);
        let mut pid = framed.pid.or(inner.and_then(|n| n.pid));
        let mut tag_program = inner
            .and_then(|n| n.tag.as_deref())
            .and_then(Program::from_tag);
        // OpenWrt's netifd runs udhcpc and logs its lines as its own:
        // `netifd: wan (1222): udhcpc: sending discover`.
        if framed.tag.as_deref() == Some("netifd") && tag_program.is_none() {
            if let Some((iface_pid, rest)) = message.split_once(": ") {
                if let Some(r) = rest.strip_prefix("udhcpc: ") {
                    tag_program = Some(Program::Udhcpc);
                    pid = iface_pid
                        .rsplit_once(" (")
                        .and_then(|(_, p)| p.strip_suffix(')')?.parse().ok())
                        .or(pid);
                    message = r;
                }
            }
        }
        match framed.tag.as_deref().filter(|_| tag_program.is_none()) {
            Some(tag) => match Program::from_tag(tag) {
                Some(p) => tag_program = Some(p),
                None if self.options.program.is_none() => return Outcome::OtherProgram,
                None => {}
            },
            None if framed.framing == Framing::Plain && inner.is_none() => {
                // `udhcpc: ...`, `dnsmasq-dhcp[12]: ...` written without a stamp.
                if let Some((w, rest)) = message.split_once(": ") {
                    let (name, p) = match w.split_once('[') {
                        Some((n, p)) => (n, p.strip_suffix(']').and_then(|p| p.parse().ok())),
                        None => (w, None),
                    };
                    if let Some(prog) = Program::from_tag(name) {
                        tag_program = Some(prog);
                        pid = p.or(pid);
                        message = rest;
                    }
                }
            }
            None => {}
        }
        let found = match tag_program.or(self.options.program) {
            Some(p) => parse_as(p, message).map(|x| (p, x)),
            None => guess(message),
        };
        let Some((program, parsed)) = found else {
            return Outcome::Unknown;
        };
        let (time, time_basis) = self.options.time.resolve(stamp);
        Outcome::Event(Box::new(Event {
            line: line_no,
            time,
            time_basis,
            program,
            pid,
            host: framed.host.as_deref().map(str::to_string),
            framing: framed.framing,
            kind: parsed.kind,
            message_id: parsed.message_id,
            fields: parsed.fields,
            message: message.to_string(),
            raw: line.to_string(),
        }))
    }
}

fn parse_as(p: Program, msg: &str) -> Option<Parsed> {
    match p {
        Program::Dhcpd => isc::parse(msg),
        Program::Kea => kea::parse(msg),
        Program::Dnsmasq => dnsmasq::parse(msg),
        Program::Dhclient => client::dhclient(msg),
        Program::Udhcpc => client::udhcpc(msg),
        Program::Dhcpcd => client::dhcpcd(msg),
        Program::Dhcplens => dhcplens::parse(msg),
    }
}

/// An untagged line: the phrasings are disjoint, so the first parser that reads it
/// names the program.
fn guess(msg: &str) -> Option<(Program, Parsed)> {
    const ORDER: [Program; 6] = [
        Program::Dhcplens,
        Program::Kea,
        Program::Dhcpd,
        Program::Dhclient,
        Program::Dnsmasq,
        Program::Dhcpcd,
    ];
    ORDER
        .into_iter()
        .find_map(|p| parse_as(p, msg).map(|x| (p, x)))
}
