//! The kernel filter for DHCP traffic, as classic BPF.
//!
//! Accepts IPv4 packets that are not a later fragment, untagged or behind one
//! 802.1Q/802.1ad tag still in the frame (the kernel usually strips tags into
//! metadata, which the filter does not see), when they are
//! - UDP from or to port 67 or 68 (DHCP), or 4011 (a PXE boot server), or
//! - ICMP destination unreachable, whose quote may be a refused DHCP message
//!   (the analysis reads the quote and keeps only those).
//!
//! A small interpreter in the tests runs the program on real frames.

/// One classic BPF instruction (`struct sock_filter`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Insn {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

// Opcodes (linux/bpf_common.h, linux/filter.h).
const LD_H_ABS: u16 = 0x28;
const LD_B_ABS: u16 = 0x30;
const LD_H_IND: u16 = 0x48;
const LD_B_IND: u16 = 0x50;
const LDX_B_MSH: u16 = 0xb1;
const JEQ_K: u16 = 0x15;
const JSET_K: u16 = 0x45;
const RET_K: u16 = 0x06;

const ACCEPT_BYTES: u32 = 262_144;

/// A jump target while assembling.
#[derive(Clone, Copy)]
enum To {
    Next,
    Label(&'static str),
}

enum Step {
    Op(u16, u32),
    Jump(u16, u32, To, To),
    Label(&'static str),
}

/// Resolves labels into relative jumps.
fn assemble(steps: &[Step]) -> Vec<Insn> {
    let mut at = std::collections::HashMap::new();
    let mut n = 0usize;
    for s in steps {
        match s {
            Step::Label(l) => {
                at.insert(*l, n);
            }
            _ => n += 1,
        }
    }
    let mut out = Vec::with_capacity(n);
    for s in steps {
        let here = out.len();
        let rel = |t: &To| -> u8 {
            match t {
                To::Next => 0,
                To::Label(l) => {
                    let target = at[l];
                    u8::try_from(target - here - 1).expect("jump within 255")
                }
            }
        };
        match s {
            Step::Op(code, k) => out.push(Insn {
                code: *code,
                jt: 0,
                jf: 0,
                k: *k,
            }),
            Step::Jump(code, k, t, f) => out.push(Insn {
                code: *code,
                jt: rel(t),
                jf: rel(f),
                k: *k,
            }),
            Step::Label(_) => {}
        }
    }
    out
}

/// UDP ports whose datagrams the filter keeps, either way.
const PORTS: [u32; 3] = [67, 68, 4011];

/// ICMP's destination unreachable (RFC 792).
const ICMP_DEST_UNREACHABLE: u32 = 3;

/// The IPv4 checks with the IP header at `ip` bytes into the frame; `icmp`
/// labels this header's ICMP test (each call needs its own).
fn ipv4_checks(ip: u32, icmp: &'static str, steps: &mut Vec<Step>) {
    use Step::*;
    steps.extend([
        Op(LD_H_ABS, ip + 6),
        Jump(JSET_K, 0x1fff, To::Label("drop"), To::Next),
        Op(LD_B_ABS, ip + 9),
        Jump(JEQ_K, 17, To::Next, To::Label(icmp)),
        Op(LDX_B_MSH, ip),
    ]);
    for port_at in [ip, ip + 2] {
        steps.push(Op(LD_H_IND, port_at));
        for (i, p) in PORTS.into_iter().enumerate() {
            let last = port_at == ip + 2 && i == PORTS.len() - 1;
            let otherwise = if last { To::Label("drop") } else { To::Next };
            steps.push(Jump(JEQ_K, p, To::Label("accept"), otherwise));
        }
    }
    steps.extend([
        Label(icmp),
        Jump(JEQ_K, 1, To::Next, To::Label("drop")),
        Op(LDX_B_MSH, ip),
        Op(LD_B_IND, ip),
        // Every code, "fragmentation needed" too (a reply too large for the
        // path, with DF set, is evidence): capture files are read alike.
        Jump(
            JEQ_K,
            ICMP_DEST_UNREACHABLE,
            To::Label("accept"),
            To::Label("drop"),
        ),
    ]);
}

/// The DHCP filter for Ethernet frames.
pub fn dhcp_filter() -> Vec<Insn> {
    use Step::*;
    let mut s = vec![
        Op(LD_H_ABS, 12),
        Jump(JEQ_K, 0x0800, To::Label("ip"), To::Next),
        Jump(JEQ_K, 0x8100, To::Label("vlan"), To::Next),
        Jump(JEQ_K, 0x88a8, To::Label("vlan"), To::Label("drop")),
        Label("ip"),
    ];
    ipv4_checks(14, "icmp", &mut s);
    s.extend([
        Label("vlan"),
        Op(LD_H_ABS, 16),
        Jump(JEQ_K, 0x0800, To::Next, To::Label("drop")),
    ]);
    ipv4_checks(18, "icmp behind a tag", &mut s);
    s.extend([
        Label("accept"),
        Op(RET_K, ACCEPT_BYTES),
        Label("drop"),
        Op(RET_K, 0),
    ]);
    assemble(&s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;
    use wire::frame::UdpFrame;

    /// Runs the subset of classic BPF the filter uses.
    fn run(prog: &[Insn], pkt: &[u8]) -> u32 {
        let (mut a, mut x, mut pc) = (0u32, 0u32, 0usize);
        let byte = |o: usize| pkt.get(o).copied();
        let half = |o: usize| Some(u16::from_be_bytes([*pkt.get(o)?, *pkt.get(o + 1)?]));
        loop {
            let i = prog[pc];
            pc += 1;
            match i.code {
                LD_H_ABS => match half(i.k as usize) {
                    Some(v) => a = v.into(),
                    None => return 0,
                },
                LD_B_ABS => match byte(i.k as usize) {
                    Some(v) => a = v.into(),
                    None => return 0,
                },
                LD_H_IND => match half((x + i.k) as usize) {
                    Some(v) => a = v.into(),
                    None => return 0,
                },
                LD_B_IND => match byte((x + i.k) as usize) {
                    Some(v) => a = v.into(),
                    None => return 0,
                },
                LDX_B_MSH => match byte(i.k as usize) {
                    Some(v) => x = u32::from(v & 0xf) * 4,
                    None => return 0,
                },
                JEQ_K => pc += usize::from(if a == i.k { i.jt } else { i.jf }),
                JSET_K => pc += usize::from(if a & i.k != 0 { i.jt } else { i.jf }),
                RET_K => return i.k,
                c => panic!("opcode {c:#x} not in the interpreter"),
            }
        }
    }

    fn frame(ports: (u16, u16), vlans: Vec<u16>) -> Vec<u8> {
        let mut f = UdpFrame::new(
            (Ipv4Addr::UNSPECIFIED, ports.0),
            (Ipv4Addr::BROADCAST, ports.1),
            &[0; 300],
        );
        f.vlans = vlans;
        f.ethernet_frame()
    }

    #[test]
    fn accepts_dhcp_in_both_directions_and_behind_a_tag() {
        let p = dhcp_filter();
        assert_eq!(run(&p, &frame((68, 67), vec![])), ACCEPT_BYTES);
        assert_eq!(run(&p, &frame((67, 68), vec![])), ACCEPT_BYTES);
        assert_eq!(run(&p, &frame((67, 67), vec![])), ACCEPT_BYTES);
        assert_eq!(run(&p, &frame((68, 67), vec![42])), ACCEPT_BYTES);
    }

    #[test]
    fn accepts_a_pxe_boot_server_exchange_and_icmp_errors() {
        let p = dhcp_filter();
        assert_eq!(run(&p, &frame((68, 4011), vec![])), ACCEPT_BYTES);
        assert_eq!(run(&p, &frame((4011, 68), vec![42])), ACCEPT_BYTES);
        // A real PXE ROM's requests to UDP 4011 and the ICMP port
        // unreachable that answered them (the lab's capture of iPXE).
        for name in ["client.pcap", "server.pcap"] {
            let path = concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../examples/pxe-boot-server-silent/"
            );
            let mut r = crate::read::open(format!("{path}{name}")).unwrap();
            let (mut icmp, mut boot) = (0, 0);
            while let Some(pkt) = r.next_packet().unwrap() {
                let f = pkt.data;
                assert_eq!(run(&p, f), ACCEPT_BYTES, "{name} frame {}", pkt.number);
                icmp += usize::from(f[23] == 1);
                boot += usize::from(
                    f[23] == 17 && (f[34..36] == [0x0f, 0xab] || f[36..38] == [0x0f, 0xab]),
                );
            }
            assert_eq!((icmp, boot), (4, 4), "{name}");
        }
        let mut tagged = frame((68, 67), vec![42]);
        let quote = tagged[18..].to_vec();
        tagged.truncate(18);
        tagged.extend([
            0x45, 0, 0, 0, 0, 0, 0, 0, 64, 1, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ]);
        tagged.extend([3, 3, 0, 0, 0, 0, 0, 0]);
        tagged.extend(quote);
        assert_eq!(run(&p, &tagged), ACCEPT_BYTES);
        let mut echo = tagged.clone();
        echo[38] = 8;
        assert_eq!(run(&p, &echo), 0, "an echo request");
        let mut too_big = tagged.clone();
        too_big[39] = 4;
        assert_eq!(run(&p, &too_big), ACCEPT_BYTES, "fragmentation needed");
        let mut prohibited = tagged.clone();
        prohibited[39] = 13;
        assert_eq!(
            run(&p, &prohibited),
            ACCEPT_BYTES,
            "administratively prohibited"
        );
    }

    #[test]
    fn drops_everything_else() {
        let p = dhcp_filter();
        assert_eq!(run(&p, &frame((53, 5353), vec![])), 0);
        assert_eq!(run(&p, &frame((53, 5353), vec![42])), 0);
        let mut tcp = frame((68, 67), vec![]);
        tcp[23] = 6;
        assert_eq!(run(&p, &tcp), 0);
        let mut later_fragment = frame((68, 67), vec![]);
        later_fragment[21] = 1;
        assert_eq!(run(&p, &later_fragment), 0);
        let mut arp = frame((68, 67), vec![]);
        arp[12..14].copy_from_slice(&[0x08, 0x06]);
        assert_eq!(run(&p, &arp), 0);
        assert_eq!(run(&p, &[0; 10]), 0);
        let mut tcp_boot = frame((50000, 4011), vec![]);
        tcp_boot[23] = 6;
        assert_eq!(run(&p, &tcp_boot), 0);
        // An ICMP error whose own datagram is a later fragment.
        let mut icmp_fragment = frame((68, 67), vec![]);
        icmp_fragment[23] = 1;
        icmp_fragment[34] = 3;
        assert_eq!(run(&p, &icmp_fragment), ACCEPT_BYTES);
        icmp_fragment[21] = 1;
        assert_eq!(run(&p, &icmp_fragment), 0);
    }
}
