//! Canonicalizes arbitrary text as a whole document and as every element subtree, and
//! checks that canonicalizing the canonical form again changes nothing.
#![no_main]

use edgeidp::saml::c14n::{canonicalize, canonicalize_node, C14nOptions};
use edgeidp::saml::xml::{Document, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else { return };
    let Ok(xml) = std::str::from_utf8(rest) else { return };
    let options = C14nOptions {
        with_comments: flags & 1 != 0,
        inclusive_prefixes: match flags >> 1 & 3 {
            0 => vec![],
            1 => vec!["#default".into()],
            2 => vec!["xs".into(), "saml".into()],
            _ => vec!["#default".into(), "ds".into(), "p".into()],
        },
    };

    if let Ok(canonical) = canonicalize(xml, &options) {
        let text = String::from_utf8(canonical).expect("canonical output is UTF-8");
        if let Ok(again) = canonicalize(&text, &options) {
            assert_eq!(again, text.as_bytes(), "canonicalization is not idempotent");
        }
    }

    let Ok(document) = Document::parse(xml, &Limits::default()) else { return };
    let mut elements = document.root().descendants().filter(|n| n.is_element());
    let excluded = elements.clone().nth(usize::from(flags >> 3));
    for element in elements.by_ref().take(16) {
        let _ = canonicalize_node(&document, element, &options, excluded);
    }
});
