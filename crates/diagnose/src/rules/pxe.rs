//! Network boot: PXE and iPXE clients, boot files and the firmware they
//! suit, proxyDHCP and boot servers (UDP 4011).

use super::*;

/// The PXE client's request: a boot ROM's (option 60 «PXEClient» or option
/// 93), iPXE's included. iPXE is the ROM of QEMU's and KVM's virtual NICs,
/// and a PXE client all the same: without a boot file it stops ("Nothing
/// to boot"), and after an OFFER that claims PXE service it asks on UDP 4011.
pub(super) fn pxe_request(t: &Transaction) -> Option<&Obs> {
    t.client_packets().map(|s| &s.obs).find(|o| is_pxe(o))
}

/// The request of a PXE ROM that is not iPXE (some are not listening yet
/// when an instant OFFER arrives; iPXE is).
pub(super) fn pxe_rom_request(t: &Transaction) -> Option<&Obs> {
    t.client_packets()
        .map(|s| &s.obs)
        .find(|o| boots_without_ipxe(o))
}

pub(super) fn is_pxe(o: &Obs) -> bool {
    o.vendor_class().is_some_and(|v| v.starts_with("PXEClient")) || o.arch().is_some()
}

pub(super) fn pxe_boot_file_missing(
    t: &Transaction,
    outcome: Outcome,
    ctx: &Context<'_>,
) -> Option<Finding> {
    let asked = pxe_request(t)?;
    // An iPXE the client loaded as a boot file (a second stage) often runs
    // a script built into it, which needs no file from DHCP.
    let (ipxe_boots, rom_file) = ctx.client.boot_files();
    if asked.ipxe && (rom_file.is_some() || !ipxe_boots.is_empty()) {
        return None;
    }
    let replies: Vec<&Obs> = t
        .replies()
        .map(|s| &s.obs)
        .filter(|o| matches!(o.kind, Some(Offer | Ack)))
        .collect();
    // A boot file to come from the server's port 4011 is not missing
    // (`pxe-proxy-on-dhcp-server`).
    if replies.is_empty()
        || replies
            .iter()
            .any(|o| o.boot_file().is_some() || claims_pxe_service(o))
    {
        return None;
    }
    let r = replies[0];
    let failed = outcome.is_failure() || outcome == Outcome::Incomplete;
    let mut f = cause_or_risk(Code::PxeBootFileMissing, t, failed, Confidence::Medium);
    if asked.ipxe {
        // iPXE may carry a script of its own.
        f = f.confidence(Confidence::Low);
    }
    Some(
        f.frames([asked.at, r.at])
            .summary(format!("PXE client got {} from {} without a boot file", r.short_name(), r.server()))
            .explanation(format!(
                "The client is a PXE ROM ({}{}), but the {} ({}) names no boot file (file field or option 67){}. {}",
                asked.vendor_class().unwrap_or("option 93"),
                asked.arch().map_or(String::new(), |a| format!(", architecture {a}{}", wire::dhcp::value::architecture_name(a).map_or(String::new(), |n| format!(" {n}")))),
                r.short_name(),
                ctx.frame(r.at),
                if r.tftp_server { "" } else { " and no TFTP server (siaddr or option 66)" },
                if asked.ipxe {
                    "Without one iPXE stops (\"Nothing to boot\"), unless it was built with a script of its own."
                } else {
                    "Without one the ROM waits for a ProxyDHCP offer and gives up (PXE-E53: No boot filename received)."
                },
            ))
            .fix("Configure the boot file for this client's architecture (ISC: `filename`, `next-server`; dnsmasq: `dhcp-boot`, `pxe-service`; Kea: `boot-file-name`, `next-server`), or run a ProxyDHCP service.")
            .references(&["RFC 4578", "PXE specification 2.1"]),
    )
}

/// `pxe-proxy-on-dhcp-server`: an OFFER or ACK with an address and option
/// 60 «PXEClient» is a ProxyDHCP offer too, so the ROM then asks the same
/// server on UDP 4011 for its boot file (PXE 2.1). That
/// is how dnsmasq's `pxe-service` and WDS on the DHCP host work; with a boot
/// file in the reply as well, it is Microsoft KB 259670's misconfiguration:
/// option 60 set by hand on a DHCP server whose PXE service is elsewhere.
pub(super) fn pxe_proxy_on_dhcp_server(t: &Transaction, ctx: &Context<'_>) -> Option<Finding> {
    let asked = pxe_request(t)?;
    let r = t
        .replies()
        .map(|s| &s.obs)
        .find(|o| claims_pxe_service(o))?;
    let server = r.server();
    let with_file = r.boot_file();
    let menu = r.boot_menu();
    // Where the ROM goes next: ProxyDHCP on 4011, or a boot menu's server.
    // A menu the ROM skips because the reply names a file (discovery
    // control bit 3) is no menu to it.
    let menu = menu.filter(|m| m.control & 8 == 0 || with_file.is_none());
    let route = match menu {
        None => format!(
            "the ROM takes it as a ProxyDHCP offer too and, after the ACK, sends a DHCPREQUEST to {server} on UDP port \
             4011 for its boot file."
        ),
        Some(m) if m.servers_named && m.broadcast_allowed() => format!(
            "it also carries a PXE boot menu (option 43 sub-option 9): after the ACK the ROM picks an item and asks a \
             boot server for it, by broadcast to UDP 67 (discovery control {:#04x}, sub-option 6, allows it) and at the \
             servers the menu names for that item (sub-option 8) on UDP 4011.",
            m.control
        ),
        Some(m) if m.servers_named => format!(
            "it also carries a PXE boot menu (option 43 sub-option 9): after the ACK the ROM picks an item and asks \
             the boot server the menu names for it (sub-option 8) on UDP port 4011 for its boot file (discovery control \
             {:#04x}: no broadcast).",
            m.control
        ),
        Some(m) if m.broadcast_allowed() => format!(
            "it also carries a PXE boot menu (option 43 sub-option 9) that names no boot server (no sub-option 8): \
             after the ACK the ROM picks an item and searches for a boot server by broadcast, a DHCPREQUEST to UDP 67 \
             naming the item (discovery control {:#04x}, sub-option 6, allows it).",
            m.control
        ),
        Some(m) if m.control & 2 == 0 => format!(
            "it also carries a PXE boot menu (option 43 sub-option 9) that names no boot server (no sub-option 8) and \
             forbids broadcast discovery (discovery control {:#04x}, sub-option 6): the ROM can search only by \
             multicast, to the group sub-option 7 names.",
            m.control
        ),
        Some(m) => format!(
            "it also carries a PXE boot menu (option 43 sub-option 9) that names no boot server (no sub-option 8) and \
             forbids broadcast and multicast discovery (discovery control {:#04x}, sub-option 6): only local boot \
             (type 0) can be chosen from it, as dnsmasq sends when every item is local boot; any other item leaves the \
             ROM nowhere to ask (PXE-E78).",
            m.control
        ),
    };
    let (severity, summary, what) = match with_file {
        // The ROM goes to the menu; the file is for ROMs that skip it.
        Some(file) if menu.is_some() => (
            Severity::Info,
            format!("{} from {server} names boot file {file} and carries a PXE boot menu", r.short_name()),
            format!(
                "It names a boot file («{file}») as well, which a ROM boots only when it skips the menu (discovery \
                 control bit 3)."
            ),
        ),
        // iPXE asks 4011 for a few seconds, then boots the file.
        Some(file) if asked.ipxe => (
            Severity::Info,
            format!("{} from {server} names boot file {file} and claims PXE service (option 60 PXEClient)", r.short_name()),
            format!(
                "It names a boot file («{file}») as well. iPXE asks {server} on port 4011 first and, when nothing \
                 answers there within a few seconds, boots that file: a delay, not a failure (a ROM that is not iPXE \
                 stops with PXE-E55 instead)."
            ),
        ),
        Some(file) => (
            Severity::Warning,
            format!("{} from {server} names boot file {file} and claims PXE service (option 60 PXEClient)", r.short_name()),
            format!(
                "It names a boot file («{file}») as well, as a DHCP server given options 60, 66 and 67 by hand does \
                 (Microsoft KB 259670): the ROM still asks {server} on port 4011 first, and when the PXE service runs \
                 on another host nothing answers there (PXE-E55: ProxyDHCP service did not reply to request on port 4011)."
            ),
        ),
        None if menu.is_some() => (
            Severity::Info,
            format!("PXE client is offered a boot menu by {server}; its boot file comes from a boot server (option 43)"),
            "It names no boot file: that comes from the boot server that answers for the chosen item, as a boot menu \
             intends (dnsmasq's `pxe-service`, or option 43 written by hand). If the boot stops after the menu (iPXE: \"PXEBS … Connection timed out\"; other \
             ROMs: PXE-E78, \"Could not locate boot server\"), no boot server answered: see \
             pxe-boot-server-unanswered."
                .to_string(),
        ),
        None => (
            Severity::Info,
            format!("PXE client is sent to {server} on UDP 4011 for its boot file (option 60 PXEClient)"),
            format!(
                "It names no boot file: that comes from {server}'s PXE service on port 4011, as dnsmasq's `pxe-service` \
                 and WDS on the DHCP server intend. If the boot stops with PXE-E55 (ProxyDHCP service did not reply to \
                 request on port 4011), nothing answers there."
            ),
        ),
    };
    Some(
        Finding::new(Code::PxeProxyOnDhcpServer, severity, Some(t.chaddr), Some(t.xid))
            .frames([asked.at, r.at])
            .summary(summary)
            .explanation(format!(
                "The {} ({}) gives the PXE client ({}) address {} and carries option 60 «PXEClient»: {route} {what} \
                 The ROM sends it from its port 68, so a capture of the DHCP ports holds it and any answer.",
                r.short_name(),
                ctx.frame(r.at),
                asked.vendor_class().unwrap_or("option 93"),
                r.yiaddr,
            ))
            .fix(match with_file {
                None if menu.is_some() => "Check that a boot server answers for each item of the menu (local boot, type \
                    0, needs none): dnsmasq answers \
                    for a `pxe-service` with a basename; one with only a boot service type needs another server for \
                    that type (WDS, a PXE server), or its address in the `pxe-service` line."
                    .to_string(),
                Some(_) if menu.is_some() => "If the menu is not meant, take it out of the replies (option 43 \
                    sub-option 9; dnsmasq `pxe-service`) so that ROMs boot the file; otherwise check that a boot server \
                    answers for each item."
                    .to_string(),
                Some(_) => format!(
                    "If the PXE service is on another host, remove option 60 from {server}'s replies and keep 66/67 (or \
                     an IP helper towards the PXE server); otherwise check that {server} answers on UDP 4011."
                ),
                None => format!(
                    "Check that {server} answers on UDP 4011 (`ss -ulnp 'sport = :4011'` there, its firewall, a capture of \
                     port 4011); if it runs no PXE service, option 60 was set by hand: remove it, or configure a boot \
                     file (ISC `filename`, dnsmasq `dhcp-boot`, Kea `boot-file-name`)."
                ),
            })
            .references(&["PXE specification 2.1 §2.2", "Microsoft KB 259670"]),
    )
}

/// An OFFER or ACK with an address that carries option 60 «PXEClient»: the
/// server claims PXE service on UDP 4011 (a pure ProxyDHCP offer has none).
pub(super) fn claims_pxe_service(o: &Obs) -> bool {
    matches!(o.kind, Some(Offer | Ack))
        && !o.yiaddr.is_unspecified()
        && o.vendor_class().is_some_and(|v| v.starts_with("PXEClient"))
}

/// The PXE client's request and the OFFERs and ACKs that name a boot file.
pub(super) fn pxe_boot_replies(t: &Transaction) -> Option<(&Obs, Vec<&Obs>)> {
    let asked = pxe_request(t)?;
    let replies: Vec<&Obs> = t
        .replies()
        .map(|s| &s.obs)
        .filter(|o| matches!(o.kind, Some(Offer | Ack)) && o.boot_file().is_some())
        .collect();
    (!replies.is_empty()).then_some((asked, replies))
}

/// `pxe-boot-server-missing`: a boot file, but `siaddr` 0.0.0.0 and no
/// option 66, so the ROM has no TFTP server to fetch it from (ISC dhcpd and
/// Kea leave `siaddr` 0 unless `next-server` is set). A URL names its server
/// itself.
pub(super) fn pxe_boot_server_missing(t: &Transaction, ctx: &Context<'_>) -> Option<Finding> {
    let (asked, replies) = pxe_boot_replies(t)?;
    if replies.iter().any(|o| o.tftp_server) {
        return None;
    }
    let r = replies[0];
    let file = r.boot_file()?;
    if file.contains("://") {
        return None;
    }
    Some(
        Finding::new(Code::PxeBootServerMissing, Severity::Warning, Some(t.chaddr), Some(t.xid))
            .frames([asked.at, r.at])
            .summary(format!("PXE client told to boot {file} from no server"))
            .explanation(format!(
                "The {} ({}) from {} names the boot file «{file}» but no server to fetch it from: siaddr is 0.0.0.0 \
                 and there is no option 66. Most PXE ROMs then try TFTP towards nothing and give up (PXE-E32: TFTP \
                 open timeout); a few fall back to the DHCP server's address. The DHCP exchange itself succeeds, so \
                 the failure shows only on the client's console.",
                r.short_name(),
                ctx.frame(r.at),
                r.server(),
            ))
            .fix("Name the TFTP server: ISC `next-server 10.0.0.5;`, Kea `\"next-server\": \"10.0.0.5\"`, dnsmasq `dhcp-boot=file,,10.0.0.5` (or option 66).")
            .references(&["RFC 2131 §2 (siaddr)", "PXE specification 2.1"]),
    )
}

/// The firmware an option 93 architecture boots with, as far as a boot file's
/// name can contradict it.
#[derive(Clone, Copy, PartialEq, Debug)]
pub(super) enum Firmware {
    Bios,
    Uefi(Option<Machine>),
}

/// The processor a UEFI boot program is built for.
#[derive(Clone, Copy, PartialEq, Debug)]
pub(super) enum Machine {
    Ia32,
    X64,
    Arm64,
}

impl Machine {
    fn name(self) -> &'static str {
        match self {
            Machine::Ia32 => "32-bit x86",
            Machine::X64 => "x64",
            Machine::Arm64 => "64-bit ARM",
        }
    }
}

/// The firmware of an RFC 4578 / IANA processor architecture type.
pub(super) fn firmware_of_arch(arch: u16) -> Option<Firmware> {
    Some(match arch {
        0 | 20 => Firmware::Bios,
        6 | 15 => Firmware::Uefi(Some(Machine::Ia32)),
        // 9 is EBC in the registry, but x64 firmware sends it (RFC 4578's
        // original table swapped 7 and 9).
        7 | 9 | 16 => Firmware::Uefi(Some(Machine::X64)),
        11 | 19 => Firmware::Uefi(Some(Machine::Arm64)),
        8 | 10 | 17 | 18 | 25..=28 => Firmware::Uefi(None),
        _ => return None,
    })
}

/// The firmware a boot program's file name says it is for: `.efi` is UEFI
/// (with `x64`, `ia32` or `aa64` in the name, for that processor), the
/// real-mode programs (`pxelinux.0`, `undionly.kpxe`, `.pxe`, `.com`) are
/// BIOS. Scripts and anything else say nothing.
pub(super) fn firmware_of_file(file: &str) -> Option<Firmware> {
    let name = file.rsplit('/').next().unwrap_or(file).to_ascii_lowercase();
    if name.ends_with(".efi") {
        let machine = if ["aa64", "arm64", "aarch64"]
            .iter()
            .any(|m| name.contains(m))
        {
            Some(Machine::Arm64)
        } else if ["x64", "x86_64", "amd64"].iter().any(|m| name.contains(m)) {
            Some(Machine::X64)
        } else if ["ia32", "i386"].iter().any(|m| name.contains(m)) {
            Some(Machine::Ia32)
        } else {
            None
        };
        return Some(Firmware::Uefi(machine));
    }
    ([".0", ".kpxe", ".kkpxe", ".pxe", ".com"]
        .iter()
        .any(|x| name.ends_with(x))
        || name.starts_with("undionly"))
    .then_some(Firmware::Bios)
}

/// `pxe-boot-file-wrong-arch`: option 93 says BIOS and the file is an EFI
/// program, or UEFI and the file is a real-mode one (or an EFI program for
/// another processor). The firmware downloads it and cannot run it.
pub(super) fn pxe_boot_file_wrong_arch(t: &Transaction, ctx: &Context<'_>) -> Option<Finding> {
    let (asked, replies) = pxe_boot_replies(t)?;
    let arch = asked.arch()?;
    let client = firmware_of_arch(arch)?;
    let (r, file, served) = replies.iter().find_map(|r| {
        let file = r.boot_file()?;
        let served = firmware_of_file(file)?;
        let wrong = match (client, served) {
            (Firmware::Bios, Firmware::Uefi(_)) | (Firmware::Uefi(_), Firmware::Bios) => true,
            (Firmware::Uefi(Some(a)), Firmware::Uefi(Some(b))) => a != b,
            _ => false,
        };
        wrong.then_some((*r, file, served))
    })?;
    let describe = |f: Firmware| match f {
        Firmware::Bios => "BIOS (real-mode) program".to_string(),
        Firmware::Uefi(Some(m)) => format!("{} UEFI program", m.name()),
        Firmware::Uefi(None) => "UEFI program".to_string(),
    };
    let arch_name = wire::dhcp::value::architecture_name(arch).unwrap_or("unknown");
    Some(
        Finding::new(Code::PxeBootFileWrongArch, Severity::Warning, Some(t.chaddr), Some(t.xid))
            .frames([asked.at, r.at])
            .summary(format!("{arch_name} PXE client given {file}"))
            .explanation(format!(
                "The client's {} ({}) says architecture {arch} ({arch_name}), but the {} ({}) from {} hands it \
                 «{file}», a {}. The firmware downloads it and cannot run it: the boot fails or falls through to the next \
                 boot device after a successful DHCP exchange.",
                asked.short_name(),
                ctx.frame(asked.at),
                r.short_name(),
                ctx.frame(r.at),
                r.server(),
                describe(served),
            ))
            .fix("Choose the boot file by option 93: ISC `option arch code 93 = unsigned integer 16;` then `if option arch = 00:07 { filename \"ipxe.efi\"; } else { filename \"undionly.kpxe\"; }`; dnsmasq `dhcp-match=set:efi-x64,option:client-arch,7` with `dhcp-boot=tag:efi-x64,…`; Kea client classes on `option[93].hex`.")
            .references(&["RFC 4578 §2.1", "IANA processor architecture types"]),
    )
}

/// How soon after its DISCOVER an OFFER counts as instant for a PXE ROM.
pub(super) const PXE_INSTANT_NS: i64 = 10_000_000;

/// `pxe-reply-too-fast` (catalogue B.17): a PXE ROM sends DISCOVER after
/// DISCOVER although each was answered within milliseconds, and nothing else
/// explains it. Some boot ROMs are not listening yet when an instant reply
/// arrives; dnsmasq has `dhcp-reply-delay` for exactly this.
pub(super) fn pxe_reply_too_fast(
    t: &Transaction,
    outcome: Outcome,
    causes: &[Finding],
    ctx: &Context<'_>,
) -> Option<Finding> {
    if outcome != Outcome::OfferIgnored || causes.iter().any(|c| c.explains_failure) {
        return None;
    }
    let asked = pxe_rom_request(t)?;
    // Each OFFER with the latest DISCOVER before it, and how soon it came.
    let answered: Vec<(&Obs, i64)> = to_client(t)
        .map(|s| &s.obs)
        .filter(|o| o.kind == Some(Offer))
        .filter_map(|o| {
            let d = t
                .of_kind(Discover)
                .map(|s| s.obs.ts)
                .filter(|ts| *ts <= o.ts)
                .max()?;
            Some((o, o.ts.0 - d.0))
        })
        .collect();
    let discovers = t.of_kind(Discover).count();
    if discovers < 2 || answered.len() < 2 {
        return None;
    }
    let slowest = answered.iter().map(|(_, d)| *d).max()?;
    if slowest >= PXE_INSTANT_NS {
        return None;
    }
    let f = cause_or_risk(Code::PxeReplyTooFast, t, true, Confidence::Low);
    let fastest = answered.iter().map(|(_, d)| *d).min().unwrap_or(slowest);
    Some(
        f.frames(std::iter::once(asked.at).chain(answered.iter().map(|(o, _)| o.at)))
            .summary(format!(
                "PXE client ignored {} OFFERs that came {:.1}–{:.1} ms after its DISCOVERs",
                answered.len(),
                fastest as f64 / 1e6,
                slowest as f64 / 1e6
            ))
            .explanation(format!(
                "The client is a PXE ROM ({}) and sent {discovers} DISCOVERs; every OFFER came within {:.1} ms of the \
                 DISCOVER it answers (first: {}), and the client never requested one. Nothing else in the capture \
                 explains why: some boot ROMs are not yet listening when an instant reply arrives. A guess, from the \
                 timing alone.",
                asked.vendor_class().unwrap_or("option 93"),
                slowest as f64 / 1e6,
                ctx.frame(answered[0].0.at),
            ))
            .fix("Delay the replies to boot clients: dnsmasq `dhcp-reply-delay=tag:pxe,1` (with `dhcp-vendorclass=set:pxe,PXEClient`); ISC dhcpd and Kea have no such delay. Else update the NIC's boot ROM.")
            .references(&["dnsmasq(8) --dhcp-reply-delay", "failure catalogue B.17"]),
    )
}

/// A ROM that asked a boot server on UDP 4011 more than once, with no
/// answer while the capture went on this long after the first request, has
/// been left unanswered (iPXE retries after 0.25, 0.55 and 1 s, other ROMs
/// after 1 to 4 s); a single request needs the capture to go on twice as
/// long after it.
pub(super) const BOOT_SERVER_WAIT_NS: i64 = 1_000_000_000;

/// `pxe-boot-server-unanswered`: the ROM asked a boot server on UDP 4011
/// for its boot file and nothing came back from that port. The boot stops
/// there (an error), though the DHCP exchange before it succeeded; iPXE
/// with a boot file in its DHCP ACK gives up on the boot server after a few
/// seconds and boots that file (a warning).
pub(super) fn pxe_boot_server_unanswered(
    c: &Client,
    b: &crate::client::BootServer,
    end: Timestamp,
    files: &[String],
) -> Option<Finding> {
    let &(_, first, asked_xid) = b.unanswered.first()?;
    let last = b.last_unanswered;
    let n = b.unanswered_count;
    let waited = if n >= 2 {
        end.0 - first.0 >= BOOT_SERVER_WAIT_NS
    } else {
        end.0 - last.0 >= 2 * BOOT_SERVER_WAIT_NS
    };
    if !waited {
        return None;
    }
    let (server, port) = (b.server, b.port);
    let mut frames: Vec<FrameRef> = b.unanswered.iter().map(|r| r.0).collect();
    // ICMP errors quoting these requests: the server's own port
    // unreachable (nothing listens), or a firewall's on the way.
    let refusals: Vec<&crate::client::Refusal> = c
        .refusals()
        .iter()
        .filter(|r| !r.reply && r.port == b.port && r.to == server && r.ts >= first)
        .collect();
    let refused: Vec<FrameRef> = refusals.iter().map(|r| r.at).collect();
    frames.extend(&refused);
    frames.extend(&b.plain.frames);
    // A search by broadcast or multicast (to UDP 67 with a boot item,
    // PXE 2.1 §2.2.5) rather than a question to one server.
    let discovery = b.port == 67 || server.is_broadcast() || server.is_multicast();
    // The capture holds this server's DHCP replies to the client: it sees
    // the way back from that server, where an answer from 4011 would come.
    // For a search, any server's: it sees the client's side.
    let seen_replies = if discovery {
        !c.servers().is_empty()
    } else {
        c.servers().contains(&server)
    };
    let confidence = if seen_replies || !refused.is_empty() {
        Confidence::High
    } else {
        Confidence::Medium
    };
    // iPXE falls back to the ACK's own boot file.
    let (ipxe_boots, _) = c.boot_files();
    // Not from a boot menu's item (its requests name the item): iPXE then
    // stops with the menu.
    let fallback = ipxe_boots
        .last()
        .filter(|_| b.ipxe && b.item.is_none())
        .map(|(f, _)| f);
    let requests = if n == 1 {
        "a request".to_string()
    } else {
        format!("{n} requests")
    };
    let span = if n > 1 {
        format!(", over {:.1} s", (last.0 - first.0) as f64 / 1e9)
    } else {
        String::new()
    };
    let after = match (
        c.outcome().is_some_and(Outcome::is_success),
        c.address(),
        c.server(),
    ) {
        (true, Some(a), Some(s)) => format!("After its DHCP exchange (it holds {a} from {s}), the"),
        (true, Some(a), None) => format!("After its DHCP exchange (it holds {a}), the"),
        _ => "The".to_string(),
    };
    let vantage = if let Some(r) = refusals.first() {
        let listed = frame_list(files, refused.iter().copied());
        if r.reporter == server && r.code == 3 {
            format!(
                "{server} answered with ICMP port unreachable ({listed}): nothing listens on UDP {} there.",
                b.port
            )
        } else {
            format!(
                "{} answered with ICMP destination unreachable, code {} ({listed}): a firewall or router rejects UDP \
                 {} to {server}.",
                r.reporter, r.code, b.port
            )
        }
    } else if discovery && seen_replies {
        "The capture holds DHCP replies to this client, so it sees the client's side, where a boot server's answer \
         would arrive."
            .to_string()
    } else if discovery {
        "The capture holds no DHCP reply to this client, so an answer may have taken a path it does not see: \
         capture at the client's side to be sure."
            .to_string()
    } else if seen_replies {
        format!(
            "The capture holds {server}'s DHCP replies to this client, so it sees the way an answer from port 4011 \
             would take."
        )
    } else {
        format!(
            "The capture holds no DHCP reply from {server} to this client, so an answer may have taken a path it \
             does not see: capture at the client's side to be sure."
        )
    };
    let (severity, what, consequence) = match fallback {
        Some(file) => (
            Severity::Warning,
            "no answer, iPXE falls back to the ACK's boot file",
            format!(
                "iPXE gives up on the boot server after a few seconds and boots the file its DHCP ACK named ({file}), so \
                 the boot is only delayed here; a ROM that is not iPXE stops instead (PXE-E55)."
            ),
        ),
        // A boot menu's item (a search, or a request that names the item).
        None if discovery || b.item.is_some() => (
            Severity::Error,
            "no answer, the boot stops",
            "Without an answer the boot stops here (iPXE: \"PXEBS … Connection timed out\"; Intel and other PXE \
             ROMs: PXE-E78, \"Could not locate boot server\")."
                .to_string(),
        ),
        None => (
            Severity::Error,
            "no answer, the boot stops",
            "Without an answer the boot stops here (iPXE: \"Nothing to boot\"; Intel and other PXE ROMs: PXE-E55, \
             \"ProxyDHCP service did not reply to request on port 4011\", or after a boot menu PXE-E78, \"Could not \
             locate boot server\")."
                .to_string(),
        ),
    };
    let f = Finding::new(
        Code::PxeBootServerUnanswered,
        severity,
        Some(c.chaddr),
        Some(asked_xid),
    );
    let f = if severity == Severity::Error {
        f.cause(confidence)
    } else {
        f.confidence(confidence)
    };
    let times = match n {
        1 => "once".to_string(),
        2 => "twice".to_string(),
        _ => format!("{n} times"),
    };
    let asked = frame_list(files, b.unanswered.iter().map(|r| r.0));
    let f = f.frames(frames.iter().copied());
    if discovery {
        let item = b.item.map_or("a boot item".to_string(), |(t, _)| {
            format!("boot item type {t}")
        });
        let how = if server.is_multicast() {
            format!("by multicast to {server}:{}", b.port)
        } else {
            format!("by broadcast to UDP {}", b.port)
        };
        if let Some(by) = b.plain.by {
            return Some(search_taken_for_rebind(
                f,
                c,
                b,
                by,
                SearchText {
                    item,
                    how,
                    times,
                    requests,
                    asked,
                    span,
                    after,
                },
                files,
            ));
        }
        return Some(
            f.summary(format!("the PXE ROM looked for a boot server for {item} {how} {times}: {what}"))
                .explanation(format!(
                    "{after} PXE ROM sent {requests} to find a boot server for {item} {how} ({asked}{span}, xid {}: a \
                     DHCPREQUEST naming the item in option 43 sub-option 71), and no boot server answered. A ROM searches \
                     this way when it picks an item of a PXE boot menu (option 43 sub-option 9) whose server the menu \
                     does not name (sub-option 8) and discovery control (sub-option 6) allows it: dnsmasq offers this for \
                     a `pxe-service` with a boot service type and no server address. {consequence} {vantage}",
                    xid(asked_xid),
                ))
                .fix(format!(
                    "Run a boot server that answers for {item} on this network (WDS, a PXE server), or name its address \
                     in the boot menu (option 43 sub-option 8; dnsmasq `pxe-service=x86PC,\"…\",<type>,<server \
                     address>`). With dnsmasq and no such server, give the menu item a basename instead of a type \
                     (`pxe-service=x86PC,\"…\",<basename>`): dnsmasq then answers for it itself, on UDP 4011."
                ))
                .references(&["PXE specification 2.1 §2.2.5", "failure catalogue E.31"]),
        );
    }
    Some(
        f.summary(format!(
            "the PXE ROM asked {server} for its boot file on UDP {} {times}: {what}",
            b.port
        ))
        .explanation(format!(
            "{after} PXE ROM sent {requests} for its boot file{} to {server} on UDP port {} ({asked}{span}, xid {}), and \
             nothing came back from that port. A ROM asks there when an OFFER carried option 60 «PXEClient»: a \
             ProxyDHCP offer, a DHCP server claiming PXE service itself, or a boot menu's server. {consequence} \
             {vantage}",
            b.item.map_or(String::new(), |(t, _)| format!(" (boot item type {t}, option 43 sub-option 71)")),
            b.port,
            xid(asked_xid),
        ))
        .fix(format!(
            "Start the PXE service on {server}, or let UDP {port} through to it (`ss -ulnp 'sport = :{port}'` there; an \
             ICMP port unreachable from it in a capture says nothing listens). If {server} runs no PXE service, take \
             option 60 «PXEClient» out of the DHCP replies (ISC `option vendor-class-identifier`, dnsmasq \
             `dhcp-option=60,…`, Kea `vendor-class-identifier`) and name the boot file in them instead (ISC \
             `filename` and `next-server`, dnsmasq `dhcp-boot`, Kea `boot-file-name`)."
        ))
        .references(&["PXE specification 2.1 §2.2", "failure catalogue E.31"]),
    )
}

/// The words of a boot server search that [`pxe_boot_server_unanswered`]
/// has already put together.
pub(super) struct SearchText {
    item: String,
    how: String,
    times: String,
    requests: String,
    asked: String,
    span: String,
    after: String,
}

/// `pxe-boot-server-unanswered` for a search that a DHCP server answered as
/// an ordinary DHCP message: an ACK (or NAK) under the search's xid that
/// names no boot item. The ROM takes only an ACK that names the item it
/// asked for (iPXE drops any other), so it searches again and stops. Seen
/// with ISC dhcpd serving a boot menu written by hand in option 43: it
/// reads the search, a REQUEST with ciaddr and no server identifier, as a
/// rebind.
pub(super) fn search_taken_for_rebind(
    f: Finding,
    c: &Client,
    b: &crate::client::BootServer,
    by: std::net::Ipv4Addr,
    t: SearchText,
    files: &[String],
) -> Finding {
    let SearchText {
        item,
        how,
        times,
        requests,
        asked,
        span,
        after,
    } = t;
    let p = &b.plain;
    let asked_n = b.unanswered_count;
    let which = match (asked_n, p.searches) {
        (1, _) => "the search".to_string(),
        (n, m) if m >= n => "each search".to_string(),
        (n, m) => format!("{m} of the {n} searches"),
    };
    let who = if c.server() == Some(by) {
        format!("{by}, the DHCP server that gave the ROM its address,")
    } else {
        format!("{by}, a DHCP server,")
    };
    let who = if p.others {
        format!("{who} and another DHCP server")
    } else {
        who
    };
    let short_who = if p.others {
        format!("{by} and another DHCP server")
    } else {
        by.to_string()
    };
    let replies = if p.count == 1 { "reply" } else { "replies" };
    let again = if asked_n >= 2 {
        "it searched again and stopped"
    } else {
        "it stopped"
    };
    f.summary(format!(
        "the PXE ROM looked for a boot server for {item} {how} {times}: {short_who} answered as if it were an \
         ordinary DHCP request, with {} no boot item, and the boot stops",
        if p.count == 1 { "a reply that names" } else { "replies that name" }
    ))
    .explanation(format!(
        "{after} PXE ROM sent {requests} to find a boot server for {item} {how} ({asked}{span}, xid {}: a message \
         from its new address naming the item in option 43 sub-option 71), as a PXE boot menu (option 43 \
         sub-option 9) that names no server for the item (no sub-option 8) has it do. No boot server answered. {who} \
         answered {which} with a DHCP reply that names no boot item ({} {replies}, {}): it took the search for the \
         client's own DHCP message. ISC dhcpd reads a REQUEST with ciaddr and no server identifier as a rebind \
         (RFC 2131 §4.3.2) and ACKs it, logging \"DHCPREQUEST for <address> from <MAC>\" with no server in \
         parentheses. A PXE ROM takes only an ACK that names the boot item it asked for (iPXE drops any other), so \
         {again} (iPXE: \"PXEBS … Connection timed out\"; Intel and other PXE ROMs: PXE-E78, \"Could not locate \
         boot server\").",
        xid(b.unanswered[0].2),
        p.count,
        frame_list(files, p.frames.iter().copied()),
    ))
    .fix(format!(
        "A DHCP server is no boot server. Either run one that answers for {item} (WDS, a PXE server) and name its \
         address in the menu (option 43 sub-option 8), or take the boot menu out of the DHCP replies that carry it \
         (ISC: the `vendor-encapsulated-options` or PXE option space that holds sub-options 6 to 10; Windows: \
         option 43) and name the boot file in them instead (ISC `filename` and `next-server`). dnsmasq can serve \
         the menu and the file itself: `pxe-service=x86PC,\"…\",<basename>`."
    ))
    .references(&[
        "PXE specification 2.1 §2.2.5",
        "RFC 2131 §4.3.2",
        "failure catalogue E.31",
    ])
}

/// Whether a boot file names a network boot program (`undionly.kpxe`,
/// `ipxe.efi`, `pxelinux.0`) rather than a script or URL iPXE should get
/// (`http://10.0.0.1/boot.ipxe`): judged by the last path component only.
pub(super) fn is_boot_binary(file: &str) -> bool {
    let name = file.rsplit('/').next().unwrap_or(file).to_ascii_lowercase();
    [".kpxe", ".kkpxe", ".pxe", ".efi", ".0", ".lkrn"]
        .iter()
        .any(|x| name.ends_with(x))
        || name.starts_with("undionly")
}
