//! `diff::requests` on two arbitrary messages, and what `bisect` relies on:
//! a message made by applying a difference goes on the wire as it is
//! described (encoded and read back, it differs from itself in nothing),
//! and applying every difference found makes the left message like the
//! right one (no difference left) where the parts are independent.
#![no_main]

use diagnose::diff;
use libfuzzer_sys::fuzz_target;
use wire::dhcp::{code, Message, MAGIC_COOKIE};

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
    let left = left.into_owned();
    // Each difference alone, as bisect tries them: what goes on the wire is
    // the message the difference describes.
    for d in &found {
        let mut one = left.clone();
        d.apply(&mut one, &right);
        same_on_the_wire(&one, d);
    }
    // All of them: nothing left, where a message's parts are independent
    // (a magic cookie on both sides, and no option 52: fixing a cookie turns
    // the bytes after it into options, and option 52 turns `file` and
    // `sname` into options or back into bytes, so new differences appear).
    let independent =
        |m: &Message<'_>| m.cookie == Some(MAGIC_COOKIE) && !m.has_option(code::OPTION_OVERLOAD);
    if !(independent(&left) && independent(&right)) {
        return;
    }
    let mut made = left;
    for d in &found {
        d.apply(&mut made, &right);
    }
    let left_over = diff::requests(&made, &right);
    assert!(
        left_over.is_empty(),
        "after applying {found:#?}\nstill {left_over:#?}"
    );
    same_on_the_wire(&made, &found);
});

/// `m` encoded and read back differs from `m` in nothing `requests` sees.
fn same_on_the_wire(m: &Message<'static>, what: &dyn std::fmt::Debug) {
    // Without a cookie no option goes on the wire at all.
    if m.cookie.is_none() {
        return;
    }
    let bytes = m.encode(300);
    let back = Message::parse_lenient(&bytes)
        .message
        .expect("a whole header");
    let lost = diff::requests(&back, m);
    assert!(
        lost.is_empty(),
        "after applying {what:?}\non the wire {lost:#?}"
    );
}
