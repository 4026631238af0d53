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
use std::sync::{Mutex, PoisonError, TryLockError};
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

/// What the kernel counted on a socket since it was opened
/// (`PACKET_STATISTICS`, which resets its counts on every read: they are
/// added up here).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KernelStats {
    /// Frames the filter passed, those dropped included (the kernel adds
    /// `tp_drops` to `tp_packets` before reporting them).
    pub frames: u64,
    /// Frames the filter passed that the kernel dropped: the socket's
    /// receive buffer was full (the reader too slow).
    pub dropped: u64,
}

impl KernelStats {
    /// Adds one `PACKET_STATISTICS` read (`tp_packets`, `tp_drops`).
    pub fn add(&mut self, tp_packets: u32, tp_drops: u32) {
        self.frames += u64::from(tp_packets);
        self.dropped += u64::from(tp_drops);
    }
}

/// An `AF_PACKET` socket bound to one interface.
#[derive(Debug)]
pub struct PacketSocket {
    fd: OwnedFd,
    ifindex: i32,
    name: String,
    mac: [u8; 6],
    /// The receive buffer, reused: each frame is copied out of it.
    buf: Mutex<Vec<u8>>,
    /// `PACKET_STATISTICS` added up since the socket was opened.
    stats: Mutex<KernelStats>,
}

/// How much of a frame is received (more is cut, its length kept).
const RECV_BYTES: usize = 65536;

/// The receive buffer asked for ([`PacketSocket::open`]): room for a burst
/// (a few thousand DHCP frames) while the reader is busy.
pub const RECEIVE_BUFFER: usize = 4 * 1024 * 1024;

/// Whether `e`, from [`PacketSocket::recv`], says the interface is down:
/// the kernel reports `ENETDOWN` once when the interface goes down (also
/// when it is deleted, which takes it down first) and right after binding
/// to a down interface; the socket then waits, and receives again once
/// the interface is up (unless it was deleted: see
/// [`PacketSocket::interface_deleted`]). `ENXIO` and `ENODEV` come from
/// sending to or binding to an interface that is gone, and count too.
pub fn is_link_down(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::NetworkDown
        || matches!(
            e.raw_os_error(),
            Some(libc::ENETDOWN | libc::ENXIO | libc::ENODEV)
        )
}

/// What became of an interface a reader waits on, to say once each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkEvent {
    /// The kernel said the interface is down (`ENETDOWN`).
    Down,
    /// While down, it was found deleted (or replaced by another of its
    /// name): the socket will not receive on it again.
    Deleted,
    /// A frame came again after it was down.
    Up,
}

/// Follows one socket's interface for a reader that keeps going when it
/// goes down: [`LinkState::error`] on a [`is_link_down`] error,
/// [`LinkState::received`] on each frame, [`LinkState::idle`] when a wait
/// ends with nothing; each returns what to say, once.
#[derive(Debug, Default)]
pub struct LinkState {
    down: bool,
    deleted_told: bool,
    checked: Option<std::time::Instant>,
}

impl LinkState {
    /// How often a down interface is looked up, to tell a deleted one.
    pub const CHECK_EVERY: Duration = Duration::from_secs(2);

    /// Whether the interface is down, as far as is known.
    pub fn is_down(&self) -> bool {
        self.down
    }

    /// A link-down error: `Down` unless it is down already. `deleted` says
    /// whether the interface is gone ([`PacketSocket::interface_deleted`]),
    /// asked at once: a deleted interface goes down first.
    pub fn error(
        &mut self,
        now: std::time::Instant,
        deleted: impl FnOnce() -> bool,
    ) -> Vec<LinkEvent> {
        let mut said = Vec::new();
        if !self.down {
            self.down = true;
            said.push(LinkEvent::Down);
        }
        said.extend(self.check(now, deleted));
        said
    }

    /// A wait that ended with nothing: while down, every
    /// [`LinkState::CHECK_EVERY`], whether the interface was deleted.
    pub fn idle(
        &mut self,
        now: std::time::Instant,
        deleted: impl FnOnce() -> bool,
    ) -> Option<LinkEvent> {
        let due = self
            .checked
            .is_none_or(|c| now.saturating_duration_since(c) >= Self::CHECK_EVERY);
        if !self.down || self.deleted_told || !due {
            return None;
        }
        self.check(now, deleted)
    }

    fn check(
        &mut self,
        now: std::time::Instant,
        deleted: impl FnOnce() -> bool,
    ) -> Option<LinkEvent> {
        self.checked = Some(now);
        if self.deleted_told || !deleted() {
            return None;
        }
        self.deleted_told = true;
        Some(LinkEvent::Deleted)
    }

    /// A frame received: `Up` if the interface was down.
    pub fn received(&mut self) -> Option<LinkEvent> {
        let was = std::mem::take(&mut self.down);
        self.deleted_told = false;
        self.checked = None;
        was.then_some(LinkEvent::Up)
    }
}

/// Asks for a receive buffer of `bytes` on `fd`: `SO_RCVBUFFORCE` (past
/// `net.core.rmem_max`, with `CAP_NET_ADMIN`), else `SO_RCVBUF` (capped at
/// `rmem_max`). Returns the size the kernel set (it doubles what it is
/// given, for its bookkeeping).
fn raise_receive_buffer(fd: RawFd, bytes: usize) -> io::Result<usize> {
    let want = i32::try_from(bytes).unwrap_or(i32::MAX);
    if setsockopt(fd, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, &want).is_err() {
        setsockopt(fd, libc::SOL_SOCKET, libc::SO_RCVBUF, &want)?;
    }
    let mut got = 0i32;
    let mut len = size_of::<i32>() as libc::socklen_t;
    // SAFETY: `got` is a live i32 of the length passed.
    let r = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&mut got as *mut i32).cast(),
            &mut len,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(got.max(0) as usize)
}

const ETH_P_ALL: u16 = 0x0003;

fn last_error(what: &str, iface: &str) -> io::Error {
    os_error(io::Error::last_os_error(), what, iface)
}

/// `e` with what was done and on which interface said, and a hint; its
/// kind kept (so that [`is_link_down`] knows it).
fn os_error(e: io::Error, what: &str, iface: &str) -> io::Error {
    let hint = match e.raw_os_error() {
        Some(libc::EPERM) | Some(libc::EACCES) => {
            "; capturing needs CAP_NET_RAW: run as root, or grant it with \
             `sudo setcap cap_net_raw+ep $(command -v dhcplens)`"
        }
        Some(libc::ENODEV) => "; no such interface (see `ip link`)",
        Some(libc::ENETDOWN) => "; the interface is down (see `ip link`)",
        _ => "",
    };
    io::Error::new(e.kind(), format!("{what} on {iface}: {e}{hint}"))
}

/// The index of interface `name`.
/// Whether an interface has index `index` (whatever its name now).
pub fn interface_exists(index: i32) -> bool {
    let Ok(index) = u32::try_from(index) else {
        return false;
    };
    let mut name = [0 as libc::c_char; libc::IF_NAMESIZE];
    // SAFETY: `name` has the IF_NAMESIZE bytes if_indextoname may write.
    !unsafe { libc::if_indextoname(index, name.as_mut_ptr()) }.is_null()
}

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
        // A bigger buffer than the default (~200 KiB) rides out a burst; what
        // it cannot hold the kernel drops and counts (`statistics`). Not
        // getting it is no reason to fail.
        let _ = raise_receive_buffer(raw, RECEIVE_BUFFER);
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
        Ok(PacketSocket::from_parts(fd, ifindex, iface, mac))
    }

    fn from_parts(fd: OwnedFd, ifindex: i32, name: &str, mac: [u8; 6]) -> PacketSocket {
        PacketSocket {
            fd,
            ifindex,
            name: name.to_string(),
            mac,
            buf: Mutex::new(Vec::new()),
            stats: Mutex::new(KernelStats::default()),
        }
    }

    /// Whether the interface the socket is bound to is gone: no interface
    /// has its index any more (deleted; a new one of the same name has
    /// another index). A socket bound to a deleted interface never receives
    /// again, even from one made again under its name; it must be opened
    /// anew. A renamed interface (udev, networkd: down, renamed, up) keeps
    /// its index, and the socket receives again once it is up: not gone.
    pub fn interface_deleted(&self) -> bool {
        !interface_exists(self.ifindex)
    }

    /// What the kernel counted on the socket since it was opened: frames
    /// the filter passed and those of them it dropped (the receive buffer
    /// full). Each call reads and resets `PACKET_STATISTICS`, and adds it
    /// to the totals returned.
    pub fn statistics(&self) -> io::Result<KernelStats> {
        // SAFETY: tpacket_stats is plain old data.
        let mut st: libc::tpacket_stats = unsafe { zeroed() };
        let mut len = size_of::<libc::tpacket_stats>() as libc::socklen_t;
        // SAFETY: `st` is a live tpacket_stats of the length passed.
        let r = unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_PACKET,
                libc::PACKET_STATISTICS,
                (&mut st as *mut libc::tpacket_stats).cast(),
                &mut len,
            )
        };
        if r < 0 {
            return Err(last_error("reading the kernel's counts", &self.name));
        }
        let mut total = self.stats.lock().unwrap_or_else(PoisonError::into_inner);
        total.add(st.tp_packets, st.tp_drops);
        Ok(*total)
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
        // The socket's buffer, reused; a fresh one if another thread is
        // receiving on the socket at the same time.
        let mut spare = Vec::new();
        let mut guard = match self.buf.try_lock() {
            Ok(g) => Some(g),
            Err(TryLockError::Poisoned(p)) => Some(p.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        };
        let buf: &mut Vec<u8> = guard.as_deref_mut().unwrap_or(&mut spare);
        buf.resize(RECV_BYTES, 0);
        // SAFETY: plain old data.
        let mut sll: libc::sockaddr_ll = unsafe { zeroed() };
        let mut control = [0u64; 32];
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
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
        let captured = wire_len.min(buf.len());
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
        // Exactly the frame's bytes are copied out (the buffer stays for the
        // next frame), with a tag the kernel had stripped put back after the
        // MAC addresses.
        let data = frame_bytes(&buf[..captured], vlan);
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
            data,
            orig_len,
            checksum,
            direction,
        })
    }
}

/// A copy of exactly the `received` bytes, with the VLAN tag the kernel
/// had stripped (`(tpid, tci)`) put back after the MAC addresses.
fn frame_bytes(received: &[u8], vlan: Option<(u16, u16)>) -> Vec<u8> {
    match vlan {
        Some((tpid, tci)) if received.len() >= 12 => {
            let mut d = Vec::with_capacity(received.len() + 4);
            d.extend_from_slice(&received[..12]);
            d.extend_from_slice(&tpid.to_be_bytes());
            d.extend_from_slice(&tci.to_be_bytes());
            d.extend_from_slice(&received[12..]);
            d
        }
        _ => received.to_vec(),
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
        let s = super::PacketSocket::from_parts(a, 0, "test0", [0; 6]);
        (s, b)
    }

    fn write(fd: &std::os::fd::OwnedFd, data: &[u8]) {
        use std::os::fd::AsRawFd;
        // SAFETY: `data` is valid for its length.
        let n = unsafe { libc::send(fd.as_raw_fd(), data.as_ptr().cast(), data.len(), 0) };
        assert_eq!(n, data.len() as isize);
    }

    /// Guards the memory `watch` holds: each received frame kept the whole
    /// 64 KiB receive buffer it was read into (`truncate` and `drain` do
    /// not shrink a Vec), so a 342-byte DHCP frame held 65,540 bytes while
    /// `watch -w`'s ring (whose 64 MiB budget counts `data.len()`) and its
    /// channel (4,096 frames) held it: ~190 times what was counted. Now
    /// exactly the frame's bytes are copied out, and the buffer is reused
    /// for the next frame (which is not mixed with the one before).
    #[test]
    fn a_received_frame_holds_only_its_bytes() {
        let (s, other) = pair();
        write(&other, &[0xab; 342]);
        write(&other, &[0xcd; 60]);
        let wait = Some(std::time::Duration::from_secs(1));
        let p = s.recv(wait).unwrap().unwrap();
        assert_eq!((p.data.len(), p.orig_len), (342, 342));
        assert!(
            p.data.capacity() <= 2 * p.data.len(),
            "a 342-byte frame holds a {}-byte allocation",
            p.data.capacity()
        );
        let q = s.recv(wait).unwrap().unwrap();
        assert_eq!((q.data.len(), q.orig_len), (60, 60));
        assert!(q.data.capacity() <= 120, "{}", q.data.capacity());
        assert!(q.data.iter().all(|b| *b == 0xcd));
        assert!(p.data.iter().all(|b| *b == 0xab));
    }

    /// The tag the kernel stripped is put back after the MAC addresses, in
    /// an allocation of the frame's size; a frame cut before them is kept
    /// as it is.
    #[test]
    fn a_stripped_tag_is_put_back_in_a_copy_of_the_frame() {
        let received: Vec<u8> = (0u8..40).collect();
        let d = super::frame_bytes(&received, Some((0x88a8, 0x0064)));
        assert_eq!(d.len(), 44);
        assert!(d.capacity() <= 2 * d.len());
        assert_eq!(&d[..12], &received[..12]);
        assert_eq!(&d[12..16], &[0x88, 0xa8, 0x00, 0x64]);
        assert_eq!(&d[16..], &received[12..]);
        assert_eq!(
            super::frame_bytes(&received[..10], Some((0x8100, 1))),
            &received[..10]
        );
        assert_eq!(super::frame_bytes(&received, None), received);
    }

    /// An interface going down is said once (not on every error), one found
    /// deleted once (looked up at the error, then every
    /// `CHECK_EVERY` while down, not while up), and the first frame after
    /// says it is up again.
    #[test]
    fn a_link_going_down_and_coming_back_is_said_once_each() {
        use super::{LinkEvent, LinkState};
        let t0 = std::time::Instant::now();
        let mut l = LinkState::default();
        assert_eq!(l.idle(t0, || panic!("not looked up while up")), None);
        assert_eq!(l.error(t0, || false), [LinkEvent::Down]);
        assert!(l.is_down());
        assert_eq!(l.error(t0, || false), []);
        assert_eq!(l.idle(t0, || panic!("looked up too soon")), None);
        let later = t0 + LinkState::CHECK_EVERY;
        assert_eq!(l.idle(later, || false), None);
        assert_eq!(
            l.idle(later + LinkState::CHECK_EVERY, || true),
            Some(LinkEvent::Deleted)
        );
        let much_later = later + 10 * LinkState::CHECK_EVERY;
        assert_eq!(l.idle(much_later, || panic!("said once")), None);
        assert_eq!(l.received(), Some(LinkEvent::Up));
        assert_eq!(l.received(), None);
        // Deleted at once: both said on the error.
        let mut l = LinkState::default();
        assert_eq!(l.error(t0, || true), [LinkEvent::Down, LinkEvent::Deleted]);
    }

    /// A datagram larger than the receive buffer: cut at 64 KiB, its wire
    /// length kept; a wait with nothing there is a timeout (`None`).
    #[test]
    fn a_frame_larger_than_the_buffer_is_cut_with_its_length() {
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

    /// `PACKET_STATISTICS` resets on every read: the reads are added up,
    /// and `frames` counts the dropped ones too (as the kernel reports).
    #[test]
    fn kernel_counts_add_up_over_reads() {
        let mut st = super::KernelStats::default();
        st.add(10, 0);
        st.add(7, 3);
        st.add(u32::MAX, u32::MAX);
        assert_eq!(
            st,
            super::KernelStats {
                frames: 17 + u64::from(u32::MAX),
                dropped: 3 + u64::from(u32::MAX),
            }
        );
    }

    /// `watch` and `serve` wait for an interface that is down instead of
    /// stopping: the `ENETDOWN` the kernel reports once, with what was
    /// done said in the message, is told from other errors.
    #[test]
    fn a_link_down_error_is_told_from_others() {
        let down = super::os_error(
            std::io::Error::from_raw_os_error(libc::ENETDOWN),
            "receiving",
            "eth0",
        );
        assert!(super::is_link_down(&down), "{down:?}");
        assert!(down.to_string().contains("receiving on eth0"), "{down}");
        assert!(down.to_string().contains("the interface is down"), "{down}");
        for e in [libc::ENXIO, libc::ENODEV] {
            assert!(super::is_link_down(&std::io::Error::from_raw_os_error(e)));
        }
        for e in [libc::EAGAIN, libc::EPERM, libc::ENOBUFS] {
            let other = super::os_error(std::io::Error::from_raw_os_error(e), "receiving", "eth0");
            assert!(!super::is_link_down(&other), "{other:?}");
        }
    }

    /// A socket bound to an interface that was deleted (or replaced by a new
    /// one of its name, another index) never receives again: that is told
    /// by the index (`if_nametoindex`), without a packet socket.
    #[test]
    fn a_deleted_interface_is_told_by_its_index() {
        let (mut s, _other) = pair();
        s.name = "no-such-if0".into();
        s.ifindex = i32::MAX;
        assert!(s.interface_deleted());
        let Ok(lo) = super::interface_index("lo") else {
            return;
        };
        s.name = "lo".into();
        s.ifindex = lo;
        assert!(!s.interface_deleted());
        s.ifindex = lo + 1000;
        assert!(s.interface_deleted(), "lo now has another index");
        // Renamed (udev: down, renamed, up): its index is still there.
        s.name = "eth-renamed".into();
        s.ifindex = lo;
        assert!(!s.interface_deleted(), "a renamed interface is not gone");
    }

    /// The receive buffer is raised (as far as `rmem_max` lets, or past it
    /// with `CAP_NET_ADMIN`), never lowered; on a socketpair here.
    #[test]
    fn the_receive_buffer_is_raised() {
        use std::os::fd::AsRawFd;
        let (s, _other) = pair();
        let fd = s.as_raw_fd();
        let mut before = 0i32;
        let mut len = std::mem::size_of::<i32>() as libc::socklen_t;
        // SAFETY: `before` is a live i32 of the length passed.
        let r = unsafe {
            libc::getsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_RCVBUF,
                (&mut before as *mut i32).cast(),
                &mut len,
            )
        };
        assert_eq!(r, 0);
        let got = super::raise_receive_buffer(fd, super::RECEIVE_BUFFER).unwrap();
        assert!(got >= before as usize, "{got} < {before}");
    }
}
