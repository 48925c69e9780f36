//! The edgeidp command line: keys, metadata and signed Responses from the same core the
//! Envoy filter runs.

#[path = "edgeidp/dev_jwt.rs"]
mod dev_jwt;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use edgeidp::config::Config;
use edgeidp::platform::{FixedPlatform, HostPlatform, Platform, SystemPlatform};
use edgeidp::saml::expression::Profile;
use edgeidp::saml::{encryption, inspect, keys, metadata, response};
use edgeidp::scim::{self, ScimGate};

#[derive(Parser)]
#[command(name = "edgeidp", version, about = "SAML IdP and SCIM gate for Envoy: offline tools")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate an RSA signing key (PKCS#8 PEM) and a self-signed certificate (PEM).
    Keygen {
        /// Output path of the private key, created with mode 0600.
        #[arg(long, value_name = "FILE")]
        key_out: PathBuf,
        /// Output path of the certificate.
        #[arg(long, value_name = "FILE")]
        cert_out: PathBuf,
        /// RSA modulus size in bits, 2048 to 4096.
        #[arg(long, default_value_t = 2048)]
        bits: usize,
        /// The certificate's subject common name.
        #[arg(long, default_value = "edgeidp signing")]
        common_name: String,
        /// Certificate validity in days from now.
        #[arg(long, default_value_t = 730)]
        days: u32,
        /// Replace existing key and certificate files.
        #[arg(long)]
        force: bool,
    },
    /// Print the IdP metadata for a configuration.
    Metadata {
        /// The filter's JSON configuration.
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// Print only this app's SSO endpoints.
        #[arg(long, value_name = "NAME")]
        app: Option<String>,
        /// Generation time (RFC 3339) for validUntil; default now.
        #[arg(long, value_name = "RFC3339")]
        now: Option<String>,
    },
    /// Build and sign a Response for a user profile and print its XML.
    Sign {
        /// The filter's JSON configuration.
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// The app (a key under `apps`).
        #[arg(long, value_name = "NAME")]
        app: String,
        /// The user profile: a JSON object such as {"email": "…", "firstName": "…"}.
        #[arg(long, value_name = "PROFILE.json")]
        user: PathBuf,
        /// The ID of the AuthnRequest this Response replies to. Omit it for an IdP-initiated Response.
        #[arg(long, value_name = "ID")]
        in_response_to: Option<String>,
        /// The ACS URL; default the app's default_acs_url.
        #[arg(long, value_name = "URL")]
        acs_url: Option<String>,
        /// Pin the clock (RFC 3339, such as 2026-01-02T03:04:05Z); default now.
        #[arg(long, value_name = "RFC3339")]
        now: Option<String>,
        /// Seed the random source with 64 hex digits for reproducible IDs (testing only).
        #[arg(long, value_name = "HEX")]
        seed: Option<String>,
        /// Print the base64 SAMLResponse form value instead of XML.
        #[arg(long)]
        base64: bool,
    },
    /// Check a SAML Response's signatures and conditions and print its contents.
    Verify {
        /// The IdP's signing certificate (PEM) whose key must have signed the Response.
        #[arg(long, value_name = "FILE")]
        cert: PathBuf,
        /// The Response: XML, the base64 SAMLResponse form value, or the HTML form page that
        /// posts it.
        #[arg(value_name = "FILE")]
        response: PathBuf,
        /// The SP's private key (PEM), to decrypt an EncryptedAssertion and check what it holds.
        #[arg(long, value_name = "FILE")]
        sp_key: Option<PathBuf>,
        /// The expected Audience (the SP's entity ID).
        #[arg(long, value_name = "ENTITY_ID")]
        audience: Option<String>,
        /// The expected ACS URL (Recipient and Destination).
        #[arg(long, value_name = "URL")]
        acs_url: Option<String>,
        /// The time to check conditions at (RFC 3339); default now.
        #[arg(long, value_name = "RFC3339")]
        now: Option<String>,
        /// Allowed clock skew in seconds.
        #[arg(long, default_value_t = 180)]
        skew: u64,
        /// Accept SHA-1 signatures and digests.
        #[arg(long)]
        allow_sha1: bool,
    },
    /// Development JWTs for the demo and tests, in place of an OpenID Connect provider.
    DevJwt {
        #[command(subcommand)]
        command: DevJwtCommand,
    },
    /// Create a SCIM bearer token and its `scim.tokens` configuration entry. Prints the token
    /// on the first line of standard output (shown only this once), then the entry, which
    /// contains the token's SHA-256 digest and never the token.
    Token {
        /// The token's id in logs and metrics: letters, digits, '.', '_' or '-'.
        #[arg(long)]
        id: String,
        /// The tenant whose SCIM requests the token authorizes.
        #[arg(long)]
        tenant: String,
        /// Read an existing token (one the application issued) from standard input and
        /// print only its entry, instead of creating a token.
        #[arg(long)]
        stdin: bool,
    },
}

#[derive(Subcommand)]
enum DevJwtCommand {
    /// Generate an RSA JWT signing key (PKCS#8 PEM) and its JWKS (JSON).
    Keygen {
        /// Output path of the private key, created with mode 0600.
        #[arg(long, value_name = "FILE")]
        key_out: PathBuf,
        /// Output path of the JWKS that Envoy's jwt_authn verifies tokens with.
        #[arg(long, value_name = "FILE")]
        jwks_out: PathBuf,
    },
    /// Print the JWKS (JSON) for an existing RSA private key.
    Jwks {
        /// The RSA private key, PKCS#8 or PKCS#1 PEM.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
    },
    /// Print an RS256 JWT with the given claims, signed with the key.
    Mint {
        /// The RSA private key, PKCS#8 or PKCS#1 PEM.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// The claims, a JSON object such as {"iss": "…", "aud": "…", "email": "…"}.
        #[arg(long, value_name = "JSON")]
        claims: String,
        /// Seconds from the issue time to `exp`, unless the claims set `exp`.
        #[arg(long, default_value_t = 3600, allow_negative_numbers = true)]
        expires_in: i64,
        /// Issue time (RFC 3339) for `iat`; default now. A past time makes an expired token.
        #[arg(long, value_name = "RFC3339")]
        now: Option<String>,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("edgeidp: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Keygen { key_out, cert_out, bits, common_name, days, force } => {
            for path in [&key_out, &cert_out] {
                if path.exists() && !force {
                    return Err(format!(
                        "{} already exists; pass --force to replace it (a replaced signing key breaks every SP that trusts its certificate)",
                        path.display()
                    ));
                }
            }
            let mut platform = SystemPlatform::new();
            let now = platform.now();
            let generated = keys::generate_self_signed(bits, &common_name, now, days, platform.rng())
                .map_err(|e| e.to_string())?;
            write_private(&key_out, &generated.private_key_pem)?;
            std::fs::write(&cert_out, &generated.certificate_pem)
                .map_err(|e| format!("cannot write {}: {e}", cert_out.display()))?;
            eprintln!("wrote {} and {}", key_out.display(), cert_out.display());
            Ok(())
        }
        Command::Metadata { config, app, now } => {
            let now = parse_now(now.as_deref())?;
            let config = load_config(&config, now)?;
            let xml = match app {
                Some(name) => {
                    config.app(&name).ok_or_else(|| unknown_app(&config, &name))?;
                    metadata::build_app_metadata(&config, &name, now)
                }
                None => metadata::build_metadata(&config, now),
            };
            print!("{xml}");
            Ok(())
        }
        Command::Sign { config, app, user, in_response_to, acs_url, now, seed, base64 } => {
            let now = parse_now(now.as_deref())?;
            let config = load_config(&config, now)?;
            let app = config.app(&app).ok_or_else(|| unknown_app(&config, &app))?;
            let profile = load_profile(&user)?;
            let acs_url = acs_url.unwrap_or_else(|| app.default_acs_url.clone());
            let login = response::Login {
                app,
                profile: &profile,
                acs_url: &acs_url,
                in_response_to: in_response_to.as_deref(),
                authn_instant: None,
            };
            let issued = match seed {
                Some(seed) => {
                    let mut platform = FixedPlatform::new(now, parse_seed(&seed)?);
                    response::build_response(&config.idp, &login, &mut platform)
                }
                None => {
                    let mut platform = HostPlatform { now, rng: rand_core::OsRng };
                    response::build_response(&config.idp, &login, &mut platform)
                }
            }
            .map_err(|e| e.to_string())?;
            if base64 {
                println!("{}", issued.base64());
            } else {
                println!("{}", issued.xml);
            }
            Ok(())
        }
        Command::DevJwt { command } => run_dev_jwt(command),
        Command::Verify { cert, response, sp_key, audience, acs_url, now, skew, allow_sha1 } => {
            let now = parse_now(now.as_deref())?;
            let pem = std::fs::read_to_string(&cert).map_err(|e| format!("cannot read {}: {e}", cert.display()))?;
            let certificate = keys::X509::from_pem(&pem).map_err(|e| format!("{}: {e}", cert.display()))?;
            let text = std::fs::read_to_string(&response)
                .map_err(|e| format!("cannot read {}: {e}", response.display()))?;
            let xml = decode_response_text(&text)?;
            let expected = inspect::Expectations {
                audience: audience.as_deref(),
                acs_url: acs_url.as_deref(),
                allowed_skew_seconds: skew,
                allow_sha1,
            };
            let decrypted = match &sp_key {
                Some(path) => {
                    let pem = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                    let decrypted = encryption::decrypt_assertion(&xml, &pem)
                        .map_err(|e| format!("--sp-key {}: the Assertion does not decrypt: {e}", path.display()))?;
                    Some(decrypted)
                }
                None => None,
            };
            let report = match &decrypted {
                Some(decrypted) => {
                    let parts = inspect::DecryptedParts {
                        assertion_xml: &decrypted.xml,
                        name_id_xml: decrypted.name_id_xml.as_deref(),
                    };
                    inspect::inspect_decrypted_response(&xml, parts, certificate.public_key(), now, &expected)
                }
                None => inspect::inspect_response(&xml, certificate.public_key(), now, &expected),
            }
            .map_err(|e| e.to_string())?;
            if report.encrypted && decrypted.is_none() {
                println!("NOTE: the Assertion is encrypted for the SP; pass the SP's private key with --sp-key FILE to check it");
            }
            print_report(&report);
            if report.checks.iter().all(|c| c.passed) {
                Ok(())
            } else {
                Err("one or more checks failed".to_owned())
            }
        }
        Command::Token { id, tenant, stdin } => {
            let (token, digest) = if stdin {
                let token = read_token_from_stdin()?;
                let digest = scim::TokenDigest::of_token(&token).to_hex();
                (None, digest)
            } else {
                let (token, digest) = scim::generate_token(SystemPlatform::new().rng());
                (Some(token), digest)
            };
            let entry = scim::token_config_entry(&id, &tenant, &digest);
            check_token_entry(&entry)?;
            if let Some(token) = token {
                println!("{token}");
                eprintln!("edgeidp: the line above is the token; it is shown only this once");
            }
            println!("{entry}");
            Ok(())
        }
    }
}

fn run_dev_jwt(command: DevJwtCommand) -> Result<(), String> {
    let mut platform = SystemPlatform::new();
    match command {
        DevJwtCommand::Keygen { key_out, jwks_out } => {
            let now = platform.now();
            let generated = keys::generate_self_signed(2048, "edgeidp development JWT signer", now, 365, platform.rng())
                .map_err(|e| e.to_string())?;
            let key = keys::private_key_from_pem(&generated.private_key_pem).map_err(|e| e.to_string())?;
            write_private(&key_out, &generated.private_key_pem)?;
            std::fs::write(&jwks_out, dev_jwt::jwks(&key))
                .map_err(|e| format!("cannot write {}: {e}", jwks_out.display()))?;
            eprintln!("wrote {} and {}", key_out.display(), jwks_out.display());
            Ok(())
        }
        DevJwtCommand::Jwks { key } => {
            println!("{}", dev_jwt::jwks(&load_private_key(&key)?));
            Ok(())
        }
        DevJwtCommand::Mint { key, claims, expires_in, now } => {
            let now = parse_now(now.as_deref())?;
            let claims = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&claims)
                .map_err(|e| format!("--claims is not a JSON object: {e}"))?;
            let token = dev_jwt::mint(load_private_key(&key)?, claims, now, expires_in, platform.rng())?;
            println!("{token}");
            Ok(())
        }
    }
}

fn load_private_key(path: &PathBuf) -> Result<rsa::RsaPrivateKey, String> {
    let pem = std::fs::read_to_string(path).map_err(|e| format!("cannot read key {}: {e}", path.display()))?;
    keys::private_key_from_pem(&pem).map_err(|e| format!("key {}: {e}", path.display()))
}

fn read_token_from_stdin() -> Result<String, String> {
    let mut text = String::new();
    std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
        .map_err(|e| format!("cannot read the token from standard input: {e}"))?;
    let token = text.trim();
    let header = format!("Bearer {token}");
    scim::token::bearer_token(&[header.as_str()])
        .map(str::to_owned)
        .map_err(|reason| format!("standard input is not a usable bearer token: {}", reason.detail()))
}

/// Validates the entry as the filter will, so that a bad id or tenant fails now.
fn check_token_entry(entry: &str) -> Result<(), String> {
    let entry: serde_json::Value = serde_json::from_str(entry).map_err(|e| e.to_string())?;
    let section = serde_json::json!({ "tokens": [entry] });
    ScimGate::from_config(&section, OffsetDateTime::now_utc()).map(|_| ()).map_err(|e| e.to_string())
}

/// Accepts the Response as XML or as the base64 form value (whitespace ignored).
fn decode_response_text(text: &str) -> Result<String, String> {
    use base64::Engine;
    let trimmed = text.trim();
    let from_form = form_value(trimmed, "SAMLResponse");
    let trimmed = from_form.unwrap_or(trimmed);
    if trimmed.starts_with('<') {
        return Ok(trimmed.to_owned());
    }
    let compact: String = trimmed.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|e| format!("the Response is neither XML nor base64: {e}"))?;
    String::from_utf8(bytes).map_err(|_| "the base64 Response does not decode to UTF-8 XML".to_owned())
}

/// Returns the `value` of the `<input name="{name}">` in an HTML page such as the filter's
/// POST form. Base64 needs no HTML unescaping, so the value is returned as written.
fn form_value<'a>(page: &'a str, name: &str) -> Option<&'a str> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page.find(&marker)? + marker.len();
    let length = page.get(start..)?.find('"')?;
    page.get(start..start + length)
}

fn print_report(report: &inspect::ResponseReport) {
    let signature = |check: &Option<inspect::SignatureCheck>| match check {
        Some(inspect::SignatureCheck::Valid { algorithm }) => format!("valid ({algorithm})"),
        Some(inspect::SignatureCheck::Absent) => "absent".to_owned(),
        Some(inspect::SignatureCheck::Invalid { reason }) => format!("INVALID: {reason}"),
        None => "no Assertion".to_owned(),
    };
    let show = |value: &Option<String>| value.clone().unwrap_or_else(|| "(absent)".to_owned());
    let failed: Vec<&str> = report.checks.iter().filter(|c| !c.passed).map(|c| c.name).collect();
    if failed.is_empty() {
        println!("Result: every check passed");
    } else {
        println!("Result: FAILED ({})", failed.join(", "));
    }
    if !report.content_verified {
        println!("WARNING: no signature covers the Assertion; the values below are unverified");
    }
    println!("Response signature:  {}", signature(&report.response_signature));
    println!("Assertion signature: {}", signature(&report.assertion_signature));
    println!("Issuer:        {}", show(&report.issuer));
    println!("Destination:   {}", show(&report.destination));
    println!("InResponseTo:  {}", show(&report.in_response_to));
    println!("NameID:        {} ({})", show(&report.name_id), show(&report.name_id_format));
    println!("Audience:      {}", report.audiences.join(", "));
    println!("Recipient:     {}", show(&report.recipient));
    println!("NotBefore:     {}", show(&report.not_before));
    println!("NotOnOrAfter:  {}", show(&report.not_on_or_after));
    for attribute in &report.attributes {
        println!("Attribute {:?}: {:?}", attribute.name, attribute.values);
    }
    for check in &report.checks {
        println!("[{}] {}: {}", if check.passed { "ok" } else { "FAILED" }, check.name, check.detail);
    }
}

fn parse_now(now: Option<&str>) -> Result<OffsetDateTime, String> {
    match now {
        None => Ok(OffsetDateTime::now_utc()),
        Some(text) => OffsetDateTime::parse(text, &Rfc3339)
            .map_err(|e| format!("--now {text:?} is not an RFC 3339 time such as 2026-01-02T03:04:05Z ({e})")),
    }
}

fn parse_seed(seed: &str) -> Result<[u8; 32], String> {
    FixedPlatform::seed_from_hex(seed).ok_or_else(|| format!("--seed {seed:?} is not 64 hexadecimal digits"))
}

/// Reads and validates a configuration file, the `scim` section included: the commands do
/// not use the gate, but a file they accept should not be one that Envoy then rejects.
fn load_config(path: &PathBuf, now: OffsetDateTime) -> Result<Config, String> {
    let json = std::fs::read(path).map_err(|e| format!("cannot read configuration {}: {e}", path.display()))?;
    let invalid = |e: &dyn std::fmt::Display| format!("invalid configuration {}: {e}", path.display());
    let (config, mut warnings) = Config::from_json(&json, now).map_err(|e| invalid(&e))?;
    let (_, scim_warnings) = ScimGate::for_config(&config, now).map_err(|e| invalid(&e))?;
    warnings.extend(scim_warnings);
    for warning in warnings {
        eprintln!("edgeidp: warning: {warning}");
    }
    Ok(config)
}

fn load_profile(path: &PathBuf) -> Result<Profile, String> {
    let json = std::fs::read(path).map_err(|e| format!("cannot read user profile {}: {e}", path.display()))?;
    serde_json::from_slice::<Profile>(&json)
        .map_err(|e| format!("user profile {} is not a JSON object: {e}", path.display()))
}

fn unknown_app(config: &Config, name: &str) -> String {
    let known: Vec<&str> = config.apps.keys().map(String::as_str).collect();
    format!("app {name:?} is not in the configuration; known apps: {}", known.join(", "))
}

fn write_private(path: &PathBuf, contents: &str) -> Result<(), String> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    file.write_all(contents.as_bytes()).map_err(|e| format!("cannot write {}: {e}", path.display()))
}
