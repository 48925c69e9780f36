// The reference deployment the page opens with: one SP behind two apps, chosen by their
// default RelayState, sent the five attributes its setup guide requests from an Okta app.

/** The attribute statements, as the SP's guide lists them: Name, Name Format, Value. */
const REFERENCE_ATTRIBUTES = [
  { name: 'email', name_format: 'unspecified', value: 'user.email' },
  { name: 'first_name', name_format: 'unspecified', value: 'user.firstName' },
  { name: 'last_name', name_format: 'unspecified', value: 'user.lastName' },
  // The login, not the display name.
  { name: 'name', name_format: 'unspecified', value: 'user.login' },
  { name: 'jobTitle', name_format: 'unspecified', value: 'user.title' },
];

function referenceApp(redirectTo) {
  return {
    sp_entity_id: 'https://sp.example.com/saml/metadata',
    acs_urls: ['https://sp.example.com/saml/acs'],
    default_relay_state: JSON.stringify({ redirect_to: redirectTo }),
    sign: 'both',
    signature_algorithm: 'rsa-sha256',
    digest_algorithm: 'sha256',
    name_id: { format: 'emailAddress', value: 'user.email' },
    attributes: structuredClone(REFERENCE_ATTRIBUTES),
  };
}

/** Returns a fresh copy of the reference configuration, without a key. */
export function referenceConfig() {
  return {
    idp: {
      entity_id: 'https://idp.example.com/saml/metadata',
      base_url: 'https://idp.example.com',
      signing_key_pem: '',
      certificate_pem: '',
    },
    apps: {
      amion: referenceApp('https://www.amion.com/organizations'),
      doximity: referenceApp('https://www.doximity.com/dialer/home'),
    },
  };
}

/** Returns a sample profile with every key the reference attributes read. */
export function referenceProfile() {
  return {
    email: 'jane.doe@hospital.example',
    firstName: 'Jane',
    lastName: 'Doe',
    login: 'jdoe',
    title: 'Charge Nurse',
  };
}
