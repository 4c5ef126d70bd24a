//! Fetching of remote (`http`/`https`) documents that `$ref`s name, for [`crate::bundle`].
//! Compiled only with the `remote-refs` feature (which the CLI enables and the proc macro does
//! not), and used only when the `allow_remote_refs` setting is on.
//!
//! Each fetch is bounded: 10 seconds in all (redirects and body included), at most
//! [`MAX_REDIRECTS`] redirects, and a body no larger than a local file may be
//! ([`load::MAX_DOCUMENT_BYTES`](crate::load::MAX_DOCUMENT_BYTES)). Only `http` and `https`
//! URLs are fetched, so a remote document can never make the generator read a local file.

use std::time::Duration;

use ureq::ResponseExt;
use url::Url;

use crate::load::MAX_DOCUMENT_BYTES;

/// Total time one fetch may take, redirects and body included.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// Redirects followed for one fetch.
pub const MAX_REDIRECTS: u32 = 5;

/// A fetched document's text and the URL it was finally read from (after redirects), which
/// relative references inside it resolve against.
pub(crate) struct Fetched {
    pub text: String,
    pub final_url: String,
}

/// One HTTP agent for a whole bundling run.
pub(crate) struct Fetcher {
    agent: ureq::Agent,
}

impl Fetcher {
    pub fn new() -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(TIMEOUT))
            .max_redirects(MAX_REDIRECTS)
            .http_status_as_error(false)
            .user_agent(concat!("mcpgen/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Fetcher { agent }
    }

    /// GETs `url` (http or https, checked by the caller); `Err` says what went wrong.
    pub fn fetch(&self, url: &str) -> Result<Fetched, String> {
        let mut response = self.agent.get(url).call().map_err(describe)?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("the server answered HTTP {status}"));
        }
        let final_url = response.get_uri().to_string();
        let text = response
            .body_mut()
            .with_config()
            .limit(MAX_DOCUMENT_BYTES)
            .read_to_string()
            .map_err(describe)?;
        Ok(Fetched { text, final_url })
    }
}

fn describe(error: ureq::Error) -> String {
    match error {
        ureq::Error::Timeout(_) => format!(
            "no complete answer within {} seconds (timed out)",
            TIMEOUT.as_secs()
        ),
        ureq::Error::BodyExceedsLimit(_) => format!(
            "the document is too large: documents over {MAX_DOCUMENT_BYTES} bytes are refused"
        ),
        ureq::Error::TooManyRedirects => {
            format!("more than {MAX_REDIRECTS} redirects")
        }
        ureq::Error::StatusCode(code) => format!("the server answered HTTP {code}"),
        other => format!("the request failed: {other}"),
    }
}

/// `reference` (without its fragment) resolved against `base` (an absolute URL), as RFC 3986
/// says. `Err` when the result is not an `http`/`https` URL.
pub(crate) fn join(base: &str, reference: &str) -> Result<String, String> {
    let base = Url::parse(base).map_err(|e| format!("`{base}` is not a valid URL: {e}"))?;
    let mut joined = base
        .join(reference)
        .map_err(|e| format!("cannot be resolved against {base}: {e}"))?;
    joined.set_fragment(None);
    check_scheme(&joined)?;
    Ok(joined.into())
}

/// `reference` (without its fragment) parsed as an absolute URL.
pub(crate) fn parse(reference: &str) -> Result<String, String> {
    let mut url = Url::parse(reference).map_err(|e| format!("is not a valid URL: {e}"))?;
    url.set_fragment(None);
    check_scheme(&url)?;
    Ok(url.into())
}

fn check_scheme(url: &Url) -> Result<(), String> {
    match url.scheme() {
        "http" | "https" if url.host().is_some() => Ok(()),
        "http" | "https" => Err(format!("{url} has no host")),
        other => Err(format!(
            "resolves to {url}; only http and https documents are fetched, never `{other}:`"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_references_stay_in_url_space() {
        let base = "http://h/schemas/pet.yaml";
        assert_eq!(
            join(base, "common.yaml").unwrap(),
            "http://h/schemas/common.yaml"
        );
        assert_eq!(
            join(base, "../../../../etc/passwd").unwrap(),
            "http://h/etc/passwd"
        );
        assert_eq!(join(base, "//other/x.json").unwrap(), "http://other/x.json");
        assert!(join(base, "file:///etc/passwd").is_err());
        assert!(parse("file:///etc/passwd").is_err());
        assert!(parse("ftp://h/x").is_err());
        assert_eq!(parse("https://h/a.json").unwrap(), "https://h/a.json");
    }
}
