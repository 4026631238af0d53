//! `dhcplens diagnose --html FILE`: the diagnosis as one self-contained page
//! people can read, print and send on.
//!
//! Per case: the verdict per client (failures first), a timeline of the
//! capture, the servers; per client a ladder diagram of every message (SVG,
//! with a table as its text alternative) beside its findings. Selecting an
//! arrow shows the decoded packet (its `decode --json` form, embedded in the
//! page) with the fields the findings are about highlighted.
//!
//! The page loads nothing: CSS, script and SVG are inline, and a Content
//! Security Policy forbids any network access and any script but ours.
//! Everything taken from a capture is escaped ([`escape::Esc`]); the packet
//! data sits in a JSON block that cannot close its `<script>`, and the
//! script only ever sets `textContent`.
//!
//! The engine keeps no packets, so the page reads the captures again
//! ([`collect`]); how much it shows is capped ([`Limits`]), and the page says
//! so when it is.

mod collect;
mod escape;
mod highlight;
mod ladder;
mod timeline;

use std::collections::HashMap;
use std::fmt::Write;
use std::hash::{BuildHasher, Hasher};
use std::path::Path;

use capture::Timestamp;
use diagnose::report::ClientReport;
use diagnose::rules::frame_name;
use diagnose::{Code, Finding, FrameRef, Outcome, Report, Severity};

use crate::feed::Feed;
use escape::{script_json, Esc};

const CSS: &str = include_str!("html/report.css");
const JS: &str = include_str!("html/report.js");

/// How to read the ladders: one sample of each kind of arrow.
const LEGEND: &str = concat!(
    "<p class=\"legend\"><span class=\"lbl\">Ladders</span> ",
    "<span><svg class=\"lg\" viewBox=\"0 0 34 12\" width=\"34\" height=\"12\" aria-hidden=\"true\"><g class=\"lg-arrow req\">",
    "<line class=\"shaft\" x1=\"1\" y1=\"6\" x2=\"25\" y2=\"6\"/><polygon class=\"head\" points=\"33,6 24,1.5 24,10.5\"/></g></svg> request</span>",
    "<span><svg class=\"lg\" viewBox=\"0 0 34 12\" width=\"34\" height=\"12\" aria-hidden=\"true\"><g class=\"lg-arrow rep\">",
    "<line class=\"shaft\" x1=\"9\" y1=\"6\" x2=\"33\" y2=\"6\"/><polygon class=\"head\" points=\"1,6 10,1.5 10,10.5\"/></g></svg> reply</span>",
    "<span><svg class=\"lg\" viewBox=\"0 0 34 12\" width=\"34\" height=\"12\" aria-hidden=\"true\"><g class=\"lg-arrow nak\">",
    "<line class=\"shaft\" x1=\"9\" y1=\"6\" x2=\"33\" y2=\"6\"/><polygon class=\"head\" points=\"1,6 10,1.5 10,10.5\"/></g></svg> NAK</span>",
    "<span><svg class=\"lg\" viewBox=\"0 0 34 12\" width=\"34\" height=\"12\" aria-hidden=\"true\"><g class=\"lg-arrow bad\">",
    "<line class=\"shaft\" x1=\"9\" y1=\"6\" x2=\"33\" y2=\"6\"/><polygon class=\"head\" points=\"1,6 10,1.5 10,10.5\"/></g></svg> UDP checksum a client drops</span>",
    "<span><svg class=\"lg\" viewBox=\"0 0 34 12\" width=\"34\" height=\"12\" aria-hidden=\"true\"><g class=\"lg-arrow icmp\">",
    "<line class=\"shaft\" x1=\"9\" y1=\"6\" x2=\"33\" y2=\"6\"/><polygon class=\"head\" points=\"1,6 10,1.5 10,10.5\"/></g></svg> ICMP error quoting a message</span>",
    "<span><svg class=\"lg\" viewBox=\"0 0 34 12\" width=\"34\" height=\"12\" aria-hidden=\"true\"><g class=\"lg-arrow req retx\">",
    "<line class=\"shaft\" x1=\"1\" y1=\"6\" x2=\"25\" y2=\"6\"/><polygon class=\"head\" points=\"33,6 24,1.5 24,10.5\"/></g></svg> retransmission</span>",
    "<span><svg class=\"lg\" viewBox=\"0 0 20 20\" width=\"16\" height=\"16\" aria-hidden=\"true\"><g class=\"lost\">",
    "<circle cx=\"10\" cy=\"10\" r=\"8\"/><path d=\"M6.5 6.5 l7 7 M13.5 6.5 l-7 7\"/></g></svg> no answer</span>",
    "<span class=\"lg-time\">+1.000 s</span> evidence of a finding",
    "</p>"
);

/// How much of a big capture the page shows.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Clients with a section of their own (failures first).
    pub clients: usize,
    /// Frames embedded across a case.
    pub packets: usize,
    /// Frames per client, at most and at least (when many clients share
    /// the budget).
    pub per_client_max: usize,
    pub per_client_min: usize,
    /// Rows of the timeline.
    pub timeline_rows: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            clients: 500,
            packets: 10_000,
            per_client_max: 200,
            per_client_min: 10,
            timeline_rows: 200,
        }
    }
}

/// One case, rendered.
struct CaseOut {
    name: String,
    anchor: String,
    failed: usize,
    body: String,
}

/// The page being built: one section per case.
pub struct Page {
    limits: Limits,
    cases: Vec<CaseOut>,
    /// `"arrow id": {packet data}` for every arrow of every case.
    data: Vec<(String, String)>,
}

/// The class of an outcome: `ok`, `fail` or `open` (incomplete, unknown).
pub fn outcome_class(o: Option<Outcome>) -> &'static str {
    match o {
        Some(o) if o.is_failure() => "fail",
        Some(o) if o.is_success() => "ok",
        _ => "open",
    }
}

/// `+0.312 s` since `t0`; minutes and hours for long spans.
pub fn rel_time(t0: Timestamp, t: Timestamp) -> String {
    let d = (t.0 - t0.0) as f64 / 1e9;
    let sign = if d < 0.0 { "−" } else { "+" };
    let a = d.abs();
    if a < 1000.0 {
        format!("{sign}{a:.3} s")
    } else {
        let s = a as u64;
        if s < 3600 {
            format!("{sign}{}m{:02}s", s / 60, s % 60)
        } else {
            format!("{sign}{}h{:02}m{:02}s", s / 3600, s / 60 % 60, s % 60)
        }
    }
}

/// The status of a client for colours: `fail`, `warn`, `ok` or `open`.
fn client_class(c: &ClientReport) -> &'static str {
    if c.outcome().is_some_and(Outcome::is_failure) || c.worst() == Some(Severity::Error) {
        "fail"
    } else if c.worst() == Some(Severity::Warning) {
        "warn"
    } else {
        outcome_class(c.outcome())
    }
}

fn chaddr_text(c: &ClientReport) -> String {
    if c.chaddr.as_bytes().is_empty() {
        "(empty chaddr)".into()
    } else {
        c.chaddr.to_string()
    }
}

fn lease_text(c: &ClientReport) -> String {
    let mut s = match (c.address(), c.server()) {
        (Some(a), Some(s)) => format!("{a} from {s}"),
        (Some(a), None) => a.to_string(),
        _ => "no lease".into(),
    };
    if let Some(t) = c.lease_time() {
        let _ = write!(s, " ({})", wire::dhcp::value::Duration(t));
    }
    s
}

/// Text with `code` spans for the parts between backticks.
fn rich(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for (i, part) in text.split('`').enumerate() {
        if i % 2 == 1 {
            let _ = write!(out, "<code>{}</code>", Esc(part));
        } else {
            let _ = write!(out, "{}", Esc(part));
        }
    }
    out
}

/// A reference, with RFCs linked to their text.
fn reference(r: &str) -> String {
    if let Some(rest) = r.strip_prefix("RFC ") {
        let num: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if !num.is_empty() {
            return format!(
                "<a href=\"https://www.rfc-editor.org/rfc/rfc{num}\" rel=\"noreferrer\">RFC {num}</a>{}",
                Esc(&rest[num.len()..])
            );
        }
    }
    Esc(r).to_string()
}

/// A random token for the Content Security Policy nonce: the page's own
/// script and style carry it, anything injected could not.
fn nonce() -> String {
    let mut out = String::new();
    for i in 0..2u64 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(i);
        h.write_i64(Timestamp::now().0);
        let _ = write!(out, "{:016x}", h.finish());
    }
    out
}

impl Default for Page {
    fn default() -> Page {
        Page::new(Limits::default())
    }
}

impl Page {
    pub fn new(limits: Limits) -> Page {
        Page {
            limits,
            cases: Vec::new(),
            data: Vec::new(),
        }
    }

    /// Adds a case: its report, and the packets of its clients read again
    /// from the captures `feed` opened (`files` are their names, which the
    /// report's frames refer to).
    pub fn add_case(
        &mut self,
        name: &str,
        files: &[String],
        logs: &[String],
        report: &Report,
        feed: &Feed,
    ) {
        let problems = &feed.problems;
        let clock_notes = feed.clock_notes();
        let k = self.cases.len() + 1;
        let prefix = format!("k{k}");
        let lim = self.limits;

        let mut order: Vec<&ClientReport> = report.clients.iter().collect();
        order.sort_by_key(|c| (c.healthy(), c.worst().is_none(), c.worst(), c.first));
        let hidden = order.len().saturating_sub(lim.clients);
        order.truncate(lim.clients);
        let per_client = (lim.packets / order.len().max(1)).clamp(
            lim.per_client_min,
            lim.per_client_max.max(lim.per_client_min),
        );
        let chaddrs: Vec<wire::HwAddr> = order.iter().map(|c| c.chaddr).collect();
        let collected = collect::collect(
            files,
            &feed.paths(),
            &chaddrs,
            per_client,
            &feed.clock_offsets,
        );

        // What to highlight in each frame, and which frames are evidence.
        let mut highlights: HashMap<FrameRef, Vec<(&'static str, &'static str)>> = HashMap::new();
        let mut evidence: HashMap<FrameRef, &'static str> = HashMap::new();
        let across: Vec<&Finding> = report
            .findings()
            .filter(|f| f.chaddr.is_none() || f.code == Code::ClientIdShared)
            .collect();
        let all_findings = order
            .iter()
            .flat_map(|c| c.details().iter())
            .chain(across.iter().copied());
        for f in all_findings {
            for fr in &f.frames {
                let v = highlights.entry(*fr).or_default();
                for key in highlight::keys(f.code) {
                    v.push((key, f.code.as_str()));
                }
                if f.severity != Severity::Info {
                    let e = evidence.entry(*fr).or_insert(f.severity.name());
                    if f.severity == Severity::Error {
                        *e = "error";
                    }
                }
            }
        }
        for (fr, info) in &collected.frames {
            let v = highlights.entry(*fr).or_default();
            if matches!(info.checksum, "partial" | "invalid") {
                v.push(("udp_checksum", "checksum"));
            }
            if info.anomalies > 0 {
                v.push(("anomalies", "malformed"));
            }
        }
        let ctx = ladder::Ctx {
            files,
            frames: &collected.frames,
            highlights: &highlights,
            evidence: &evidence,
        };

        // Ladders first: the findings link to their arrows.
        let mut next_id = 0usize;
        let mut frame_ids: HashMap<FrameRef, String> = HashMap::new();
        let mut ladders: Vec<Option<ladder::Ladder>> = Vec::with_capacity(order.len());
        for c in &order {
            ladders.push(collected.clients.get(&c.chaddr).map(|p| {
                ladder::render(
                    &c.chaddr,
                    p,
                    &ctx,
                    &mut next_id,
                    &prefix,
                    &mut self.data,
                    &mut frame_ids,
                )
            }));
        }

        let mut b = String::with_capacity(64 * 1024);
        let failed = report
            .clients
            .iter()
            .filter(|c| c.outcome().is_some_and(Outcome::is_failure))
            .count();
        let count = |s: Severity| report.findings().filter(|f| f.severity == s).count();
        let (errors, warnings) = (count(Severity::Error), count(Severity::Warning));
        let _ = write!(
            b,
            "<section class=\"case\" id=\"{prefix}\" aria-labelledby=\"{prefix}-h\">\
             <h2 id=\"{prefix}-h\">{}</h2>",
            Esc(name)
        );

        // Files and input problems.
        b.push_str("<p class=\"files\">");
        for (i, f) in files.iter().enumerate() {
            let _ = write!(
                b,
                "{}<span class=\"file\">{}</span>",
                if i > 0 { " · " } else { "" },
                Esc(f)
            );
        }
        for (i, f) in logs.iter().enumerate() {
            let _ = write!(
                b,
                "{}<span class=\"file log\">{}</span>",
                if i == 0 { " · logs: " } else { " · " },
                Esc(f)
            );
        }
        b.push_str("</p>");
        if !clock_notes.is_empty() {
            b.push_str("<div class=\"notice\" role=\"note\"><strong>Clocks:</strong><ul>");
            for n in &clock_notes {
                let _ = write!(b, "<li>{}</li>", Esc(n));
            }
            b.push_str("</ul></div>");
        }
        if !problems.is_empty() || !collected.unreadable.is_empty() {
            b.push_str("<div class=\"notice\" role=\"note\"><strong>Inputs:</strong><ul>");
            for p in problems {
                let _ = write!(b, "<li>{}: {}</li>", Esc(&p.file), Esc(&p.message));
            }
            for u in &collected.unreadable {
                let _ = write!(
                    b,
                    "<li>{}: standard input cannot be read twice, so its packets are in the verdicts but not in the ladders. \
                     Save the capture to a file to see them.</li>",
                    Esc(u)
                );
            }
            b.push_str("</ul></div>");
        }

        // The numbers.
        let span = match (report.stats.first, report.stats.last) {
            (Some(a), Some(z)) => format!(
                "{:.3} s<small>{} – {}</small>",
                (z.0 - a.0) as f64 / 1e9,
                Esc(&a.to_string()),
                Esc(&z.time_of_day())
            ),
            _ => "—".into(),
        };
        let _ = write!(
            b,
            "<dl class=\"stats\">\
             <div><dt>clients</dt><dd>{}</dd></div>\
             <div class=\"{}\"><dt>failed</dt><dd>{failed}</dd></div>\
             <div class=\"{}\"><dt>errors</dt><dd>{errors}</dd></div>\
             <div class=\"{}\"><dt>warnings</dt><dd>{warnings}</dd></div>\
             <div><dt>DHCP packets</dt><dd>{}</dd></div>\
             <div><dt>transactions</dt><dd>{}</dd></div>\
             <div class=\"wide\"><dt>time span</dt><dd>{span}</dd></div></dl>",
            report.clients.len(),
            if failed > 0 { "stat-fail" } else { "stat-ok" },
            if errors > 0 { "stat-fail" } else { "stat-ok" },
            if warnings > 0 { "stat-warn" } else { "stat-ok" },
            report.stats.packets,
            report.stats.transactions,
        );

        // What went wrong, by finding code, across all clients.
        let mut by_code: Vec<(Severity, &'static str, usize, &str)> = Vec::new();
        for f in report
            .clients
            .iter()
            .flat_map(|c| c.details().iter())
            .chain(across.iter().copied())
        {
            match by_code.iter_mut().find(|e| e.1 == f.code.as_str()) {
                Some(e) => {
                    e.2 += 1;
                    e.0 = e.0.min(f.severity);
                }
                None => by_code.push((f.severity, f.code.as_str(), 1, f.code.title())),
            }
        }
        by_code.sort_by_key(|e| (e.0, std::cmp::Reverse(e.2), e.1));
        if !by_code.is_empty() {
            b.push_str("<h3>Findings</h3><ul class=\"tally\">");
            for (sev, code, n, title) in &by_code {
                let _ = write!(
                    b,
                    "<li class=\"sev-{}\"><span class=\"chip sev-{}\">{code}</span> <span class=\"n\">{n} client{}</span> <span class=\"t\">{}</span></li>",
                    sev.name(),
                    sev.name(),
                    if *n == 1 { "" } else { "s" },
                    Esc(title)
                );
            }
            b.push_str("</ul>");
        }

        // Verdicts.
        let _ = write!(
            b,
            "<div class=\"section-head\"><h3>Verdict per client</h3>\
             <label class=\"toggle\"><input type=\"checkbox\" data-case=\"{prefix}\"> only clients with problems</label></div>\
             <div class=\"table-scroll tall\"><table class=\"verdicts\"><thead><tr><th scope=\"col\">client</th>\
             <th scope=\"col\">outcome</th><th scope=\"col\">lease</th><th scope=\"col\">servers</th>\
             <th scope=\"col\">transactions</th><th scope=\"col\">findings</th></tr></thead><tbody>"
        );
        for (j, c) in order.iter().enumerate() {
            let cls = client_class(c);
            let servers: Vec<String> = c.servers().iter().map(|s| s.to_string()).collect();
            let _ = write!(
                b,
                "<tr class=\"st-{cls}\"><td><a class=\"mac\" href=\"#{prefix}c{}\">{}</a></td>\
                 <td><span class=\"badge {}\">{}</span></td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td>",
                j + 1,
                Esc(&chaddr_text(c)),
                outcome_class(c.outcome()),
                Esc(c.outcome().map_or("unknown", |o| o.name())),
                Esc(&lease_text(c)),
                Esc(&servers.join(", ")),
                c.transactions
            );
            for f in c.details() {
                let _ = write!(
                    b,
                    "<span class=\"chip sev-{}\" title=\"{}\">{}</span> ",
                    f.severity.name(),
                    Esc(&f.summary),
                    f.code
                );
            }
            b.push_str("</td></tr>");
        }
        b.push_str("</tbody></table></div>");
        if hidden > 0 {
            let _ = write!(
                b,
                "<p class=\"notice\">{hidden} more healthy or less serious clients are not shown (the page shows at most {}); \
                 <code>dhcplens diagnose --json</code> lists them all.</p>",
                lim.clients
            );
        }

        // Timeline.
        if let (Some(first), Some(last)) = (report.stats.first, report.stats.last) {
            let rows: Vec<timeline::Row> = order
                .iter()
                .enumerate()
                .take(lim.timeline_rows)
                .map(|(j, c)| {
                    let marks = collected
                        .clients
                        .get(&c.chaddr)
                        .map(|p| {
                            p.summaries
                                .iter()
                                .map(|s| timeline::Mark {
                                    start: s.start,
                                    end: s.end,
                                    class: outcome_class(Some(s.outcome)),
                                    title: format!(
                                        "xid 0x{:08x} · {} · {} · {} – {}",
                                        s.xid,
                                        s.state.name(),
                                        s.outcome.name(),
                                        s.start.time_of_day(),
                                        s.end.time_of_day()
                                    ),
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    timeline::Row {
                        anchor: format!("{prefix}c{}", j + 1),
                        label: chaddr_text(c),
                        class: client_class(c),
                        marks,
                    }
                })
                .collect();
            let not_drawn = report.clients.len() - rows.len();
            b.push_str(
                "<h3>Timeline</h3><figure class=\"timeline-fig\"><div class=\"timeline-scroll\">",
            );
            b.push_str(&timeline::render(&prefix, &rows, first, last, not_drawn));
            b.push_str("</div><figcaption><span class=\"key ok\">success</span> <span class=\"key fail\">failure</span> \
                        <span class=\"key open\">incomplete</span> one mark per transaction, from its first to its last packet");
            if not_drawn > 0 {
                let _ = write!(b, "; {not_drawn} more clients are not drawn");
            }
            b.push_str("</figcaption></figure>");
        }

        // Servers.
        if !report.servers.is_empty() {
            b.push_str(
                "<h3>Servers</h3><div class=\"table-scroll\"><table class=\"servers\"><thead><tr>\
                 <th scope=\"col\">server</th><th scope=\"col\">MAC</th><th scope=\"col\">offers</th>\
                 <th scope=\"col\">acks</th><th scope=\"col\">naks</th><th scope=\"col\">mean reply</th></tr></thead><tbody>",
            );
            for s in &report.servers {
                let _ = write!(
                    b,
                    "<tr><td class=\"mono\">{}</td><td class=\"mono\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
                     <td class=\"num{}\">{}</td><td class=\"num\">{}</td></tr>",
                    s.address,
                    Esc(s.mac.as_deref().unwrap_or("—")),
                    s.offers,
                    s.acks,
                    if s.naks > 0 { " bad" } else { "" },
                    s.naks,
                    s.mean_latency
                        .map_or("—".to_string(), |l| format!("{:.1} ms", l * 1000.0))
                );
            }
            b.push_str("</tbody></table></div>");
        }

        if !across.is_empty() {
            b.push_str("<h3>Across clients</h3><div class=\"findings across\">");
            for f in &across {
                finding(&mut b, f, files, &frame_ids);
            }
            b.push_str("</div>");
        }

        // Clients.
        b.push_str("<h3>Clients</h3>");
        b.push_str(LEGEND);
        for (j, (c, l)) in order.iter().zip(ladders).enumerate() {
            client(&mut b, c, l, &prefix, j + 1, files, &frame_ids, &collected);
        }
        b.push_str("</section>");

        self.cases.push(CaseOut {
            name: name.to_string(),
            anchor: prefix,
            failed,
            body: b,
        });
    }

    /// The whole page.
    pub fn render(&self) -> String {
        let nonce = nonce();
        let title = match self.cases.as_slice() {
            [one] => format!("dhcplens report: {}", one.name),
            _ => format!("dhcplens report: {} cases", self.cases.len()),
        };
        let size: usize = self.cases.iter().map(|c| c.body.len()).sum::<usize>()
            + self
                .data
                .iter()
                .map(|(a, b)| a.len() + b.len() + 4)
                .sum::<usize>();
        let mut p = String::with_capacity(size + CSS.len() + JS.len() + 4096);
        let _ = write!(
            p,
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'nonce-{nonce}'; \
             script-src 'nonce-{nonce}'; img-src data:; form-action 'none'; base-uri 'none'\">\
             <meta name=\"generator\" content=\"dhcplens {}\"><title>{}</title>\
             <style nonce=\"{nonce}\">{CSS}</style></head><body>\
             <a class=\"skip\" href=\"#main\">Skip to the report</a>\
             <header class=\"top\"><div class=\"brand\"><span class=\"logo\" aria-hidden=\"true\"></span>dhcplens</div>\
             <div class=\"gen\">diagnosis generated {} UTC</div></header>",
            env!("CARGO_PKG_VERSION"),
            Esc(&title),
            Esc(&Timestamp::now().to_string()[..19].replace('T', " "))
        );
        if self.cases.len() > 1 {
            p.push_str("<nav class=\"cases\" aria-label=\"Cases\"><ul>");
            for c in &self.cases {
                let _ = write!(
                    p,
                    "<li><a href=\"#{}\">{}</a>{}</li>",
                    c.anchor,
                    Esc(&c.name),
                    if c.failed > 0 {
                        format!(" <span class=\"badge fail\">{} failed</span>", c.failed)
                    } else {
                        " <span class=\"badge ok\">healthy</span>".to_string()
                    }
                );
            }
            p.push_str("</ul></nav>");
        }
        p.push_str("<main id=\"main\">");
        for c in &self.cases {
            p.push_str(&c.body);
        }
        if self.cases.is_empty() {
            p.push_str("<p class=\"notice\">No input was diagnosed.</p>");
        }
        p.push_str(
            "</main><footer class=\"foot\">Made by <code>dhcplens diagnose --html</code>. \
             Select an arrow (or press Enter on it) to see its packet; ↑ and ↓ move between arrows, Esc closes.</footer>\
             <aside id=\"panel\" class=\"panel\" hidden aria-labelledby=\"panel-title\">\
             <div class=\"panel-head\"><h2 id=\"panel-title\" tabindex=\"-1\">Packet</h2>\
             <button type=\"button\" class=\"close\" aria-label=\"Close the packet\">×</button></div>\
             <div id=\"panel-body\" class=\"panel-body\"></div></aside>",
        );
        let mut json = String::with_capacity(size);
        json.push('{');
        for (i, (id, d)) in self.data.iter().enumerate() {
            if i > 0 {
                json.push(',');
            }
            let _ = write!(json, "\"{id}\":{d}");
        }
        json.push('}');
        let _ = writeln!(
            p,
            "<script type=\"application/json\" id=\"packets\">{}</script>\
             <script nonce=\"{nonce}\">{JS}</script></body></html>",
            script_json(&json)
        );
        p
    }

    /// Writes the page to `path`.
    pub fn write(&self, path: &Path) -> anyhow::Result<u64> {
        let page = self.render();
        std::fs::write(path, &page).map_err(|e| {
            anyhow::anyhow!("{}: cannot write the HTML report: {e}", path.display())
        })?;
        Ok(page.len() as u64)
    }
}

/// One finding as a card.
fn finding(b: &mut String, f: &Finding, files: &[String], frame_ids: &HashMap<FrameRef, String>) {
    let _ = write!(
        b,
        "<div class=\"finding sev-{}\"><div class=\"f-head\"><span class=\"sev\">{}</span> <code class=\"code\">{}</code>{}</div>\
         <p class=\"f-summary\">{}</p>",
        f.severity.name(),
        f.severity.name(),
        f.code,
        if f.occurrences > 1 {
            format!(" <span class=\"times\">×{}</span>", f.occurrences)
        } else {
            String::new()
        },
        Esc(&f.summary)
    );
    if f.explains_failure {
        let _ = write!(
            b,
            "<p class=\"f-cause\">Explains the failure · {} confidence</p>",
            format!("{:?}", f.confidence).to_lowercase()
        );
    }
    let _ = write!(b, "<p class=\"f-expl\">{}</p>", rich(&f.explanation));
    if !f.frames.is_empty() {
        b.push_str("<p class=\"f-ev\"><span class=\"lbl\">Evidence</span> ");
        for (i, fr) in f.frames.iter().enumerate() {
            if i > 0 {
                b.push_str(", ");
            }
            let name = frame_name(files, *fr);
            match frame_ids.get(fr) {
                Some(id) => {
                    let _ = write!(
                        b,
                        "<a class=\"ev\" href=\"#{id}\" data-p=\"{id}\">{}</a>",
                        Esc(&name)
                    );
                }
                None => {
                    let _ = write!(b, "{}", Esc(&name));
                }
            }
        }
        b.push_str("</p>");
    }
    if !f.log_lines.is_empty() {
        b.push_str("<div class=\"f-logs\"><span class=\"lbl\">Log lines</span><pre>");
        for l in &f.log_lines {
            let _ = writeln!(b, "{}:{}: {}", Esc(&l.file), l.line, Esc(&l.text));
        }
        b.push_str("</pre></div>");
    }
    let _ = write!(
        b,
        "<p class=\"f-fix\"><span class=\"lbl\">Fix</span> {}</p>",
        rich(&f.fix)
    );
    if !f.references.is_empty() {
        b.push_str("<p class=\"f-refs\"><span class=\"lbl\">References</span> ");
        for (i, r) in f.references.iter().enumerate() {
            if i > 0 {
                b.push_str(" · ");
            }
            b.push_str(&reference(r));
        }
        b.push_str("</p>");
    }
    b.push_str("</div>");
}

/// One client's section: header, ladder and table, findings.
#[allow(clippy::too_many_arguments)]
fn client(
    b: &mut String,
    c: &ClientReport,
    ladder: Option<ladder::Ladder>,
    prefix: &str,
    j: usize,
    files: &[String],
    frame_ids: &HashMap<FrameRef, String>,
    collected: &collect::Collected,
) {
    let cls = client_class(c);
    let id = format!("{prefix}c{j}");
    let ids: Vec<String> = c
        .client_ids()
        .iter()
        .map(|i| i.map_or_else(|| "none".to_string(), |i| i.hex()))
        .collect();
    let _ = write!(
        b,
        "<article class=\"client st-{cls}\" id=\"{id}\" aria-labelledby=\"{id}-h\"><details class=\"fold\"{}>\
         <summary><h4 id=\"{id}-h\"><span class=\"mac\">{}</span> <span class=\"badge {}\">{}</span></h4>\
         <span class=\"lease\">{}</span><span class=\"meta\">{} transaction{}{}</span></summary>\
         <div class=\"client-body{}\"><div class=\"ladder-col\">",
        if c.healthy() { "" } else { " open" },
        Esc(&chaddr_text(c)),
        outcome_class(c.outcome()),
        Esc(c.outcome().map_or("unknown", |o| o.name())),
        Esc(&lease_text(c)),
        c.transactions,
        if c.transactions == 1 { "" } else { "s" },
        if ids.iter().any(|i| i != "none") {
            format!(" · client id {}", Esc(&ids.join(", ")))
        } else {
            String::new()
        },
        // A ladder with several servers gets the full width, findings below.
        if ladder.as_ref().is_some_and(|l| l.width > 720.0) {
            " wide"
        } else {
            ""
        }
    );
    match ladder {
        Some(l) => {
            let omitted = collected
                .clients
                .get(&c.chaddr)
                .map_or(0, |p| p.omitted);
            let _ = write!(
                b,
                "<figure class=\"ladder-fig\" data-arrows=\"{}\"><div class=\"ladder-scroll\">{}</div></figure>",
                l.arrows, l.svg
            );
            if omitted > 0 {
                let _ = write!(
                    b,
                    "<p class=\"notice\">{omitted} more packet{} of this client are not drawn (the page keeps at most {} per client); \
                     <code>dhcplens decode --mac {}</code> lists them all.</p>",
                    if omitted == 1 { "" } else { "s" },
                    l.arrows,
                    Esc(&c.chaddr.to_string())
                );
            }
            let _ = write!(
                b,
                "<details class=\"steps-box\"><summary>The same {} message{} as a table</summary>{}</details>",
                l.arrows,
                if l.arrows == 1 { "" } else { "s" },
                l.table
            );
        }
        None => b.push_str(
            "<p class=\"notice\">No packets of this client could be read again for the diagram.</p>",
        ),
    }
    b.push_str("</div><div class=\"findings\">");
    if c.details().is_empty() {
        b.push_str(
            "<p class=\"clean\">No findings: nothing unusual in this client's exchanges.</p>",
        );
    }
    for f in c.details() {
        finding(b, f, files, frame_ids);
    }
    b.push_str("</div></div></details></article>");
}

#[cfg(test)]
mod tests;
