//! Properties of request building that must hold for every value a caller can send.

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
};

fn args(id: &str, q: &str, h: &str) -> Map<String, Value> {
    json!({"id": id, "q": q, "h": h})
        .as_object()
        .cloned()
        .unwrap_or_default()
}

proptest! {
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
            // Only whole dot segments are refused.
            Err(e) => prop_assert!(id == "." || id == "..", "{} refused: {}", id, e),
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
