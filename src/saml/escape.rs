//! Escaping for XML and HTML output.
//!
//! The XML escapes are exactly those of Canonical XML (W3C, "Canonical XML Version 1.0",
//! section 1.1 and the character and attribute escaping rules of exc-c14n), so that text the
//! builder writes is already in canonical form and survives canonicalization unchanged.

/// A character that XML 1.0 cannot carry, even escaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidXmlChar {
    pub code_point: u32,
}

impl std::fmt::Display for InvalidXmlChar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "U+{:04X} cannot appear in XML 1.0; remove control characters from the value",
            self.code_point
        )
    }
}

impl std::error::Error for InvalidXmlChar {}

/// Checks that every character of `value` is allowed by XML 1.0's `Char` production.
pub fn check_xml_chars(value: &str) -> Result<(), InvalidXmlChar> {
    for c in value.chars() {
        let allowed = matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..);
        if !allowed {
            return Err(InvalidXmlChar { code_point: c as u32 });
        }
    }
    Ok(())
}

/// Appends `value` escaped as XML character data.
pub fn push_text(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#xD;"),
            _ => out.push(c),
        }
    }
}

/// Appends `value` escaped for a double-quoted XML attribute.
pub fn push_attribute(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            _ => out.push(c),
        }
    }
}

/// Returns `value` escaped for HTML text or a double- or single-quoted HTML attribute.
pub fn html(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_escapes_markup_and_cr() {
        let mut out = String::new();
        push_text(&mut out, "a<b>&c\r\n\"'");
        assert_eq!(out, "a&lt;b&gt;&amp;c&#xD;\n\"'");
    }

    #[test]
    fn attribute_escapes_quote_and_whitespace() {
        let mut out = String::new();
        push_attribute(&mut out, "a\"<>&\t\n\r'");
        assert_eq!(out, "a&quot;&lt;>&amp;&#x9;&#xA;&#xD;'");
    }

    #[test]
    fn html_escapes_both_quotes() {
        assert_eq!(html("<a href='x'>\"&"), "&lt;a href=&#39;x&#39;&gt;&quot;&amp;");
    }

    #[test]
    fn control_characters_are_rejected() {
        assert_eq!(check_xml_chars("ok\u{1}"), Err(InvalidXmlChar { code_point: 1 }));
        assert!(check_xml_chars("tab\tnewline\n é 😀").is_ok());
    }
}
