//! What a lease says and what becomes of it: lease times, routes, subnet,
//! required options, declines, renewals.

use super::*;

pub(super) fn lease_times(t: &Transaction, ctx: &Context<'_>) -> Option<Finding> {
    let o = t
        .replies()
        .map(|s| &s.obs)
        .find(|o| lease_offer_problem(o))?;
    let problem = lease_problem(o)?;
    Some(
        Finding::new(Code::LeaseTimesInconsistent, Severity::Warning, Some(t.chaddr), Some(t.xid))
            .frames([o.at])
            .summary(format!("{} from {}: {problem}", o.short_name(), o.server()))
            .explanation(format!(
                "{} ({}) gives lease {}, T1 {}, T2 {}: {problem}. RFC 2131 §4.4.5 expects 0 < T1 < T2 < lease; clients \
                 then renew at odd times, constantly, or never.",
                o.short_name(),
                ctx.frame(o.at),
                opt_secs(o.lease),
                opt_secs(o.t1),
                opt_secs(o.t2)
            ))
            .fix("Set the lease time, renew time (T1, default 0.5 × lease) and rebind time (T2, default 0.875 × lease) so that T1 < T2 < lease.")
            .references(&["RFC 2131 §4.4.5", "RFC 2132 §9.11"]),
    )
}

pub(super) fn opt_secs(v: Option<u32>) -> String {
    v.map_or("absent".into(), |s| {
        if s == u32::MAX {
            "infinite".into()
        } else {
            format!("{s} s")
        }
    })
}

pub(super) fn lease_problem(o: &Obs) -> Option<String> {
    let lease = o.lease?;
    if lease == 0 {
        return Some("lease time is 0".into());
    }
    let finite = lease != u32::MAX;
    // 0xffffffff is infinity for T1 and T2 too (RFC 2132 §9.2): never
    // renew, never rebind.
    let time = |v: u32| {
        if v == u32::MAX {
            "infinite".to_string()
        } else {
            format!("{v} s")
        }
    };
    match (o.t1, o.t2) {
        (Some(0), _) => Some("T1 is 0".into()),
        (_, Some(0)) => Some("T2 is 0".into()),
        (Some(a), Some(b)) if a >= b && !(a == u32::MAX && b == u32::MAX) => {
            Some(format!("T1 ({}) is not before T2 ({})", time(a), time(b)))
        }
        (_, Some(b)) if finite && b >= lease => Some(format!(
            "T2 ({}) is not before the lease end ({lease} s)",
            time(b)
        )),
        (Some(a), _) if finite && a >= lease => Some(format!(
            "T1 ({}) is not before the lease end ({lease} s)",
            time(a)
        )),
        // One of the two given: the other is the RFC's default (§4.4.5),
        // which it must still come before or after.
        (None, Some(b)) if finite && u64::from(b) <= u64::from(lease) / 2 => Some(format!(
            "T2 ({b} s) is not after T1, absent and so half the lease ({} s)",
            lease / 2
        )),
        (Some(a), None) if finite && u64::from(a) * 8 >= u64::from(lease) * 7 => Some(format!(
            "T1 ({a} s) is not before T2, absent and so 7/8 of the lease ({} s)",
            u64::from(lease) * 7 / 8
        )),
        _ => None,
    }
}

pub(super) fn classless_routes(t: &Transaction, ctx: &Context<'_>) -> Option<Finding> {
    let o = t
        .replies()
        .map(|s| &s.obs)
        .find(|o| classless_hides_router(o))?;
    Some(
        Finding::new(Code::ClasslessRoutesWithoutDefault, Severity::Warning, Some(t.chaddr), Some(t.xid))
            .frames([o.at])
            .summary(format!("{} from {} has option 121 without a default route, and option 3", o.short_name(), o.server()))
            .explanation(format!(
                "{} ({}) carries classless static routes (option 121/249) with no 0.0.0.0/0 entry, and a router {} in \
                 option 3. RFC 3442 says a client that uses option 121 ignores option 3, so such clients get no default route.",
                o.short_name(),
                ctx.frame(o.at),
                o.router.unwrap_or(Ipv4Addr::UNSPECIFIED)
            ))
            .fix(format!("Add 0.0.0.0/0 via {} to option 121 (and 249, for Windows).", o.router.unwrap_or(Ipv4Addr::UNSPECIFIED)))
            .references(&["RFC 3442 §2"]),
    )
}

pub(super) fn required_options(t: &Transaction, ctx: &Context<'_>) -> Option<Finding> {
    let req = t
        .client_packets()
        .map(|s| &s.obs)
        .find(|o| o.kind.is_some())?;
    let o = t
        .of_kind(Ack)
        .chain(t.of_kind(Offer))
        .map(|s| &s.obs)
        .find(|o| !o.yiaddr.is_unspecified())?;
    if o.cut {
        return None;
    }
    let mut missing = Vec::new();
    let mut effects = Vec::new();
    if o.subnet_mask.is_none() {
        missing.push("subnet mask (option 1)");
        effects.push("clients guess a classful mask, and some refuse the lease (\"DHCP option Subnet Mask not found in DHCPACK\")");
    }
    if o.router.is_none() && req.asks_router && o.classless_routes != Some(true) {
        missing.push("router (option 3)");
        effects.push("the client asked for a router (option 55) and gets no default route");
    }
    if missing.is_empty() {
        return None;
    }
    Some(
        Finding::new(
            Code::RequiredOptionMissing,
            Severity::Warning,
            Some(t.chaddr),
            Some(t.xid),
        )
        .frames([o.at])
        .summary(format!(
            "{} from {} lacks {}",
            o.short_name(),
            o.server(),
            missing.join(" and ")
        ))
        .explanation(format!(
            "{} ({}) leases {} without {}: {}.",
            o.short_name(),
            ctx.frame(o.at),
            o.yiaddr,
            missing.join(" or "),
            effects.join("; ")
        ))
        .fix("Configure the subnet mask and routers for this subnet on the server.")
        .references(&["RFC 2132 §3.3", "RFC 2132 §3.5"]),
    )
}

/// What is wrong with a lease's address, mask and router.
pub(super) enum SubnetFault {
    MaskHoles,
    /// The address is its subnet's network (`true`) or broadcast address.
    EdgeAddress {
        network: bool,
    },
    RouterIsSelf(Ipv4Addr),
    RouterOffLink(Ipv4Addr),
}

/// The fault of a reply whose mask has holes, whose address is its
/// subnet's network or broadcast address, or whose router is off-link or the
/// address itself; `None` when they agree or say too little. /31, /32 and
/// classless routes (which replace option 3) are left alone.
pub(super) fn subnet_fault(o: &Obs) -> Option<SubnetFault> {
    let mask = u32::from(o.subnet_mask.filter(|_| !o.yiaddr.is_unspecified())?);
    let addr = u32::from(o.yiaddr);
    let prefix = mask.leading_ones();
    if mask.count_ones() != prefix {
        return Some(SubnetFault::MaskHoles);
    }
    if prefix <= 30 && (addr == addr & mask || addr == addr | !mask) {
        return Some(SubnetFault::EdgeAddress {
            network: addr == addr & mask,
        });
    }
    let router = o
        .router
        .filter(|_| o.classless_routes != Some(true) && prefix < 32)?;
    if router == o.yiaddr {
        Some(SubnetFault::RouterIsSelf(router))
    } else if u32::from(router) & mask != addr & mask {
        Some(SubnetFault::RouterOffLink(router))
    } else {
        None
    }
}

/// `lease-subnet-inconsistent` (catalogue E.33): the lease's address, mask
/// and router cannot all be right. A router outside the client's subnet is
/// unreachable (Linux refuses the default route: "Nexthop has invalid gateway"),
/// an address that is its subnet's network or broadcast address cannot be
/// used, and a mask with holes is no mask. Typically a scope copied from
/// another VLAN, or a client served from the wrong VLAN's scope.
pub(super) fn lease_subnet(t: &Transaction, ctx: &Context<'_>) -> Option<Finding> {
    let o = t
        .of_kind(Ack)
        .chain(t.of_kind(Offer))
        .map(|s| &s.obs)
        .find(|o| !o.yiaddr.is_unspecified() && o.subnet_mask.is_some())?;
    let fault = subnet_fault(o)?;
    let mask = u32::from(o.subnet_mask?);
    let addr = u32::from(o.yiaddr);
    let subnet = format!("{}/{}", Ipv4Addr::from(addr & mask), mask.leading_ones());
    let (summary, detail) = match fault {
        SubnetFault::MaskHoles => (
            format!("subnet mask {} is not contiguous", Ipv4Addr::from(mask)),
            format!(
                "its subnet mask {} has holes (option 1 must be ones then zeros), so no client can build a route from it",
                Ipv4Addr::from(mask)
            ),
        ),
        SubnetFault::EdgeAddress { network } => {
            let which = if network { "network" } else { "broadcast" };
            (
                format!("{} is the {which} address of {subnet}", o.yiaddr),
                format!(
                    "{} is the {which} address of {subnet} itself, which no host can use: the pool reaches past the subnet's edge, \
                     or the mask belongs to another subnet",
                    o.yiaddr
                ),
            )
        }
        SubnetFault::RouterIsSelf(router) => (
            format!("router {router} is the client's own address"),
            format!("its router (option 3) is {router}, the very address it leases: the client would route through itself"),
        ),
        SubnetFault::RouterOffLink(router) => (
            format!("router {router} is outside {subnet}"),
            format!(
                "its router (option 3) {router} is not in the client's subnet {subnet} ({} with mask {}): the client \
                 cannot reach it on the link, so it gets no default route \
                 (Linux refuses it: \"Nexthop has invalid gateway\", older kernels \"Network is unreachable\")",
                o.yiaddr,
                Ipv4Addr::from(mask)
            ),
        ),
    };
    Some(
        Finding::new(Code::LeaseSubnetInconsistent, Severity::Warning, Some(t.chaddr), Some(t.xid))
            .frames([o.at])
            .summary(format!("{} from {}: {summary}", o.short_name(), o.server()))
            .explanation(format!(
                "The {} ({}) from {} leases {}, but {detail}. Address, mask and router come from one scope on the \
                 server; when they disagree, that scope was copied from another subnet or the client reached the \
                 scope of another VLAN (check the 802.1Q tag and the relay's giaddr).",
                o.short_name(),
                ctx.frame(o.at),
                o.server(),
                o.yiaddr,
            ))
            .fix("Make the scope's range, subnet mask (option 1) and routers (option 3) belong to the same subnet; if they do, find why the client is served from this scope (VLAN, giaddr).")
            .references(&["RFC 2132 §3.3", "RFC 2132 §3.5", "RFC 950"]),
    )
}

pub(super) fn address_declined(t: &Transaction, ctx: &Context<'_>) -> Option<Finding> {
    let d = t.of_kind(Decline).next()?;
    let d = &d.obs;
    let Some(addr) = d
        .requested_ip
        .or((!d.ciaddr.is_unspecified()).then_some(d.ciaddr))
    else {
        return Some(
            Finding::new(Code::AddressDeclined, Severity::Warning, Some(t.chaddr), Some(t.xid))
                .frames([d.at])
                .summary("client sent DHCPDECLINE without naming the address".to_string())
                .explanation(format!(
                    "The DHCPDECLINE ({}) has no requested address (option 50) and no ciaddr, so the server cannot tell \
                     which address is in use; RFC 2131 table 5 requires option 50 and the server identifier.",
                    ctx.frame(d.at)
                ))
                .fix("Update the client; meanwhile look for address conflicts on the network.")
                .references(&["RFC 2131 §4.4.1", "RFC 2131 table 5"]),
        );
    };
    Some(
        Finding::new(Code::AddressDeclined, Severity::Error, Some(t.chaddr), Some(t.xid))
            .cause(Confidence::High)
            .frames([d.at])
            .summary(format!("client declined {addr}: the address is in use by another machine"))
            .explanation(format!(
                "The client sent DHCPDECLINE ({}) for {addr}{}: its ARP probe found another machine using that address \
                 (RFC 2131 §2.2). The server marks the address abandoned and the client starts over after at least 10 s.",
                ctx.frame(d.at),
                d.server_id.map_or(String::new(), |s| format!(" leased by {s}"))
            ))
            .fix(format!("Find the machine using {addr} (a static address inside the pool?) and exclude it from the pool or move it."))
            .references(&["RFC 2131 §2.2", "RFC 2131 §4.4.1"]),
    )
}

pub(super) fn renew_malformed(t: &Transaction, ctx: &Context<'_>) -> Option<Finding> {
    let o = t
        .of_kind(Request)
        .map(|s| &s.obs)
        .find(|o| malformed_renewal(o, t.state))?;
    let why = if o.ciaddr.is_unspecified() {
        "it is unicast to the server but ciaddr is 0".to_string()
    } else {
        format!(
            "it has ciaddr {} and also {}",
            o.ciaddr,
            match (o.requested_ip, o.server_id) {
                (Some(r), Some(s)) => format!("option 50 ({r}) and option 54 ({s})"),
                (Some(r), None) => format!("option 50 ({r})"),
                (None, Some(s)) => format!("option 54 ({s})"),
                _ => String::new(),
            }
        )
    };
    Some(
        Finding::new(Code::RenewMalformed, Severity::Warning, Some(t.chaddr), Some(t.xid))
            .frames([o.at])
            .summary(format!("renewing REQUEST breaks RFC 2131: {why}"))
            .explanation(format!(
                "The REQUEST ({}) renews or rebinds a lease, but {why}. RFC 2131 §4.3.2 says a RENEWING or REBINDING \
                 REQUEST carries ciaddr and neither option 50 nor 54; servers may NAK or ignore it.",
                ctx.frame(o.at)
            ))
            .fix("Update the client's DHCP implementation.")
            .references(&["RFC 2131 §4.3.2", "RFC 2131 table 5"]),
    )
}

/// Unicast renewals (RENEWING, after T1) that got no answer, in a
/// transaction where a broadcast REQUEST (REBINDING, after T2) did.
/// ` ICMP errors from A quote them (frame N): see server-unreachable.`
/// when ICMP errors quote this transaction's requests to a server's UDP 67.
pub(super) fn renewals_refused(t: &Transaction, ctx: &Context<'_>) -> String {
    ctx.client
        .refusals()
        .iter()
        .find(|r| !r.reply && r.xid == t.xid && r.port == 67)
        .map_or(String::new(), |r| {
            format!(
                " ICMP errors from {} quote them ({}): see server-unreachable.",
                r.reporter,
                ctx.frame(r.at)
            )
        })
}

pub(super) fn renew_unanswered(
    t: &Transaction,
    outcome: Outcome,
    ctx: &Context<'_>,
) -> Option<Finding> {
    let unicast: Vec<&Obs> = t
        .of_kind(Request)
        .map(|s| &s.obs)
        .filter(|o| unicast_renewal(o))
        .collect();
    let first = unicast.first()?;
    let answered_at = t
        .of_kind(Ack)
        .chain(t.of_kind(Nak))
        .map(|s| s.obs.ts)
        .filter(|ts| *ts > first.ts)
        .min();
    // The REQUEST the answer answers: the last one before it.
    let answered = answered_at.and_then(|a| {
        t.of_kind(Request)
            .map(|s| &s.obs)
            .filter(|o| o.ts <= a)
            .last()
    });
    let unanswered: Vec<&&Obs> = unicast
        .iter()
        .filter(|o| answered_at.is_none_or(|a| o.ts < a))
        .filter(|o| answered.is_none_or(|r| r.at != o.at))
        .collect();
    if unanswered.len() < 2 {
        return None;
    }
    let dur = unanswered.last().map_or(0, |l| l.ts.0 - first.ts.0);
    let renewed = outcome == Outcome::Renewed;
    // Rescued by a broadcast REQUEST (REBINDING), or at last by one more
    // unicast renewal.
    let rescued = answered.filter(|r| renewed && r.broadcast_dst());
    let got_through = answered.filter(|r| renewed && !r.broadcast_dst());
    let severity = if outcome.is_failure() {
        Severity::Error
    } else {
        Severity::Warning
    };
    Some(
        Finding::new(Code::RenewUnanswered, severity, Some(t.chaddr), Some(t.xid))
            .frames(unanswered.iter().map(|o| o.at).chain(answered.filter(|_| renewed).map(|b| b.at)))
            .summary(format!(
                "{} unicast renewal{} to {} got no answer over {}{}",
                unanswered.len(),
                if unanswered.len() == 1 { "" } else { "s" },
                first.dst_ip,
                secs_fmt(dur),
                if rescued.is_some() {
                    "; the broadcast rebind was answered"
                } else if got_through.is_some() {
                    "; a later one was answered"
                } else {
                    ""
                }
            ))
            .explanation(format!(
                "After T1 the client renewed its lease of {} by unicast to {} ({}), and nobody answered{}. Unicast DHCP \
                 takes a different path from broadcasts (routing, firewalls, a server that listens only for broadcasts, a \
                 relay in between), so {}",
                first.ciaddr,
                first.dst_ip,
                ctx.frames(unanswered.iter().map(|o| o.at)),
                match (rescued, got_through) {
                    (Some(b), _) => format!("; its broadcast REQUEST after T2 ({}) was", ctx.frame(b.at)),
                    (_, Some(r)) => format!("; a later one ({}) was", ctx.frame(r.at)),
                    _ => String::new(),
                },
                if rescued.is_some() {
                    "the lease survives only because rebinding at T2 works; lose that too and the client drops its \
                     address when the lease ends."
                } else if got_through.is_some() {
                    "renewals were lost before one got through: a lossy path, or a server that answers unicast only \
                     some of the time. Leases renew late, and fall back on rebinding when every retry is lost."
                } else {
                    "the lease now rests on rebinding: unless a broadcast REQUEST after T2 is answered (this capture \
                     shows none), the client drops its address when the lease ends."
                }
            ) + &renewals_refused(t, ctx))
            .fix(format!(
                "Let unicast UDP from the clients to {}:67 through (firewall, routing, switch ACLs), and check that the \
                 server answers unicast on the address it gives as its server identifier.",
                first.dst_ip
            ))
            .references(&["RFC 2131 §4.4.5", "failure catalogue C.23"]),
    )
}
