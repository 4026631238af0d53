//! `diff::requests` on two arbitrary messages, and what `bisect` relies on:
//! applying every difference found makes the left message like the right
//! one (no difference left).
#![no_main]

use diagnose::diff;
use libfuzzer_sys::fuzz_target;
use wire::dhcp::Message;

fuzz_target!(|input: &[u8]| {
    let [split_hi, split_lo, data @ ..] = input else {
        return;
    };
    let split = usize::from(u16::from_be_bytes([*split_hi, *split_lo])).min(data.len());
    let (l, r) = data.split_at(split);
    let (Some(left), Some(right)) = (
        Message::parse_lenient(l).message,
        Message::parse_lenient(r).message,
    ) else {
        return;
    };
    let found = diff::requests(&left, &right);
    for d in &found {
        assert_ne!(d.left, d.right);
    }
    let mut made = left.into_owned();
    for d in &found {
        d.apply(&mut made, &right);
    }
    let left_over = diff::requests(&made, &right);
    assert!(
        left_over.is_empty(),
        "after applying {found:#?}\nstill {left_over:#?}"
    );
    // And the message so made can be sent: it encodes and reads back.
    let bytes = made.encode(300);
    assert!(Message::parse_lenient(&bytes).message.is_some());
});
