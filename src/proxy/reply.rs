//! Local replies: the status, headers and body the filter sends instead of passing the
//! request upstream.

use crate::saml::post_form::{PostForm, POST_FORM_HEADERS};

/// Content type of SAML metadata (SAML 2.0 Metadata, section 4.1.1).
pub const METADATA_CONTENT_TYPE: &str = "application/samlmetadata+xml";

/// A complete local reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u32,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    /// Builds a plain-text page with a fixed message. Never pass request data as `message`: the
    /// text is not escaped and reaches the client as it is.
    pub fn text(status: u32, message: &str) -> Self {
        let mut body = message.as_bytes().to_vec();
        body.push(b'\n');
        Self {
            status,
            headers: owned(&[
                ("content-type", "text/plain; charset=utf-8"),
                ("cache-control", "no-store"),
                ("x-content-type-options", "nosniff"),
            ]),
            body,
        }
    }

    /// Builds the HTTP-POST binding page, with its no-store headers and Content-Security-Policy.
    pub fn post_form(form: PostForm) -> Self {
        let mut headers = owned(&POST_FORM_HEADERS);
        headers.push(("content-security-policy".to_owned(), form.content_security_policy));
        headers.push(("referrer-policy".to_owned(), "no-referrer".to_owned()));
        Self { status: 200, headers, body: form.html.into_bytes() }
    }

    /// Builds a 302 to `location`, which must be a URL the configuration supplied.
    pub fn redirect(location: &str) -> Self {
        Self {
            status: 302,
            headers: owned(&[("location", location), ("cache-control", "no-store")]),
            body: Vec::new(),
        }
    }

    /// Builds the reply that carries a metadata document.
    pub fn metadata(xml: &str) -> Self {
        Self {
            status: 200,
            headers: owned(&[("content-type", METADATA_CONTENT_TYPE), ("x-content-type-options", "nosniff")]),
            body: xml.as_bytes().to_vec(),
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Returns the value of the first header called `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

fn owned(headers: &[(&str, &str)]) -> Vec<(String, String)> {
    headers.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect()
}
