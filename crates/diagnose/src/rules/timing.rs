//! How long things take: a switch port that is not forwarding yet, slow
//! and competing servers, a `secs` that does not grow.

use super::*;

/// A run of unanswered DISCOVERs at least this long, at the start of a
/// client's first exchange, before one is answered at once: the shortest
/// spanning-tree delay (a forward delay of 4 s, listening then learning).
pub(super) const STP_MIN_NS: i64 = 8_000_000_000;

/// `stp-delay-suspected` (catalogue E.30): a switch port without PortFast
/// drops every frame for twice its forward delay (30 s by default) after
/// the link comes up. Seen from the client's side: its first DISCOVERs go
/// unanswered for that long, then one is answered at once (and a capture
/// at the server's side, running then, holds none of the first). Seen from
/// the server's side alone: the client's first DISCOVER already says, in
/// `secs`, that it has been trying for longer than the capture shows.
pub(super) fn stp_delay(t: &Transaction, ctx: &Context<'_>) -> Option<Finding> {
    if ctx.client.transactions > 0 || t.state != State::Init {
        return None;
    }
    if let Some(f) = early_discovers_lost(t, ctx) {
        return Some(f);
    }
    let first = t.of_kind(Discover).next().map(|s| &s.obs)?;
    let running = (first.ts.0 - ctx.capture_start.0) / 1_000_000_000;
    if first.secs < 15 || running < i64::from(first.secs) {
        return None;
    }
    Some(
        Finding::new(Code::StpDelaySuspected, Severity::Warning, Some(t.chaddr), Some(t.xid))
            .confidence(Confidence::Low)
            .frames([first.at])
            .summary(format!("the client's first DISCOVER seen already has secs {}", first.secs))
            .explanation(format!(
                "The first DISCOVER from this client ({}) says it had been trying for {} s, but the capture had been running \
                 for {running} s and saw none of its earlier attempts: they were lost before reaching this point, as \
                 happens while a switch port is still in spanning-tree listening/learning (up to 30 s after link-up).",
                ctx.frame(first.at),
                first.secs
            ))
            .fix(STP_FIX)
            .references(&["IEEE 802.1D", "failure catalogue E.30"]),
    )
}

pub(super) const STP_FIX: &str = "Make the client's switch port an edge port, which forwards as soon as the link is up \
    (Cisco `spanning-tree portfast`, or `spanning-tree port type edge`; an edge port in RSTP or MSTP), or have the \
    client wait for the link before it asks (iPXE and most ROMs retry for about a minute).";

/// [`stp_delay`] from the client's side: DISCOVERs unanswered for
/// [`STP_MIN_NS`] or more from the client's first, then one answered within
/// a second. With a capture at the server's side that was running then and
/// holds the answered DISCOVER but none of the earlier ones, the path lost
/// them (medium confidence); from the client's side alone, the server may
/// also have been silent on purpose (low). When the server's side holds
/// them, the path did not lose them: no finding.
pub(super) fn early_discovers_lost(t: &Transaction, ctx: &Context<'_>) -> Option<Finding> {
    let offer_seen = t.of_kind(Offer).next()?;
    let offer = &offer_seen.obs;
    // The DISCOVER answered is the last sent before the OFFER; two or more
    // before it are needed (counted first: most exchanges have one).
    let idx = (t.of_kind(Discover).enumerate())
        .filter(|(_, d)| d.obs.ts <= offer.ts)
        .last()?
        .0;
    if idx < 2 {
        return None;
    }
    let discovers: Vec<&Seen> = t.of_kind(Discover).take(idx + 1).collect();
    let (lost, answered_seen) = (&discovers[..idx], discovers[idx]);
    let answered = &answered_seen.obs;
    let first = &lost[0].obs;
    let span = answered.ts.0 - first.ts.0;
    let latency = offer.ts.0 - answered.ts.0;
    if span < STP_MIN_NS || latency >= 1_000_000_000 {
        return None;
    }
    let captures = ctx.files.len().min(64);
    let holds = |s: &Seen, f: usize| s.files & (1 << f) != 0;
    let running = |f: usize| ctx.file_spans.get(f).is_some_and(|s| s.0 <= first.ts);
    // A capture on the far side of the loss: running when the first was
    // sent, it holds the DISCOVER answered and the OFFER, and none of the
    // early ones.
    let far = (0..captures).find(|&f| {
        running(f)
            && holds(answered_seen, f)
            && holds(offer_seen, f)
            && !lost.iter().any(|d| holds(d, f))
    });
    // Two captures or more that hold the early ones and the OFFER saw them
    // cross the path: they reached the server's side, unanswered.
    let crossed = (0..captures)
        .filter(|&f| holds(offer_seen, f) && lost.iter().all(|d| holds(d, f)))
        .count();
    if far.is_none() && crossed >= 2 {
        return None;
    }
    let n = lost.len();
    let lost_frames = ctx.frames(lost.iter().map(|d| d.obs.at));
    let server = offer.server();
    let secs = format!(
        "secs {} to {}",
        first.secs,
        lost.last().map_or(first.secs, |d| d.obs.secs)
    );
    let head = format!(
        "The client's first {n} DISCOVERs ({lost_frames}, over {}, {secs}) got no answer, and {server} answered the \
         next one ({}, secs {}) {} later.",
        secs_fmt(span),
        ctx.frame(answered.at),
        answered.secs,
        ms_fmt(latency),
    );
    let (confidence, middle) = match far {
        Some(f) => (
            Confidence::Medium,
            format!(
                "None of the {n} reached {}, which was capturing then and holds the DISCOVER answered: the path \
                 dropped every frame from the client for its first {} and then forwarded them.",
                short_name(&ctx.files[f]),
                secs_fmt(span)
            ),
        ),
        None => (
            Confidence::Low,
            format!(
                "For {} the DISCOVERs did not reach {server}, or it did not answer them; a capture at the server's side \
                 tells which. A server that waits for secs (ISC dhcpd's min-secs) answers once it is high enough: the \
                 DISCOVER answered says {}.",
                secs_fmt(span),
                answered.secs
            ),
        ),
    };
    Some(
        Finding::new(Code::StpDelaySuspected, Severity::Warning, Some(t.chaddr), Some(t.xid))
            .confidence(confidence)
            .frames(lost.iter().map(|d| d.obs.at).chain([answered.at, offer.at]))
            .summary(format!(
                "the client's first {n} DISCOVERs over {} got no answer, then the next was answered in {}",
                secs_fmt(span),
                ms_fmt(latency)
            ))
            .explanation(format!(
                "{head} {middle} That is what a switch port without PortFast does when the link comes up: spanning \
                 tree keeps it listening, then learning, for the forward delay each (15 s each by default, 30 s in \
                 all) before it forwards a frame. The client got its lease late; a PXE ROM that gives up sooner \
                 never boots (PXE-E51, \"No DHCP or proxyDHCP offers were received\")."
            ))
            .fix(STP_FIX)
            .references(&["IEEE 802.1D §8.4", "failure catalogue E.30"]),
    )
}

pub(super) fn ms_fmt(ns: i64) -> String {
    format!("{:.0} ms", ns as f64 / 1e6)
}

pub(super) fn slow_offer(t: &Transaction, ctx: &Context<'_>) -> Option<Finding> {
    let (offer, delay) = t.of_kind(Offer).map(|s| &s.obs).find_map(|o| {
        let asked = t
            .of_kind(Discover)
            .map(|s| s.obs.ts)
            .filter(|ts| *ts <= o.ts)
            .max()?;
        let d = o.ts.0 - asked.0;
        (d >= 1_000_000_000).then_some((o, d))
    })?;
    let pxe = t.client_packets().any(|s| is_pxe(&s.obs));
    Some(
        Finding::new(Code::SlowOffer, if pxe && delay >= 3_000_000_000 { Severity::Warning } else { Severity::Info }, Some(t.chaddr), Some(t.xid))
            .frames([offer.at])
            .summary(format!("OFFER from {} came {} after the DISCOVER", offer.server(), secs_fmt(delay)))
            .explanation(format!(
                "{} answered {} after the DISCOVER it answers ({}). Servers ping an address before offering it: ISC dhcpd \
                 (ping-check, about 1 s) and dnsmasq (up to 3 s for an address it has not leased before; --no-ping). \
                 dnsmasq's `dhcp-reply-delay` holds OFFERs back on purpose, for PXE ROMs that are not listening yet. \
                 Longer delays point to a loaded server or a slow back end. PXE ROMs wait only about 4 s per try.",
                offer.server(),
                secs_fmt(delay),
                ctx.frame(offer.at)
            ))
            .fix("Usually nothing; if boot clients time out, turn off the ping check (ISC `ping-check false;`, dnsmasq `--no-ping`) or speed up the server.")

            .references(&["ISC dhcpd.conf(5) ping-check"]),
    )
}

pub(super) fn multiple_servers(t: &Transaction, ctx: &Context<'_>) -> Option<Finding> {
    // A second server among the OFFERs, found without collecting them (so
    // `servers` below holds two or more).
    let mut offers = t.of_kind(Offer).map(|s| s.obs.server());
    let first = offers.next()?;
    if offers.all(|id| id == first) {
        return None;
    }
    let servers = t.servers(Offer);
    let chosen = t.of_kind(Request).find_map(|s| s.obs.server_id);
    let mut rows = Vec::new();
    for s in &servers {
        let o = t
            .of_kind(Offer)
            .map(|x| &x.obs)
            .find(|o| o.server() == *s)?;
        // From the DISCOVER it answers: the last one sent before it (as
        // the transaction's offer latency is measured).
        let discover = t
            .of_kind(Discover)
            .map(|s| s.obs.ts)
            .filter(|d| *d <= o.ts)
            .max();
        let latency = discover.map_or(String::new(), |d| {
            format!(" after {:.0} ms", (o.ts.0 - d.0) as f64 / 1e6)
        });
        rows.push(format!(
            "{s}{} offered {}{latency} ({}){}",
            o.src_mac.map_or(String::new(), |m| format!(
                " [{}]",
                wire::frame::mac_to_string(&m)
            )),
            o.yiaddr,
            ctx.frame(o.at),
            if chosen == Some(*s) {
                " — the client took this one"
            } else {
                ""
            }
        ));
    }
    // Another server refusing the lease the client took: one of them does
    // not belong on this network.
    let refused_by = chosen.and_then(|c| t.of_kind(Nak).map(|s| &s.obs).find(|n| n.server() != c));
    let f = match refused_by {
        Some(n) => Finding::new(
            Code::MultipleServers,
            Severity::Error,
            Some(t.chaddr),
            Some(t.xid),
        )
        .cause(Confidence::Medium)
        .frames([n.at]),
        None => Finding::new(
            Code::MultipleServers,
            Severity::Warning,
            Some(t.chaddr),
            Some(t.xid),
        ),
    };
    let conflict = refused_by.map_or(String::new(), |n| {
        format!(
            " {} then NAKed the REQUEST for the address the client took ({}): the servers disagree about this network, \
             so the client holds an address the other server says is wrong — the faster one is likely a rogue.",
            n.server(),
            ctx.frame(n.at)
        )
    });
    Some(
        f.frames(t.of_kind(Offer).map(|s| s.obs.at))
            .summary(format!(
                "{} servers answered: {}{}",
                servers.len(),
                servers.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(", "),
                chosen.map_or(String::new(), |c| format!("; the client took {c}"))
            ))
            .explanation(format!(
                "For xid {}: {}. Clients usually take the first OFFER, so the fastest server wins; a server that should not \
                 be there (a home router, a test VM) hands out wrong addresses, gateways and DNS.{conflict}",
                xid(t.xid),
                rows.join("; ")
            ))

            .fix("If only one server should answer on this network, find the other by its MAC and switch port and disable it (or enable DHCP snooping); if it is a failover pair, this is expected.")
            .references(&["RFC 2131 §4.4.1", "failure catalogue E.34"]),
    )
}

/// `secs-not-incrementing`, judged over a DISCOVER cycle.
pub fn secs_cycle(chaddr: HwAddr, c: &Cycle) -> Option<Finding> {
    if !c.worth_checking() || c.min_secs != c.max_secs {
        return None;
    }
    let dur = c.last.0 - c.start.0;
    let v = c.first_secs;
    let failed = !c.got_offer;
    let f = Finding::new(
        Code::SecsNotIncrementing,
        if failed {
            Severity::Error
        } else {
            Severity::Warning
        },
        Some(chaddr),
        c.xids().first().copied(),
    );
    let f = if failed {
        f.cause(Confidence::Medium)
    } else {
        f
    };
    let xids: Vec<String> = c.xids().iter().map(|x| xid(*x).to_string()).collect();
    // The smallest `min-secs` that drops these DISCOVERs (ISC's is one
    // byte, so none drops secs of 255 or more).
    let min_secs = v.saturating_add(1).max(2);
    let isc = if min_secs <= 255 {
        format!(
            "ISC dhcpd with `min-secs` logs \"configured min-secs value ({min_secs}) is greater than secs field ({v}).  \
             message dropped.\" (3.x: \"{v} secs < {min_secs}\")"
        )
    } else {
        "ISC dhcpd's `min-secs` (at most 255) would not drop these".to_string()
    };
    Some(
        f.frames(c.frames().iter().copied())
            .summary(format!("secs stayed {v} over {} DISCOVERs in {}", c.discovers, secs_fmt(dur)))
            .explanation(format!(
                "RFC 2131 asks a client to put the seconds since it began acquiring a lease in secs; this client sent \
                 secs={v} in all {} DISCOVERs over {} (xid {}). Servers that wait for secs to grow ignore it: {isc}, and \
                 ISC failover load balancing and Kea HA failure detection misjudge it. \
                 Etherboot 5.4 (the Xen HVM PXE ROM) is a known offender.{}",
                c.discovers,
                secs_fmt(dur),
                xids.join(", "),
                if failed {
                    " No server answered, which fits a server with min-secs."
                } else {
                    " A server answered anyway here, but one configured with min-secs (e.g. a failover secondary) never would."
                }
            ))
            .fix("Set `min-secs 0;` for this network on ISC dhcpd (or remove min-secs), or boot with a client that counts secs (e.g. iPXE instead of Etherboot). `dhcplens bisect --field secs=0..30` confirms a threshold.")
            .references(&["RFC 2131 §2", "RFC 2131 §4.4.1", "ISC dhcpd.conf(5) min-secs"]),
    )
}
