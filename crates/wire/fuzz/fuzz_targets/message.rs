//! `Message::parse_lenient` on arbitrary bytes, then typed decoding of every
//! option it found, and the round trips the crate promises.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wire::dhcp::{value, Message};
use wire::AnomalyKind;

fuzz_target!(|data: &[u8]| {
    let lenient = Message::parse_lenient(data);
    for a in &lenient.anomalies {
        assert!(a.offset <= data.len(), "anomaly past the end: {a}");
        let _ = a.to_string();
    }
    // The strict parse refuses exactly what the lenient one flags (a message
    // under the 300-byte BOOTP minimum excepted).
    let serious = lenient
        .anomalies
        .iter()
        .any(|a| !matches!(a.kind, AnomalyKind::BelowBootpMinimum { .. }));
    assert_eq!(
        Message::parse(data).is_err(),
        serious || lenient.message.is_none()
    );

    let Some(m) = lenient.message else {
        return;
    };
    for o in &m.options {
        assert!(o.offset < data.len());
        assert!(o.data.len() <= 255);
    }

    // Typed decoding of every option present, in this message's context and
    // in the other one (option 43 is read as PXE sub-options or not).
    let ctx = m.decode_context();
    let mut seen = [false; 256];
    for o in m.options.iter().filter(|o| !o.is_marker()) {
        if std::mem::replace(&mut seen[usize::from(o.code)], true) {
            continue;
        }
        let v = m.value(o.code).expect("the option is present");
        check_value(&v);
        let raw = m.option(o.code).expect("present");
        let other = value::Context { pxe: !ctx.pxe };
        check_value(&value::decode_slice(o.code, &raw, &other));
    }
    let _ = m.server_name();
    let _ = m.boot_file();
    let _ = m.message_type().map(|t| t.to_string());
    let _ = m.chaddr().to_string();

    // A message read without anomalies, or with only bytes after an END (or
    // short of the BOOTP minimum),
    // encodes back to the same bytes (replay resends what was captured), and
    // reads back as the same message.
    if lenient
        .anomalies
        .iter()
        .all(|a| {
            matches!(
                a.kind,
                AnomalyKind::BytesAfterEnd { .. } | AnomalyKind::BelowBootpMinimum { .. }
            )
        })
    {
        let bytes = m.encode(data.len());
        assert_eq!(bytes, data, "encode(parse(b)) != b");
        let again = Message::parse_lenient(&bytes);
        assert_eq!(again.anomalies, lenient.anomalies);
        assert_eq!(again.message.as_ref(), Some(&m), "parse(encode(m)) != m");
    }
    // Whatever was read can be written, and what is written reads back
    // without panicking.
    let bytes = m.encode(0);
    let _ = Message::parse_lenient(&bytes);
});

fn check_value(v: &value::Value<'_>) {
    let _ = v.to_string();
    let json = serde_json::to_string(v).expect("values serialise");
    serde_json::from_str::<serde_json::Value>(&json).expect("valid JSON");
    assert_eq!(&v.clone().into_owned(), v);
}
