//! A large ISC dhcpd log, as syslog writes it: `clients` machines each get
//! a lease (DISCOVER, OFFER, REQUEST, ACK), then renew it in turn (REQUEST,
//! ACK) until the log has `lines` lines; one client in a hundred is dropped
//! for `min-secs` instead (a cause line). The lines are ISC dhcpd 4.4's
//! own wording, as in `crates/logs/tests/fixtures/`.

use std::io::{self, Write};

/// What [`write_dhcpd_log`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogStats {
    pub lines: u64,
    pub bytes: u64,
}

/// The client's MAC and address (254 clients a /24).
fn client(i: u64) -> (String, String) {
    let [_, _, _, _, a, b, c, d] = i.to_be_bytes();
    (
        format!("02:{a:02x}:{b:02x}:{c:02x}:{d:02x}:01"),
        format!(
            "10.{}.{}.{}",
            64 + (i / 254 / 256) % 64,
            (i / 254) % 256,
            1 + i % 254
        ),
    )
}

/// Writes `lines` lines (at least one full DORA per client first), one
/// every 2 ms from 2024-03-04 00:00 UTC.
pub fn write_dhcpd_log(out: &mut impl Write, clients: u64, lines: u64) -> io::Result<LogStats> {
    let clients = clients.max(1);
    let mut n = 0u64;
    let mut bytes = 0u64;
    let mut line = |out: &mut dyn Write, text: &str| -> io::Result<bool> {
        if n == lines {
            return Ok(false);
        }
        let ms = n * 2;
        let (s, ms) = (ms / 1000, ms % 1000);
        let stamp = format!(
            "2024-03-04T{:02}:{:02}:{:02}.{ms:03}000+00:00",
            (s / 3600) % 24,
            (s / 60) % 60,
            s % 60
        );
        let l = format!("{stamp} server dhcpd[4242]: {text}\n");
        out.write_all(l.as_bytes())?;
        bytes += l.len() as u64;
        n += 1;
        Ok(true)
    };
    'all: for round in 0.. {
        for i in 0..clients {
            let (mac, ip) = client(i);
            let steps: Vec<String> = if i % 100 == 42 {
                vec![format!("DHCPDISCOVER from {mac} via eth0: configured min-secs value (2) is greater than secs field (0).  message dropped.")]
            } else if round == 0 {
                vec![
                    format!("DHCPDISCOVER from {mac} via eth0"),
                    format!("DHCPOFFER on {ip} to {mac} via eth0"),
                    format!("DHCPREQUEST for {ip} (10.0.0.1) from {mac} via eth0"),
                    format!("DHCPACK on {ip} to {mac} via eth0"),
                ]
            } else {
                vec![
                    format!("DHCPREQUEST for {ip} from {mac} via eth0"),
                    format!("DHCPACK on {ip} to {mac} via eth0"),
                ]
            };
            for s in &steps {
                if !line(out, s)? {
                    break 'all;
                }
            }
        }
    }
    Ok(LogStats { lines: n, bytes })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_has_the_lines_asked_for_dora_then_renewals() {
        let mut out = Vec::new();
        let s = write_dhcpd_log(&mut out, 3, 20).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!((s.lines, s.bytes), (20, text.len() as u64));
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("2024-03-04T00:00:00.000000+00:00 server dhcpd[4242]: DHCPDISCOVER from 02:00:00:00:00:01 via eth0"));
        assert!(
            lines[12].contains("DHCPREQUEST for 10.64.0.1 from 02:00:00:00:00:01"),
            "{}",
            lines[12]
        );
        assert!(lines[19].starts_with("2024-03-04T00:00:00.038000"));
    }
}
