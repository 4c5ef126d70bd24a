//! Loading the HTTP transport's certificate and key (`--tls-cert`, `--tls-key`): what loads,
//! and the error every unusable file gets, naming it. The certificates and keys are in
//! `tests/fixtures/tls` (see its README for how they were made).

use std::path::{Path, PathBuf};

use clap::Parser;
use mcpgen::tls::{HealthCheckTrust, load_certificates, server_config};
use mcpgen::{ConfigError, ServeArgs};
use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::{ServerName, UnixTime};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tls")
        .join(name)
}

/// A file of this test run with `contents`, in the system's temporary folder.
fn scratch(name: &str, contents: &[u8]) -> PathBuf {
    let path = std::env::temp_dir().join(format!("mcpgen-tls-{}-{name}", std::process::id()));
    std::fs::write(&path, contents).unwrap();
    path
}

fn args(cert: Option<&Path>, key: Option<&Path>) -> ServeArgs {
    let mut line = vec!["server".to_owned()];
    if let Some(cert) = cert {
        line.extend(["--tls-cert".to_owned(), cert.display().to_string()]);
    }
    if let Some(key) = key {
        line.extend(["--tls-key".to_owned(), key.display().to_string()]);
    }
    ServeArgs::parse_from(line)
}

/// The error of loading `cert` and `key`, as the operator reads it.
fn refusal(cert: &Path, key: &Path) -> (ConfigError, String) {
    let error = server_config(&args(Some(cert), Some(key))).unwrap_err();
    let message = error.to_string();
    (error, message)
}

#[test]
fn rsa_and_ec_certificates_load_with_their_keys_in_every_encoding() {
    assert!(server_config(&args(None, None)).unwrap().is_none());
    for (cert, key) in [
        ("rsa.pem", "rsa.key"),     // PKCS#1
        ("ec.pem", "ec.key"),       // SEC1
        ("ec.pem", "ec-pkcs8.key"), // PKCS#8
    ] {
        let config = server_config(&args(Some(&fixture(cert)), Some(&fixture(key))))
            .unwrap_or_else(|e| panic!("{cert} with {key}: {e}"))
            .expect("a configuration");
        assert_eq!(config.alpn_protocols, [b"http/1.1".to_vec()]);
    }
}

#[test]
fn a_chain_is_served_leaf_first() {
    let mut chain = std::fs::read(fixture("ec.pem")).unwrap();
    chain.extend(std::fs::read(fixture("rsa.pem")).unwrap());
    let chain = scratch("chain.pem", &chain);
    assert_eq!(load_certificates(&chain).unwrap().len(), 2);
    assert!(
        server_config(&args(Some(&chain), Some(&fixture("ec.key"))))
            .unwrap()
            .is_some()
    );
    // The key must be the first certificate's.
    let (error, _) = refusal(&chain, &fixture("rsa.key"));
    assert!(
        matches!(error, ConfigError::TlsKeyMismatch { .. }),
        "{error}"
    );
}

#[test]
fn a_key_of_another_certificate_is_refused_naming_both_files() {
    for (cert, key) in [("rsa.pem", "ec.key"), ("ec.pem", "rsa.key")] {
        let (error, message) = refusal(&fixture(cert), &fixture(key));
        assert!(
            matches!(error, ConfigError::TlsKeyMismatch { .. }),
            "{error}"
        );
        assert!(
            message.contains(&fixture(cert).display().to_string())
                && message.contains(&fixture(key).display().to_string())
                && message.contains("not the private key"),
            "{message}"
        );
    }
}

#[test]
fn missing_files_are_refused_by_name() {
    let missing = fixture("nowhere.pem");
    let (_, message) = refusal(&missing, &fixture("ec.key"));
    assert!(
        message.starts_with(&format!(
            "--tls-cert `{}` cannot be read",
            missing.display()
        )),
        "{message}"
    );
    let (_, message) = refusal(&fixture("ec.pem"), &missing);
    assert!(
        message.starts_with(&format!("--tls-key `{}` cannot be read", missing.display())),
        "{message}"
    );
    // A folder is no file either.
    let (_, message) = refusal(&fixture(""), &fixture("ec.key"));
    assert!(message.contains("cannot be read"), "{message}");
}

#[test]
fn files_that_are_not_what_they_should_be_are_refused_by_name() {
    let cert = fixture("ec.pem");
    let key = fixture("ec.key");
    let garbage = scratch("garbage", b"\x00\x01 not PEM at all \xff\n");
    let truncated = scratch("truncated.pem", b"-----BEGIN CERTIFICATE-----\nMIIB\n");
    let bad_der = scratch(
        "bad-der.pem",
        b"-----BEGIN CERTIFICATE-----\nAAECAwQFBgcICQ==\n-----END CERTIFICATE-----\n",
    );
    let bad_key = scratch(
        "bad-key.pem",
        b"-----BEGIN PRIVATE KEY-----\nAAECAwQFBgcICQ==\n-----END PRIVATE KEY-----\n",
    );
    let cases: [(&Path, &Path, &str, &Path, &str); 7] = [
        (
            &garbage,
            &key,
            "--tls-cert",
            &garbage,
            "holds no PEM certificate",
        ),
        // The key given as the certificate, and the other way round.
        (&key, &key, "--tls-cert", &key, "holds no PEM certificate"),
        (&cert, &cert, "--tls-key", &cert, "holds no PEM private key"),
        (
            &truncated,
            &key,
            "--tls-cert",
            &truncated,
            "is not valid PEM",
        ),
        (
            &bad_der,
            &key,
            "--tls-cert",
            &bad_der,
            "valid X.509 certificate",
        ),
        (
            &cert,
            &bad_key,
            "--tls-key",
            &bad_key,
            "is not a usable private key",
        ),
        (
            &cert,
            &fixture("ec-encrypted.key"),
            "--tls-key",
            &fixture("ec-encrypted.key"),
            "encrypted private key",
        ),
    ];
    for (cert, key, option, named, problem) in cases {
        let (error, message) = refusal(cert, key);
        assert!(matches!(error, ConfigError::TlsFile { .. }), "{error}");
        assert!(
            message.starts_with(&format!("{option} `{}` ", named.display()))
                && message.contains(problem),
            "{cert:?} + {key:?}: {message}"
        );
    }
    let oversized = scratch("oversized.pem", &vec![b'A'; 2 * 1024 * 1024]);
    let (_, message) = refusal(&oversized, &key);
    assert!(message.contains("is larger than"), "{message}");
}

#[test]
fn one_without_the_other_is_refused_naming_the_other() {
    let cert = fixture("ec.pem");
    let key = fixture("ec.key");
    let message = server_config(&args(Some(&cert), None))
        .unwrap_err()
        .to_string();
    assert!(
        message.starts_with("--tls-cert is set but --tls-key is not")
            && message.contains("<PREFIX>_TLS_KEY"),
        "{message}"
    );
    let message = server_config(&args(None, Some(&key)))
        .unwrap_err()
        .to_string();
    assert!(
        message.starts_with("--tls-key is set but --tls-cert is not"),
        "{message}"
    );
    // The same from the environment, which names its variable.
    let mut from_env = args(None, None);
    from_env
        .fill_from("MY_API", |name| {
            (name == "MY_API_TLS_CERT").then(|| cert.clone().into_os_string())
        })
        .unwrap();
    let message = server_config(&from_env).unwrap_err().to_string();
    assert!(message.contains("set MY_API_TLS_KEY"), "{message}");
    // The health check is refused the same way.
    assert!(HealthCheckTrust::from_args(&from_env).is_err());
}

#[test]
fn the_environment_gives_the_files_the_command_line_leaves_out() {
    let var = |name: &str| match name {
        "MY_API_TLS_CERT" => Some(fixture("rsa.pem").into_os_string()),
        "MY_API_TLS_KEY" => Some(fixture("rsa.key").into_os_string()),
        _ => None,
    };
    let mut from_env = args(None, None);
    from_env.fill_from("MY_API", var).unwrap();
    assert_eq!(from_env.tls_cert, Some(fixture("rsa.pem")));
    assert!(server_config(&from_env).unwrap().is_some());
    // The command line wins.
    let mut both = args(Some(&fixture("ec.pem")), Some(&fixture("ec.key")));
    both.fill_from("MY_API", var).unwrap();
    assert_eq!(both.tls_cert, Some(fixture("ec.pem")));
    assert_eq!(both.tls_key, Some(fixture("ec.key")));
}

#[test]
fn the_health_check_trusts_exactly_the_configured_certificate() {
    assert!(
        HealthCheckTrust::from_args(&args(None, None))
            .unwrap()
            .is_none()
    );
    let trust =
        HealthCheckTrust::from_args(&args(Some(&fixture("ec.pem")), Some(&fixture("ec.key"))))
            .unwrap()
            .expect("TLS is configured");
    let name = ServerName::try_from("localhost").unwrap();
    let ec = load_certificates(&fixture("ec.pem")).unwrap();
    let rsa = load_certificates(&fixture("rsa.pem")).unwrap();
    assert!(
        trust
            .verify_server_cert(&ec[0], &[], &name, &[], UnixTime::now())
            .is_ok()
    );
    // Another certificate for the same names is not it.
    assert!(
        trust
            .verify_server_cert(&rsa[0], &[], &name, &[], UnixTime::now())
            .is_err()
    );
    // The health check reads no key: a key file the checking user cannot read is no matter.
    let no_key = HealthCheckTrust::from_args(&args(
        Some(&fixture("ec.pem")),
        Some(&fixture("nowhere.key")),
    ));
    assert!(no_key.unwrap().unwrap().client_config().is_ok());
}
