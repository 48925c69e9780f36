//! IdP metadata: an EntityDescriptor with one IDPSSODescriptor (SAML 2.0 Metadata, section 2).
//!
//! The document depends only on the configuration and, when `metadata_valid_seconds` is set,
//! on the time it is generated, so every worker serves the same bytes for the same
//! configuration.

use time::{Duration, OffsetDateTime};

use super::escape::push_attribute;
use super::response::format_instant;
use crate::config::{Config, NameIdFormat};

const METADATA_NS: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
const DS_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
pub const HTTP_REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
pub const HTTP_POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";

/// Builds the metadata document listing the SSO endpoints of every app. `generated_at` only
/// matters when `validUntil` is configured; the filter passes the time its configuration was
/// loaded so the bytes stay stable.
pub fn build_metadata(config: &Config, generated_at: OffsetDateTime) -> String {
    build(config, None, generated_at)
}

/// Builds the metadata document for one app: the same entity and keys, with only that app's
/// SSO endpoints, for SPs that take the first SingleSignOnService of a binding.
pub fn build_app_metadata(config: &Config, app: &str, generated_at: OffsetDateTime) -> String {
    build(config, Some(app), generated_at)
}

fn build(config: &Config, only_app: Option<&str>, generated_at: OffsetDateTime) -> String {
    let idp = &config.idp;
    let mut out = String::with_capacity(4096);

    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<md:EntityDescriptor xmlns:md=\"");
    out.push_str(METADATA_NS);
    out.push_str("\" xmlns:ds=\"");
    out.push_str(DS_NS);
    out.push('"');
    if let Some(seconds) = idp.metadata_cache_duration_seconds {
        out.push_str(" cacheDuration=\"PT");
        out.push_str(&seconds.to_string());
        out.push_str("S\"");
    }
    out.push_str(" entityID=\"");
    push_attribute(&mut out, &idp.entity_id);
    out.push('"');
    if let Some(seconds) = idp.metadata_valid_seconds {
        let valid_until = generated_at + Duration::seconds(i64::try_from(seconds).unwrap_or(i64::MAX));
        out.push_str(" validUntil=\"");
        out.push_str(&format_instant(valid_until));
        out.push('"');
    }
    out.push_str(">\n  <md:IDPSSODescriptor WantAuthnRequestsSigned=\"");
    out.push_str(if idp.want_authn_requests_signed { "true" } else { "false" });
    out.push_str("\" protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">\n");

    for certificate in idp.certificates() {
        out.push_str("    <md:KeyDescriptor use=\"signing\">\n      <ds:KeyInfo>\n        <ds:X509Data>\n          <ds:X509Certificate>");
        out.push_str(&certificate.base64());
        out.push_str("</ds:X509Certificate>\n        </ds:X509Data>\n      </ds:KeyInfo>\n    </md:KeyDescriptor>\n");
    }
    for format in NameIdFormat::ALL {
        out.push_str("    <md:NameIDFormat>");
        out.push_str(format.uri());
        out.push_str("</md:NameIDFormat>\n");
    }
    for app in config.apps.keys().filter(|name| only_app.is_none_or(|only| only == name.as_str())) {
        for binding in [HTTP_REDIRECT, HTTP_POST] {
            out.push_str("    <md:SingleSignOnService Binding=\"");
            out.push_str(binding);
            out.push_str("\" Location=\"");
            push_attribute(&mut out, &config.sso_url(app));
            out.push_str("\"/>\n");
        }
    }
    out.push_str("  </md:IDPSSODescriptor>\n</md:EntityDescriptor>\n");
    out
}
