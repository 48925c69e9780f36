//! Parsing of untrusted XML (AuthnRequests, pasted Responses) with no DTD and hard limits.
//!
//! A document is parsed in two passes. A cheap tokenizer pass (quick-xml) enforces the limits
//! on depth, attributes per element and name length before any tree is built, because the
//! tree builder checks attribute uniqueness in time quadratic in the attribute count. The
//! tree pass (roxmltree) then checks well-formedness and namespaces and rejects any DTD, so
//! no entity other than the five predefined ones and character references can be expanded.

use std::borrow::Cow;
use std::fmt;

use quick_xml::events::{BytesStart, Event};

/// The attribute names treated as XML IDs: SAML uses `ID`, XML-DSig `Id`, others `id`.
pub const ID_ATTRIBUTES: [&str; 3] = ["ID", "Id", "id"];

/// Resource limits for one untrusted document. Every limit is inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Maximum document size in bytes. Default: 1 MiB.
    pub max_bytes: usize,
    /// Maximum element nesting depth, the document element being depth 1. Default: 64.
    pub max_depth: usize,
    /// Maximum attributes on one element, namespace declarations included. Default: 64.
    pub max_attributes: usize,
    /// Maximum length in bytes of an element or attribute qualified name. Default: 256.
    pub max_name_bytes: usize,
    /// Maximum number of tree nodes (elements, text, comments, PIs). Default: 100 000.
    pub max_nodes: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: 1024 * 1024,
            max_depth: 64,
            max_attributes: 64,
            max_name_bytes: 256,
            max_nodes: 100_000,
        }
    }
}

/// A rejected untrusted document. Each limit has its own variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum XmlError {
    TooLarge { bytes: usize, max: usize },
    TooDeep { element: String, max: usize },
    TooManyAttributes { element: String, max: usize },
    NameTooLong { name: String, bytes: usize, max: usize },
    TooManyNodes { max: u32 },
    /// A `<!DOCTYPE`: DTDs could declare entities, defaults and external references.
    DtdNotAllowed,
    /// An `<!ENTITY` declaration, which is only legal inside a DTD.
    EntityDeclaration,
    /// Not well-formed XML or not namespace-well-formed; the message is the parser's.
    Malformed(String),
}

impl fmt::Display for XmlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { bytes, max } => {
                write!(f, "XML document of {bytes} bytes exceeds the limit of {max} bytes")
            }
            Self::TooDeep { element, max } => {
                write!(f, "XML element <{element}> is nested deeper than the limit of {max} levels")
            }
            Self::TooManyAttributes { element, max } => {
                write!(f, "XML element <{element}> has more than the limit of {max} attributes")
            }
            Self::NameTooLong { name, bytes, max } => {
                write!(f, "XML name \"{name}...\" is {bytes} bytes long, over the limit of {max} bytes")
            }
            Self::TooManyNodes { max } => write!(f, "XML document has more than the limit of {max} nodes"),
            Self::DtdNotAllowed => f.write_str("XML document contains a DOCTYPE; DTDs are not accepted, remove it"),
            Self::EntityDeclaration => {
                f.write_str("XML document contains an ENTITY declaration; entities are not accepted")
            }
            Self::Malformed(cause) => write!(f, "XML document is not well-formed: {cause}"),
        }
    }
}

impl std::error::Error for XmlError {}

/// A parsed, limit-checked XML document. Nodes borrow from it and from the input text.
pub struct Document<'input> {
    tree: roxmltree::Document<'input>,
}

impl<'input> Document<'input> {
    /// Parses `xml` after checking it against `limits`.
    pub fn parse(xml: &'input str, limits: &Limits) -> Result<Self, XmlError> {
        if xml.len() > limits.max_bytes {
            return Err(XmlError::TooLarge { bytes: xml.len(), max: limits.max_bytes });
        }
        prescan(xml, limits).map_err(|e| match e {
            // An entity declaration is only legal inside a DTD, so it appears only in a document
            // that already failed. The search runs then, to name the cause.
            XmlError::DtdNotAllowed | XmlError::Malformed(_)
                if contains_ignore_ascii_case(xml.as_bytes(), b"<!ENTITY") =>
            {
                XmlError::EntityDeclaration
            }
            other => other,
        })?;

        let options = roxmltree::ParsingOptions { allow_dtd: false, nodes_limit: limits.max_nodes };
        let tree = roxmltree::Document::parse_with_options(xml, options).map_err(|e| match e {
            roxmltree::Error::DtdDetected => XmlError::DtdNotAllowed,
            roxmltree::Error::NodesLimitReached => XmlError::TooManyNodes { max: limits.max_nodes },
            other => XmlError::Malformed(other.to_string()),
        })?;
        Ok(Self { tree })
    }

    /// Returns the underlying read-only tree.
    pub fn tree(&self) -> &roxmltree::Document<'input> {
        &self.tree
    }

    /// Returns the document node (the parent of the document element).
    pub fn root(&self) -> roxmltree::Node<'_, 'input> {
        self.tree.root()
    }

    pub fn root_element(&self) -> roxmltree::Node<'_, 'input> {
        self.tree.root_element()
    }

    /// Returns the original text the document was parsed from.
    pub fn input(&self) -> &'input str {
        self.tree.input_text()
    }

    /// Finds the element whose `ID`, `Id` or `id` attribute equals `id`, only if exactly one
    /// element carries that value.
    pub fn element_by_id(&self, id: &str) -> Option<roxmltree::Node<'_, 'input>> {
        let mut found = self
            .tree
            .descendants()
            .filter(|n| n.is_element() && ID_ATTRIBUTES.iter().any(|name| n.attribute(*name) == Some(id)));
        let first = found.next()?;
        match found.next() {
            Some(_) => None,
            None => Some(first),
        }
    }

    /// Returns the first ID value carried by more than one `ID`, `Id` or `id` attribute.
    pub fn duplicate_id(&self) -> Option<&str> {
        let mut seen = std::collections::HashSet::new();
        for node in self.tree.descendants().filter(|n| n.is_element()) {
            for attribute in node.attributes() {
                if attribute.namespace().is_none()
                    && ID_ATTRIBUTES.contains(&attribute.name())
                    && !seen.insert(attribute.value())
                {
                    return Some(attribute.value());
                }
            }
        }
        None
    }
}

/// Returns the concatenated text of every descendant text node of `node`.
///
/// Comments split text into several nodes (`user@example.com<!---->.evil`); reading only the
/// first would return `user@example.com` while the signature covers `user@example.com.evil`.
pub fn text_content<'a>(node: roxmltree::Node<'a, '_>) -> Cow<'a, str> {
    let mut texts = node.descendants().filter(|n| n.is_text()).filter_map(|n| n.text());
    let Some(first) = texts.next() else {
        return Cow::Borrowed("");
    };
    match texts.next() {
        None => Cow::Borrowed(first),
        Some(second) => {
            let mut all = String::from(first);
            all.push_str(second);
            texts.for_each(|t| all.push_str(t));
            Cow::Owned(all)
        }
    }
}

/// Returns the element's qualified name exactly as written (`saml:Assertion`).
pub fn element_qname<'input>(node: roxmltree::Node<'_, 'input>) -> &'input str {
    let input = node.document().input_text();
    let rest = input.get(node.range().start + 1..).unwrap_or("");
    let end = rest
        .find(|c: char| c.is_ascii_whitespace() || c == '/' || c == '>')
        .unwrap_or(rest.len());
    rest.get(..end).unwrap_or("")
}

/// Returns the attribute's qualified name exactly as written (`xsi:type`).
pub fn attribute_qname<'input>(node: roxmltree::Node<'_, 'input>, attribute: &roxmltree::Attribute<'_, 'input>) -> &'input str {
    node.document().input_text().get(attribute.range_qname()).unwrap_or("")
}

/// Returns the prefix of a qualified name, or "" when it has none.
pub fn prefix_of(qname: &str) -> &str {
    qname.split_once(':').map_or("", |(prefix, _)| prefix)
}

/// Returns the element's ID: its one `ID`, `Id` or `id` attribute without a namespace.
/// Returns `Ok(None)` when it has none and `Err` with the names when it has more than one.
pub fn element_id<'a>(node: roxmltree::Node<'a, '_>) -> Result<Option<&'a str>, Vec<&'static str>> {
    let present: Vec<&'static str> = ID_ATTRIBUTES.into_iter().filter(|name| node.attribute(*name).is_some()).collect();
    match present.as_slice() {
        [] => Ok(None),
        [name] => Ok(node.attribute(*name)),
        _ => Err(present),
    }
}

/// Checks depth, attribute count and name length with a tokenizer, before a tree is built.
fn prescan(xml: &str, limits: &Limits) -> Result<(), XmlError> {
    let mut reader = quick_xml::Reader::from_str(xml);
    reader.config_mut().check_end_names = false;
    let mut depth = 0usize;
    loop {
        match reader.read_event() {
            Ok(Event::Start(start)) => {
                depth += 1;
                check_start(&start, limits)?;
                if depth > limits.max_depth {
                    return Err(XmlError::TooDeep { element: shorten(start.name().as_ref()), max: limits.max_depth });
                }
            }
            Ok(Event::Empty(start)) => {
                check_start(&start, limits)?;
                if depth + 1 > limits.max_depth {
                    return Err(XmlError::TooDeep { element: shorten(start.name().as_ref()), max: limits.max_depth });
                }
            }
            Ok(Event::End(_)) => depth = depth.saturating_sub(1),
            Ok(Event::DocType(_)) => return Err(XmlError::DtdNotAllowed),
            Ok(Event::Eof) => return Ok(()),
            Ok(_) => {}
            Err(e) => return Err(XmlError::Malformed(e.to_string())),
        }
    }
}

fn check_start(start: &BytesStart<'_>, limits: &Limits) -> Result<(), XmlError> {
    check_name(start.name().as_ref(), limits)?;
    let mut attributes = start.attributes();
    attributes.with_checks(false);
    let mut count = 0usize;
    for attribute in attributes {
        let attribute = attribute.map_err(|e| XmlError::Malformed(e.to_string()))?;
        count += 1;
        if count > limits.max_attributes {
            return Err(XmlError::TooManyAttributes {
                element: shorten(start.name().as_ref()),
                max: limits.max_attributes,
            });
        }
        check_name(attribute.key.as_ref(), limits)?;
    }
    Ok(())
}

fn check_name(name: &str, limits: &Limits) -> Result<(), XmlError> {
    if name.len() > limits.max_name_bytes {
        return Err(XmlError::NameTooLong { name: shorten(name), bytes: name.len(), max: limits.max_name_bytes });
    }
    Ok(())
}

/// Returns the first 32 characters of a name, for error messages.
fn shorten(name: &str) -> String {
    name.chars().take(32).collect()
}

fn contains_ignore_ascii_case(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window.eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(xml: &str) -> Result<(), XmlError> {
        Document::parse(xml, &Limits::default()).map(|_| ())
    }

    fn small() -> Limits {
        Limits { max_bytes: 200, max_depth: 3, max_attributes: 2, max_name_bytes: 8, max_nodes: 20 }
    }

    #[test]
    fn parse_accepts_plain_document() {
        assert_eq!(parse("<?xml version='1.0'?><a xmlns='urn:x'><b c='1'/></a>"), Ok(()));
    }

    #[test]
    fn parse_rejects_doctype() {
        assert_eq!(parse("<!DOCTYPE a><a/>"), Err(XmlError::DtdNotAllowed));
    }

    #[test]
    fn parse_rejects_internal_subset_entities() {
        let xml = "<!DOCTYPE a [<!ENTITY e 'x'>]><a>&e;</a>";
        assert_eq!(parse(xml), Err(XmlError::EntityDeclaration));
    }

    #[test]
    fn parse_rejects_billion_laughs() {
        let xml = "<!DOCTYPE l [<!ENTITY a \"aa\"><!ENTITY b \"&a;&a;\">]><l>&b;</l>";
        assert!(parse(xml).is_err(), "an entity-expanding document must be rejected");
    }

    #[test]
    fn parse_rejects_entity_declaration_outside_dtd() {
        assert_eq!(parse("<a><!ENTITY e 'x'></a>"), Err(XmlError::EntityDeclaration));
    }

    #[test]
    fn parse_accepts_entity_text_in_comment() {
        assert_eq!(parse("<a><!-- <!ENTITY e 'x'> --></a>"), Ok(()));
    }

    #[test]
    fn parse_rejects_undeclared_entity() {
        assert!(matches!(parse("<a>&ext;</a>"), Err(XmlError::Malformed(_))));
    }

    #[test]
    fn parse_expands_character_references() {
        let doc = Document::parse("<a>&#x41;&lt;&#66;</a>", &Limits::default()).unwrap();
        assert_eq!(doc.root_element().text(), Some("A<B"));
    }

    #[test]
    fn parse_rejects_oversized_document() {
        let xml = format!("<a>{}</a>", "x".repeat(300));
        assert_eq!(Document::parse(&xml, &small()).err(), Some(XmlError::TooLarge { bytes: 307, max: 200 }));
    }

    #[test]
    fn parse_rejects_deep_nesting() {
        let result = Document::parse("<a><b><c><d/></c></b></a>", &small());
        assert_eq!(result.err(), Some(XmlError::TooDeep { element: "d".into(), max: 3 }));
    }

    #[test]
    fn parse_accepts_depth_at_limit() {
        assert!(Document::parse("<a><b><c/></b></a>", &small()).is_ok());
    }

    #[test]
    fn parse_rejects_many_attributes() {
        let result = Document::parse("<a x='1' y='2' z='3'/>", &small());
        assert_eq!(result.err(), Some(XmlError::TooManyAttributes { element: "a".into(), max: 2 }));
    }

    #[test]
    fn parse_counts_namespace_declarations_as_attributes() {
        let result = Document::parse("<a xmlns='u' xmlns:p='v' x='1'/>", &small());
        assert!(matches!(result, Err(XmlError::TooManyAttributes { .. })));
    }

    #[test]
    fn parse_rejects_long_element_name() {
        let result = Document::parse("<abcdefghij/>", &small());
        assert_eq!(result.err(), Some(XmlError::NameTooLong { name: "abcdefghij".into(), bytes: 10, max: 8 }));
    }

    #[test]
    fn parse_rejects_long_attribute_name() {
        let result = Document::parse("<a abcdefghij='1'/>", &small());
        assert!(matches!(result, Err(XmlError::NameTooLong { bytes: 10, .. })));
    }

    #[test]
    fn parse_rejects_many_nodes() {
        let xml = format!("<a>{}</a>", "<b/>".repeat(30));
        assert_eq!(Document::parse(&xml, &small()).err(), Some(XmlError::TooManyNodes { max: 20 }));
    }

    #[test]
    fn parse_rejects_unclosed_element() {
        assert!(matches!(parse("<a><b></a>"), Err(XmlError::Malformed(_))));
    }

    #[test]
    fn parse_rejects_undeclared_prefix() {
        assert!(matches!(parse("<p:a/>"), Err(XmlError::Malformed(_))));
    }

    #[test]
    fn text_content_joins_comment_split_text() {
        let doc = Document::parse("<n>user@example.com<!---->.evil</n>", &Limits::default()).unwrap();
        assert_eq!(text_content(doc.root_element()), "user@example.com.evil");
    }

    #[test]
    fn element_qname_reads_prefix_as_written() {
        let doc = Document::parse("<a:x xmlns:a='u' xmlns:b='u'><b:y/></a:x>", &Limits::default()).unwrap();
        let child = doc.root_element().first_element_child().unwrap();
        assert_eq!(element_qname(child), "b:y");
    }

    #[test]
    fn duplicate_id_found_across_attribute_names() {
        let doc = Document::parse("<a ID='x'><b Id='y'/><c id='x'/></a>", &Limits::default()).unwrap();
        assert_eq!(doc.duplicate_id(), Some("x"));
    }

    #[test]
    fn element_by_id_ignores_ambiguous_ids() {
        let doc = Document::parse("<a><b ID='x'/><c ID='x'/></a>", &Limits::default()).unwrap();
        assert!(doc.element_by_id("x").is_none());
    }

    #[test]
    fn element_id_rejects_two_id_attributes() {
        let doc = Document::parse("<a ID='x' Id='y'/>", &Limits::default()).unwrap();
        assert_eq!(element_id(doc.root_element()), Err(vec!["ID", "Id"]));
    }
}
