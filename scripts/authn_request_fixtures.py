"""Writes AuthnRequests made by pysaml2 and python3-saml; run by make-authn-request-fixtures.

Each request goes to one file: `<library>-<binding>-<signed|unsigned>.txt` holding the raw
query string (HTTP-Redirect, without the leading '?') or the form body (HTTP-POST), exactly
as a browser would send it. manifest.json records each request's ID and IssueInstant.
"""

import base64
import json
import pathlib
import re
import sys
import urllib.parse
import zlib

SP_ENTITY_ID = "https://sp.example.test/metadata"
ACS_URL = "https://sp.example.test/acs"
IDP_ENTITY_ID = "http://127.0.0.1:10000/saml/amion/metadata"
SSO_URL = "http://127.0.0.1:10000/saml/amion/sso"
RELAY_STATE = '{"redirect_to":"https://www.amion.com/organizations"}'

OUT = pathlib.Path(sys.argv[1])
KEY = OUT / "TEST-ONLY-sp.key.pem"
CERT = OUT / "sp.cert.pem"


def cert_body():
    pem = CERT.read_text()
    return "".join(pem.strip().splitlines()[1:-1])


def idp_metadata():
    return f"""<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{IDP_ENTITY_ID}">
<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="{SSO_URL}"/>
<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{SSO_URL}"/>
</md:IDPSSODescriptor></md:EntityDescriptor>"""


def inflate_query(query):
    """Returns the XML inside a Redirect query, for the manifest."""
    params = dict(urllib.parse.parse_qsl(query))
    return zlib.decompress(base64.b64decode(params["SAMLRequest"]), -15).decode()


def post_xml(body):
    params = dict(urllib.parse.parse_qsl(body))
    return base64.b64decode(params["SAMLRequest"]).decode()


def pysaml2_requests():
    from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
    from saml2.client import Saml2Client
    from saml2.config import SPConfig
    from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

    def client(signed):
        config = SPConfig()
        config.load({
            "entityid": SP_ENTITY_ID,
            "key_file": str(KEY),
            "cert_file": str(CERT),
            "xmlsec_binary": "/usr/bin/xmlsec1",
            "metadata": {"inline": [idp_metadata()]},
            "service": {"sp": {
                "endpoints": {"assertion_consumer_service": [(ACS_URL, BINDING_HTTP_POST)]},
                "authn_requests_signed": signed,
                "want_response_signed": False,
                "name_id_format": "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
            }},
        })
        return Saml2Client(config)

    requests = {}
    for signed in (False, True):
        label = "signed" if signed else "unsigned"
        # HTTP-Redirect: the signature is detached, over the query string.
        sp = client(signed)
        _, request = sp.create_authn_request(SSO_URL, binding=BINDING_HTTP_POST, sign=False)
        info = sp.apply_binding(BINDING_HTTP_REDIRECT, str(request), SSO_URL, RELAY_STATE,
                                sign=signed, sigalg=SIG_RSA_SHA256 if signed else None)
        location = dict(info["headers"])["Location"]
        requests[f"pysaml2-redirect-{label}"] = location.split("?", 1)[1]
        # HTTP-POST: the signature is embedded in the XML.
        _, request = sp.create_authn_request(SSO_URL, binding=BINDING_HTTP_POST, sign=signed,
                                             sign_alg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA256)
        encoded = base64.b64encode(str(request).encode()).decode()
        requests[f"pysaml2-post-{label}"] = urllib.parse.urlencode({"SAMLRequest": encoded, "RelayState": RELAY_STATE})
    return requests


def onelogin_requests():
    from onelogin.saml2.auth import OneLogin_Saml2_Auth
    from onelogin.saml2.authn_request import OneLogin_Saml2_Authn_Request
    from onelogin.saml2.settings import OneLogin_Saml2_Settings
    from onelogin.saml2.utils import OneLogin_Saml2_Utils
    from onelogin.saml2.constants import OneLogin_Saml2_Constants as C

    def settings(signed):
        return {
            "strict": True,
            "sp": {
                "entityId": SP_ENTITY_ID,
                "assertionConsumerService": {"url": ACS_URL, "binding": C.BINDING_HTTP_POST},
                "NameIDFormat": "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
                "x509cert": cert_body(),
                "privateKey": KEY.read_text(),
            },
            "idp": {
                "entityId": IDP_ENTITY_ID,
                "singleSignOnService": {"url": SSO_URL, "binding": C.BINDING_HTTP_REDIRECT},
                "x509cert": cert_body(),
            },
            "security": {
                "authnRequestsSigned": signed,
                "signatureAlgorithm": C.RSA_SHA256,
                "digestAlgorithm": C.SHA256,
                "requestedAuthnContext": True,
            },
        }

    request_data = {"https": "on", "http_host": "sp.example.test", "script_name": "/acs",
                    "get_data": {}, "post_data": {}}
    requests = {}
    for signed in (False, True):
        label = "signed" if signed else "unsigned"
        auth = OneLogin_Saml2_Auth(request_data, settings(signed))
        url = auth.login(return_to=RELAY_STATE, force_authn=False, is_passive=False)
        requests[f"python3-saml-redirect-{label}"] = url.split("?", 1)[1]

        saml_settings = OneLogin_Saml2_Settings(settings(signed))
        xml = OneLogin_Saml2_Authn_Request(saml_settings).get_xml()
        if signed:
            xml = OneLogin_Saml2_Utils.add_sign(xml, KEY.read_text(), CERT.read_text(),
                                                sign_algorithm=C.RSA_SHA256, digest_algorithm=C.SHA256)
            if isinstance(xml, bytes):
                xml = xml.decode()
        encoded = base64.b64encode(xml.encode()).decode()
        requests[f"python3-saml-post-{label}"] = urllib.parse.urlencode({"SAMLRequest": encoded, "RelayState": RELAY_STATE})
    return requests


def main():
    requests = {}
    requests.update(pysaml2_requests())
    requests.update(onelogin_requests())
    manifest = {}
    for name, text in sorted(requests.items()):
        (OUT / f"{name}.txt").write_text(text)
        xml = inflate_query(text) if "-redirect-" in name else post_xml(text)
        manifest[name] = {
            "id": re.search(r'\sID="([^"]+)"', xml).group(1),
            "issue_instant": re.search(r'IssueInstant="([^"]+)"', xml).group(1),
        }
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    print(f"wrote {len(requests)} requests to {OUT}")


if __name__ == "__main__":
    main()
