//! ICMP errors: servers or clients that refused a DHCP message, and
//! refusals that name no client.

use super::*;

/// What makes refusals one group: who refused what, where, and how.
pub(super) fn refusal_key(r: &crate::client::Refusal) -> (Ipv4Addr, u8, Ipv4Addr, u16) {
    (r.reporter, r.code, r.to, r.port)
}

/// The first refusal of `c` that `pick` selects, and every other it
/// selects with the same [`refusal_key`].
pub(super) fn refusal_group(
    c: &Client,
    pick: impl Fn(&crate::client::Refusal) -> bool,
) -> Option<Vec<&crate::client::Refusal>> {
    let first = c.refusals().iter().find(|r| pick(r))?;
    Some(
        c.refusals()
            .iter()
            .filter(|r| pick(r) && refusal_key(r) == refusal_key(first))
            .collect(),
    )
}

/// An ICMP destination unreachable's code in a finding's words.
pub(super) fn icmp_words(code: u8) -> &'static str {
    match code {
        3 => "port unreachable",
        9 | 10 | 13 => "communication administratively prohibited",
        0 | 1 | 6 | 7 => "host or network unreachable",
        _ => "destination unreachable",
    }
}

/// The client's messages, or a server's replies to it, that ICMP errors say
/// were refused (`server-unreachable`, `reply-unreachable`), judged against
/// the client's outcome. Part of [`client_end`]; a live watch asks it as each
/// exchange closes, and each rule itself for an exchange still open.
pub fn refused(c: &Client, files: &[String]) -> Vec<Finding> {
    if c.refusals().is_empty() {
        return Vec::new();
    }
    let outcome = c.outcome();
    server_unreachable(c, outcome, files)
        .into_iter()
        .chain(reply_unreachable(c, outcome, files))
        .collect()
}

/// Why `by` refused a message to UDP 67 at `to` with ICMP `code`, and the
/// fix (`server-unreachable`).
pub(super) fn server_refusal(by: Ipv4Addr, to: Ipv4Addr, code: u8) -> (String, String) {
    match code {
        3 if by == to => (
            format!(
                "nothing listens on UDP 67 at {to}: no DHCP server runs there, or it listens on other addresses or \
                 interfaces, or its own firewall rejects the messages"
            ),
            format!(
                "Start the DHCP server on {to} (`ss -ulnp 'sport = :67'` there shows what listens; an iptables REJECT \
                 rule on it answers port unreachable too), or point the relay (`ip helper-address`, dhcrelay's server \
                 list) at the address the server does listen on. A client's unicast renewals go to the server \
                 identifier its lease named."
            ),
        ),
        3 => (
            format!(
                "{by} is on the way to {to}: a firewall or router there rejects DHCP to it (an iptables REJECT rule \
                 answers port unreachable)"
            ),
            format!("Find the rule at {by} that rejects UDP 67 to {to}, and let DHCP through (UDP 68 back too)."),
        ),
        9 | 10 | 13 => (
            format!("a firewall at {by} rejects DHCP to {to}"),
            format!("Let UDP 67 to {to} through the firewall at {by} (and UDP 68 back)."),
        ),
        0 | 1 | 6 | 7 => (
            format!("{by} cannot reach {to} (no route, or no answer to its ARP)"),
            format!("Check the route from {by} to {to} and that {to} is up; a relay's server address may be wrong."),
        ),
        _ => (
            format!("{by} could not deliver it to {to} (ICMP code {code})"),
            format!("Check the path from {by} to {to}."),
        ),
    }
}

/// `server-unreachable`: the client's DHCP messages to a server (a relay's
/// forwarded requests, unicast renewals) came back as ICMP destination
/// unreachable: nothing listens on UDP 67 there, a firewall rejects them,
/// or a router cannot reach the server. The ICMP error names the cause the
/// silence alone cannot.
pub fn server_unreachable(
    c: &Client,
    outcome: Option<Outcome>,
    files: &[String],
) -> Option<Finding> {
    let same = refusal_group(c, |r| !r.reply && r.port == 67)?;
    let first = same[0];
    let mut others: Vec<String> = Vec::new();
    for r in c
        .refusals()
        .iter()
        .filter(|r| !r.reply && r.port == 67 && refusal_key(r) != refusal_key(first))
    {
        let s = format!("{} for {}", r.reporter, r.to);
        if !others.contains(&s) {
            others.push(s);
        }
    }
    let (by, to, code) = (first.reporter, first.to, first.code);
    let icmp = icmp_words(code);
    let (why, fix) = server_refusal(by, to, code);
    // The cause of a failure only when nothing answered the refused
    // exchanges, the client failed, and the capture holds its exchanges.
    let answered = same.iter().all(|r| r.answered);
    let (severity, cause, outcome_note) = match outcome {
        None => (
            Severity::Warning,
            false,
            " The capture holds none of the client's own messages, only the ICMP errors quoting them.",
        ),
        Some(o) if o.is_success() => (
            Severity::Warning,
            false,
            " The client got its lease another way (a broadcast, another server).",
        ),
        Some(_) if answered => (
            Severity::Warning,
            false,
            " Another server answered those exchanges, so this one is not why the client failed.",
        ),
        Some(_) => (Severity::Error, true, ""),
    };
    let f = Finding::new(
        Code::ServerUnreachable,
        severity,
        Some(c.chaddr),
        Some(first.xid),
    );
    let f = if cause { f.cause(Confidence::High) } else { f };
    let n = same.len();
    Some(
        f.frames(same.iter().map(|r| r.at))
            .summary(format!(
                "{by} answered {} to {to}:67 with ICMP {icmp}",
                if n == 1 {
                    "a DHCP message".to_string()
                } else {
                    format!("{n} DHCP messages")
                }
            ))
            .explanation(format!(
                "{} of this client's DHCP messages to {to}:67 (xid {}) came back quoted in ICMP destination unreachable \
                 ({icmp}) from {by} ({}): {why}. The messages that go to a server's address rather than to everyone \
                 are a relay's forwarded requests and a client's unicast renewals.{outcome_note}{}",
                if n == 1 { "One".to_string() } else { n.to_string() },
                xid(first.xid),
                frame_list(files, same.iter().map(|r| r.at)),
                if others.is_empty() {
                    String::new()
                } else {
                    format!(" Other ICMP errors quote its messages too: from {}.", others.join(", "))
                },
            ))
            .fix(fix)
            .references(&["RFC 792", "RFC 1812 §4.3.2.3", "RFC 2131 §4.4.5"]),
    )
}

/// Why `by` refused a server's reply to UDP `port` at `to` with ICMP
/// `code`, and the fix (`reply-unreachable`).
pub(super) fn reply_refusal(by: Ipv4Addr, to: Ipv4Addr, port: u16, code: u8) -> (String, String) {
    let relay = port == 67;
    match code {
        3 if by == to && relay => (
            format!(
                "nothing listens on UDP 67 at {to}, the relay address (giaddr) of the request: the relay stopped, or it \
                 does not listen on that address"
            ),
            format!(
                "Check the relay at {to}: that it runs, and listens on its client-facing address {to} (dhcrelay's \
                 interfaces; `ip helper-address` on that interface); a server answers a relayed request at its giaddr."
            ),
        ),
        3 if by == to => (
            format!(
                "nothing listens on UDP 68 at {to}: the host there is not a DHCP client waiting for this reply (another \
                 host holds that address, or the client gave up)"
            ),
            format!(
                "If another machine holds {to} (a static address, a stale lease elsewhere), take it out of the pool or \
                 reserve it; a server unicasts its replies to yiaddr or ciaddr unless the client asks for broadcast."
            ),
        ),
        3 => (
            format!("{by} is on the way to {to}: a firewall or router there rejects the reply"),
            format!("Find the rule at {by} that rejects UDP {port} to {to}, and let DHCP replies through."),
        ),
        9 | 10 | 13 => (
            format!("a firewall at {by} rejects the server's replies to {to}"),
            format!("Let UDP {port} to {to} through the firewall at {by}."),
        ),
        0 | 1 | 6 | 7 => (
            format!("{by} cannot reach {to} (no route, or no answer to its ARP)"),
            format!("Check the route from the server to {to} (a relay's giaddr must be routable from the server)."),
        ),
        _ => (
            format!("{by} could not deliver it to {to} (ICMP code {code})"),
            format!("Check the path from the server to {to}."),
        ),
    }
}

/// ICMP destination unreachables of one kind (who, about what, which code)
/// whose quotes stop before `chaddr`: the sender kept only the headers (RFC
/// 792 asks for 8 bytes past the IP header; some routers still keep no
/// more). They name no client, so they make one server-wide finding
/// (`server-unreachable` or `reply-unreachable`, without a client).
#[derive(Debug, Clone)]
pub struct UnnamedRefusals {
    pub reporter: Ipv4Addr,
    pub code: u8,
    /// The quoted datagram is a server's (from UDP 67 to a relay or client);
    /// `None` when the quote stops before `op` and both ports are 67: then
    /// a reply if its sender is a server that replied in the capture
    /// ([`unnamed_refusals`]).
    pub reply: Option<bool>,
    /// The quoted datagram's sender (the host the capture was taken on).
    pub from: Ipv4Addr,
    pub to: Ipv4Addr,
    pub port: u16,
    pub count: u64,
    /// The first eight ICMP errors' frames.
    pub frames: Vec<FrameRef>,
}

/// Kinds of refusals kept (each with its count): the ICMP errors of more
/// are only counted.
pub(super) const UNNAMED_REFUSAL_KINDS: usize = 16;

impl UnnamedRefusals {
    /// Counts the ICMP error quoting `o` (a quote that names no client)
    /// from `reporter` with `code` among `all`; `false` if it is of a kind
    /// past the first [`UNNAMED_REFUSAL_KINDS`] (then only counted apart).
    pub fn note(all: &mut Vec<UnnamedRefusals>, o: &Obs, reporter: Ipv4Addr, code: u8) -> bool {
        let reply = (!o.op_unknown()).then(|| !o.from_client());
        let key = (reporter, code, reply, o.src_ip, o.dst_ip, o.dst_port);
        let at = match all
            .iter()
            .position(|r| (r.reporter, r.code, r.reply, r.from, r.to, r.port) == key)
        {
            Some(i) => i,
            None if all.len() < UNNAMED_REFUSAL_KINDS => {
                all.push(UnnamedRefusals {
                    reporter,
                    code,
                    reply,
                    from: o.src_ip,
                    to: o.dst_ip,
                    port: o.dst_port,
                    count: 0,
                    frames: Vec::new(),
                });
                all.len() - 1
            }
            None => return false,
        };
        let r = &mut all[at];
        r.count += 1;
        if r.frames.len() < 8 {
            r.frames.push(o.at);
        }
        true
    }

    /// What [`unnamed_refusals`] makes one finding of: the reporter, the
    /// ICMP code, whether the quoted datagram is a reply (guessed from its
    /// sender with `is_server` when the quote stops before `op`), and its
    /// destination.
    pub fn finding_key(
        &self,
        is_server: impl Fn(Ipv4Addr) -> bool,
    ) -> (Ipv4Addr, u8, bool, Ipv4Addr, u16) {
        let reply = self.reply.unwrap_or_else(|| is_server(self.from));
        (self.reporter, self.code, reply, self.to, self.port)
    }
}

/// The server-wide findings of ICMP errors whose quotes name no client: one
/// warning per reporter, code, direction and destination (which clients it
/// cost is not known), with the errors as evidence. A quote that stops
/// before `op` between two ports 67 is taken for a reply when its sender
/// answered clients in the capture (`is_server`), else for a relay's
/// request, and then counts with the others of that direction. `dropped`
/// errors of further kinds are said in the last finding.
pub fn unnamed_refusals(
    all: &[UnnamedRefusals],
    dropped: u64,
    files: &[String],
    is_server: impl Fn(Ipv4Addr) -> bool,
) -> Vec<Finding> {
    /// The errors of one (reporter, code, reply, to, port), and those of
    /// them whose direction was guessed, with their sender.
    struct Group {
        key: (Ipv4Addr, u8, bool, Ipv4Addr, u16),
        count: u64,
        frames: Vec<FrameRef>,
        guessed: Option<(u64, Ipv4Addr)>,
    }
    let mut groups: Vec<Group> = Vec::new();
    for r in all {
        let key = r.finding_key(&is_server);
        let i = match groups.iter().position(|g| g.key == key) {
            Some(i) => i,
            None => {
                groups.push(Group {
                    key,
                    count: 0,
                    frames: Vec::new(),
                    guessed: None,
                });
                groups.len() - 1
            }
        };
        let g = &mut groups[i];
        g.count += r.count;
        g.frames.extend(&r.frames);
        if r.reply.is_none() {
            let (n, _) = g.guessed.get_or_insert((0, r.from));
            *n += r.count;
        }
    }
    let mut out: Vec<Finding> = groups
        .into_iter()
        .map(|g| {
            let ((by, icmp_code, reply, to, port), n, mut frames, guessed) =
                (g.key, g.count, g.frames, g.guessed);
            frames.sort_unstable();
            frames.truncate(8);
            let icmp = icmp_words(icmp_code);
            let (code, one, many, (why, fix)) = if reply {
                (
                    Code::ReplyUnreachable,
                    "a server's reply",
                    "server replies",
                    reply_refusal(by, to, port, icmp_code),
                )
            } else {
                (
                    Code::ServerUnreachable,
                    "a DHCP message",
                    "DHCP messages",
                    server_refusal(by, to, icmp_code),
                )
            };
            let what = if n == 1 {
                one.to_string()
            } else {
                format!("{n} {many}")
            };
            let guess = match guessed {
                None => String::new(),
                Some((k, from)) if reply => format!(
                    " ({k} of them quote even less, not `op`: taken for replies because their sender, {from}, \
                     answered clients in this capture.)"
                ),
                Some((k, _)) => format!(
                    " ({k} of them quote even less, not `op`: taken for a relay's requests because their sender \
                     sent no DHCP reply in this capture.)"
                ),
            };
            Finding::new(code, Severity::Warning, None, None)
                .frames(frames.iter().copied())
                .summary(format!(
                    "{by} answered {what} to {to}:{port} with ICMP {icmp} (quoting only the headers: no client named)"
                ))
                .explanation(format!(
                    "ICMP destination unreachable ({icmp}) from {by} ({}) quoted {what} to {to}:{port}: {why}. Its \
                     quotes stop before the client's hardware address (RFC 792 asks for only 8 bytes past the IP \
                     header), so which clients it cost cannot be told from them; clients whose messages went that \
                     way got no answer by it.{guess}",
                    frame_list(files, frames.iter().copied()),
                ))
                .fix(fix)
                .references(&["RFC 792", "RFC 1812 §4.3.2.3"])
        })
        .collect();
    if let Some(last) = out.last_mut().filter(|_| dropped > 0) {
        last.explanation.push_str(&format!(
            " {dropped} more such ICMP error(s), from other reporters or to other destinations, are not listed (the \
             first {UNNAMED_REFUSAL_KINDS} kinds are)."
        ));
    }
    out
}

/// `reply-unreachable`: a server's replies for this client came back as
/// ICMP destination unreachable: sent to a relay's giaddr where no relay
/// listens, or unicast to an address where no DHCP client waits (another
/// host holds it).
pub fn reply_unreachable(
    c: &Client,
    outcome: Option<Outcome>,
    files: &[String],
) -> Option<Finding> {
    let same = refusal_group(c, |r| r.reply)?;
    let first = same[0];
    let (by, to, port, code) = (first.reporter, first.to, first.port, first.code);
    let icmp = icmp_words(code);
    let (why, fix) = reply_refusal(by, to, port, code);
    let failed = outcome.is_some_and(Outcome::is_failure);
    let severity = if failed {
        Severity::Error
    } else {
        Severity::Warning
    };
    let f = Finding::new(
        Code::ReplyUnreachable,
        severity,
        Some(c.chaddr),
        Some(first.xid),
    );
    let f = if failed { f.cause(Confidence::High) } else { f };
    let n = same.len();
    Some(
        f.frames(same.iter().map(|r| r.at))
            .summary(format!(
                "{by} answered {} to {to}:{port} with ICMP {icmp}",
                if n == 1 {
                    "a server's reply".to_string()
                } else {
                    format!("{n} server replies")
                }
            ))
            .explanation(format!(
                "{} for this client (xid {}) to {to}:{port} came back quoted in ICMP destination unreachable ({icmp}) \
                 from {by} ({}): {why}.{}",
                if n == 1 { "A server's reply".to_string() } else { format!("{n} server replies") },
                xid(first.xid),
                frame_list(files, same.iter().map(|r| r.at)),
                if failed {
                    " The client never got them."
                } else {
                    ""
                },
            ))
            .fix(fix)
            .references(&["RFC 792", "RFC 2131 §4.1"]),
    )
}

/// Message names counted in order of first appearance: `3 OFFERs and ACK`.
pub(super) fn counted(names: impl Iterator<Item = String>) -> String {
    let mut seen: Vec<(String, usize)> = Vec::new();
    for n in names {
        match seen.iter_mut().find(|(m, _)| *m == n) {
            Some((_, k)) => *k += 1,
            None => seen.push((n, 1)),
        }
    }
    let parts: Vec<String> = seen
        .into_iter()
        .map(|(n, k)| if k == 1 { n } else { format!("{k} {n}s") })
        .collect();
    parts.join(" and ")
}
