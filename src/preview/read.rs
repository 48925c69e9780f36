//! Reading a Response back the way an SP does: by namespace and local name, with entity
//! references resolved, not by looking at the bytes the builder wrote.

use roxmltree::{Document, Node};
use serde::Serialize;

use crate::saml::response::ASSERTION_NS;

/// One `saml:Attribute` as the SP's attribute map reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpAttribute {
    pub name: String,
    /// The NameFormat URI, or `None` when the attribute carries none (SAML then implies
    /// `unspecified`).
    pub name_format: Option<String>,
    pub values: Vec<String>,
}

/// The Subject's NameID.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpNameId {
    pub value: String,
    pub format: Option<String>,
}

/// Returns every `saml:Attribute` in the document's Assertions, in document order.
pub fn attributes(document: &Document<'_>) -> Vec<SpAttribute> {
    document
        .descendants()
        .filter(|node| is_assertion_element(node, "Attribute"))
        .map(|node| SpAttribute {
            name: node.attribute("Name").unwrap_or_default().to_owned(),
            name_format: node.attribute("NameFormat").map(str::to_owned),
            values: node
                .children()
                .filter(|child| is_assertion_element(child, "AttributeValue"))
                .map(|value| text_content(&value))
                .collect(),
        })
        .collect()
}

/// Returns the first `saml:NameID` in the document, if any.
pub fn name_id(document: &Document<'_>) -> Option<SpNameId> {
    document.descendants().find(|node| is_assertion_element(node, "NameID")).map(|node| SpNameId {
        value: text_content(&node),
        format: node.attribute("Format").map(str::to_owned),
    })
}

/// Returns whether `node` is the element `saml:{local_name}`, whatever prefix it uses.
pub fn is_assertion_element(node: &Node<'_, '_>, local_name: &str) -> bool {
    node.is_element() && node.tag_name().namespace() == Some(ASSERTION_NS) && node.tag_name().name() == local_name
}

/// The concatenated text of every text descendant, as an SP's XML library returns it.
fn text_content(node: &Node<'_, '_>) -> String {
    node.descendants().filter(Node::is_text).filter_map(|text| text.text()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const RESPONSE: &str = "<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\">\
        <a:Assertion xmlns:a=\"urn:oasis:names:tc:SAML:2.0:assertion\"><a:Subject>\
        <a:NameID Format=\"urn:f\">jo&amp;e@example.com</a:NameID></a:Subject>\
        <a:AttributeStatement><a:Attribute Name=\"groups\" NameFormat=\"urn:n\">\
        <a:AttributeValue>a</a:AttributeValue><a:AttributeValue>b&lt;</a:AttributeValue>\
        </a:Attribute><a:Attribute Name=\"bare\"></a:Attribute></a:AttributeStatement>\
        </a:Assertion></samlp:Response>";

    #[test]
    fn attributes_read_values_unescaped() {
        let document = Document::parse(RESPONSE).unwrap();
        let attributes = attributes(&document);
        assert_eq!(attributes[0].values, vec!["a".to_owned(), "b<".to_owned()]);
    }

    #[test]
    fn attributes_keep_missing_name_format() {
        let document = Document::parse(RESPONSE).unwrap();
        let attributes = attributes(&document);
        assert_eq!(attributes[1].name_format, None);
    }

    #[test]
    fn name_id_reads_any_prefix() {
        let document = Document::parse(RESPONSE).unwrap();
        let name_id = name_id(&document).unwrap();
        assert_eq!(name_id.value, "jo&e@example.com");
        assert_eq!(name_id.format.as_deref(), Some("urn:f"));
    }
}
