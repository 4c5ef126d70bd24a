//! Arbitrary tool arguments and credentials against fixed call plans that cover every parameter
//! style and location and every body encoding, through the runtime's request builder. Whatever
//! the arguments, a built request stays on the upstream's origin and below its base path, keeps
//! the template's segments, and carries no line break in a header.

#![no_main]

use std::sync::OnceLock;

use arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use mcpgen::credentials::{Credential, Secret};
use mcpgen::request::{Upstream, build};
use mcpgen::{
    BodyEncoding, BodyPlan, BodyShape, CallPlan, HttpMethod, ParamLocation, ParamPlan, ParamStyle,
    SecurityKind, SecuritySchemeDescriptor,
};
use serde_json::{Map, Value, json};

const fn param(
    arg: &'static str,
    name: &'static str,
    location: ParamLocation,
    style: ParamStyle,
    explode: bool,
) -> ParamPlan {
    ParamPlan {
        arg,
        name,
        location,
        style,
        explode,
        allow_reserved: false,
        json: false,
        fixed: None,
    }
}

const fn json_param(arg: &'static str, location: ParamLocation, style: ParamStyle) -> ParamPlan {
    ParamPlan {
        json: true,
        ..param(arg, arg, location, style, false)
    }
}

const fn fixed(name: &'static str, location: ParamLocation, value: &'static str) -> ParamPlan {
    ParamPlan {
        arg: "",
        fixed: Some(value),
        ..param("", name, location, ParamStyle::Simple, false)
    }
}

use ParamLocation::{Cookie, Header, Path, Query};
use ParamStyle::{DeepObject, Form, Label, Matrix, PipeDelimited, Simple, SpaceDelimited};

/// Every path style, and every query style.
const PATH_AND_QUERY: &[ParamPlan] = &[
    param("s", "s", Path, Simple, false),
    param("se", "se", Path, Simple, true),
    param("l", "l", Path, Label, false),
    param("le", "le", Path, Label, true),
    param("m", "m", Path, Matrix, false),
    param("me", "me", Path, Matrix, true),
    json_param("j", Path, Simple),
    fixed("fx", Path, "\"v 1\""),
    param("qf", "qf", Query, Form, false),
    param("qfe", "qfe", Query, Form, true),
    param("qs", "qs", Query, SpaceDelimited, false),
    param("qp", "qp", Query, PipeDelimited, false),
    param("qd", "qd", Query, DeepObject, true),
    ParamPlan {
        allow_reserved: true,
        ..param("qr", "qr", Query, Form, true)
    },
    json_param("qj", Query, Form),
    fixed("qfixed", Query, "[1, \"a&b\"]"),
    param("s_query", "s", Query, Form, true),
];

/// Headers (including names the server owns) and cookies.
const HEADERS_AND_COOKIES: &[ParamPlan] = &[
    param("id", "id", Path, Simple, false),
    param("h", "X-H", Header, Simple, false),
    param("he", "X-He", Header, Simple, true),
    json_param("hj", Header, Simple),
    param("host", "Host", Header, Simple, false),
    param("session", "Mcp-Session-Id", Header, Simple, false),
    param("ct", "Content-Type", Header, Simple, false),
    param("c", "c", Cookie, Form, false),
    param("ce", "ce", Cookie, Form, true),
    json_param("cj", Cookie, Form),
    fixed("X-Fixed", Header, "\"fixed\""),
];

const ID: &[ParamPlan] = &[param("id", "id", Path, Simple, false)];
const TWO_IN_ONE: &[ParamPlan] = &[
    param("a", "a", Path, Simple, false),
    param("b", "b", Path, Label, false),
];

const fn body(
    media_type: &'static str,
    encoding: BodyEncoding,
    shape: BodyShape,
    required: bool,
    file_fields: &'static [&'static str],
) -> Option<BodyPlan> {
    Some(BodyPlan {
        media_type,
        encoding,
        shape,
        required,
        file_fields,
    })
}

const fn plan(
    method: HttpMethod,
    path: &'static str,
    params: &'static [ParamPlan],
    body: Option<BodyPlan>,
) -> CallPlan {
    CallPlan {
        method,
        path,
        params,
        body,
        security: &[],
        oauth_scopes: &[],
    }
}

const PLANS: &[CallPlan] = &[
    plan(
        HttpMethod::Get,
        "/s/{s}/{se}/l/{l}/{le}/m/{m}{me}/j/{j}/fixed/{fx}",
        PATH_AND_QUERY,
        None,
    ),
    plan(
        HttpMethod::Post,
        "/items/{id}",
        HEADERS_AND_COOKIES,
        body(
            "application/json",
            BodyEncoding::Json,
            BodyShape::Flattened(&["name", "tags"]),
            true,
            &[],
        ),
    ),
    plan(
        HttpMethod::Put,
        "/files/{id}/raw",
        ID,
        body(
            "multipart/form-data",
            BodyEncoding::Multipart,
            BodyShape::Flattened(&["file", "meta", "title"]),
            false,
            &["file"],
        ),
    ),
    plan(
        HttpMethod::Patch,
        "/",
        &[],
        body(
            "application/x-www-form-urlencoded",
            BodyEncoding::Form,
            BodyShape::Whole("body"),
            true,
            &[],
        ),
    ),
    plan(
        HttpMethod::Delete,
        "/t/{id}",
        ID,
        body(
            "text/plain",
            BodyEncoding::Text,
            BodyShape::Whole("body"),
            false,
            &[],
        ),
    ),
    plan(
        HttpMethod::Post,
        "/bin",
        &[],
        body(
            "application/octet-stream",
            BodyEncoding::Binary,
            BodyShape::Whole("body"),
            true,
            &[],
        ),
    ),
    plan(
        HttpMethod::Post,
        "/bin/{id}",
        ID,
        body(
            "image/*",
            BodyEncoding::Binary,
            BodyShape::Whole("body"),
            false,
            &[],
        ),
    ),
    plan(HttpMethod::Head, "/x/{missing}/{a}{b}", TWO_IN_ONE, None),
    plan(
        HttpMethod::Options,
        "/{a}{b}",
        TWO_IN_ONE,
        body(
            "application/merge-patch+json",
            BodyEncoding::Json,
            BodyShape::Whole("body"),
            false,
            &[],
        ),
    ),
    plan(
        HttpMethod::Trace,
        "/m/{id}",
        ID,
        body(
            "multipart/form-data",
            BodyEncoding::Multipart,
            BodyShape::Whole("body"),
            true,
            &["f", "g"],
        ),
    ),
];

const SCHEMES: &[SecuritySchemeDescriptor] = &[
    SecuritySchemeDescriptor {
        name: "bearer",
        kind: SecurityKind::Bearer,
        env: &["T"],
    },
    SecuritySchemeDescriptor {
        name: "basic",
        kind: SecurityKind::Basic,
        env: &["U", "P"],
    },
    SecuritySchemeDescriptor {
        name: "header",
        kind: SecurityKind::ApiKey(Header, "X-Key"),
        env: &["K"],
    },
    SecuritySchemeDescriptor {
        name: "query",
        kind: SecurityKind::ApiKey(Query, "api_key"),
        env: &["Q"],
    },
    SecuritySchemeDescriptor {
        name: "cookie",
        kind: SecurityKind::ApiKey(Cookie, "sid"),
        env: &["C"],
    },
    SecuritySchemeDescriptor {
        name: "oauth",
        kind: SecurityKind::OAuth2ClientCredentials {
            token_url: "/token",
        },
        env: &["O", "I", "S"],
    },
    SecuritySchemeDescriptor {
        name: "bad-header",
        kind: SecurityKind::ApiKey(Header, "bad header"),
        env: &["B"],
    },
];

const UPSTREAMS: &[&str] = &[
    "http://127.0.0.1:9/v1/",
    "https://api.example.com",
    "http://[::1]:8080/base/path",
    "http://h/v1",
    "https://h:443/a%20b/",
];

fn upstreams() -> &'static [Upstream] {
    static PARSED: OnceLock<Vec<Upstream>> = OnceLock::new();
    PARSED.get_or_init(|| {
        UPSTREAMS
            .iter()
            .map(|u| Upstream::parse(u).expect("fixed upstreams parse"))
            .collect()
    })
}

const STRINGS: &[&str] = &[
    "",
    ".",
    "..",
    "%2e",
    "%2E%2e",
    ".%2e",
    "/",
    "../admin",
    "a/b",
    "?x=1",
    "#f",
    "\r\n",
    "\n",
    "\r",
    "\0",
    "é",
    "a b",
    "http://evil.example/",
    "//evil.example",
    "@evil.example",
    ";",
    ",",
    "=",
    "&",
    "+",
    "\\",
    "\u{7f}",
    "\t",
    "data:text/plain,a%20b",
    "data:image/png;base64,aGk=",
    "data:;base64,",
    "data:x\r\ny;base64,aGk=",
    "data:a\"b;base64,aGk=",
    "aGk=",
    "aGk",
    "!!",
    "--mcpgen-",
    "mcpgen-00000000000000000000000000000000",
];

const ARGS: &[&str] = &[
    "s", "se", "l", "le", "m", "me", "j", "fx", "qf", "qfe", "qs", "qp", "qd", "qr", "qj",
    "s_query", "id", "h", "he", "hj", "host", "session", "ct", "c", "ce", "cj", "name", "tags",
    "file", "meta", "title", "body", "a", "b", "f", "g", "missing",
];

struct Gen<'a, 'b> {
    u: &'b mut Unstructured<'a>,
    budget: u32,
}

impl Gen<'_, '_> {
    fn below(&mut self, n: usize) -> usize {
        if n <= 1 {
            return 0;
        }
        self.u.int_in_range(0..=n - 1).unwrap_or(0)
    }

    fn string(&mut self) -> String {
        match self.below(3) {
            0 => {
                let len = self.below(10);
                (0..len)
                    .map(|_| self.u.arbitrary::<char>().unwrap_or('a'))
                    .collect()
            }
            1 => {
                let a = STRINGS[self.below(STRINGS.len())];
                let b = STRINGS[self.below(STRINGS.len())];
                format!("{a}{b}")
            }
            _ => STRINGS[self.below(STRINGS.len())].to_owned(),
        }
    }

    fn value(&mut self, depth: u32) -> Value {
        if self.budget == 0 || depth > 3 {
            return Value::String(self.string());
        }
        self.budget -= 1;
        match self.below(10) {
            0 => Value::Null,
            1 => Value::Bool(self.u.arbitrary().unwrap_or(false)),
            2 => json!(self.u.arbitrary::<i64>().unwrap_or(0)),
            3 => json!(
                self.u
                    .arbitrary::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .unwrap_or(0.5)
            ),
            4 => {
                let n = self.below(4);
                Value::Array((0..n).map(|_| self.value(depth + 1)).collect())
            }
            5 => {
                let n = self.below(4);
                let mut map = Map::new();
                for _ in 0..n {
                    map.insert(self.string(), self.value(depth + 1));
                }
                Value::Object(map)
            }
            6 => {
                let mut file = Map::new();
                file.insert("content".into(), Value::String(self.string()));
                if self.below(2) == 0 {
                    file.insert("filename".into(), Value::String(self.string()));
                }
                if self.below(2) == 0 {
                    file.insert("contentType".into(), Value::String(self.string()));
                }
                Value::Object(file)
            }
            _ => Value::String(self.string()),
        }
    }

    fn credential(&mut self) -> Credential {
        let secret = Secret::new(self.string());
        if self.below(2) == 0 {
            Credential::Authorization(secret)
        } else {
            Credential::ApiKey(secret)
        }
    }
}

fuzz_target!(|data: &[u8]| {
    mcpgen_fuzz::catch_stack_overflow();
    let mut u = Unstructured::new(data);
    let mut g = Gen {
        u: &mut u,
        budget: 64,
    };
    let plan = &PLANS[g.below(PLANS.len())];
    let upstream = &upstreams()[g.below(UPSTREAMS.len())];
    let mut args = Map::new();
    for _ in 0..g.below(12) {
        let name = match g.below(8) {
            0 => g.string(),
            _ => ARGS[g.below(ARGS.len())].to_owned(),
        };
        let value = g.value(0);
        args.insert(name, value);
    }
    let credentials: Vec<(usize, Credential)> = (0..g.below(4))
        .map(|_| (g.below(SCHEMES.len() + 1), g.credential()))
        .collect();

    let Ok(request) = build(plan, &args, upstream, SCHEMES, &credentials) else {
        return;
    };
    let base = upstream.url();
    let url = &request.url;
    assert_eq!(url.scheme(), base.scheme(), "{url}");
    assert_eq!(url.host_str(), base.host_str(), "{url}");
    assert_eq!(
        url.port_or_known_default(),
        base.port_or_known_default(),
        "{url}"
    );
    assert_eq!(url.fragment(), None, "{url}");
    let base_path = base.path().trim_end_matches('/');
    assert!(
        url.path().starts_with(base_path),
        "{url} is not below {base}"
    );
    let expected_segments = format!("{base_path}{}", plan.path).split('/').count();
    assert_eq!(
        url.path().split('/').count(),
        expected_segments,
        "{url} does not have the segments of {}",
        plan.path
    );
    assert!(!request.describe().contains('?'), "{}", request.describe());
    for (name, value) in &request.headers {
        assert!(
            !value
                .as_bytes()
                .iter()
                .any(|b| matches!(b, b'\r' | b'\n' | 0)),
            "header {name} carries a line break"
        );
    }
    assert!(!request.headers.contains_key("host"));
    assert!(!request.headers.contains_key("mcp-session-id"));
    let authorization_given = credentials
        .iter()
        .any(|(i, c)| matches!(*i, 0 | 1 | 5) && matches!(c, Credential::Authorization(_)));
    if !authorization_given {
        assert!(!request.headers.contains_key("authorization"));
    }
});
