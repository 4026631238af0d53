//! The timeline of a whole capture: clients as rows, transactions as marks
//! coloured by outcome.

use std::fmt::Write;

use capture::Timestamp;

use super::escape::Esc;

const LABEL_W: f64 = 176.0;
const PLOT_W: f64 = 980.0;
const AXIS_H: f64 = 30.0;
const ROW_H: f64 = 22.0;

/// One transaction on the timeline.
pub struct Mark {
    pub start: Timestamp,
    pub end: Timestamp,
    /// `ok`, `fail`, `warn` or `open`.
    pub class: &'static str,
    pub title: String,
}

/// One client's row.
pub struct Row {
    /// The id of the client's section.
    pub anchor: String,
    pub label: String,
    pub class: &'static str,
    pub marks: Vec<Mark>,
}

/// Tick steps in nanoseconds, from a millisecond to a day.
const STEPS: [i64; 26] = [
    1_000_000,
    2_000_000,
    5_000_000,
    10_000_000,
    20_000_000,
    50_000_000,
    100_000_000,
    200_000_000,
    500_000_000,
    1_000_000_000,
    2_000_000_000,
    5_000_000_000,
    10_000_000_000,
    15_000_000_000,
    30_000_000_000,
    60_000_000_000,
    120_000_000_000,
    300_000_000_000,
    600_000_000_000,
    900_000_000_000,
    1_800_000_000_000,
    3_600_000_000_000,
    7_200_000_000_000,
    21_600_000_000_000,
    43_200_000_000_000,
    86_400_000_000_000,
];

fn tick_label(t: Timestamp, step: i64) -> String {
    let (y, mo, d, h, mi, s, ns) = t.civil();
    if step >= 86_400_000_000_000 {
        format!("{y:04}-{mo:02}-{d:02}")
    } else if step < 1_000_000_000 {
        format!("{h:02}:{mi:02}:{s:02}.{:03}", ns / 1_000_000)
    } else {
        format!("{h:02}:{mi:02}:{s:02}")
    }
}

/// Draws the timeline; `hidden` clients are left out (said in the caption).
pub fn render(id: &str, rows: &[Row], first: Timestamp, last: Timestamp, hidden: usize) -> String {
    let span = (last.0 - first.0).max(1_000_000);
    let x = |t: Timestamp| LABEL_W + (t.0 - first.0) as f64 / span as f64 * PLOT_W;
    let width = LABEL_W + PLOT_W + 20.0;
    let height = AXIS_H + rows.len() as f64 * ROW_H + 6.0;
    let fails = rows.iter().filter(|r| r.class == "fail").count();
    let mut s = String::with_capacity(2048 + rows.len() * 400);
    let _ = write!(
        s,
        "<svg class=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" \
         preserveAspectRatio=\"xMinYMin meet\" role=\"group\" aria-labelledby=\"{id}-tl-title {id}-tl-desc\">\
         <title id=\"{id}-tl-title\">Timeline: {} client{} over {:.3} s</title>\
         <desc id=\"{id}-tl-desc\">One row per client (failures first), one mark per transaction from its first to its last packet; \
         {fails} client{} failed{}. The verdict table above lists the same clients.</desc>",
        rows.len(),
        if rows.len() == 1 { "" } else { "s" },
        span as f64 / 1e9,
        if fails == 1 { "" } else { "s" },
        if hidden > 0 {
            format!("; {hidden} more clients are not drawn")
        } else {
            String::new()
        }
    );
    let step = STEPS
        .iter()
        .copied()
        .find(|st| span / st <= 8)
        .unwrap_or_else(|| {
            let day = STEPS[STEPS.len() - 1];
            (span / 8).div_euclid(day).max(1) * day + day
        });
    let mut t = first.0.div_euclid(step) * step;
    if t < first.0 {
        t += step;
    }
    while t <= last.0 {
        let xt = x(Timestamp(t));
        let _ = write!(
            s,
            "<line class=\"tick\" x1=\"{xt:.1}\" y1=\"{}\" x2=\"{xt:.1}\" y2=\"{height}\"/>\
             <text class=\"tick-label\" x=\"{xt:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            AXIS_H - 8.0,
            AXIS_H - 12.0,
            tick_label(Timestamp(t), step)
        );
        t += step;
    }
    for (i, r) in rows.iter().enumerate() {
        let y = AXIS_H + i as f64 * ROW_H;
        if i % 2 == 0 {
            let _ = write!(
                s,
                "<rect class=\"stripe\" x=\"0\" y=\"{y}\" width=\"{width}\" height=\"{ROW_H}\"/>"
            );
        }
        let _ = write!(
            s,
            "<a href=\"#{}\" class=\"tl-row {}\"><text class=\"tl-label\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text></a>",
            Esc(&r.anchor),
            r.class,
            LABEL_W - 10.0,
            y + 15.5,
            Esc(&r.label)
        );
        for m in &r.marks {
            let x1 = x(m.start);
            let w = (x(m.end) - x1).max(4.0);
            let _ = write!(
                s,
                "<a href=\"#{}\" class=\"mark {}\"><rect x=\"{:.1}\" y=\"{}\" width=\"{w:.1}\" height=\"{}\" rx=\"2\"><title>{}</title></rect></a>",
                Esc(&r.anchor),
                m.class,
                x1 - if w == 4.0 { 2.0 } else { 0.0 },
                y + 4.0,
                ROW_H - 8.0,
                Esc(&m.title)
            );
        }
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_cover_the_span_and_marks_are_links() {
        let first = Timestamp::from_civil(2024, 5, 1, 10, 0, 0, 0);
        let last = Timestamp(first.0 + 40_000_000_000);
        let rows = vec![Row {
            anchor: "k1c1".into(),
            label: "00:0b:82:01:fc:42".into(),
            class: "fail",
            marks: vec![Mark {
                start: first,
                end: Timestamp(first.0 + 3_000_000_000),
                class: "fail",
                title: "xid 0x1 no-offer".into(),
            }],
        }];
        let s = render("case-1", &rows, first, last, 0);
        // 40 s in steps of 5 s: 10:00:00 … 10:00:40.
        assert_eq!(s.matches("class=\"tick-label\"").count(), 9);
        assert!(s.contains(">10:00:00<") && s.contains(">10:00:40<"));
        assert_eq!(
            s.matches("<a href=\"#k1c1\" class=\"mark fail\"").count(),
            1
        );
        // Two years: a few dated ticks, not hundreds.
        let s = render(
            "case-1",
            &rows,
            first,
            Timestamp(first.0 + 730 * 86_400_000_000_000),
            0,
        );
        let ticks = s.matches("class=\"tick-label\"").count();
        assert!((4..=9).contains(&ticks), "{ticks}");
        assert!(s.contains(">2024-05-"));
    }
}
