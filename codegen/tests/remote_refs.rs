//! Remote (`http`/`https`) `$ref`s: refused by default, fetched (once per URL, bounded, never
//! reaching local files) when `allow_remote_refs` is on and the `remote-refs` feature is built
//! in. A tiny HTTP server on 127.0.0.1 answers fixed paths and counts requests.
//! Run the fetching tests with `cargo test -p mcpgen-codegen --features remote-refs`.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use mcpgen_codegen::{Settings, map_document};

/// A test server: paths it answers, and every path requested so far.
struct Server {
    port: u16,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// `routes`: path → (status line, extra headers, body). Anything else is a 404.
    fn start(routes: Vec<(&str, &str, &str, String)>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let routes: HashMap<String, (String, String, String)> = routes
            .into_iter()
            .map(|(path, status, headers, body)| {
                (
                    path.to_owned(),
                    (
                        status.to_owned(),
                        headers.replace("{port}", &port.to_string()),
                        body.replace("{port}", &port.to_string()),
                    ),
                )
            })
            .collect();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&requests);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).is_err() {
                    continue;
                }
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                }
                let path = request_line
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or("")
                    .to_owned();
                seen.lock().unwrap().push(path.clone());
                let (status, headers, body) = routes.get(&path).cloned().unwrap_or((
                    "404 Not Found".to_owned(),
                    String::new(),
                    "no such document".to_owned(),
                ));
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n{headers}\r\n{body}",
                    body.len()
                );
            }
        });
        Server { port, requests }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }

    #[cfg_attr(not(feature = "remote-refs"), allow(dead_code))]
    fn count(&self, path: &str) -> usize {
        self.requests().iter().filter(|p| *p == path).count()
    }
}

const PET: &str = "Pet:\n  type: object\n  required: [id, name]\n  properties:\n    id:\n      $ref: 'common.yaml#/Id'\n    name:\n      type: string\n    tag:\n      type: string\n";
const COMMON: &str = "Id:\n  type: integer\n  format: int64\n  description: fetched id\n";

fn pet_server() -> Server {
    Server::start(vec![
        ("/schemas/pet.yaml", "200 OK", "", PET.to_owned()),
        ("/schemas/common.yaml", "200 OK", "", COMMON.to_owned()),
        (
            "/moved/pet.yaml",
            "301 Moved Permanently",
            "location: http://127.0.0.1:{port}/schemas/pet.yaml\r\n",
            String::new(),
        ),
        (
            "/evil/file.yaml",
            "200 OK",
            "",
            "X:\n  $ref: 'file:///etc/passwd#/a'\n".to_owned(),
        ),
        (
            "/evil/climb.yaml",
            "200 OK",
            "",
            "X:\n  $ref: '../../../../etc/passwd#/a'\n".to_owned(),
        ),
        (
            "/schemas/html.yaml",
            "200 OK",
            "",
            "<html><body>: not: yaml: {[</body></html>".to_owned(),
        ),
    ])
}

/// A spec whose `POST /pets` takes and returns the schema at `reference`.
fn spec_referring_to(name: &str, reference: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("mcpgen-remote-refs-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("openapi.yaml");
    let spec = format!(
        "openapi: 3.0.3
info: {{title: Remote, version: '1'}}
paths:
  /pets:
    post:
      operationId: addPet
      requestBody:
        required: true
        content:
          application/json:
            schema:
              $ref: '{reference}'
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema:
                $ref: '{reference}'
"
    );
    std::fs::write(&path, spec).unwrap();
    path
}

const REF_POINTER: &str = "/paths/~1pets/post/requestBody/content/application~1json/schema/$ref";

#[test]
fn remote_refs_are_not_fetched_without_the_flag() {
    let server = pet_server();
    let reference = server.url("/schemas/pet.yaml#/Pet");
    // A schema: read as one that accepts any value, with a warning that names the flag.
    let spec = spec_referring_to("not-fetched", &reference);
    let mapped = map_document(&spec, &Settings::new()).unwrap();
    let warning = mapped
        .warnings
        .iter()
        .find(|w| w.contains(REF_POINTER))
        .unwrap_or_else(|| panic!("{:#?}", mapped.warnings));
    assert!(warning.starts_with("line 12: "), "{warning}");
    assert!(warning.contains(&reference), "{warning}");
    assert!(warning.contains("--allow-remote-refs"), "{warning}");
    assert!(warning.contains("accepts any value"), "{warning}");
    let input = &mapped.api.tools[0].input_schema;
    assert!(!input.to_string().contains("name"), "{input}");

    // A path item: left out, the rest generated.
    let dir = spec.parent().unwrap();
    let path_item = dir.join("path-item.yaml");
    std::fs::write(
        &path_item,
        format!(
            "openapi: 3.0.3\ninfo: {{title: R, version: '1'}}\npaths:\n  /remote:\n    $ref: \
             '{}'\n  /local:\n    get:\n      operationId: local\n      responses: {{'200': \
             {{description: ok}}}}\n",
            server.url("/paths/remote.yaml")
        ),
    )
    .unwrap();
    let mapped = map_document(&path_item, &Settings::new()).unwrap();
    let names: Vec<&str> = mapped.api.tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["local"]);
    assert!(
        mapped
            .warnings
            .iter()
            .any(|w| w.starts_with("line 5: /paths/~1remote/$ref: ")
                && w.contains("path item is left out")),
        "{:#?}",
        mapped.warnings
    );

    // A request body cannot be left out: refused, naming the flag.
    let body = dir.join("body.yaml");
    std::fs::write(
        &body,
        format!(
            "openapi: 3.0.3\ninfo: {{title: R, version: '1'}}\npaths:\n  /a:\n    post:\n      \
             requestBody: {{$ref: '{}'}}\n      responses: {{'200': {{description: ok}}}}\n",
            server.url("/bodies/pet.yaml")
        ),
    )
    .unwrap();
    let err = map_document(&body, &Settings::new())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("body.yaml:6: /paths/~1a/post/requestBody/$ref"),
        "{err}"
    );
    assert!(err.contains("--allow-remote-refs"), "{err}");
    assert!(server.requests().is_empty(), "{:?}", server.requests());
}

#[cfg(not(feature = "remote-refs"))]
#[test]
fn without_the_feature_the_flag_points_to_the_cli() {
    let server = pet_server();
    let reference = server.url("/schemas/pet.yaml#/Pet");
    let spec = spec_referring_to("no-feature", &reference);
    let err = map_document(&spec, &Settings::new().allow_remote_refs(true))
        .unwrap_err()
        .to_string();
    assert!(err.contains(&reference), "{err}");
    assert!(
        err.contains("cargo mcpgen ... --allow-remote-refs"),
        "{err}"
    );
    assert!(server.requests().is_empty(), "{:?}", server.requests());
}

#[cfg(feature = "remote-refs")]
mod fetching {
    use std::path::Path;
    use std::time::{Duration, Instant};

    use mcpgen_codegen::bundle::{self, RefPolicy, SchemaHome};
    use mcpgen_codegen::{Error, load};
    use serde_json::Value;

    use super::*;

    /// Remote references allowed, and the test server's host exempt from the checks that keep
    /// loopback addresses and plain http out.
    fn loopback_allowed() -> RefPolicy {
        RefPolicy {
            allow_remote: true,
            allowed_hosts: vec!["127.0.0.1".to_owned()],
            ..Default::default()
        }
    }

    /// `spec` bundled under `policy`.
    fn bundled(spec: &Path, policy: &RefPolicy) -> Result<Value, Error> {
        let mut doc = load::load_file(spec)?.value;
        bundle::bundle(spec, &mut doc, SchemaHome::Components, policy)?;
        Ok(doc)
    }

    fn refused(spec: &Path, policy: &RefPolicy) -> String {
        bundled(spec, policy)
            .expect_err("the reference must be refused")
            .to_string()
    }

    /// The fetched schemas are in the bundled document.
    fn assert_fetched(doc: &Value) {
        let text = doc["components"]["schemas"].to_string();
        assert!(text.contains("\"tag\""), "{text}");
        assert!(text.contains("fetched id"), "{text}");
    }

    #[test]
    fn remote_refs_are_fetched_once_each_with_the_flag() {
        let server = pet_server();
        let spec = spec_referring_to("fetched", &server.url("/schemas/pet.yaml#/Pet"));
        let doc = bundled(&spec, &loopback_allowed()).unwrap();
        assert_fetched(&doc);
        let body = &doc["paths"]["/pets"]["post"]["requestBody"]["content"]["application/json"];
        assert_eq!(body["schema"]["$ref"], "#/components/schemas/Pet");
        assert_eq!(
            server.count("/schemas/pet.yaml"),
            1,
            "{:?}",
            server.requests()
        );
        assert_eq!(
            server.count("/schemas/common.yaml"),
            1,
            "{:?}",
            server.requests()
        );
        assert_eq!(server.requests().len(), 2, "{:?}", server.requests());
    }

    #[test]
    fn redirects_are_followed_and_relative_refs_resolve_against_the_final_url() {
        let server = pet_server();
        let spec = spec_referring_to("redirect", &server.url("/moved/pet.yaml#/Pet"));
        assert_fetched(&bundled(&spec, &loopback_allowed()).unwrap());
        // `common.yaml` is next to where the document really is, not next to `/moved/`.
        assert_eq!(
            server.count("/schemas/common.yaml"),
            1,
            "{:?}",
            server.requests()
        );
        assert_eq!(server.count("/moved/common.yaml"), 0);
    }

    #[test]
    fn a_missing_document_names_the_status_and_the_url() {
        let server = pet_server();
        let url = server.url("/schemas/missing.yaml");
        let spec = spec_referring_to("missing", &format!("{url}#/Pet"));
        let err = refused(&spec, &loopback_allowed());
        assert!(err.contains("openapi.yaml"), "{err}");
        assert!(err.contains(REF_POINTER), "{err}");
        assert!(err.contains(&url), "{err}");
        assert!(err.contains("404"), "{err}");
    }

    #[test]
    fn a_document_that_is_not_json_or_yaml_is_reported() {
        let server = pet_server();
        let url = server.url("/schemas/html.yaml");
        let spec = spec_referring_to("html", &format!("{url}#/Pet"));
        let err = refused(&spec, &loopback_allowed());
        assert!(err.contains(&url), "{err}");
        assert!(err.contains("not a JSON or YAML document"), "{err}");
    }

    #[test]
    fn a_remote_document_cannot_reach_local_files() {
        let server = pet_server();
        // An absolute `file:` URL is refused before anything is read.
        let spec = spec_referring_to("file-url", &server.url("/evil/file.yaml#/X"));
        let err = refused(&spec, &loopback_allowed());
        assert!(err.contains(&server.url("/evil/file.yaml")), "{err}");
        assert!(err.contains("/X/$ref"), "{err}");
        assert!(err.contains("file:///etc/passwd"), "{err}");
        assert!(err.contains("only http and https"), "{err}");
        assert!(!err.contains("root:"), "{err}");

        // A relative path climbing out stays in URL space: it is asked of the server (which
        // has no such document), never read from the disk.
        let spec = spec_referring_to("climb", &server.url("/evil/climb.yaml#/X"));
        let err = refused(&spec, &loopback_allowed());
        assert!(err.contains(&server.url("/etc/passwd")), "{err}");
        assert!(err.contains("404"), "{err}");
        assert!(!err.contains("root:"), "{err}");
        assert_eq!(server.count("/etc/passwd"), 1, "{:?}", server.requests());
    }

    #[test]
    fn other_schemes_are_refused_even_with_the_flag() {
        let spec = spec_referring_to("ftp", "ftp://127.0.0.1/x.yaml#/Pet");
        let err = refused(&spec, &loopback_allowed());
        assert!(err.contains("ftp://127.0.0.1/x.yaml"), "{err}");
    }

    #[test]
    fn internal_addresses_are_refused_without_the_exemption() {
        let server = pet_server();
        let port = server.port;
        let allowed = RefPolicy {
            allow_remote: true,
            ..Default::default()
        };
        // https, so that the address is what is refused, not the scheme; the server would
        // answer on the loopback ones if they were ever asked.
        let cases = [
            (
                format!("https://127.0.0.1:{port}/schemas/pet.yaml"),
                "127.0.0.1",
                "loopback",
            ),
            (
                format!("https://localhost:{port}/schemas/pet.yaml"),
                "localhost",
                "loopback",
            ),
            (
                format!("https://[::1]:{port}/schemas/pet.yaml"),
                "::1",
                "loopback",
            ),
            (
                format!("https://[::ffff:127.0.0.1]:{port}/schemas/pet.yaml"),
                "::ffff:7f00:1",
                "loopback",
            ),
            // Another spelling of 127.0.0.1, which URL parsing normalises.
            (
                format!("https://0x7f.1:{port}/schemas/pet.yaml"),
                "127.0.0.1",
                "loopback",
            ),
            (
                "https://169.254.169.254/latest/meta-data/x.yaml".to_owned(),
                "169.254.169.254",
                "link-local",
            ),
            ("https://10.1.2.3/x.yaml".to_owned(), "10.1.2.3", "private"),
            (
                "https://[fd00:ec2::254]/x.yaml".to_owned(),
                "fd00:ec2::254",
                "private",
            ),
            (
                "https://100.100.100.200/x.yaml".to_owned(),
                "100.100.100.200",
                "carrier-grade NAT",
            ),
        ];
        for (url, host, class) in cases {
            let spec = spec_referring_to("internal", &format!("{url}#/Pet"));
            let started = Instant::now();
            let err = refused(&spec, &allowed);
            // Refused before any connection is tried (169.254.169.254 would not answer here).
            assert!(started.elapsed() < Duration::from_secs(5), "{err}");
            assert!(err.contains("openapi.yaml"), "{err}");
            assert!(err.contains(REF_POINTER), "{err}");
            assert!(err.contains(class), "{url}: {err}");
            assert!(err.contains("--allow-remote-host"), "{err}");
            assert!(err.contains(host), "{url}: {err}");
        }
        assert!(server.requests().is_empty(), "{:?}", server.requests());

        // `allow_remote_refs` alone does not reach the loopback server either.
        let spec = spec_referring_to("internal", &server.url("/schemas/pet.yaml#/Pet"));
        let err = map_document(&spec, &Settings::new().allow_remote_refs(true))
            .unwrap_err()
            .to_string();
        assert!(err.contains("--allow-remote-host 127.0.0.1"), "{err}");
        assert!(server.requests().is_empty(), "{:?}", server.requests());
    }

    #[test]
    fn plain_http_is_refused_unless_the_host_is_allowed() {
        let allowed = RefPolicy {
            allow_remote: true,
            allowed_hosts: vec!["specs.internal".to_owned()],
            ..Default::default()
        };
        let spec = spec_referring_to("http", "http://example.com/pet.yaml#/Pet");
        let err = refused(&spec, &allowed);
        assert!(err.contains("http://example.com/pet.yaml"), "{err}");
        assert!(err.contains("plain http"), "{err}");
        assert!(err.contains("--allow-remote-host example.com"), "{err}");
    }

    #[test]
    fn redirects_to_another_host_or_port_are_refused() {
        let other = Server::start(vec![("/schemas/pet.yaml", "200 OK", "", PET.to_owned())]);
        let server = Server::start(vec![
            (
                "/to-host.yaml",
                "302 Found",
                "location: http://localhost:{port}/schemas/pet.yaml\r\n",
                String::new(),
            ),
            (
                "/to-port.yaml",
                "301 Moved Permanently",
                &format!(
                    "location: http://127.0.0.1:{}/schemas/pet.yaml\r\n",
                    other.port
                ),
                String::new(),
            ),
            (
                "/to-scheme.yaml",
                "307 Temporary Redirect",
                "location: https://127.0.0.1:{port}/schemas/pet.yaml\r\n",
                String::new(),
            ),
            (
                "/r0.yaml",
                "302 Found",
                "location: /r1.yaml\r\n",
                String::new(),
            ),
            (
                "/r1.yaml",
                "302 Found",
                "location: /r2.yaml\r\n",
                String::new(),
            ),
            (
                "/r2.yaml",
                "302 Found",
                "location: /r3.yaml\r\n",
                String::new(),
            ),
            (
                "/r3.yaml",
                "302 Found",
                "location: /r4.yaml\r\n",
                String::new(),
            ),
            (
                "/r4.yaml",
                "302 Found",
                "location: /r5.yaml\r\n",
                String::new(),
            ),
            (
                "/r5.yaml",
                "302 Found",
                "location: /r6.yaml\r\n",
                String::new(),
            ),
            ("/r6.yaml", "200 OK", "", PET.to_owned()),
        ]);
        // Even hosts that are allowed are not redirected to from another one.
        let allowed = RefPolicy {
            allow_remote: true,
            allowed_hosts: vec!["127.0.0.1".to_owned(), "localhost".to_owned()],
            ..Default::default()
        };
        for path in ["/to-host.yaml", "/to-port.yaml", "/to-scheme.yaml"] {
            let spec = spec_referring_to("redirect-away", &server.url(&format!("{path}#/Pet")));
            let err = refused(&spec, &allowed);
            assert!(err.contains(&server.url(path)), "{err}");
            assert!(
                err.contains("redirects are followed only to the same scheme, host and port"),
                "{err}"
            );
        }
        assert!(other.requests().is_empty(), "{:?}", other.requests());

        let spec = spec_referring_to("redirect-loop", &server.url("/r0.yaml#/Pet"));
        let err = refused(&spec, &allowed);
        assert!(err.contains("more than 5 redirects"), "{err}");
        assert_eq!(server.count("/r6.yaml"), 0, "{:?}", server.requests());
    }

    #[test]
    fn the_remote_documents_of_a_run_are_bounded_in_size_together() {
        // Two documents of 40 MiB each: either alone is within the limit for one document, but
        // not both together.
        let padding = "x".repeat(40 << 20);
        let server = Server::start(vec![
            (
                "/a.json",
                "200 OK",
                "",
                format!(
                    "{{\"A\": {{\"type\": \"object\", \"properties\": {{\"b\": {{\"$ref\": \"b.json#/B\"}}}}}}, \"pad\": \"{padding}\"}}"
                ),
            ),
            (
                "/b.json",
                "200 OK",
                "",
                format!("{{\"B\": {{\"type\": \"string\"}}, \"pad\": \"{padding}\"}}"),
            ),
        ]);
        let spec = spec_referring_to("budget", &server.url("/a.json#/A"));
        let err = refused(&spec, &loopback_allowed());
        assert!(err.contains(&server.url("/b.json")), "{err}");
        assert!(
            err.contains(&format!("larger than {} bytes together", 64 * 1024 * 1024)),
            "{err}"
        );
        assert_eq!(server.count("/a.json"), 1);
    }
}
