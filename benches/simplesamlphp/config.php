<?php
// SimpleSAMLphp's configuration for benches/simplesamlphp/run, which copies this file into a
// scratch directory and replaces the @...@ placeholders. Only what the benchmark needs: the
// SAML 2.0 IdP, the exampleauth module for a static user, logging of warnings and errors.
$config = [
    'baseurlpath' => 'http://127.0.0.1:@PORT@/simplesaml/',
    'certdir' => '@DIR@/cert/',
    'metadatadir' => '@DIR@/metadata/',
    'loggingdir' => '@DIR@/log/',
    'datadir' => '@DIR@/data/',
    'tempdir' => '@DIR@/tmp/',
    'technicalcontact_name' => 'edgeidp benchmark',
    'technicalcontact_email' => 'bench@example.com',
    'timezone' => 'UTC',
    'secretsalt' => '@SALT@',
    'auth.adminpassword' => '@ADMIN_PASSWORD@',
    'admin.protectindexpage' => true,
    'admin.protectmetadata' => false,
    'admin.checkforupdates' => false,
    'trusted.url.domains' => [],
    'debug' => ['saml' => false, 'backtraces' => false, 'validatexml' => false],
    'showerrors' => false,
    'errorreporting' => false,
    'logging.level' => SimpleSAML\Logger::WARNING,
    'logging.handler' => 'file',
    'logging.logfile' => 'simplesamlphp.log',
    'statistics.out' => [],
    'enable.saml20-idp' => true,
    'enable.shib13-idp' => false,
    'enable.adfs-idp' => false,
    'module.enable' => [
        'exampleauth' => true,
        'core' => true,
        'saml' => true,
    ],
    // The default store: PHP's own session files, in the scratch directory.
    'store.type' => 'phpsession',
    'session.cookie.secure' => false,
    'session.phpsession.savepath' => '@DIR@/sessions',
    'language.available' => ['en'],
    'language.default' => 'en',
    'production' => true,
];
