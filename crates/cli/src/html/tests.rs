//! The page from captures written here with the wire library: escaping of
//! hostile packet contents, the marks on arrows, and the caps.

use std::net::Ipv4Addr;

use capture::write::PcapWriter;
use diagnose::{Config, Engine, NoSink};
use lab::Scratch;
use wire::dhcp::{code, Message, MessageType, Op, FLAG_BROADCAST};
use wire::frame::{ChecksumMode, UdpFrame};

use super::{Limits, Page};
use crate::feed::Feed;

const SERVER: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 1);
const SERVER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0xfe];

/// A capture file being written.
struct Cap {
    w: PcapWriter<Vec<u8>>,
}

impl Cap {
    fn new() -> Cap {
        Cap {
            w: PcapWriter::new(Vec::new(), wire::LinkType::Ethernet, 65535).unwrap(),
        }
    }

    fn frame(&mut self, t: f64, f: &UdpFrame<'_>) {
        let b = f.ethernet_frame();
        self.w
            .write(1_700_000_000_000_000_000 + (t * 1e9) as i64, &b, b.len())
            .unwrap();
    }

    fn client(&mut self, t: f64, m: &Message<'_>) {
        let payload = m.encode(300);
        let mut f = UdpFrame::new(
            (Ipv4Addr::UNSPECIFIED, 68),
            (Ipv4Addr::BROADCAST, 67),
            &payload,
        );
        f.src_mac = m.chaddr_field[..6].try_into().unwrap();
        self.frame(t, &f);
    }

    fn server(&mut self, t: f64, m: &Message<'_>, csum: ChecksumMode) {
        let payload = m.encode(300);
        let mut f = UdpFrame::new((SERVER, 67), (Ipv4Addr::BROADCAST, 68), &payload);
        f.src_mac = SERVER_MAC;
        f.checksum = csum;
        self.frame(t, &f);
    }

    fn udp(&mut self, t: f64, src: (Ipv4Addr, u16), dst: (Ipv4Addr, u16), m: &Message<'_>) {
        let payload = m.encode(300);
        let mut f = UdpFrame::new(src, dst, &payload);
        f.src_mac = if m.op == Op::BootRequest {
            m.chaddr_field[..6].try_into().unwrap()
        } else {
            SERVER_MAC
        };
        self.frame(t, &f);
    }

    /// Writes the file as `name` in `scratch` and returns its path.
    fn save(self, scratch: &Scratch, name: &str) -> String {
        let p = scratch.file(name, &self.w.into_inner());
        p.to_string_lossy().into_owned()
    }
}

fn mac(n: u8) -> [u8; 6] {
    [0x02, 0, 0, 0, 0, n]
}

fn msg(op: Op, kind: MessageType, xid: u32, chaddr: [u8; 6]) -> Message<'static> {
    let mut m = Message::new(op, xid, &chaddr);
    m.set_option(code::DHCP_MESSAGE_TYPE, vec![u8::from(kind)]);
    m
}

fn offer(xid: u32, chaddr: [u8; 6], kind: MessageType) -> Message<'static> {
    let mut m = msg(Op::BootReply, kind, xid, chaddr);
    m.yiaddr = Ipv4Addr::new(192, 168, 1, 10);
    m.set_option(code::SERVER_IDENTIFIER, SERVER.octets().to_vec());
    m.set_option(code::IP_ADDRESS_LEASE_TIME, 3600u32.to_be_bytes().to_vec());
    m.set_option(code::SUBNET_MASK, vec![255, 255, 255, 0]);
    m.set_option(code::ROUTER, SERVER.octets().to_vec());
    m
}

/// Diagnoses `files` as one case and renders the page.
fn page(files: &[String], limits: Limits) -> String {
    page_of_cases(&[files], limits)
}

/// Diagnoses each of `cases` (its files) and renders them on one page.
fn page_of_cases(cases: &[&[String]], limits: Limits) -> String {
    let mut p = Page::new(limits);
    for files in cases {
        let feed = Feed::open(files);
        let names = feed.names();
        let mut engine = Engine::new(
            Config {
                files: names.clone(),
                ..Config::default()
            },
            NoSink,
        );
        let mut feed = feed;
        for o in feed.by_ref() {
            engine.push(o);
        }
        let report = engine.finish().0;
        p.add_case(&files.join(" + "), &names, &[], &report, &feed);
    }
    p.render()
}

/// The attributes of the `<g class="arrow …">` elements, in order.
fn arrows(html: &str) -> Vec<&str> {
    html.match_indices("<g class=\"arrow ")
        .map(|(i, _)| {
            let rest = &html[i..];
            &rest[..rest.find('>').unwrap()]
        })
        .collect()
}

#[test]
fn hostile_packet_text_is_escaped_everywhere() {
    let hostile = "<script>alert(1)</script>";
    let mut c = Cap::new();
    let mut d = msg(Op::BootRequest, MessageType::Discover, 0x1234, mac(1));
    d.set_option(code::HOST_NAME, hostile.as_bytes().to_vec());
    d.set_option(code::VENDOR_CLASS_IDENTIFIER, b"</script><!--".to_vec());
    c.client(0.0, &d);
    let mut r = msg(Op::BootRequest, MessageType::Request, 0x1234, mac(1));
    r.set_option(code::HOST_NAME, hostile.as_bytes().to_vec());
    r.set_option(code::REQUESTED_IP_ADDRESS, vec![192, 168, 1, 10]);
    c.client(0.5, &r);
    let mut nak = msg(Op::BootReply, MessageType::Nak, 0x1234, mac(1));
    nak.set_option(code::SERVER_IDENTIFIER, SERVER.octets().to_vec());
    nak.set_option(
        code::MESSAGE,
        b"\"><img src=x onerror=alert(2)> & <b>bold</b>".to_vec(),
    );
    c.server(0.6, &nak, ChecksumMode::Full);
    // The file name is untrusted too.
    let scratch = Scratch::new("html");
    let path = c.save(&scratch, "<i>evil'\".pcap");
    let html = page(&[path], Limits::default());

    // Only our two script elements: the JSON data and the code.
    assert_eq!(html.matches("<script").count(), 2, "{html}");
    assert_eq!(html.matches("</script>").count(), 2);
    assert!(!html.contains("<img"));
    assert!(!html.contains("<b>bold"));
    assert!(!html.contains("<i>evil"));
    assert!(!html.contains("<!--"));
    // The packet text is there, escaped: in the JSON data as \u003c, in the
    // ladder's note (option 56) as entities, the file name as entities.
    assert!(html.contains("\\u003cscript\\u003ealert(1)\\u003c/script\\u003e"));
    assert!(html.contains("\\\"\\u003e\\u003cimg src=x"));
    assert!(html.contains("&lt;img src=x onerror=alert(2)&gt; &amp; &lt;b&gt;bold"));
    assert!(html.contains("&lt;i&gt;evil&#39;&quot;.pcap"));
    // The data block is still valid JSON holding the host name intact.
    let start = html.find("id=\"packets\">").unwrap() + "id=\"packets\">".len();
    let end = start + html[start..].find("</script>").unwrap();
    let data: serde_json::Value = serde_json::from_str(&html[start..end]).unwrap();
    let first = &data["k1p1"]["frames"][0]["pkt"];
    let host = first["options"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["code"] == 12)
        .unwrap();
    assert_eq!(host["value"], hostile);
}

#[test]
fn arrows_mark_retransmissions_silence_naks_and_checksums() {
    let mut c = Cap::new();
    // Client 1: three DISCOVERs, nobody answers.
    for (i, secs) in [0u16, 0, 0].iter().enumerate() {
        let mut d = msg(Op::BootRequest, MessageType::Discover, 0x11, mac(1));
        d.secs = *secs;
        d.flags = FLAG_BROADCAST;
        c.client(i as f64 * 4.0, &d);
    }
    // Client 2: an OFFER with a partial checksum, then a NAK.
    c.client(
        20.0,
        &msg(Op::BootRequest, MessageType::Discover, 0x22, mac(2)),
    );
    c.server(
        20.1,
        &offer(0x22, mac(2), MessageType::Offer),
        ChecksumMode::Partial,
    );
    let mut r = msg(Op::BootRequest, MessageType::Request, 0x22, mac(2));
    r.set_option(code::REQUESTED_IP_ADDRESS, vec![192, 168, 1, 10]);
    r.set_option(code::SERVER_IDENTIFIER, SERVER.octets().to_vec());
    c.client(20.5, &r);
    let mut nak = msg(Op::BootReply, MessageType::Nak, 0x22, mac(2));
    nak.set_option(code::SERVER_IDENTIFIER, SERVER.octets().to_vec());
    c.server(20.6, &nak, ChecksumMode::Full);
    let scratch = Scratch::new("html");
    let html = page(&[c.save(&scratch, "marks.pcap")], Limits::default());

    let a = arrows(&html);
    assert_eq!(a.len(), 7, "{a:#?}");
    assert_eq!(html.matches("<svg class=\"ladder\"").count(), 2);
    let count = |class: &str| a.iter().filter(|s| s.contains(class)).count();
    // Client 1's DISCOVERs: all unanswered, the 2nd and 3rd retransmissions.
    assert_eq!(count(" unanswered"), 3);
    assert_eq!(count(" retx"), 2);
    assert_eq!(count("arrow nak"), 1);
    assert_eq!(count("arrow bad"), 1, "the partial checksum OFFER");
    // Bands and timeline marks carry the engine's outcome per transaction.
    assert!(html.contains("<tspan class=\"band-outcome\">no-offer</tspan>"));
    assert!(html.contains("<tspan class=\"band-outcome\">nak</tspan>"));
    assert_eq!(html.matches("class=\"mark fail\"").count(), 2);
    // Findings link to their arrows and are present beside the ladder.
    assert!(html.contains("<code class=\"code\">no-offer</code>"));
    assert!(html.contains("<code class=\"code\">nak</code>"));
    assert!(html.contains("<code class=\"code\">udp-checksum-partial</code>"));
    assert!(html.contains("class=\"ev\" href=\"#k1p"));
    // The failing clients come first in the verdicts, and the no-offer one
    // highlights secs when its packets are opened.
    assert!(html.contains("\"k\":\"udp_checksum\""));
    assert!(html.contains("\"k\":\"opt:53\""));
}

#[test]
fn big_captures_are_capped_and_say_so() {
    let mut c = Cap::new();
    for n in 1..=5u8 {
        for i in 0..6 {
            let d = msg(Op::BootRequest, MessageType::Discover, u32::from(n), mac(n));
            c.client(f64::from(n) * 100.0 + f64::from(i) * 2.0, &d);
        }
    }
    let limits = Limits {
        clients: 3,
        packets: 9,
        per_client_max: 4,
        per_client_min: 2,
        timeline_rows: 2,
    };
    let scratch = Scratch::new("html");
    let html = page(&[c.save(&scratch, "big.pcap")], limits);
    assert_eq!(html.matches("<svg class=\"ladder\"").count(), 3);
    // 9 packets over 3 clients: 3 each.
    assert_eq!(arrows(&html).len(), 9);
    assert_eq!(
        html.matches("3 more packets of this client are not drawn")
            .count(),
        3
    );
    assert!(html.contains("2 more healthy or less serious clients are not shown"));
    assert!(html.contains("3 more clients are not drawn"));
}

/// Every `id` on the page is unique, so `aria-labelledby` and the links from
/// findings to arrows reach the element they mean (several clients, several
/// ladders in one case), also with two cases on the page (each has a
/// timeline; their ids were the same).
#[test]
fn ids_are_unique() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/min-secs");
    let files: Vec<String> = ["client.pcap", "server.pcap"]
        .iter()
        .map(|f| dir.join(f).to_string_lossy().into_owned())
        .collect();
    let other = [std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/ack-lost/client.pcap")
        .to_string_lossy()
        .into_owned()];
    let html = page_of_cases(&[&files, &other], Limits::default());
    assert_eq!(html.matches("<svg class=\"timeline\"").count(), 2);
    let mut ids: Vec<&str> = html
        .match_indices(" id=\"")
        .map(|(i, m)| {
            let rest = &html[i + m.len()..];
            &rest[..rest.find('"').unwrap()]
        })
        .collect();
    let n = ids.len();
    assert!(n > 4, "{n} ids");
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), n, "duplicate ids on the page");
    assert!(
        html.matches("<svg class=\"ladder\"").count() >= 2,
        "two ladders"
    );
}

/// The lab's ISC dhcpd answering a PXE ROM's boot server searches with
/// plain ACKs (examples/pxe-boot-search-plain-ack): the searches are drawn
/// unanswered, each ACK says the ROM drops it, and their band is the boot
/// server's, not an "unknown" transaction.
#[test]
fn a_search_answered_without_its_boot_item_is_drawn_unanswered() {
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/pxe-boot-search-plain-ack/server.pcap"
    );
    let html = page(&[file.to_string()], Limits::default());
    let a = arrows(&html);
    assert_eq!(a.len(), 8, "{a:?}");
    let unanswered: Vec<usize> = (0..a.len())
        .filter(|&i| a[i].contains("unanswered"))
        .collect();
    assert_eq!(unanswered, [4, 6], "the two searches: {a:?}");
    // Marked as a problem under each of the two ACKs (and said again in
    // their labels and table rows).
    assert_eq!(
        html.matches("<tspan class=\"note-bad\">names no boot item: the ROM drops it")
            .count(),
        2
    );
    assert!(html.contains("PXE boot server · <tspan class=\"band-outcome\">no answer"));
    assert!(!html.contains("unknown"), "no band without a name");
}

/// The lab's PXE ROM asking 10.0.0.1 on UDP 4011, captured at both ends
/// (examples/pxe-boot-server-silent): each ICMP port unreachable that
/// answers a request is an arrow from 10.0.0.1, one per error though both
/// captures hold it, and the requests it refuses stay unanswered.
#[test]
fn icmp_errors_are_arrows_of_their_own() {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/pxe-boot-server-silent/"
    );
    let files = [format!("{dir}client.pcap"), format!("{dir}server.pcap")];
    let html = page(&files, Limits::default());
    let a = arrows(&html);
    let icmp: Vec<&&str> = a.iter().filter(|t| t.contains("arrow icmp")).collect();
    assert_eq!(icmp.len(), 4, "{a:?}");
    for t in &icmp {
        assert!(
            t.contains("10.0.0.1 → client ICMP port unreachable")
                && t.contains("quoting REQUEST ciaddr 10.0.0.100 (boot server, UDP 4011)")
                && t.contains("seen 2×"),
            "{t}"
        );
    }
    let unanswered = a.iter().filter(|t| t.contains("unanswered")).count();
    assert_eq!(unanswered, 4, "the four requests to 4011: {a:?}");
    // Each error's frame in both captures opens its arrow, the sender's
    // (server.pcap) first.
    assert_eq!(
        icmp.iter()
            .filter(|t| t.contains("data-frames=\"1:6 0:6\""))
            .count(),
        1
    );
}

/// A search answered first by a DHCP server's plain ACK, then by a boot
/// server's ACK for the item: answered (the ROM keeps the second), and only
/// the plain ACK is marked as dropped. A plain ACK 5 s later is not one
/// the ROM drops (the engine makes it a transaction of its own).
#[test]
fn a_search_is_answered_by_any_reply_the_rom_keeps() {
    let boot = Ipv4Addr::new(192, 168, 1, 2);
    let addr = Ipv4Addr::new(192, 168, 1, 10);
    let search = |xid| {
        let mut r = msg(Op::BootRequest, MessageType::Request, xid, mac(7));
        r.ciaddr = addr;
        r.set_option(
            code::VENDOR_CLASS_IDENTIFIER,
            b"PXEClient:Arch:00000".to_vec(),
        );
        r.set_option(code::VENDOR_SPECIFIC, vec![0x47, 4, 0, 1, 0, 0, 0xff]);
        r
    };
    let plain = |xid| offer(xid, mac(7), MessageType::Ack);
    let mut item = offer(0, mac(7), MessageType::Ack);
    item.set_option(code::SERVER_IDENTIFIER, boot.octets().to_vec());
    item.set_option(code::VENDOR_CLASS_IDENTIFIER, b"PXEClient".to_vec());
    item.set_option(code::VENDOR_SPECIFIC, vec![0x47, 4, 0, 1, 0, 0, 0xff]);
    let scratch = Scratch::new("html-search");
    let mut c = Cap::new();
    c.udp(10.0, (addr, 68), (Ipv4Addr::BROADCAST, 67), &search(0));
    c.udp(10.001, (SERVER, 67), (Ipv4Addr::BROADCAST, 68), &plain(0));
    c.udp(10.002, (boot, 67), (addr, 68), &item);
    c.udp(20.0, (addr, 68), (Ipv4Addr::BROADCAST, 67), &search(0));
    c.udp(25.0, (SERVER, 67), (Ipv4Addr::BROADCAST, 68), &plain(0));
    let html = page(&[c.save(&scratch, "s.pcap")], Limits::default());
    let a = arrows(&html);
    let flags: Vec<(bool, bool)> = a
        .iter()
        .map(|t| (t.contains("unanswered"), t.contains("the ROM drops it")))
        .collect();
    assert_eq!(
        flags[..3],
        [(false, false), (false, true), (false, false)],
        "{a:#?}"
    );
    assert!(!flags[4].1, "{a:#?}");
}

/// The lab's lost ACKs (examples/ack-lost) with the server's capture 40 s
/// behind: the page says so, and draws the ladder it draws for the captures
/// as recorded (the same arrows, in the same order, each with both
/// captures' frames).
#[test]
fn the_ladder_of_captures_whose_clocks_disagree_is_the_recorded_one() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/ack-lost/");
    let scratch = Scratch::new("html-clocks");
    let mut r = capture::open(format!("{dir}server.pcap")).unwrap();
    let mut w = PcapWriter::new(Vec::new(), wire::LinkType::Ethernet, 262_144).unwrap();
    while let Some(p) = r.next_packet().unwrap() {
        w.write(p.timestamp.0 - 40_000_000_000, p.data, p.orig_len)
            .unwrap();
    }
    let server = scratch.file("server.pcap", &w.into_inner());
    let recorded = page(
        &[format!("{dir}client.pcap"), format!("{dir}server.pcap")],
        Limits::default(),
    );
    let moved = page(
        &[
            format!("{dir}client.pcap"),
            server.to_string_lossy().into_owned(),
        ],
        Limits::default(),
    );
    assert!(!recorded.contains("<strong>Clocks:</strong>"));
    assert!(moved.contains("<strong>Clocks:</strong>") && moved.contains("40.000 s behind"));
    let frames = |html: &str| -> Vec<String> {
        arrows(html)
            .iter()
            .map(|a| {
                a.split("data-frames=\"")
                    .nth(1)
                    .unwrap()
                    .split('"')
                    .next()
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    assert_eq!(frames(&moved), frames(&recorded));
    assert!(
        frames(&recorded).iter().any(|f| f.contains(' ')),
        "copies in both captures"
    );
}
