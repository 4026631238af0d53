//! Escaping: everything that comes from a capture (host names, option 56
//! text, file names) is untrusted and passes through here before it reaches
//! the page.

use std::fmt;

/// Text for HTML content or a quoted attribute value: `& < > " '` become
/// entities, control characters (other than tab and newline) U+FFFD.
pub struct Esc<'a>(pub &'a str);

impl fmt::Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0;
        let mut last = 0;
        for (i, c) in s.char_indices() {
            let rep = match c {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                '\'' => "&#39;",
                '\t' | '\n' => continue,
                c if c.is_control() => "\u{fffd}",
                _ => continue,
            };
            f.write_str(&s[last..i])?;
            f.write_str(rep)?;
            last = i + c.len_utf8();
        }
        f.write_str(&s[last..])
    }
}

/// JSON made safe to sit inside `<script type="application/json">`: `<`,
/// `>` and `&` (only ever inside JSON strings) become `\u003c` etc., so the
/// data can hold neither `</script>` nor `<!--`.
pub fn script_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_is_escaped() {
        assert_eq!(
            Esc("<script>alert('x' & \"y\")</script>").to_string(),
            "&lt;script&gt;alert(&#39;x&#39; &amp; &quot;y&quot;)&lt;/script&gt;"
        );
        assert_eq!(Esc("plain text, é").to_string(), "plain text, é");
        assert_eq!(
            Esc("a\u{0}b\u{1b}c\td").to_string(),
            "a\u{fffd}b\u{fffd}c\td"
        );
    }

    #[test]
    fn json_cannot_close_its_script() {
        let j = serde_json::to_string("</script><!-- & -->").unwrap();
        let safe = script_json(&j);
        assert!(!safe.contains('<') && !safe.contains('>') && !safe.contains('&'));
        let back: String = serde_json::from_str(&safe).unwrap();
        assert_eq!(back, "</script><!-- & -->");
    }
}
