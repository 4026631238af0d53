//! Typed decoding of any option code with any value, in both contexts, and the
//! RFC 1035 name reader on its own.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wire::dhcp::{spec, value};

fuzz_target!(|input: &[u8]| {
    let [code, flags, data @ ..] = input else {
        return;
    };
    let ctx = value::Context {
        pxe: flags & 1 != 0,
    };
    let v = value::decode_slice(*code, data, &ctx);
    let _ = v.to_string();
    let json = serde_json::to_string(&v).expect("values serialise");
    serde_json::from_str::<serde_json::Value>(&json).expect("valid JSON");
    assert_eq!(v.clone().into_owned(), v);
    // A value whose length its type forbids is always `Invalid`.
    if let Some(s) = spec(*code) {
        if s.kind.check_length(data.len()).is_err() {
            assert!(matches!(v, value::Value::Invalid { .. }), "{v:?}");
        }
    } else {
        assert!(matches!(v, value::Value::Bytes(_)), "{v:?}");
    }
    // Names never loop: the reader terminates with names or a reason.
    if let Ok(names) = value::dns_names(data) {
        for n in names {
            assert!(n.len() <= 1024 + 64, "name of {} bytes", n.len());
        }
    }
});
