//! The capture reader fed arbitrary bytes, read whole and in small pieces.
//!
//! Invariants: it terminates, yields at most one packet per 16 bytes of input,
//! numbers packets 1, 2, 3…, lends no more bytes than the input has, returns
//! `Ok(None)` forever after its end or error, and reads the same packets and
//! the same error whatever sizes the input arrives in. Every packet is also
//! decoded down to its DHCP message.
#![no_main]

use std::io::{self, Read};

use capture::read::{ErrorKind, Reader};
use libfuzzer_sys::fuzz_target;

/// A `Read` that returns at most `step` bytes per call, sometimes
/// `Interrupted`.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
    calls: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.calls += 1;
        if self.calls.is_multiple_of(7) {
            return Err(io::Error::from(io::ErrorKind::Interrupted));
        }
        let n = self.step.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

#[derive(Debug, PartialEq)]
struct Seen {
    number: u64,
    ts: i64,
    link: u32,
    interface: u32,
    data: Vec<u8>,
    orig_len: usize,
    offset: u64,
    cut_short: bool,
    time_clamped: bool,
}

/// Everything a reader yields: the packets, then the error (as offset and a
/// description of its kind) if there was one.
fn read_all<R: Read>(input: R, len: usize) -> (Vec<Seen>, Option<(u64, String)>) {
    let mut r = match Reader::new(input) {
        Ok(r) => r,
        Err(e) => return (Vec::new(), Some((e.offset, kind(&e.kind)))),
    };
    let limit = len / 16;
    let mut seen = Vec::new();
    let mut err = None;
    loop {
        match r.next_packet() {
            Ok(Some(p)) => {
                assert!(
                    seen.len() < limit,
                    "more than one packet per 16 bytes of input"
                );
                assert_eq!(p.number, seen.len() as u64 + 1);
                assert!(p.data.len() <= len);
                assert!((p.offset as usize) < len);
                assert!(p.orig_len >= p.data.len() || p.cut_short);
                if let Some(last) = seen.last() {
                    let last: &Seen = last;
                    assert!(p.offset > last.offset, "the reader went backwards");
                }
                let _ = p.timestamp.to_string();
                if let Ok(Some(d)) = wire::packet::decode(p.link, p.data, p.orig_len) {
                    for a in &d.anomalies {
                        assert!(a.offset <= p.data.len());
                    }
                }
                seen.push(Seen {
                    number: p.number,
                    ts: p.timestamp.0,
                    link: p.link.to_linktype(),
                    interface: p.interface,
                    data: p.data.to_vec(),
                    orig_len: p.orig_len,
                    offset: p.offset,
                    cut_short: p.cut_short,
                    time_clamped: p.time_clamped,
                });
            }
            Ok(None) => break,
            Err(e) => {
                assert!(
                    e.offset <= len as u64,
                    "error offset {} past {len}",
                    e.offset
                );
                let _ = e.to_string();
                err = Some((e.offset, kind(&e.kind)));
                break;
            }
        }
    }
    // Done is done: no packet and no error after the end.
    for _ in 0..3 {
        assert!(matches!(r.next_packet(), Ok(None)));
    }
    (seen, err)
}

fn kind(k: &ErrorKind) -> String {
    match k {
        ErrorKind::Io(e) => format!("io {e}"),
        other => format!("{other:?}"),
    }
}

fuzz_target!(|input: &[u8]| {
    let [step, data @ ..] = input else {
        return;
    };
    let whole = read_all(data, data.len());
    if let Some(last) = whole.0.iter().find(|p| p.cut_short) {
        // Only the last packet can be cut short, and an error follows it.
        assert_eq!(last.number, whole.0.len() as u64);
        assert!(whole.1.is_some());
    }
    let trickled = read_all(
        Trickle {
            data,
            step: usize::from(*step % 64) + 1,
            calls: 0,
        },
        data.len(),
    );
    assert_eq!(
        whole,
        trickled,
        "reading in pieces of {} bytes differs",
        step % 64 + 1
    );
});
