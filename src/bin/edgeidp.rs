//! The edgeidp command line: keys, metadata and signed Responses from the same core the
//! Envoy filter runs.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use edgeidp::config::Config;
use edgeidp::platform::{FixedPlatform, Platform, SystemPlatform};
use edgeidp::saml::expression::Profile;
use edgeidp::saml::{keys, metadata, response};

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
        /// Where to write the private key; created with mode 0600.
        #[arg(long, value_name = "FILE")]
        key_out: PathBuf,
        /// Where to write the certificate.
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
        /// The AuthnRequest ID being answered; omit for an IdP-initiated Response.
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
        Command::Keygen { key_out, cert_out, bits, common_name, days } => {
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
                None => response::build_response(&config.idp, &login, &mut SystemPlatform::new()),
            }
            .map_err(|e| e.to_string())?;
            if base64 {
                println!("{}", issued.base64());
            } else {
                println!("{}", issued.xml);
            }
            Ok(())
        }
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

fn load_config(path: &PathBuf, now: OffsetDateTime) -> Result<Config, String> {
    let json = std::fs::read(path).map_err(|e| format!("cannot read configuration {}: {e}", path.display()))?;
    let (config, warnings) =
        Config::from_json(&json, now).map_err(|e| format!("invalid configuration {}: {e}", path.display()))?;
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
