// Validate SAML Responses as a service provider would, with @node-saml/node-saml.
//
// Usage: node node_sp.js CASES.json
//
// CASES.json has the same shape as for python_sp.py. The script prints
// {"results": [{"name", "ok": true, "name_id", "attributes"} or {"name", "ok": false, "error"}]}.

"use strict";

const fs = require("fs");
const { SAML } = require("@node-saml/node-saml");

// Profile fields that node-saml sets itself. Every other field is a SAML attribute.
const PROFILE_FIELDS = new Set([
  "issuer", "sessionIndex", "nameID", "nameIDFormat", "nameQualifier", "spNameQualifier",
  "inResponseTo", "attributes", "getAssertionXml", "getAssertion", "getSamlResponseXml", "ID",
]);

async function validate(settings, testCase) {
  const saml = new SAML({
    callbackUrl: settings.acs_url,
    entryPoint: settings.idp_sso_url,
    issuer: settings.sp_entity_id,
    audience: settings.sp_entity_id,
    idpIssuer: settings.idp_entity_id,
    idpCert: settings.idp_cert_pem,
    decryptionPvk: testCase.sp_key_pem,
    wantAssertionsSigned: true,
    wantAuthnResponseSigned: true,
    validateInResponseTo: "never",
  });
  const { profile } = await saml.validatePostResponseAsync({ SAMLResponse: testCase.response });
  if (!profile) {
    throw new Error("node-saml returned no profile");
  }
  const attributes = {};
  for (const [name, value] of Object.entries(profile.attributes || profile)) {
    if (!PROFILE_FIELDS.has(name)) {
      attributes[name] = Array.isArray(value) ? value : [value];
    }
  }
  return { name_id: profile.nameID, attributes };
}

async function main() {
  const cases = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
  const results = [];
  for (const testCase of cases.cases) {
    try {
      const { name_id, attributes } = await validate(cases.settings, testCase);
      results.push({ name: testCase.name, ok: true, name_id, attributes });
    } catch (error) {
      results.push({ name: testCase.name, ok: false, error: String(error && error.message ? error.message : error) });
    }
  }
  process.stdout.write(JSON.stringify({ results }));
}

main().catch((error) => {
  process.stderr.write(`node_sp.js failed: ${error && error.stack ? error.stack : error}\n`);
  process.exit(1);
});
