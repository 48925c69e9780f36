"""Decrypt the EncryptedAssertion of a SAML Response with python-xmlsec.

Usage: xmlsec_decrypt.py SP_KEY.pem RESPONSE.xml

Prints the Response with the Assertion decrypted in place, like `xmlsec1 --decrypt`. The
tests use it for XML Encryption 1.1 rsa-oaep, which the python-xmlsec wheel's bundled
libxmlsec1 (1.3 series) supports and Debian 12's xmlsec1 1.2.37 does not.
"""

import sys

import xmlsec
from lxml import etree

XENC = "http://www.w3.org/2001/04/xmlenc#"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"


def main() -> int:
    key_path, document_path = sys.argv[1], sys.argv[2]
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    tree = etree.parse(document_path, parser)
    manager = xmlsec.KeysManager()
    manager.add_key(xmlsec.Key.from_file(key_path, xmlsec.KeyFormat.PEM))
    encrypted = tree.find(f".//{{{SAML}}}EncryptedAssertion/{{{XENC}}}EncryptedData")
    if encrypted is None:
        print("no saml:EncryptedAssertion/xenc:EncryptedData in the document", file=sys.stderr)
        return 1
    try:
        xmlsec.EncryptionContext(manager).decrypt(encrypted)
    except xmlsec.Error as error:
        print(f"decryption failed: {error}", file=sys.stderr)
        return 1
    sys.stdout.write(etree.tostring(tree, encoding="unicode"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
