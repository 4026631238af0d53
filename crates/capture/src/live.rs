//! Live capture and raw sending on Linux, with an `AF_PACKET` socket.
//!
//! [`PacketSocket`] receives every DHCP frame on one interface (a kernel BPF
//! filter keeps the rest out), each with what the kernel knows about its
//! checksum (`PACKET_AUXDATA`): [`KernelChecksum::NotReady`] means the frame
//! carries `CHECKSUM_PARTIAL`, so a partial UDP checksum in it is certainly
//! transmit offload on this host. It also sends whole Ethernet frames.
//!
//! Needs `CAP_NET_RAW`; without it, [`PacketSocket::open`] says what is missing
//! and how to grant it.
#![allow(unsafe_code)]

use std::ffi::CString;
use std::io;
use std::mem::{size_of, zeroed};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::bpf;

/// What the kernel said about a received frame's transport checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KernelChecksum {
    /// `TP_STATUS_CSUMNOTREADY`: the checksum is left for the NIC to fill
    /// (`CHECKSUM_PARTIAL`); the field holds the pseudo-header sum.
    NotReady,
    /// `TP_STATUS_CSUM_VALID`: the NIC or stack already verified it.
    Valid,
    /// Neither flag: the kernel knows nothing either way.
    Unknown,
}

/// Which way a frame went, from the socket's interface (`sll_pkttype`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Addressed to this host (unicast, broadcast or multicast).
    Incoming,
    /// Sent by this host.
    Outgoing,
    /// Seen in promiscuous mode, addressed to another host.
    OtherHost,
}

/// A received frame.
#[derive(Debug, Clone)]
pub struct LivePacket {
    /// Nanoseconds since the Unix epoch, from the kernel's receive timestamp.
    pub timestamp_ns: i64,
    /// The Ethernet frame, with a VLAN tag the kernel had stripped put back.
    pub data: Vec<u8>,
    /// The frame's length on the wire (more than `data.len()` if it was cut).
    pub orig_len: usize,
    pub checksum: KernelChecksum,
    pub direction: Direction,
}

/// Options for [`PacketSocket::open`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Put the interface in promiscuous mode while the socket is open.
    pub promiscuous: bool,
    /// Receive every frame, not only DHCP (for sockets that only send).
    pub unfiltered: bool,
}

/// An `AF_PACKET` socket bound to one interface.
#[derive(Debug)]
pub struct PacketSocket {
    fd: OwnedFd,
    ifindex: i32,
    name: String,
    mac: [u8; 6],
}

const ETH_P_ALL: u16 = 0x0003;

fn last_error(what: &str, iface: &str) -> io::Error {
    let e = io::Error::last_os_error();
    let hint = match e.raw_os_error() {
        Some(libc::EPERM) | Some(libc::EACCES) => {
            "; capturing needs CAP_NET_RAW: run as root, or grant it with \
             `sudo setcap cap_net_raw+ep $(command -v dhcplens)`"
        }
        Some(libc::ENODEV) => "; no such interface (see `ip link`)",
        _ => "",
    };
    io::Error::new(e.kind(), format!("{what} on {iface}: {e}{hint}"))
}

/// The index of interface `name`.
pub fn interface_index(name: &str) -> io::Result<i32> {
    let c = CString::new(name)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "interface name has a NUL"))?;
    // SAFETY: `c` is a valid NUL-terminated string for the duration of the call.
    let i = unsafe { libc::if_nametoindex(c.as_ptr()) };
    if i == 0 {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("no interface named {name:?} (see `ip link`)"),
        ));
    }
    Ok(i as i32)
}

/// Runs the `SIOCGIF*` ioctl `request` for interface `name` on a throwaway
/// socket; `what` names it in the error.
fn interface_ioctl(name: &str, request: libc::Ioctl, what: &str) -> io::Result<libc::ifreq> {
    // SAFETY: plain socket(2) call; the result is checked.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(last_error("socket", name));
    }
    // SAFETY: `fd` is a fresh descriptor we own.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: ifreq is plain old data; zeroed is a valid value.
    let mut req: libc::ifreq = unsafe { zeroed() };
    let bytes = name.as_bytes();
    if bytes.len() >= req.ifr_name.len() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("interface name {name:?} is too long"),
        ));
    }
    for (d, s) in req.ifr_name.iter_mut().zip(bytes) {
        *d = *s as libc::c_char;
    }
    // SAFETY: the SIOCGIF* requests read `ifr_name` and write one member of
    // the `ifr_ifru` union of `req`.
    if unsafe { libc::ioctl(fd.as_raw_fd(), request, &mut req) } < 0 {
        return Err(last_error(what, name));
    }
    Ok(req)
}

/// The MAC address of interface `name`.
pub fn interface_mac(name: &str) -> io::Result<[u8; 6]> {
    let req = interface_ioctl(name, libc::SIOCGIFHWADDR, "reading the MAC address")?;
    // SAFETY: the ioctl filled the `ifru_hwaddr` member of the union.
    let sa = unsafe { req.ifr_ifru.ifru_hwaddr };
    let mut mac = [0u8; 6];
    for (d, s) in mac.iter_mut().zip(sa.sa_data.iter()) {
        *d = *s as u8;
    }
    Ok(mac)
}

/// The primary IPv4 address of interface `name` and its prefix length.
pub fn interface_ipv4(name: &str) -> io::Result<(std::net::Ipv4Addr, u8)> {
    fn ipv4(req: &libc::ifreq) -> std::net::Ipv4Addr {
        // SAFETY: the ioctl filled the `ifru_addr` (or `ifru_netmask`, the
        // same layout) member with a `sockaddr_in`.
        let sa = unsafe { req.ifr_ifru.ifru_addr };
        // sockaddr_in: family (2 bytes), port (2), then the address.
        let d = sa.sa_data;
        std::net::Ipv4Addr::new(d[2] as u8, d[3] as u8, d[4] as u8, d[5] as u8)
    }
    let addr = ipv4(&interface_ioctl(
        name,
        libc::SIOCGIFADDR,
        "reading the IPv4 address (has the interface one?)",
    )?);
    let mask = ipv4(&interface_ioctl(
        name,
        libc::SIOCGIFNETMASK,
        "reading the netmask",
    )?);
    Ok((addr, u32::from(mask).leading_ones() as u8))
}

fn setsockopt<T>(fd: RawFd, level: i32, name: i32, value: &T) -> io::Result<()> {
    // SAFETY: `value` points to a live `T` of the size passed.
    let r = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (value as *const T).cast(),
            size_of::<T>() as libc::socklen_t,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

impl PacketSocket {
    /// Opens a socket on `iface` that receives DHCP frames (or everything, with
    /// `unfiltered`) and can send frames.
    pub fn open(iface: &str, options: Options) -> io::Result<PacketSocket> {
        let ifindex = interface_index(iface)?;
        let mac = interface_mac(iface).unwrap_or([0; 6]);
        // Protocol 0: receive nothing until the filter is attached and the
        // socket bound, so no unfiltered frame slips in between.
        // SAFETY: plain socket(2) call; the result is checked.
        let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
        if fd < 0 {
            return Err(last_error("opening a packet socket", iface));
        }
        // SAFETY: `fd` is a fresh descriptor we own.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let raw = fd.as_raw_fd();
        if !options.unfiltered {
            let prog: Vec<libc::sock_filter> = bpf::dhcp_filter()
                .iter()
                .map(|i| libc::sock_filter {
                    code: i.code,
                    jt: i.jt,
                    jf: i.jf,
                    k: i.k,
                })
                .collect();
            let fprog = libc::sock_fprog {
                len: prog.len() as u16,
                filter: prog.as_ptr() as *mut _,
            };
            setsockopt(raw, libc::SOL_SOCKET, libc::SO_ATTACH_FILTER, &fprog).map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("attaching the DHCP filter on {iface}: {e}"),
                )
            })?;
        }
        setsockopt(raw, libc::SOL_PACKET, libc::PACKET_AUXDATA, &1i32)?;
        setsockopt(raw, libc::SOL_SOCKET, libc::SO_TIMESTAMPNS, &1i32)?;
        // SAFETY: sockaddr_ll is plain old data.
        let mut sll: libc::sockaddr_ll = unsafe { zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_protocol = ETH_P_ALL.to_be();
        sll.sll_ifindex = ifindex;
        // SAFETY: `sll` is a valid sockaddr_ll of the size passed.
        let r = unsafe {
            libc::bind(
                raw,
                (&sll as *const libc::sockaddr_ll).cast(),
                size_of::<libc::sockaddr_ll>() as u32,
            )
        };
        if r < 0 {
            return Err(last_error("binding a packet socket", iface));
        }
        if options.promiscuous {
            // SAFETY: packet_mreq is plain old data.
            let mut mreq: libc::packet_mreq = unsafe { zeroed() };
            mreq.mr_ifindex = ifindex;
            mreq.mr_type = libc::PACKET_MR_PROMISC as u16;
            setsockopt(raw, libc::SOL_PACKET, libc::PACKET_ADD_MEMBERSHIP, &mreq).map_err(|e| {
                io::Error::new(e.kind(), format!("promiscuous mode on {iface}: {e}"))
            })?;
        }
        Ok(PacketSocket {
            fd,
            ifindex,
            name: iface.to_string(),
            mac,
        })
    }

    /// The interface's name.
    pub fn interface(&self) -> &str {
        &self.name
    }

    /// The interface's MAC address (zeros if it has none).
    pub fn mac(&self) -> [u8; 6] {
        self.mac
    }

    /// Sends one whole Ethernet frame.
    pub fn send(&self, frame: &[u8]) -> io::Result<()> {
        // SAFETY: sockaddr_ll is plain old data.
        let mut sll: libc::sockaddr_ll = unsafe { zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_ifindex = self.ifindex;
        sll.sll_halen = 6;
        sll.sll_addr[..6].copy_from_slice(frame.get(..6).unwrap_or(&[0xff; 6]));
        // SAFETY: `frame` and `sll` are valid for the sizes passed.
        let r = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                frame.as_ptr().cast(),
                frame.len(),
                0,
                (&sll as *const libc::sockaddr_ll).cast(),
                size_of::<libc::sockaddr_ll>() as u32,
            )
        };
        if r < 0 {
            return Err(last_error("sending", &self.name));
        }
        Ok(())
    }

    /// Waits up to `timeout` (forever with `None`) for a frame. `Ok(None)` on
    /// timeout; interrupted waits (a signal) also return `Ok(None)`.
    pub fn recv(&self, timeout: Option<Duration>) -> io::Result<Option<LivePacket>> {
        let ms = timeout.map_or(-1, |t| t.as_millis().min(i32::MAX as u128) as i32);
        let mut pfd = libc::pollfd {
            fd: self.fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let r = unsafe { libc::poll(&mut pfd, 1, ms) };
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                return Ok(None);
            }
            return Err(e);
        }
        if r == 0 {
            return Ok(None);
        }
        self.recv_ready().map(Some)
    }

    fn recv_ready(&self) -> io::Result<LivePacket> {
        let mut buf = vec![0u8; 65536 + 4];
        // Room for a VLAN tag to be put back after the MAC addresses.
        let data_at = 4;
        // SAFETY: plain old data.
        let mut sll: libc::sockaddr_ll = unsafe { zeroed() };
        let mut control = [0u64; 32];
        let mut iov = libc::iovec {
            iov_base: buf[data_at..].as_mut_ptr().cast(),
            iov_len: buf.len() - data_at,
        };
        // SAFETY: plain old data.
        let mut msg: libc::msghdr = unsafe { zeroed() };
        msg.msg_name = (&mut sll as *mut libc::sockaddr_ll).cast();
        msg.msg_namelen = size_of::<libc::sockaddr_ll>() as u32;
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = size_of::<[u64; 32]>();
        // SAFETY: every pointer in `msg` refers to a live buffer of the stated size.
        let n = unsafe { libc::recvmsg(self.fd.as_raw_fd(), &mut msg, libc::MSG_TRUNC) };
        if n < 0 {
            return Err(last_error("receiving", &self.name));
        }
        let wire_len = n as usize;
        let captured = wire_len.min(buf.len() - data_at);
        let mut checksum = KernelChecksum::Unknown;
        let mut vlan: Option<(u16, u16)> = None;
        let mut timestamp_ns = None;
        // SAFETY: walking the control messages recvmsg filled, with the libc
        // macros, within `msg_controllen`.
        unsafe {
            let mut c = libc::CMSG_FIRSTHDR(&msg);
            while !c.is_null() {
                let h = &*c;
                if h.cmsg_level == libc::SOL_PACKET && h.cmsg_type == libc::PACKET_AUXDATA {
                    let aux: libc::tpacket_auxdata =
                        std::ptr::read_unaligned(libc::CMSG_DATA(c).cast());
                    if aux.tp_status & libc::TP_STATUS_CSUMNOTREADY != 0 {
                        checksum = KernelChecksum::NotReady;
                    } else if aux.tp_status & libc::TP_STATUS_CSUM_VALID != 0 {
                        checksum = KernelChecksum::Valid;
                    }
                    if aux.tp_status & libc::TP_STATUS_VLAN_VALID != 0 {
                        let tpid = if aux.tp_status & libc::TP_STATUS_VLAN_TPID_VALID != 0 {
                            aux.tp_vlan_tpid
                        } else {
                            0x8100
                        };
                        vlan = Some((tpid, aux.tp_vlan_tci));
                    }
                } else if h.cmsg_level == libc::SOL_SOCKET && h.cmsg_type == libc::SO_TIMESTAMPNS {
                    let ts: libc::timespec = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast());
                    timestamp_ns = Some(ts.tv_sec * 1_000_000_000 + ts.tv_nsec);
                }
                c = libc::CMSG_NXTHDR(&msg, c);
            }
        }
        let mut start = data_at;
        let mut end = data_at + captured;
        if let Some((tpid, tci)) = vlan {
            if captured >= 12 {
                // Move the MAC addresses 4 bytes left and insert the tag.
                buf.copy_within(data_at..data_at + 12, 0);
                buf[12..14].copy_from_slice(&tpid.to_be_bytes());
                buf[14..16].copy_from_slice(&tci.to_be_bytes());
                start = 0;
                end = data_at + captured;
            }
        }
        buf.truncate(end);
        buf.drain(..start);
        let direction = match sll.sll_pkttype {
            libc::PACKET_OUTGOING => Direction::Outgoing,
            libc::PACKET_OTHERHOST => Direction::OtherHost,
            _ => Direction::Incoming,
        };
        let orig_len = wire_len + if vlan.is_some() { 4 } else { 0 };
        let timestamp_ns = timestamp_ns.unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as i64)
        });
        Ok(LivePacket {
            timestamp_ns,
            data: buf,
            orig_len,
            checksum,
            direction,
        })
    }
}

impl AsRawFd for PacketSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// Whether signal `sig` is ignored in this process (as `nohup` leaves
/// SIGHUP): a live capture that stops on a hang-up leaves it so.
pub fn signal_ignored(sig: i32) -> bool {
    // SAFETY: a query only (a null new action changes nothing); `old` is a
    // valid, zeroed sigaction for the kernel to fill.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(sig, std::ptr::null(), &mut old) == 0 && old.sa_sigaction == libc::SIG_IGN
    }
}

#[cfg(test)]
mod tests {
    /// `watch` leaves SIGHUP alone when it is ignored (`nohup`): the query
    /// tells an ignored signal from one with its default action.
    #[test]
    fn an_ignored_signal_is_told_from_a_default_one() {
        let sig = libc::SIGUSR2;
        assert!(!super::signal_ignored(sig));
        // SAFETY: SIGUSR2 is no test's; its disposition is put back.
        let before = unsafe { libc::signal(sig, libc::SIG_IGN) };
        let seen = super::signal_ignored(sig);
        unsafe { libc::signal(sig, before) };
        assert!(seen);
    }

    /// A `PacketSocket` over one end of an `AF_UNIX` datagram socketpair
    /// (no packet socket, nothing on any network): `recv` reads what the
    /// other end writes as it would a frame.
    fn pair() -> (super::PacketSocket, std::os::fd::OwnedFd) {
        use std::os::fd::FromRawFd;
        let mut fds = [0i32; 2];
        // SAFETY: socketpair fills two descriptors we then own.
        let r = unsafe {
            libc::socketpair(
                libc::AF_UNIX,
                libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
                0,
                fds.as_mut_ptr(),
            )
        };
        assert_eq!(r, 0);
        // SAFETY: fresh descriptors.
        let (a, b) = unsafe {
            (
                std::os::fd::OwnedFd::from_raw_fd(fds[0]),
                std::os::fd::OwnedFd::from_raw_fd(fds[1]),
            )
        };
        let s = super::PacketSocket {
            fd: a,
            ifindex: 0,
            name: "test0".into(),
            mac: [0; 6],
        };
        (s, b)
    }

    fn write(fd: &std::os::fd::OwnedFd, data: &[u8]) {
        use std::os::fd::AsRawFd;
        // SAFETY: `data` is valid for its length.
        let n = unsafe { libc::send(fd.as_raw_fd(), data.as_ptr().cast(), data.len(), 0) };
        assert_eq!(n, data.len() as isize);
    }

    /// Each received frame keeps the whole 64 KiB receive buffer it was read
    /// into (`truncate` and `drain` do not shrink a Vec): a 342-byte DHCP
    /// frame holds 65,540 bytes. `watch -w` holds frames for 130 s in a
    /// ring whose 64 MiB budget counts `data.len()`, and its channel holds
    /// up to 4,096 of them: the memory used is ~190 times what is counted.
    #[test]
    fn hunt_a_received_frame_holds_only_its_bytes() {
        let (s, other) = pair();
        write(&other, &[0xab; 342]);
        let p = s
            .recv(Some(std::time::Duration::from_secs(1)))
            .unwrap()
            .unwrap();
        assert_eq!((p.data.len(), p.orig_len), (342, 342));
        assert!(
            p.data.capacity() <= 2 * p.data.len(),
            "a 342-byte frame holds a {}-byte allocation",
            p.data.capacity()
        );
    }

    /// A datagram larger than the receive buffer: cut, its wire length kept.
    #[test]
    fn hunt_a_frame_larger_than_the_buffer_is_cut_with_its_length() {
        let (s, other) = pair();
        let big = vec![0x5a; 70_000];
        write(&other, &big);
        let p = s
            .recv(Some(std::time::Duration::from_secs(1)))
            .unwrap()
            .unwrap();
        assert_eq!((p.data.len(), p.orig_len), (65_536, 70_000));
        // A timeout with nothing there.
        assert!(s
            .recv(Some(std::time::Duration::from_millis(10)))
            .unwrap()
            .is_none());
    }
}
