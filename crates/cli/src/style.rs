//! Terminal colour: on only when writing to a terminal (or forced with
//! `--color always`), and never while `NO_COLOR` is set. no-color.org lets
//! a command-line flag override `NO_COLOR`; dhcplens deliberately does not
//! (the project's rule: never colour with `NO_COLOR`).

use std::io::IsTerminal;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Paints text when colour is on; passes it through otherwise.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    on: bool,
}

#[derive(Debug, Clone, Copy)]
pub enum Paint {
    Red,
    Yellow,
    Green,
    Cyan,
    Dim,
    Bold,
}

impl Paint {
    /// The SGR parameter.
    fn code(self) -> &'static str {
        match self {
            Paint::Red => "31",
            Paint::Yellow => "33",
            Paint::Green => "32",
            Paint::Cyan => "36",
            Paint::Dim => "2",
            Paint::Bold => "1",
        }
    }
}

impl Style {
    pub fn new(choice: ColorChoice) -> Style {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let on = !no_color
            && match choice {
                ColorChoice::Always => true,
                ColorChoice::Never => false,
                ColorChoice::Auto => std::io::stdout().is_terminal(),
            };
        Style { on }
    }

    pub fn paint(&self, p: Paint, text: impl std::fmt::Display) -> String {
        if !self.on {
            return text.to_string();
        }
        format!("\x1b[{}m{text}\x1b[0m", p.code())
    }

    /// Writes `text` as [`Style::paint`] would show it, without making a
    /// `String` (a report writes one painted line per client).
    pub fn write(
        &self,
        out: &mut impl std::io::Write,
        p: Paint,
        text: &str,
    ) -> std::io::Result<()> {
        self.write_padded(out, p, text, 0)
    }

    /// Writes `text` padded with spaces to `width` characters, the padding
    /// inside the colour: what `paint(p, format!("{text:<width$}"))` shows.
    pub fn write_padded(
        &self,
        out: &mut impl std::io::Write,
        p: Paint,
        text: &str,
        width: usize,
    ) -> std::io::Result<()> {
        const SPACES: &[u8; 16] = b"                ";
        if self.on {
            write!(out, "\x1b[{}m", p.code())?;
        }
        out.write_all(text.as_bytes())?;
        let mut pad = if width == 0 {
            0
        } else {
            width.saturating_sub(text.chars().count())
        };
        while pad > 0 {
            let n = pad.min(SPACES.len());
            out.write_all(&SPACES[..n])?;
            pad -= n;
        }
        if self.on {
            out.write_all(b"\x1b[0m")?;
        }
        Ok(())
    }
}

/// `text` as a terminal may safely show it: control characters other than
/// tab and newline (ESC, BEL, backspace, C1 controls), which a log line or
/// a packet's text may carry to retitle, clear or recolour a terminal, are
/// written as `\x1b`, `\u{9b}`. Text printed as it came from an input goes
/// through this before it is painted; JSON escapes them itself.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() && c != '\n' && c != '\t';
    if !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            c if !unsafe_char(c) => out.push(c),
            c if u32::from(c) < 0x80 => out.push_str(&format!("\\x{:02x}", u32::from(c))),
            c => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_shows_what_paint_makes() {
        for on in [false, true] {
            let style = Style { on };
            for p in [Paint::Red, Paint::Green, Paint::Dim, Paint::Bold] {
                let mut out = Vec::new();
                style.write(&mut out, p, "bound  ").unwrap();
                assert_eq!(String::from_utf8(out).unwrap(), style.paint(p, "bound  "));
            }
        }
        let codes = [
            (Paint::Red, "31"),
            (Paint::Yellow, "33"),
            (Paint::Green, "32"),
            (Paint::Cyan, "36"),
            (Paint::Dim, "2"),
            (Paint::Bold, "1"),
        ];
        for (p, code) in codes {
            assert_eq!(
                Style { on: true }.paint(p, "x"),
                format!("\x1b[{code}mx\x1b[0m")
            );
        }
    }

    #[test]
    fn write_padded_shows_what_paint_of_a_padded_format_makes() {
        for on in [false, true] {
            let style = Style { on };
            for text in [
                "",
                "nak",
                "offer-ignored",
                "longer-than-the-width",
                "café",
                "×",
            ] {
                for width in [0, 3, 13, 40] {
                    let mut out = Vec::new();
                    style
                        .write_padded(&mut out, Paint::Yellow, text, width)
                        .unwrap();
                    let expected = style.paint(Paint::Yellow, format!("{text:<width$}"));
                    assert_eq!(
                        String::from_utf8(out).unwrap(),
                        expected,
                        "{text:?} {width}"
                    );
                }
            }
        }
    }

    #[test]
    fn controls_are_written_out() {
        assert_eq!(printable("plain text\tand tab"), "plain text\tand tab");
        assert_eq!(
            printable("x\u{1b}]0;pwned\u{7}\u{1b}[2J\u{9b}31m"),
            "x\\x1b]0;pwned\\x07\\x1b[2J\\u{9b}31m"
        );
        assert_eq!(printable("caf\u{e9} \u{7f}"), "caf\u{e9} \\x7f");
    }
}
