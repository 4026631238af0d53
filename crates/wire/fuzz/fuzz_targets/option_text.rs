//! The text parsers people type into (`--option CODE=VALUE`, `--chaddr`,
//! message types) on arbitrary text, for every option code.
//!
//! Invariants: nothing panics; a typed value the parser accepts (not raw
//! bytes) has a length its option allows and decodes to something other
//! than `Invalid`; the same
//! bytes given as `hex:` read back as themselves; a MAC reads back from its
//! own text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wire::dhcp::{parse, spec, value, HwAddr, Kind};

fuzz_target!(|input: &[u8]| {
    let [code, text @ ..] = input else {
        return;
    };
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let _ = parse::code(text);
    let _ = parse::message_type(text);
    if let Some(a) = HwAddr::parse(text) {
        assert!(!a.as_bytes().is_empty() && a.as_bytes().len() <= 16);
        assert_eq!(HwAddr::parse(a.hex().as_str()), Some(a));
    }
    if let Some(Ok(bytes)) = parse::hex(text) {
        assert!(bytes.len() <= text.len() / 2);
    }
    let Ok(v) = parse::value(*code, text) else {
        return;
    };
    // Raw bytes: given as hex, or text taken as it is for the kinds whose
    // values are bytes (the decoder may still read structure into them,
    // e.g. PXE sub-options in option 43).
    let raw = text.starts_with("hex:")
        || text.starts_with("0x")
        || spec(*code).is_some_and(|s| {
            matches!(
                s.kind,
                Kind::Text
                    | Kind::UserClass
                    | Kind::VendorSpecific
                    | Kind::Bytes
                    | Kind::Encapsulated
            )
        });
    for pxe in [false, true] {
        let d = value::decode_slice(*code, &v, &value::Context { pxe });
        let _ = d.to_string();
        if let (Some(s), false) = (spec(*code), raw) {
            assert!(s.kind.check_length(v.len()).is_ok(), "{v:?}");
            assert!(
                !matches!(d, value::Value::Invalid { .. }),
                "{text:?} -> {d:?}"
            );
        }
    }
    let hex: String = v.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(parse::value(*code, &format!("hex:{hex}")), Ok(v));
});
