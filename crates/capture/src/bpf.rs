//! The kernel filter for DHCP traffic, as classic BPF.
//!
//! Accepts IPv4/UDP datagrams from or to port 67 or 68 that are not a later
//! fragment, untagged or behind one 802.1Q/802.1ad tag still in the frame (the
//! kernel usually strips tags into metadata, which the filter does not see).
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

/// The IPv4/UDP port checks with the IP header at `ip` bytes into the frame.
fn udp_checks(ip: u32, steps: &mut Vec<Step>) {
    use Step::*;
    steps.extend([
        Op(LD_B_ABS, ip + 9),
        Jump(JEQ_K, 17, To::Next, To::Label("drop")),
        Op(LD_H_ABS, ip + 6),
        Jump(JSET_K, 0x1fff, To::Label("drop"), To::Next),
        Op(LDX_B_MSH, ip),
        Op(LD_H_IND, ip),
        Jump(JEQ_K, 67, To::Label("accept"), To::Next),
        Jump(JEQ_K, 68, To::Label("accept"), To::Next),
        Op(LD_H_IND, ip + 2),
        Jump(JEQ_K, 67, To::Label("accept"), To::Next),
        Jump(JEQ_K, 68, To::Label("accept"), To::Label("drop")),
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
    udp_checks(14, &mut s);
    s.extend([
        Label("vlan"),
        Op(LD_H_ABS, 16),
        Jump(JEQ_K, 0x0800, To::Next, To::Label("drop")),
    ]);
    udp_checks(18, &mut s);
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
    }
}
