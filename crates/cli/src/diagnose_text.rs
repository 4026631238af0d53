//! The human form of a diagnosis: one line per healthy client; for clients
//! with problems, their findings by severity with evidence, and a ladder.

use std::io::{self, Write};

use diagnose::report::ClientReport;
use diagnose::rules::{frame_list, frame_name};
use diagnose::{Finding, Report, Severity};

use crate::style::{Paint, Style};

fn severity(style: Style, s: Severity) -> String {
    let text = format!("{:<7}", s.name());
    match s {
        Severity::Error => style.paint(Paint::Red, text),
        Severity::Warning => style.paint(Paint::Yellow, text),
        Severity::Info => style.paint(Paint::Dim, text),
    }
}

/// Wraps `text` at about 96 columns: the first line starts with `first`,
/// the others are indented to line up with it.
fn wrap(out: &mut impl Write, first: &str, text: &str) -> io::Result<()> {
    let rest = " ".repeat(first.chars().count());
    let mut indent = first;
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > 96 {
            writeln!(out, "{indent}{line}")?;
            indent = &rest;
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        writeln!(out, "{indent}{line}")?;
    }
    Ok(())
}

fn client_line(c: &ClientReport, style: Style) -> String {
    let outcome = c.outcome().map_or("unknown", |o| o.name());
    let painted = match c.outcome() {
        Some(o) if o.is_failure() => style.paint(Paint::Red, format!("{outcome:<13}")),
        Some(o) if o.is_success() => style.paint(Paint::Green, format!("{outcome:<13}")),
        _ => style.paint(Paint::Yellow, format!("{outcome:<13}")),
    };
    let lease = match (c.address(), c.server()) {
        (Some(a), Some(s)) => format!("{a} from {s}"),
        (Some(a), None) => a.to_string(),
        _ => "no lease".into(),
    };
    let lease_time = c.lease_time().map_or(String::new(), |t| {
        format!(" ({})", wire::dhcp::value::Duration(t))
    });
    let servers = if c.servers().len() > 1 {
        format!(
            "  servers {}",
            c.servers()
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )
    } else {
        String::new()
    };
    let chaddr = if c.chaddr.as_bytes().is_empty() {
        "(empty chaddr)".to_string()
    } else {
        c.chaddr.to_string()
    };
    format!(
        "{}  {painted}  {lease}{lease_time}{servers}  [{} transaction{}]",
        style.paint(Paint::Bold, chaddr),
        c.transactions,
        if c.transactions == 1 { "" } else { "s" }
    )
}

/// Prints a finding; `recovered`: its client failed an exchange but ended well.
fn finding(
    out: &mut impl Write,
    f: &Finding,
    files: &[String],
    recovered: bool,
    style: Style,
) -> io::Result<()> {
    let why = if f.explains_failure {
        format!(
            " (explains {}, {} confidence)",
            if recovered {
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
    writeln!(
        out,
        "  {} {}{times}  {}{why}",
        severity(style, f.severity),
        style.paint(Paint::Bold, f.code),
        f.summary
    )?;
    wrap(out, "           ", &f.explanation)?;
    if !f.frames.is_empty() {
        writeln!(
            out,
            "           evidence: {}",
            frame_list(files, f.frames.iter().copied())
        )?;
    }
    for l in &f.log_lines {
        writeln!(out, "           log {}:{}: {}", l.file, l.line, l.text)?;
    }
    wrap(out, "           fix: ", &f.fix)?;
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
        let notes = if s.notes.is_empty() {
            String::new()
        } else {
            format!("  ({})", s.notes.join(", "))
        };
        let text = format!(
            "    {:>+9.3}s  {arrow}  {:<28} xid {}{notes}",
            s.t, s.label, s.xid
        );
        let loc = frame_name(files, s.frame);
        writeln!(out, "{text}  {}", style.paint(Paint::Dim, loc))?;
    }
    Ok(())
}

/// Prints a report: clients with problems first, then healthy ones.
pub fn print(
    out: &mut impl Write,
    r: &Report,
    files: &[String],
    problems_only: bool,
    style: Style,
) -> io::Result<()> {
    let mut order: Vec<&ClientReport> = r.clients.iter().collect();
    order.sort_by_key(|c| (c.healthy(), c.worst(), c.first));
    for c in &order {
        if c.healthy() && problems_only {
            continue;
        }
        writeln!(out, "{}", client_line(c, style))?;
        if c.healthy() && c.details().is_empty() {
            continue;
        }
        let recovered = !c.outcome().is_some_and(|o| o.is_failure());
        for f in c.details() {
            finding(out, f, files, recovered, style)?;
        }
        if !c.healthy() {
            ladder(out, c, files, style)?;
        }
    }
    // Findings about several clients at once, then what only the logs tell
    // (clients with no packet in the captures, server-wide lines).
    let (shared, from_logs): (Vec<&Finding>, Vec<&Finding>) = r
        .global
        .iter()
        .filter(|f| !(problems_only && f.severity == Severity::Info))
        .partition(|f| f.code == diagnose::Code::ClientIdShared);
    for (title, group) in [
        ("across clients:", shared),
        ("from the logs alone:", from_logs),
    ] {
        if group.is_empty() {
            continue;
        }
        writeln!(out, "{}", style.paint(Paint::Bold, title))?;
        for f in group {
            finding(out, f, files, false, style)?;
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
        "{} {} client{}: {}; {} failed. {} error{}, {} warning{}. {} DHCP packets in {} transactions.",
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
        r.stats.transactions
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
