//! Properties of request building that must hold for every value a caller can send.

use mcpgen::params::has_dot_segment;
use mcpgen::request::{Upstream, build};
use mcpgen::{
    BodyEncoding, BodyPlan, BodyShape, CallPlan, HttpMethod, ParamLocation, ParamPlan, ParamStyle,
};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

const PARAMS: &[ParamPlan] = &[
    ParamPlan {
        arg: "id",
        name: "id",
        location: ParamLocation::Path,
        style: ParamStyle::Simple,
        explode: false,
        allow_reserved: false,
        json: false,
        fixed: None,
    },
    ParamPlan {
        arg: "q",
        name: "q",
        location: ParamLocation::Query,
        style: ParamStyle::Form,
        explode: true,
        allow_reserved: false,
        json: false,
        fixed: None,
    },
    ParamPlan {
        arg: "h",
        name: "X-H",
        location: ParamLocation::Header,
        style: ParamStyle::Simple,
        explode: false,
        allow_reserved: false,
        json: false,
        fixed: None,
    },
];

const PLAN: CallPlan = CallPlan {
    method: HttpMethod::Post,
    path: "/items/{id}/sub",
    params: PARAMS,
    body: Some(BodyPlan {
        media_type: "application/json",
        encoding: BodyEncoding::Json,
        shape: BodyShape::Whole("body"),
        required: false,
        file_fields: &[],
    }),
    security: &[],
    oauth_scopes: &[],
    caller_scopes: &[],
};

fn args(id: &str, q: &str, h: &str) -> Map<String, Value> {
    json!({"id": id, "q": q, "h": h})
        .as_object()
        .cloned()
        .unwrap_or_default()
}

/// Pieces that path traversal is made of, in the spellings upstreams and proxies decode.
const TRAVERSAL_PIECES: &[&str] = &[
    ".", "..", "/", "\\", "%2e", "%2E", "%2f", "%2F", "%5c", "%5C", "%25", "%252e", "%252f", "25",
    "2e", "2f", ";", "%3B", "%c0%ae", "%c0%af", "a", "admin", "?", "#", "%00", "~", " ",
];

/// A path parameter named `id` in the given style, in `/files/{id}/raw`.
fn styled_plan(style: ParamStyle, explode: bool) -> CallPlan {
    let param = Box::leak(Box::new([ParamPlan {
        arg: "id",
        name: "id",
        location: ParamLocation::Path,
        style,
        explode,
        allow_reserved: false,
        json: false,
        fixed: None,
    }]));
    CallPlan {
        method: HttpMethod::Get,
        path: "/files/{id}/raw",
        params: param,
        body: None,
        security: &[],
        oauth_scopes: &[],
        caller_scopes: &[],
    }
}

proptest! {
    /// No string a path argument can hold, in any path style, gets the request out of the
    /// operation's path: the URL's path starts with the base path and the template's literal
    /// prefix, and holds no `.` or `..` segment however often it is percent-decoded (what an
    /// upstream that decodes `%2F` before normalising would resolve). Values built from
    /// traversal pieces are refused as a tool error naming the argument.
    #[test]
    fn path_values_never_escape_the_operations_path(
        pieces in proptest::collection::vec(proptest::sample::select(TRAVERSAL_PIECES), 1..12),
        any in "\\PC{0,12}",
        style in proptest::sample::select(&[ParamStyle::Simple, ParamStyle::Label, ParamStyle::Matrix][..]),
        explode in any::<bool>(),
        as_list in any::<bool>(),
    ) {
        let upstream = Upstream::parse("https://api.example.com/v1").unwrap();
        let plan = styled_plan(style, explode);
        let text = format!("{}{}", pieces.concat(), any);
        let value = if as_list { json!([text, pieces.concat()]) } else { json!(text) };
        let args = json!({"id": value}).as_object().cloned().unwrap_or_default();
        match build(&plan, &args, &upstream, &[], &[]) {
            Ok(req) => {
                prop_assert_eq!(req.url.host_str(), Some("api.example.com"));
                prop_assert!(req.url.path().starts_with("/v1/files/"), "{}", req.url);
                prop_assert!(req.url.path().ends_with("/raw"), "{}", req.url);
                prop_assert!(!has_dot_segment(req.url.path()), "{}", req.url);
                prop_assert_eq!(req.url.path().matches('/').count(), 4, "{}", req.url);
            }
            Err(e) => prop_assert!(e.to_string().contains("argument `id`"), "{}: {}", text, e),
        }
    }

    /// Whatever the path argument holds, the request goes to the configured origin, below the
    /// base path, with exactly the template's segments, and the value decodes back unchanged.
    #[test]
    fn path_arguments_cannot_move_the_request(id in "\\PC{1,40}", q in "\\PC{0,20}") {
        let upstream = Upstream::parse("https://api.example.com/v1").unwrap();
        match build(&PLAN, &args(&id, &q, "x"), &upstream, &[], &[]) {
            Ok(req) => {
                prop_assert_eq!(req.url.host_str(), Some("api.example.com"));
                let segments: Vec<&str> = req.url.path().split('/').collect();
                prop_assert_eq!(segments.len(), 5, "{}", req.url);
                prop_assert_eq!(segments[1], "v1");
                prop_assert_eq!(segments[2], "items");
                prop_assert_eq!(segments[4], "sub");
                let decoded = percent_encoding::percent_decode_str(segments[3]).decode_utf8().unwrap();
                prop_assert_eq!(decoded.as_ref(), id.as_str());
                prop_assert!(req.url.fragment().is_none());
                let pairs: Vec<(String, String)> = req.url.query_pairs().into_owned().collect();
                prop_assert_eq!(pairs, vec![("q".to_owned(), q.clone())]);
            }
            // Only values that are, or decode to, a path with a dot segment are refused.
            Err(e) => prop_assert!(
                has_dot_segment(&id),
                "{} refused: {}", id, e
            ),
        }
    }

    /// Header values either arrive unchanged or are refused; never split into two headers.
    #[test]
    fn header_arguments_cannot_inject(h in "[ -~]{0,30}(\r|\n|\r\n)?[ -~]{0,30}") {
        let upstream = Upstream::parse("https://api.example.com").unwrap();
        match build(&PLAN, &args("1", "", &h), &upstream, &[], &[]) {
            Ok(req) => {
                prop_assert!(!h.contains(['\r', '\n']));
                prop_assert_eq!(req.headers.get_all("x-h").iter().count(), 1);
                prop_assert_eq!(req.headers["x-h"].as_bytes(), h.as_bytes());
            }
            Err(e) => prop_assert!(h.contains(['\r', '\n']), "{:?} refused: {}", h, e),
        }
    }
}
