//! The human form of a diagnosis: one line per healthy client; for clients
//! with problems, their findings by severity with evidence, and a ladder.

use std::io::{self, Write};

use diagnose::report::ClientReport;
use diagnose::rules::{frame_list, frame_name};
use diagnose::{Finding, Report, Severity};

use crate::style::{printable, Paint, Style};
use wire::dhcp::Dotted;

fn severity(style: Style, s: Severity) -> String {
    let text = format!("{:<7}", s.name());
    match s {
        Severity::Error => style.paint(Paint::Red, text),
        Severity::Warning => style.paint(Paint::Yellow, text),
        Severity::Info => style.paint(Paint::Dim, text),
    }
}

/// Wraps `text` at about 96 columns: the first line starts with `first`,
/// the others are indented to line up with it. Words are what
/// `split_whitespace` finds.
fn wrap(out: &mut impl Write, first: &str, text: &str) -> io::Result<()> {
    // For ASCII without a vertical tab (the one ASCII character that is
    // Unicode white space but not ASCII white space), both splits find the
    // same words; the ASCII one reads bytes instead of decoding characters.
    if text.is_ascii() && !text.contains('\x0b') {
        wrap_words(out, first, text.split_ascii_whitespace())
    } else {
        wrap_words(out, first, text.split_whitespace())
    }
}

fn wrap_words<'a>(
    out: &mut impl Write,
    first: &str,
    words: impl Iterator<Item = &'a str>,
) -> io::Result<()> {
    let rest = " ".repeat(first.chars().count());
    let mut indent = first;
    let mut line = String::new();
    let mut end_line = |indent: &str, line: &str| {
        out.write_all(indent.as_bytes())?;
        out.write_all(line.as_bytes())?;
        out.write_all(b"\n")
    };
    for word in words {
        if !line.is_empty() && line.len() + 1 + word.len() > 96 {
            end_line(indent, &line)?;
            indent = &rest;
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        end_line(indent, &line)?;
    }
    Ok(())
}

/// A client's line: chaddr, outcome, lease, servers, transactions. Written
/// piece by piece (a report has one per client, hundreds of thousands on a
/// large capture).
fn client_line(out: &mut impl Write, c: &ClientReport, style: Style) -> io::Result<()> {
    if c.chaddr.as_bytes().is_empty() {
        style.write(out, Paint::Bold, "(empty chaddr)")?;
    } else {
        style.write(out, Paint::Bold, c.chaddr.hex().as_str())?;
    }
    out.write_all(b"  ")?;
    let outcome = c.outcome();
    let paint = match outcome {
        Some(o) if o.is_failure() => Paint::Red,
        Some(o) if o.is_success() => Paint::Green,
        _ => Paint::Yellow,
    };
    let name = outcome.map_or("unknown", |o| o.name());
    style.write_padded(out, paint, name, 13)?;
    out.write_all(b"  ")?;
    match (c.address(), c.server()) {
        (Some(a), Some(s)) => {
            out.write_all(Dotted::new(a).as_str().as_bytes())?;
            out.write_all(b" from ")?;
            out.write_all(Dotted::new(s).as_str().as_bytes())?;
        }
        (Some(a), None) => out.write_all(Dotted::new(a).as_str().as_bytes())?,
        _ => out.write_all(b"no lease")?,
    }
    if let Some(t) = c.lease_time() {
        write!(out, " ({})", wire::dhcp::value::Duration(t))?;
    }
    let servers = c.servers();
    if servers.len() > 1 {
        out.write_all(b"  servers ")?;
        for (i, s) in servers.iter().enumerate() {
            if i > 0 {
                out.write_all(b", ")?;
            }
            out.write_all(Dotted::new(*s).as_str().as_bytes())?;
        }
    }
    // What a boot server gave it (a ProxyDHCP or boot server ACK).
    // The last boot server that gave a file, else the first that answered.
    let answered = c.boot_servers().iter().filter(|b| b.answered_by.is_some());
    if let Some(b) = answered
        .clone()
        .rfind(|b| b.boot_file.is_some())
        .or_else(|| answered.clone().next())
    {
        let (by, port) = b.answered_by.unwrap_or((b.server, b.port));
        out.write_all(b"  boot file ")?;
        out.write_all(
            b.boot_file
                .as_deref()
                .unwrap_or("(none)")
                .escape_debug()
                .to_string()
                .as_bytes(),
        )?;
        out.write_all(b" from ")?;
        out.write_all(Dotted::new(by).as_str().as_bytes())?;
        out.write_all(b":")?;
        out.write_all(itoa::Buffer::new().format(port).as_bytes())?;
    }
    out.write_all(b"  [")?;
    out.write_all(itoa::Buffer::new().format(c.transactions).as_bytes())?;
    out.write_all(if c.transactions == 1 {
        b" transaction]\n"
    } else {
        b" transactions]\n"
    })
}

/// Prints a finding.
fn finding(out: &mut impl Write, f: &Finding, files: &[String], style: Style) -> io::Result<()> {
    let why = if f.explains_failure {
        format!(
            " (explains {}, {} confidence)",
            if f.recovered {
                "a failed exchange; the client recovered"
            } else {
                "the failure"
            },
            format!("{:?}", f.confidence).to_lowercase()
        )
    } else {
        String::new()
    };
    let times = if f.occurrences > 1 {
        format!(" ×{}", f.occurrences)
    } else {
        String::new()
    };
    // Findings quote packets and log lines: shown without their controls.
    writeln!(
        out,
        "  {} {}{times}  {}{why}",
        severity(style, f.severity),
        style.paint(Paint::Bold, f.code),
        printable(&f.summary)
    )?;
    wrap(out, "           ", &printable(&f.explanation))?;
    if !f.frames.is_empty() {
        writeln!(
            out,
            "           evidence: {}",
            frame_list(files, f.frames.iter().copied())
        )?;
    }
    for l in &f.log_lines {
        writeln!(
            out,
            "           log {}:{}: {}",
            printable(&l.file),
            l.line,
            printable(&l.text)
        )?;
    }
    wrap(out, "           fix: ", &printable(&f.fix))?;
    Ok(())
}

fn ladder(
    out: &mut impl Write,
    c: &ClientReport,
    files: &[String],
    style: Style,
) -> io::Result<()> {
    if c.ladder().is_empty() {
        return Ok(());
    }
    writeln!(out, "  {}", style.paint(Paint::Dim, "exchange:"))?;
    for s in c.ladder() {
        let peer = s.server.map_or("*".to_string(), |a| a.to_string());
        let arrow = if s.from_client {
            format!("client → {peer:<15}")
        } else {
            format!("client ← {peer:<15}")
        };
        let notes = if s.has_notes() {
            format!("  ({})", s.notes().collect::<Vec<_>>().join(", "))
        } else {
            String::new()
        };
        let text = format!(
            "    {:>+9.3}s  {arrow}  {:<28} xid {}{notes}",
            s.t,
            s.label(),
            wire::dhcp::HexBuf::xid(s.xid).as_str()
        );
        let loc = frame_name(files, s.frame);
        writeln!(out, "{text}  {}", style.paint(Paint::Dim, loc))?;
    }
    Ok(())
}

/// Clients in the order a report shows them: those with problems first,
/// then by worst severity, then by first packet; ties in report order.
fn display_order(clients: &[ClientReport]) -> Vec<&ClientReport> {
    // One integer per client holds its whole sort key and, last, its index
    // (3 + 64 + 61 bits): all different, so an unstable sort gives the
    // stable order, comparing integers instead of computing each client's
    // key per comparison.
    const INDEX_BITS: u32 = 61;
    let mut keys: Vec<u128> = clients
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let worst: u128 = match c.worst() {
                None => 0,
                Some(Severity::Error) => 1,
                Some(Severity::Warning) => 2,
                Some(Severity::Info) => 3,
            };
            let group = u128::from(c.healthy()) << 2 | worst;
            // Flipping the sign bit orders an i64 as a u64.
            let first = u128::from(c.first.0 as u64 ^ 1 << 63);
            group << (64 + INDEX_BITS) | first << INDEX_BITS | i as u128
        })
        .collect();
    keys.sort_unstable();
    keys.iter()
        .map(|k| &clients[usize::try_from(k & ((1 << INDEX_BITS) - 1)).expect("an index")])
        .collect()
}

/// Prints a report: clients with problems first, then healthy ones.
pub fn print(
    out: &mut impl Write,
    r: &Report,
    files: &[String],
    problems_only: bool,
    style: Style,
) -> io::Result<()> {
    for c in display_order(&r.clients) {
        if c.healthy() && problems_only {
            continue;
        }
        client_line(out, c, style)?;
        if c.healthy() && c.details().is_empty() {
            continue;
        }
        for f in c.details() {
            finding(out, f, files, style)?;
        }
        if !c.healthy() {
            ladder(out, c, files, style)?;
        }
    }
    // Findings the captures show about several clients at once (a shared
    // client identifier, ICMP errors that name no client), then what only
    // the logs tell (clients with no packet in the captures, server-wide
    // lines).
    let (shared, from_logs): (Vec<&Finding>, Vec<&Finding>) = r
        .global
        .iter()
        .filter(|f| !(problems_only && f.severity == Severity::Info))
        .partition(|f| f.log_lines.is_empty());
    for (title, group) in [
        ("across clients:", shared),
        ("from the logs alone:", from_logs),
    ] {
        if group.is_empty() {
            continue;
        }
        writeln!(out, "{}", style.paint(Paint::Bold, title))?;
        for f in group {
            finding(out, f, files, style)?;
        }
    }
    let failed = r
        .clients
        .iter()
        .filter(|c| c.outcome().is_some_and(|o| o.is_failure()))
        .count();
    let errors = r
        .findings()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = r
        .findings()
        .filter(|f| f.severity == Severity::Warning)
        .count();
    let mut tally: Vec<(String, usize)> = Vec::new();
    for c in &r.clients {
        let name = c.outcome().map_or("unknown", |o| o.name()).to_string();
        match tally.iter_mut().find(|(n, _)| *n == name) {
            Some((_, k)) => *k += 1,
            None => tally.push((name, 1)),
        }
    }
    let tally: Vec<String> = tally.iter().map(|(n, k)| format!("{k} {n}")).collect();
    let servers: Vec<String> = r
        .servers
        .iter()
        .map(|s| {
            format!(
                "{}{} ({} offers, {} acks, {} naks{})",
                s.address,
                s.mac.as_ref().map_or(String::new(), |m| format!(" [{m}]")),
                s.offers,
                s.acks,
                s.naks,
                s.mean_latency.map_or(String::new(), |l| format!(
                    ", mean reply {:.0} ms",
                    l * 1000.0
                ))
            )
        })
        .collect();
    writeln!(
        out,
        "{} {} client{}: {}; {} failed. {} error{}, {} warning{}. {} DHCP packet{} in {} transaction{}.",
        style.paint(Paint::Bold, "summary:"),
        r.clients.len(),
        if r.clients.len() == 1 { "" } else { "s" },
        if tally.is_empty() { "none".into() } else { tally.join(", ") },
        failed,
        errors,
        if errors == 1 { "" } else { "s" },
        warnings,
        if warnings == 1 { "" } else { "s" },
        r.stats.packets,
        if r.stats.packets == 1 { "" } else { "s" },
        r.stats.transactions,
        if r.stats.transactions == 1 { "" } else { "s" },
    )?;
    if !servers.is_empty() {
        writeln!(
            out,
            "{} {}",
            style.paint(Paint::Bold, "servers:"),
            servers.join("; ")
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `wrap` as it was written first, with `writeln!` and `split_whitespace`.
    fn wrap_reference(first: &str, text: &str) -> String {
        use std::fmt::Write;
        let rest = " ".repeat(first.chars().count());
        let mut indent = first;
        let (mut out, mut line) = (String::new(), String::new());
        for word in text.split_whitespace() {
            if !line.is_empty() && line.len() + 1 + word.len() > 96 {
                writeln!(out, "{indent}{line}").unwrap();
                indent = &rest;
                line.clear();
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        if !line.is_empty() {
            writeln!(out, "{indent}{line}").unwrap();
        }
        out
    }

    #[test]
    fn wrap_splits_words_as_split_whitespace_does() {
        let long = "word ".repeat(60);
        let texts = [
            "",
            "   ",
            "one",
            long.as_str(),
            "tabs\tand\nnewlines\r\nand\x0cform feeds",
            "a vertical\x0btab is Unicode white space",
            "no-break\u{a0}space and\u{2003}em space, café ×3",
            &"x".repeat(130),
            &format!("{} {}", "y".repeat(95), "z"),
        ];
        for first in ["           ", "           fix: ", "→ "] {
            for text in texts {
                let mut out = Vec::new();
                wrap(&mut out, first, text).unwrap();
                assert_eq!(
                    String::from_utf8(out).unwrap(),
                    wrap_reference(first, text),
                    "{text:?}"
                );
            }
        }
    }
    use capture::Timestamp;
    use diagnose::Code;
    use wire::HwAddr;

    #[test]
    fn display_order_is_the_stable_sort_by_health_severity_and_first_packet() {
        let firsts = [5, -3, 5, i64::MIN, i64::MAX, 0, -3, 7, 5, 0, -1, 2];
        let severities = [
            None,
            Some(Severity::Info),
            Some(Severity::Error),
            Some(Severity::Warning),
        ];
        let clients: Vec<ClientReport> = firsts
            .iter()
            .enumerate()
            .map(|(i, &first)| {
                let mut c =
                    ClientReport::new(HwAddr::new(&[2, 0, 0, 0, 0, i as u8]), Timestamp(first));
                if let Some(s) = severities[i % 4] {
                    c.details_mut()
                        .push(Finding::new(Code::OfferIgnored, s, None, None));
                }
                c
            })
            .collect();
        let mut expected: Vec<&ClientReport> = clients.iter().collect();
        expected.sort_by_key(|c| (c.healthy(), c.worst(), c.first));
        let got = display_order(&clients);
        let chaddrs = |v: &[&ClientReport]| v.iter().map(|c| c.chaddr).collect::<Vec<_>>();
        assert_eq!(chaddrs(&got), chaddrs(&expected));
        // Both groups and several severities are present, with ties in first.
        assert!(
            got.first().is_some_and(|c| !c.healthy()) && got.last().is_some_and(|c| c.healthy())
        );
    }
}
