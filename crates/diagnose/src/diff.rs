//! Comparing two requests field by field and option by option, ranked by how
//! likely DHCP servers are to react to each difference.
//!
//! Each [`Difference`] can be applied to a message (copying the field or option
//! from the other side), which is what `bisect` does to find the one that
//! flips a server from silent to answering.

use std::borrow::Cow;

use serde::Serialize;
use wire::dhcp::{self, code, value, Message, RawOption, Region};

/// What differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case", tag = "type", content = "name")]
pub enum Target {
    Op,
    Htype,
    Hlen,
    Hops,
    Secs,
    Flags,
    Ciaddr,
    Yiaddr,
    Siaddr,
    Giaddr,
    Chaddr,
    Sname,
    File,
    Cookie,
    /// One option: present on one side only, or with another value.
    Option(u8),
    /// The options are the same but in another order.
    OptionOrder,
    /// The options field's END: present on one side only. (Compared for
    /// messages as captured, [`captured`]; [`requests`] leaves it out.)
    End,
    /// The message's length on the wire. (Compared for messages as
    /// captured, [`captured`]; [`requests`] leaves it out.)
    Length,
}

/// One difference between a left and a right request.
#[derive(Debug, Clone, Serialize)]
pub struct Difference {
    pub target: Target,
    /// `secs`, `option 60 (vendor-class-identifier)`, …
    pub field: String,
    /// The value on each side (`absent` when missing).
    pub left: String,
    pub right: String,
    /// 0-100: how likely a server is to answer differently because of it.
    pub weight: u8,
    /// Why servers care.
    pub why: &'static str,
}

/// How likely a server is to answer a request differently because of `t`.
fn weight(t: Target) -> (u8, &'static str) {
    match t {
        Target::Option(code::DHCP_MESSAGE_TYPE) => (100, "servers act on the message type first"),
        Target::Secs => (
            90,
            "ISC dhcpd min-secs, failover load balancing and Kea HA wait for secs to grow",
        ),
        Target::Giaddr => (
            85,
            "the server picks the subnet from giaddr; no match, no answer",
        ),
        Target::Chaddr => (80, "host reservations and deny rules match on the MAC"),
        Target::Option(code::CLIENT_IDENTIFIER) => (
            80,
            "leases and reservations are keyed on the client identifier when present",
        ),
        Target::Option(code::RELAY_AGENT_INFORMATION) => (
            80,
            "classes, subnet selection and host matching use relay agent information",
        ),
        Target::Option(code::VENDOR_CLASS_IDENTIFIER) => {
            (75, "client classes (PXE, vendor) match on the vendor class")
        }
        Target::Option(code::USER_CLASS) => {
            (70, "user class selects classes and boot files (iPXE)")
        }
        Target::Option(code::CLIENT_SYSTEM_ARCHITECTURE) => {
            (70, "the boot file is chosen by client architecture")
        }
        Target::Option(code::SUBNET_SELECTION) => {
            (70, "option 118 overrides the subnet the server selects")
        }
        Target::Option(code::REQUESTED_IP_ADDRESS) => (
            65,
            "the server checks the requested address against its subnet and leases",
        ),
        Target::Option(code::SERVER_IDENTIFIER) => {
            (65, "a REQUEST naming another server is ignored")
        }
        Target::Ciaddr => (60, "ciaddr marks renewing and rebinding requests"),
        Target::Flags => (55, "the broadcast flag decides how the reply is delivered"),
        Target::Htype | Target::Hlen => (
            50,
            "the hardware type and length shape the client's identity",
        ),
        Target::Op | Target::Cookie => (95, "a wrong op or magic cookie makes the packet invalid"),
        Target::Option(code::PARAMETER_REQUEST_LIST) => {
            (40, "the reply's options follow the parameter request list")
        }
        Target::Option(code::MAX_DHCP_MESSAGE_SIZE) => (35, "the maximum size limits the reply"),
        Target::Option(code::HOST_NAME | code::CLIENT_FQDN) => (
            30,
            "host names feed DNS updates; malformed ones make Kea drop the packet",
        ),
        Target::Hops => (30, "relays and servers limit hops"),
        Target::Option(code::RAPID_COMMIT) => {
            (30, "rapid commit lets the server ACK a DISCOVER directly")
        }
        Target::Option(_) => (25, "servers may match classes or hosts on any option"),
        Target::Sname | Target::File => (20, "sname and file are rarely looked at in requests"),
        Target::Yiaddr | Target::Siaddr => (10, "servers ignore these in requests"),
        Target::OptionOrder => (10, "option order should not matter, but some parsers care"),
        Target::End | Target::Length => wire_weight(t),
    }
}

/// How likely a client (or the relay on its way) is to treat a reply
/// differently because of `t`.
fn reply_weight(t: Target) -> (u8, &'static str) {
    match t {
        Target::Option(code::DHCP_MESSAGE_TYPE) => (100, "clients act on the message type first"),
        Target::Op | Target::Cookie => (95, "a wrong op or magic cookie makes the packet invalid"),
        Target::Chaddr => (80, "a client takes only replies to its own MAC"),
        Target::Yiaddr => (
            70,
            "the address offered or acknowledged; clients may probe it and DECLINE it",
        ),
        Target::Option(code::SERVER_IDENTIFIER) => (
            70,
            "clients REQUEST from the server named here; a reply without it is invalid",
        ),
        Target::Giaddr => (
            65,
            "a relay forwards only replies for its own giaddr to the client",
        ),
        Target::Option(code::RELAY_AGENT_INFORMATION) => (
            60,
            "relays strip option 82 from replies and may drop those that carry another",
        ),
        Target::Option(code::CLIENT_IDENTIFIER) => (
            60,
            "clients may drop a reply whose client identifier is not theirs (RFC 6842)",
        ),
        Target::Flags => (55, "the broadcast flag decides how the reply is delivered"),
        Target::Option(code::IP_ADDRESS_LEASE_TIME) => (
            50,
            "clients need a lease time; without one some refuse the reply",
        ),
        Target::Option(
            code::SUBNET_MASK | code::ROUTER | code::DOMAIN_NAME_SERVER | code::DOMAIN_NAME,
        ) => (50, "the client configures its network from this option"),
        Target::Htype | Target::Hlen => (
            50,
            "the hardware type and length shape the client's identity",
        ),
        Target::Siaddr | Target::Sname | Target::File => (
            45,
            "network-booting clients fetch their boot file from the next server and file named here",
        ),
        Target::Option(code::VENDOR_SPECIFIC | code::TFTP_SERVER_NAME | code::BOOTFILE_NAME) => {
            (45, "network-booting clients take their boot parameters from this option")
        }
        Target::Ciaddr => (30, "the client's ciaddr echoed; clients rarely check it"),
        Target::Option(_) => (25, "clients may use or ignore any option of a reply"),
        Target::Hops => (20, "relays limit hops"),
        Target::Secs => (10, "servers send secs 0; clients ignore it in replies"),
        Target::OptionOrder => (10, "option order should not matter, but some parsers care"),
        Target::End | Target::Length => wire_weight(t),
    }
}

/// The weight of a message's END and length, whoever sent it.
fn wire_weight(t: Target) -> (u8, &'static str) {
    match t {
        Target::End => (
            60,
            "the options must end with END (RFC 2131 §4.1); some parsers drop a message without it",
        ),
        _ => (5, "this length follows the options and padding; receivers accept any from 300 to 576 bytes"),
    }
}

/// A length difference that crosses the 300-byte BOOTP minimum or the
/// 576 bytes every receiver must take.
/// The rank of two lengths on the wire, when only one of them is under the
/// BOOTP minimum or over what every receiver takes; `None` otherwise (the
/// options' own differences, or padding, account for it).
fn length_weight(l: usize, r: usize) -> Option<(u8, &'static str)> {
    let crosses = |limit_below: fn(usize) -> bool| limit_below(l) != limit_below(r);
    if crosses(|n| n < dhcp::BOOTP_MIN_LEN) {
        Some((
            60,
            "some relays, servers and clients discard messages under the 300-byte BOOTP minimum (RFC 1542 §2.1)",
        ))
    } else if crosses(|n| n > 576) {
        Some((
            40,
            "receivers need only take 576 bytes (RFC 2131 §2); longer messages can be dropped or fragmented",
        ))
    } else {
        None
    }
}

fn field_name(t: Target) -> String {
    match t {
        Target::Option(c) => format!("option {c} ({})", dhcp::name(c)),
        Target::OptionOrder => "option order".into(),
        Target::End => "END option".into(),
        Target::Length => "message length".into(),
        other => format!("{other:?}").to_lowercase(),
    }
}

/// How a side without an option shows it.
const ABSENT: &str = "absent";

/// Option `c` of `m` as shown: decoded (with `m`'s own context, e.g. its
/// option 60 for option 43), or in hex when `hex`.
fn option_text(m: &Message<'_>, c: u8, hex: bool) -> String {
    match m.option(c) {
        None => ABSENT.into(),
        Some(d) if hex => format!("0x{} ({} bytes)", value::hex(&d), d.len()),
        Some(d) => {
            let len = d.len();
            format!("{} ({len} bytes)", value::decode(c, d, &m.decode_context()))
        }
    }
}

fn text(b: &[u8]) -> String {
    format!("\"{}\"", value::escape(b))
}

/// `sname` or `file` as text, unless option 52 gives it to options: then
/// it holds the options compared one by one (and on the wire, their TLVs
/// and zeros, whatever bytes it held when read).
fn field_text(m: &Message<'_>, region: Region) -> String {
    if m.overloads(region) {
        return "(holds options)".into();
    }
    text(match region {
        Region::Sname => &m.sname,
        _ => &m.file,
    })
}

/// Whether `left` and `right` are both replies: their differences are then
/// ranked by how clients (and relays) take them, not servers.
fn both_replies(left: &Message<'_>, right: &Message<'_>) -> bool {
    left.op == dhcp::Op::BootReply && right.op == dhcp::Op::BootReply
}

/// The weight of `t` between `left` and `right`.
fn weight_between(t: Target, left: &Message<'_>, right: &Message<'_>) -> (u8, &'static str) {
    if both_replies(left, right) {
        reply_weight(t)
    } else {
        weight(t)
    }
}

/// The differences between two requests (or two replies), most likely to
/// matter first. The xid is not compared (it always differs).
pub fn requests(left: &Message<'_>, right: &Message<'_>) -> Vec<Difference> {
    let mut out = Vec::new();
    let mut add = |target: Target, l: String, r: String| {
        if l != r {
            let (weight, why) = weight_between(target, left, right);
            out.push(Difference {
                target,
                field: field_name(target),
                left: l,
                right: r,
                weight,
                why,
            });
        }
    };
    add(
        Target::Op,
        format!("{:?}", left.op),
        format!("{:?}", right.op),
    );
    add(
        Target::Htype,
        left.htype.to_string(),
        right.htype.to_string(),
    );
    add(Target::Hlen, left.hlen.to_string(), right.hlen.to_string());
    add(Target::Hops, left.hops.to_string(), right.hops.to_string());
    add(Target::Secs, left.secs.to_string(), right.secs.to_string());
    add(
        Target::Flags,
        format!("0x{:04x}", left.flags),
        format!("0x{:04x}", right.flags),
    );
    add(
        Target::Ciaddr,
        left.ciaddr.to_string(),
        right.ciaddr.to_string(),
    );
    add(
        Target::Yiaddr,
        left.yiaddr.to_string(),
        right.yiaddr.to_string(),
    );
    add(
        Target::Siaddr,
        left.siaddr.to_string(),
        right.siaddr.to_string(),
    );
    add(
        Target::Giaddr,
        left.giaddr.to_string(),
        right.giaddr.to_string(),
    );
    add(
        Target::Chaddr,
        left.chaddr().to_string(),
        right.chaddr().to_string(),
    );
    add(
        Target::Sname,
        field_text(left, Region::Sname),
        field_text(right, Region::Sname),
    );
    add(
        Target::File,
        field_text(left, Region::File),
        field_text(right, Region::File),
    );
    add(
        Target::Cookie,
        format!("{:02x?}", left.cookie),
        format!("{:02x?}", right.cookie),
    );
    let codes = |m: &Message<'_>| -> Vec<u8> {
        let mut v: Vec<u8> = Vec::new();
        for o in m.options.iter().filter(|o| !o.is_marker()) {
            if !v.contains(&o.code) {
                v.push(o.code);
            }
        }
        v
    };
    let (lc, rc) = (codes(left), codes(right));
    let mut all = lc.clone();
    all.extend(rc.iter().filter(|c| !lc.contains(c)));
    for &c in &all {
        // The bytes are compared: the decoded texts can differ for the same
        // bytes (option 43 is read in the context of each side's option 60)
        // and be the same for other bytes.
        let (lv, rv) = (left.option(c), right.option(c));
        if lv != rv {
            let (mut l, mut r) = (option_text(left, c, false), option_text(right, c, false));
            if l == r {
                (l, r) = (option_text(left, c, true), option_text(right, c, true));
            }
            // (Other bytes give other hex.)
            add(Target::Option(c), l, r);
        }
    }
    let (lf, rf) = (field_codes(left), field_codes(right));
    let common_l: Vec<u8> = lf.iter().copied().filter(|c| rf.contains(c)).collect();
    let common_r: Vec<u8> = rf.iter().copied().filter(|c| lf.contains(c)).collect();
    let order = |v: &[u8]| v.iter().map(u8::to_string).collect::<Vec<_>>().join(",");
    add(Target::OptionOrder, order(&common_l), order(&common_r));
    out.sort_by_key(|d| std::cmp::Reverse(d.weight));
    out
}

/// [`requests`] of two messages of which either may have been cut by its
/// capture (its snap length, or a file cut short; `cut` says which): an
/// option missing from a cut side may lie past the cut, so it is no known
/// difference and is left out. (A cut message holds the options wholly
/// before the cut, and none after.)
pub fn requests_cut(left: &Message<'_>, right: &Message<'_>, cut: [bool; 2]) -> Vec<Difference> {
    // What a cut side lacks: an option, or the magic cookie itself.
    let missing = |side: &str, m: &Message<'_>, target: Target| match target {
        Target::Option(_) => side == ABSENT,
        Target::Cookie => m.cookie.is_none(),
        _ => false,
    };
    let mut d = requests(left, right);
    d.retain(|d| {
        !((cut[0] && missing(&d.left, left, d.target))
            || (cut[1] && missing(&d.right, right, d.target)))
    });
    d
}

/// What a capture shows of a message beyond its parts, for [`captured`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wire {
    /// Its length as sent, in bytes (of a cut message too, from its UDP
    /// header).
    pub len: usize,
    /// Whether the capture cut it (see [`requests_cut`]).
    pub cut: bool,
}

/// Whether the options field of `m` ends with END.
fn ends(m: &Message<'_>) -> bool {
    m.options
        .iter()
        .any(|o| o.code == code::END && o.region == Region::Options)
}

/// [`requests_cut`] of two messages as captured, and what only the wire
/// shows: their lengths (a message under the 300-byte BOOTP minimum is
/// discarded by some relays, servers and clients, RFC 1542 §2.1, while
/// [`requests`] compares it as it would be sent, padded) and whether their
/// options end with END (unknown on a cut side, or with no magic cookie).
pub fn captured(left: &Message<'_>, right: &Message<'_>, wire: [Wire; 2]) -> Vec<Difference> {
    let mut d = requests_cut(left, right, [wire[0].cut, wire[1].cut]);
    let both = |f: &dyn Fn(&Message<'_>, Wire) -> bool| f(left, wire[0]) && f(right, wire[1]);
    if both(&|m, w| !w.cut && m.cookie == Some(dhcp::MAGIC_COOKIE)) && ends(left) != ends(right) {
        let (weight, why) = wire_weight(Target::End);
        let shown = |m: &Message<'_>| if ends(m) { "present" } else { "missing" };
        d.push(Difference {
            target: Target::End,
            field: field_name(Target::End),
            left: shown(left).into(),
            right: shown(right).into(),
            weight,
            why,
        });
    }
    let (l, r) = (wire[0].len, wire[1].len);
    if let Some((weight, why)) = length_weight(l, r) {
        d.push(Difference {
            target: Target::Length,
            field: field_name(Target::Length),
            left: format!("{l} bytes"),
            right: format!("{r} bytes"),
            weight,
            why,
        });
    }
    d.sort_by_key(|d| std::cmp::Reverse(d.weight));
    d
}

impl Difference {
    /// Makes `m` like `from` in this one respect, then makes `m` what it
    /// is on the wire (encoded and read back): a message that overloads
    /// options into `file` or `sname`, or stops doing so, reads back other
    /// than its parts say (options left in a field that no longer holds
    /// options are its bytes), and what bisect reports must be what it sent.
    /// It is encoded as senders send it, padded to the BOOTP minimum: the
    /// padding can complete an option that ran past the end.
    pub fn apply(&self, m: &mut Message<'static>, from: &Message<'_>) {
        self.change(m, from);
        if m.cookie.is_some() {
            let bytes = m.encode(dhcp::BOOTP_MIN_LEN);
            if let Some(read) = Message::parse_lenient(&bytes).message {
                *m = read.into_owned();
            }
        }
    }

    fn change(&self, m: &mut Message<'static>, from: &Message<'_>) {
        match self.target {
            Target::Op => m.op = from.op,
            Target::Htype => m.htype = from.htype,
            Target::Hlen => m.hlen = from.hlen,
            Target::Hops => m.hops = from.hops,
            Target::Secs => m.secs = from.secs,
            Target::Flags => m.flags = from.flags,
            Target::Ciaddr => m.ciaddr = from.ciaddr,
            Target::Yiaddr => m.yiaddr = from.yiaddr,
            Target::Siaddr => m.siaddr = from.siaddr,
            Target::Giaddr => m.giaddr = from.giaddr,
            Target::Chaddr => {
                m.chaddr_field = from.chaddr_field;
                m.hlen = from.hlen;
            }
            Target::Sname => m.sname = Cow::Owned(from.sname.to_vec()),
            Target::File => m.file = Cow::Owned(from.file.to_vec()),
            Target::Cookie => m.cookie = from.cookie,
            // After the options field's last TLV; or none.
            Target::End => {
                m.options
                    .retain(|o| !(o.code == code::END && o.region == Region::Options));
                if ends(from) {
                    let at = m
                        .options
                        .iter()
                        .rposition(|o| o.region == Region::Options)
                        .map_or(0, |i| i + 1);
                    m.options.insert(at, RawOption::new(code::END, Vec::new()));
                }
            }
            // Every message is sent as encoded, padded to the BOOTP minimum:
            // its length follows from its parts.
            Target::Length => {}
            Target::Option(c) => match from.option(c) {
                // In the options field already: the value changes in place.
                Some(v) if has_in_options_field(m, c) => m.set_option(c, v.into_owned()),
                // Absent, or only overloaded into `file` or `sname`.
                Some(v) => {
                    m.remove_option(c);
                    insert_in_order(m, from, c, v.into_owned());
                }
                None => {
                    m.remove_option(c);
                }
            },
            Target::OptionOrder => {
                // The options field's TLVs of the codes both sides have
                // trade places, into `from`'s order; every other TLV (PAD,
                // END, options only `m` has, overloaded ones) and every
                // value stay as they are.
                let order = field_codes(from);
                let rank = |o: &RawOption<'_>| order.iter().position(|&c| c == o.code);
                let slots: Vec<usize> = (0..m.options.len())
                    .filter(|&i| {
                        let o = &m.options[i];
                        o.region == Region::Options && !o.is_marker() && rank(o).is_some()
                    })
                    .collect();
                let mut moved: Vec<RawOption<'static>> =
                    slots.iter().map(|&i| m.options[i].clone()).collect();
                moved.sort_by_key(|o| rank(o));
                for (&i, o) in slots.iter().zip(moved) {
                    m.options[i] = o;
                }
            }
        }
    }
}

/// The codes in the options field, in order of first appearance: the order
/// that matters (options overloaded into `file` and `sname` come after the
/// field whatever their codes, RFC 2131 §4.1, and those fields are compared
/// whole).
fn field_codes(m: &Message<'_>) -> Vec<u8> {
    let mut v: Vec<u8> = Vec::new();
    for o in m.options.iter().filter(|o| !o.is_marker()) {
        if o.region == Region::Options && !v.contains(&o.code) {
            v.push(o.code);
        }
    }
    v
}

fn has_in_options_field(m: &Message<'_>, c: u8) -> bool {
    m.options
        .iter()
        .any(|o| o.code == c && o.region == Region::Options)
}

/// Adds option `c`, which `m` lacks, where `from` has it: after (the first
/// TLV of) the last option that comes before it in `from` and that `m`
/// has, else before `m`'s first option. Options added one difference at a
/// time, in any order, so end up in `from`'s order (appended, they would
/// leave an option order difference that was not there before).
fn insert_in_order(m: &mut Message<'static>, from: &Message<'_>, c: u8, v: Vec<u8>) {
    // Codes in order of first appearance, as `requests` orders them (an
    // option split into several TLVs, RFC 3396, is placed by its first).
    let mut earlier: Vec<u8> = Vec::new();
    for o in from.options.iter().filter(|o| !o.is_marker()) {
        if o.code == c {
            break;
        }
        if !earlier.contains(&o.code) {
            earlier.push(o.code);
        }
    }
    let in_options = |o: &RawOption<'_>| o.region == Region::Options;
    let after = earlier.iter().rev().find_map(|&p| {
        m.options
            .iter()
            .position(|o| o.code == p && in_options(o))
            .map(|i| i + 1)
    });
    let at = after.unwrap_or_else(|| {
        m.options
            .iter()
            .position(|o| in_options(o) && (!o.is_marker() || o.code == code::END))
            .unwrap_or(m.options.len())
    });
    m.options.insert(at, RawOption::new(c, v));
}

#[cfg(test)]
mod tests {
    use super::*;
    use wire::dhcp::{MessageType, Op};

    fn discover(secs: u16) -> Message<'static> {
        let mut m = Message::new(Op::BootRequest, 1, &[2, 0, 0, 0, 0, 1]);
        m.secs = secs;
        m.set_option(
            code::DHCP_MESSAGE_TYPE,
            vec![u8::from(MessageType::Discover)],
        );
        m.set_option(code::PARAMETER_REQUEST_LIST, vec![1, 3, 6]);
        m
    }

    #[test]
    fn secs_ranks_above_the_parameter_list() {
        let a = discover(0);
        let mut b = discover(21);
        b.xid = 99;
        b.set_option(code::PARAMETER_REQUEST_LIST, vec![1, 3, 6, 15]);
        b.set_option(code::HOST_NAME, b"laptop".to_vec());
        let d = requests(&a, &b);
        let fields: Vec<&str> = d.iter().map(|d| d.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "secs",
                "option 55 (parameter-request-list)",
                "option 12 (host-name)"
            ]
        );
        assert_eq!((d[0].left.as_str(), d[0].right.as_str()), ("0", "21"));
        assert_eq!(d[2].left, "absent");
    }

    #[test]
    fn identical_requests_have_no_differences_and_order_is_noticed() {
        assert!(requests(&discover(3), &discover(3)).is_empty());
        let a = discover(0);
        let mut b = Message::new(Op::BootRequest, 1, &[2, 0, 0, 0, 0, 1]);
        b.set_option(code::PARAMETER_REQUEST_LIST, vec![1, 3, 6]);
        b.set_option(code::DHCP_MESSAGE_TYPE, vec![1]);
        let d = requests(&a, &b);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].target, Target::OptionOrder);
    }

    /// Options the right side adds come out in its order, whichever order
    /// their differences are applied in (by weight): appended, they used to
    /// leave an option order difference behind (found by fuzzing).
    #[test]
    fn added_options_take_the_other_sides_order() {
        for order in [
            [code::HOST_NAME, code::MAX_DHCP_MESSAGE_SIZE],
            [code::MAX_DHCP_MESSAGE_SIZE, code::HOST_NAME],
        ] {
            let mut a = discover(0);
            a.remove_option(code::PARAMETER_REQUEST_LIST);
            let mut b = Message::new(Op::BootRequest, 1, &[2, 0, 0, 0, 0, 1]);
            b.set_option(order[0], vec![5, 192]);
            b.set_option(code::DHCP_MESSAGE_TYPE, vec![1]);
            b.set_option(order[1], vec![2, 64]);
            b.set_option(code::PARAMETER_REQUEST_LIST, vec![1, 3]);
            let found = requests(&a, &b);
            assert!(found.iter().all(|d| d.target != Target::OptionOrder));
            for d in &found {
                d.apply(&mut a, &b);
            }
            assert!(requests(&a, &b).is_empty(), "{:?}", requests(&a, &b));
        }
    }

    /// An option the left side carries only overloaded into `file` moves
    /// into the options field, in the right side's order, when the right
    /// side's value is applied (found by fuzzing).
    #[test]
    fn an_overloaded_option_moves_into_place() {
        let mut a = discover(0);
        a.remove_option(code::PARAMETER_REQUEST_LIST);
        a.set_option(code::OPTION_OVERLOAD, vec![1]);
        a.options.push(wire::dhcp::RawOption {
            region: Region::File,
            ..wire::dhcp::RawOption::new(code::ROUTER, vec![10, 0, 0, 1])
        });
        let mut b = discover(0);
        b.remove_option(code::PARAMETER_REQUEST_LIST);
        b.set_option(code::ROUTER, vec![10, 0, 0, 2]);
        b.set_option(code::HOST_NAME, b"pc".to_vec());
        let found = requests(&a, &b);
        for d in &found {
            d.apply(&mut a, &b);
        }
        assert!(requests(&a, &b).is_empty(), "{:?}", requests(&a, &b));
        let codes: Vec<u8> = a.options.iter().map(|o| o.code).collect();
        let want: Vec<u8> = b.options.iter().map(|o| o.code).collect();
        assert_eq!(codes, want);
    }

    /// An option split into two TLVs (RFC 3396) on the right side is placed
    /// by its first; options after its second still follow the one between
    /// (found by fuzzing).
    #[test]
    fn a_split_option_is_placed_by_its_first_part() {
        let mut a = discover(0);
        a.remove_option(code::PARAMETER_REQUEST_LIST);
        let mut b = discover(0);
        b.remove_option(code::PARAMETER_REQUEST_LIST);
        for (c, v) in [
            (code::HOST_NAME, &b"lap"[..]),
            (code::ROUTER, &[10, 0, 0, 1][..]),
            (code::HOST_NAME, &b"top"[..]),
            (code::DOMAIN_NAME, &b"example"[..]),
        ] {
            // Before END.
            let end = b.options.len() - 1;
            b.options
                .insert(end, wire::dhcp::RawOption::new(c, v.to_vec()));
        }
        for d in &requests(&a, &b) {
            d.apply(&mut a, &b);
        }
        assert!(requests(&a, &b).is_empty(), "{:?}", requests(&a, &b));

        // And on the left: an option added after a split one goes after
        // its first part, where the order of first parts puts it.
        let mut a = discover(0);
        a.remove_option(code::PARAMETER_REQUEST_LIST);
        for (c, v) in [
            (code::HOST_NAME, &b"lap"[..]),
            (code::ROUTER, &[10, 0, 0, 1][..]),
            (code::HOST_NAME, &b"top"[..]),
        ] {
            let end = a.options.len() - 1;
            a.options
                .insert(end, wire::dhcp::RawOption::new(c, v.to_vec()));
        }
        let mut b = discover(0);
        b.remove_option(code::PARAMETER_REQUEST_LIST);
        b.set_option(code::HOST_NAME, b"laptop".to_vec());
        b.set_option(code::DOMAIN_NAME, b"example".to_vec());
        b.set_option(code::ROUTER, vec![10, 0, 0, 1]);
        for d in &requests(&a, &b) {
            d.apply(&mut a, &b);
        }
        assert!(requests(&a, &b).is_empty(), "{:?}", requests(&a, &b));
    }

    /// Putting the options field in the other side's order moves TLVs and
    /// nothing else: an option taken from the other side's overloaded
    /// `file` stays (it used to be dropped with the whole list replaced).
    #[test]
    fn option_order_moves_options_and_drops_none() {
        let mut a = discover(0);
        a.set_option(code::HOST_NAME, b"pc".to_vec());
        let mut b = Message::new(Op::BootRequest, 1, &[2, 0, 0, 0, 0, 1]);
        b.set_option(code::HOST_NAME, b"pc".to_vec());
        b.set_option(code::PARAMETER_REQUEST_LIST, vec![1, 3, 6]);
        b.set_option(code::DHCP_MESSAGE_TYPE, vec![1]);
        b.set_option(code::OPTION_OVERLOAD, vec![1]);
        b.options.push(wire::dhcp::RawOption {
            region: Region::File,
            ..wire::dhcp::RawOption::new(code::ROUTER, vec![10, 0, 0, 1])
        });
        let found = requests(&a, &b);
        assert!(found.iter().any(|d| d.target == Target::OptionOrder));
        for d in &found {
            d.apply(&mut a, &b);
        }
        assert!(requests(&a, &b).is_empty(), "{:?}", requests(&a, &b));
        // Applied alone: only the order of the options both sides have
        // (60, which only `c` has, keeps its place), and no value.
        let mut c = Message::new(Op::BootRequest, 1, &[2, 0, 0, 0, 0, 1]);
        c.set_option(code::DHCP_MESSAGE_TYPE, vec![1]);
        c.set_option(code::VENDOR_CLASS_IDENTIFIER, b"PXEClient".to_vec());
        c.set_option(code::PARAMETER_REQUEST_LIST, vec![1, 3, 6]);
        c.set_option(code::HOST_NAME, b"other".to_vec());
        let order = requests(&c, &b)
            .into_iter()
            .find(|d| d.target == Target::OptionOrder)
            .unwrap();
        order.apply(&mut c, &b);
        let codes: Vec<u8> = c.options.iter().map(|o| o.code).collect();
        assert_eq!(codes, [12, 60, 55, 53, code::END]);
        assert_eq!(c.option(code::HOST_NAME).as_deref(), Some(&b"other"[..]));
    }

    /// A difference applied alone gives the message that goes on the wire:
    /// without option 52, a router left in `file` is bytes of `file`, not
    /// an option (bisect used to report a request it did not send).
    #[test]
    fn a_difference_applied_alone_is_what_goes_on_the_wire() {
        let mut a = discover(0);
        a.set_option(code::OPTION_OVERLOAD, vec![1]);
        a.options.push(wire::dhcp::RawOption {
            region: Region::File,
            ..wire::dhcp::RawOption::new(code::ROUTER, vec![10, 0, 0, 1])
        });
        let b = discover(0);
        let d = requests(&a, &b)
            .into_iter()
            .find(|d| d.target == Target::Option(code::OPTION_OVERLOAD))
            .unwrap();
        let mut m = a.clone();
        d.apply(&mut m, &b);
        assert_eq!(m.option(code::ROUTER), None);
        assert_eq!(m.file[..6], [3, 4, 10, 0, 0, 1]);
        let bytes = m.encode(300);
        let sent = Message::parse_lenient(&bytes).message.unwrap();
        assert!(requests(&sent, &m).is_empty(), "{:?}", requests(&sent, &m));
    }

    /// A request read with a bad cookie keeps its options as trailer bytes.
    /// Given the good cookie, they are options again, and one whose length
    /// runs past the end is completed by the padding that goes on the wire:
    /// what apply reports must have it too.
    #[test]
    fn a_difference_is_read_back_as_padded_on_the_wire() {
        let mut a = discover(0);
        a.options.clear();
        a.cookie = Some([1, 2, 3, 4]);
        a.trailer = Cow::Owned(vec![53, 1, 1, 60, 9, b'P', b'X', b'E']);
        let b = discover(0);
        let d = requests(&a, &b)
            .into_iter()
            .find(|d| d.target == Target::Cookie)
            .unwrap();
        let mut m = a.clone();
        d.apply(&mut m, &b);
        assert_eq!(
            m.option(code::VENDOR_CLASS_IDENTIFIER).as_deref(),
            Some(&b"PXE\0\0\0\0\0\0"[..])
        );
        let bytes = m.encode(dhcp::BOOTP_MIN_LEN);
        let sent = Message::parse_lenient(&bytes).message.unwrap();
        assert!(requests(&sent, &m).is_empty(), "{:?}", requests(&sent, &m));
    }

    /// Option 43 is read in the context of its side's option 60 (PXE
    /// suboptions for a PXEClient): the same bytes decode differently on
    /// each side, and used to be reported as a difference.
    #[test]
    fn option_43_with_the_same_bytes_is_no_difference() {
        let o43 = vec![6, 1, 8, 255];
        let mut a = discover(0);
        a.set_option(
            code::VENDOR_CLASS_IDENTIFIER,
            b"PXEClient:Arch:00000:UNDI:002001".to_vec(),
        );
        a.set_option(code::VENDOR_SPECIFIC, o43.clone());
        let mut b = discover(0);
        b.set_option(code::VENDOR_CLASS_IDENTIFIER, b"MSFT 5.0".to_vec());
        b.set_option(code::VENDOR_SPECIFIC, o43);
        let d = requests(&a, &b);
        let targets: Vec<Target> = d.iter().map(|d| d.target).collect();
        assert_eq!(
            targets,
            [Target::Option(code::VENDOR_CLASS_IDENTIFIER)],
            "{d:?}"
        );
        // Other bytes are a difference, shown decoded.
        b.set_option(code::VENDOR_SPECIFIC, vec![6, 1, 3, 255]);
        b.set_option(
            code::VENDOR_CLASS_IDENTIFIER,
            b"PXEClient:Arch:00000:UNDI:002001".to_vec(),
        );
        let d = requests(&a, &b);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].target, Target::Option(code::VENDOR_SPECIFIC));
        assert!(d[0].left.contains("=8"), "{d:?}");
        assert!(d[0].right.contains("=3"), "{d:?}");
    }

    /// A message of 247 bytes without END against a well-formed one of 300:
    /// the same parts, but the first may be discarded (RFC 1542 §2.1).
    #[test]
    fn a_short_message_without_end_differs_from_a_whole_one() {
        let whole = discover(0);
        let mut short = discover(0);
        short.options.retain(|o| o.code != code::END);
        assert!(requests(&short, &whole).is_empty());
        let wire = |len| Wire { len, cut: false };
        let d = captured(&short, &whole, [wire(247), wire(300)]);
        let found: Vec<(Target, &str, &str)> = d
            .iter()
            .map(|d| (d.target, d.left.as_str(), d.right.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                (Target::End, "missing", "present"),
                (Target::Length, "247 bytes", "300 bytes"),
            ]
        );
        assert!(d[1].why.contains("300-byte BOOTP minimum"), "{d:?}");
        assert!(d[1].weight >= 50, "{d:?}");
        // Lengths on the same side of the minimum are no difference of their
        // own (options or padding account for them); a cut side's END is
        // unknown.
        let d = captured(
            &short,
            &whole,
            [
                Wire {
                    len: 342,
                    cut: true,
                },
                wire(300),
            ],
        );
        assert!(d.is_empty(), "{d:?}");
        let d = captured(&whole, &whole, [wire(300), wire(620)]);
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(d[0].why.contains("576 bytes"), "{d:?}");
        // Applying END makes the parts equal.
        let end = Difference {
            target: Target::End,
            ..captured(&short, &whole, [wire(300), wire(300)])[0].clone()
        };
        let mut fixed = short.clone();
        end.apply(&mut fixed, &whole);
        assert!(ends(&fixed));
        assert!(captured(&fixed, &whole, [wire(300), wire(300)]).is_empty());
    }

    /// Two replies are ranked by how clients take them: yiaddr is the
    /// address offered, not a field "servers ignore in requests".
    #[test]
    fn replies_are_ranked_as_clients_take_them() {
        let offer = |yiaddr: [u8; 4]| {
            let mut m = Message::new(Op::BootReply, 1, &[2, 0, 0, 0, 0, 1]);
            m.yiaddr = yiaddr.into();
            m.set_option(code::DHCP_MESSAGE_TYPE, vec![u8::from(MessageType::Offer)]);
            m.set_option(code::SERVER_IDENTIFIER, vec![10, 0, 0, 1]);
            m
        };
        let d = requests(&offer([10, 0, 0, 101]), &offer([10, 0, 0, 102]));
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].target, Target::Yiaddr);
        assert!(!d[0].why.contains("request"), "{d:?}");
        assert!(d[0].why.contains("offered"), "{d:?}");
        // Requests keep theirs.
        let (mut a, mut b) = (discover(0), discover(0));
        a.yiaddr = [10, 0, 0, 1].into();
        b.yiaddr = [10, 0, 0, 2].into();
        assert!(requests(&a, &b)[0].why.contains("in requests"));
    }

    #[test]
    fn applying_every_difference_makes_them_equal() {
        let mut a = discover(0);
        a.flags = 0x8000;
        a.set_option(code::VENDOR_CLASS_IDENTIFIER, b"PXEClient".to_vec());
        let mut b = discover(5);
        b.giaddr = "10.0.0.1".parse().unwrap();
        b.set_option(code::CLIENT_IDENTIFIER, vec![1, 2, 0, 0, 0, 0, 1]);
        for d in requests(&a, &b) {
            d.apply(&mut a, &b);
        }
        assert!(requests(&a, &b).is_empty(), "{:?}", requests(&a, &b));
    }
}
