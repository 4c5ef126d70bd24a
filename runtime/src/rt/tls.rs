//! Direct TLS on the HTTP transport (`--tls-cert FILE`, `--tls-key FILE`), for deployments
//! without a terminating proxy: the certificate and key are read and checked once, before the
//! server listens, and every connection's handshake runs on that connection's own task. The
//! server speaks HTTP/1.1 over TLS 1.2 or 1.3 and asks for no client certificate.
//!
//! `--health-check` asks a TLS server over TLS as well, trusting exactly the configured
//! certificate: see [`HealthCheckTrust`].

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::sign::CertifiedKey;
use rustls::{DigitallySignedStruct, SignatureScheme};

use super::config::{ConfigError, ServeArgs};

/// PEM files larger than this are refused unread: a certificate chain or a key is a few KiB,
/// and a path mistaken for another (a device, a log) must not be read without end.
const MAX_PEM_BYTES: u64 = 1024 * 1024;

/// The certificate and key files of `--tls-cert` and `--tls-key`, when both are given; a
/// [`ConfigError`] naming the missing one when only one is.
pub fn tls_files(args: &ServeArgs) -> Result<Option<(&Path, &Path)>, ConfigError> {
    let variable = |option: &str| {
        if args.env_prefix.is_empty() {
            format!("<PREFIX>_{option}")
        } else {
            format!("{}_{option}", args.env_prefix)
        }
    };
    match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Ok(Some((cert, key))),
        (None, None) => Ok(None),
        (Some(_), None) => Err(ConfigError::TlsHalf {
            given: "--tls-cert",
            missing: "--tls-key",
            variable: variable("TLS_KEY"),
        }),
        (None, Some(_)) => Err(ConfigError::TlsHalf {
            given: "--tls-key",
            missing: "--tls-cert",
            variable: variable("TLS_CERT"),
        }),
    }
}

/// *ring*, the provider rustls is built with here, named explicitly so that a provider an
/// embedding program installed for the process cannot change what the server offers.
// rustls 0.23.48 deprecates *ring*'s provider for its lack of post-quantum key exchange (see
// `request::ensure_crypto_provider`); a generated crate that resolves that version still builds.
#[allow(deprecated)]
fn ring_provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The server's TLS configuration from `--tls-cert` and `--tls-key`, or `None` without them.
/// Every problem is a [`ConfigError`] naming the file, raised before anything listens.
pub fn server_config(args: &ServeArgs) -> Result<Option<Arc<rustls::ServerConfig>>, ConfigError> {
    let Some((cert, key)) = tls_files(args)? else {
        return Ok(None);
    };
    load_server_config(cert, key).map(|config| Some(Arc::new(config)))
}

/// A TLS 1.2/1.3 server configuration serving the chain of `cert_file` with the key of
/// `key_file`, offering HTTP/1.1 by ALPN and asking for no client certificate.
fn load_server_config(
    cert_file: &Path,
    key_file: &Path,
) -> Result<rustls::ServerConfig, ConfigError> {
    let chain = load_certificates(cert_file)?;
    let key = load_key(key_file)?;
    let provider = ring_provider();
    let signing_key = provider.key_provider.load_private_key(key).map_err(|e| {
        tls_file(
            "--tls-key",
            key_file,
            format!("is not a usable private key: {e}"),
        )
    })?;
    let certified = CertifiedKey::new(chain, signing_key);
    match certified.keys_match() {
        // A key that cannot tell its public half: rustls accepts it as well.
        Ok(()) | Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => {}
        Err(rustls::Error::InconsistentKeys(_)) => {
            return Err(ConfigError::TlsKeyMismatch {
                cert: cert_file.to_owned(),
                key: key_file.to_owned(),
            });
        }
        Err(e) => {
            return Err(tls_file(
                "--tls-cert",
                cert_file,
                format!("does not start with a valid X.509 certificate: {e}"),
            ));
        }
    }
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| tls_file("--tls-cert", cert_file, e.to_string()))?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(rustls::sign::SingleCertAndKey::from(certified)));
    // The transport speaks HTTP/1.1 only; a client that offers ALPN without it is refused in
    // the handshake rather than misunderstood after it.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// The configuration error of an unusable `option` file at `path`.
fn tls_file(option: &'static str, path: &Path, problem: String) -> ConfigError {
    ConfigError::TlsFile {
        option,
        path: path.to_owned(),
        problem,
    }
}

/// The text of a PEM file, within [`MAX_PEM_BYTES`].
fn read_pem(option: &'static str, path: &Path) -> Result<Vec<u8>, ConfigError> {
    let unreadable = |e: std::io::Error| tls_file(option, path, format!("cannot be read: {e}"));
    let file = std::fs::File::open(path).map_err(unreadable)?;
    let mut text = Vec::new();
    file.take(MAX_PEM_BYTES + 1)
        .read_to_end(&mut text)
        .map_err(unreadable)?;
    if text.len() as u64 > MAX_PEM_BYTES {
        return Err(tls_file(
            option,
            path,
            format!(
                "is larger than {MAX_PEM_BYTES} bytes, more than a PEM certificate chain or key"
            ),
        ));
    }
    Ok(text)
}

/// What is wrong with a PEM file, in words (never its contents, which may be a key's).
fn pem_problem(error: &rustls::pki_types::pem::Error) -> String {
    use rustls::pki_types::pem::Error;
    match error {
        Error::MissingSectionEnd { end_marker } => format!(
            "is not valid PEM: a section has no `-----END {}-----` line",
            String::from_utf8_lossy(end_marker)
        ),
        Error::IllegalSectionStart { .. } => {
            "is not valid PEM: a `-----BEGIN` line is malformed".to_owned()
        }
        Error::Base64Decode(_) => "is not valid PEM: a section is not valid base64".to_owned(),
        other => format!("is not valid PEM: {other}"),
    }
}

/// The certificates of the PEM file `path` (the server's own first, then its intermediates),
/// for `--tls-cert`.
pub fn load_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, ConfigError> {
    let text = read_pem("--tls-cert", path)?;
    let chain = CertificateDer::pem_slice_iter(&text)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| tls_file("--tls-cert", path, pem_problem(&e)))?;
    if chain.is_empty() {
        return Err(tls_file(
            "--tls-cert",
            path,
            "holds no PEM certificate (`-----BEGIN CERTIFICATE-----`)".to_owned(),
        ));
    }
    Ok(chain)
}

/// The first private key of the PEM file `path`: PKCS#8 (`PRIVATE KEY`), PKCS#1 (`RSA PRIVATE
/// KEY`) or SEC1 (`EC PRIVATE KEY`).
fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, ConfigError> {
    let text = read_pem("--tls-key", path)?;
    match PrivateKeyDer::from_pem_slice(&text) {
        Ok(key) => Ok(key),
        Err(rustls::pki_types::pem::Error::NoItemsFound) => {
            let encrypted = text
                .windows(b"ENCRYPTED PRIVATE KEY".len())
                .any(|w| w == b"ENCRYPTED PRIVATE KEY");
            let problem = if encrypted {
                "holds an encrypted private key, which the server cannot use without a \
                 passphrase; decrypt it (`openssl pkey -in KEY -out PLAIN`) and keep the file \
                 readable by the server only"
            } else {
                "holds no PEM private key (`PRIVATE KEY`, `RSA PRIVATE KEY` or `EC PRIVATE KEY`)"
            };
            Err(tls_file("--tls-key", path, problem.to_owned()))
        }
        Err(e) => Err(tls_file("--tls-key", path, pem_problem(&e))),
    }
}

/// How `--health-check` reaches a TLS server: trusting exactly the configured certificate
/// (the first of `--tls-cert`), whatever names it carries or whoever issued it, since the
/// check asks the server on this machine that was configured with that very file.
#[derive(Debug)]
pub struct HealthCheckTrust {
    leaf: CertificateDer<'static>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl HealthCheckTrust {
    /// The trust of a health check when TLS is configured, else `None`. Only the certificate
    /// is read: the check needs no key.
    pub fn from_args(args: &ServeArgs) -> Result<Option<HealthCheckTrust>, ConfigError> {
        let Some((cert, _)) = tls_files(args)? else {
            return Ok(None);
        };
        let mut chain = load_certificates(cert)?;
        Ok(Some(HealthCheckTrust {
            leaf: chain.swap_remove(0),
            provider: ring_provider(),
        }))
    }

    /// A client configuration that accepts only a server presenting the configured
    /// certificate and proving it holds its key.
    pub fn client_config(self) -> Result<rustls::ClientConfig, rustls::Error> {
        let provider = self.provider.clone();
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(self))
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(config)
    }
}

impl ServerCertVerifier for HealthCheckTrust {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.leaf.as_ref() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(
                "the server presented another certificate than --tls-cert's".to_owned(),
            ))
        }
    }

    // The signatures prove that the server holds the certificate's key: the comparison above
    // alone would accept anybody replaying the (public) certificate.
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
