//! An indented rendering of an XML document, for people to read.
//!
//! Tags, attribute values and text are copied from the input exactly as written (entity
//! references stay escaped), and only line breaks and indentation are added between elements.
//! The result is therefore never the signed bytes: whitespace between elements is content to
//! canonicalization, so the signature would not match it.

use roxmltree::{Document, Node, NodeType};

const INDENT: &str = "  ";

/// Renders `document` with one element per line, children indented by two spaces. An element
/// whose only child is text stays on one line.
pub fn indent(document: &Document<'_>) -> String {
    let input = document.input_text();
    let mut out = String::with_capacity(input.len() + input.len() / 4);
    for child in document.root().children() {
        write_node(&mut out, input, child, 0);
    }
    out
}

fn write_node(out: &mut String, input: &str, node: Node<'_, '_>, depth: usize) {
    match node.node_type() {
        NodeType::Element => write_element(out, input, node, depth),
        NodeType::Text => {
            let text = slice(input, node.range());
            if !text.trim().is_empty() {
                push_line(out, depth, text.trim());
            }
        }
        NodeType::Comment | NodeType::PI => push_line(out, depth, slice(input, node.range())),
        NodeType::Root => {}
    }
}

fn write_element(out: &mut String, input: &str, node: Node<'_, '_>, depth: usize) {
    let (Some(first), Some(last)) = (node.first_child(), node.last_child()) else {
        push_line(out, depth, slice(input, node.range()));
        return;
    };
    let only_text = node.children().all(|child| child.is_text());
    if only_text {
        push_line(out, depth, slice(input, node.range()));
        return;
    }

    let range = node.range();
    push_line(out, depth, slice(input, range.start..first.range().start).trim_end());
    for child in node.children() {
        write_node(out, input, child, depth + 1);
    }
    push_line(out, depth, slice(input, last.range().end..range.end).trim_start());
}

fn push_line(out: &mut String, depth: usize, text: &str) {
    for _ in 0..depth {
        out.push_str(INDENT);
    }
    out.push_str(text);
    out.push('\n');
}

/// Returns the input between byte offsets that the parser reported, or nothing if they are
/// not character boundaries (which roxmltree never reports).
fn slice(input: &str, range: std::ops::Range<usize>) -> &str {
    input.get(range).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(xml: &str) -> String {
        let document = Document::parse(xml).unwrap();
        indent(&document)
    }

    #[test]
    fn indent_nests_children() {
        let out = render("<a x=\"1\"><b>text</b><c/></a>");
        assert_eq!(out, "<a x=\"1\">\n  <b>text</b>\n  <c/>\n</a>\n");
    }

    #[test]
    fn indent_keeps_escapes_and_prefixes() {
        let out = render("<p:a xmlns:p=\"urn:p\"><p:b v=\"&lt;&quot;\">&amp;</p:b></p:a>");
        assert!(out.contains("  <p:b v=\"&lt;&quot;\">&amp;</p:b>\n"), "{out}");
    }

    #[test]
    fn indent_drops_whitespace_between_elements() {
        let out = render("<a>\n   <b/>\n</a>");
        assert_eq!(out, "<a>\n  <b/>\n</a>\n");
    }

    #[test]
    fn indent_keeps_start_end_pairs() {
        let out = render("<a><b></b></a>");
        assert_eq!(out, "<a>\n  <b></b>\n</a>\n");
    }

    #[test]
    fn indent_keeps_comments() {
        let out = render("<a><!-- note --><b/></a>");
        assert!(out.contains("  <!-- note -->\n"), "{out}");
    }
}
