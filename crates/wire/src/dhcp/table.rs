//! The one table of option codes, names and value types.
//!
//! Everything typed about an option comes from here: the `code::*` constants,
//! [`spec`] look-ups, the length checks of the lenient parse and the decoder in
//! [`super::value`]. Names are IANA's, in kebab-case; they are public API (JSON
//! output) and never renamed.

use crate::anomaly::{Anomaly, AnomalyKind};

use super::options::RawOption;

/// How an option's value is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// No value (e.g. rapid commit).
    Empty,
    Ip,
    /// One or more addresses.
    Ips,
    /// Zero or more addresses.
    IpsOrNone,
    /// Address pairs (policy filter, static routes).
    IpPairs,
    U8,
    U16,
    U32,
    I32,
    /// A duration in seconds (u32).
    Seconds,
    /// 0 or 1.
    Bool,
    U16s,
    /// NVT ASCII text.
    Text,
    MessageType,
    /// A list of option codes (parameter request list).
    Codes,
    /// Option 145 (RFC 6704): authentication algorithms, one byte each.
    Algorithms,
    Overload,
    /// Option 61 (RFC 2132 §9.14, RFC 4361).
    ClientId,
    /// Option 81 (RFC 4702).
    Fqdn,
    /// Option 82 (RFC 3046 and later).
    RelayAgent,
    /// Option 43: opaque, or PXE sub-options when the message's option 60
    /// starts with `PXEClient`.
    VendorSpecific,
    /// Generic encapsulated sub-options (code, length, value).
    Encapsulated,
    /// Options 121 and 249 (RFC 3442).
    ClasslessRoutes,
    /// RFC 1035 names with compression pointers (option 119, RFC 3397).
    Domains,
    /// Option 120 (RFC 3361): names or addresses.
    SipServers,
    /// Option 124 (RFC 3925).
    ViVendorClass,
    /// Option 125 (RFC 3925).
    ViVendorSpecific,
    /// Option 97 (RFC 4578): type + GUID.
    Uuid,
    /// Option 93 (RFC 4578): list of architecture types.
    Architectures,
    /// Option 94 (RFC 4578): network interface identifier.
    Ndi,
    /// Option 90 (RFC 3118).
    Auth,
    /// Option 77 (RFC 3004), or plain text as some clients send it.
    UserClass,
    /// Opaque bytes.
    Bytes,
}

impl Kind {
    /// Checks a value's length; `Err` says what was expected.
    pub fn check_length(self, len: usize) -> Result<(), String> {
        if self.lengths().allows(len) {
            Ok(())
        } else {
            Err(self.length_error(len))
        }
    }

    /// The lengths a value of this kind may have.
    const fn lengths(self) -> Lengths {
        use Kind::*;
        let (min, exact, step) = match self {
            Empty => (0, true, 1),
            Ip => (4, true, 1),
            Ips => (4, false, 4),
            IpsOrNone => (0, false, 4),
            IpPairs => (8, false, 8),
            U8 | Bool | MessageType | Overload => (1, true, 1),
            U16 => (2, true, 1),
            U32 | I32 | Seconds => (4, true, 1),
            U16s | Architectures => (2, false, 2),
            Uuid => (17, true, 1),
            Ndi => (3, true, 1),
            Auth => (11, false, 1),
            ClientId => (2, false, 1),
            Fqdn => (3, false, 1),
            Text | Codes | Algorithms | UserClass | Domains | ClasslessRoutes | SipServers
            | RelayAgent => (1, false, 1),
            ViVendorClass | ViVendorSpecific => (5, false, 1),
            VendorSpecific | Encapsulated | Bytes => (0, false, 1),
        };
        Lengths { min, exact, step }
    }

    /// What [`Kind::check_length`] says of a length this kind forbids.
    fn length_error(self, len: usize) -> String {
        use Kind::*;
        let want = match self {
            Empty => "no value",
            Ip => "4 bytes",
            Ips => "a non-empty multiple of 4 bytes",
            IpsOrNone => "a multiple of 4 bytes",
            IpPairs => "a non-empty multiple of 8 bytes",
            U8 | Bool | MessageType | Overload => "1 byte",
            U16 => "2 bytes",
            U32 | I32 | Seconds => "4 bytes",
            U16s | Architectures => "a non-empty multiple of 2 bytes",
            Uuid => "17 bytes",
            Ndi => "3 bytes",
            Auth => "at least 11 bytes",
            ClientId => "at least 2 bytes",
            Fqdn => "at least 3 bytes",
            ViVendorClass | ViVendorSpecific => "at least 5 bytes",
            _ => "at least 1 byte",
        };
        format!("value is {len} bytes, expected {want}")
    }
}

/// The lengths an option value may have: at least `min` bytes (exactly `min`
/// when `exact`), in a multiple of `step` bytes (1, 2, 4 or 8).
#[derive(Debug, Clone, Copy)]
struct Lengths {
    min: u8,
    exact: bool,
    step: u8,
}

impl Lengths {
    /// Any length: for PAD, END and codes without a known type.
    const ANY: Lengths = Lengths {
        min: 0,
        exact: false,
        step: 1,
    };

    fn allows(self, len: usize) -> bool {
        let min = usize::from(self.min);
        // `step` is a power of two: a multiple has none of the bits below it.
        len >= min && (len == min || !self.exact) && len & usize::from(self.step - 1) == 0
    }
}

/// One row of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionSpec {
    pub code: u8,
    pub name: &'static str,
    pub kind: Kind,
}

macro_rules! options {
    ($( $code:literal $ident:ident $name:literal $kind:ident; )*) => {
        /// Option codes, named after IANA's registry.
        pub mod code {
            pub const PAD: u8 = 0;
            pub const END: u8 = 255;
            $( pub const $ident: u8 = $code; )*
        }
        /// Every option with a known type, by code.
        pub const TABLE: &[OptionSpec] = &[
            $( OptionSpec { code: $code, name: $name, kind: Kind::$kind }, )*
        ];
    };
}

options! {
    1 SUBNET_MASK "subnet-mask" Ip;
    2 TIME_OFFSET "time-offset" I32;
    3 ROUTER "router" Ips;
    4 TIME_SERVER "time-server" Ips;
    5 NAME_SERVER "name-server" Ips;
    6 DOMAIN_NAME_SERVER "domain-name-server" Ips;
    7 LOG_SERVER "log-server" Ips;
    8 QUOTES_SERVER "quotes-server" Ips;
    9 LPR_SERVER "lpr-server" Ips;
    10 IMPRESS_SERVER "impress-server" Ips;
    11 RLP_SERVER "rlp-server" Ips;
    12 HOST_NAME "host-name" Text;
    13 BOOT_FILE_SIZE "boot-file-size" U16;
    14 MERIT_DUMP_FILE "merit-dump-file" Text;
    15 DOMAIN_NAME "domain-name" Text;
    16 SWAP_SERVER "swap-server" Ip;
    17 ROOT_PATH "root-path" Text;
    18 EXTENSION_FILE "extension-file" Text;
    19 IP_FORWARDING "ip-forwarding" Bool;
    20 NON_LOCAL_SOURCE_ROUTING "non-local-source-routing" Bool;
    21 POLICY_FILTER "policy-filter" IpPairs;
    22 MAX_DATAGRAM_REASSEMBLY "max-datagram-reassembly" U16;
    23 DEFAULT_IP_TTL "default-ip-ttl" U8;
    24 PATH_MTU_AGING_TIMEOUT "path-mtu-aging-timeout" Seconds;
    25 PATH_MTU_PLATEAU_TABLE "path-mtu-plateau-table" U16s;
    26 INTERFACE_MTU "interface-mtu" U16;
    27 ALL_SUBNETS_LOCAL "all-subnets-local" Bool;
    28 BROADCAST_ADDRESS "broadcast-address" Ip;
    29 PERFORM_MASK_DISCOVERY "perform-mask-discovery" Bool;
    30 MASK_SUPPLIER "mask-supplier" Bool;
    31 PERFORM_ROUTER_DISCOVERY "perform-router-discovery" Bool;
    32 ROUTER_SOLICITATION_ADDRESS "router-solicitation-address" Ip;
    33 STATIC_ROUTE "static-route" IpPairs;
    34 TRAILER_ENCAPSULATION "trailer-encapsulation" Bool;
    35 ARP_CACHE_TIMEOUT "arp-cache-timeout" Seconds;
    36 ETHERNET_ENCAPSULATION "ethernet-encapsulation" Bool;
    37 TCP_DEFAULT_TTL "tcp-default-ttl" U8;
    38 TCP_KEEPALIVE_INTERVAL "tcp-keepalive-interval" Seconds;
    39 TCP_KEEPALIVE_GARBAGE "tcp-keepalive-garbage" Bool;
    40 NIS_DOMAIN "nis-domain" Text;
    41 NIS_SERVERS "nis-servers" Ips;
    42 NTP_SERVERS "ntp-servers" Ips;
    43 VENDOR_SPECIFIC "vendor-specific" VendorSpecific;
    44 NETBIOS_NAME_SERVERS "netbios-name-servers" Ips;
    45 NETBIOS_DD_SERVER "netbios-dd-server" Ips;
    46 NETBIOS_NODE_TYPE "netbios-node-type" U8;
    47 NETBIOS_SCOPE "netbios-scope" Text;
    48 X_FONT_SERVERS "x-font-servers" Ips;
    49 X_DISPLAY_MANAGER "x-display-manager" Ips;
    50 REQUESTED_IP_ADDRESS "requested-ip-address" Ip;
    51 IP_ADDRESS_LEASE_TIME "ip-address-lease-time" Seconds;
    52 OPTION_OVERLOAD "option-overload" Overload;
    53 DHCP_MESSAGE_TYPE "dhcp-message-type" MessageType;
    54 SERVER_IDENTIFIER "server-identifier" Ip;
    55 PARAMETER_REQUEST_LIST "parameter-request-list" Codes;
    56 MESSAGE "message" Text;
    57 MAX_DHCP_MESSAGE_SIZE "max-dhcp-message-size" U16;
    58 RENEWAL_TIME "renewal-time" Seconds;
    59 REBINDING_TIME "rebinding-time" Seconds;
    60 VENDOR_CLASS_IDENTIFIER "vendor-class-identifier" Text;
    61 CLIENT_IDENTIFIER "client-identifier" ClientId;
    62 NETWARE_IP_DOMAIN "netware-ip-domain" Text;
    63 NETWARE_IP_OPTION "netware-ip-option" Encapsulated;
    64 NIS_PLUS_DOMAIN "nis-plus-domain" Text;
    65 NIS_PLUS_SERVERS "nis-plus-servers" Ips;
    66 TFTP_SERVER_NAME "tftp-server-name" Text;
    67 BOOTFILE_NAME "bootfile-name" Text;
    68 MOBILE_IP_HOME_AGENT "mobile-ip-home-agent" IpsOrNone;
    69 SMTP_SERVER "smtp-server" Ips;
    70 POP3_SERVER "pop3-server" Ips;
    71 NNTP_SERVER "nntp-server" Ips;
    72 WWW_SERVER "www-server" Ips;
    73 FINGER_SERVER "finger-server" Ips;
    74 IRC_SERVER "irc-server" Ips;
    75 STREETTALK_SERVER "streettalk-server" Ips;
    76 STDA_SERVER "stda-server" Ips;
    77 USER_CLASS "user-class" UserClass;
    78 DIRECTORY_AGENT "directory-agent" Bytes;
    79 SERVICE_SCOPE "service-scope" Bytes;
    80 RAPID_COMMIT "rapid-commit" Empty;
    81 CLIENT_FQDN "client-fqdn" Fqdn;
    82 RELAY_AGENT_INFORMATION "relay-agent-information" RelayAgent;
    83 ISNS "isns" Bytes;
    85 NDS_SERVERS "nds-servers" Ips;
    86 NDS_TREE_NAME "nds-tree-name" Text;
    87 NDS_CONTEXT "nds-context" Text;
    88 BCMCS_CONTROLLER_DOMAIN_NAMES "bcmcs-controller-domain-names" Domains;
    89 BCMCS_CONTROLLER_ADDRESSES "bcmcs-controller-addresses" Ips;
    90 AUTHENTICATION "authentication" Auth;
    91 CLIENT_LAST_TRANSACTION_TIME "client-last-transaction-time" Seconds;
    92 ASSOCIATED_IP "associated-ip" Ips;
    93 CLIENT_SYSTEM_ARCHITECTURE "client-system-architecture" Architectures;
    94 CLIENT_NETWORK_INTERFACE "client-network-interface" Ndi;
    95 LDAP "ldap" Text;
    97 CLIENT_MACHINE_IDENTIFIER "client-machine-identifier" Uuid;
    98 USER_AUTHENTICATION "user-authentication" Text;
    99 GEOCONF_CIVIC "geoconf-civic" Bytes;
    100 PCODE "pcode" Text;
    101 TCODE "tcode" Text;
    108 IPV6_ONLY_PREFERRED "ipv6-only-preferred" Seconds;
    109 DHCP4O6_S46_SADDR "dhcp4o6-s46-saddr" Bytes;
    112 NETINFO_ADDRESS "netinfo-address" Ip;
    113 NETINFO_TAG "netinfo-tag" Text;
    114 CAPTIVE_PORTAL "captive-portal" Text;
    116 AUTO_CONFIGURE "auto-configure" U8;
    117 NAME_SERVICE_SEARCH "name-service-search" U16s;
    118 SUBNET_SELECTION "subnet-selection" Ip;
    119 DOMAIN_SEARCH "domain-search" Domains;
    120 SIP_SERVERS "sip-servers" SipServers;
    121 CLASSLESS_STATIC_ROUTE "classless-static-route" ClasslessRoutes;
    122 CCC "ccc" Encapsulated;
    123 GEOCONF "geoconf" Bytes;
    124 VI_VENDOR_CLASS "vi-vendor-class" ViVendorClass;
    125 VI_VENDOR_SPECIFIC "vi-vendor-specific" ViVendorSpecific;
    136 PANA_AGENT "pana-agent" Ips;
    137 V4_LOST "v4-lost" Domains;
    138 CAPWAP_AC_V4 "capwap-ac-v4" Ips;
    139 IPV4_ADDRESS_MOS "ipv4-address-mos" Encapsulated;
    140 IPV4_FQDN_MOS "ipv4-fqdn-mos" Encapsulated;
    141 SIP_UA_DOMAINS "sip-ua-domains" Domains;
    142 IPV4_ADDRESS_ANDSF "ipv4-address-andsf" Ips;
    143 SZTP_REDIRECT "sztp-redirect" Bytes;
    144 GEOLOC "geoloc" Bytes;
    145 FORCERENEW_NONCE_CAPABLE "forcerenew-nonce-capable" Algorithms;
    146 RDNSS_SELECTION "rdnss-selection" Bytes;
    150 TFTP_SERVER_ADDRESS "tftp-server-address" Ips;
    151 STATUS_CODE "status-code" Bytes;
    152 BASE_TIME "base-time" U32;
    153 START_TIME_OF_STATE "start-time-of-state" Seconds;
    154 QUERY_START_TIME "query-start-time" U32;
    155 QUERY_END_TIME "query-end-time" U32;
    156 DHCP_STATE "dhcp-state" U8;
    157 DATA_SOURCE "data-source" U8;
    158 PCP_SERVER "pcp-server" Bytes;
    159 PORT_PARAMS "port-params" Bytes;
    161 MUD_URL "mud-url" Text;
    175 ETHERBOOT "etherboot" Encapsulated;
    208 PXELINUX_MAGIC "pxelinux-magic" Bytes;
    209 CONFIGURATION_FILE "configuration-file" Text;
    210 PATH_PREFIX "path-prefix" Text;
    211 REBOOT_TIME "reboot-time" Seconds;
    212 OPTION_6RD "option-6rd" Bytes;
    213 V4_ACCESS_DOMAIN "v4-access-domain" Domains;
    220 SUBNET_ALLOCATION "subnet-allocation" Bytes;
    221 VSS "vss" Bytes;
    249 MS_CLASSLESS_STATIC_ROUTE "ms-classless-static-route" ClasslessRoutes;
    252 WPAD "wpad" Text;
}

const NONE: u8 = u8::MAX;

const fn build_index() -> [u8; 256] {
    let mut index = [NONE; 256];
    let mut i = 0;
    while i < TABLE.len() {
        index[TABLE[i].code as usize] = i as u8;
        i += 1;
    }
    index
}

const INDEX: [u8; 256] = build_index();

const fn build_lengths() -> [Lengths; 256] {
    let mut lengths = [Lengths::ANY; 256];
    let mut i = 0;
    while i < TABLE.len() {
        lengths[TABLE[i].code as usize] = TABLE[i].kind.lengths();
        i += 1;
    }
    lengths
}

/// The lengths each code's value may have, by code: what the lenient parse
/// checks every option against, without a look-up of its row.
const LENGTHS: [Lengths; 256] = build_lengths();

/// Whether a value of `len` bytes is a length option `code`'s type allows.
pub(crate) fn length_allowed(code: u8, len: usize) -> bool {
    LENGTHS[usize::from(code)].allows(len)
}

/// The table row for `code`, if the option has a known type.
pub fn spec(code: u8) -> Option<&'static OptionSpec> {
    match INDEX[usize::from(code)] {
        NONE => None,
        i => Some(&TABLE[usize::from(i)]),
    }
}

/// The option's name, or `option-N` for unknown codes.
pub fn name(code: u8) -> std::borrow::Cow<'static, str> {
    match code {
        0 => "pad".into(),
        255 => "end".into(),
        c => spec(c).map_or_else(|| format!("option-{c}").into(), |s| s.name.into()),
    }
}

/// A set of option codes: one bit per code.
#[derive(Default)]
struct CodeSet([u64; 4]);

impl CodeSet {
    /// Adds `code`; `false` when it was already in.
    fn insert(&mut self, code: u8) -> bool {
        let (word, bit) = (usize::from(code / 64), 1 << (code % 64));
        let new = self.0[word] & bit == 0;
        self.0[word] |= bit;
        new
    }

    fn contains(&self, code: u8) -> bool {
        self.0[usize::from(code / 64)] & (1 << (code % 64)) != 0
    }

    fn is_empty(&self) -> bool {
        self.0 == [0; 4]
    }
}

/// What a message's option scans noted of each TLV on the way (PAD and END
/// aside), so that [`check_options`] needs no pass of its own over a list
/// without anomalies.
pub(crate) struct Census {
    /// Codes seen so far.
    seen: CodeSet,
    /// Codes seen in more than one TLV.
    repeated: CodeSet,
    /// Whether every TLV so far has, on its own, a length its type allows.
    each_allowed: bool,
    /// How many TLVs of option 53, and the offset of the second.
    message_types: usize,
    second_message_type: Option<usize>,
    /// Where in the list the first TLV of option 52 is.
    pub(crate) first_overload: Option<usize>,
}

impl Census {
    pub(crate) fn new() -> Census {
        Census {
            seen: CodeSet::default(),
            repeated: CodeSet::default(),
            each_allowed: true,
            message_types: 0,
            second_message_type: None,
            first_overload: None,
        }
    }

    /// Notes a TLV of `code` with `len` bytes of data, found at `offset` and
    /// put at `index` in the list.
    pub(crate) fn note(&mut self, code: u8, len: usize, offset: usize, index: usize) {
        if !self.seen.insert(code) {
            self.repeated.insert(code);
        }
        self.each_allowed &= LENGTHS[usize::from(code)].allows(len);
        if code == code::DHCP_MESSAGE_TYPE {
            self.message_types += 1;
            if self.message_types == 2 {
                self.second_message_type = Some(offset);
            }
        }
        if code == code::OPTION_OVERLOAD && self.first_overload.is_none() {
            self.first_overload = Some(index);
        }
    }
}

/// Notes what is wrong with a message's options as a whole, in this order:
/// option 53 missing or repeated, then every known option whose joined value
/// (RFC 3396) has a length its type forbids, at its first TLV. `census` is
/// what the scans that read `options` noted.
pub(crate) fn check_options(
    options: &[RawOption<'_>],
    census: &Census,
    anomalies: &mut Vec<Anomaly>,
) {
    match census.message_types {
        0 => anomalies.push(Anomaly::new(
            super::OPTIONS_OFFSET,
            AnomalyKind::MissingMessageType,
        )),
        1 => {}
        count => anomalies.push(Anomaly::new(
            census.second_message_type.unwrap_or(super::OPTIONS_OFFSET),
            AnomalyKind::RepeatedMessageType { count },
        )),
    }
    // Most messages stop here: with no option repeated, each TLV is a whole
    // value, and each has a length its type allows.
    if census.each_allowed && census.repeated.is_empty() {
        return;
    }
    let repeated = &census.repeated;

    let mut checked = CodeSet::default();
    for (i, o) in options.iter().enumerate() {
        if o.is_marker() {
            continue;
        }
        let repeats = repeated.contains(o.code);
        // A repeated option is checked once, at its first TLV.
        if repeats && !checked.insert(o.code) {
            continue;
        }
        // A repeated option 53 is its own anomaly (above), not one long value.
        let len: usize = if repeats && o.code != code::DHCP_MESSAGE_TYPE {
            options[i..]
                .iter()
                .filter(|p| p.code == o.code)
                .map(|p| p.data.len())
                .sum()
        } else {
            o.data.len()
        };
        if !LENGTHS[usize::from(o.code)].allows(len) {
            let spec = spec(o.code).expect("only known codes have limited lengths");
            anomalies.push(Anomaly::new(
                o.offset,
                AnomalyKind::OptionValueInvalid {
                    code: o.code,
                    reason: spec.kind.length_error(len),
                },
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_indexed() {
        for (i, s) in TABLE.iter().enumerate() {
            assert_eq!(spec(s.code), Some(&TABLE[i]), "code {}", s.code);
            assert!(s.code != 0 && s.code != 255);
        }
        let mut names: Vec<_> = TABLE.iter().map(|s| s.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), TABLE.len(), "names must be unique");
    }

    #[test]
    fn names_are_kebab_case() {
        for s in TABLE {
            assert!(
                s.name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{}",
                s.name
            );
        }
    }

    /// What the scans would have noted of `options`.
    fn census_of(options: &[RawOption<'_>]) -> Census {
        let mut census = Census::new();
        for (i, o) in options.iter().enumerate().filter(|(_, o)| !o.is_marker()) {
            census.note(o.code, o.data.len(), o.offset, i);
        }
        census
    }

    /// The rule as first written: option 53 counted, then each known option
    /// checked at its first TLV, summing the lengths of all its TLVs.
    fn check_options_reference(options: &[RawOption<'_>]) -> Vec<Anomaly> {
        let mut anomalies = Vec::new();
        let types: Vec<_> = options
            .iter()
            .filter(|o| o.code == code::DHCP_MESSAGE_TYPE)
            .collect();
        match types.len() {
            0 => anomalies.push(Anomaly::new(
                super::super::OPTIONS_OFFSET,
                AnomalyKind::MissingMessageType,
            )),
            1 => {}
            count => anomalies.push(Anomaly::new(
                types[1].offset,
                AnomalyKind::RepeatedMessageType { count },
            )),
        }
        for (i, o) in options.iter().enumerate() {
            let first = !options[..i].iter().any(|p| p.code == o.code);
            let Some(spec) = spec(o.code).filter(|_| first && !o.is_marker()) else {
                continue;
            };
            let len = if o.code == code::DHCP_MESSAGE_TYPE {
                o.data.len()
            } else {
                options[i..]
                    .iter()
                    .filter(|p| p.code == o.code)
                    .map(|p| p.data.len())
                    .sum()
            };
            if let Err(reason) = spec.kind.check_length(len) {
                anomalies.push(Anomaly::new(
                    o.offset,
                    AnomalyKind::OptionValueInvalid {
                        code: o.code,
                        reason,
                    },
                ));
            }
        }
        anomalies
    }

    #[test]
    fn repeated_option_is_checked_once_for_its_joined_length() {
        // Option 3 (routers) split in 2 + 2 bytes: fine once joined (RFC 3396).
        // Option 1 (mask) split in 4 + 4 bytes: 8 bytes joined, reported once,
        // at its first TLV. Option 53 twice: its own anomaly, each TLV 1 byte.
        let options = [
            RawOption {
                offset: 240,
                ..RawOption::new(53, vec![1])
            },
            RawOption {
                offset: 243,
                ..RawOption::new(3, vec![10, 0])
            },
            RawOption {
                offset: 247,
                ..RawOption::new(1, vec![255; 4])
            },
            RawOption {
                offset: 253,
                ..RawOption::new(3, vec![0, 1])
            },
            RawOption {
                offset: 257,
                ..RawOption::new(53, vec![3])
            },
            RawOption {
                offset: 260,
                ..RawOption::new(1, vec![255; 4])
            },
            RawOption {
                offset: 266,
                ..RawOption::new(code::END, vec![])
            },
        ];
        let mut anomalies = Vec::new();
        check_options(&options, &census_of(&options), &mut anomalies);
        assert_eq!(
            anomalies,
            [
                Anomaly::new(257, AnomalyKind::RepeatedMessageType { count: 2 }),
                Anomaly::new(
                    247,
                    AnomalyKind::OptionValueInvalid {
                        code: 1,
                        reason: "value is 8 bytes, expected 4 bytes".into()
                    }
                ),
            ]
        );
        assert_eq!(anomalies, check_options_reference(&options));
    }

    proptest::proptest! {
        #[test]
        fn check_options_agrees_with_the_reference(
            list in proptest::collection::vec(
                (proptest::sample::select(vec![0u8, 1, 3, 12, 52, 53, 80, 97, 224, 255]), 0usize..20),
                0..40,
            )
        ) {
            let options: Vec<RawOption<'_>> = list
                .iter()
                .enumerate()
                .map(|(i, &(code, len))| RawOption {
                    offset: 240 + i,
                    ..RawOption::new(code, vec![0; len])
                })
                .collect();
            let mut anomalies = Vec::new();
            check_options(&options, &census_of(&options), &mut anomalies);
            proptest::prop_assert_eq!(anomalies, check_options_reference(&options));
        }
    }

    #[test]
    fn lengths_follow_each_kind() {
        use Kind::*;
        let cases: &[(Kind, &[usize], &[usize])] = &[
            (Empty, &[0], &[1, 4]),
            (Ip, &[4], &[0, 3, 5, 8]),
            (Ips, &[4, 8, 12], &[0, 2, 5, 6]),
            (IpsOrNone, &[0, 4, 8], &[1, 3, 6]),
            (IpPairs, &[8, 16], &[0, 4, 12]),
            (U8, &[1], &[0, 2]),
            (U16, &[2], &[0, 1, 4]),
            (Seconds, &[4], &[0, 2, 8]),
            (U16s, &[2, 4, 6], &[0, 1, 3]),
            (Uuid, &[17], &[16, 18]),
            (Ndi, &[3], &[2, 4]),
            (Auth, &[11, 12, 300], &[0, 10]),
            (ClientId, &[2, 3], &[0, 1]),
            (Fqdn, &[3, 4], &[2]),
            (Text, &[1, 255, 256], &[0]),
            (ViVendorClass, &[5, 6], &[4]),
            (Bytes, &[0, 1, 7], &[]),
        ];
        for &(kind, good, bad) in cases {
            for &len in good {
                assert_eq!(kind.check_length(len), Ok(()), "{kind:?} {len}");
            }
            for &len in bad {
                assert!(kind.check_length(len).is_err(), "{kind:?} {len}");
            }
        }
        assert!(LENGTHS[0].allows(3) && LENGTHS[255].allows(1) && LENGTHS[224].allows(9));
        assert!(!LENGTHS[usize::from(code::SUBNET_MASK)].allows(3));
    }

    #[test]
    fn unknown_codes_have_a_name() {
        assert_eq!(name(224), "option-224");
        assert_eq!(name(53), "dhcp-message-type");
    }
}
