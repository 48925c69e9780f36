//! The HTTP-POST binding's auto-submitting form (SAML 2.0 Bindings, section 3.5).

use base64::Engine;
use sha2::{Digest, Sha256};

use super::escape::html;

/// The one inline script the page runs. Its SHA-256 is allowed by the Content-Security-Policy.
const SUBMIT_SCRIPT: &str = "document.getElementById(\"saml-post\").submit();";

/// An HTML page and the headers that must go with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostForm {
    pub html: String,
    pub content_security_policy: String,
}

/// The headers every POST-binding page is served with, besides the CSP.
pub const POST_FORM_HEADERS: [(&str, &str); 4] = [
    ("content-type", "text/html; charset=utf-8"),
    ("cache-control", "no-store"),
    ("pragma", "no-cache"),
    ("x-content-type-options", "nosniff"),
];

/// Builds the page that posts `field` (`SAMLResponse` or `SAMLRequest`) and RelayState to
/// `action`. Every value is HTML-escaped; a visible button submits for browsers without
/// JavaScript.
pub fn post_form(action: &str, field: &str, value: &str, relay_state: Option<&str>) -> PostForm {
    let mut page = String::with_capacity(value.len() + 1024);
    page.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Signing you in</title></head><body>\n");
    page.push_str("<form id=\"saml-post\" method=\"post\" action=\"");
    page.push_str(&html(action));
    page.push_str("\">\n<input type=\"hidden\" name=\"");
    page.push_str(&html(field));
    page.push_str("\" value=\"");
    page.push_str(&html(value));
    page.push_str("\">\n");
    if let Some(relay_state) = relay_state {
        page.push_str("<input type=\"hidden\" name=\"RelayState\" value=\"");
        page.push_str(&html(relay_state));
        page.push_str("\">\n");
    }
    page.push_str("<noscript><p>JavaScript is off, so press Continue to finish signing in.</p></noscript>\n");
    page.push_str("<button type=\"submit\">Continue</button>\n</form>\n<script>");
    page.push_str(SUBMIT_SCRIPT);
    page.push_str("</script>\n</body></html>\n");

    PostForm { html: page, content_security_policy: content_security_policy(action) }
}

fn content_security_policy(action: &str) -> String {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(SUBMIT_SCRIPT.as_bytes()));
    let form_action = form_action_source(action);
    format!(
        "default-src 'none'; script-src 'sha256-{hash}'; form-action {form_action}; base-uri 'none'; frame-ancestors 'none'"
    )
}

/// The CSP source for the form target: its origin, or `'none'` if it is not a URL (the
/// config only holds absolute URLs, so that would be a bug; failing closed blocks the post).
fn form_action_source(action: &str) -> String {
    match url::Url::parse(action) {
        Ok(url) if url.scheme() == "https" || url.scheme() == "http" => url.origin().ascii_serialization(),
        _ => "'none'".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_escapes_every_value() {
        let form = post_form("https://sp.test/acs?a=1&b=\"2\"", "SAMLResponse", "PHg+", Some("<script>\"'&"));
        assert!(form.html.contains("action=\"https://sp.test/acs?a=1&amp;b=&quot;2&quot;\""));
        assert!(form.html.contains("value=\"&lt;script&gt;&quot;&#39;&amp;\""));
        assert!(!form.html.contains("<script>\""));
    }

    #[test]
    fn csp_allows_only_the_submit_script_and_acs_origin() {
        let form = post_form("https://sp.test:8443/acs", "SAMLResponse", "x", None);
        assert!(form.content_security_policy.contains("form-action https://sp.test:8443;"));
        assert!(form.content_security_policy.starts_with("default-src 'none'; script-src 'sha256-"));
    }

    #[test]
    fn relay_state_omitted_when_absent() {
        let form = post_form("https://sp.test/acs", "SAMLResponse", "x", None);
        assert!(!form.html.contains("RelayState"));
    }
}
