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
}
