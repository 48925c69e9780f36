//! Exclusive XML Canonicalization 1.0 (<https://www.w3.org/TR/xml-exc-c14n/>), with and
//! without comments, over a whole document or one element's subtree.
//!
//! The same function canonicalizes what the IdP signs and what the verifier checks, so both
//! sides agree byte for byte. Its output is compared with libxml2 (`xmllint --exc-c14n` for
//! documents, `xmlsec1` for signed subtrees) by the tests in `tests/c14n_differential.rs`.

use std::fmt;

use roxmltree::{Node, NodeId, NodeType};

use super::xml::{attribute_qname, element_qname, prefix_of, Document, Limits, XmlError};

/// `CanonicalizationMethod` and `Transform` URIs.
pub const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
pub const EXC_C14N_WITH_COMMENTS: &str = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments";

/// The prefix that stands for the default namespace in an InclusiveNamespaces PrefixList.
pub const DEFAULT_PREFIX_TOKEN: &str = "#default";

/// Canonicalization parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct C14nOptions {
    /// Keep comments (the `#WithComments` variant).
    pub with_comments: bool,
    /// The InclusiveNamespaces PrefixList: prefixes rendered wherever they are in scope, as
    /// inclusive canonicalization would, rather than only where visibly used.
    /// `#default` stands for the default namespace.
    pub inclusive_prefixes: Vec<String>,
}

/// A document or node that could not be canonicalized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum C14nError {
    /// The input text is not acceptable XML.
    Xml(XmlError),
    /// The node to canonicalize is neither the document node nor an element.
    NotAnElement { node_type: String },
    /// A namespace URI with a character that attribute escaping would change (`&`, `<`,
    /// `"`, tab, line feed or carriage return). The recommendation escapes such URIs like
    /// attribute values, but libxml2 2.9.14 (behind xmlsec1 and most SP libraries) writes
    /// `&` unescaped, so no signature over them can be checked reliably.
    NamespaceUriNeedsEscaping { uri: String },
}

impl fmt::Display for C14nError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Xml(e) => write!(f, "cannot canonicalize: {e}"),
            Self::NotAnElement { node_type } => {
                write!(f, "cannot canonicalize a {node_type} node; pass the document or an element")
            }
            Self::NamespaceUriNeedsEscaping { uri } => write!(
                f,
                "cannot canonicalize namespace URI \"{uri}\": canonicalizers disagree on URIs with &, <, \" or line breaks"
            ),
        }
    }
}

impl std::error::Error for C14nError {}

impl From<XmlError> for C14nError {
    fn from(e: XmlError) -> Self {
        Self::Xml(e)
    }
}

/// Parses `xml` with the default [`Limits`] and canonicalizes the whole document.
pub fn canonicalize(xml: &str, options: &C14nOptions) -> Result<Vec<u8>, C14nError> {
    canonicalize_with_limits(xml, options, &Limits::default())
}

/// Parses `xml` with `limits` and canonicalizes the whole document.
pub fn canonicalize_with_limits(xml: &str, options: &C14nOptions, limits: &Limits) -> Result<Vec<u8>, C14nError> {
    let document = Document::parse(xml, limits)?;
    canonicalize_node(&document, document.root(), options, None)
}

/// Canonicalizes `apex` (the document node or an element) and everything below it, leaving
/// out `exclude` and its subtree: the enveloped-signature transform passes the Signature here.
///
/// For an element, namespaces declared on its ancestors are rendered where it or its
/// descendants visibly use them, as the recommendation requires for a document subset.
pub fn canonicalize_node(
    document: &Document<'_>,
    apex: Node<'_, '_>,
    options: &C14nOptions,
    exclude: Option<Node<'_, '_>>,
) -> Result<Vec<u8>, C14nError> {
    let mut writer = Writer {
        out: Vec::with_capacity(document.input().len()),
        options,
        exclude: exclude.map(|node| node.id()),
        rendered: Vec::new(),
    };
    match apex.node_type() {
        NodeType::Root => writer.document(apex)?,
        NodeType::Element => writer.element(apex)?,
        other => return Err(C14nError::NotAnElement { node_type: format!("{other:?}") }),
    }
    Ok(writer.out)
}

struct Writer<'o, 'a> {
    out: Vec<u8>,
    options: &'o C14nOptions,
    exclude: Option<NodeId>,
    /// The namespace declarations rendered by output ancestors, innermost last, as
    /// (prefix, URI) with "" for the default namespace.
    rendered: Vec<(&'a str, &'a str)>,
}

impl<'o, 'a> Writer<'o, 'a> {
    /// Writes the children of the document node. Comments and PIs before the document
    /// element are followed by a line feed, those after it preceded by one.
    fn document(&mut self, root: Node<'a, '_>) -> Result<(), C14nError> {
        let mut after_element = false;
        for child in root.children() {
            match child.node_type() {
                NodeType::Element => {
                    if Some(child.id()) != self.exclude {
                        self.element(child)?;
                    }
                    after_element = true;
                }
                NodeType::Comment | NodeType::PI => {
                    let start = self.out.len();
                    if after_element {
                        self.out.push(b'\n');
                    }
                    if !self.leaf(child) {
                        self.out.truncate(start);
                    } else if !after_element {
                        self.out.push(b'\n');
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn element(&mut self, node: Node<'a, '_>) -> Result<(), C14nError> {
        let scope = self.rendered.len();
        let qname = element_qname(node);
        let declarations = self.namespaces_to_render(node, prefix_of(qname));

        self.out.push(b'<');
        self.out.extend_from_slice(qname.as_bytes());
        for (prefix, uri) in &declarations {
            if uri.contains(['&', '<', '"', '\t', '\n', '\r']) {
                return Err(C14nError::NamespaceUriNeedsEscaping { uri: uri.to_string() });
            }
            if prefix.is_empty() {
                self.out.extend_from_slice(b" xmlns=\"");
            } else {
                self.out.extend_from_slice(b" xmlns:");
                self.out.extend_from_slice(prefix.as_bytes());
                self.out.extend_from_slice(b"=\"");
            }
            self.out.extend_from_slice(uri.as_bytes());
            self.out.push(b'"');
        }
        self.rendered.extend(declarations);

        let mut attributes: Vec<_> = node.attributes().collect();
        attributes.sort_by(|a, b| (a.namespace().unwrap_or(""), a.name()).cmp(&(b.namespace().unwrap_or(""), b.name())));
        for attribute in &attributes {
            self.out.push(b' ');
            self.out.extend_from_slice(attribute_qname(node, attribute).as_bytes());
            self.out.extend_from_slice(b"=\"");
            escape_attribute(&mut self.out, attribute.value());
            self.out.push(b'"');
        }
        self.out.push(b'>');

        for child in node.children() {
            match child.node_type() {
                NodeType::Element if Some(child.id()) == self.exclude => {}
                NodeType::Element => self.element(child)?,
                NodeType::Text => escape_text(&mut self.out, child.text().unwrap_or("")),
                _ => {
                    self.leaf(child);
                }
            }
        }

        self.out.extend_from_slice(b"</");
        self.out.extend_from_slice(qname.as_bytes());
        self.out.push(b'>');
        self.rendered.truncate(scope);
        Ok(())
    }

    /// Writes a comment (when comments are kept) or a processing instruction, with line
    /// endings normalized as an XML processor does. Returns whether anything was written.
    fn leaf(&mut self, node: Node<'a, '_>) -> bool {
        match node.node_type() {
            NodeType::Comment if self.options.with_comments => {
                self.out.extend_from_slice(b"<!--");
                push_normalized(&mut self.out, node.text().unwrap_or(""));
                self.out.extend_from_slice(b"-->");
                true
            }
            NodeType::PI => {
                let Some(pi) = node.pi() else { return false };
                self.out.extend_from_slice(b"<?");
                self.out.extend_from_slice(pi.target.as_bytes());
                if let Some(value) = pi.value.filter(|v| !v.is_empty()) {
                    self.out.push(b' ');
                    push_normalized(&mut self.out, value);
                }
                self.out.extend_from_slice(b"?>");
                true
            }
            _ => false,
        }
    }

    /// Returns the namespace declarations `node` must carry, sorted by prefix.
    ///
    /// A prefix is considered when the element or one of its attributes visibly uses it, or
    /// when it is on the InclusiveNamespaces PrefixList and in scope. It is rendered when its
    /// in-scope URI differs from the one the nearest output ancestor rendered; for the default
    /// namespace that includes rendering `xmlns=""` under a non-empty rendered default.
    fn namespaces_to_render(&self, node: Node<'a, '_>, element_prefix: &'a str) -> Vec<(&'a str, &'a str)> {
        let mut prefixes: Vec<&str> = vec![element_prefix];
        for attribute in node.attributes() {
            let prefix = prefix_of(attribute_qname(node, &attribute));
            if !prefix.is_empty() && prefix != "xml" {
                prefixes.push(prefix);
            }
        }
        for namespace in node.namespaces() {
            let prefix = namespace.name().unwrap_or("");
            if self.is_inclusive(prefix) {
                prefixes.push(prefix);
            }
        }
        prefixes.sort_unstable();
        prefixes.dedup();

        let mut declarations = Vec::new();
        for prefix in prefixes {
            let uri = self.in_scope_uri(node, prefix);
            let rendered = self.rendered.iter().rev().find(|(p, _)| *p == prefix).map(|(_, u)| *u);
            let needed = match (prefix.is_empty(), uri) {
                (true, uri) => rendered.unwrap_or("") != uri.unwrap_or(""),
                (false, Some(uri)) => rendered != Some(uri),
                (false, None) => false,
            };
            if needed {
                declarations.push((prefix, uri.unwrap_or("")));
            }
        }
        declarations
    }

    fn is_inclusive(&self, prefix: &str) -> bool {
        self.options
            .inclusive_prefixes
            .iter()
            .any(|p| p == prefix || (prefix.is_empty() && p == DEFAULT_PREFIX_TOKEN))
    }

    /// Returns the URI bound to `prefix` ("" for the default namespace) at `node`.
    fn in_scope_uri(&self, node: Node<'a, '_>, prefix: &str) -> Option<&'a str> {
        node.namespaces().find(|ns| ns.name().unwrap_or("") == prefix).map(|ns| ns.uri())
    }
}

/// Escapes text content: `&`, `<`, `>` and carriage return.
fn escape_text(out: &mut Vec<u8>, text: &str) {
    for byte in text.bytes() {
        match byte {
            b'&' => out.extend_from_slice(b"&amp;"),
            b'<' => out.extend_from_slice(b"&lt;"),
            b'>' => out.extend_from_slice(b"&gt;"),
            b'\r' => out.extend_from_slice(b"&#xD;"),
            other => out.push(other),
        }
    }
}

/// Escapes an attribute value: `&`, `<`, `"`, tab, line feed and carriage return.
fn escape_attribute(out: &mut Vec<u8>, value: &str) {
    for byte in value.bytes() {
        match byte {
            b'&' => out.extend_from_slice(b"&amp;"),
            b'<' => out.extend_from_slice(b"&lt;"),
            b'"' => out.extend_from_slice(b"&quot;"),
            b'\t' => out.extend_from_slice(b"&#x9;"),
            b'\n' => out.extend_from_slice(b"&#xA;"),
            b'\r' => out.extend_from_slice(b"&#xD;"),
            other => out.push(other),
        }
    }
}

/// Copies comment or PI text, turning CR LF and lone CR into LF. The parser keeps these
/// verbatim, whereas XML 1.0 section 2.11 normalizes line endings before parsing.
fn push_normalized(out: &mut Vec<u8>, text: &str) {
    let mut bytes = text.bytes().peekable();
    while let Some(byte) = bytes.next() {
        if byte == b'\r' {
            if bytes.peek() == Some(&b'\n') {
                bytes.next();
            }
            out.push(b'\n');
        } else {
            out.push(byte);
        }
    }
}

#[cfg(test)]
mod tests;
