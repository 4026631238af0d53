//! Rules over a client's whole stay in the capture (at its end), and over
//! all clients (identifiers shared by several machines).

use super::*;

/// Rules over a whole client, at the end of a capture that ends at `end`
/// (`files`: the capture files' names, for frame references).
pub fn client_end(c: &Client, end: Timestamp, files: &[String]) -> Vec<Finding> {
    let (ipxe_boots, pxe_boot_file) = c.boot_files();
    let mut out = Vec::new();
    for b in c.boot_servers() {
        out.extend(pxe_boot_server_unanswered(c, b, end, files));
    }
    out.extend(refused(c, files));
    if c.client_id_count() >= 2 {
        let ids: Vec<String> = c
            .client_ids()
            .iter()
            .map(|i| i.map_or("(none)".to_string(), |i| i.hex()))
            .collect();
        out.push(
            Finding::new(Code::ClientIdChanged, Severity::Warning, Some(c.chaddr), None)
                .summary(format!("one machine used {} client identifiers", ids.len()))
                .explanation(format!(
                    "MAC {} sent these client identifiers (option 61): {}. Servers key leases on option 61 when present, so each \
                     identity gets its own lease: typical of PXE firmware, then the installed OS (ISC logs \"uid lease … is duplicate\").",
                    c.chaddr,
                    ids.join(", ")
                ))
                .fix("Usually harmless; if the pool runs short, make the boot stages use the same client identifier or shorten PXE leases.")
                .references(&["RFC 2132 §9.14", "RFC 4361"]),
        );
    }
    if ipxe_boots.len() >= 2 {
        let file = &ipxe_boots[0].0;
        let same = ipxe_boots.iter().filter(|(f, _)| f == file).count();
        if same >= 2 && (is_boot_binary(file) || pxe_boot_file == Some(&**file)) {
            out.push(
                Finding::new(Code::IpxeChainloadLoop, Severity::Error, Some(c.chaddr), None)
                    .cause(Confidence::High)
                    .frames(ipxe_boots.iter().map(|(_, r)| *r))
                    .summary(format!("iPXE was handed {file} {same} times: it chainloads itself"))
                    .explanation(format!(
                        "The client identified itself as iPXE (option 77 \"iPXE\" or option 175) and was given the boot file \
                         {file} {same} times: the iPXE binary it is already running, so it loads itself again and again."
                    ))
                    .fix("Give iPXE clients a script or URL instead: ISC `if exists user-class and option user-class = \"iPXE\" { filename \"http://…/boot.ipxe\"; } else { filename \"undionly.kpxe\"; }`; dnsmasq `dhcp-userclass=set:ipxe,iPXE` with `dhcp-boot=tag:ipxe,…`.")
                    .references(&["iPXE documentation: chainloading", "failure catalogue E.32"]),
            );
        }
    }
    out
}

/// `client-id-shared`: one client identifier used by several MACs.
pub fn shared_client_ids(
    ids: &rustc_hash::FxHashMap<Short, Vec<HwAddr>>,
    clients: &[Client],
) -> Vec<Finding> {
    // The leases of the MACs named, in one pass over the clients.
    let mut leased: rustc_hash::FxHashMap<HwAddr, Option<Ipv4Addr>> = ids
        .values()
        .filter(|macs| macs.len() >= 2)
        .flatten()
        .map(|m| (*m, None))
        .collect();
    if !leased.is_empty() {
        for c in clients {
            if let Some(l) = leased.get_mut(&c.chaddr) {
                *l = c.lease.map(|l| l.address);
            }
        }
    }
    let mut out: Vec<Finding> = ids
        .iter()
        .filter(|(_, macs)| macs.len() >= 2)
        .map(|(id, macs)| {
            let leases: Vec<String> = macs
                .iter()
                .map(|m| {
                    let lease = leased.get(m).copied().flatten();
                    format!("{m}{}", lease.map_or(String::new(), |a| format!(" (leased {a})")))
                })
                .collect();
            Finding::new(Code::ClientIdShared, Severity::Warning, macs.first().copied(), None)
                .summary(format!("client identifier {} is used by {} machines", id.hex(), macs.len()))
                .explanation(format!(
                    "These MACs all send client identifier {}: {}. Servers treat them as one client and give them one \
                     lease between them, which they take from each other: cloned VMs or images with the same DUID or machine-id.",
                    id.hex(),
                    leases.join(", ")
                ))
                .fix("Regenerate the machine-id / DUID on cloned machines (e.g. `systemd-machine-id-setup` after clearing /etc/machine-id).")
                .references(&["RFC 4361", "failure catalogue D.26"])
        })
        .collect();
    out.sort_by(|a, b| a.summary.cmp(&b.summary));
    out
}
