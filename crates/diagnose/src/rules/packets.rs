//! Faults in the messages themselves and in how they travel: checksums,
//! the broadcast flag, relay information, sizes, identifiers, malformed
//! options, replies the client's side never saw.

use super::*;

/// `host-name-invalid` (catalogue A.7): the client's option 12 is no DNS
/// name (an empty label, a space, a label over 63 bytes). In the lab, ISC
/// dhcpd 4.4 keeps such a name as it is, dnsmasq 2.90 drops it or keeps
/// what comes before the bad part, Kea 2.2 strips bad characters or
/// ignores the name, and all three answer: a risk for the name, not the
/// lease.
pub(super) fn host_name_invalid(
    t: &Transaction,
    outcome: Outcome,
    ctx: &Context<'_>,
) -> Option<Finding> {
    let asked = t
        .client_packets()
        .map(|s| &s.obs)
        .find(|o| o.bad_host_name().is_some())?;
    let name = asked.bad_host_name()?;
    let severity = if outcome.is_success() {
        Severity::Info
    } else {
        Severity::Warning
    };
    Some(
        Finding::new(Code::HostNameInvalid, severity, Some(t.chaddr), Some(t.xid))
            .frames([asked.at])
            .summary(format!("the client's host name «{name}» (option 12) is not a valid DNS name"))
            .explanation(format!(
                "The {} ({}) names the host «{name}»: a DNS name is labels of letters, digits and hyphens (not first \
                 or last), 1 to 63 bytes each, between single dots. Servers differ: ISC dhcpd 4.4 keeps it as it is \
                 (and cannot register it in DNS), dnsmasq 2.90 drops it or keeps the part before the fault (\"bad..host\" \
                 becomes \"bad\"), Kea 2.2 removes characters outside its hostname-char-set (\"bad host\" becomes \"badhost\") \
                 and ignores a name it cannot repair (DHCP4_CLIENT_HOSTNAME_MALFORMED, at debug level). All three still \
                 lease an address, so this is about the name: the host will not be found under it.",
                asked.short_name(),
                ctx.frame(asked.at),
            ))
            .fix("Give the client a host name of letters, digits and hyphens (its OS or firmware setting), or have the server assign one (a host reservation with a name).")
            .references(&["RFC 1123 §2.1", "RFC 2132 §3.14"]),
    )
}

pub(super) fn checksums(t: &Transaction, outcome: Outcome, ctx: &Context<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    // Most transactions have none: ask before collecting anything.
    if !to_client(t).any(bad_checksum) {
        return out;
    }
    let replies: Vec<&Seen> = to_client(t).collect();
    // The client ignored every OFFER. (In a no-ack it REQUESTed one, and
    // no ACK or NAK exists to have been dropped.)
    let restarted = outcome == Outcome::OfferIgnored;
    let direct = ctx.client.direct_files;
    for partial in [true, false] {
        let bad: Vec<(&Seen, Sighting)> = replies
            .iter()
            .filter_map(|s| Some((*s, bad_sighting(s, partial, direct)?)))
            .collect();
        let Some((first, first_bad)) = bad.first().copied() else {
            continue;
        };
        let code = if partial {
            Code::UdpChecksumPartial
        } else {
            Code::UdpChecksumInvalid
        };
        let kinds = counted(bad.iter().map(|(s, _)| s.obs.short_name()));
        let at_client =
            bad.iter().any(|(_, c)| file_bit(c.at.file) & direct != 0) && ctx.files.len() > 1;
        let kernel = bad.iter().find_map(|(s, _)| s.obs.kernel_checksum);
        let mut e = format!(
            "{} ({}) from {} {} UDP checksum {}.",
            kinds,
            ctx.frames(bad.iter().map(|(_, c)| c.at)),
            first.obs.server(),
            if bad.len() == 1 { "has" } else { "have" },
            first_bad.udp_checksum,
        );
        // Copies that verify: the checksum changed between captures.
        let fine = bad.iter().fold(0u64, |acc, (s, _)| {
            s.sightings()
                .filter(|c| c.udp_checksum.accepted_by_strict_receiver())
                .fold(acc, |acc, c| acc | file_bit(c.at.file))
        });
        if fine != 0 {
            let broken = bad
                .iter()
                .fold(0u64, |acc, (_, c)| acc | file_bit(c.at.file));
            let _ = write!(
                e,
                " The same replies verify in {}: their checksum changed between that capture and {} (a \
                 middlebox rewriting them without fixing the checksum, or corruption on the way).",
                short_names(ctx.files, fine),
                short_names(ctx.files, broken & !fine),
            );
        }
        if partial {
            e.push_str(
                " That value is the pseudo-header sum the sender's kernel leaves for the NIC to finish \
                 (transmit checksum offload, CHECKSUM_PARTIAL).",
            );
            if kernel == Some(KernelChecksum::NotReady) {
                let iface = ctx
                    .files
                    .get(usize::from(first.obs.at.file))
                    .map_or("this interface", String::as_str);
                let _ = write!(
                    e,
                    " The kernel marked these frames on {iface} TP_STATUS_CSUMNOTREADY (certain: transmit offload on this host)."
                );
                e.push_str(match (first.obs.outgoing, first.obs.virtual_link) {
                    (Some(true), Some(false)) => {
                        " They were leaving through a physical NIC, which fills the checksum as it sends: the client should see it filled."
                    }
                    (_, Some(true)) => {
                        " The interface is virtual (veth, tap, bridge): no NIC fills the checksum, so the client receives it unfilled."
                    }
                    (Some(false), _) => {
                        " They arrived unfilled from a local sender (a virtual link): a client here receives them as they are."
                    }
                    _ => " On a virtual link (veth, tap, bridge to a VM) no NIC ever fills it in, so the client receives it as is.",
                });
            }
        }
        // Taken up only if every one of them was.
        let followed = bad
            .iter()
            .map(|(s, _)| answered_by(t, &s.obs))
            .collect::<Option<Vec<_>>>()
            .and_then(|r| r.first().copied());
        // A client that REQUESTed after them got them: they cannot be why it
        // then waited in vain for an ACK.
        let restarted = restarted && followed.is_none();
        // Or the client took the OFFER but asked again after every ACK, and
        // the ACKs alone are bad.
        let acks_dropped =
            explains_untaken_acks(t, outcome, |o| bad.iter().any(|(b, _)| b.obs.at == o.at));
        let restarted = restarted || acks_dropped;
        if bad.iter().any(|(s, _)| s.obs.ip_checksum_offloaded) {
            e.push_str(
                " Their IPv4 header checksum is 0 too: this capture was taken on the sending host, before the NIC \
                 filled both in.",
            );
        }
        let f = if restarted {
            let conf = if at_client || kernel == Some(KernelChecksum::NotReady) {
                Confidence::High
            } else {
                Confidence::Medium
            };
            e.push_str(if acks_dropped {
                " The client took the OFFER but sent its REQUEST again after these ACKs:"
            } else {
                " The client never answered these replies and started over:"
            });
            e.push_str(if partial {
                " a client that verifies UDP checksums without honouring the kernel's TP_STATUS_CSUMNOTREADY (old \
                 dhclient, Etherboot/PXE ROMs, some embedded stacks) drops them silently."
            } else {
                " a receiver that verifies checksums drops them."
            });
            if at_client && fine == 0 {
                let seen = bad.iter().fold(0u64, |acc, (s, _)| acc | s.files);
                let _ = write!(
                    e,
                    " The checksum is {} in every capture that holds these replies ({}), including where the \
                     client's own packets are seen: it is still wrong when it reaches the client.",
                    if partial { "unfilled" } else { "wrong" },
                    short_names(ctx.files, seen)
                );
            } else if at_client {
                e.push_str(
                    " The invalid copies are in the capture that holds the client's own packets: it is wrong when \
                     it reaches the client.",
                );
            }
            Finding::new(code, Severity::Error, Some(t.chaddr), Some(t.xid)).cause(conf)
        } else if outcome.is_success() {
            // An OFFER of these that the client did not take up, while it
            // took another server's: dropped for its checksum, or only not
            // chosen.
            let chosen = t
                .of_kind(Request)
                .map(|s| &s.obs)
                .find(|o| o.server_id.is_some());
            let passed_over = |r: &Obs| {
                bad.iter().any(|(s, _)| {
                    s.obs.kind == Some(Offer)
                        && Some(s.obs.server()) != r.server_id
                        && answered_by(t, &s.obs).is_none()
                })
            };
            match chosen.filter(|r| passed_over(r)) {
                Some(r) => {
                    let _ = write!(
                        e,
                        " The client took another server's OFFER instead (its REQUEST, {}, names {}): whether it \
                         dropped these for their checksum or only did not choose them cannot be told. The exchange \
                         succeeded without them, but clients of this network depend on the other server.",
                        ctx.frame(r.at),
                        r.server_id.map_or(String::new(), |a| a.to_string())
                    );
                    Finding::new(code, Severity::Warning, Some(t.chaddr), Some(t.xid))
                }
                None => {
                    e.push_str(
                        " Harmless here: the client accepted them (the exchange succeeded).",
                    );
                    Finding::new(code, Severity::Info, Some(t.chaddr), Some(t.xid))
                }
            }
        } else {
            match followed {
                Some(r) => {
                    let _ = write!(
                        e,
                        " Harmless here: the client accepted them and sent a REQUEST ({}). Such a capture is typically \
                         taken on the sending host before the NIC fills the checksum, or the client ignores it \
                         (dhclient 4.x honours TP_STATUS_CSUMNOTREADY).",
                        ctx.frame(r.at)
                    );
                    Finding::new(code, Severity::Info, Some(t.chaddr), Some(t.xid))
                }
                None => {
                    e.push_str(
                        " Whether the client dropped them cannot be told from this transaction.",
                    );
                    Finding::new(code, Severity::Warning, Some(t.chaddr), Some(t.xid))
                }
            }
        };
        let fix = if partial {
            "On the host that sends the replies (the server's own host, or the hypervisor when a virtual \
             network's DHCP server such as libvirt's dnsmasq answers): \
             `iptables -t mangle -A POSTROUTING -p udp --dport 68 -j CHECKSUM --checksum-fill`, or turn transmit \
             offload off on the interface (`ethtool -K IFACE tx off`), or use a client that honours TP_STATUS_CSUMNOTREADY."
        } else {
            "Find what corrupts or zeroes the checksum on the path (NIC offload on the sender, a middlebox rewriting \
             the packet without fixing the checksum)."
        };
        let harmless = f.severity == Severity::Info;
        out.push(
            f.frames(bad.iter().map(|(_, c)| c.at))
                .summary(format!(
                    "{} {} UDP checksum{}",
                    kinds,
                    if partial {
                        "with partial (offloaded)"
                    } else {
                        "with invalid"
                    },
                    if restarted {
                        ", dropped by the client"
                    } else if harmless {
                        " (harmless here)"
                    } else {
                        ""
                    }
                ))
                .explanation(e)
                .fix(fix)
                .references(&[
                    "RFC 768",
                    "Linux CHECKSUM_PARTIAL / TP_STATUS_CSUMNOTREADY",
                    "iptables CHECKSUM target",
                ]),
        );
    }
    out
}

/// Where a reply to the client shows a bad checksum of the kind asked for
/// (`partial`, or invalid), as the client would have received it; a copy
/// in a capture that also holds the client's own messages (`direct`, its
/// side) is preferred as the evidence:
/// - partial (the sum a sender's kernel leaves for its NIC): only when no
///   capture holds the reply verified, since a copy that verifies anywhere
///   shows that the NIC filled it in on its way out, and when no copy on
///   the client's side is invalid (then the invalid finding says what the
///   client got; the partial copy is the sender's, before its NIC);
/// - invalid: a copy on the client's side if one is invalid there; else,
///   when no capture on the client's side holds the reply, any invalid copy.
fn bad_sighting(s: &Seen, partial: bool, direct: u64) -> Option<Sighting> {
    let on_client_side = |c: &Sighting| file_bit(c.at.file) & direct != 0;
    let invalid = |c: &Sighting| matches!(c.udp_checksum, UdpChecksum::Invalid { .. });
    let invalid_at_client = || s.sightings().find(|c| invalid(c) && on_client_side(c));
    if partial {
        let is_partial = |c: &Sighting| matches!(c.udp_checksum, UdpChecksum::Partial { .. });
        let filled = s
            .sightings()
            .any(|c| c.udp_checksum.accepted_by_strict_receiver());
        if filled || invalid_at_client().is_some() {
            return None;
        }
        return s
            .sightings()
            .find(|c| is_partial(c) && on_client_side(c))
            .or_else(|| s.sightings().find(is_partial));
    }
    invalid_at_client().or_else(|| {
        let client_side_holds_it = s.sightings().any(|c| on_client_side(&c));
        s.sightings()
            .find(invalid)
            .filter(|_| !client_side_holds_it)
    })
}

/// The short names of the captures of `bits`, comma-separated.
fn short_names(files: &[String], bits: u64) -> String {
    files
        .iter()
        .enumerate()
        .filter(|(i, _)| *i < 64 && bits & (1 << i) != 0)
        .map(|(_, n)| short_name(n))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn broadcast_flag_ignored(
    t: &Transaction,
    outcome: Outcome,
    ctx: &Context<'_>,
) -> Option<Finding> {
    let asked = t
        .client_packets()
        .map(|s| &s.obs)
        .find(|o| asks_broadcast(o))?;
    let unicast: Vec<&Obs> = to_client(t)
        .map(|s| &s.obs)
        .filter(|o| {
            matches!(o.kind, Some(Offer | Ack | Nak)) && !o.broadcast_dst() && o.dst_port == 68
        })
        .collect();
    let first = unicast.first()?;
    // Only when the client ignored every OFFER: in a no-ack it REQUESTed
    // one, so it received it. Or when it took a broadcast OFFER and asked
    // again after every unicast ACK.
    let unicast_to_it = |o: &Obs| !o.broadcast_dst() && o.dst_port == 68;
    let acks = explains_untaken_acks(t, outcome, unicast_to_it);
    let failed = outcome == Outcome::OfferIgnored || acks;
    let f = cause_or_risk(Code::BroadcastFlagIgnored, t, failed, Confidence::Medium);
    Some(
        f.frames([asked.at].into_iter().chain(unicast.iter().map(|o| o.at)))
            .summary(format!("{} sent unicast to {} although the client set the broadcast flag", first.short_name(), first.dst_ip))
            .explanation(format!(
                "The client's {} ({}) has flags 0x{:04x} (broadcast: it cannot receive unicast before it has an \
                 address), but {} ({}) went unicast to {}{}. RFC 2131 §4.1 says to broadcast such replies.{}",
                asked.short_name(),
                ctx.frame(asked.at),
                asked.flags,
                first.short_name(),
                ctx.frame(first.at),
                first.dst_ip,
                first.dst_mac.map_or(String::new(), |m| format!(" (MAC {})", wire::frame::mac_to_string(&m))),
                match (failed, acks) {
                    (true, true) => " The client took the broadcast OFFER but asked again after every unicast ACK.",
                    (true, false) => " The client never answered it.",
                    _ => " The client coped here.",
                }
            ))
            .fix("Make the server (or the relay, for relayed replies) honour the broadcast bit; on ISC dhcpd check `always-broadcast`, on relays check their broadcast handling.")
            .references(&["RFC 2131 §4.1", "RFC 1542 §5.4"]),
    )
}

pub(super) fn option82_not_echoed(
    t: &Transaction,
    outcome: Outcome,
    ctx: &Context<'_>,
) -> Option<Finding> {
    let relayed = t
        .client_packets()
        .map(|s| &s.obs)
        .find(|o| relayed_with_option82(o))?;
    let bare: Vec<&Obs> = t
        .replies()
        .map(|s| &s.obs)
        .filter(|o| o.to_relay() && o.relay_info().is_none() && !o.cut)
        .collect();
    let first = bare.first()?;
    let failed = outcome.is_failure();
    let f = cause_or_risk(Code::Option82NotEchoed, t, failed, Confidence::Low);
    Some(
        f.frames([relayed.at, first.at])
            .summary(format!("server {} did not echo option 82 to relay {}", first.server(), first.dst_ip))
            .explanation(format!(
                "The relay added option 82 ({}) to {} ({}), but the server's {} to the relay ({}) lacks it. RFC 3046 §2.2 \
                 requires the server to echo it; relays that check it (e.g. `ip dhcp relay information check`) drop the reply.",
                relayed.relay_info().map_or(String::new(), agent_info),
                relayed.short_name(),
                ctx.frame(relayed.at),
                first.short_name(),
                ctx.frame(first.at),
            ))
            .fix("Make the server echo option 82 (most do by default; check option filtering), or stop the relay from checking it.")
            .references(&["RFC 3046 §2.2"]),
    )
}

/// `option82-without-giaddr` (catalogue B.12): a request carrying option 82
/// with giaddr 0.0.0.0. A relay sets giaddr when it adds option 82; a switch
/// doing DHCP snooping adds the option and leaves giaddr alone. Cisco IOS
/// relays and servers drop such requests unless told to trust them ("relay
/// information option exists, but giaddr is zero"); ISC dhcpd 4.4, Kea 2.2,
/// dnsmasq 2.90 and ISC dhcrelay 4.4 accept them (the lab checks this).
pub(super) fn option82_without_giaddr(
    t: &Transaction,
    outcome: Outcome,
    ctx: &Context<'_>,
) -> Option<Finding> {
    let o = t
        .client_packets()
        .map(|s| &s.obs)
        .find(|o| o.relay_info().is_some() && o.giaddr.is_unspecified())?;
    let failed = matches!(outcome, Outcome::NoOffer);
    let severity = if failed {
        Severity::Warning
    } else {
        Severity::Info
    };
    let f = Finding::new(
        Code::Option82WithoutGiaddr,
        severity,
        Some(t.chaddr),
        Some(t.xid),
    );
    let f = if failed { f.cause(Confidence::Low) } else { f };
    let answered = if failed {
        "No server answered: if a Cisco device relays or serves this VLAN, this is the likely reason. If the server is \
         ISC dhcpd, Kea or dnsmasq, look elsewhere: they accept it."
    } else {
        "A server answered, so nothing on this path minds; a Cisco relay or server added later would drop it."
    };
    Some(
        f.frames([o.at])
            .summary(format!("{} carries option 82 with giaddr 0.0.0.0", o.short_name()))
            .explanation(format!(
                "The {} ({}) carries option 82 ({}) but giaddr is 0.0.0.0: a switch doing DHCP snooping added the \
                 option without relaying (a relay sets giaddr). Cisco IOS relays and DHCP servers drop such requests \
                 as untrusted (\"relay information option exists, but giaddr is zero\"). {answered}",
                o.short_name(),
                ctx.frame(o.at),
                o.relay_info().map_or(String::new(), agent_info),
            ))
            .fix("Stop the access switch inserting option 82 (Cisco `no ip dhcp snooping information option`), or trust it upstream (`ip dhcp relay information trusted` on the relay interface, `ip dhcp snooping information option allow-untrusted` on the aggregation switch).")
            .references(&["RFC 3046 §2.1", "failure catalogue B.12"]),
    )
}

/// Option 82 as its sub-options (`1(circuit-id)="Gi1/0/7"`), or in hex when
/// the value was cut.
pub(super) fn agent_info(r: &Short) -> String {
    if r.is_cut() {
        return r.hex();
    }
    wire::dhcp::value::decode_slice(
        wire::dhcp::code::RELAY_AGENT_INFORMATION,
        r.as_bytes(),
        &wire::dhcp::value::Context::default(),
    )
    .to_string()
}

pub(super) fn reply_size(t: &Transaction, outcome: Outcome, ctx: &Context<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    let failed = outcome == Outcome::OfferIgnored;
    let limit = t.client_packets().filter_map(|s| s.obs.max_size).last();
    let max_payload = limit.map_or(SMALLEST_PAYLOAD_LIMIT, |m| usize::from(m.max(576)) - 28);
    if let Some(short) = t.replies().map(|s| &s.obs).find(|o| o.length < 300) {
        let answered = answered_by(t, short);
        let failed =
            failed && answered.is_none() || explains_untaken_acks(t, outcome, |o| o.length < 300);
        let harmless = match answered {
            _ if outcome.is_success() => " Harmless here: this client accepted it.".to_string(),
            Some(r) => format!(
                " Harmless here: the client answered it with a REQUEST ({}).",
                ctx.frame(r.at)
            ),
            None => String::new(),
        };
        let severity = if failed {
            Severity::Error
        } else if !harmless.is_empty() {
            Severity::Info
        } else {
            Severity::Warning
        };
        let f = Finding::new(Code::ReplyTooShort, severity, Some(t.chaddr), Some(t.xid));
        let f = if failed { f.cause(Confidence::Low) } else { f };
        out.push(
            f.frames([short.at])
                .summary(format!(
                    "{} from {} is {} bytes, under the 300-byte BOOTP minimum{}",
                    short.short_name(),
                    short.server(),
                    short.length,
                    if harmless.is_empty() { "" } else { " (harmless here)" }
                ))
                .explanation(format!(
                    "{} ({}) carries a {}-byte DHCP message. BOOTP-era relays and clients expect at least 300 bytes and some \
                     discard shorter ones (\"Discarding packet with invalid size\").{}",
                    short.short_name(),
                    ctx.frame(short.at),
                    short.length,
                    harmless
                ))
                .fix("Pad replies to 300 bytes (most servers do; check the server's minimum-size setting).")
                .references(&["RFC 951", "RFC 1542 §2.1"]),
        );
    }
    if let Some(big) = to_client(t)
        .map(|s| &s.obs)
        .find(|o| o.length > max_payload)
    {
        let failed = failed && answered_by(t, big).is_none()
            || explains_untaken_acks(t, outcome, |o| o.length > max_payload);
        let f = cause_or_risk(Code::ReplyTooLarge, t, failed, Confidence::Medium);
        out.push(
            f.frames([big.at])
                .summary(format!("{} from {} is {} bytes, more than the client accepts ({max_payload})", big.short_name(), big.server(), big.length))
                .explanation(format!(
                    "{} ({}) carries a {}-byte DHCP message; the client {} so replies must stay within {max_payload} bytes \
                     of DHCP payload (576-byte IP datagrams).",
                    big.short_name(),
                    ctx.frame(big.at),
                    big.length,
                    limit.map_or("sent no option 57".to_string(), |m| format!("allows {m} bytes (option 57)"))
                ))
                .fix("Send fewer or shorter options to this client (only those in its parameter request list), or let it advertise a larger option 57.")
                .references(&["RFC 2131 §2", "RFC 2132 §9.10"]),
        );
    }
    out
}

pub(super) fn server_id_mismatch(
    t: &Transaction,
    outcome: Outcome,
    ctx: &Context<'_>,
) -> Option<Finding> {
    if !t.has(Offer) {
        return None;
    }
    let offered_by = |id: Ipv4Addr| t.of_kind(Offer).any(|s| s.obs.server() == id);
    let req = t
        .of_kind(Request)
        .map(|s| &s.obs)
        .find(|o| o.server_id.is_some_and(|s| !offered_by(s)))?;
    let named = req.server_id.unwrap_or(Ipv4Addr::UNSPECIFIED);
    let offered = t.servers(Offer);
    let failed = outcome.is_failure();
    let f = cause_or_risk(Code::ServerIdMismatch, t, failed, Confidence::Medium);
    let list: Vec<String> = offered.iter().map(|s| s.to_string()).collect();
    // What came of it, before the client asked again: servers differ here
    // (each checked in the lab).
    let next = t.of_kind(Request).map(|s| s.obs.ts).find(|ts| *ts > req.ts);
    let answer = t.replies().map(|s| &s.obs).find(|o| {
        o.ts > req.ts && next.is_none_or(|n| o.ts <= n) && matches!(o.kind, Some(Ack | Nak))
    });
    let then = match answer {
        Some(a) => format!(
            " Server {} answered it anyway with {} ({}).",
            a.server(),
            a.short_name(),
            ctx.frame(a.at)
        ),
        None => " No server answered it.".to_string(),
    };
    Some(
        f.frames([req.at])
            .summary(format!("REQUEST names server {named} but the OFFERs came from {}", list.join(", ")))
            .explanation(format!(
                "The REQUEST ({}) carries server identifier {named}, which no OFFER of this transaction had ({}).{then} \
                 To a server, a REQUEST naming another server means the client declined its offer. Kea 2.2 drops it \
                 (DHCP4_PACKET_DROP_0003, at debug level), dnsmasq 2.90 stays silent, or NAKs it when \
                 authoritative (\"wrong server-ID\"), and ISC dhcpd 4.4 ACKs it when it holds the client's lease, \
                 except in a failover pair (\"not our server id\").",
                ctx.frame(req.at),
                list.join(", ")
            ))
            .fix("Check the server's configured server-identifier (it must be an address the client can reach, and the same one in OFFER and ACK), and NAT or relays rewriting it.")
            .references(&["RFC 2131 §4.3.2", "RFC 2132 §9.7"]),
    )
}

pub(super) fn xid_changed(t: &Transaction, ctx: &Context<'_>) -> Option<Finding> {
    let next = ctx.superseded_by.filter(|o| o.kind == Some(Request))?;
    let offers: Vec<&Obs> = t.of_kind(Offer).map(|s| &s.obs).collect();
    let offer = offers
        .iter()
        .find(|o| next.server_id == Some(o.server()) || next.requested_ip == Some(o.yiaddr))?;
    if t.has(Request) {
        return None;
    }
    Some(
        Finding::new(Code::XidChanged, Severity::Warning, Some(t.chaddr), Some(next.xid))
            .frames([offer.at, next.at])
            .summary(format!("REQUEST uses xid {} but the OFFER it answers had {}", xid(next.xid), xid(t.xid)))
            .explanation(format!(
                "The OFFER ({}, xid {}) was answered by a REQUEST ({}) with xid {}. RFC 2131 says the REQUEST in \
                 SELECTING state keeps the DISCOVER's xid; servers and relays that match on xid may drop it.",
                ctx.frame(offer.at),
                xid(t.xid),
                ctx.frame(next.at),
                xid(next.xid)
            ))
            .fix("Update the client (a DHCP client must reuse the xid of the OFFER it accepts).")
            .references(&["RFC 2131 §4.4.1"]),
    )
}

pub(super) fn malformed(t: &Transaction, outcome: Outcome, ctx: &Context<'_>) -> Option<Finding> {
    // A BOOTP exchange that a server answered (RFC 951, RFC 1542): no
    // option 53, or a vendor area without RFC 1048's cookie (all zeros in
    // RFC 951's own packets), is what BOOTP is, not a fault.
    let answered_bootp = t.state == State::Bootp && outcome.is_success();
    let counts = |a: &&(usize, &'static str, String)| {
        !(answered_bootp && matches!(a.1, "missing-message-type" | "bad-magic-cookie"))
    };
    let bad = t
        .packets
        .iter()
        .map(|s| &s.obs)
        .find(|o| o.anomalies().iter().any(|a| counts(&a)))?;
    let anomalies: Vec<_> = bad.anomalies().iter().filter(counts).collect();
    let failed = (bad.from_client() && matches!(outcome, Outcome::NoOffer | Outcome::NoAck))
        || (!bad.from_client() && matches!(outcome, Outcome::OfferIgnored | Outcome::NoAck))
        || (bad.kind == Some(Ack) && outcome == Outcome::AckIgnored);
    let f = cause_or_risk(Code::MalformedPacket, t, failed, Confidence::Medium);
    let list: Vec<String> = anomalies
        .iter()
        .take(4)
        .map(|(off, _, text)| format!("at byte {off}: {text}"))
        .collect();
    Some(
        f.frames([bad.at])
            .summary(format!("{} from {} is malformed: {}", bad.short_name(), if bad.from_client() { "the client".to_string() } else { bad.server().to_string() }, anomalies[0].2))
            .explanation(format!(
                "{} ({}): {}.{}",
                bad.short_name(),
                ctx.frame(bad.at),
                list.join("; "),
                if failed { " Receivers that parse strictly drop such packets (Kea: DHCP4_PACKET_DROP_0001), which fits the failure here." } else { "" }
            ))
            .fix("Fix the sender's encoder; `dhcplens decode -v` shows the packet byte by byte.")
            .references(&["RFC 2131 §3", "RFC 2132 §2"]),
    )
}

pub(super) fn reply_not_seen_by_client(
    t: &Transaction,
    outcome: Outcome,
    ctx: &Context<'_>,
) -> Option<Finding> {
    if ctx.files.len() < 2 {
        return None;
    }
    // A reply to the client that is missing from a capture which holds the
    // request it answers, and was running at the time.
    // In an ack-ignored exchange, a missing ACK first: that is what the
    // client went without.
    let acks_first = outcome == Outcome::AckIgnored;
    let candidates = to_client(t)
        .filter(|r| !acks_first || r.obs.kind == Some(Ack))
        .chain(to_client(t).filter(|r| acks_first && r.obs.kind != Some(Ack)));
    let (reply, missing) = candidates.into_iter().find_map(|r| {
        let o = &r.obs;
        let missing = asked_before(t.client_packets(), o.ts)
            & running_at(ctx.file_spans, o.ts)
            & could_hold(t, o)
            & !r.files;
        (missing != 0).then_some((r, missing))
    })?;

    let o = &reply.obs;
    // The lost reply is why the client failed when it is the one the client
    // went without: the OFFER it never REQUESTed, the ACK it asked again for.
    // (In a no-ack the client REQUESTed an OFFER it got; no ACK was lost.)
    let failed = match outcome {
        Outcome::OfferIgnored => o.kind == Some(Offer),
        Outcome::AckIgnored => o.kind == Some(Ack),
        _ => false,
    };
    let f = cause_or_risk(Code::ReplyNotSeenByClient, t, failed, Confidence::High);
    let name = |bits: u64| file_names(ctx.files, bits);
    Some(
        f.frames(reply.frames())
            .summary(format!("{} from {} is missing from {}", o.short_name(), o.server(), name(missing).join(", ")))
            .explanation(format!(
                "{} ({}) is in {} but not in {}, which holds the client's request it answers and was capturing at the time: the reply was lost between the two points. If that capture is the client's side, something between them (a switch or vSwitch without MAC learning or promiscuous mode, a Wi-Fi bridge, DHCP snooping on an untrusted port, a firewall) drops the replies.",
                o.short_name(),
                ctx.frame(o.at),
                name(reply.files).join(", "),
                name(missing).join(", "),
            ))
            .fix("Follow the reply hop by hop between the two capture points; check DHCP snooping trust, vSwitch security settings and firewalls.")
            .references(&["failure catalogue B.10, B.12"]),
    )
}

pub(super) fn chaddr_source(t: &Transaction, ctx: &Context<'_>) -> Option<Finding> {
    let o = t
        .client_packets()
        .map(|s| &s.obs)
        .find(|o| source_not_chaddr(o))?;
    let src = wire::frame::mac_to_string(&o.src_mac.unwrap_or_default());
    Some(
        Finding::new(Code::ChaddrSourceMismatch, Severity::Warning, Some(t.chaddr), Some(t.xid))
            .frames([o.at])
            .summary(format!("{} has chaddr {} but Ethernet source {src}", o.short_name(), o.chaddr))
            .explanation(format!(
                "{} ({}) was sent from MAC {src} with chaddr {}. Switches with DHCP snooping and `verify mac-address` drop \
                 such packets; it is normal only behind a wireless bridge or a host relaying for a VM.",
                o.short_name(),
                ctx.frame(o.at),
                o.chaddr
            ))
            .fix("Check for a bridge or VM networking that rewrites source MACs; on snooping switches allow it or fix the client.")
            .references(&["RFC 2131 §2", "failure catalogue B.11"]),
    )
}

pub(super) fn type_not_first(
    t: &Transaction,
    outcome: Outcome,
    ctx: &Context<'_>,
) -> Option<Finding> {
    let o = to_client(t).map(|s| &s.obs).find(|o| o.type_not_first)?;
    let boot = t.client_packets().any(|s| is_pxe(&s.obs));
    let failed = boot
        && (matches!(outcome, Outcome::OfferIgnored | Outcome::NoAck)
            || (o.kind == Some(Ack) && outcome == Outcome::AckIgnored));
    let severity = if failed {
        Severity::Error
    } else if boot {
        Severity::Warning
    } else {
        Severity::Info
    };
    let f = Finding::new(
        Code::MessageTypeNotFirst,
        severity,
        Some(t.chaddr),
        Some(t.xid),
    );
    let f = if failed { f.cause(Confidence::Low) } else { f };
    Some(
        f.frames([o.at])
            .summary(format!("{} from {} does not start with option 53", o.short_name(), o.server()))
            .explanation(format!(
                "In {} ({}) option 53 is not the first option. That is legal, but some boot firmware (Raspberry Pi 4 \
                 bootloader, old U-Boot) only looks for it first and ignores the reply.",
                o.short_name(),
                ctx.frame(o.at)
            ))
            .fix("If boot clients ignore the replies, make the server send option 53 first.")
            .references(&["RFC 2131 §3", "failure catalogue B.15"]),
    )
}
