//! Which fields of a packet matter for a finding: the ones its explanation
//! quotes. The page highlights them when the packet is opened.
//!
//! Keys are `PacketJson` field names (`secs`, `flags`, `udp_checksum`, …),
//! `opt:N` for option N (shown as absent when the packet lacks it), `time`
//! for the timestamp and `anomalies` for the list of format problems.

use diagnose::Code;

/// The fields a finding of this code is about.
pub fn keys(code: Code) -> &'static [&'static str] {
    use Code::*;
    match code {
        NoOffer | OfferIgnored | AckIgnored => &["opt:53", "time"],
        NoAck => &["opt:53", "opt:50", "opt:54"],
        Nak => &["opt:53", "opt:56", "opt:54", "opt:50", "ciaddr", "giaddr"],
        SecsNotIncrementing => &["secs"],
        UdpChecksumPartial | UdpChecksumInvalid => &["udp_checksum"],
        MultipleServers => &["opt:54", "yiaddr", "src"],
        BroadcastFlagIgnored => &["flags", "broadcast", "dst"],
        Option82NotEchoed | Option82WithoutGiaddr => &["opt:82", "giaddr"],
        ReplyTooShort => &["length"],
        ReplyTooLarge => &["length", "opt:57"],
        LeaseTimesInconsistent => &["opt:51", "opt:58", "opt:59"],
        ClasslessRoutesWithoutDefault => &["opt:121", "opt:249", "opt:3"],
        ServerIdMismatch => &["opt:54"],
        XidChanged => &["xid"],
        RequiredOptionMissing => &["opt:1", "opt:3", "opt:55"],
        LeaseSubnetInconsistent => &["yiaddr", "opt:1", "opt:3"],
        ClientIdShared | ClientIdChanged => &["opt:61"],
        AddressDeclined => &["opt:53", "opt:50", "ciaddr"],
        PxeBootFileMissing | PxeBootServerMissing => {
            &["file", "siaddr", "opt:60", "opt:66", "opt:67"]
        }
        PxeBootFileWrongArch => &["file", "opt:67", "opt:60", "opt:93"],
        PxeProxyOnDhcpServer => &["opt:60", "yiaddr", "file", "opt:67"],
        PxeBootServerUnanswered => &["dst", "ciaddr", "time"],
        ServerUnreachable => &["dst", "giaddr", "time"],
        ReplyUnreachable => &["dst", "giaddr", "yiaddr", "time"],
        IpxeChainloadLoop => &["file", "opt:67", "opt:77", "opt:175"],
        StpDelaySuspected | SlowOffer | ReplyNotSeenByClient | PxeReplyTooFast => &["time"],
        ChaddrSourceMismatch => &["chaddr", "src"],
        MalformedPacket => &["anomalies"],
        RenewMalformed => &["ciaddr", "opt:50", "opt:54"],
        MessageTypeNotFirst => &["opt:53"],
        RenewUnanswered => &["ciaddr", "dst", "time"],
        // Causes a server log tells; the packets show what the log is about.
        MinSecsDrop => &["secs"],
        PoolExhausted | ServerNeverSawRequest => &["opt:53", "time"],
        UnknownNetworkSegment | NoSubnetForInterface => &["giaddr", "ciaddr", "src", "dst"],
        ClientIgnored => &["chaddr", "opt:60", "opt:61", "opt:77"],
        PeerHoldsFreeLeases => &["opt:54", "chaddr"],
        ForeignServerId => &["opt:54"],
        NotAuthoritative => &["opt:50", "opt:54", "ciaddr"],
        PingCheckConflict => &["yiaddr", "opt:50", "time"],
        OptionLeftOut => &["opt:55", "opt:57", "opt:52"],
        HostNameInvalid => &["opt:12"],
    }
}

/// The option's name for an `opt:N` key, to label it when it is absent.
pub fn option_name(key: &str) -> Option<String> {
    let code: u8 = key.strip_prefix("opt:")?.parse().ok()?;
    Some(wire::dhcp::name(code).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_points_at_something() {
        for c in Code::ALL {
            assert!(!keys(*c).is_empty(), "{c}");
        }
        assert_eq!(keys(Code::SecsNotIncrementing), ["secs"]);
        assert_eq!(option_name("opt:54").as_deref(), Some("server-identifier"));
        assert_eq!(option_name("secs"), None);
    }
}
