"""Validate SAML Responses as a service provider would, with pysaml2 or python3-saml.

Usage: python_sp.py pysaml2|python3-saml CASES.json

CASES.json contains the SP and IdP settings shared by every case and a list of cases, each a
base64 SAMLResponse with the SP key to decrypt it. The script prints one JSON object:
{"results": [{"name": ..., "ok": true, "name_id": ..., "attributes": {...}}, or
{"name": ..., "ok": false, "error": ...}]}, and exits 0 whether the cases passed or failed.
"""

import json
import os
import sys
import tempfile

POST_BINDING = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
REDIRECT_BINDING = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"


def validate_pysaml2(settings, case, workdir):
    from saml2.client import Saml2Client
    from saml2.config import SPConfig

    key_file = write(workdir, "sp.key.pem", case["sp_key_pem"])
    cert_file = write(workdir, "sp.cert.pem", settings["sp_cert_pem"])
    metadata_file = write(workdir, "idp-metadata.xml", settings["idp_metadata_xml"])
    config = {
        "entityid": settings["sp_entity_id"],
        "key_file": key_file,
        "cert_file": cert_file,
        "encryption_keypairs": [{"key_file": key_file, "cert_file": cert_file}],
        "metadata": {"local": [metadata_file]},
        "allow_unknown_attributes": True,
        "xmlsec_binary": "/usr/bin/xmlsec1",
        "service": {
            "sp": {
                "endpoints": {"assertion_consumer_service": [(settings["acs_url"], POST_BINDING)]},
                "allow_unsolicited": True,
                "want_response_signed": True,
                "want_assertions_signed": True,
            }
        },
    }
    client = Saml2Client(config=SPConfig().load(config))
    response = client.parse_authn_request_response(case["response"], POST_BINDING)
    if response is None:
        raise ValueError("pysaml2 returned no response")
    if not response.assertion:
        raise ValueError("pysaml2 found no assertion")
    return response.name_id.text, response.ava


def validate_python3_saml(settings, case, _workdir):
    from onelogin.saml2.response import OneLogin_Saml2_Response
    from onelogin.saml2.settings import OneLogin_Saml2_Settings

    saml_settings = OneLogin_Saml2_Settings(
        {
            "strict": True,
            "sp": {
                "entityId": settings["sp_entity_id"],
                "assertionConsumerService": {"url": settings["acs_url"], "binding": POST_BINDING},
                "x509cert": settings["sp_cert_pem"],
                "privateKey": case["sp_key_pem"],
            },
            "idp": {
                "entityId": settings["idp_entity_id"],
                "singleSignOnService": {"url": settings["idp_sso_url"], "binding": REDIRECT_BINDING},
                "x509cert": settings["idp_cert_pem"],
            },
            "security": {
                "wantAssertionsEncrypted": True,
                "wantAssertionsSigned": True,
                "wantMessagesSigned": True,
                "wantNameIdEncrypted": case["name_id_encrypted"],
                "rejectDeprecatedAlgorithm": True,
            },
        },
        sp_validation_only=True,
    )
    response = OneLogin_Saml2_Response(saml_settings, case["response"])
    request_data = {
        "https": "on",
        "http_host": settings["acs_host"],
        "script_name": settings["acs_path"],
        "server_port": "443",
    }
    response.is_valid(request_data, raise_exceptions=True)
    return response.get_nameid(), response.get_attributes()


VALIDATORS = {"pysaml2": validate_pysaml2, "python3-saml": validate_python3_saml}


def write(directory, name, text):
    path = os.path.join(directory, name)
    with open(path, "w", encoding="utf-8") as file:
        file.write(text)
    return path


def main():
    library, cases_path = sys.argv[1], sys.argv[2]
    validate = VALIDATORS[library]
    with open(cases_path, encoding="utf-8") as file:
        cases = json.load(file)
    results = []
    for case in cases["cases"]:
        with tempfile.TemporaryDirectory() as workdir:
            try:
                name_id, attributes = validate(cases["settings"], case, workdir)
                results.append({"name": case["name"], "ok": True, "name_id": name_id, "attributes": attributes})
            except Exception as error:  # every failure is a result the Rust test reports
                results.append({"name": case["name"], "ok": False, "error": f"{type(error).__name__}: {error}"})
    json.dump({"results": results}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
