//! Real DHCP clients: ISC dhclient 4.4, busybox udhcpc, dhcpcd 9. Each gets
//! its own lease file, pid file and a minimal hook script in the run
//! directory: the hook logs what the client reports and configures only the
//! interface inside its namespace (no resolv.conf, no routes outside).

use std::fs;
use std::net::Ipv4Addr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::Duration;

use anyhow::{bail, ensure, Context, Result};

use crate::log::Log;
use crate::net::{HostId, Network};
use crate::process::{Output, Process};
use crate::Tool;

/// Which client a [`Client`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Dhclient,
    Udhcpc,
    Dhcpcd,
    /// A PXE boot ROM: iPXE in a QEMU virtual machine ([`Ipxe`]).
    Ipxe,
}

/// A running (or finished) client.
#[derive(Debug)]
pub struct Client {
    pub kind: Kind,
    pub name: String,
    process: Process,
    hooks: Log,
    leases: PathBuf,
}

impl Client {
    /// Its own output (stamped like syslog).
    pub fn log(&self) -> &Log {
        self.process.log()
    }

    /// One line per hook call: `reason=… ip=…`.
    pub fn hooks(&self) -> &Log {
        &self.hooks
    }

    pub fn leases_path(&self) -> &Path {
        &self.leases
    }

    pub fn process(&mut self) -> &mut Process {
        &mut self.process
    }

    /// Waits for a line of its output with every one of `needles`; fails at
    /// once if it exits first.
    pub fn wait_log(&mut self, needles: &[&str], timeout: Duration) -> Result<String> {
        self.process.wait_for(needles, timeout)
    }

    /// Waits for `n` lines of its output with every one of `needles`, even
    /// if it exits meanwhile.
    pub fn wait_log_count(
        &mut self,
        needles: &[&str],
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<String>> {
        self.log().wait_count(needles, n, timeout)
    }

    /// What a line of its log holds when it holds a lease: the text the
    /// address follows, and any other text the line must have.
    fn bound_marker(&self) -> (&'static str, &'static [&'static str]) {
        match self.kind {
            Kind::Dhclient => ("bound to ", &[]),
            Kind::Udhcpc => ("lease of ", &[]),
            Kind::Dhcpcd => ("leased ", &[]),
            // `net0: 10.0.0.50/255.255.255.0 gw 10.0.0.1` (and not the line
            // `net0: 52:54:00:… using 82540em`).
            Kind::Ipxe => ("net0: ", &["/255."]),
        }
    }

    fn bound_needles(&self) -> Vec<&'static str> {
        let (after, also) = self.bound_marker();
        std::iter::once(after).chain(also.iter().copied()).collect()
    }

    /// The last line where it said it holds a lease.
    pub fn bound_line(&self) -> Option<String> {
        self.log().matching(&self.bound_needles()).pop()
    }

    /// Waits until the client says it holds a lease; returns the address.
    pub fn wait_bound(&mut self, timeout: Duration) -> Result<Ipv4Addr> {
        let (after, _) = self.bound_marker();
        let needles = self.bound_needles();
        let line = self
            .process
            .log()
            .clone()
            .wait_count_while(&needles, 1, timeout, || {
                // udhcpc -q exits right after binding: that is fine.
                match self.process.try_status() {
                    Some(s) if !s.success() => bail!("{} exited ({s})", self.name),
                    _ => Ok(()),
                }
            })?;
        parse_addr_after(&line[0], after).with_context(|| format!("no address in {:?}", line[0]))
    }

    /// Waits for it to exit by itself.
    pub fn wait_exit(&mut self, timeout: Duration) -> Result<ExitStatus> {
        self.process
            .wait_exit(timeout)
            .with_context(|| format!("{} still running after {timeout:?}", self.name))
    }

    /// Stops it (SIGTERM to its group).
    pub fn stop(&mut self) -> Result<()> {
        self.process.stop().map(drop)
    }
}

fn parse_addr_after(line: &str, after: &str) -> Option<Ipv4Addr> {
    let rest = &line[line.find(after)? + after.len()..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

fn write_script(path: &Path, text: &str) -> Result<()> {
    fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755))?;
    Ok(())
}

fn sh_quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', r"'\''"))
}

/// ISC dhclient 4.4 (`isc-dhcp-client`): raw LPF socket, and it honours
/// `TP_STATUS_CSUMNOTREADY`, so partial checksums do not stop it.
#[derive(Debug, Clone)]
pub struct Dhclient {
    pub name: String,
    /// Which interface, `eth<iface>`.
    pub iface: usize,
    /// `dhclient.conf` statements. The default retransmits quickly.
    pub conf: Vec<String>,
    /// `-1`: try once, exit 2 if no lease.
    pub oneshot: bool,
    /// Let the hook configure the address (needed for unicast renew/release).
    pub configure: bool,
    /// Make the hook fail on BOUND, as a script that found the address in use
    /// would: dhclient then sends a DHCPDECLINE.
    pub decline: bool,
    /// Initial contents of the lease file (an old lease makes it start in
    /// INIT-REBOOT).
    pub lease_file: Option<String>,
}

impl Default for Dhclient {
    fn default() -> Dhclient {
        Dhclient {
            name: "dhclient".into(),
            iface: 0,
            conf: vec![
                "initial-interval 1;".into(),
                "backoff-cutoff 2;".into(),
                "timeout 30;".into(),
                "retry 2;".into(),
            ],
            oneshot: false,
            configure: true,
            decline: false,
            lease_file: None,
        }
    }
}

impl Dhclient {
    fn files(&self, dir: &Path) -> [PathBuf; 5] {
        let f = |ext: &str| dir.join(format!("{}{ext}", self.name));
        [
            f(".conf"),
            f(".leases"),
            f(".pid"),
            f(".hook"),
            f(".hook.log"),
        ]
    }

    /// The hook script.
    pub fn hook(&self, hook_log: &Path) -> String {
        let decline = if self.decline {
            "  BOUND) echo \"declining $new_ip_address\" >> \"$log\"; exit 1 ;;\n"
        } else {
            ""
        };
        let configure = if self.configure {
            "  BOUND|RENEW|REBIND|REBOOT) ip addr replace \"$new_ip_address/$new_subnet_mask\" dev \"$interface\" ;;\n  \
             EXPIRE|FAIL|RELEASE|STOP) ip -4 addr flush dev \"$interface\" ;;\n"
        } else {
            ""
        };
        format!(
            "#!/bin/sh\n# dhcplens lab hook for dhclient: logs, and configures only this namespace's interface.\n\
             log={}\n\
             echo \"reason=$reason interface=$interface ip=$new_ip_address mask=$new_subnet_mask \
             server=$new_dhcp_server_identifier lease=$new_dhcp_lease_time old=$old_ip_address\" >> \"$log\"\n\
             case \"$reason\" in\n{decline}{configure}esac\nexit 0\n",
            sh_quote(hook_log)
        )
    }

    pub fn start(&self, net: &Network, host: HostId) -> Result<Client> {
        let [conf, leases, pid, hook, hook_log] = self.files(net.dir());
        let h = net.host(host);
        fs::write(&conf, self.conf.join("\n") + "\n")?;
        fs::write(&leases, self.lease_file.clone().unwrap_or_default())?;
        write_script(&hook, &self.hook(&hook_log))?;
        let mut cmd = h.ns().command(Tool::Dhclient.resolve()?);
        cmd.args(["-4", "-d", "-v"]);
        if self.oneshot {
            cmd.arg("-1");
        }
        cmd.arg("-cf")
            .arg(&conf)
            .arg("-lf")
            .arg(&leases)
            .arg("-pf")
            .arg(&pid)
            .arg("-sf")
            .arg(&hook)
            .arg(&h.iface(self.iface).name);
        let process = Process::spawn(
            &self.name,
            cmd,
            Output::Stamped {
                path: net.dir().join(format!("{}.log", self.name)),
                host: h.name().into(),
                tag: "dhclient".into(),
            },
        )?;
        Ok(Client {
            kind: Kind::Dhclient,
            name: self.name.clone(),
            process,
            hooks: Log::new(hook_log),
            leases,
        })
    }

    /// `dhclient -r`: stops the running dhclient of the same files and sends
    /// a DHCPRELEASE. Its output is appended to the client's log.
    pub fn release(&self, net: &Network, host: HostId) -> Result<()> {
        let [conf, leases, pid, hook, _] = self.files(net.dir());
        let h = net.host(host);
        let mut cmd = h.ns().command(Tool::Dhclient.resolve()?);
        cmd.args(["-4", "-d", "-v", "-r", "-cf"])
            .arg(&conf)
            .arg("-lf")
            .arg(&leases)
            .arg("-pf")
            .arg(&pid)
            .arg("-sf")
            .arg(&hook)
            .arg(&h.iface(self.iface).name);
        let mut p = Process::spawn(
            &format!("{} -r", self.name),
            cmd,
            Output::Stamped {
                path: net.dir().join(format!("{}.log", self.name)),
                host: h.name().into(),
                tag: "dhclient".into(),
            },
        )?;
        match p.wait_exit(Duration::from_secs(10)) {
            Some(s) if s.success() => Ok(()),
            Some(s) => bail!("dhclient -r exited ({s}): {}", p.log().tail(5)),
            None => bail!("dhclient -r did not finish"),
        }
    }
}

/// busybox udhcpc (`udhcpc`).
#[derive(Debug, Clone)]
pub struct Udhcpc {
    pub name: String,
    pub iface: usize,
    /// `-t`: DISCOVERs to send before giving up (for this round).
    pub discovers: u32,
    /// `-T`: seconds between them.
    pub pause: u32,
    /// `-q`: exit once bound.
    pub quit_when_bound: bool,
    /// `-n`: exit when no lease was obtained.
    pub exit_without_lease: bool,
    /// `-x OPT:VALUE` options to send.
    pub options: Vec<String>,
}

impl Default for Udhcpc {
    fn default() -> Udhcpc {
        Udhcpc {
            name: "udhcpc".into(),
            iface: 0,
            discovers: 4,
            pause: 1,
            quit_when_bound: true,
            exit_without_lease: true,
            options: Vec::new(),
        }
    }
}

impl Udhcpc {
    /// The hook script (udhcpc passes the event as `$1`).
    pub fn hook(hook_log: &Path) -> String {
        format!(
            "#!/bin/sh\n# dhcplens lab hook for udhcpc: logs, and configures only this namespace's interface.\n\
             log={}\n\
             echo \"reason=$1 interface=$interface ip=$ip mask=$mask server=$serverid lease=$lease\" >> \"$log\"\n\
             case \"$1\" in\n  bound|renew) ip addr replace \"$ip/$mask\" dev \"$interface\" ;;\n  \
             deconfig|leasefail|nak) ip -4 addr flush dev \"$interface\" ;;\nesac\nexit 0\n",
            sh_quote(hook_log)
        )
    }

    pub fn start(&self, net: &Network, host: HostId) -> Result<Client> {
        let dir = net.dir();
        let hook = dir.join(format!("{}.hook", self.name));
        let hook_log = dir.join(format!("{}.hook.log", self.name));
        write_script(&hook, &Udhcpc::hook(&hook_log))?;
        let h = net.host(host);
        let mut cmd = h.ns().command(Tool::Udhcpc.resolve()?);
        cmd.args(["-f", "-i", &h.iface(self.iface).name, "-s"])
            .arg(&hook)
            .args(["-t", &self.discovers.to_string()])
            .args(["-T", &self.pause.to_string(), "-A", "1"]);
        if self.quit_when_bound {
            cmd.arg("-q");
        }
        if self.exit_without_lease {
            cmd.arg("-n");
        }
        for o in &self.options {
            cmd.args(["-x", o]);
        }
        let process = Process::spawn(
            &self.name,
            cmd,
            Output::Stamped {
                path: dir.join(format!("{}.log", self.name)),
                host: h.name().into(),
                tag: "udhcpc".into(),
            },
        )?;
        Ok(Client {
            kind: Kind::Udhcpc,
            name: self.name.clone(),
            process,
            hooks: Log::new(hook_log),
            leases: PathBuf::new(),
        })
    }
}

/// dhcpcd 9 (`dhcpcd-base`), IPv4 only, no IPv4LL, in the foreground. It
/// configures the interface itself. Run in a private mount namespace where
/// `/run` is a fresh tmpfs and `/var/lib/dhcpcd` is a directory of the run,
/// so its pid file, control socket and lease never touch the host.
#[derive(Debug, Clone)]
pub struct Dhcpcd {
    pub name: String,
    pub iface: usize,
    /// Probe the address with ARP before using it (RFC 5227), and DECLINE it
    /// if another host answers.
    pub arp: bool,
    /// `-1`: exit once bound (or after the timeout).
    pub oneshot: bool,
    /// `-t`: seconds to try before giving up.
    pub timeout: u32,
    /// Extra `dhcpcd.conf` lines.
    pub conf: Vec<String>,
    /// `-s ADDRESS/PREFIX`: a host with this static address asks for its
    /// options only, with DHCPINFORM (RFC 2131 §3.4); the hook's reason is
    /// then `INFORM`.
    pub inform: Option<String>,
}

impl Default for Dhcpcd {
    fn default() -> Dhcpcd {
        Dhcpcd {
            name: "dhcpcd".into(),
            iface: 0,
            arp: false,
            oneshot: false,
            timeout: 30,
            conf: Vec::new(),
            inform: None,
        }
    }
}

impl Dhcpcd {
    pub fn config(&self) -> String {
        let mut c = String::from("# generated by the dhcplens lab\nipv4only\nnoipv4ll\n");
        if !self.arp {
            c += "noarp\n";
        }
        for l in &self.conf {
            c += l;
            c.push('\n');
        }
        c
    }

    pub fn start(&self, net: &Network, host: HostId) -> Result<Client> {
        let dir = net.dir();
        let f = |ext: &str| dir.join(format!("{}{ext}", self.name));
        let (conf, hook, hook_log, db) = (f(".conf"), f(".hook"), f(".hook.log"), f(".db"));
        fs::write(&conf, self.config())?;
        fs::create_dir_all(&db)?;
        write_script(
            &hook,
            &format!(
                "#!/bin/sh\n# dhcplens lab hook for dhcpcd: logs only (dhcpcd configures the interface).\n\
                 echo \"reason=$reason interface=$interface ip=$new_ip_address mask=$new_subnet_mask \
                 server=$new_dhcp_server_identifier lease=$new_dhcp_lease_time old=$old_ip_address\" >> {}\nexit 0\n",
                sh_quote(&hook_log)
            ),
        )?;
        let h = net.host(host);
        let dhcpcd = Tool::Dhcpcd.resolve()?;
        let mut line = format!(
            "mount -t tmpfs lab-run /run && mount --bind {} /var/lib/dhcpcd && exec {} -B -d -4 -t {} -f {} -c {}",
            sh_quote(&db),
            sh_quote(&dhcpcd),
            self.timeout,
            sh_quote(&conf),
            sh_quote(&hook)
        );
        if self.oneshot {
            line += " -1";
        }
        if let Some(a) = &self.inform {
            line += " -s ";
            line += a;
        }
        line += " ";
        line += &h.iface(self.iface).name;
        let mut cmd = h.ns().command("sh");
        cmd.args(["-c", &line]);
        let process = Process::spawn(
            &self.name,
            cmd,
            Output::Stamped {
                path: dir.join(format!("{}.log", self.name)),
                host: h.name().into(),
                tag: "dhcpcd".into(),
            },
        )?;
        Ok(Client {
            kind: Kind::Dhcpcd,
            name: self.name.clone(),
            process,
            hooks: Log::new(hook_log),
            leases: db.join(format!("{}.lease", h.iface(self.iface).name)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bound_addresses_are_read_from_each_client_line() {
        assert_eq!(
            parse_addr_after(
                "x dhclient[1]: bound to 10.0.0.107 -- renewal in 46 seconds.",
                "bound to "
            ),
            Some(Ipv4Addr::new(10, 0, 0, 107))
        );
        assert_eq!(
            parse_addr_after(
                "udhcpc: lease of 10.0.0.101 obtained from 10.0.0.1, lease time 60",
                "lease of "
            ),
            Some(Ipv4Addr::new(10, 0, 0, 101))
        );
        assert_eq!(
            parse_addr_after("eth0: leased 10.0.0.100 for 60 seconds", "leased "),
            Some(Ipv4Addr::new(10, 0, 0, 100))
        );
        assert_eq!(parse_addr_after("nothing here", "leased "), None);
    }

    #[test]
    fn dhclient_hook_declines_only_when_asked() {
        let d = Dhclient::default();
        assert!(!d.hook(Path::new("/r/h.log")).contains("exit 1"));
        let d = Dhclient {
            decline: true,
            ..Dhclient::default()
        };
        let h = d.hook(Path::new("/r/h.log"));
        assert!(h.contains("BOUND) echo"), "{h}");
        assert!(h.contains("exit 1"), "{h}");
        assert!(h.contains("log='/r/h.log'"), "{h}");
    }

    #[test]
    fn quoting_survives_quotes() {
        assert_eq!(sh_quote(Path::new("/a b/it's")), r"'/a b/it'\''s'");
    }
}

/// A PXE boot ROM: iPXE as Debian ships it for QEMU's virtual NICs
/// (`ipxe-qemu`, the ROM that KVM and libvirt virtual machines boot from),
/// in a QEMU virtual machine (`qemu-system-x86`, emulated, so no KVM is
/// needed) with no disk and one e1000 NIC. The NIC is a tap bridged, inside
/// the host's namespace, to the host's interface, which must have no
/// address, and one machine per host interface (the bridge and tap are
/// `rom<i>` and `tap<i>`; they go with the namespace). The console is its log: `Configuring (net0 …)… ok`, `net0:
/// ADDR/MASK gw ROUTER`, then the boot (`Nothing to boot` when no boot
/// program came).
#[derive(Debug, Clone)]
pub struct Ipxe {
    pub name: String,
    pub iface: usize,
}

impl Default for Ipxe {
    fn default() -> Ipxe {
        Ipxe {
            name: "ipxe".into(),
            iface: 0,
        }
    }
}

/// QEMU's ROM for its e1000 NIC, from `ipxe-qemu`.
pub const IPXE_E1000_ROM: &str = "/usr/lib/ipxe/qemu/pxe-e1000.rom";

impl Ipxe {
    /// The virtual NIC's MAC (the client's chaddr): the host interface's,
    /// with the last byte's high bit set.
    pub fn mac(&self, net: &Network, host: HostId) -> [u8; 6] {
        let mut mac = net.host(host).iface(self.iface).mac;
        mac[5] |= 0x80;
        mac
    }

    pub fn start(&self, net: &Network, host: HostId) -> Result<Client> {
        let qemu = Tool::Qemu.resolve()?;
        ensure!(
            Path::new(IPXE_E1000_ROM).is_file(),
            "{IPXE_E1000_ROM} is missing: install the Debian package ipxe-qemu"
        );
        let h = net.host(host);
        let ns = h.ns();
        let eth = &h.iface(self.iface).name;
        let (bridge, tap) = (format!("rom{}", self.iface), format!("tap{}", self.iface));
        ns.ip(&["link", "add", &bridge, "type", "bridge"])?;
        ns.ip(&["link", "set", eth, "master", &bridge])?;
        ns.ip(&["tuntap", "add", "dev", &tap, "mode", "tap"])?;
        ns.ip(&["link", "set", &tap, "master", &bridge])?;
        ns.ip(&["link", "set", &tap, "up"])?;
        ns.ip(&["link", "set", &bridge, "up"])?;
        let mac = wire::frame::mac_to_string(&self.mac(net, host));
        let mut cmd = ns.command(qemu);
        cmd.args(["-nodefaults", "-no-user-config", "-nographic"])
            .args(["-serial", "stdio", "-monitor", "none"])
            .args(["-machine", "accel=tcg", "-m", "32", "-boot", "n"])
            .arg("-netdev")
            .arg(format!("tap,id=n0,ifname={tap},script=no,downscript=no"))
            .arg("-device")
            .arg(format!(
                "e1000,netdev=n0,mac={mac},romfile={IPXE_E1000_ROM}"
            ));
        let process = Process::spawn(
            &self.name,
            cmd,
            Output::Stamped {
                path: net.dir().join(format!("{}.log", self.name)),
                host: h.name().into(),
                tag: "ipxe".into(),
            },
        )?;
        Ok(Client {
            kind: Kind::Ipxe,
            name: self.name.clone(),
            process,
            hooks: Log::new(net.dir().join(format!("{}.hook.log", self.name))),
            leases: PathBuf::new(),
        })
    }
}
