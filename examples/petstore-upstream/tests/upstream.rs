//! End-to-end tests of the Petstore upstream over real HTTP.

use std::time::{Duration, Instant};

use petstore_upstream::Upstream;
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

const TOKEN: &str = "Bearer test-token";
const WAIT: Duration = Duration::from_secs(5);

async fn start() -> (Upstream, Client) {
    let upstream = Upstream::start(0).await.expect("upstream starts");
    (upstream, client())
}

/// A plain-http client. Tests of the whole workspace build reqwest with the runtime's features,
/// whose TLS takes the process's rustls provider: one is installed first, as the runtime does.
fn client() -> Client {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
    Client::new()
}

/// Sends an authorised request with an optional JSON body and returns status and parsed body.
async fn call(
    client: &Client,
    method: Method,
    url: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = client.request(method, url).header("Authorization", TOKEN);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request is sent");
    let status = response.status();
    let bytes = response.bytes().await.expect("body is read");
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).expect("body is JSON")
    };
    (status, body)
}

fn seeded_pets() -> Value {
    json!([
        {"id": "1", "name": "Rex", "tag": "dog", "status": "available"},
        {"id": "2", "name": "Tom", "tag": "cat", "status": "pending"},
        {"id": "3", "name": "Nemo", "tag": null, "status": "sold"},
    ])
}

#[tokio::test]
async fn base_url_has_the_spec_base_path() {
    let (upstream, _) = start().await;
    let addr = upstream.addr();
    assert!(addr.ip().is_loopback());
    assert_ne!(addr.port(), 0);
    assert_eq!(
        upstream.base_url(),
        format!("http://127.0.0.1:{}/v1", addr.port())
    );
}

#[tokio::test]
async fn every_api_route_requires_a_bearer_token() {
    let (upstream, client) = start().await;
    let base = upstream.base_url();
    let routes = [
        (Method::GET, format!("{base}/pets")),
        (Method::POST, format!("{base}/pets")),
        (Method::GET, format!("{base}/pets/1")),
        (Method::PUT, format!("{base}/pets/1")),
        (Method::DELETE, format!("{base}/pets/1")),
        (Method::GET, format!("{base}/store/inventory")),
    ];
    let bad_credentials = [
        None,
        Some("Bearer"),
        Some("Bearer   "),
        Some("Basic dXNlcjpwYXNz"),
    ];
    for (method, url) in &routes {
        for credentials in bad_credentials {
            let mut request = client.request(method.clone(), url);
            if let Some(value) = credentials {
                request = request.header("Authorization", value);
            }
            let response = request.send().await.expect("request is sent");
            assert_eq!(
                response.status(),
                StatusCode::UNAUTHORIZED,
                "{method} {url}"
            );
            assert_eq!(
                response
                    .headers()
                    .get("www-authenticate")
                    .and_then(|v| v.to_str().ok()),
                Some("Bearer")
            );
            let body: Value = response.json().await.expect("JSON error");
            assert_eq!(
                body,
                json!({"code": 401, "message": "missing or invalid bearer token"})
            );
        }
    }
    // Nothing was changed by the rejected calls.
    let (status, pets) = call(&client, Method::GET, &format!("{base}/pets"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(pets, seeded_pets());
    // The scheme is case-insensitive.
    let response = client
        .get(format!("{base}/pets"))
        .header("Authorization", "bearer abc")
        .send()
        .await
        .expect("request is sent");
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn list_pets_filters_limits_and_echoes_request_id() {
    let (upstream, client) = start().await;
    let base = upstream.base_url();

    let (status, pets) = call(&client, Method::GET, &format!("{base}/pets"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(pets, seeded_pets());

    let (_, pets) = call(&client, Method::GET, &format!("{base}/pets?limit=2"), None).await;
    assert_eq!(pets, json!(seeded_pets().as_array().expect("array")[..2]));

    let (_, pets) = call(
        &client,
        Method::GET,
        &format!("{base}/pets?tags=cat&tags=dog"),
        None,
    )
    .await;
    let names: Vec<&str> = pets
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|pet| pet["name"].as_str())
        .collect();
    assert_eq!(names, ["Rex", "Tom"]);

    let (_, pets) = call(
        &client,
        Method::GET,
        &format!("{base}/pets?tags=cat&tags=dog&limit=1"),
        None,
    )
    .await;
    assert_eq!(pets[0]["name"], "Rex");
    assert_eq!(pets.as_array().map(Vec::len), Some(1));

    let (_, pets) = call(
        &client,
        Method::GET,
        &format!("{base}/pets?tags=fish"),
        None,
    )
    .await;
    assert_eq!(pets, json!([]));

    for bad in ["0", "101", "-1", "two", ""] {
        let (status, body) = call(
            &client,
            Method::GET,
            &format!("{base}/pets?limit={bad}"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "limit={bad}");
        assert_eq!(body["code"], 400);
        assert!(
            body["message"]
                .as_str()
                .is_some_and(|m| m.contains("limit"))
        );
    }

    let response = client
        .get(format!("{base}/pets"))
        .header("Authorization", TOKEN)
        .header("X-Request-Id", "req-42")
        .send()
        .await
        .expect("request is sent");
    assert_eq!(
        response
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok()),
        Some("req-42")
    );
    let response = client
        .get(format!("{base}/pets"))
        .header("Authorization", TOKEN)
        .send()
        .await
        .expect("request is sent");
    assert!(response.headers().get("x-request-id").is_none());
}

#[tokio::test]
async fn create_pet_assigns_incrementing_ids_and_validates() {
    let (upstream, client) = start().await;
    let url = format!("{}/pets", upstream.base_url());

    let (status, pet) = call(&client, Method::POST, &url, Some(json!({"name": "Kitty"}))).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        pet,
        json!({"id": "4", "name": "Kitty", "tag": null, "status": "available"})
    );

    let (status, pet) = call(
        &client,
        Method::POST,
        &url,
        Some(json!({"name": "Polly", "tag": "bird", "status": "pending"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        pet,
        json!({"id": "5", "name": "Polly", "tag": "bird", "status": "pending"})
    );

    let (status, pet) = call(
        &client,
        Method::GET,
        &format!("{}/pets/5", upstream.base_url()),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(pet["name"], "Polly");

    let invalid = [
        json!({}),
        json!({"name": ""}),
        json!({"name": 7}),
        json!({"name": "X", "status": "lost"}),
        json!({"name": "X", "tag": 1}),
        json!([1, 2]),
    ];
    for body in invalid {
        let (status, error) = call(&client, Method::POST, &url, Some(body.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(error["code"], 400);
        assert!(error["message"].is_string());
    }
    let response = client
        .post(&url)
        .header("Authorization", TOKEN)
        .body("not json")
        .send()
        .await
        .expect("request is sent");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    // Rejected bodies did not use up ids.
    let (_, pet) = call(&client, Method::POST, &url, Some(json!({"name": "Six"}))).await;
    assert_eq!(pet["id"], "6");
}

#[tokio::test]
async fn get_pet_finds_or_reports_missing() {
    let (upstream, client) = start().await;
    let base = upstream.base_url();
    let (status, pet) = call(&client, Method::GET, &format!("{base}/pets/3"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        pet,
        json!({"id": "3", "name": "Nemo", "tag": null, "status": "sold"})
    );
    let (status, error) = call(&client, Method::GET, &format!("{base}/pets/99"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error, json!({"code": 404, "message": "pet 99 not found"}));
}

#[tokio::test]
async fn update_pet_replaces_fields_with_optimistic_name_check() {
    let (upstream, client) = start().await;
    let base = upstream.base_url();

    let (status, pet) = call(
        &client,
        Method::PUT,
        &format!("{base}/pets/1"),
        Some(json!({"name": "Max", "tag": "puppy"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        pet,
        json!({"id": "1", "name": "Max", "tag": "puppy", "status": "available"})
    );

    let (status, error) = call(
        &client,
        Method::PUT,
        &format!("{base}/pets/1?name=Rex"),
        Some(json!({"name": "Buddy"})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(error["code"], 409);
    assert!(error["message"].is_string());

    let (status, pet) = call(
        &client,
        Method::PUT,
        &format!("{base}/pets/1?name=Max"),
        Some(json!({"name": "Buddy", "tag": null, "status": "sold"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        pet,
        json!({"id": "1", "name": "Buddy", "tag": null, "status": "sold"})
    );
    let (_, stored) = call(&client, Method::GET, &format!("{base}/pets/1"), None).await;
    assert_eq!(stored, pet);

    let (status, error) = call(
        &client,
        Method::PUT,
        &format!("{base}/pets/42"),
        Some(json!({"name": "Ghost"})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error, json!({"code": 404, "message": "pet 42 not found"}));

    let (status, error) = call(
        &client,
        Method::PUT,
        &format!("{base}/pets/2"),
        Some(json!({"tag": "cat"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["code"], 400);
}

#[tokio::test]
async fn delete_pet_removes_it() {
    let (upstream, client) = start().await;
    let base = upstream.base_url();

    let response = client
        .delete(format!("{base}/pets/2"))
        .header("Authorization", TOKEN)
        .send()
        .await
        .expect("request is sent");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(response.bytes().await.expect("body").is_empty());

    let (status, _) = call(&client, Method::GET, &format!("{base}/pets/2"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, error) = call(&client, Method::DELETE, &format!("{base}/pets/2"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error, json!({"code": 404, "message": "pet 2 not found"}));
}

#[tokio::test]
async fn inventory_counts_by_status() {
    let (upstream, client) = start().await;
    let base = upstream.base_url();
    let inventory = format!("{base}/store/inventory");

    let response = client
        .get(&inventory)
        .header("Authorization", TOKEN)
        .send()
        .await
        .expect("request is sent");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.text().await.expect("body"),
        r#"{"available":1,"pending":1,"sold":1}"#
    );

    call(
        &client,
        Method::POST,
        &format!("{base}/pets"),
        Some(json!({"name": "New"})),
    )
    .await;
    call(&client, Method::DELETE, &format!("{base}/pets/3"), None).await;
    let (_, counts) = call(&client, Method::GET, &inventory, None).await;
    assert_eq!(counts, json!({"available": 2, "pending": 1, "sold": 0}));
}

#[tokio::test]
async fn unknown_routes_answer_json_errors() {
    let (upstream, client) = start().await;
    let base = upstream.base_url();
    let origin = format!("http://{}", upstream.addr());

    for url in [
        format!("{base}/nope"),
        format!("{base}/pets/1/extra"),
        format!("{origin}/"),
        format!("{origin}/pets"),
    ] {
        let (status, error) = call(&client, Method::GET, &url, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{url}");
        assert_eq!(error["code"], 404);
        assert!(error["message"].is_string());
    }

    let (status, error) = call(&client, Method::PATCH, &format!("{base}/pets"), None).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(error["code"], 405);

    // Requests that matched no route are recorded too.
    let paths: Vec<String> = upstream
        .requests()
        .into_iter()
        .map(|request| request.path)
        .collect();
    assert_eq!(
        paths,
        ["/v1/nope", "/v1/pets/1/extra", "/", "/pets", "/v1/pets"]
    );
}

#[tokio::test]
async fn records_the_raw_path_query_headers_and_body() {
    let (upstream, client) = start().await;
    let base = upstream.base_url();

    let (status, error) = call(&client, Method::GET, &format!("{base}/pets/a%2Fb"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error["message"], "pet a/b not found");

    call(
        &client,
        Method::GET,
        &format!("{base}/pets?tags=a%20b&tags=c+d&limit=5&tags=e"),
        None,
    )
    .await;

    let body: &[u8] = b"\x00\xffnot utf-8 {\"name\":";
    let response = client
        .post(format!("{base}/pets?x=1"))
        .header("Authorization", TOKEN)
        .header("Content-Type", "application/octet-stream")
        .header("X-Trace", "one")
        .header("X-Multi", "first")
        .header("X-Other", "between")
        .header("X-Multi", "second")
        .body(body.to_vec())
        .send()
        .await;
    assert_eq!(
        response.expect("request is sent").status(),
        StatusCode::BAD_REQUEST
    );

    let requests = upstream.wait_for_requests(3, WAIT).await;
    assert_eq!(requests.len(), 3);

    let first = &requests[0];
    assert_eq!(first.method, "GET");
    assert_eq!(first.path, "/v1/pets/a%2Fb");
    assert_eq!(first.query, None);
    assert!(first.body.is_empty());
    assert_eq!(first.header("authorization"), Some(TOKEN));
    assert_eq!(first.header("AUTHORIZATION"), Some(TOKEN));

    let second = &requests[1];
    assert_eq!(second.path, "/v1/pets");
    assert_eq!(
        second.query.as_deref(),
        Some("tags=a%20b&tags=c+d&limit=5&tags=e")
    );

    let third = &requests[2];
    assert_eq!(third.method, "POST");
    assert_eq!(third.path, "/v1/pets");
    assert_eq!(third.query.as_deref(), Some("x=1"));
    assert_eq!(third.body, body);
    assert_eq!(third.header("x-trace"), Some("one"));
    assert_eq!(
        third.header("Content-Type"),
        Some("application/octet-stream")
    );
    assert_eq!(
        third.header("content-length"),
        Some(body.len().to_string().as_str())
    );
    assert_eq!(
        third.header_values("X-Multi").collect::<Vec<_>>(),
        ["first", "second"]
    );
    assert!(third.header("x-missing").is_none());
    for (name, _) in &third.headers {
        assert_eq!(name, &name.to_ascii_lowercase());
    }
    let names: Vec<&str> = third.headers.iter().map(|(n, _)| n.as_str()).collect();
    let position = |wanted: &str| names.iter().position(|n| *n == wanted);
    assert!(position("x-trace") < position("x-multi"));
    assert!(position("x-multi") < position("x-other"));

    let json = serde_json::to_value(third).expect("serialisable");
    assert_eq!(json["method"], "POST");
    assert_eq!(json["path"], "/v1/pets");
}

#[tokio::test]
async fn records_rejected_requests_before_auth() {
    let (upstream, client) = start().await;
    let response = client
        .post(format!("{}/pets", upstream.base_url()))
        .body(r#"{"name":"Sneaky"}"#)
        .send()
        .await
        .expect("request is sent");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let requests = upstream.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].body, br#"{"name":"Sneaky"}"#);
    assert!(requests[0].header("authorization").is_none());
}

#[tokio::test]
async fn wait_for_requests_waits_and_times_out() {
    let (upstream, client) = start().await;
    let url = format!("{}/pets", upstream.base_url());

    let started = Instant::now();
    assert!(
        upstream
            .wait_for_requests(1, Duration::from_millis(100))
            .await
            .is_empty()
    );
    assert!(started.elapsed() >= Duration::from_millis(100));
    assert!(
        upstream
            .wait_for_requests(0, Duration::from_secs(60))
            .await
            .is_empty()
    );

    let sender = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        for _ in 0..2 {
            client
                .get(&url)
                .header("Authorization", TOKEN)
                .send()
                .await
                .expect("request is sent");
        }
    });
    let requests = upstream.wait_for_requests(2, WAIT).await;
    assert_eq!(requests.len(), 2);
    sender.await.expect("sender finishes");

    upstream.clear();
    assert!(upstream.requests().is_empty());
}

#[tokio::test]
async fn clear_keeps_the_store() {
    let (upstream, client) = start().await;
    let base = upstream.base_url();
    call(&client, Method::DELETE, &format!("{base}/pets/1"), None).await;
    upstream.clear();
    let (_, pets) = call(&client, Method::GET, &format!("{base}/pets"), None).await;
    assert_eq!(pets.as_array().map(Vec::len), Some(2));
    assert_eq!(upstream.requests().len(), 1);
}

#[tokio::test]
async fn slow_helper_sleeps_without_auth() {
    let (upstream, client) = start().await;
    let started = Instant::now();
    let response = client
        .get(format!("http://{}/__slow?ms=150", upstream.addr()))
        .send()
        .await
        .expect("request is sent");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.json::<Value>().await.expect("JSON"),
        json!({"slept": 150})
    );
    assert!(started.elapsed() >= Duration::from_millis(150));

    for query in ["", "?ms=soon", "?ms=-5"] {
        let response = client
            .get(format!("http://{}/__slow{query}", upstream.addr()))
            .send()
            .await
            .expect("request is sent");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
    }
}

#[tokio::test]
async fn conformance_helpers_answer_without_auth() {
    let (upstream, client) = start().await;
    let get = |path: &str| {
        client
            .get(format!("http://{}{path}", upstream.addr()))
            .send()
    };
    let text = get("/__conformance/static-text")
        .await
        .expect("request is sent");
    assert_eq!(text.status(), StatusCode::OK);
    assert_eq!(text.headers()["content-type"], "text/plain; charset=utf-8");
    assert_eq!(text.text().await.unwrap(), petstore_upstream::STATIC_TEXT);
    let image = get("/__conformance/static-binary")
        .await
        .expect("request is sent");
    assert_eq!(image.headers()["content-type"], "image/png");
    let bytes = image.bytes().await.unwrap();
    assert_eq!(&bytes[..], petstore_upstream::STATIC_PNG);
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
    let data = get("/__conformance/template/a%20b/data")
        .await
        .expect("request is sent");
    assert_eq!(
        data.json::<Value>().await.expect("JSON"),
        json!({"id": "a b", "templateTest": true, "data": "Data for ID: a b"})
    );
    let audio = get("/__conformance/audio").await.expect("request is sent");
    assert_eq!(audio.headers()["content-type"], "audio/wav");
    assert!(audio.bytes().await.unwrap().starts_with(b"RIFF"));
    let error = get("/__conformance/error").await.expect("request is sent");
    assert_eq!(error.status(), StatusCode::INTERNAL_SERVER_ERROR);
    // Two 503s with `Retry-After: 0`, then the answer.
    let flaky: Vec<u16> = [
        get("/__conformance/flaky").await.unwrap().status().as_u16(),
        get("/__conformance/flaky").await.unwrap().status().as_u16(),
        get("/__conformance/flaky").await.unwrap().status().as_u16(),
    ]
    .into();
    assert_eq!(flaky.iter().filter(|s| **s == 503).count(), 2);
    assert!(flaky.contains(&200));
    let greeting = get("/__conformance/greet?name=Ada").await.unwrap();
    assert_eq!(greeting.text().await.unwrap(), "Hello, Ada!");
}

#[tokio::test]
async fn big_helper_returns_exact_size_json_string() {
    let (upstream, client) = start().await;
    for (asked, expected) in [
        (1_000_usize, 1_000_usize),
        (2, 2),
        (0, 2),
        (1 << 20, 1 << 20),
    ] {
        let response = client
            .get(format!("http://{}/__big?bytes={asked}", upstream.addr()))
            .send()
            .await
            .expect("request is sent");
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/json")
        );
        let bytes = response.bytes().await.expect("body");
        assert_eq!(bytes.len(), expected, "bytes={asked}");
        let value: Value = serde_json::from_slice(&bytes).expect("valid JSON");
        assert!(value.is_string());
    }
    let response = client
        .get(format!("http://{}/__big?bytes=lots", upstream.addr()))
        .send()
        .await
        .expect("request is sent");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn shutdown_stops_listening() {
    let (upstream, client) = start().await;
    let url = format!("{}/pets", upstream.base_url());
    upstream.shutdown().await.expect("clean shutdown");
    let result = client.get(&url).header("Authorization", TOKEN).send().await;
    assert!(result.is_err());
}

#[cfg(unix)]
#[test]
fn binary_prints_its_url_and_stops_on_sigterm() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let mut child = Command::new(env!("CARGO_BIN_EXE_petstore-upstream"))
        .args(["--port", "0"])
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts");
    let stderr = child.stderr.take().expect("stderr is piped");
    let mut stderr = BufReader::new(stderr);
    let mut line = String::new();
    stderr.read_line(&mut line).expect("first stderr line");
    let url = line
        .trim_end()
        .strip_prefix("petstore upstream listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    assert!(url.starts_with("http://127.0.0.1:"));
    assert!(url.ends_with("/v1"));

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let status = runtime.block_on(async {
        client()
            .get(format!("{url}/store/inventory"))
            .header("Authorization", TOKEN)
            .send()
            .await
            .expect("request is sent")
            .status()
    });
    assert_eq!(status, StatusCode::OK);

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let deadline = Instant::now() + WAIT;
    let exit = loop {
        if let Some(exit) = child.try_wait().expect("child status") {
            break exit;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("binary did not stop on SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "exit status {exit}");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).expect("rest of stderr");
    assert!(rest.contains("shutting down"), "stderr: {rest:?}");
}

#[tokio::test]
async fn streams_and_extension_methods_are_answered_and_recorded() {
    let (upstream, client) = start().await;
    let base = format!("http://{}", upstream.addr());
    let query = Method::from_bytes(b"QUERY").unwrap();
    let sse = client
        .request(query, format!("{base}/__stream/sse?n=2"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(sse.status(), StatusCode::OK);
    assert_eq!(sse.headers()["content-type"], "text/event-stream");
    let text = sse.text().await.unwrap();
    assert!(
        text.starts_with(": stream of ticks\n\nretry: 1000\nevent: tick\nid: 1\n"),
        "{text}"
    );
    assert!(
        text.ends_with("data: {\"seq\":2,\"word\":\"item-2\"}\n\n"),
        "{text}"
    );

    let jsonl = client
        .get(format!("{base}/__stream/jsonl?n=3"))
        .send()
        .await
        .unwrap();
    assert_eq!(jsonl.headers()["content-type"], "application/jsonl");
    let lines: Vec<Value> = jsonl
        .text()
        .await
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[2], json!({"seq": 3, "word": "item-3"}));

    let purge = Method::from_bytes(b"PURGE").unwrap();
    let echoed = client
        .request(purge, format!("{base}/__echo/cache/7"))
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.status(), StatusCode::OK);
    let recorded = upstream.requests();
    let methods: Vec<&str> = recorded.iter().map(|r| r.method.as_str()).collect();
    assert_eq!(methods, ["QUERY", "GET", "PURGE"]);
    assert_eq!(recorded[0].body, b"{}");
}
