//! Real DHCP servers with generated configurations: ISC dhcpd 4.4, Kea 2.2,
//! dnsmasq 2.90. Every file a server writes (leases, pid, log) is in the run
//! directory; each start waits for the server's own
//! "ready" log line.

use std::fmt::Write as _;
use std::fs;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};

use crate::log::Log;
use crate::net::{HostId, Ipv4Net, Network};
use crate::process::{Output, Process};
use crate::Tool;

/// How long a server may take to start.
pub const START_TIMEOUT: Duration = Duration::from_secs(15);

/// A subnet a server serves, with an optional dynamic range.
#[derive(Debug, Clone)]
pub struct Subnet {
    /// The network (host bits ignored).
    pub net: Ipv4Net,
    /// First and last address of the pool; `None` declares the subnet only.
    pub range: Option<(Ipv4Addr, Ipv4Addr)>,
    pub router: Option<Ipv4Addr>,
    /// Lease time in seconds (dnsmasq will not go below 120).
    pub lease_time: u32,
    /// T1 and T2 (options 58 and 59), if the server should send them.
    pub renew: Option<u32>,
    pub rebind: Option<u32>,
}

impl Subnet {
    /// `net` like `10.0.0.0/24`, a pool `first..=last`, a one-hour lease.
    pub fn new(net: &str, first: &str, last: &str) -> Subnet {
        Subnet {
            net: crate::net(net),
            range: Some((
                first.parse().expect("valid address"),
                last.parse().expect("valid address"),
            )),
            router: None,
            lease_time: 3600,
            renew: None,
            rebind: None,
        }
    }

    /// A subnet with no pool (so the server knows the network it sits on).
    pub fn declared(net: &str) -> Subnet {
        Subnet {
            range: None,
            ..Subnet::new(net, "0.0.0.0", "0.0.0.0")
        }
    }

    pub fn router(mut self, r: &str) -> Subnet {
        self.router = Some(r.parse().expect("valid address"));
        self
    }

    pub fn lease(mut self, secs: u32) -> Subnet {
        self.lease_time = secs;
        self
    }

    pub fn timers(mut self, t1: u32, t2: u32) -> Subnet {
        self.renew = Some(t1);
        self.rebind = Some(t2);
        self
    }
}

/// Which implementation a [`Server`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Dhcpd,
    Kea,
    Dnsmasq,
}

/// A running server.
#[derive(Debug)]
pub struct Server {
    pub kind: Kind,
    pub name: String,
    process: Process,
    log: Log,
    leases: PathBuf,
    config: PathBuf,
}

impl Server {
    /// The server's log (for Kea and dnsmasq, the file they write themselves).
    pub fn log(&self) -> &Log {
        &self.log
    }

    pub fn leases_path(&self) -> &Path {
        &self.leases
    }

    pub fn config_path(&self) -> &Path {
        &self.config
    }

    /// The lease file as it is now.
    pub fn leases(&self) -> String {
        fs::read_to_string(&self.leases).unwrap_or_default()
    }

    pub fn process(&mut self) -> &mut Process {
        &mut self.process
    }

    /// Waits for a log line with every one of `needles`; fails at once if
    /// the server exits.
    pub fn wait_log(&mut self, needles: &[&str], timeout: Duration) -> Result<String> {
        self.wait_log_count(needles, 1, timeout)
            .map(|mut v| v.swap_remove(0))
    }

    /// Waits for `n` log lines with every one of `needles`.
    pub fn wait_log_count(
        &mut self,
        needles: &[&str],
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<String>> {
        let log = self.log.clone();
        let p = &mut self.process;
        log.wait_count_while(needles, n, timeout, || p.check_running())
    }

    /// Waits until the lease file mentions `needle` (an address or MAC).
    pub fn wait_lease(&mut self, needle: &str, timeout: Duration) -> Result<String> {
        let leases = Log::new(self.leases.clone());
        let p = &mut self.process;
        leases
            .wait_count_while(&[needle], 1, timeout, || p.check_running())
            .map(|mut v| v.swap_remove(0))
    }

    /// Stops the server (SIGTERM, then SIGKILL).
    pub fn stop(&mut self) -> Result<()> {
        self.process.stop().map(drop)
    }
}

/// Interfaces of `host` that have an address: what a server listens on by default.
fn addressed_ifaces(net: &Network, host: HostId) -> Vec<String> {
    net.host(host)
        .ifaces()
        .iter()
        .filter(|i| i.addr.is_some())
        .map(|i| i.name.clone())
        .collect()
}

fn write(path: &Path, text: &str) -> Result<()> {
    fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// ISC dhcpd 4.4 (`isc-dhcp-server`), in the foreground, logging to stderr
/// (stamped like syslog into `<name>.log`).
#[derive(Debug, Clone)]
pub struct Dhcpd {
    /// File stem in the run directory.
    pub name: String,
    pub subnets: Vec<Subnet>,
    pub authoritative: bool,
    /// `min-secs N;`: ignore requests whose `secs` is below N.
    pub min_secs: Option<u8>,
    /// `ping-check`: ping an address before offering it.
    pub ping_check: bool,
    /// Interfaces to listen on; empty means every addressed interface.
    pub interfaces: Vec<String>,
    /// Extra global statements, verbatim.
    pub extra: Vec<String>,
}

impl Dhcpd {
    pub fn new(subnets: Vec<Subnet>) -> Dhcpd {
        Dhcpd {
            name: "dhcpd".into(),
            subnets,
            authoritative: true,
            min_secs: None,
            ping_check: false,
            interfaces: Vec::new(),
            extra: Vec::new(),
        }
    }

    /// The generated `dhcpd.conf`.
    pub fn config(&self) -> String {
        let mut c = String::from("# generated by the dhcplens lab\n");
        c += "ddns-update-style none;\n";
        c += if self.authoritative {
            "authoritative;\n"
        } else {
            "not authoritative;\n"
        };
        let _ = writeln!(c, "ping-check {};", self.ping_check);
        if let Some(m) = self.min_secs {
            let _ = writeln!(c, "min-secs {m};");
        }
        for e in &self.extra {
            let _ = writeln!(c, "{e}");
        }
        for s in &self.subnets {
            let _ = writeln!(
                c,
                "\nsubnet {} netmask {} {{",
                s.net.network(),
                s.net.mask()
            );
            if let Some((a, b)) = s.range {
                let _ = writeln!(c, "  range {a} {b};");
                let _ = writeln!(
                    c,
                    "  default-lease-time {0};\n  max-lease-time {0};",
                    s.lease_time
                );
            }
            if let Some(r) = s.router {
                let _ = writeln!(c, "  option routers {r};");
            }
            if let Some(t) = s.renew {
                let _ = writeln!(c, "  option dhcp-renewal-time {t};");
            }
            if let Some(t) = s.rebind {
                let _ = writeln!(c, "  option dhcp-rebinding-time {t};");
            }
            c += "}\n";
        }
        c
    }

    pub fn start(&self, net: &Network, host: HostId) -> Result<Server> {
        let dir = net.dir();
        let h = net.host(host);
        let config = dir.join(format!("{}.conf", self.name));
        let leases = dir.join(format!("{}.leases", self.name));
        let pid = dir.join(format!("{}.pid", self.name));
        write(&config, &self.config())?;
        write(&leases, "")?;
        let mut cmd = h.ns().command(Tool::Dhcpd.resolve()?);
        cmd.args(["-4", "-f", "-d", "-cf"])
            .arg(&config)
            .arg("-lf")
            .arg(&leases)
            .arg("-pf")
            .arg(&pid);
        let ifaces = if self.interfaces.is_empty() {
            addressed_ifaces(net, host)
        } else {
            self.interfaces.clone()
        };
        cmd.args(&ifaces);
        let log = dir.join(format!("{}.log", self.name));
        // A server of the same name started before in this lab wrote to the
        // same file: only what this one writes is its log.
        let server_log = Log::after_current_end(&log);
        let mut process = Process::spawn(
            &self.name,
            cmd,
            Output::Stamped {
                path: log.clone(),
                host: h.name().to_string(),
                tag: "dhcpd".into(),
            },
        )?;
        process.wait_for(&["Server starting service."], START_TIMEOUT)?;
        Ok(Server {
            kind: Kind::Dhcpd,
            name: self.name.clone(),
            process,
            log: server_log,
            leases,
            config,
        })
    }
}

/// Kea DHCPv4 2.2 (`kea-dhcp4-server`) with raw sockets, logging
/// `kea-dhcp4` at DEBUG (level 0) and `kea-dhcp4.packets`,
/// `kea-dhcp4.bad-packets`, `kea-dhcp4.leases` and `kea-dhcp4.alloc-engine`
/// at DEBUG 50 to `<name>.log`; memfile leases, pid and lock in the run
/// directory. No control socket: the lab does not use one, and its path in a
/// deep run directory could pass the 107-byte limit of a socket path.
#[derive(Debug, Clone)]
pub struct Kea {
    pub name: String,
    pub subnets: Vec<Subnet>,
    /// `authoritative`: NAK requests for addresses it does not know.
    pub authoritative: bool,
    pub interfaces: Vec<String>,
    /// Extra top-level `Dhcp4` members, verbatim JSON (`"key": value`).
    pub extra: Vec<String>,
}

impl Kea {
    pub fn new(subnets: Vec<Subnet>) -> Kea {
        Kea {
            name: "kea".into(),
            subnets,
            authoritative: false,
            interfaces: Vec::new(),
            extra: Vec::new(),
        }
    }

    /// The generated `kea-dhcp4` JSON configuration.
    pub fn config(&self, dir: &Path, interfaces: &[String]) -> String {
        let p = |f: &str| json_str(&dir.join(format!("{}{f}", self.name)).to_string_lossy());
        let log = p(".log");
        let ifaces = interfaces
            .iter()
            .map(|i| json_str(i))
            .collect::<Vec<_>>()
            .join(", ");
        let mut subnets = Vec::new();
        for (i, s) in self.subnets.iter().enumerate() {
            let mut o = format!(
                "      {{ \"id\": {}, \"subnet\": \"{}/{}\", \"valid-lifetime\": {}",
                i + 1,
                s.net.network(),
                s.net.prefix,
                s.lease_time
            );
            if let Some(t) = s.renew {
                let _ = write!(o, ", \"renew-timer\": {t}");
            }
            if let Some(t) = s.rebind {
                let _ = write!(o, ", \"rebind-timer\": {t}");
            }
            if let Some((a, b)) = s.range {
                let _ = write!(o, ",\n        \"pools\": [ {{ \"pool\": \"{a} - {b}\" }} ]");
            }
            if let Some(r) = s.router {
                let _ = write!(
                    o,
                    ",\n        \"option-data\": [ {{ \"name\": \"routers\", \"data\": \"{r}\" }} ]"
                );
            }
            o += " }";
            subnets.push(o);
        }
        let logger = |name: &str, severity: &str, level: u32| {
            format!(
                "      {{ \"name\": \"{name}\", \"severity\": \"{severity}\", \"debuglevel\": {level},\n        \
                 \"output_options\": [ {{ \"output\": {log}, \"flush\": true }} ] }}"
            )
        };
        let mut extra = String::new();
        for e in &self.extra {
            let _ = writeln!(extra, "    {e},");
        }
        format!(
            "{{\n  \"Dhcp4\": {{\n    \"interfaces-config\": {{ \"interfaces\": [ {ifaces} ], \"dhcp-socket-type\": \"raw\" }},\n    \
             \"lease-database\": {{ \"type\": \"memfile\", \"persist\": true, \"name\": {leases}, \"lfc-interval\": 0 }},\n    \
             \"authoritative\": {auth},\n{extra}    \"subnet4\": [\n{subnets}\n    ],\n    \"loggers\": [\n{l1},\n{l2},\n{l3},\n{l4},\n{l5}\n    ]\n  }}\n}}\n",
            leases = p("-leases4.csv"),
            auth = self.authoritative,
            subnets = subnets.join(",\n"),
            l1 = logger("kea-dhcp4", "DEBUG", 0),
            l2 = logger("kea-dhcp4.packets", "DEBUG", 50),
            l3 = logger("kea-dhcp4.bad-packets", "DEBUG", 50),
            l4 = logger("kea-dhcp4.leases", "DEBUG", 50),
            l5 = logger("kea-dhcp4.alloc-engine", "DEBUG", 50),
        )
    }

    pub fn start(&self, net: &Network, host: HostId) -> Result<Server> {
        let dir = net.dir();
        let h = net.host(host);
        let ifaces = if self.interfaces.is_empty() {
            addressed_ifaces(net, host)
        } else {
            self.interfaces.clone()
        };
        let config = dir.join(format!("{}.json", self.name));
        let leases = dir.join(format!("{}-leases4.csv", self.name));
        // Kea appends to its log: a Kea of the same name started before in
        // this lab (and its DHCP4_STARTED) is not this one.
        let log = Log::after_current_end(dir.join(format!("{}.log", self.name)));
        write(&config, &self.config(dir, &ifaces))?;
        let _ = fs::remove_file(&leases);
        let mut cmd = h.ns().command(Tool::Kea.resolve()?);
        cmd.arg("-c")
            .arg(&config)
            .env("KEA_PIDFILE_DIR", dir)
            .env("KEA_LOCKFILE_DIR", dir);
        let mut process = Process::spawn(
            &self.name,
            cmd,
            Output::Raw(dir.join(format!("{}.stderr", self.name))),
        )?;
        log.wait_count_while(&["DHCP4_STARTED"], 1, START_TIMEOUT, || {
            process.check_running()
        })?;
        Ok(Server {
            kind: Kind::Kea,
            name: self.name.clone(),
            process,
            log,
            leases,
            config,
        })
    }
}

fn json_str(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o += "\\\"",
            '\\' => o += "\\\\",
            c if (c as u32) < 0x20 => {
                let _ = write!(o, "\\u{:04x}", c as u32);
            }
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

/// dnsmasq 2.90 (`dnsmasq-base`), DHCP only (`--port=0`), `--log-dhcp` to
/// `<name>.log`, no configuration file but its command line.
#[derive(Debug, Clone)]
pub struct Dnsmasq {
    pub name: String,
    pub subnets: Vec<Subnet>,
    pub authoritative: bool,
    /// Ping an address before offering it (dnsmasq's default; off here).
    pub ping: bool,
    pub interfaces: Vec<String>,
    /// Extra command-line arguments, verbatim.
    pub extra: Vec<String>,
}

impl Dnsmasq {
    pub fn new(subnets: Vec<Subnet>) -> Dnsmasq {
        Dnsmasq {
            name: "dnsmasq".into(),
            subnets,
            authoritative: false,
            ping: false,
            interfaces: Vec::new(),
            extra: Vec::new(),
        }
    }

    /// The command-line arguments (after the program name).
    pub fn args(&self, dir: &Path, interfaces: &[String]) -> Vec<String> {
        let f = |ext: &str| {
            dir.join(format!("{}{ext}", self.name))
                .display()
                .to_string()
        };
        let mut a = vec![
            "--no-daemon".to_string(),
            "--conf-file=/dev/null".into(),
            "--port=0".into(),
            "--no-resolv".into(),
            "--no-hosts".into(),
            "--user=root".into(),
            "--log-dhcp".into(),
            format!("--log-facility={}", f(".log")),
            format!("--pid-file={}", f(".pid")),
            format!("--dhcp-leasefile={}", f(".leases")),
        ];
        for i in interfaces {
            a.push(format!("--interface={i}"));
        }
        for s in &self.subnets {
            if let Some((first, last)) = s.range {
                a.push(format!(
                    "--dhcp-range={first},{last},{},{}",
                    s.net.mask(),
                    s.lease_time
                ));
            }
            if let Some(r) = s.router {
                a.push(format!("--dhcp-option=option:router,{r}"));
            }
            if let Some(t) = s.renew {
                a.push(format!("--dhcp-option=option:T1,{t}"));
            }
            if let Some(t) = s.rebind {
                a.push(format!("--dhcp-option=option:T2,{t}"));
            }
        }
        if self.authoritative {
            a.push("--dhcp-authoritative".into());
        }
        if !self.ping {
            a.push("--no-ping".into());
        }
        a.extend(self.extra.iter().cloned());
        a
    }

    pub fn start(&self, net: &Network, host: HostId) -> Result<Server> {
        let dir = net.dir();
        let h = net.host(host);
        let ifaces = if self.interfaces.is_empty() {
            addressed_ifaces(net, host)
        } else {
            self.interfaces.clone()
        };
        let args = self.args(dir, &ifaces);
        let config = dir.join(format!("{}.args", self.name));
        write(&config, &(args.join("\n") + "\n"))?;
        let leases = dir.join(format!("{}.leases", self.name));
        let log = Log::new(dir.join(format!("{}.log", self.name)));
        let _ = fs::remove_file(log.path());
        let mut cmd = h.ns().command(Tool::Dnsmasq.resolve()?);
        cmd.args(&args);
        let mut process = Process::spawn(
            &self.name,
            cmd,
            Output::Raw(dir.join(format!("{}.stderr", self.name))),
        )?;
        log.wait_count_while(&["DHCP, IP range"], 1, START_TIMEOUT, || {
            process.check_running()
        })?;
        Ok(Server {
            kind: Kind::Dnsmasq,
            name: self.name.clone(),
            process,
            log,
            leases,
            config,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subnet() -> Subnet {
        Subnet::new("10.0.0.0/24", "10.0.0.100", "10.0.0.110")
            .router("10.0.0.1")
            .lease(60)
            .timers(20, 40)
    }

    #[test]
    fn dhcpd_config_has_min_secs_and_the_subnet() {
        let mut d = Dhcpd::new(vec![subnet(), Subnet::declared("10.0.9.0/24")]);
        d.min_secs = Some(2);
        let c = d.config();
        assert!(c.contains("min-secs 2;"), "{c}");
        assert!(c.contains("authoritative;"), "{c}");
        assert!(c.contains("subnet 10.0.0.0 netmask 255.255.255.0 {"), "{c}");
        assert!(c.contains("range 10.0.0.100 10.0.0.110;"), "{c}");
        assert!(c.contains("option dhcp-renewal-time 20;"), "{c}");
        assert!(
            c.contains("subnet 10.0.9.0 netmask 255.255.255.0 {\n}"),
            "{c}"
        );
    }

    #[test]
    fn kea_config_is_json_with_files_in_the_run_dir() {
        let k = Kea::new(vec![subnet()]);
        let c = k.config(Path::new("/run/dir"), &["eth0".into()]);
        let v: serde_json::Value = serde_json::from_str(&c).unwrap_or_else(|e| panic!("{e}: {c}"));
        let d = &v["Dhcp4"];
        assert_eq!(d["lease-database"]["name"], "/run/dir/kea-leases4.csv");
        assert!(d.get("control-socket").is_none(), "{c}");
        assert_eq!(d["interfaces-config"]["dhcp-socket-type"], "raw");
        assert_eq!(
            d["subnet4"][0]["pools"][0]["pool"],
            "10.0.0.100 - 10.0.0.110"
        );
        assert_eq!(d["subnet4"][0]["renew-timer"], 20);
        let bad = &d["loggers"][2];
        assert_eq!(bad["name"], "kea-dhcp4.bad-packets");
        assert_eq!(bad["debuglevel"], 50);
        assert_eq!(bad["output_options"][0]["output"], "/run/dir/kea.log");
    }

    #[test]
    fn dnsmasq_args_are_dhcp_only_with_explicit_files() {
        let mut d = Dnsmasq::new(vec![subnet().lease(120)]);
        d.authoritative = true;
        let a = d.args(Path::new("/r"), &["eth0".into()]).join(" ");
        for want in [
            "--port=0",
            "--conf-file=/dev/null",
            "--dhcp-leasefile=/r/dnsmasq.leases",
            "--log-facility=/r/dnsmasq.log",
            "--dhcp-range=10.0.0.100,10.0.0.110,255.255.255.0,120",
            "--dhcp-authoritative",
            "--no-ping",
        ] {
            assert!(a.contains(want), "{want} not in {a}");
        }
    }
}
