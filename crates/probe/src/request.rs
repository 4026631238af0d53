//! Building the request to send: a kind (what a client in some RFC 2131 state
//! sends), fixed fields, and option edits applied in order.

use std::net::Ipv4Addr;

use wire::dhcp::{code, Message, MessageType, Op, RawOption, Region};
use wire::HwAddr;

/// What to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Discover,
    /// SELECTING: REQUEST with options 50 and 54.
    Request,
    /// INIT-REBOOT: REQUEST with option 50, no 54, ciaddr 0.
    InitReboot,
    /// RENEWING: unicast REQUEST with ciaddr.
    Renew,
    /// REBINDING: broadcast REQUEST with ciaddr.
    Rebind,
    Inform,
    Release,
    Decline,
    /// A BOOTREQUEST without option 53.
    Bootp,
}

impl Kind {
    pub fn parse(s: &str) -> Result<Kind, String> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "discover" => Kind::Discover,
            "request" | "select" | "selecting" => Kind::Request,
            "init-reboot" | "reboot" => Kind::InitReboot,
            "renew" | "renewing" => Kind::Renew,
            "rebind" | "rebinding" => Kind::Rebind,
            "inform" => Kind::Inform,
            "release" => Kind::Release,
            "decline" => Kind::Decline,
            "bootp" => Kind::Bootp,
            _ => {
                return Err(format!(
                    "{s:?} is not a request type (discover, request, init-reboot, renew, rebind, inform, release, decline, bootp)"
                ))
            }
        })
    }

    /// Whether this kind is sent unicast to the server by a real client.
    pub fn unicast(self) -> bool {
        matches!(self, Kind::Renew | Kind::Release)
    }
}

/// A change to the options, applied after the defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    Set(u8, Vec<u8>),
    Remove(u8),
}

/// Everything that decides the request.
#[derive(Debug, Clone)]
pub struct Spec {
    pub kind: Kind,
    pub chaddr: HwAddr,
    pub xid: u32,
    pub secs: u16,
    pub flags: u16,
    pub hops: u8,
    pub ciaddr: Ipv4Addr,
    pub giaddr: Ipv4Addr,
    /// Option 50.
    pub requested: Option<Ipv4Addr>,
    /// Option 54.
    pub server_id: Option<Ipv4Addr>,
    pub edits: Vec<Edit>,
}

/// The parameter request list sent by default: what common clients ask for.
pub const DEFAULT_PARAMETERS: [u8; 8] = [
    code::SUBNET_MASK,
    code::ROUTER,
    code::DOMAIN_NAME_SERVER,
    code::DOMAIN_NAME,
    code::BROADCAST_ADDRESS,
    code::IP_ADDRESS_LEASE_TIME,
    code::RENEWAL_TIME,
    code::REBINDING_TIME,
];

impl Spec {
    pub fn new(kind: Kind, chaddr: HwAddr, xid: u32) -> Spec {
        Spec {
            kind,
            chaddr,
            xid,
            secs: 0,
            flags: 0,
            hops: 0,
            ciaddr: Ipv4Addr::UNSPECIFIED,
            giaddr: Ipv4Addr::UNSPECIFIED,
            requested: None,
            server_id: None,
            edits: Vec::new(),
        }
    }

    /// The message, or what is missing for this kind.
    pub fn build(&self) -> Result<Message<'static>, String> {
        let mut m = Message::new(Op::BootRequest, self.xid, self.chaddr.as_bytes());
        m.secs = self.secs;
        m.flags = self.flags;
        m.hops = self.hops;
        m.ciaddr = self.ciaddr;
        m.giaddr = self.giaddr;
        let need_ciaddr = |what: &str| {
            if self.ciaddr.is_unspecified() {
                Err(format!(
                    "a {what} needs --ciaddr (the address the client holds)"
                ))
            } else {
                Ok(())
            }
        };
        let kind = match self.kind {
            Kind::Discover => Some(MessageType::Discover),
            Kind::Request => {
                if self.requested.is_none() || self.server_id.is_none() {
                    return Err(
                        "a SELECTING request needs --requested and --server-id (from the OFFER)"
                            .into(),
                    );
                }
                Some(MessageType::Request)
            }
            Kind::InitReboot => {
                if self.requested.is_none() {
                    return Err(
                        "an INIT-REBOOT request needs --requested (the remembered address)".into(),
                    );
                }
                Some(MessageType::Request)
            }
            Kind::Renew => {
                need_ciaddr("renewing request")?;
                Some(MessageType::Request)
            }
            Kind::Rebind => {
                need_ciaddr("rebinding request")?;
                Some(MessageType::Request)
            }
            Kind::Inform => {
                need_ciaddr("DHCPINFORM")?;
                Some(MessageType::Inform)
            }
            Kind::Release => {
                need_ciaddr("DHCPRELEASE")?;
                if self.server_id.is_none() {
                    return Err("a DHCPRELEASE needs --server-id".into());
                }
                Some(MessageType::Release)
            }
            Kind::Decline => {
                if self.requested.is_none() || self.server_id.is_none() {
                    return Err(
                        "a DHCPDECLINE needs --requested (the address in use) and --server-id"
                            .into(),
                    );
                }
                Some(MessageType::Decline)
            }
            Kind::Bootp => None,
        };
        if let Some(t) = kind {
            m.set_option(code::DHCP_MESSAGE_TYPE, vec![u8::from(t)]);
            if !matches!(self.kind, Kind::Release | Kind::Decline) {
                let mut cid = vec![1u8];
                cid.extend_from_slice(self.chaddr.as_bytes());
                m.set_option(code::CLIENT_IDENTIFIER, cid);
            }
            if let Some(r) = self.requested {
                m.set_option(code::REQUESTED_IP_ADDRESS, r.octets().to_vec());
            }
            if let Some(s) = self.server_id {
                m.set_option(code::SERVER_IDENTIFIER, s.octets().to_vec());
            }
            if matches!(
                self.kind,
                Kind::Discover
                    | Kind::Request
                    | Kind::InitReboot
                    | Kind::Renew
                    | Kind::Rebind
                    | Kind::Inform
            ) {
                m.set_option(code::PARAMETER_REQUEST_LIST, DEFAULT_PARAMETERS.to_vec());
            }
        }
        for e in &self.edits {
            match e {
                Edit::Set(c, v) => m.set_option(*c, v.clone()),
                Edit::Remove(c) => {
                    m.remove_option(*c);
                }
            }
        }
        relay_agent_information_last(&mut m);
        Ok(m)
    }
}

/// Moves option 82 (all its TLVs, in order) to the end of the options field,
/// before END: RFC 3046 §2.1 has a relay agent add it "as the last option
/// (but before 'End Option' 255, if present)", and servers may look for it
/// there. Options added after it (`-o 82=… -o 60=…`, a replayed request
/// with an option added) would otherwise follow it.
pub fn relay_agent_information_last(m: &mut Message<'_>) {
    let is_82 =
        |o: &RawOption<'_>| o.code == code::RELAY_AGENT_INFORMATION && o.region == Region::Options;
    if !m.options.iter().any(is_82) {
        return;
    }
    let (moved, mut rest): (Vec<_>, Vec<_>) =
        std::mem::take(&mut m.options).into_iter().partition(is_82);
    let at = rest
        .iter()
        .position(|o| o.code == code::END && o.region == Region::Options)
        .or_else(|| {
            rest.iter()
                .rposition(|o| o.region == Region::Options)
                .map(|i| i + 1)
        })
        .unwrap_or(0);
    rest.splice(at..at, moved);
    m.options = rest;
}

/// A transaction id that differs from run to run (no cryptographic quality
/// needed: it only has to avoid colliding with other clients' xids).
pub fn fresh_xid() -> u32 {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let mut h = RandomState::new().build_hasher();
    h.write_u32(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.finish() as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mac() -> HwAddr {
        HwAddr::parse("02:00:00:00:00:01").unwrap()
    }

    #[test]
    fn discover_has_the_usual_options() {
        let m = Spec::new(Kind::Discover, mac(), 7).build().unwrap();
        let codes: Vec<u8> = m.options.iter().map(|o| o.code).collect();
        assert_eq!(codes, [53, 61, 55, 255]);
        assert_eq!(m.message_type(), Some(MessageType::Discover));
        assert_eq!(m.option(61).unwrap().as_ref(), &[1, 2, 0, 0, 0, 0, 1]);
    }

    #[test]
    fn edits_apply_in_order() {
        let mut s = Spec::new(Kind::Discover, mac(), 7);
        s.edits = vec![
            Edit::Set(60, b"PXEClient".to_vec()),
            Edit::Remove(61),
            Edit::Set(55, vec![1]),
        ];
        let m = s.build().unwrap();
        let codes: Vec<u8> = m.options.iter().map(|o| o.code).collect();
        assert_eq!(codes, [53, 55, 60, 255]);
        assert_eq!(m.option(55).unwrap().as_ref(), &[1]);
    }

    #[test]
    fn each_kind_says_what_it_needs() {
        assert!(Spec::new(Kind::Request, mac(), 1)
            .build()
            .unwrap_err()
            .contains("--requested"));
        assert!(Spec::new(Kind::Renew, mac(), 1)
            .build()
            .unwrap_err()
            .contains("--ciaddr"));
        let mut s = Spec::new(Kind::InitReboot, mac(), 1);
        s.requested = Some(Ipv4Addr::new(10, 0, 0, 5));
        let m = s.build().unwrap();
        assert!(m.server_id().is_none() && m.ciaddr.is_unspecified());
        let b = Spec::new(Kind::Bootp, mac(), 1).build().unwrap();
        assert_eq!(b.message_type(), None);
        assert_ne!(fresh_xid(), fresh_xid());
    }

    /// Guards RFC 3046 §2.1 (a relay agent adds option 82 "as the last
    /// option (but before 'End Option' 255, if present)"): acting as a relay
    /// with `-o 82=… -o 60=…`, option 60 used to follow option 82, as edits
    /// are applied in order.
    #[test]
    fn relay_agent_information_stays_the_last_option() {
        let mut s = Spec::new(Kind::Discover, mac(), 1);
        s.giaddr = Ipv4Addr::new(10, 1, 0, 1);
        s.hops = 1;
        s.edits = vec![
            Edit::Set(
                code::RELAY_AGENT_INFORMATION,
                vec![1, 4, b'e', b't', b'h', b'0'],
            ),
            Edit::Set(code::VENDOR_CLASS_IDENTIFIER, b"PXEClient".to_vec()),
        ];
        let m = s.build().unwrap();
        let codes: Vec<u8> = m.options.iter().map(|o| o.code).collect();
        assert_eq!(codes, [53, 61, 55, 60, 82, 255]);
        // Without END (a message built by hand), it goes at the very end.
        let mut m = Message::new(Op::BootRequest, 1, mac().as_bytes());
        m.set_option(code::RELAY_AGENT_INFORMATION, vec![1, 1, b'x']);
        m.set_option(code::VENDOR_CLASS_IDENTIFIER, b"x".to_vec());
        m.remove_option(code::END);
        relay_agent_information_last(&mut m);
        let codes: Vec<u8> = m.options.iter().map(|o| o.code).collect();
        assert_eq!(
            codes.last(),
            Some(&code::RELAY_AGENT_INFORMATION),
            "{codes:?}"
        );
    }
}
