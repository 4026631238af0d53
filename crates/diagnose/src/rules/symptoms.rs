//! The finding for a transaction's outcome (what the client saw: no OFFER,
//! an OFFER or ACK it passed over, a NAK), naming the cause the other rules
//! found when there is one.

use super::*;

pub(super) fn no_offer(t: &Transaction, ctx: &Context<'_>) -> Finding {
    let d: Vec<&Obs> = t.of_kind(Discover).map(|s| &s.obs).collect();
    let requests: Vec<&Obs> = if d.is_empty() {
        t.client_packets().map(|s| &s.obs).collect()
    } else {
        d
    };
    let n = requests.len();
    let (first, last) = (
        requests.first().map_or(t.first, |o| o.ts),
        requests.last().map_or(t.last, |o| o.ts),
    );
    let secs: Vec<String> = requests.iter().map(|o| o.secs.to_string()).collect();
    let kind = if t.state == State::Bootp {
        "BOOTREQUEST"
    } else {
        "DISCOVER"
    };
    let mut e = format!(
        "The client sent {n} {kind}{} (xid {}, {}) over {}; no OFFER came back in {}. secs went {}.",
        if n == 1 { "" } else { "s" },
        xid(t.xid),
        ctx.frames(requests.iter().map(|o| o.at)),
        secs_fmt(last.0 - first.0),
        match ctx.files.len() {
            0 | 1 => "this capture".to_string(),
            2 => "either capture".to_string(),
            n => format!("any of the {n} captures"),
        },
        secs.join(", ")
    );
    if let Some(r) = requests.iter().find(|o| !o.giaddr.is_unspecified()) {
        let _ = write!(
            e,
            " They were relayed by {} (giaddr {}, hops {}): a server with no subnet for the giaddr stays silent \
             (ISC: \"unknown network segment\", Kea: DHCP4_SUBNET_SELECTION_FAILED), and so does one the relay cannot reach.",
            r.src_ip, r.giaddr, r.hops
        );
    }
    if n >= 3 && requests.iter().all(|o| o.secs == requests[0].secs) {
        let _ = write!(
            e,
            " secs never grew: a server configured to wait for it (ISC dhcpd min-secs, failover load balancing) ignores such a client; see secs-not-incrementing."
        );
    }
    if let Some(o) = requests
        .iter()
        .find(|o| matches!(o.udp_checksum, UdpChecksum::Invalid { .. }))
    {
        let _ = write!(
            e,
            " The requests' UDP checksum does not verify ({}): servers drop them (ISC dhcpd counts them as bad UDP checksums).",
            o.udp_checksum
        );
    }
    // ICMP errors quoting these messages already say why (server-unreachable).
    let refused = ctx
        .client
        .refusals()
        .iter()
        .find(|r| !r.reply && r.xid == t.xid && r.port == 67);
    if let Some(r) = refused {
        let _ = write!(
            e,
            " ICMP errors from {} quote them ({}): see server-unreachable.",
            r.reporter,
            ctx.frame(r.at)
        );
    } else {
        if !ctx.any_server {
            e.push_str(" No server answered any client in this capture so far: is a server running, and does this capture see its side of the link?");
        }
        e.push_str(NO_OFFER_ASK_FOR_LOG);
    }
    Finding::new(Code::NoOffer, Severity::Error, Some(t.chaddr), Some(t.xid))
        .frames(requests.iter().map(|o| o.at))
        .summary(format!("{n} {kind}{} over {} got no OFFER", if n == 1 { "" } else { "s" }, secs_fmt(last.0 - first.0)))
        .explanation(e)
        .fix(format!(
            "{NO_OFFER_READ_LOG_FIX}Usual causes: min-secs, no subnet for the interface or relay (giaddr), pool \
             exhausted, the client denied by a class or host rule, a firewall or VLAN between client and server. \
             `dhcplens probe` and `dhcplens bisect` test the server directly."
        ))
        .references(&["RFC 2131 §3.1", "RFC 2131 §4.4.1"])
}

/// The sentence of `no-offer` that asks for the server's log, and the
/// opening of its fix; [`crate::logjoin`] replaces both once a log is read.
pub(crate) const NO_OFFER_ASK_FOR_LOG: &str =
    " A server that stays silent says why only in its log: give it with --log.";
pub(crate) const NO_OFFER_READ_LOG_FIX: &str =
    "Read the server's log for this MAC at that time (run `dhcplens diagnose CAPTURE --log LOG`). ";

pub(super) fn offer_ignored(t: &Transaction, causes: &[Finding], ctx: &Context<'_>) -> Finding {
    let offers: Vec<&Obs> = t.of_kind(Offer).map(|s| &s.obs).collect();
    let servers = t.servers(Offer);
    let again: Vec<&Obs> = t
        .of_kind(Discover)
        .map(|s| &s.obs)
        .filter(|o| offers.first().is_some_and(|f| o.ts > f.ts))
        .chain(ctx.superseded_by.filter(|o| o.kind == Some(Discover)))
        .collect();
    let list: Vec<String> = servers.iter().map(|s| s.to_string()).collect();
    let mut e = format!(
        "{} OFFER{} from {} ({}) for xid {} got no REQUEST; the client sent {} DISCOVER{} after {} ({}).",
        offers.len(),
        if offers.len() == 1 { "" } else { "s" },
        list.join(", "),
        ctx.frames(offers.iter().map(|o| o.at)),
        xid(t.xid),
        again.len().max(1),
        if again.len() > 1 { "s" } else { "" },
        if offers.len() == 1 { "it" } else { "them" },
        if again.is_empty() { "in a new transaction".to_string() } else { ctx.frames(again.iter().map(|o| o.at)) },
    );
    match cause_sentence(causes) {
        Some(s) => e.push_str(&s),
        None if ctx.files.len() < 2 => e.push_str(
            " The packets do not show why. If this capture was taken at the server, the OFFER may never reach \
             the client: capture on the client's side too and give both files.",
        ),
        None => e.push_str(&offers_across_captures(t, ctx)),
    }
    Finding::new(Code::OfferIgnored, Severity::Error, Some(t.chaddr), Some(t.xid))
        .frames(offers.iter().map(|o| o.at).chain(again.iter().map(|o| o.at)))
        .summary(format!(
            "{} OFFER{} from {} ignored: the client started over",
            offers.len(),
            if offers.len() == 1 { "" } else { "s" },
            list.join(", ")
        ))
        .explanation(e)
        .fix("Fix the cause named above; otherwise check that the OFFER reaches the client unaltered (capture at the client).")
        .references(&["RFC 2131 §4.4.1"])
}

/// For `offer-ignored` with several captures and no cause found: which
/// captures hold the client's DISCOVERs but none of the OFFERs, though
/// running when they were sent. A broadcast OFFER missing there is
/// `reply-not-seen-by-client` (a cause); a unicast one reaches only the
/// client's port, so its absence is telling only if that capture was taken
/// on the client's side, which the packets cannot say.
pub(super) fn offers_across_captures(t: &Transaction, ctx: &Context<'_>) -> String {
    let offers: Vec<&Seen> = t.of_kind(Offer).collect();
    let held = offers.iter().fold(0u64, |acc, s| acc | s.files);
    let lacking = offers.iter().fold(0u64, |acc, s| {
        acc | (asked_before(t.of_kind(Discover), s.obs.ts) & running_at(ctx.file_spans, s.obs.ts))
    }) & !held;
    let with_discovers = t.of_kind(Discover).fold(0u64, |acc, s| acc | s.files);
    if lacking == 0 && with_discovers & !held == 0 {
        return " The packets do not show why: every capture that holds the client's DISCOVERs holds the OFFERs \
                too. If one was taken on the client's host, the client received them and dropped them: read its log."
            .to_string();
    }
    if lacking == 0 {
        // The captures that lack the OFFERs were not running when they
        // were sent (one capture cut in parts, `tcpdump -C`): nothing to
        // compare.
        return " The packets do not show why. If these captures were taken at the server, the OFFER may never \
                reach the client: capture on the client's side too, at the same time."
            .to_string();
    }
    let names = file_names(ctx.files, lacking)
        .iter()
        .map(|n| short_name(n))
        .collect::<Vec<_>>()
        .join(", ");
    let unicast = offers.iter().find(|s| !s.obs.broadcast_dst());
    match unicast {
        Some(u) => format!(
            " The OFFERs went unicast (to {}) and {names} holds the client's DISCOVERs but none of them. If {names} \
             was taken on the client's side, they never reached the client: look for a switch, VLAN or firewall \
             between the server and the client (failure catalogue B.10). If it was taken at another host on the \
             segment, a switch does not send it frames unicast to the client, and the packets do not show why.",
            u.obs.dst_ip
        ),
        None => format!(
            " {names} holds the client's DISCOVERs but none of the OFFERs, though it was capturing: if it was taken \
             on the client's side, they never reached the client."
        ),
    }
}

pub(super) fn no_ack(t: &Transaction, causes: &[Finding], ctx: &Context<'_>) -> Finding {
    let reqs: Vec<&Obs> = t
        .client_packets()
        .map(|s| &s.obs)
        .filter(|o| o.kind == Some(Request) || o.kind == Some(Inform))
        .collect();
    let n = reqs.len();
    let last = reqs
        .last()
        .copied()
        .or_else(|| t.client_packets().map(|s| &s.obs).last());
    let what = last.map_or("the client's request".to_string(), |o| o.ladder_label());
    let mut e = format!(
        "{n} {}REQUEST{} ({}, state {}) got neither ACK nor NAK.",
        if t.state == State::Inform {
            "INFORM/"
        } else {
            ""
        },
        if n == 1 { "" } else { "s" },
        ctx.frames(reqs.iter().map(|o| o.at)),
        t.state.name()
    );
    match t.state {
        State::InitReboot => e.push_str(
            " An INIT-REBOOT request is answered only by a server that knows the network: a server that is not \
             authoritative stays silent (ISC: \"ignored (not authoritative)\", Kea: DHCP4_NO_LEASE_INIT_REBOOT) \
             and the client waits before falling back to DISCOVER.",
        ),
        State::Renewing => e.push_str(
            " Renewal REQUESTs go unicast to the server: no answer usually means the unicast path (routing, \
             firewall) is blocked or the server is gone; the client will rebind by broadcast at T2.",
        ),
        _ => {}
    }
    if let Some(s) = cause_sentence(causes) {
        e.push_str(&s);
    }
    Finding::new(Code::NoAck, Severity::Error, Some(t.chaddr), Some(t.xid))
        .frames(reqs.iter().map(|o| o.at))
        .summary(format!("{what} got no ACK or NAK"))
        .explanation(e)
        .fix("Check the server's log for this request; for renewals check the unicast path from client to server.")
        .references(&["RFC 2131 §4.3.2", "RFC 2131 §4.4.5"])
}

/// Whether the client sent its REQUEST again after one of the ACKs (only
/// asked when it sent more than one).
pub(super) fn ack_asked_again(t: &Transaction) -> bool {
    t.of_kind(Request).nth(1).is_some() && t.acks_asked_again().0 > 0
}

/// The client did not take an ACK: `failed` when that is how the exchange
/// ended ([`Outcome::AckIgnored`]); otherwise an earlier ACK under this xid
/// went untaken and this transaction's was the one the client took.
pub(super) fn ack_ignored(
    t: &Transaction,
    failed: bool,
    causes: &[Finding],
    ctx: &Context<'_>,
) -> Finding {
    let acks: Vec<&Seen> = t.of_kind(Ack).collect();
    let again = |a: &Seen| {
        t.of_kind(Request)
            .map(|s| &s.obs)
            .find(|r| r.ts.0 - a.obs.ts.0 >= crate::transaction::ASKED_AGAIN_NS)
    };
    let asked: Vec<(&Obs, &Obs)> = acks
        .iter()
        .filter_map(|a| again(a).map(|r| (&a.obs, r)))
        .collect();
    // ACKs of earlier transactions under this xid that the client asked
    // again after (the engine closed them before the REQUEST came back).
    let earlier = usize::from(t.asked_after_ack);
    let first = t.client_packets().next().map(|s| &s.obs);
    let missing = ack_missing_at_client(t, ctx.files, ctx.file_spans);
    let servers: Vec<String> = t.servers(Ack).iter().map(|s| s.to_string()).collect();
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    let mut e = String::new();
    match first {
        Some(first) if earlier > 0 && first.kind == Some(Discover) => {
            let _ = write!(
                e,
                "The client started over with a DISCOVER ({}) soon after its exchange before, in which it had sent \
                 its REQUEST again after an ACK: it had not taken {} ACK{} in a row. ",
                ctx.frame(first.at),
                earlier,
                plural(earlier),
            );
        }
        Some(first) if earlier > 0 => {
            let _ = write!(
                e,
                "The client's REQUEST ({}) for xid {} came after an ACK to the same REQUEST in the exchange before: \
                 it had not taken it{}. ",
                ctx.frame(first.at),
                xid(t.xid),
                if earlier == 1 {
                    String::new()
                } else {
                    format!(", nor the {} before it", if earlier == 2 { "one".to_string() } else { (earlier - 1).to_string() })
                },
            );
        }
        _ => {}
    }
    let _ = write!(
        e,
        "{} ACK{} from {} ({}) for xid {}",
        acks.len(),
        plural(acks.len()),
        servers.join(", "),
        ctx.frames(acks.iter().map(|s| s.obs.at)),
        xid(t.xid),
    );
    if asked.is_empty() {
        e.push('.');
    } else {
        let pairs: Vec<String> = asked
            .iter()
            .map(|(a, r)| {
                format!(
                    "{} {:.1} s after {}",
                    ctx.frame(r.at),
                    (r.ts.0 - a.ts.0) as f64 / 1e9,
                    ctx.frame(a.at)
                )
            })
            .collect();
        let _ = write!(
            e,
            ": the client sent its REQUEST again after {} ({}).",
            if asked.len() == acks.len() && acks.len() > 1 {
                "each".to_string()
            } else if acks.len() == 1 {
                "it".to_string()
            } else {
                format!("{} of them", asked.len())
            },
            pairs.join("; "),
        );
    }
    let untaken = if failed {
        acks.len() + earlier
    } else {
        earlier.max(asked.len())
    };
    if !asked.is_empty() || earlier > 0 {
        let _ = write!(
            e,
            " A client that takes an ACK configures the address and never asks again under the same xid: {} \
             did not reach it, or it rejected {}.",
            if untaken == 1 { "that ACK" } else { "those ACKs" },
            if untaken == 1 { "it" } else { "them" },
        );
    }
    let all_asked = asked.len() == acks.len();
    if failed && !all_asked && missing.is_none() {
        e.push_str(
            " Whether it took the last one cannot be told from this capture: it asked no more, which a client \
             also does when it gives up; after so many ACKs went untaken, it most likely did not get that one either.",
        );
    }
    if !failed {
        e.push_str(
            " The last ACK ended the exchange: the client took that one, as far as this capture shows.",
        );
    }
    if let Some(missing) = &missing {
        let _ = write!(
            e,
            " None of them is in {}, which holds the client's REQUESTs: they did not reach the client.",
            missing.join(", ")
        );
    }
    match cause_sentence(causes) {
        Some(s) => e.push_str(&s),
        None if missing.is_none() => e.push_str(
            " The packets do not show why. If this capture was taken at the server, the ACKs may never reach the \
             client: capture on the client's side too and give both files, and read the client's log.",
        ),
        None => {}
    }
    let frames = first
        .filter(|_| earlier > 0)
        .map(|o| o.at)
        .into_iter()
        .chain(acks.iter().map(|s| s.obs.at))
        .chain(asked.iter().map(|(_, r)| r.at));
    let summary = if failed && asked.is_empty() && earlier == 0 {
        format!(
            "ACK{} from {} never reached the client's capture",
            plural(acks.len()),
            servers.join(", ")
        )
    } else if failed {
        format!(
            "ACK{} from {} not taken: the client asked again",
            plural(acks.len() + earlier),
            servers.join(", ")
        )
    } else {
        format!(
            "an earlier ACK from {} was not taken: the client asked again and took this one",
            servers.join(", ")
        )
    };
    let f = Finding::new(
        Code::AckIgnored,
        if failed { Severity::Error } else { Severity::Warning },
        Some(t.chaddr),
        Some(t.xid),
    )
    .frames(frames)
    .summary(summary)
    .explanation(e)
    .fix("Fix the cause named above; otherwise follow the ACK to the client (capture at its side) and read the client's log for why it did not take it.")
    .references(&["RFC 2131 §4.4.1", "failure catalogue B.10"]);
    if !failed {
        return f;
    }
    let confidence = if missing.is_some() || all_asked {
        Confidence::High
    } else {
        Confidence::Medium
    };
    f.cause(confidence)
}

/// The captures that would hold `reply`, a reply to the client, had it
/// reached them. A switch floods broadcasts to every port but sends unicast
/// only to the client's: a unicast reply can be missing only from a capture
/// that sees this server's unicast replies to this client at all (not from
/// a capture at another server, which sees only its own).
pub(super) fn could_hold(t: &Transaction, reply: &Obs) -> u64 {
    if reply.broadcast_dst() {
        return u64::MAX;
    }
    to_client(t)
        .filter(|s| !s.obs.broadcast_dst() && s.obs.server() == reply.server())
        .fold(0u64, |acc, s| acc | s.files)
}

/// With several captures: the names of those that hold the client's
/// REQUESTs, were capturing when an ACK was sent, and hold none of the
/// transaction's ACKs (the client's side, where the ACKs never arrived).
pub(crate) fn ack_missing_at_client(
    t: &Transaction,
    files: &[String],
    spans: &[(Timestamp, Timestamp)],
) -> Option<Vec<String>> {
    if files.len() < 2 || !t.has(Ack) {
        return None;
    }
    // Captures that could have seen an ACK (the last one often comes after
    // a capture's last packet), and those that hold one.
    let (mut judged, mut present) = (0u64, 0u64);
    for a in t.of_kind(Ack) {
        let ts = a.obs.ts;
        judged |=
            asked_before(t.of_kind(Request), ts) & running_at(spans, ts) & could_hold(t, &a.obs);
        present |= a.files;
    }
    let lacking = judged & !present;
    (lacking != 0).then(|| file_names(files, lacking))
}

/// The captures holding one of `requests` sent in the 5 s up to `ts`.
pub(super) fn asked_before<'t>(requests: impl Iterator<Item = &'t Seen>, ts: Timestamp) -> u64 {
    requests
        .filter(|r| r.obs.ts <= ts && ts.0 - r.obs.ts.0 < 5_000_000_000)
        .fold(0u64, |acc, r| acc | r.files)
}

/// The captures running at `ts` (between their first and last packet).
pub(super) fn running_at(spans: &[(Timestamp, Timestamp)], ts: Timestamp) -> u64 {
    (0..spans.len().min(64))
        .filter(|&i| spans[i].0 <= ts && ts <= spans[i].1)
        .fold(0u64, |acc, i| acc | (1 << i))
}

/// The names of the captures whose bits are set in `bits`.
pub(super) fn file_names(files: &[String], bits: u64) -> Vec<String> {
    files
        .iter()
        .enumerate()
        .filter(|(i, _)| *i < 64 && bits & (1 << i) != 0)
        .map(|(_, n)| n.clone())
        .collect()
}

pub(super) fn nak(t: &Transaction, outcome: Outcome, ctx: &Context<'_>) -> Option<Finding> {
    let n = t.of_kind(Nak).next()?;
    let n = &n.obs;
    let req = t
        .of_kind(Request)
        .map(|s| &s.obs)
        .filter(|o| o.ts <= n.ts)
        .last();
    let text = n
        .message()
        .map_or(String::from("(without a message: no option 56)"), |m| {
            format!("\"{m}\"")
        });
    let chosen = req.and_then(|r| r.server_id);
    let acked = t.has(Ack);
    // A REQUEST that names no server (INIT-REBOOT, REBINDING) that one
    // server ACKed and another NAKed.
    let acked_by = t
        .of_kind(Ack)
        .map(|s| s.obs.server())
        .find(|a| *a != n.server());
    let (class, why) = if let Some(other) = acked_by.filter(|_| chosen.is_none()) {
        (
            "other-server",
            format!(
                "The REQUEST named no server; {other} ACKed it and {} NAKed it: two servers answer for this network \
                 and disagree about the address, and the client keeps whichever answer it reads first.",
                n.server(),
            ),
        )
    } else if chosen.is_some_and(|c| c != n.server()) {
        (
            "other-server",
            format!(
                "The REQUEST named server {} but the NAK came from {}: a server whose range also covers this \
                 network refused the address another server leases{}.",
                chosen.unwrap_or(Ipv4Addr::UNSPECIFIED),
                n.server(),
                if acked { ", while the chosen server ACKed it" } else { "" }
            ),
        )
    } else {
        match t.state {
            State::InitReboot => (
                "init-reboot-wrong-network",
                format!(
                    "The client rebooted asking to keep {} (INIT-REBOOT: option 50, no server id, ciaddr 0); \
                     the server, authoritative here, says that address is not valid on this network: the client \
                     moved networks (or VLANs) with an old lease. A NAK here is normal; the client should now DISCOVER.",
                    req.and_then(|r| r.requested_ip).map_or("its old address".into(), |a| a.to_string())
                ),
            ),
            State::Renewing | State::Rebinding => (
                "renewal-refused",
                format!(
                    "The server refused to extend {}: it no longer holds that lease (lost lease database, a different \
                     server, or the address was taken back).",
                    req.map_or(Ipv4Addr::UNSPECIFIED, |r| r.ciaddr)
                ),
            ),
            _ => ("refused", "The server refused the requested address.".to_string()),
        }
    };
    let severity = if outcome == Outcome::Nak {
        Severity::Error
    } else {
        Severity::Warning
    };
    let mut f = Finding::new(Code::Nak, severity, Some(t.chaddr), Some(t.xid))
        .frames(req.map(|r| r.at).into_iter().chain([n.at]))
        .summary(format!("server {} sent DHCPNAK ({class}): {text}", n.server()))
        .explanation(format!(
            "{} answers {}. Server's message: {text}. {why}",
            ctx.frame(n.at),
            req.map_or("a REQUEST this capture does not hold".to_string(), |r| format!("{} ({})", r.ladder_label(), ctx.frame(r.at))),
        ))
        .fix(match class {
            "other-server" => "Make only one server authoritative for this network (or give the servers disjoint ranges); a rogue or misconfigured server must go.",
            "init-reboot-wrong-network" => "Expected after a move: the client should restart with DISCOVER. If it does not, or if it did not move, check that the VLAN and the server's subnet for this link are right.",
            "renewal-refused" => "Check the server's lease database and failover state; the client will start over with DISCOVER.",
            _ => "Read the server's message and log for this MAC.",
        })
        .references(&["RFC 2131 §3.2", "RFC 2131 §4.3.2"]);
    if outcome == Outcome::Nak {
        f = f.cause(Confidence::High);
    }
    Some(f)
}
