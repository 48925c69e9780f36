<?php
// The reference apps' SP (scripts/demo-config): its entity ID and ACS URL, a NameID in the
// emailAddress format from the user's email, and the same five attributes under the same
// names with the Unspecified name format. Assertions are not encrypted, as in edgeidp's
// reference configuration.
$metadata['https://sp.example.com/saml/metadata'] = [
    'AssertionConsumerService' => [
        [
            'Binding' => 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST',
            'Location' => 'https://sp.example.com/saml/acs',
        ],
    ],
    'NameIDFormat' => 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
    'simplesaml.nameidattribute' => 'email',
    'attributes.NameFormat' => 'urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified',
    'saml20.sign.response' => true,
    'saml20.sign.assertion' => true,
    'authproc' => [
        // The SP's attribute names, the same as in edgeidp's attribute list.
        10 => [
            'class' => 'core:AttributeMap',
            'given_name' => 'first_name',
            'family_name' => 'last_name',
            'preferred_username' => 'name',
            'title' => 'jobTitle',
        ],
    ],
    'attributes' => ['email', 'first_name', 'last_name', 'name', 'jobTitle'],
];
