<?php
// The IdP: an RSA-2048 key and certificate written by benches/simplesamlphp/run, RSA-SHA256,
// both the Response and the Assertion signed, as edgeidp signs for the reference apps.
$metadata['http://127.0.0.1:@PORT@/simplesaml/saml2/idp/metadata.php'] = [
    'host' => '__DEFAULT__',
    'privatekey' => 'idp.key.pem',
    'certificate' => 'idp.cert.pem',
    'auth' => 'bench-user',
    'signature.algorithm' => 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    'saml20.sign.response' => true,
    'saml20.sign.assertion' => true,
];
