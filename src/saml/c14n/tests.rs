//! Hand-checked cases from the canonicalization recommendations; the libxml2 differential
//! corpus lives in `tests/c14n_differential.rs`.

use super::*;

fn exc(xml: &str) -> String {
    String::from_utf8(canonicalize(xml, &C14nOptions::default()).unwrap()).unwrap()
}

fn exc_with_comments(xml: &str) -> String {
    let options = C14nOptions { with_comments: true, ..C14nOptions::default() };
    String::from_utf8(canonicalize(xml, &options).unwrap()).unwrap()
}

/// Canonicalizes the first element named `local` with `prefixes` as the PrefixList.
fn subtree(xml: &str, local: &str, prefixes: &[&str]) -> String {
    let document = Document::parse(xml, &Limits::default()).unwrap();
    let apex = document.root().descendants().find(|n| n.tag_name().name() == local).unwrap();
    let options = C14nOptions {
        with_comments: false,
        inclusive_prefixes: prefixes.iter().map(|p| p.to_string()).collect(),
    };
    String::from_utf8(canonicalize_node(&document, apex, &options, None).unwrap()).unwrap()
}

#[test]
fn document_drops_declaration_and_expands_empty() {
    assert_eq!(exc("<?xml version=\"1.0\"?>\n<a><b/></a>"), "<a><b></b></a>");
}

#[test]
fn document_places_line_feeds_around_element() {
    let xml = "<?pi-before data?>\n<!--c1-->\n<a/>\n<!--c2-->\n<?pi-after?>";
    assert_eq!(exc_with_comments(xml), "<?pi-before data?>\n<!--c1-->\n<a></a>\n<!--c2-->\n<?pi-after?>");
}

#[test]
fn document_without_comments_drops_their_line_feeds() {
    assert_eq!(exc("<!--c1--><a><!--inner--></a><!--c2-->"), "<a></a>");
}

#[test]
fn attributes_sorted_by_namespace_then_name() {
    let xml = r#"<e xmlns:b="urn:b" xmlns:a="urn:a" b:x="1" z="2" a:y="3" a="4"/>"#;
    assert_eq!(exc(xml), r#"<e xmlns:a="urn:a" xmlns:b="urn:b" a="4" z="2" a:y="3" b:x="1"></e>"#);
}

#[test]
fn unused_namespaces_dropped() {
    let xml = r#"<a xmlns="urn:d" xmlns:u="urn:unused"><b/></a>"#;
    assert_eq!(exc(xml), r#"<a xmlns="urn:d"><b></b></a>"#);
}

#[test]
fn namespace_rendered_where_first_used() {
    let xml = r#"<a xmlns:p="urn:p"><b><p:c/><p:d/></b></a>"#;
    assert_eq!(exc(xml), r#"<a><b><p:c xmlns:p="urn:p"></p:c><p:d xmlns:p="urn:p"></p:d></b></a>"#);
}

#[test]
fn default_namespace_undeclared_under_rendered_default() {
    let xml = r#"<a xmlns="urn:d"><b xmlns=""/></a>"#;
    assert_eq!(exc(xml), r#"<a xmlns="urn:d"><b xmlns=""></b></a>"#);
}

#[test]
fn empty_default_not_rendered_at_top() {
    assert_eq!(exc(r#"<a xmlns=""><b/></a>"#), "<a><b></b></a>");
}

#[test]
fn redeclared_prefix_rendered_again() {
    let xml = r#"<p:a xmlns:p="urn:1"><p:b xmlns:p="urn:2"><p:c xmlns:p="urn:1"/></p:b></p:a>"#;
    let expected = r#"<p:a xmlns:p="urn:1"><p:b xmlns:p="urn:2"><p:c xmlns:p="urn:1"></p:c></p:b></p:a>"#;
    assert_eq!(exc(xml), expected);
}

#[test]
fn two_prefixes_for_one_uri_kept_apart() {
    let xml = r#"<a:x xmlns:a="urn:u" xmlns:b="urn:u"><b:y/></a:x>"#;
    assert_eq!(exc(xml), r#"<a:x xmlns:a="urn:u"><b:y xmlns:b="urn:u"></b:y></a:x>"#);
}

#[test]
fn text_escaped() {
    let xml = "<a>&amp;&lt;&gt;&#13;\"'&#x9;</a>";
    assert_eq!(exc(xml), "<a>&amp;&lt;&gt;&#xD;\"'\t</a>");
}

#[test]
fn attribute_escaped() {
    let xml = "<a v=\"&amp;&lt;&gt;&quot;'&#9;&#10;&#13;\"/>";
    assert_eq!(exc(xml), "<a v=\"&amp;&lt;>&quot;'&#x9;&#xA;&#xD;\"></a>");
}

#[test]
fn attribute_whitespace_normalized() {
    assert_eq!(exc("<a v=\"x\ny\tz\"/>"), "<a v=\"x y z\"></a>");
}

#[test]
fn line_endings_normalized_in_text() {
    assert_eq!(exc("<a>x\r\ny\rz</a>"), "<a>x\ny\nz</a>");
}

#[test]
fn line_endings_normalized_in_comments() {
    assert_eq!(exc_with_comments("<a><!--x\r\ny--></a>"), "<a><!--x\ny--></a>");
}

#[test]
fn cdata_becomes_escaped_text() {
    assert_eq!(exc("<a><![CDATA[<&>]]></a>"), "<a>&lt;&amp;&gt;</a>");
}

#[test]
fn pi_without_data_has_no_space() {
    assert_eq!(exc("<a><?t ?></a>"), "<a><?t?></a>");
}

#[test]
fn xml_prefix_never_declared() {
    assert_eq!(exc(r#"<a xml:lang="en"/>"#), r#"<a xml:lang="en"></a>"#);
}

/// The recommendation's section 2.2 example: the subtree renders `n1` where it is used and
/// leaves out `n0`, which only an ancestor uses.
#[test]
fn subtree_renders_inherited_used_prefix() {
    let xml = r#"<n0:local xmlns:n0="foo:bar" xmlns:n3="ftp://example.org"><n1:elem2 xmlns:n1="http://example.net" xml:lang="en"><n3:stuff xmlns:n3="ftp://example.org"/></n1:elem2></n0:local>"#;
    let expected = r#"<n1:elem2 xmlns:n1="http://example.net" xml:lang="en"><n3:stuff xmlns:n3="ftp://example.org"></n3:stuff></n1:elem2>"#;
    assert_eq!(subtree(xml, "elem2", &[]), expected);
}

#[test]
fn subtree_renders_default_from_ancestor() {
    let xml = r#"<r xmlns="urn:d" xmlns:s="urn:s"><s:x><y/></s:x></r>"#;
    assert_eq!(subtree(xml, "x", &[]), r#"<s:x xmlns:s="urn:s"><y xmlns="urn:d"></y></s:x>"#);
}

#[test]
fn prefix_list_renders_unused_prefix() {
    let xml = r#"<r xmlns:xs="urn:xs" xmlns:s="urn:s"><s:v>xs:string</s:v></r>"#;
    assert_eq!(subtree(xml, "v", &["xs"]), r#"<s:v xmlns:s="urn:s" xmlns:xs="urn:xs">xs:string</s:v>"#);
}

#[test]
fn prefix_list_default_token() {
    let xml = r#"<r xmlns="urn:d" xmlns:s="urn:s"><s:v/></r>"#;
    assert_eq!(subtree(xml, "v", &["#default"]), r#"<s:v xmlns="urn:d" xmlns:s="urn:s"></s:v>"#);
}

#[test]
fn prefix_list_prefix_not_repeated_below() {
    let xml = r#"<r xmlns:xs="urn:xs"><v><w/></v></r>"#;
    assert_eq!(subtree(xml, "v", &["xs"]), r#"<v xmlns:xs="urn:xs"><w></w></v>"#);
}

#[test]
fn exclude_drops_signature_subtree() {
    let xml = r#"<a ID="1"><ds:Signature xmlns:ds="urn:ds"><ds:X/></ds:Signature><b/></a>"#;
    let document = Document::parse(xml, &Limits::default()).unwrap();
    let apex = document.root_element();
    let signature = apex.first_element_child().unwrap();
    let out = canonicalize_node(&document, apex, &C14nOptions::default(), Some(signature)).unwrap();
    assert_eq!(String::from_utf8(out).unwrap(), r#"<a ID="1"><b></b></a>"#);
}

#[test]
fn text_node_apex_rejected() {
    let document = Document::parse("<a>t</a>", &Limits::default()).unwrap();
    let text = document.root_element().first_child().unwrap();
    let result = canonicalize_node(&document, text, &C14nOptions::default(), None);
    assert!(matches!(result, Err(C14nError::NotAnElement { .. })));
}

#[test]
fn doctype_rejected() {
    let result = canonicalize("<!DOCTYPE a><a/>", &C14nOptions::default());
    assert_eq!(result, Err(C14nError::Xml(XmlError::DtdNotAllowed)));
}

#[test]
fn non_ascii_kept_as_utf8() {
    assert_eq!(exc("<a n=\"Zoë\">Ünïcödé &#x1F600;</a>"), "<a n=\"Zoë\">Ünïcödé 😀</a>");
}

#[test]
fn namespace_uri_with_ampersand_rejected() {
    let result = canonicalize(r#"<p:a xmlns:p="urn:x?a=1&amp;b=2"/>"#, &C14nOptions::default());
    assert_eq!(result, Err(C14nError::NamespaceUriNeedsEscaping { uri: "urn:x?a=1&b=2".into() }));
}

#[test]
fn unused_namespace_uri_with_ampersand_ignored() {
    assert_eq!(exc(r#"<a xmlns:p="urn:x?a=1&amp;b=2"/>"#), "<a></a>");
}
