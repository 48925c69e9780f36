// The previewer page. It keeps the configuration, the sample profile and the signing key in
// memory, and calls the WebAssembly core (src/web.rs) for every Response, key and check.
// It makes no network request: the Content-Security-Policy in index.html forbids them.
//
// The SP's private key, which decrypts an encrypted Assertion, is read from its textarea for
// each request and kept nowhere else: not in `state` (so never exported), not in storage, the
// URL or the console.

import { referenceConfig, referenceProfile } from './reference.js';

const PREVIEW_DELAY_MS = 250;

/** The page's whole state but the SP's private key; the form fields are views of it. */
const state = {
  config: referenceConfig(),
  app: 'amion',
  profile: referenceProfile(),
  /** Whether the last inspected Response had an EncryptedAssertion. */
  inspectedEncrypted: false,
};

let core = null;
let previewTimer = null;

const $ = (id) => document.getElementById(id);

async function main() {
  wireConfigure();
  wireUser();
  wireSigningKey();
  wireSpKey();
  wirePreview();
  wireInspect();
  renderAll();

  try {
    core = await loadCore();
  } catch (error) {
    setStatus('load-status', `The WebAssembly module failed to load (${error.message}). Build it with scripts/build-web.`);
    return;
  }
  setStatus('load-status', 'Ready. Everything below runs in this browser.');
  if (!state.config.idp.signing_key_pem) {
    await generateKey();
  } else {
    schedulePreview(0);
  }
}

/**
 * Loads the wasm-bindgen module. The .wasm file is embedded as base64 in a script, because
 * connect-src 'none' also blocks the fetch() that wasm-bindgen's loader would use.
 */
async function loadCore() {
  const bindings = await import('./pkg/edgeidp.js');
  const { WASM_BASE64 } = await import('./pkg/edgeidp_wasm_base64.js');
  await bindings.default({ module_or_path: base64ToBytes(WASM_BASE64) });
  return bindings;
}

function base64ToBytes(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) {
    bytes[i] = binary.charCodeAt(i);
  }
  return bytes;
}

function currentApp() {
  return state.config.apps[state.app];
}

function setStatus(id, text) {
  $(id).textContent = text;
}

function renderAll() {
  renderIdp();
  renderAppSelect();
  renderApp();
  renderProfile();
  renderKey();
  renderSpKeyVisibility();
}

// ---- Configure ----

function wireConfigure() {
  for (const input of document.querySelectorAll('[data-idp]')) {
    input.addEventListener('input', () => {
      state.config.idp[input.dataset.idp] = input.value;
      schedulePreview();
    });
  }
  $('idp-allow-sha1').addEventListener('change', (event) => {
    setOptional(state.config.idp, 'allow_legacy_sha1', event.target.checked || undefined);
    schedulePreview();
  });
  $('app-select').addEventListener('change', (event) => {
    state.app = event.target.value;
    renderApp();
    renderSpKeyVisibility();
    schedulePreview();
  });
  for (const input of document.querySelectorAll('[data-app]')) {
    const eventName = input.tagName === 'SELECT' ? 'change' : 'input';
    input.addEventListener(eventName, () => {
      setOptional(currentApp(), input.dataset.app, input.value === '' ? undefined : input.value);
      if (input.value === 'rsa-sha1' || input.value === 'sha1') {
        allowSha1();
      }
      schedulePreview();
    });
  }
  $('acs-urls').addEventListener('input', (event) => {
    currentApp().acs_urls = event.target.value.split('\n').map((line) => line.trim()).filter(Boolean);
    schedulePreview();
  });
  $('name-id-format').addEventListener('change', updateNameId);
  $('name-id-value').addEventListener('input', updateNameId);
  $('add-attribute').addEventListener('click', addAttribute);
  $('export-config').addEventListener('click', exportConfig);
  $('import-config').addEventListener('change', importConfig);
}

/** Sets `object[key]`, or deletes it when `value` is undefined, so defaults stay implicit. */
function setOptional(object, key, value) {
  if (value === undefined) {
    delete object[key];
  } else {
    object[key] = value;
  }
}

/** Allows SHA-1 in the IdP section, because the configuration rejects SHA-1 algorithms otherwise. */
function allowSha1() {
  state.config.idp.allow_legacy_sha1 = true;
  $('idp-allow-sha1').checked = true;
}

function updateNameId() {
  currentApp().name_id = { format: $('name-id-format').value, value: $('name-id-value').value };
  schedulePreview();
}

function renderIdp() {
  for (const input of document.querySelectorAll('[data-idp]')) {
    input.value = state.config.idp[input.dataset.idp] ?? '';
  }
  $('idp-allow-sha1').checked = Boolean(state.config.idp.allow_legacy_sha1);
}

function renderAppSelect() {
  const select = $('app-select');
  select.replaceChildren(...Object.keys(state.config.apps).map((name) => new Option(name, name)));
  select.value = state.app;
}

function renderApp() {
  const app = currentApp();
  const idp = state.config.idp;
  const defaults = {
    sign: 'both',
    signature_algorithm: idp.signature_algorithm ?? 'rsa-sha256',
    digest_algorithm: idp.digest_algorithm ?? 'sha256',
    missing_value: 'omit',
  };
  for (const input of document.querySelectorAll('[data-app]')) {
    input.value = app[input.dataset.app] ?? defaults[input.dataset.app] ?? '';
  }
  $('acs-urls').value = (app.acs_urls ?? []).join('\n');
  $('name-id-format').value = app.name_id?.format ?? 'emailAddress';
  $('name-id-value').value = app.name_id?.value ?? 'user.email';
  renderAttributes();
}

const NAME_FORMATS = [
  ['unspecified', 'Unspecified'],
  ['basic', 'Basic'],
  ['uri', 'URI Reference'],
];

function renderAttributes() {
  const rows = (currentApp().attributes ?? []).map((attribute, index) => attributeRow(attribute, index));
  $('attribute-table').tBodies[0].replaceChildren(...rows);
}

function attributeRow(attribute, index) {
  const row = document.createElement('tr');
  const number = index + 1;

  const name = textInput(`attribute-${number}-name`, `Attribute ${number} name`, attribute.name);
  name.addEventListener('input', () => updateAttribute(index, 'name', name.value));

  const format = document.createElement('select');
  format.id = `attribute-${number}-format`;
  format.setAttribute('aria-label', `Attribute ${number} name format`);
  format.append(...NAME_FORMATS.map(([value, label]) => new Option(label, value)));
  format.value = attribute.name_format ?? 'unspecified';
  format.addEventListener('change', () => updateAttribute(index, 'name_format', format.value));

  const value = textInput(`attribute-${number}-value`, `Attribute ${number} value`, attribute.value);
  value.addEventListener('input', () => updateAttribute(index, 'value', value.value));

  const remove = document.createElement('button');
  remove.type = 'button';
  remove.textContent = 'Remove';
  remove.setAttribute('aria-label', `Remove attribute ${number}`);
  remove.addEventListener('click', () => removeAttribute(index));

  for (const control of [name, format, value, remove]) {
    const cell = document.createElement('td');
    cell.append(control);
    row.append(cell);
  }
  return row;
}

function textInput(id, label, value) {
  const input = document.createElement('input');
  input.type = 'text';
  input.id = id;
  input.spellcheck = false;
  input.setAttribute('aria-label', label);
  input.value = value ?? '';
  return input;
}

function updateAttribute(index, key, value) {
  currentApp().attributes[index][key] = value;
  schedulePreview();
}

function addAttribute() {
  const app = currentApp();
  app.attributes = app.attributes ?? [];
  app.attributes.push({ name: '', name_format: 'unspecified', value: '' });
  renderAttributes();
  $(`attribute-${app.attributes.length}-name`).focus();
  schedulePreview();
}

function removeAttribute(index) {
  currentApp().attributes.splice(index, 1);
  renderAttributes();
  $('add-attribute').focus();
  schedulePreview();
}

function exportConfig() {
  const config = structuredClone(state.config);
  if (!$('export-include-key').checked) {
    delete config.idp.signing_key_pem;
  }
  const blob = new Blob([JSON.stringify(config, null, 2) + '\n'], { type: 'application/json' });
  const link = document.createElement('a');
  link.href = URL.createObjectURL(blob);
  link.download = 'edgeidp-config.json';
  link.click();
  URL.revokeObjectURL(link.href);
  setStatus('config-status', $('export-include-key').checked
    ? 'Exported edgeidp-config.json with the private key: store it as a secret.'
    : 'Exported edgeidp-config.json without the private key: add idp.signing_key_pem before the filter loads it.');
}

async function importConfig(event) {
  const file = event.target.files[0];
  if (!file) {
    return;
  }
  let config;
  try {
    config = JSON.parse(await file.text());
  } catch (error) {
    setStatus('config-status', `${file.name} is not valid JSON: ${error.message}`);
    return;
  }
  if (typeof config !== 'object' || config === null || typeof config.idp !== 'object' || typeof config.apps !== 'object' || Object.keys(config.apps).length === 0) {
    setStatus('config-status', `${file.name} is not an edgeidp configuration: it needs an "idp" object and at least one app under "apps".`);
    return;
  }
  // A configuration without a key keeps the page's current key, so it can still be previewed.
  config.idp.signing_key_pem = config.idp.signing_key_pem ?? state.config.idp.signing_key_pem;
  config.idp.certificate_pem = config.idp.certificate_pem ?? state.config.idp.certificate_pem;
  state.config = config;
  state.app = Object.keys(config.apps)[0];
  renderAll();
  setStatus('config-status', `Imported ${file.name}.`);
  schedulePreview(0);
}

// ---- User ----

function wireUser() {
  for (const input of document.querySelectorAll('[data-profile]')) {
    input.addEventListener('input', () => {
      // A blank field removes the key, so expressions that read it evaluate to nothing.
      setOptional(state.profile, input.dataset.profile, input.value === '' ? undefined : input.value);
      $('profile-json').value = JSON.stringify(state.profile, null, 2);
      setStatus('profile-status', '');
      schedulePreview();
    });
  }
  $('profile-json').addEventListener('input', (event) => {
    let profile;
    try {
      profile = JSON.parse(event.target.value);
    } catch (error) {
      setStatus('profile-status', `The profile is not valid JSON: ${error.message}`);
      return;
    }
    if (typeof profile !== 'object' || profile === null || Array.isArray(profile)) {
      setStatus('profile-status', 'The profile must be a JSON object such as {"email": "jane@example.com"}.');
      return;
    }
    state.profile = profile;
    setStatus('profile-status', '');
    renderProfileFields();
    schedulePreview();
  });
}

function renderProfile() {
  renderProfileFields();
  $('profile-json').value = JSON.stringify(state.profile, null, 2);
}

function renderProfileFields() {
  for (const input of document.querySelectorAll('[data-profile]')) {
    const value = state.profile[input.dataset.profile];
    input.value = value === undefined || value === null ? '' : String(value);
  }
}

// ---- Signing key ----

function wireSigningKey() {
  $('generate-key').addEventListener('click', generateKey);
  $('private-key').addEventListener('input', (event) => {
    state.config.idp.signing_key_pem = event.target.value;
    schedulePreview();
  });
  $('certificate').addEventListener('input', (event) => {
    state.config.idp.certificate_pem = event.target.value;
    describeCertificate();
    schedulePreview();
  });
}

function renderKey() {
  $('private-key').value = state.config.idp.signing_key_pem ?? '';
  $('certificate').value = state.config.idp.certificate_pem ?? '';
  describeCertificate();
}

async function generateKey() {
  if (!core) {
    return;
  }
  const bits = Number($('key-bits').value);
  const button = $('generate-key');
  button.disabled = true;
  setStatus('key-status', `Generating a ${bits}-bit RSA key in this browser…`);
  // Let the status paint before the generation blocks the page for a few seconds.
  await new Promise((resolve) => setTimeout(resolve, 50));
  try {
    const key = JSON.parse(core.generateKey(JSON.stringify({ bits, now: new Date().toISOString() })));
    state.config.idp.signing_key_pem = key.private_key_pem;
    state.config.idp.certificate_pem = key.certificate_pem;
    renderKey();
    schedulePreview(0);
  } catch (error) {
    setStatus('key-status', error.message);
  } finally {
    button.disabled = false;
  }
}

function describeCertificate() {
  const pem = state.config.idp.certificate_pem ?? '';
  if (!core || pem.trim() === '') {
    setStatus('key-status', pem.trim() === '' ? 'No certificate yet.' : '');
    return;
  }
  try {
    const info = JSON.parse(core.certificateInfo(pem));
    setStatus('key-status', `Certificate: ${info.modulus_bits}-bit RSA key, valid until ${info.not_after}.`);
  } catch (error) {
    setStatus('key-status', error.message);
  }
}

// ---- SP private key ----

function wireSpKey() {
  $('sp-private-key').addEventListener('input', (event) => {
    if (event.target.value.trim() === '') {
      clearInspectDecrypted();
    }
    schedulePreview();
  });
  $('sp-key-clear').addEventListener('click', () => {
    $('sp-private-key').value = '';
    $('sp-private-key').focus();
    clearInspectDecrypted();
    schedulePreview(0);
  });
}

/**
 * Returns the SP's private key as the request field `sp_private_key_pem`, or an empty object
 * when the field is blank, so that no request carries the key without need.
 */
function spKeyField() {
  const pem = $('sp-private-key').value;
  return pem.trim() === '' ? {} : { sp_private_key_pem: pem };
}

function appEncrypts() {
  return Boolean(currentApp().encryption);
}

function renderSpKeyVisibility() {
  $('sp-key').hidden = !(appEncrypts() || state.inspectedEncrypted);
}

/** Describes the outcome of decrypting the previewed Assertion next to the key field. */
function renderSpKeyStatus(preview) {
  const status = $('sp-key-status');
  const failure = preview?.warnings.find((warning) => warning.code === 'decryption');
  status.classList.toggle('error', Boolean(failure));
  if (failure) {
    status.textContent = `${failure.field}: ${failure.message}`;
  } else if (preview?.decrypted) {
    status.textContent = `Decrypted the Assertion (${preview.decrypted.content_algorithm}) with this key.`;
  } else if (appEncrypts()) {
    status.textContent = $('sp-private-key').value.trim() === ''
      ? 'No key: the preview shows the values built before encryption.'
      : '';
  } else {
    status.textContent = '';
  }
}

// ---- Preview ----

function wirePreview() {
  $('preview-time').addEventListener('input', () => schedulePreview());
  $('preview-seed').addEventListener('input', () => schedulePreview());
  $('requested-format').addEventListener('change', () => schedulePreview());
  $('refresh-preview').addEventListener('click', () => schedulePreview(0));
}

/**
 * Runs the preview after `delay` ms, once for a burst of edits. `#preview[data-state]` is
 * `pending` until then, and `data-generation` counts finished previews, so tests can wait.
 */
function schedulePreview(delay = PREVIEW_DELAY_MS) {
  clearTimeout(previewTimer);
  $('preview').dataset.state = 'pending';
  previewTimer = setTimeout(runPreview, delay);
}

function runPreview() {
  if (!core) {
    return;
  }
  const section = $('preview');
  const request = {
    config: state.config,
    app: state.app,
    profile: state.profile,
    now: $('preview-time').value.trim() || new Date().toISOString(),
    seed: $('preview-seed').value.trim() || null,
    requested_name_id_format: $('requested-format').value || null,
    ...(appEncrypts() ? spKeyField() : {}),
  };
  try {
    const preview = JSON.parse(core.preview(JSON.stringify(request)));
    renderPreview(preview);
    setStatus('preview-error', '');
    section.dataset.state = 'ready';
  } catch (error) {
    clearPreview();
    renderSpKeyStatus(null);
    setStatus('preview-error', error.message);
    section.dataset.state = 'error';
  }
  section.dataset.generation = String(Number(section.dataset.generation ?? 0) + 1);
}

function renderPreview(preview) {
  renderWarnings(preview.warnings);
  renderSizes(preview.sizes);
  const nameId = preview.name_id;
  $('sp-name-id').textContent = nameId ? `NameID: ${nameId.value} (${nameId.format})` : 'No NameID.';
  renderAttributeRows('sp-attributes', preview.attributes);
  $('response-xml').textContent = preview.xml;
  $('response-readable').textContent = preview.readable_xml;
  $('response-base64').textContent = preview.base64;
  $('post-form').textContent = preview.post_form_html;
  $('post-form-csp').textContent = `Served with Content-Security-Policy: ${preview.post_form_csp}`;
  renderDecrypted(preview.decrypted);
  renderSpKeyStatus(preview);
}

/** Shows the Assertion decrypted with the SP's private key, or hides the view when there is none. */
function renderDecrypted(decrypted) {
  $('decrypted').hidden = !decrypted;
  if (!decrypted) {
    clearDecrypted();
    return;
  }
  const verdict = $('decrypted-verdict');
  verdict.textContent = decrypted.verdict;
  verdict.classList.toggle('error', !decrypted.content_verified);
  verdict.dataset.verified = String(decrypted.content_verified);
  const entries = [
    ['Assertion signature', decrypted.assertion_signature],
    ['Response signature', decrypted.response_signature],
    ['Content encryption', decrypted.content_algorithm],
  ];
  renderDefinitions('decrypted-signatures', entries);
  $('decrypted-assertion').textContent = decrypted.readable_assertion;
  $('decrypted-name-id-view').hidden = !decrypted.readable_name_id;
  $('decrypted-name-id').textContent = decrypted.readable_name_id ?? '';
}

function clearDecrypted() {
  for (const id of ['decrypted-verdict', 'decrypted-signatures', 'decrypted-assertion', 'decrypted-name-id']) {
    $(id).replaceChildren();
  }
}

function clearPreview() {
  for (const id of ['warnings', 'sizes', 'sp-name-id', 'response-xml', 'response-readable', 'response-base64', 'post-form', 'post-form-csp']) {
    $(id).replaceChildren();
  }
  $('sp-attributes').tBodies[0].replaceChildren();
  $('decrypted').hidden = true;
  clearDecrypted();
}

function renderWarnings(warnings) {
  const items = warnings.map((warning) => {
    const item = document.createElement('li');
    item.dataset.code = warning.code;
    const field = document.createElement('strong');
    field.textContent = warning.field;
    item.append(field, `: ${warning.message}`);
    return item;
  });
  if (items.length === 0) {
    const none = document.createElement('li');
    none.textContent = 'No warnings.';
    items.push(none);
  }
  $('warnings').replaceChildren(...items);
}

function renderSizes(sizes) {
  const entries = [
    ['Response XML', sizes.xml],
    ['SAMLResponse (base64)', sizes.base64],
    ['Auto-submit form', sizes.post_form],
    ['RelayState', sizes.relay_state],
  ];
  const nodes = entries.flatMap(([label, bytes]) => {
    const term = document.createElement('dt');
    term.textContent = label;
    const value = document.createElement('dd');
    value.textContent = `${bytes} bytes`;
    return [term, value];
  });
  $('sizes').replaceChildren(...nodes);
}

/** Fills the description list `listId` with one term and description per `[label, text]` entry. */
function renderDefinitions(listId, entries) {
  $(listId).replaceChildren(...entries.flatMap(([label, text]) => {
    const term = document.createElement('dt');
    term.textContent = label;
    const value = document.createElement('dd');
    value.textContent = text;
    return [term, value];
  }));
}

/** Fills the table `tableId` with one row per attribute: name, NameFormat and values. */
function renderAttributeRows(tableId, attributes) {
  const rows = attributes.map((attribute) => {
    const row = document.createElement('tr');
    for (const text of [attribute.name, attribute.name_format ?? '(none)', attribute.values.join(', ')]) {
      const cell = document.createElement('td');
      cell.textContent = text;
      row.append(cell);
    }
    return row;
  });
  $(tableId).tBodies[0].replaceChildren(...rows);
}

// ---- Inspect ----

function wireInspect() {
  $('inspect-use-certificate').addEventListener('click', () => {
    $('inspect-certificate').value = state.config.idp.certificate_pem ?? '';
  });
  $('inspect-run').addEventListener('click', runInspect);
}

/** Inspects the pasted message; `#inspect[data-generation]` counts finished runs for tests. */
function runInspect() {
  if (!core) {
    return;
  }
  clearInspection();
  const request = {
    message: $('inspect-input').value,
    certificate_pem: $('inspect-certificate').value.trim() || null,
    now: new Date().toISOString(),
    config: state.config,
    app: state.app,
    ...spKeyField(),
  };
  try {
    const inspection = JSON.parse(core.inspect(JSON.stringify(request)));
    renderInspection(inspection);
    useRequestedFormat(inspection.requested_name_id_format);
  } catch (error) {
    setStatus('inspect-error', error.message);
  }
  const section = $('inspect');
  section.dataset.generation = String(Number(section.dataset.generation) + 1);
}

function clearInspection() {
  for (const id of ['inspect-error', 'inspect-summary', 'inspect-checks', 'inspect-fields', 'inspect-unverified', 'inspect-readable']) {
    $(id).replaceChildren();
  }
  $('inspect-attributes').tBodies[0].replaceChildren();
  clearInspectDecrypted();
}

/** Removes the Assertion that Inspect decrypted, as when the SP private key is cleared. */
function clearInspectDecrypted() {
  $('inspect-decrypted').replaceChildren();
  $('inspect-decrypted-view').hidden = true;
}

function renderInspection(inspection) {
  $('inspect-summary').textContent = inspection.headline;
  $('inspect-checks').replaceChildren(...inspection.checks.map((check) => {
    const item = document.createElement('li');
    item.className = check.passed ? 'passed' : 'failed';
    item.textContent = `${check.name}: ${check.passed ? 'passed' : 'failed'}: ${check.detail}`;
    return item;
  }));
  renderDefinitions('inspect-fields', inspection.fields.map((field) => [field.label, field.value]));
  renderAttributeRows('inspect-attributes', inspection.attributes);
  if (inspection.kind === 'response' && !inspection.content_verified) {
    setStatus('inspect-unverified', 'No valid signature covers these fields and attributes: an SP must not trust them.');
  }
  $('inspect-readable').textContent = inspection.readable_xml;
  if (inspection.decrypted) {
    $('inspect-decrypted').textContent = inspection.decrypted.readable_assertion;
    $('inspect-decrypted-view').hidden = false;
  }
  // An encrypted Response shows the SP private key field, so that it can be decrypted.
  state.inspectedEncrypted = inspection.encrypted;
  renderSpKeyVisibility();
}

/**
 * Copies an AuthnRequest's NameIDPolicy Format into the preview's "NameID format the SP
 * requests", so the preview warns when the app sends another one.
 */
function useRequestedFormat(uri) {
  const name = uri?.split(':').pop();
  const select = $('requested-format');
  if (name && Array.from(select.options).some((option) => option.value === name)) {
    select.value = name;
    schedulePreview(0);
  }
}

main();
