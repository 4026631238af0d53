//! Parse/emit pairs from real packets, and the lenient parser's anomalies.

use super::*;
use crate::anomaly::AnomalyKind;

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// Frame 1 of net-dhcp's `DHCP-DISCOVER-OFFER-REQUEST-ACK.cap`: a Windows XP
/// DHCPDISCOVER, 272 bytes (under the BOOTP minimum: no padding to 300).
#[rustfmt::skip]
fn discover() -> Vec<u8> {
    cat(&[
        &[0x01, 0x01, 0x06, 0x00],            // op BOOTREQUEST, htype 1, hlen 6, hops 0
        &[0x00, 0x00, 0x3d, 0x1d],            // xid 0x00003d1d
        &[0x00, 0x00, 0x00, 0x00],            // secs 0, flags 0
        &[0; 16],                             // ciaddr, yiaddr, siaddr, giaddr
        &[0x00, 0x0b, 0x82, 0x01, 0xfc, 0x42], // chaddr 00:0b:82:01:fc:42
        &[0; 10],                             // chaddr padding
        &[0; 64],                             // sname
        &[0; 128],                            // file
        &[0x63, 0x82, 0x53, 0x63],            // magic cookie
        &[0x35, 0x01, 0x01],                  // 53 DHCPDISCOVER
        &[0x3d, 0x07, 0x01, 0x00, 0x0b, 0x82, 0x01, 0xfc, 0x42], // 61 htype 1 + MAC
        &[0x32, 0x04, 0x00, 0x00, 0x00, 0x00], // 50 requested 0.0.0.0
        &[0x37, 0x04, 0x01, 0x03, 0x06, 0x2a], // 55 [1, 3, 6, 42]
        &[0xff],                              // END
        &[0; 7],                              // padding
    ])
}

/// Frame 2 of the same capture: the DHCPOFFER, 300 bytes.
#[rustfmt::skip]
fn offer() -> Vec<u8> {
    cat(&[
        &[0x02, 0x01, 0x06, 0x00, 0x00, 0x00, 0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00],
        &[0, 0, 0, 0],                        // ciaddr
        &[192, 168, 0, 10],                   // yiaddr
        &[192, 168, 0, 1],                    // siaddr
        &[0, 0, 0, 0],                        // giaddr
        &[0x00, 0x0b, 0x82, 0x01, 0xfc, 0x42], &[0; 10],
        &[0; 64], &[0; 128],
        &[0x63, 0x82, 0x53, 0x63],
        &[0x35, 0x01, 0x02],                  // 53 DHCPOFFER
        &[0x01, 0x04, 0xff, 0xff, 0xff, 0x00], // 1 mask 255.255.255.0
        &[0x3a, 0x04, 0x00, 0x00, 0x07, 0x08], // 58 T1 1800
        &[0x3b, 0x04, 0x00, 0x00, 0x0c, 0x4e], // 59 T2 3150
        &[0x33, 0x04, 0x00, 0x00, 0x0e, 0x10], // 51 lease 3600
        &[0x36, 0x04, 192, 168, 0, 1],        // 54 server id
        &[0xff],
        &[0; 26],
    ])
}

#[test]
fn discover_fields() {
    let b = discover();
    let l = Message::parse_lenient(&b);
    let m = l.message.unwrap();
    assert_eq!(m.op, Op::BootRequest);
    assert_eq!(m.xid, 0x3d1d);
    assert_eq!(m.chaddr().to_string(), "00:0b:82:01:fc:42");
    assert_eq!(m.message_type(), Some(MessageType::Discover));
    assert_eq!(m.requested_ip(), Some(Ipv4Addr::UNSPECIFIED));
    let codes: Vec<u8> = m.options.iter().map(|o| o.code).collect();
    assert_eq!(codes, [53, 61, 50, 55, 255]);
    let offsets: Vec<usize> = m.options.iter().map(|o| o.offset).collect();
    assert_eq!(offsets, [240, 243, 252, 258, 264]);
    assert!(m.trailer.is_empty());
    // Only the short length is odd about it.
    assert_eq!(l.anomalies.len(), 1);
    assert_eq!(
        l.anomalies[0].kind,
        AnomalyKind::BelowBootpMinimum { length: 272 }
    );
    assert_eq!(
        m.value(61).unwrap(),
        Value::ClientIdHw {
            htype: 1,
            addr: Cow::Borrowed(&[0x00, 0x0b, 0x82, 0x01, 0xfc, 0x42][..])
        }
    );
    assert_eq!(
        m.value(55).unwrap().to_string(),
        "1 subnet-mask, 3 router, 6 domain-name-server, 42 ntp-servers"
    );
    // The strict parser accepts a short message.
    assert!(Message::parse(&b).is_ok());
}

#[test]
fn offer_fields() {
    let b = offer();
    let m = Message::parse(&b).unwrap();
    assert_eq!(m.op, Op::BootReply);
    assert_eq!(m.yiaddr, Ipv4Addr::new(192, 168, 0, 10));
    assert_eq!(m.server_id(), Some(Ipv4Addr::new(192, 168, 0, 1)));
    assert_eq!(
        (m.renewal_time(), m.rebinding_time(), m.lease_time()),
        (Some(1800), Some(3150), Some(3600))
    );
    assert_eq!(m.subnet_mask(), Some(Ipv4Addr::new(255, 255, 255, 0)));
    assert_eq!(m.value(51).unwrap().to_string(), "3600s (1h)");
}

#[test]
fn real_messages_re_encode_byte_for_byte() {
    for b in [discover(), offer()] {
        let m = Message::parse_lenient(&b).message.unwrap();
        assert_eq!(m.encode(b.len()), b);
        // And the encoding parses back to the same message.
        let again = m.encode(b.len());
        assert_eq!(Message::parse_lenient(&again).message.unwrap(), m);
    }
}

#[test]
fn crafted_discover_round_trips() {
    let mut m = Message::new(Op::BootRequest, 0xdead_beef, &[2, 0, 0, 0, 0, 1]);
    m.secs = 4;
    m.flags = FLAG_BROADCAST;
    m.set_option(code::DHCP_MESSAGE_TYPE, vec![1]);
    m.set_option(code::PARAMETER_REQUEST_LIST, vec![1, 3, 6]);
    m.set_option(code::HOST_NAME, b"pxe-rom".to_vec());
    let b = m.encode(300);
    assert_eq!(b.len(), 300);
    let back = Message::parse(&b).unwrap();
    assert_eq!(back, m);
    let codes: Vec<u8> = back.options.iter().map(|o| o.code).collect();
    assert_eq!(
        codes,
        [53, 55, 12, 255],
        "set_option inserts before END, in call order"
    );
    assert!(back.broadcast());
}

#[test]
fn set_option_replaces_in_place_and_removes_duplicates() {
    let mut m = Message::new(Op::BootRequest, 1, &[1; 6]);
    m.set_option(53, vec![1]);
    m.set_option(12, b"a".to_vec());
    m.options.insert(2, RawOption::new(12, b"b".to_vec()));
    m.set_option(12, b"c".to_vec());
    let codes: Vec<(u8, Vec<u8>)> = m
        .options
        .iter()
        .map(|o| (o.code, o.data.to_vec()))
        .collect();
    assert_eq!(codes, [(53, vec![1]), (12, b"c".to_vec()), (255, vec![])]);
    assert!(m.remove_option(12));
    assert!(!m.remove_option(12));
}

/// An option overloaded into `file`, set or removed, goes on the wire as
/// the message says: once, in the options field, with no trace of it left
/// in `file` (it used to stay there, and `set_option` put the new one after
/// END, as trailer).
#[test]
fn an_overloaded_option_set_or_removed_leaves_no_trace_in_file() {
    let mut m = Message::new(Op::BootRequest, 1, &[1; 6]);
    m.set_option(53, vec![1]);
    m.set_option(code::OPTION_OVERLOAD, vec![1]);
    for (c, v) in [
        (3u8, vec![10, 0, 0, 1]),
        (12, b"pc".to_vec()),
        (255, vec![]),
    ] {
        m.options.push(RawOption {
            region: Region::File,
            ..RawOption::new(c, v)
        });
    }
    let bytes = m.encode(300);
    let read = Message::parse_lenient(&bytes).message.unwrap();
    assert_eq!(read.option(3).as_deref(), Some(&[10, 0, 0, 1][..]));
    let mut read = read.into_owned();
    read.set_option(3, vec![10, 0, 0, 9]);
    read.remove_option(12);
    let bytes = read.encode(300);
    let back = Message::parse_lenient(&bytes).message.unwrap();
    assert_eq!(back.option(3).as_deref(), Some(&[10, 0, 0, 9][..]));
    assert_eq!(back.option(12), None);
    assert!(back.trailer.is_empty(), "{:?}", back.trailer);
    assert!(back.file.iter().skip(1).all(|b| *b == 0), "{:?}", back.file);
}

/// A captured request whose overloaded `file` has bytes after its END is
/// written back byte for byte while its options are untouched (replay sends
/// what was captured), and as TLVs and zeros once one of them changes.
#[test]
fn an_untouched_overloaded_field_is_written_as_read() {
    let mut b = vec![0u8; 300];
    b[0] = 1;
    b[236..240].copy_from_slice(&MAGIC_COOKIE);
    b[240..247].copy_from_slice(&[53, 1, 1, 52, 1, 1, 255]);
    b[108..116].copy_from_slice(&[12, 1, b'x', 255, 0xde, 0xad, 0, 0xbe]);
    let l = Message::parse_lenient(&b);
    assert!(l
        .anomalies
        .iter()
        .any(|a| a.kind.code() == "bytes-after-end" && a.offset == 112));
    let m = l.message.unwrap();
    assert_eq!(m.encode(300), b);
    let mut m = m.into_owned();
    m.set_option(12, b"y".to_vec());
    let out = m.encode(300);
    assert_eq!(
        out[108..112],
        [255, 0, 0, 0],
        "12 moved to the options field"
    );
    assert!(out[108..236].iter().skip(1).all(|&x| x == 0));
}

/// Only the first option 52 in the options field says which fields hold
/// options, for the parser and for [`Message::overloads`] alike.
#[test]
fn only_the_first_overload_option_counts() {
    let base = || {
        let mut b = vec![0u8; 300];
        b[0] = 1;
        b[236..240].copy_from_slice(&MAGIC_COOKIE);
        b[44..49].copy_from_slice(b"srv-a");
        b
    };
    // Two in the options field: sname holds options, file holds text.
    let mut b = base();
    b[240..250].copy_from_slice(&[53, 1, 1, 52, 1, 2, 52, 1, 1, 255]);
    b[44..48].copy_from_slice(&[12, 1, b'h', 255]);
    b[108..113].copy_from_slice(b"boot\0");
    let m = Message::parse_lenient(&b).message.unwrap();
    assert!(m.overloads(Region::Sname));
    assert!(!m.overloads(Region::File));
    assert_eq!(m.server_name(), None);
    assert_eq!(m.boot_file().as_deref(), Some("boot"));
    assert_eq!(m.option(12).as_deref(), Some(&b"h"[..]));
    assert_eq!(m.encode(300), b);
    // One in the options field and one in `file`, which it overloads.
    let mut b = base();
    b[240..247].copy_from_slice(&[53, 1, 1, 52, 1, 1, 255]);
    b[108..115].copy_from_slice(&[52, 1, 2, 12, 1, b'h', 255]);
    let m = Message::parse_lenient(&b).message.unwrap();
    assert!(m.overloads(Region::File));
    assert!(!m.overloads(Region::Sname));
    assert_eq!(m.boot_file(), None);
    assert_eq!(m.server_name().as_deref(), Some("srv-a"));
    assert_eq!(m.encode(300), b);
}

#[test]
fn long_options_are_split_and_joined() {
    // RFC 3396: a 600-byte value travels as 255 + 255 + 90.
    let mut m = Message::new(Op::BootReply, 7, &[1; 6]);
    m.set_option(53, vec![5]);
    let routes: Vec<u8> = (0..150u32)
        .flat_map(|i| [24, 10, (i >> 8) as u8, i as u8, 10, 0, 0, 1])
        .take(600)
        .collect();
    m.set_option(code::CLASSLESS_STATIC_ROUTE, routes.clone());
    let b = m.encode(0);
    let back = Message::parse(&b).unwrap();
    let lens: Vec<usize> = back
        .options
        .iter()
        .filter(|o| o.code == 121)
        .map(|o| o.data.len())
        .collect();
    assert_eq!(lens, [255, 255, 90]);
    assert_eq!(back.option(121).unwrap().as_ref(), routes.as_slice());
    match back.value(121).unwrap() {
        Value::Routes(r) => assert_eq!(r.len(), 75),
        v => panic!("{v:?}"),
    }
}

/// Options in `file` then `sname` when option 52 is 3 (RFC 2131 §4.1).
#[test]
fn overload_reads_file_then_sname() {
    let mut b = vec![0u8; 240];
    b[0] = 2;
    b[2] = 6;
    b[236..240].copy_from_slice(&MAGIC_COOKIE);
    b.extend_from_slice(&[53, 1, 2, 52, 1, 3, 255]);
    // file: option 67 (bootfile name) then END.
    b[108..108 + 9].copy_from_slice(&[67, 6, b'p', b'x', b'e', b'.', b'0', 0, 255]);
    // sname: option 66 (TFTP server name) then END.
    b[44..44 + 6].copy_from_slice(&[66, 3, b't', b'f', b't', 255]);
    let l = Message::parse_lenient(&b);
    let m = l.message.unwrap();
    let seen: Vec<(u8, Region)> = m.options.iter().map(|o| (o.code, o.region)).collect();
    assert_eq!(
        seen,
        [
            (53, Region::Options),
            (52, Region::Options),
            (255, Region::Options),
            (67, Region::File),
            (255, Region::File),
            (66, Region::Sname),
            (255, Region::Sname)
        ]
    );
    assert_eq!(m.options[3].offset, 108);
    assert_eq!(m.options[5].offset, 44);
    assert_eq!(m.server_name(), None);
    assert_eq!(m.boot_file(), None);
    assert_eq!(m.option(67).unwrap().as_ref(), b"pxe.0\0");
    let kinds: Vec<&str> = l.anomalies.iter().map(|a| a.kind.code()).collect();
    assert_eq!(kinds, ["below-bootp-minimum"]);
    assert_eq!(m.encode(b.len()), b);
}

#[test]
fn overload_without_end_is_reported() {
    let mut b = vec![0u8; 300];
    b[0] = 1;
    b[236..240].copy_from_slice(&MAGIC_COOKIE);
    b[240..247].copy_from_slice(&[53, 1, 1, 52, 1, 1, 255]);
    b[108..111].copy_from_slice(&[12, 1, b'x']); // then zeros (pad) to the end of file: no END
    let l = Message::parse_lenient(&b);
    assert!(l.anomalies.iter().any(|a| a.kind
        == AnomalyKind::OverloadWithoutEnd {
            region: Region::File
        }
        && a.offset == 108));
    assert!(Message::parse(&b).is_err());
}

fn anomalies(b: &[u8]) -> Vec<(usize, &'static str)> {
    Message::parse_lenient(b)
        .anomalies
        .iter()
        .map(|a| (a.offset, a.kind.code()))
        .collect()
}

#[test]
fn truncated_option_is_reported_where_it_starts() {
    let mut b = discover();
    b.truncate(260); // inside option 55's value
    assert_eq!(
        anomalies(&b),
        [(0, "below-bootp-minimum"), (258, "truncated-option")]
    );
    let m = Message::parse_lenient(&b).message.unwrap();
    assert_eq!(m.options.len(), 3, "options before the cut are kept");
}

#[test]
fn missing_end_and_bytes_after_end() {
    let mut b = discover();
    b.truncate(264); // cut just before END
    assert_eq!(
        anomalies(&b),
        [(0, "below-bootp-minimum"), (264, "missing-end")]
    );
    let mut b = discover();
    b[268] = 0x42;
    assert_eq!(
        anomalies(&b),
        [(0, "below-bootp-minimum"), (268, "bytes-after-end")]
    );
}

#[test]
fn bad_cookie_keeps_the_vendor_area() {
    let mut b = offer();
    b[236] = 0x64;
    let l = Message::parse_lenient(&b);
    assert_eq!(l.anomalies[0].kind.code(), "bad-magic-cookie");
    assert_eq!(l.anomalies[0].offset, 236);
    let m = l.message.unwrap();
    assert!(m.options.is_empty());
    assert_eq!(m.encode(b.len()), b);
}

#[test]
fn header_anomalies() {
    let mut b = discover();
    b[2] = 20;
    b[0] = 9;
    let l = Message::parse_lenient(&b);
    let kinds: Vec<&str> = l.anomalies.iter().map(|a| a.kind.code()).collect();
    assert_eq!(
        kinds,
        ["below-bootp-minimum", "unknown-op", "hlen-too-large"]
    );
    assert_eq!(l.message.unwrap().chaddr().as_bytes().len(), 16);
    let b = discover();
    assert_eq!(anomalies(&b[..100]), [(0, "message-too-short")]);
    assert!(Message::parse_lenient(&b[..100]).message.is_none());
    assert_eq!(
        anomalies(&b[..238]),
        [(0, "below-bootp-minimum"), (236, "no-magic-cookie")]
    );
}

#[test]
fn message_type_missing_or_repeated() {
    let mut m = Message::new(Op::BootRequest, 1, &[1; 6]);
    let b = m.encode(300);
    assert_eq!(anomalies(&b), [(240, "missing-message-type")]);
    m.set_option(53, vec![1]);
    m.options.insert(1, RawOption::new(53, vec![3]));
    let b = m.encode(300);
    assert_eq!(anomalies(&b), [(243, "repeated-message-type")]);
    assert_eq!(
        Message::parse_lenient(&b).message.unwrap().message_type(),
        Some(MessageType::Discover)
    );
}

#[test]
fn wrong_length_for_a_typed_option() {
    let mut m = Message::new(Op::BootReply, 1, &[1; 6]);
    m.set_option(53, vec![2]);
    m.set_option(54, vec![10, 0, 0]);
    let b = m.encode(300);
    let l = Message::parse_lenient(&b);
    assert_eq!(l.anomalies[0].kind.code(), "option-value-invalid");
    assert_eq!(
        l.anomalies[0].to_string(),
        "at byte 243: option 54: value is 3 bytes, expected 4 bytes"
    );
    let m = l.message.unwrap();
    assert!(matches!(m.value(54), Some(Value::Invalid { .. })));
    assert_eq!(m.server_id(), None);
}

#[test]
fn pad_inside_options_is_kept() {
    let mut b = offer();
    // Replace option 1 by six pads.
    b[243..249].copy_from_slice(&[0; 6]);
    let m = Message::parse(&b).unwrap();
    assert_eq!(m.options.iter().filter(|o| o.code == 0).count(), 6);
    assert_eq!(m.encode(b.len()), b);
}

#[test]
fn every_prefix_parses_without_panic() {
    for b in [discover(), offer()] {
        for n in 0..=b.len() {
            let _ = Message::parse_lenient(&b[..n]);
        }
    }
}

mod values {
    use super::*;

    fn val(code: u8, data: &[u8]) -> String {
        value::decode_slice(code, data, &value::Context::default()).to_string()
    }

    #[test]
    fn classless_routes_rfc3442() {
        // 0.0.0.0/0 via 10.0.0.1; 10.0.0.0/8 via 10.0.0.2; 192.168.1.0/24 via 10.0.0.3
        let d = [
            0, 10, 0, 0, 1, 8, 10, 10, 0, 0, 2, 24, 192, 168, 1, 10, 0, 0, 3,
        ];
        assert_eq!(
            val(121, &d),
            "0.0.0.0/0 via 10.0.0.1, 10.0.0.0/8 via 10.0.0.2, 192.168.1.0/24 via 10.0.0.3"
        );
        assert!(val(121, &[33, 1, 2, 3, 4, 5, 6, 7, 8]).starts_with("invalid"));
        assert!(val(249, &[24, 192, 168]).starts_with("invalid"));
    }

    #[test]
    fn domain_search_with_compression_rfc3397() {
        // RFC 3397 §2's example: eng.apple.com and marketing.apple.com.
        let d = [
            3, b'e', b'n', b'g', 5, b'a', b'p', b'p', b'l', b'e', 3, b'c', b'o', b'm', 0, 9, b'm',
            b'a', b'r', b'k', b'e', b't', b'i', b'n', b'g', 0xc0, 4,
        ];
        assert_eq!(val(119, &d), "eng.apple.com, marketing.apple.com");
        // A pointer to itself or forward is refused, not followed.
        assert!(val(119, &[0xc0, 0]).starts_with("invalid"));
        assert!(val(119, &[1, b'a', 0xc0, 5, 0, 0]).starts_with("invalid"));
    }

    #[test]
    fn fqdn_ascii_and_wire() {
        assert_eq!(
            val(81, b"\x01\x00\x00host.example"),
            "\"host.example\" flags 0x01 (S) rcode 0/0"
        );
        assert_eq!(
            val(81, b"\x05\x00\x00\x04host\x07example\x00"),
            "\"host.example\" flags 0x05 (SE) rcode 0/0"
        );
    }

    #[test]
    fn client_id_duid_rfc4361() {
        let d = [255, 0, 0, 0, 1, 0, 3, 0, 1, 2, 0, 0, 0, 0, 1];
        assert_eq!(
            val(61, &d),
            "IAID 0x00000001, DUID 00:03:00:01:02:00:00:00:00:01"
        );
    }

    #[test]
    fn relay_agent_sub_options() {
        let d = [
            1, 4, b'e', b't', b'h', b'0', 2, 2, 0xab, 0xcd, 5, 4, 10, 1, 2, 0, 11, 4, 10, 0, 0, 1,
        ];
        assert_eq!(
            val(82, &d),
            "1(circuit-id)=\"eth0\"; 2(remote-id)=0xabcd; 5(link-selection)=10.1.2.0; 11(server-id-override)=10.0.0.1"
        );
    }

    /// RFC 3046 has no PAD or END sub-option: codes 0 and 255 carry a
    /// length and a value like the others.
    #[test]
    fn relay_agent_sub_options_0_and_255_are_sub_options() {
        let d = [1, 1, b'x', 0, 2, b'a', b'b', 255, 2, b'c', b'd'];
        assert_eq!(val(82, &d), "1(circuit-id)=\"x\"; 0=\"ab\"; 255=\"cd\"");
    }

    /// Option 81 in wire format (E flag) holds one name (RFC 4702
    /// §2.3.1), which may be partial (no terminating zero); a second is
    /// invalid, not dropped.
    #[test]
    fn fqdn_in_wire_format_holds_one_name() {
        let one = [5, 0, 0, 4, b'h', b'o', b's', b't', 0];
        assert_eq!(val(81, &one), "\"host\" flags 0x05 (SE) rcode 0/0");
        assert_eq!(val(81, &one[..8]), "\"host\" flags 0x05 (SE) rcode 0/0");
        let two = [&one[..], &[3, b'a', b'b', b'c', 0]].concat();
        assert!(val(81, &two).starts_with("invalid"), "{}", val(81, &two));
        // Zero bytes after it are padding, not names.
        let padded = [&one[..], &[0, 0]].concat();
        assert_eq!(val(81, &padded), "\"host\" flags 0x05 (SE) rcode 0/0");
    }

    /// Option 145 lists authentication algorithms (RFC 6704 §3.3), not
    /// option codes.
    #[test]
    fn forcerenew_nonce_algorithms() {
        assert_eq!(val(145, &[1]), "1 HMAC-MD5");
        assert_eq!(val(145, &[1, 7]), "1 HMAC-MD5, 7");
    }

    #[test]
    fn pxe_sub_options_only_for_pxe_clients() {
        let mut m = Message::new(Op::BootReply, 1, &[1; 6]);
        m.set_option(53, vec![2]);
        m.set_option(43, vec![6, 1, 8, 255]);
        assert_eq!(m.value(43).unwrap().to_string(), "0x060108ff");
        m.set_option(60, b"PXEClient".to_vec());
        assert_eq!(
            m.value(43).unwrap().to_string(),
            "6(pxe-discovery-control)=8; 255(end)="
        );
        // END ends them (RFC 2132 §8.4): what follows is not read, as the
        // diagnosis's boot item lookup does not read it.
        m.set_option(43, vec![6, 1, 8, 255, 71, 4, 0x80, 0, 0, 0, 0xee]);
        assert_eq!(
            m.value(43).unwrap().to_string(),
            "6(pxe-discovery-control)=8; 255(end)="
        );
    }

    /// Found by the tshark differential test: PXE sub-options 2 and 3 (MTFTP
    /// client and server port) were read in network order; PXE ROMs write
    /// them little-endian. These bytes ask for ports 1234 and 1235.
    #[test]
    fn pxe_mtftp_ports_are_little_endian() {
        let mut m = Message::new(Op::BootReply, 1, &[1; 6]);
        m.set_option(53, vec![2]);
        m.set_option(60, b"PXEClient".to_vec());
        m.set_option(43, vec![2, 2, 0xd2, 0x04, 3, 2, 0xd3, 0x04, 255]);
        assert_eq!(
            m.value(43).unwrap().to_string(),
            "2(pxe-mtftp-cport)=1234; 3(pxe-mtftp-sport)=1235; 255(end)="
        );
    }

    #[test]
    fn user_class_rfc3004_or_plain_text() {
        assert_eq!(val(77, b"\x04iPXE\x03foo"), "\"iPXE\", \"foo\"");
        assert_eq!(val(77, b"iPXE"), "\"iPXE\"");
    }

    #[test]
    fn vendor_identifying_options() {
        // enterprise 3561 (Broadband Forum), one class "abc"
        assert_eq!(
            val(124, &[0, 0, 0x0d, 0xe9, 4, 3, b'a', b'b', b'c']),
            "enterprise 3561: \"abc\""
        );
        assert_eq!(
            val(125, &[0, 0, 0x0d, 0xe9, 3, 1, 1, 9]),
            "enterprise 3561: 1=0x09"
        );
    }

    #[test]
    fn architectures_and_uuid() {
        assert_eq!(val(93, &[0, 7]), "7 (x64 UEFI)");
        assert_eq!(val(94, &[1, 3, 16]), "type 1 version 3.16");
        let mut u = vec![0];
        u.extend(0..16u8);
        assert_eq!(val(97, &u), "type 0, 00010203-0405-0607-0809-0a0b0c0d0e0f");
    }

    #[test]
    fn unknown_codes_are_bytes_and_text_is_escaped() {
        assert_eq!(val(224, &[1, 2]), "0x0102");
        assert_eq!(val(12, b"a\x01b"), "\"a\\x01b\"");
    }

    #[test]
    fn json_forms() {
        let v = value::decode_slice(3, &[10, 0, 0, 1, 10, 0, 0, 2], &value::Context::default());
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"["10.0.0.1","10.0.0.2"]"#
        );
        let v = value::decode_slice(53, &[3], &value::Context::default());
        assert_eq!(serde_json::to_string(&v).unwrap(), r#""DHCPREQUEST""#);
    }
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn option() -> impl Strategy<Value = (u8, Vec<u8>)> {
        (1u8..=254, proptest::collection::vec(any::<u8>(), 0..=255))
    }

    prop_compose! {
        fn message()(
            op in 1u8..=2, htype in any::<u8>(), hlen in 0u8..=16, hops in any::<u8>(),
            xid in any::<u32>(), secs in any::<u16>(), flags in any::<u16>(),
            addrs in any::<[u32; 4]>(), chaddr in any::<[u8; 16]>(),
            sname in proptest::collection::vec(1u8..=255, 0..64),
            file in proptest::collection::vec(1u8..=255, 0..128),
            opts in proptest::collection::vec(option(), 0..12),
        ) -> Message<'static> {
            let mut m = Message::new(Op::from(op), xid, &[]);
            m.htype = htype; m.hlen = hlen; m.hops = hops; m.secs = secs; m.flags = flags;
            m.ciaddr = addrs[0].into(); m.yiaddr = addrs[1].into();
            m.siaddr = addrs[2].into(); m.giaddr = addrs[3].into();
            m.chaddr_field = chaddr;
            m.sname = Cow::Owned(sname);
            m.file = Cow::Owned(file);
            // Option 52 would reinterpret sname/file; keep it out of this property.
            let end = m.options.pop().unwrap();
            for (code, data) in opts.into_iter().filter(|(c, _)| *c != 52) {
                m.options.push(RawOption::new(code, data));
            }
            m.options.push(end);
            m
        }
    }

    proptest! {
        #[test]
        fn decode_of_encode_is_identity(m in message(), min in 0usize..600) {
            let b = m.encode(min);
            prop_assert!(b.len() >= min);
            let back = Message::parse_lenient(&b).message.unwrap();
            prop_assert_eq!(back, m);
        }

        #[test]
        fn encode_of_decode_is_identity_for_clean_input(m in message()) {
            let b = m.encode(300);
            let l = Message::parse_lenient(&b);
            prop_assert_eq!(l.message.unwrap().encode(b.len()), b);
        }

        #[test]
        fn lenient_parse_never_panics(b in proptest::collection::vec(any::<u8>(), 0..700)) {
            let l = Message::parse_lenient(&b);
            if let Some(m) = l.message {
                for o in &m.options {
                    let _ = m.value(o.code).map(|v| v.to_string());
                }
            }
        }

        #[test]
        fn values_never_panic(code in any::<u8>(), data in proptest::collection::vec(any::<u8>(), 0..300), pxe in any::<bool>()) {
            let v = value::decode_slice(code, &data, &value::Context { pxe });
            let _ = v.to_string();
            let _ = serde_json::to_string(&v).unwrap();
        }
    }
}

/// `HwAddr::hex` (with its own path for six bytes) against the plain
/// formatting, for every byte value and every length.
#[test]
fn hardware_addresses_as_colon_hex() {
    let plain = |b: &[u8]| {
        b.iter()
            .map(|x| format!("{x:02x}"))
            .collect::<Vec<_>>()
            .join(":")
    };
    for len in 0..=16 {
        for start in [0u8, 0x5a, 0xf0, 0xfa] {
            let bytes: Vec<u8> = (0..len).map(|i| start.wrapping_add(i as u8 * 17)).collect();
            assert_eq!(
                HwAddr::new(&bytes).hex().as_str(),
                plain(&bytes),
                "{bytes:?}"
            );
        }
    }
    for x in 0..=255u8 {
        let bytes = [x, 255 - x, x / 2, x ^ 0x0f, 0, 255];
        assert_eq!(HwAddr::new(&bytes).hex().as_str(), plain(&bytes));
    }
}

/// `HwAddr::parse` reads what `hex` writes, with other separators or none,
/// and refuses anything but hex digits (a sign or a character outside ASCII
/// included).
#[test]
fn hardware_addresses_parse_back() {
    for len in 1..=16 {
        let bytes: Vec<u8> = (0..len)
            .map(|i| 0x5a_u8.wrapping_add((i as u8).wrapping_mul(37)))
            .collect();
        let a = HwAddr::new(&bytes);
        let text = a.hex().as_str().to_string();
        assert_eq!(HwAddr::parse(&text), Some(a), "{text}");
        assert_eq!(HwAddr::parse(&text.replace(':', "-")), Some(a));
        assert_eq!(HwAddr::parse(&text.replace(':', "")), Some(a));
        assert_eq!(HwAddr::parse(&text.to_uppercase()), Some(a));
    }
    for (text, want) in [
        ("aabb.ccdd.eeff", "aa:bb:cc:dd:ee:ff"),
        // As ISC dhcpd logs it.
        ("0:c:29:1:2:3", "00:0c:29:01:02:03"),
        ("0-C-29-1-2-3", "00:0c:29:01:02:03"),
        // Huawei and H3C; HP ProCurve.
        ("000b-8201-fc42", "00:0b:82:01:fc:42"),
        ("000B82-01FC42", "00:0b:82:01:fc:42"),
        // A client identifier as Cisco IOS shows it: type 1 and the MAC.
        ("0100.0b82.01fc.42", "01:00:0b:82:01:fc:42"),
    ] {
        assert_eq!(HwAddr::parse(text).unwrap().hex().as_str(), want, "{text}");
    }
    for bad in [
        "",
        ":",
        "0",
        "00:1",
        "+0:+1:+2:+3:+4:+5",
        "0g:00:00:00:00:00",
        "é0:00",
        "aé:b0",
        "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00",
        "aa::bb:cc:dd:ee",
        "aab:bcc:dd:ee:ff",
        "aa:bb-cc:dd:ee:ff",
        "aabb.ccdd.eef",
        "aabbcc.ddeeff",
        ":aa:bb:cc:dd:ee:ff",
        "aa:bb:cc:dd:ee:ff:",
        "aabb:ccdd:eeff",
        "aabb-cc-dd-ee",
        "aabbcc-ddeeff-0011",
        "0100.0b82.01fc.4",
        "0100.0b82.01fc.",
        "0.0.0.0.0.0",
        // Not read as a four-byte address: more likely an IPv4 one.
        "10.20.30.40",
        "aabb.ccdd-eeff",
        "a:bb:cc",
    ] {
        assert_eq!(HwAddr::parse(bad), None, "{bad:?}");
    }
}

#[test]
fn dotted_text_is_std_display() {
    // Every octet value in every position, with 1-, 2- and 3-digit
    // neighbours on each side.
    for x in 0..=255u8 {
        for a in [
            Ipv4Addr::new(x, 0, 255, 9),
            Ipv4Addr::new(99, x, 100, 0),
            Ipv4Addr::new(255, 10, x, 1),
            Ipv4Addr::new(1, 200, 34, x),
            Ipv4Addr::new(x, x, x, x),
        ] {
            let d = Dotted::new(a);
            assert_eq!(d.as_str(), a.to_string());
            assert_eq!(format!("[{d:>16}]"), format!("[{a:>16}]"), "padding");
        }
    }
}

#[test]
fn a_header_cut_short_keeps_the_ids_it_reaches() {
    // The corpus DORA's DISCOVER (xid 0x3d1d, chaddr 00:0b:82:01:fc:42).
    let m = discover();
    let ids = |n: usize| header_ids(&m[..n]);
    assert_eq!(ids(7), (None, None));
    assert_eq!(ids(8), (Some(0x3d1d), None));
    assert_eq!(ids(33), (Some(0x3d1d), None));
    let mac = HwAddr::parse("00:0b:82:01:fc:42");
    assert_eq!(ids(34), (Some(0x3d1d), mac));
    assert_eq!(header_ids(&m), (Some(0x3d1d), mac));
    // As the whole message reads it: an hlen past 16 takes all 16 bytes,
    // once they are there; an hlen of 0, none (IPoIB).
    for (hlen, cut, bytes) in [(17, 44, 16), (255, 44, 16), (17, 43, 99), (0, 28, 0)] {
        let mut b = m.clone();
        b[2] = hlen;
        let whole = Message::parse_lenient_into(&b, &mut Vec::new())
            .unwrap()
            .chaddr();
        let got = header_ids(&b[..cut]).1;
        if bytes == 99 {
            assert_eq!(got, None, "{hlen}");
        } else {
            assert_eq!(got, Some(whole), "{hlen}");
            assert_eq!(whole.as_bytes().len(), bytes);
        }
    }
}
