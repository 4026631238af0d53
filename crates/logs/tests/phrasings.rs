//! Phrasings that no lab recording produced, taken from the programs' source text
//! (ISC dhcp 4.4.3 and 3.0.6 `server/dhcp.c`, Kea 2.2 `*.mes`, dnsmasq `rfc2131.c` and
//! `dhcp.c`, busybox and dhcpcd strings). Each line is built exactly as the source's
//! format string builds it; none of them was seen in a real log here.

use logs::{Kind, Options, Outcome, Parser, Program, Via};

fn parse(line: &str) -> Box<logs::Event> {
    match Parser::new(Options::default()).parse_line(1, line) {
        Outcome::Event(e) => e,
        other => panic!("not an event: {line}\n{other:?}"),
    }
}

#[test]
fn source_phrasings() {
    let cases: &[(&str, Program, Kind)] = &[
        // ISC dhcpd: failover load balancing, failover startup, classes, INFORM.
        ("DHCPDISCOVER from 00:16:3e:00:00:01 via eth0: load balance to peer dhcp-failover", Program::Dhcpd, Kind::LoadBalancedToPeer),
        ("DHCPDISCOVER from 00:16:3e:00:00:01 via eth0: not responding (startup)", Program::Dhcpd, Kind::ServerNotResponding),
        ("DHCPDISCOVER from 00:16:3e:00:00:01 via eth0: bootp disallowed", Program::Dhcpd, Kind::ClientIgnored),
        ("DHCPREQUEST for 10.0.0.5 from 00:16:3e:00:00:01 via eth0: ignored (unknown subnet).", Program::Dhcpd, Kind::UnknownNetworkSegment),
        ("DHCPINFORM from 10.0.0.5 via eth0: not authoritative for subnet 10.0.0.0", Program::Dhcpd, Kind::NotAuthoritative),
        ("DHCPINFORM from 10.0.0.5 via eth0", Program::Dhcpd, Kind::InformReceived),
        ("DHCPACK to 10.0.0.5 (00:16:3e:00:00:01) via eth0", Program::Dhcpd, Kind::AckSent),
        ("client 00:16:3e:00:00:01 has duplicate leases on 10.0.0.0/24", Program::Dhcpd, Kind::ClientIdChanged),
        ("Packet from unknown subnet: 10.9.9.1", Program::Dhcpd, Kind::UnknownNetworkSegment),
        ("DHCPDISCOVER from <no identifier> via 10.9.9.1: unknown network segment", Program::Dhcpd, Kind::UnknownNetworkSegment),
        ("type 9 from 00:16:3e:00:00:01 via 10.9.9.1: unknown network segment", Program::Dhcpd, Kind::UnknownNetworkSegment),
        ("BOOTREQUEST from 00:16:3e:00:00:01 via eth0: BOOTP from dynamic client and no dynamic leases", Program::Dhcpd, Kind::NoPoolForClient),
        ("DHCP4o6 DHCPDISCOVER from 00:16:3e:00:00:01 via 2001:db8::1: network 10.0.0.0/24: no free leases", Program::Dhcpd, Kind::PoolExhausted),
        // Kea 2.2.
        ("DHCP4_PACKET_DROP_0002 [hwtype=1 00:16:3e:00:00:01], cid=[no info], tid=0x1, from interface eth1: no suitable subnet configured for a direct client", Program::Kea, Kind::NoSubnetForInterface),
        ("ALLOC_ENGINE_V4_ALLOC_FAIL_SHARED_NETWORK [hwtype=1 00:16:3e:00:00:01], cid=[no info], tid=0x1: failed to allocate an IPv4 address in the shared network floor2: 2 subnets have no available addresses, 0 subnets have no matching pools", Program::Kea, Kind::PoolExhausted),
        ("DHCP4_PACKET_NAK_0004 [hwtype=1 00:16:3e:00:00:01], cid=[no info], tid=0x1: failed to grant a lease, client sent ciaddr 0.0.0.0, requested-ip-address 10.0.0.9", Program::Kea, Kind::NakAddressUnavailable),
        ("DHCP4_CLIENT_NAME_PROC_FAIL [hwtype=1 00:16:3e:00:00:01], cid=[no info], tid=0x1: failed to process the fqdn or hostname sent by a client: bad label", Program::Kea, Kind::MalformedOption),
        ("DHCP4_PACKET_OPTIONS_SKIPPED An error unpacking an option, caused subsequent options to be skipped: opt 82 len 200", Program::Kea, Kind::MalformedOption),
        ("DHCP4_PACKET_DROP_0008 [hwtype=1 00:16:3e:00:00:01], cid=[no info], tid=0x1: DHCP service is globally disabled", Program::Kea, Kind::ServerNotResponding),
        ("DHCP4_PACKET_DROP_0013 dropped as member of the special class 'DROP' after host reservation lookup: local_address=10.0.0.1:67, remote_address=10.0.0.2:68, msg_type=DHCPREQUEST (3), transid=0x2a,", Program::Kea, Kind::ClientIgnored),
        ("HA_COMMUNICATION_INTERRUPTED communication with server2 is interrupted", Program::Kea, Kind::PeerUnreachable),
        ("DHCP4_NO_SOCKETS_OPEN no interface configured to listen to DHCP traffic", Program::Kea, Kind::NotListening),
        // dnsmasq.
        ("DHCP packet received on eth1 which has no address", Program::Dnsmasq, Kind::NoSubnetForInterface),
        ("not using configured address 192.168.1.10 because it is leased to 01:aa:bb:cc:dd:ee:ff", Program::Dnsmasq, Kind::ClientIdChanged),
        ("DHCPDISCOVER(eth0) aa:bb:cc:dd:ee:ff no address configured", Program::Dnsmasq, Kind::NoPoolForClient),
        ("BOOTP(eth0) aa:bb:cc:dd:ee:ff ignored", Program::Dnsmasq, Kind::ClientIgnored),
        ("no address range available for DHCP request with subnet selector 10.5.0.0", Program::Dnsmasq, Kind::UnknownNetworkSegment),
        // Clients.
        ("DHCPDECLINE of 10.0.0.5 on eth0 to 255.255.255.255 port 67", Program::Dhclient, Kind::ClientDeclineSent),
        ("No working leases in persistent database - sleeping.", Program::Dhclient, Kind::ClientGaveUp),
        ("3 bad IP checksums seen in 5 packets", Program::Dhclient, Kind::ClientBadIpChecksums),
        ("udhcpc: received DHCP NAK", Program::Udhcpc, Kind::ClientNakReceived),
        ("udhcpc[88]: offered address is in use (got ARP reply), declining", Program::Udhcpc, Kind::ClientDeclineSent),
        ("eth0: checksum failure from 10.0.0.1", Program::Dhcpcd, Kind::ClientBadUdpChecksums),
        ("eth0: DAD detected 10.0.0.5", Program::Dhcpcd, Kind::ClientDeclineSent),
    ];
    for &(line, program, kind) in cases {
        let e = parse(line);
        assert_eq!((e.program, e.kind), (program, kind), "{line}");
    }
}

#[test]
fn fields_of_source_phrasings() {
    let e = parse("DHCPREQUEST for 10.0.0.5 (10.0.0.1) from 00:11:22:33:44:55 (my laptop) via 192.0.2.1: wrong network.");
    assert_eq!(e.fields.via, Some(Via::Relay([192, 0, 2, 1].into())));
    assert_eq!(e.fields.server_id, Some([10, 0, 0, 1].into()));
    let e = parse(
        "not using configured address 192.168.1.10 because it is leased to 01:aa:bb:cc:dd:ee:ff",
    );
    assert_eq!(
        e.fields.client_id,
        Some(vec![1, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff])
    );
    assert_eq!(e.fields.requested, Some([192, 168, 1, 10].into()));
    let e = parse("ALLOC_ENGINE_V4_ALLOC_FAIL_SHARED_NETWORK [hwtype=1 00:16:3e:00:00:01], cid=[no info], tid=0x1: failed to allocate an IPv4 address in the shared network floor2: 2 subnets have no available addresses, 0 subnets have no matching pools");
    assert_eq!(e.fields.network.as_deref(), Some("floor2"));
}

#[test]
fn a_program_hint_reads_lines_a_tag_does_not_name() {
    // A distribution that tags dhcpd's lines `isc-dhcp-serverd`: skipped as another
    // program, unless the caller says the log is dhcpd's.
    let line = "Nov 22 04:12:14 vm isc-dhcp-serverd[9]: DHCPDISCOVER from 02:00:00:00:1f:01 via s0";
    assert_eq!(
        Parser::new(Options::default()).parse_line(1, line),
        Outcome::OtherProgram
    );
    let hinted = Parser::new(Options {
        program: Some(Program::Dhcpd),
        ..Options::default()
    });
    match hinted.parse_line(1, line) {
        Outcome::Event(e) => assert_eq!(e.kind, Kind::DiscoverReceived),
        other => panic!("{other:?}"),
    }
    // Other programs' lines stay unknown to the hinted parser.
    assert_eq!(
        hinted.parse_line(1, "Nov 22 04:12:14 vm kernel: eth0: link up"),
        Outcome::Unknown
    );
}

#[test]
fn kea_stdout_inside_the_journal() {
    // Kea run by systemd writes its own format to stdout; journald stores each line
    // as MESSAGE. Built from a real line of kea-2.2-authoritative.log.
    let kea = "2026-11-22 04:13:44.239 DEBUG [kea-dhcp4.bad-packets/31870.140175009317376] DHCP4_PACKET_DROP_0003 [hwtype=1 02:00:00:00:0a:01], cid=[no info], tid=0xa010002, from interface s0: it contains a foreign server identifier";
    let line = serde_json::json!({
        "MESSAGE": kea,
        "SYSLOG_IDENTIFIER": "kea-dhcp4",
        "_PID": "31870",
        "__REALTIME_TIMESTAMP": "1795320824239512",
    })
    .to_string();
    let e = parse(&line);
    assert_eq!((e.program, e.kind), (Program::Kea, Kind::ForeignServerId));
    assert_eq!(e.framing, logs::Framing::JournalJson);
    assert_eq!(e.time, Some(1_795_320_824_239_512_000));
    assert_eq!(e.fields.xid, Some(0x0a01_0002));
    assert!(e.message.starts_with("DHCP4_PACKET_DROP_0003 "));
    // The same line bare: the stamp is Kea's own, local time.
    let e = parse(kea);
    assert_eq!(e.framing, logs::Framing::KeaFile);
    assert_eq!(e.time_basis, logs::TimeBasis::AssumedZone);
}
