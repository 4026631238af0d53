//! The fast path's contract on arbitrary Ethernet frames: when
//! `wire::plain::read` takes a frame, the general decoder reads it with no
//! anomaly but a short message, and both make the same observation; when
//! it refuses one, the decoder finds a reason to (an anomaly, a repeated
//! or missing option, option 52, more than two VLAN tags).
#![no_main]

use capture::Timestamp;
use diagnose::{FrameRef, Obs};
use libfuzzer_sys::fuzz_target;
use wire::dhcp::code;
use wire::{AnomalyKind, LinkType};

fuzz_target!(|input: &[u8]| {
    let [sel, data @ ..] = input else {
        return;
    };
    // Mostly whole frames, sometimes one the capture cut short.
    let orig_len = data.len() + usize::from(sel & 0x80 != 0) * usize::from(*sel & 0x3f);
    let at = FrameRef { file: 0, frame: 1 };
    let ts = Timestamp(1_700_000_000_123_456_789);
    let slow = wire::packet::decode(LinkType::Ethernet, data, orig_len);
    let Some(plain) = wire::plain::read(LinkType::Ethernet, data, orig_len) else {
        if let Ok(Some(d)) = &slow {
            let clean = d
                .anomalies
                .iter()
                .all(|a| matches!(a.kind, AnomalyKind::BelowBootpMinimum { .. }));
            let one_each = d.message.as_ref().is_some_and(|m| {
                let mut seen = [false; 256];
                let mut once = true;
                for o in m.options.iter().filter(|o| !o.is_marker()) {
                    once &= !std::mem::replace(&mut seen[usize::from(o.code)], true);
                }
                once && !seen[usize::from(code::OPTION_OVERLOAD)]
                    && seen[usize::from(code::DHCP_MESSAGE_TYPE)]
            });
            let tags = d.frame.link.vlans.as_slice().len();
            assert!(
                !(clean && one_each && tags <= 2),
                "the decoder finds nothing wrong, yet the fast path refused it"
            );
        }
        return;
    };
    let d = match slow {
        Ok(Some(d)) => d,
        other => panic!("plain to the fast path, but the decoder says {other:?}"),
    };
    let wrong: Vec<_> = d
        .anomalies
        .iter()
        .filter(|a| !matches!(a.kind, AnomalyKind::BelowBootpMinimum { .. }))
        .collect();
    assert!(wrong.is_empty(), "plain, but the decoder finds {wrong:?}");
    let fast = Obs::from_plain(at, ts, &plain);
    let general = Obs::new(at, ts, &d, None).expect("a whole DHCP header");
    assert_eq!(fast, general, "the two paths observe differently");
});
