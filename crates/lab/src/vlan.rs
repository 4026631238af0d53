//! An 802.1Q trunk inside a link, done in user space so it works on kernels
//! without VLAN support (`CONFIG_VLAN_8021Q`).
//!
//! A trunked link has two bridges in its switch namespace, `br0` (side A)
//! and `br1` (side B), joined like two switches by a trunk cable: the veth
//! pair `trunk-a`/`trunk-b`, on which every frame carries the link's VLAN
//! tag. Two taggers (threads of the test process with `AF_PACKET` sockets in
//! the switch namespace) push the tag on the way into the trunk and pop it on
//! the way out:
//!
//! ```text
//! hosts - br0 - acc-a ~ tag-a [push/pop] trunk-a ==== trunk-b [pop/push] tag-b ~ acc-b - br1 - hosts
//! ```
//!
//! A capture on `trunk-a` or `trunk-b` shows the tagged frames. Frames that
//! cross the trunk are re-sent from user space, so a transmit-offload partial
//! checksum arrives on side B as a plain (invalid) checksum, as it would after
//! a real software switch.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{Context, Result};
use capture::live::{Direction, Options, PacketSocket};
use wire::frame::ethertype;

use crate::netns::Netns;

/// The taggers of one trunk; stopped on drop.
#[derive(Debug)]
pub struct Trunk {
    pub vid: u16,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Trunk {
    /// Builds the bridges, veths and taggers in `ns` (which already has `br0`).
    pub(crate) fn build(ns: &Netns, vid: u16) -> Result<Trunk> {
        ns.ip(&["link", "add", "br1", "type", "bridge", "forward_delay", "0"])?;
        ns.ip(&["link", "set", "br1", "up"])?;
        for (a, b) in [
            ("acc-a", "tag-a"),
            ("acc-b", "tag-b"),
            ("trunk-a", "trunk-b"),
        ] {
            ns.ip(&["link", "add", a, "type", "veth", "peer", "name", b])?;
        }
        ns.ip(&["link", "set", "acc-a", "master", "br0"])?;
        ns.ip(&["link", "set", "acc-b", "master", "br1"])?;
        for i in ["acc-a", "tag-a", "acc-b", "tag-b", "trunk-a", "trunk-b"] {
            ns.ip(&["link", "set", i, "up"])?;
        }
        let open = |i: &'static str| -> Result<Arc<PacketSocket>> {
            let s = ns
                .enter(|| {
                    PacketSocket::open(
                        i,
                        Options {
                            promiscuous: true,
                            unfiltered: true,
                        },
                    )
                })?
                .with_context(|| format!("packet socket on {i}"))?;
            Ok(Arc::new(s))
        };
        let (tag_a, trunk_a, trunk_b, tag_b) = (
            open("tag-a")?,
            open("trunk-a")?,
            open("trunk-b")?,
            open("tag-b")?,
        );
        // The trunk (whose drop stops and joins the taggers) exists before
        // the first tagger: if a later spawn fails, those already started
        // are stopped too.
        let mut trunk = Trunk {
            vid,
            stop: Arc::new(AtomicBool::new(false)),
            threads: Vec::new(),
        };
        for (from, to, push) in [
            (tag_a.clone(), trunk_a.clone(), true),
            (trunk_a, tag_a, false),
            (tag_b.clone(), trunk_b.clone(), true),
            (trunk_b, tag_b, false),
        ] {
            let stop = trunk.stop.clone();
            trunk.threads.push(
                std::thread::Builder::new()
                    .name(format!("tagger-{}", from.interface()))
                    .spawn(move || forward(&from, &to, vid, push, &stop))
                    .context("starting a tagger thread")?,
            );
        }
        Ok(trunk)
    }
}

impl Drop for Trunk {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// Copies frames received on `from` to `to`, pushing or popping the tag.
fn forward(from: &PacketSocket, to: &PacketSocket, vid: u16, push: bool, stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        let Ok(Some(p)) = from.recv(Some(Duration::from_millis(50))) else {
            continue;
        };
        if p.direction == Direction::Outgoing || p.data.len() < 14 {
            continue;
        }
        let out = if push {
            push_tag(&p.data, vid)
        } else {
            pop_tag(&p.data, vid)
        };
        if let Some(f) = out {
            let _ = to.send(&f);
        }
    }
}

/// The frame with an 802.1Q tag for `vid` after the MAC addresses.
pub fn push_tag(frame: &[u8], vid: u16) -> Option<Vec<u8>> {
    if frame.len() < 14 {
        return None;
    }
    let mut f = Vec::with_capacity(frame.len() + 4);
    f.extend_from_slice(&frame[..12]);
    f.extend_from_slice(&ethertype::VLAN.to_be_bytes());
    f.extend_from_slice(&(vid & 0x0fff).to_be_bytes());
    f.extend_from_slice(&frame[12..]);
    Some(f)
}

/// The frame without its 802.1Q tag, if it carries `vid`; other frames are
/// not this VLAN's and are dropped.
pub fn pop_tag(frame: &[u8], vid: u16) -> Option<Vec<u8>> {
    if frame.len() < 18 || frame[12..14] != ethertype::VLAN.to_be_bytes() {
        return None;
    }
    if u16::from_be_bytes([frame[14], frame[15]]) & 0x0fff != vid {
        return None;
    }
    let mut f = Vec::with_capacity(frame.len() - 4);
    f.extend_from_slice(&frame[..12]);
    f.extend_from_slice(&frame[16..]);
    Some(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_pushed_and_popped() {
        let frame: Vec<u8> = (0..60).collect();
        let tagged = push_tag(&frame, 100).unwrap();
        assert_eq!(tagged.len(), 64);
        assert_eq!(&tagged[12..16], &[0x81, 0x00, 0x00, 100]);
        assert_eq!(&tagged[16..], &frame[12..]);
        assert_eq!(pop_tag(&tagged, 100).unwrap(), frame);
        assert_eq!(pop_tag(&tagged, 200), None, "another VLAN");
        assert_eq!(pop_tag(&frame, 100), None, "untagged");
        assert_eq!(push_tag(&frame[..10], 1), None);
    }
}
