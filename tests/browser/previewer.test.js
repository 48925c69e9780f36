// The assertion previewer in a real browser: Debian's Chromium, driven by playwright-core,
// against www/ served on loopback. Every test saves a screenshot under test-output/browser/.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { deflateRawSync } from 'node:zlib';

import { referenceConfig } from '../../www/reference.js';
import {
  FIXED_TIME,
  REPO,
  SEED,
  afterPreview,
  loadPage,
  openBrowser,
  runCli,
  screenshot,
  spAttributes,
  temporaryDirectory,
  writeJson,
} from './helpers.js';

const REFERENCE_ATTRIBUTE_NAMES = ['email', 'first_name', 'last_name', 'name', 'jobTitle'];

/**
 * Runs `body` with a freshly loaded page and an empty temporary `directory`, then saves a
 * screenshot named `name`.
 */
async function withPage(name, body) {
  const browser = await openBrowser();
  const directory = temporaryDirectory();
  try {
    await loadPage(browser.page);
    await body({ ...browser, directory: directory.path });
    assert.deepEqual(browser.errors, [], 'the page threw uncaught errors');
  } finally {
    await screenshot(browser.page, name).catch(() => {});
    await browser.close();
    directory.remove();
  }
}

/** Generates a key pair with the command line and returns both PEMs. */
async function cliKeyPair(directory) {
  const keyPath = join(directory, 'key.pem');
  const certificatePath = join(directory, 'certificate.pem');
  await runCli(['keygen', '--key-out', keyPath, '--cert-out', certificatePath, '--common-name', 'browser test']);
  return { key: readFileSync(keyPath, 'utf8'), certificate: readFileSync(certificatePath, 'utf8') };
}

/** Writes the reference configuration with a CLI-generated key, for the page and the CLI. */
async function referenceConfigFile(directory) {
  const { key, certificate } = await cliKeyPair(directory);
  const config = referenceConfig();
  config.idp.signing_key_pem = key;
  config.idp.certificate_pem = certificate;
  return writeJson(directory, 'config.json', config);
}

/** Clicks Export, saves the download in `directory` and returns its path and parsed JSON. */
async function exportConfig(page, directory) {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-config')]);
  const path = join(directory, 'exported.json');
  await download.saveAs(path);
  return { path, exported: JSON.parse(readFileSync(path, 'utf8')) };
}

/** Pins the page's clock and seed so its output is reproducible. */
async function pinTimeAndSeed(page, time = FIXED_TIME, seed = SEED) {
  await page.fill('#preview-time', time);
  await afterPreview(page, () => page.fill('#preview-seed', seed));
}

test('default preview shows the five attributes', async () => {
  await withPage('default-preview', async ({ page }) => {
    const rows = await spAttributes(page);
    assert.deepEqual(rows.map(([name]) => name), REFERENCE_ATTRIBUTE_NAMES);
    assert.deepEqual(rows.map(([, , values]) => values), ['jane.doe@hospital.example', 'Jane', 'Doe', 'jdoe', 'Charge Nurse']);
    assert.match(await page.textContent('#sp-name-id'), /NameID: jane\.doe@hospital\.example \(urn:oasis:names:tc:SAML:1\.1:nameid-format:emailAddress\)/);
    assert.equal(await page.textContent('#warnings'), 'No warnings.');
    assert.match(await page.textContent('#post-form'), /name="RelayState" value="\{&quot;redirect_to&quot;:&quot;https:\/\/www\.amion\.com\/organizations&quot;\}"/);
  });
});

test('other app posts its own RelayState', async () => {
  await withPage('doximity-relay-state', async ({ page }) => {
    await afterPreview(page, () => page.selectOption('#app-select', 'doximity'));
    assert.equal(await page.inputValue('#relay-state'), '{"redirect_to":"https://www.doximity.com/dialer/home"}');
    assert.match(await page.textContent('#post-form'), /www\.doximity\.com\/dialer\/home/);
  });
});

test('editing a value expression changes the preview', async () => {
  await withPage('edit-expression', async ({ page }) => {
    const before = await page.textContent('#response-xml');
    const state = await afterPreview(page, () => page.fill('#attribute-5-value', 'user.login'));
    assert.equal(state, 'ready');
    const jobTitle = (await spAttributes(page)).find(([name]) => name === 'jobTitle');
    assert.equal(jobTitle[2], 'jdoe', 'jobTitle should now carry the login');
    const after = await page.textContent('#response-xml');
    assert.notEqual(after, before);
    assert.match(after, /<saml:Attribute Name="jobTitle"[^>]*><saml:AttributeValue[^>]*>jdoe<\/saml:AttributeValue>/);
  });
});

test('expression that evaluates to nothing warns', async () => {
  await withPage('empty-expression', async ({ page }) => {
    await afterPreview(page, () => page.fill('#attribute-5-value', 'user.costCenter'));
    const warning = await page.textContent('#warnings li[data-code="attribute_empty"]');
    assert.match(warning, /"jobTitle" is left out: its expression "user\.costCenter" evaluated to nothing/);
    const names = (await spAttributes(page)).map(([name]) => name);
    assert.ok(!names.includes('jobTitle'), 'the empty attribute must be left out');
  });
});

test('relay state over 80 bytes warns', async () => {
  await withPage('relay-state-warning', async ({ page }) => {
    const long = JSON.stringify({ redirect_to: 'https://www.amion.com/organizations/' + 'a'.repeat(60) });
    await afterPreview(page, () => page.fill('#relay-state', long));
    const warning = await page.textContent('#warnings li[data-code="relay_state_length"]');
    assert.match(warning, new RegExp(`RelayState is ${long.length} bytes, over the 80 bytes`));
    assert.match(await page.textContent('#sizes'), new RegExp(`RelayState${long.length} bytes`));
  });
});

test('sha1 selection warns', async () => {
  await withPage('sha1-warning', async ({ page }) => {
    await afterPreview(page, () => page.selectOption('#signature-algorithm', 'rsa-sha1'));
    assert.ok(await page.isChecked('#idp-allow-sha1'), 'choosing SHA-1 must allow it');
    assert.match(await page.textContent('#warnings li[data-code="sha1"]'), /SHA-1 is selected/);
    assert.match(await page.textContent('#response-xml'), /xmldsig#rsa-sha1/);
  });
});

test('requested name id format mismatch warns', async () => {
  await withPage('name-id-format-warning', async ({ page }) => {
    await afterPreview(page, () => page.selectOption('#requested-format', 'persistent'));
    assert.match(await page.textContent('#warnings li[data-code="name_id_format"]'), /requests NameID format urn:oasis:names:tc:SAML:2\.0:nameid-format:persistent/);
  });
});

test('invalid configuration shows the field', async () => {
  await withPage('invalid-config', async ({ page }) => {
    const state = await afterPreview(page, () => page.fill('#acs-urls', 'ftp://sp.example.com/acs'));
    assert.equal(state, 'error');
    assert.match(await page.textContent('#preview-error'), /apps\.amion\.acs_urls\[0\]: invalid value "ftp:\/\/sp\.example\.com\/acs"/);
  });
});

test('exported configuration loads in the filter parser', async () => {
  await withPage('export-config', async ({ page, directory }) => {
    await page.check('#export-include-key');
    const { path, exported } = await exportConfig(page, directory);
    assert.deepEqual(Object.keys(exported.apps), ['amion', 'doximity']);
    assert.equal(exported.apps.doximity.default_relay_state, '{"redirect_to":"https://www.doximity.com/dialer/home"}');
    // The command line loads configurations with the filter's parser (Config::from_json).
    const metadata = await runCli(['metadata', '--config', path]);
    assert.match(metadata, /entityID="https:\/\/idp\.example\.com\/saml\/metadata"/);
  });
});

test('export leaves the private key out by default', async () => {
  await withPage('export-without-key', async ({ page, directory }) => {
    const { exported } = await exportConfig(page, directory);
    assert.equal(exported.idp.signing_key_pem, undefined);
    assert.match(exported.idp.certificate_pem, /BEGIN CERTIFICATE/);
    assert.match(await page.textContent('#config-status'), /without the private key/);
  });
});

/**
 * Imports the reference configuration (with a CLI-generated key) into the page, pins its time
 * and seed, and returns the page's signed Response with the `sign` arguments that must give
 * the same bytes.
 */
async function previewForParity(page, directory) {
  const configPath = await referenceConfigFile(directory);
  const profile = JSON.parse(await page.inputValue('#profile-json'));
  const profilePath = writeJson(directory, 'profile.json', profile);

  await afterPreview(page, () => page.setInputFiles('#import-config', configPath));
  assert.match(await page.textContent('#config-status'), /Imported config\.json/);
  await pinTimeAndSeed(page);
  return {
    xml: await page.textContent('#response-xml'),
    base64: await page.textContent('#response-base64'),
    signArgs: ['--config', configPath, '--app', 'amion', '--user', profilePath, '--now', FIXED_TIME, '--seed', SEED],
  };
}

test('previewer output equals the command line', async () => {
  await withPage('byte-parity', async ({ page, directory }) => {
    const previewed = await previewForParity(page, directory);

    const signed = await runCli(['sign', ...previewed.signArgs]);
    assert.equal(previewed.xml, signed.trimEnd(), 'the previewer and `edgeidp sign` must sign the same bytes');

    const base64 = await runCli(['sign', ...previewed.signArgs, '--base64']);
    assert.equal(previewed.base64, base64.trimEnd());
  });
});

/** The inputs of the golden Response that the filter (through a wasmtime host) and the CLI sign. */
const GOLDEN = {
  config: join(REPO, 'tests', 'fixtures', 'parity', 'reference-config.json'),
  profile: join(REPO, 'tests', 'fixtures', 'parity', 'reference-profile.json'),
  time: '2026-12-04T12:00:00Z',
  seed: '07'.repeat(32),
  response: join(REPO, 'tests', 'golden', 'reference_amion_idp_initiated.xml'),
};

test('previewer output equals the golden file', async () => {
  await withPage('byte-parity-golden', async ({ page }) => {
    await afterPreview(page, () => page.setInputFiles('#import-config', GOLDEN.config));
    assert.match(await page.textContent('#config-status'), /Imported reference-config\.json/);
    assert.equal(await page.inputValue('#app-select'), 'amion');
    await afterPreview(page, () => page.fill('#profile-json', readFileSync(GOLDEN.profile, 'utf8')));
    await pinTimeAndSeed(page, GOLDEN.time, GOLDEN.seed);
    assert.equal(await page.getAttribute('#preview', 'data-state'), 'ready', await page.textContent('#preview-error'));

    const golden = readFileSync(GOLDEN.response, 'utf8');
    const expected = golden.endsWith('\n') ? golden.slice(0, -1) : golden;
    assert.equal(await page.textContent('#response-xml'), expected, 'the previewer must sign the bytes of tests/golden/reference_amion_idp_initiated.xml');
    assert.equal(await page.textContent('#response-base64'), Buffer.from(expected, 'utf8').toString('base64'));
  });
});

/** Pastes `message` and `certificate` into Inspect, runs it, and returns the headline. */
async function inspectMessage(page, message, certificate) {
  await page.fill('#inspect-input', message);
  await page.fill('#inspect-certificate', certificate);
  const generation = Number(await page.getAttribute('#inspect', 'data-generation'));
  await page.click('#inspect-run');
  await page.waitForFunction((after) => Number(document.getElementById('inspect').dataset.generation) > after, generation);
  return page.textContent('#inspect-summary');
}

/** Signs a Response for the reference amion app with the command line, at the current time. */
async function cliResponse(page, directory, extraArgs = []) {
  const configPath = await referenceConfigFile(directory);
  const profilePath = writeJson(directory, 'profile.json', JSON.parse(await page.inputValue('#profile-json')));
  const certificate = JSON.parse(readFileSync(configPath, 'utf8')).idp.certificate_pem;
  const response = await runCli(['sign', '--config', configPath, '--app', 'amion', '--user', profilePath, ...extraArgs]);
  return { response: response.trimEnd(), certificate };
}

test('command line response inspects as signature valid', async () => {
  await withPage('inspect-valid', async ({ page, directory }) => {
    const { response, certificate } = await cliResponse(page, directory, ['--base64']);
    const headline = await inspectMessage(page, response, certificate);
    assert.match(headline, /^Response: signature valid \(rsa-sha256 with sha256 digest\)$/);
    assert.deepEqual(await page.$$eval('#inspect-checks li.failed', (items) => items.map((item) => item.textContent)), []);
    const checks = await page.$$eval('#inspect-checks li', (items) => items.map((item) => item.textContent.split(':')[0]));
    assert.deepEqual(checks, ['signature', 'status', 'not before', 'not on or after', 'audience', 'recipient', 'destination']);
    const names = await page.$$eval('#inspect-attributes tbody tr', (rows) => rows.map((row) => row.cells[0].textContent));
    assert.deepEqual(names, REFERENCE_ATTRIBUTE_NAMES);
    assert.equal(await page.textContent('#inspect-unverified'), '');
  });
});

test('one changed character inspects as invalid', async () => {
  await withPage('inspect-invalid', async ({ page, directory }) => {
    const { response, certificate } = await cliResponse(page, directory);
    const changed = response.replace('>Charge Nurse<', '>Charge Nursf<');
    assert.notEqual(changed, response, 'the test must change one character');
    const headline = await inspectMessage(page, changed, certificate);
    assert.match(headline, /^Response: signature invalid: the digest of the element with ID "_[0-9a-f]+" does not match: its content was changed$/);
    const failed = await page.$$eval('#inspect-checks li.failed', (items) => items.map((item) => item.textContent));
    assert.equal(failed.length, 1);
    assert.match(failed[0], /^signature: failed: no verified signature covers the Assertion/);
    assert.match(await page.textContent('#inspect-unverified'), /an SP must not trust them/);
  });
});

test('authn request url sets the requested format', async () => {
  await withPage('inspect-authn-request', async ({ page }) => {
    const request = '<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
      + 'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_browser1" Version="2.0" '
      + `IssueInstant="${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}" `
      + 'AssertionConsumerServiceURL="https://sp.example.com/saml/acs">'
      + '<saml:Issuer>https://sp.example.com/saml/metadata</saml:Issuer>'
      + '<samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"/></samlp:AuthnRequest>';
    const value = encodeURIComponent(deflateRawSync(request).toString('base64'));
    const url = `https://idp.example.com/saml/amion/sso?SAMLRequest=${value}&RelayState=xyz`;

    const previewState = await afterPreview(page, () => inspectMessage(page, url, ''));
    assert.equal(previewState, 'ready', 'the requested format must refresh the preview');
    assert.match(await page.textContent('#inspect-summary'), /^AuthnRequest: rejected: NameIDPolicy Format "urn:oasis:names:tc:SAML:2\.0:nameid-format:persistent" is not supported/);
    assert.match(await page.textContent('#inspect-fields'), /RelayStatexyz/);
    assert.equal(await page.inputValue('#requested-format'), 'persistent');
    assert.match(await page.textContent('#warnings li[data-code="name_id_format"]'), /requests NameID format/);
  });
});

test('page makes no network request after load', async () => {
  const browser = await openBrowser();
  try {
    const { page, context, requests } = browser;
    await loadPage(page);
    const atLoad = requests.length;

    // Work offline through every section that computes something.
    await context.setOffline(true);
    await afterPreview(page, () => page.click('#generate-key'));
    await afterPreview(page, () => page.fill('#attribute-1-value', 'user.login'));
    await afterPreview(page, () => page.fill('#profile-email', 'offline@hospital.example'));
    await Promise.all([page.waitForEvent('download'), page.click('#export-config')]);
    assert.equal(await page.getAttribute('#preview', 'data-state'), 'ready', 'the page must work offline');

    // The Content-Security-Policy blocks any attempt, even to the page's own origin.
    await context.setOffline(false);
    const attempt = await page.evaluate(() => fetch(location.href).then(() => 'sent', () => 'blocked'));
    assert.equal(attempt, 'blocked', 'connect-src must block fetch()');

    const network = requests.slice(atLoad).filter((url) => !url.startsWith('blob:') && !url.startsWith('data:'));
    assert.deepEqual(network, [], 'requests after load');
    assert.deepEqual(browser.errors, []);
  } finally {
    await screenshot(browser.page, 'no-network').catch(() => {});
    await browser.close();
  }
});

test('every control has a label', async () => {
  await withPage('labelled-controls', async ({ page }) => {
    const unlabelled = await page.$$eval('input, select, textarea, button, pre[tabindex]', (controls) =>
      controls
        .filter((control) => {
          const labelled = control.labels?.length > 0 || control.getAttribute('aria-label') || control.getAttribute('aria-labelledby');
          const named = control.tagName === 'BUTTON' && control.textContent.trim() !== '';
          return !labelled && !named;
        })
        .map((control) => control.outerHTML.slice(0, 80)),
    );
    assert.deepEqual(unlabelled, []);
  });
});

test('keyboard alone edits an attribute', async () => {
  await withPage('keyboard-edit', async ({ page }) => {
    let focused = '';
    for (let presses = 0; presses < 200 && focused !== 'attribute-5-value'; presses++) {
      await page.keyboard.press('Tab');
      focused = await page.evaluate(() => document.activeElement?.id ?? '');
    }
    assert.equal(focused, 'attribute-5-value', 'Tab must reach the last attribute value');
    await afterPreview(page, async () => {
      await page.keyboard.press('Control+A');
      await page.keyboard.type('user.email');
    });
    const jobTitle = (await spAttributes(page)).find(([name]) => name === 'jobTitle');
    assert.equal(jobTitle[2], 'jane.doe@hospital.example');
  });
});

// ---- Encrypted Assertions and the SP's private key ----

const KEYS = join(REPO, 'tests', 'fixtures', 'keys');
/** The SP's encryption key pair, also used by the Rust encryption tests. */
const SP_KEY = readFileSync(join(KEYS, 'sp.key.pem'), 'utf8');
const SP_CERTIFICATE = readFileSync(join(KEYS, 'sp.cert.pem'), 'utf8');
/** An RSA key that is not the SP's. */
const OTHER_KEY = readFileSync(join(KEYS, 'next.key.pem'), 'utf8');

/**
 * Imports the reference configuration with `apps.amion` encrypting to the SP fixture
 * certificate. It carries no signing key, so the page keeps the one it generated.
 */
async function importEncryptingConfig(page, directory) {
  const config = referenceConfig();
  delete config.idp.signing_key_pem;
  delete config.idp.certificate_pem;
  config.apps.amion.encryption = { certificate_pem: SP_CERTIFICATE };
  const path = writeJson(directory, 'encrypting-config.json', config);
  const state = await afterPreview(page, () => page.setInputFiles('#import-config', path));
  assert.equal(state, 'ready', await page.textContent('#preview-error'));
}

/** Returns the base64 lines of a PEM key, any of which betrays the key wherever it appears. */
function keyLines(pem) {
  return pem.split('\n').filter((line) => line !== '' && !line.startsWith('-----'));
}

/** Returns the places among `places` ({ name: text }) that contain a line of `pem`. */
function placesContainingKey(places, pem) {
  const lines = keyLines(pem).flatMap((line) => [line, encodeURIComponent(line)]);
  return Object.entries(places)
    .filter(([, text]) => lines.some((line) => text.includes(line)))
    .map(([name]) => name);
}

test('sp key decrypts the encrypted assertion', async () => {
  await withPage('decrypt-assertion', async ({ page, directory }) => {
    assert.ok(!(await page.isVisible('#sp-private-key')), 'an app that does not encrypt hides the SP key field');
    await importEncryptingConfig(page, directory);
    assert.ok(await page.isVisible('#sp-private-key'), 'an encrypting app shows the SP key field');
    assert.match(await page.innerText('#sp-key-note'), /never sent over the network, never stored \(not in localStorage, sessionStorage, cookies or the URL\)/);
    assert.match(await page.textContent('#response-xml'), /<saml:EncryptedAssertion[ >]/);
    assert.match(await page.textContent('#warnings li[data-code="encrypted"]'), /built before encryption/);
    assert.ok(!(await page.isVisible('#decrypted')), 'nothing is decrypted before the key is pasted');

    const state = await afterPreview(page, () => page.fill('#sp-private-key', SP_KEY));
    assert.equal(state, 'ready', await page.textContent('#preview-error'));
    assert.ok(await page.isVisible('#decrypted'), 'the decrypted Assertion is shown');
    const assertion = await page.textContent('#decrypted-assertion');
    assert.match(assertion, /^<saml:Assertion /);
    assert.match(assertion, />jane\.doe@hospital\.example<\/saml:NameID>/);
    assert.match(assertion, /<saml:Attribute Name="jobTitle"[^>]*>\s*<saml:AttributeValue[^>]*>Charge Nurse<\/saml:AttributeValue>/);
    const rows = await spAttributes(page);
    assert.deepEqual(rows.map(([name]) => name), REFERENCE_ATTRIBUTE_NAMES);
    assert.deepEqual(rows.map(([, , values]) => values), ['jane.doe@hospital.example', 'Jane', 'Doe', 'jdoe', 'Charge Nurse']);
    assert.match(await page.textContent('#sp-name-id'), /NameID: jane\.doe@hospital\.example /);

    assert.match(await page.textContent('#decrypted-verdict'), /^Signature check passed: a signature that verifies with the IdP certificate covers the decrypted Assertion$/);
    assert.equal(await page.getAttribute('#decrypted-verdict', 'data-verified'), 'true');
    assert.match(await page.textContent('#decrypted-signatures'), /Assertion signaturevalid \(rsa-sha256 with sha256 digest\)/);
    assert.match(await page.textContent('#warnings li[data-code="encrypted"]'), /read back after decrypting it with sp_private_key_pem/);
    assert.match(await page.textContent('#sp-key-status'), /^Decrypted the Assertion \(aes256-gcm\) with this key\.$/);
  });
});

test('wrong sp key shows the error', async () => {
  await withPage('decrypt-wrong-key', async ({ page, directory }) => {
    await importEncryptingConfig(page, directory);
    const state = await afterPreview(page, () => page.fill('#sp-private-key', OTHER_KEY));
    assert.equal(state, 'ready', 'a wrong key still previews the encrypted Response');

    const status = await page.textContent('#sp-key-status');
    assert.match(status, /^sp_private_key_pem: the private key does not belong to apps\.amion\.encryption\.certificate_pem/);
    assert.ok(await page.$eval('#sp-key-status', (element) => element.classList.contains('error')), 'the status is shown as an error');
    assert.match(await page.textContent('#warnings li[data-code="decryption"]'), /^sp_private_key_pem: the private key does not belong/);
    assert.ok(!(await page.isVisible('#decrypted')), 'nothing is decrypted with a wrong key');
    const pageText = await page.evaluate(() => document.body.innerText);
    assert.deepEqual(placesContainingKey({ page: pageText }, OTHER_KEY), [], 'the error must not echo the key');
  });
});

test('sp key never leaves the page', async () => {
  await withPage('decrypt-key-stays', async ({ page, directory, requestDetails, consoleMessages }) => {
    await importEncryptingConfig(page, directory);
    await afterPreview(page, () => page.fill('#sp-private-key', SP_KEY));

    // Inspect decrypts the previewed Response with the same key.
    const response = await page.textContent('#response-base64');
    const headline = await inspectMessage(page, response, await page.inputValue('#certificate'));
    assert.match(headline, /^Response: signature valid/);
    assert.match(await page.textContent('#inspect-checks li.passed:has-text("decryption")'), /decrypted with sp_private_key_pem \(aes256-gcm\)/);
    assert.match(await page.textContent('#inspect-decrypted'), />jane\.doe@hospital\.example<\/saml:NameID>/);
    const { path } = await exportConfig(page, directory);

    const stored = await page.evaluate(() => ({
      localStorage: JSON.stringify({ ...localStorage }),
      sessionStorage: JSON.stringify({ ...sessionStorage }),
      cookies: document.cookie,
      url: location.href,
    }));
    const requests = requestDetails.map((request, index) => [`request ${index} (${request.url})`, JSON.stringify(request)]);
    const places = {
      ...stored,
      ...Object.fromEntries(requests),
      console: consoleMessages.join('\n'),
      export: readFileSync(path, 'utf8'),
    };
    assert.deepEqual(placesContainingKey(places, SP_KEY), [], 'the SP key must stay in the page');
    assert.ok(requestDetails.length > 0, 'the page load itself must be recorded');

    // Clearing the field removes the key and what was decrypted with it.
    await afterPreview(page, () => page.click('#sp-key-clear'));
    assert.equal(await page.inputValue('#sp-private-key'), '');
    assert.ok(!(await page.isVisible('#decrypted')), 'the decrypted Assertion is gone');
    assert.equal(await page.textContent('#inspect-decrypted'), '', 'the Assertion Inspect decrypted is gone');
    assert.match(await page.textContent('#sp-key-status'), /^No key: the preview shows the values built before encryption\.$/);
  });
});
