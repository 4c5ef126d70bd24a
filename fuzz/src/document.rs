//! Builds JSON shaped like an OpenAPI document (Swagger 2.0 or OpenAPI 3.x) from fuzzer bytes,
//! either from scratch or by editing one of the seed documents, so that the fuzzer spends its
//! time in paths, parameters, bodies, schemas and `$ref`s rather than in the parsers.

use std::sync::OnceLock;

use arbitrary::Unstructured;
use serde_json::{Map, Value, json};

/// The seed documents, embedded so that editing one costs no file read.
const SEEDS: &[(&str, &str)] = &[
    (
        "petstore.yaml",
        include_str!("../../examples/petstore/openapi.yaml"),
    ),
    (
        "openapi31.yaml",
        include_str!("../../codegen/tests/fixtures/openapi31.yaml"),
    ),
    (
        "swagger2.json",
        include_str!("../../codegen/tests/fixtures/swagger2.json"),
    ),
    (
        "quirks.yaml",
        include_str!("../../codegen/tests/fixtures/quirks.yaml"),
    ),
    (
        "extension.yaml",
        include_str!("../../codegen/tests/fixtures/extension.yaml"),
    ),
    (
        "broken-ref.yaml",
        include_str!("../../codegen/tests/fixtures/broken-ref.yaml"),
    ),
    (
        "multi.yaml",
        include_str!("../../codegen/tests/fixtures/multi/openapi.yaml"),
    ),
    (
        "kitchen-sink.yaml",
        include_str!("../../tests/fixtures/kitchen-sink.yaml"),
    ),
    (
        "faults.yaml",
        include_str!("../../tests/fixtures/faults.yaml"),
    ),
];

fn seeds() -> &'static [Value] {
    static PARSED: OnceLock<Vec<Value>> = OnceLock::new();
    PARSED.get_or_init(|| {
        SEEDS
            .iter()
            .map(|(name, text)| {
                mcpgen_codegen::load::parse_text(std::path::Path::new(name), text)
                    .expect("seed documents parse")
            })
            .collect()
    })
}

/// The text of a generated document and the extension to write it under.
pub struct Generated {
    /// The document's text.
    pub text: Vec<u8>,
    /// `json` or `yaml`.
    pub extension: &'static str,
    /// Picks the generator settings (see [`crate::settings_for`]).
    pub variant: u8,
}

/// Builds one document from `data`.
pub fn generate(data: &[u8]) -> Generated {
    // The last byte picks the settings without shifting what the others mean.
    let variant = data.last().copied().unwrap_or(0);
    let mut u = Unstructured::new(data);
    let mut g = Gen {
        u: &mut u,
        budget: 200,
        swagger: false,
    };
    let doc = if g.below(4) == 0 {
        g.edited_seed()
    } else {
        g.document()
    };
    let (text, extension) = match g.below(4) {
        0 => (
            serde_yaml_ng::to_string(&doc)
                .unwrap_or_default()
                .into_bytes(),
            "yaml",
        ),
        1 => (serde_json::to_vec_pretty(&doc).unwrap_or_default(), "yaml"),
        _ => (serde_json::to_vec(&doc).unwrap_or_default(), "json"),
    };
    Generated {
        text,
        extension,
        variant,
    }
}

const STRINGS: &[&str] = &[
    "",
    "a",
    "id",
    "{id}",
    ".",
    "..",
    "%2e%2E",
    "%",
    "%zz",
    "#",
    "#/",
    "/",
    "~",
    "~1",
    "~0",
    "\0",
    "\r\n",
    "é",
    "a b",
    "\"",
    "\\",
    "*/",
    "{{ x }}",
    "{% if %}",
    "]\n[workspace]",
    "true",
    "null",
    "0",
    "-1",
    "r#\"",
    "\u{202e}",
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
];

const NAMES: &[&str] = &[
    "id",
    "petId",
    "limit",
    "name",
    "body",
    "request_body",
    "requestBody",
    "file",
    "files",
    "tags",
    "X-Trace",
    "x-trace",
    "Host",
    "Authorization",
    "Cookie",
    "Content-Type",
    "mcp-session-id",
    "a b",
    "a.b",
    "_",
    "",
    "é",
    "id_query",
    "id_path",
    "status",
    "q",
    "$ref",
    "x-mcpgen",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
];

const SCHEMA_NAMES: &[&str] = &["A", "B", "C", "Pet", "a/b", "a~b", "x y", "ref_A"];

const SCHEMA_REFS: &[&str] = &[
    "#/components/schemas/A",
    "#/components/schemas/B",
    "#/components/schemas/C",
    "#/components/schemas/Pet",
    "#/components/schemas/a~1b",
    "#/components/schemas/a~0b",
    "#/components/schemas/x%20y",
    "#/components/schemas/ref_A",
    "#/components/schemas/A/properties/id",
    "#/components/schemas/A/items",
    "#/components/schemas/A/allOf/0",
    "#/components/schemas/Missing",
    "#/definitions/A",
    "#/definitions/B",
    "#/definitions/Pet",
    "#",
    "#/",
    "#/paths",
    "#/components",
    "#/components/parameters/P/schema",
    "#%",
    "#/%zz",
    "common.json#/components/schemas/X",
    "common.json#/components/schemas/Z",
    "common.json#/loop",
    "schemas/pet.yaml",
    "./schemas/tag.yaml",
    "openapi.json#/components/schemas/A",
    "openapi.yaml#/components/schemas/A",
    "../outside.yaml",
    "/etc/hostname",
    "http://127.0.0.1:1/x.yaml",
    "missing.yaml#/A",
];

const PARAM_REFS: &[&str] = &[
    "#/components/parameters/P",
    "#/components/parameters/Q",
    "#/parameters/P",
    "#/parameters/Q",
    "parameters.yaml#/limit",
    "common.json#/param",
    "common.json#/loop",
    "#/components/schemas/A",
    "#/components/parameters/Missing",
];

const MEDIA_TYPES: &[&str] = &[
    "application/json",
    "application/vnd.api+json",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "text/plain",
    "application/octet-stream",
    "image/png",
    "image/*",
    "*/*",
    "application/xml",
    "",
    "application/json; charset=utf-8",
    "text/plain\r\nX-Injected: 1",
];

const STYLES: &[&str] = &[
    "simple",
    "label",
    "matrix",
    "form",
    "spaceDelimited",
    "pipeDelimited",
    "deepObject",
    "bogus",
];

const LOCATIONS: &[&str] = &[
    "path", "query", "header", "cookie", "body", "formData", "bogus",
];

const TYPES: &[&str] = &[
    "object", "array", "string", "integer", "number", "boolean", "null", "file", "bogus",
];

const FORMATS: &[&str] = &[
    "binary",
    "byte",
    "base64",
    "int32",
    "int64",
    "date-time",
    "uuid",
    "file",
    "email",
];

const PATTERNS: &[&str] = &[
    "^a+$", "[", "(?<n>x)", "\\p{L}", "(a*)*b", "\\d{2,}", "", "(?=x)", "\\",
];

const PATH_SEGMENTS: &[&str] = &[
    "pets",
    "items",
    "v1",
    "{id}",
    "{petId}",
    "{a}{b}",
    "{id}.json",
    "{name}",
    "{",
    "}",
    "{}",
    "{a/b}",
    ".",
    "..",
    "%2e",
    "a b",
    "é",
    "{x-trace}",
    "{file}",
    "",
];

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

const OPERATION_IDS: &[&str] = &[
    "getPet",
    "getPet",
    "get pet",
    "",
    "   ",
    "é",
    "a/b",
    "1abc",
    "get_pets_by_id_2",
    "loooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooong",
    "loooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooong2",
];

const SERVER_URLS: &[&str] = &[
    "https://api.example.com/v1",
    "http://localhost:{port}/x",
    "/relative",
    "",
    "{scheme}://{host}",
    "ftp://x",
    "https://u:p@h/",
    "http://[::1]:8080/",
];

const KEYWORDS: &[&str] = &[
    "type",
    "properties",
    "required",
    "items",
    "additionalProperties",
    "allOf",
    "anyOf",
    "oneOf",
    "not",
    "$ref",
    "nullable",
    "x-nullable",
    "format",
    "enum",
    "const",
    "default",
    "pattern",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxItems",
    "readOnly",
    "writeOnly",
    "example",
    "examples",
    "discriminator",
    "description",
    "title",
    "contentMediaType",
    "contentEncoding",
    "patternProperties",
    "$defs",
    "definitions",
    "if",
    "then",
    "else",
    "prefixItems",
    "dependentSchemas",
    "dependentRequired",
    "propertyNames",
    "unevaluatedProperties",
    "$schema",
    "$id",
    "xml",
    "x-extra",
    "deprecated",
];

/// Keys an edit may add anywhere in a seed document.
const DOCUMENT_KEYS: &[&str] = &[
    "openapi",
    "swagger",
    "info",
    "servers",
    "paths",
    "components",
    "schemas",
    "parameters",
    "requestBody",
    "requestBodies",
    "responses",
    "content",
    "schema",
    "security",
    "securitySchemes",
    "definitions",
    "consumes",
    "produces",
    "x-mcpgen",
    "$ref",
    "in",
    "name",
    "style",
    "explode",
    "allowReserved",
    "collectionFormat",
    "operationId",
    "host",
    "basePath",
    "get",
    "post",
];

/// The generator's state: the fuzzer's bytes, and how many more nodes it may create.
struct Gen<'a, 'b> {
    u: &'b mut Unstructured<'a>,
    budget: u32,
    swagger: bool,
}

impl Gen<'_, '_> {
    /// A number in `0..n` (0 once the bytes run out).
    fn below(&mut self, n: usize) -> usize {
        if n <= 1 {
            return 0;
        }
        self.u.int_in_range(0..=n - 1).unwrap_or(0)
    }

    fn flag(&mut self) -> bool {
        self.u.arbitrary::<bool>().unwrap_or(false)
    }

    fn pick(&mut self, items: &[&str]) -> String {
        let i = self.below(items.len());
        items[i].to_owned()
    }

    /// Spends one node; false when the document is big enough.
    fn spend(&mut self) -> bool {
        if self.budget == 0 || self.u.is_empty() {
            return false;
        }
        self.budget -= 1;
        true
    }

    fn count(&mut self, max: usize) -> usize {
        if self.budget == 0 {
            0
        } else {
            self.below(max + 1)
        }
    }

    fn string(&mut self) -> String {
        match self.below(4) {
            0 => {
                let len = self.below(12);
                let mut s = String::new();
                for _ in 0..len {
                    s.push(self.u.arbitrary::<char>().unwrap_or('a'));
                }
                s
            }
            _ => self.pick(STRINGS),
        }
    }

    fn name(&mut self) -> String {
        match self.below(8) {
            0 => self.string(),
            _ => self.pick(NAMES),
        }
    }

    fn number(&mut self) -> Value {
        match self.below(8) {
            0 => json!(0),
            1 => json!(-1),
            2 => json!(0.5),
            3 => json!(u64::MAX),
            4 => json!(i64::MIN),
            5 => json!(1e300),
            6 => json!(self.u.arbitrary::<i32>().unwrap_or(0)),
            _ => json!(self.u.arbitrary::<f32>().unwrap_or(1.0).clamp(-1e30, 1e30)),
        }
    }

    /// Any JSON value, small.
    fn any(&mut self, depth: u32) -> Value {
        if !self.spend() || depth > 4 {
            return Value::Null;
        }
        match self.below(8) {
            0 => Value::Null,
            1 => Value::Bool(self.flag()),
            2 => self.number(),
            3 | 4 => Value::String(self.string()),
            5 => {
                let n = self.count(3);
                Value::Array((0..n).map(|_| self.any(depth + 1)).collect())
            }
            _ => {
                let n = self.count(3);
                let mut map = Map::new();
                for _ in 0..n {
                    let key = self.name();
                    map.insert(key, self.any(depth + 1));
                }
                Value::Object(map)
            }
        }
    }

    fn schema_ref(&mut self) -> String {
        match self.below(6) {
            0 => self.string(),
            _ => self.pick(SCHEMA_REFS),
        }
    }

    fn schema(&mut self, depth: u32) -> Value {
        if !self.spend() || depth > 8 {
            return json!({"type": "string"});
        }
        match self.below(24) {
            0 => Value::Bool(self.flag()),
            1..=4 => {
                let mut o = Map::new();
                o.insert("$ref".into(), Value::String(self.schema_ref()));
                if self.below(4) == 0 {
                    o.insert("description".into(), Value::String(self.string()));
                }
                Value::Object(o)
            }
            5 => self.deep_schema(),
            6 => self.any(0),
            _ => self.object_schema(depth),
        }
    }

    /// A chain of nested schemas around the depth limit.
    fn deep_schema(&mut self) -> Value {
        let levels = 56 + self.below(20);
        let keyword = self.pick(&[
            "items",
            "not",
            "additionalProperties",
            "allOf",
            "properties",
        ]);
        let mut schema = json!({"type": "string"});
        for _ in 0..levels {
            schema = match keyword.as_str() {
                "allOf" => json!({"allOf": [schema]}),
                "properties" => json!({"type": "object", "properties": {"p": schema}}),
                k => json!({ k: schema }),
            };
        }
        schema
    }

    fn object_schema(&mut self, depth: u32) -> Value {
        let mut o = Map::new();
        let n = self.count(5);
        for _ in 0..n {
            let key = self.pick(KEYWORDS);
            let value = self.keyword_value(&key, depth);
            o.insert(key, value);
        }
        Value::Object(o)
    }

    fn schema_list(&mut self, depth: u32) -> Value {
        let n = self.count(3);
        Value::Array((0..n).map(|_| self.schema(depth + 1)).collect())
    }

    fn schema_map(&mut self, depth: u32) -> Value {
        let n = self.count(4);
        let mut map = Map::new();
        for _ in 0..n {
            let key = self.name();
            map.insert(key, self.schema(depth + 1));
        }
        Value::Object(map)
    }

    fn keyword_value(&mut self, key: &str, depth: u32) -> Value {
        let wrong = self.below(10) == 0;
        if wrong {
            return self.any(2);
        }
        match key {
            "type" => match self.below(5) {
                0 => json!([self.pick(TYPES), "null"]),
                _ => Value::String(self.pick(TYPES)),
            },
            "properties" | "$defs" | "definitions" | "dependentSchemas" => self.schema_map(depth),
            "patternProperties" => {
                let mut map = Map::new();
                let pattern = self.pick(PATTERNS);
                map.insert(pattern, self.schema(depth + 1));
                Value::Object(map)
            }
            "required" => {
                let n = self.count(3);
                Value::Array((0..n).map(|_| Value::String(self.name())).collect())
            }
            "items" if self.below(5) == 0 => self.schema_list(depth),
            "items"
            | "not"
            | "if"
            | "then"
            | "else"
            | "propertyNames"
            | "unevaluatedProperties" => self.schema(depth + 1),
            "additionalProperties" => match self.below(3) {
                0 => Value::Bool(self.flag()),
                _ => self.schema(depth + 1),
            },
            "allOf" | "anyOf" | "oneOf" | "prefixItems" => self.schema_list(depth),
            "$ref" => Value::String(self.schema_ref()),
            "nullable" | "x-nullable" | "readOnly" | "writeOnly" | "deprecated" => {
                Value::Bool(self.flag())
            }
            "format" => Value::String(self.pick(FORMATS)),
            "enum" | "examples" => {
                let n = self.count(3);
                Value::Array((0..n).map(|_| self.any(2)).collect())
            }
            "pattern" => Value::String(self.pick(PATTERNS)),
            "minimum" | "maximum" | "multipleOf" | "minLength" | "maxItems" => self.number(),
            "exclusiveMinimum" | "exclusiveMaximum" => match self.below(2) {
                0 => Value::Bool(self.flag()),
                _ => self.number(),
            },
            "discriminator" => {
                let mut mapping = Map::new();
                mapping.insert(self.name(), Value::String(self.schema_ref()));
                json!({"propertyName": self.name(), "mapping": mapping})
            }
            "dependentRequired" => json!({ self.name(): [self.name()] }),
            "contentMediaType" => Value::String(self.pick(MEDIA_TYPES)),
            "contentEncoding" => Value::String(self.pick(&["base64", "binary", "7bit"])),
            "$schema" => Value::String(self.pick(&[
                "http://json-schema.org/draft-04/schema#",
                "https://json-schema.org/draft/2020-12/schema",
                "bogus",
            ])),
            _ => match self.below(2) {
                0 => Value::String(self.string()),
                _ => self.any(2),
            },
        }
    }

    fn parameter(&mut self, depth: u32) -> Value {
        if !self.spend() {
            return json!({"name": "id", "in": "query"});
        }
        if self.below(5) == 0 {
            return json!({"$ref": self.pick(PARAM_REFS)});
        }
        let mut o = Map::new();
        if self.below(12) != 0 {
            o.insert("name".into(), Value::String(self.name()));
        }
        if self.below(12) != 0 {
            o.insert("in".into(), Value::String(self.pick(LOCATIONS)));
        }
        let n = self.count(4);
        for _ in 0..n {
            let key = self.pick(&[
                "required",
                "schema",
                "style",
                "explode",
                "allowReserved",
                "description",
                "deprecated",
                "content",
                "type",
                "items",
                "collectionFormat",
                "format",
                "enum",
                "default",
                "allowEmptyValue",
                "example",
                "x-extra",
            ]);
            let value = match key.as_str() {
                "required" | "explode" | "allowReserved" | "deprecated" | "allowEmptyValue" => {
                    if self.below(8) == 0 {
                        self.any(2)
                    } else {
                        Value::Bool(self.flag())
                    }
                }
                "schema" => self.schema(depth + 1),
                "items" => self.schema(depth + 1),
                "style" => Value::String(self.pick(STYLES)),
                "content" => {
                    let mut content = Map::new();
                    let media = self.pick(MEDIA_TYPES);
                    content.insert(media, json!({"schema": self.schema(depth + 1)}));
                    Value::Object(content)
                }
                "type" => Value::String(self.pick(TYPES)),
                "collectionFormat" => {
                    Value::String(self.pick(&["csv", "ssv", "tsv", "pipes", "multi", "bogus"]))
                }
                "format" => Value::String(self.pick(FORMATS)),
                "enum" => json!([self.any(2), self.any(2)]),
                _ => self.any(2),
            };
            o.insert(key, value);
        }
        Value::Object(o)
    }

    fn parameters(&mut self, depth: u32) -> Value {
        let n = self.count(4);
        Value::Array((0..n).map(|_| self.parameter(depth)).collect())
    }

    fn media_map(&mut self, depth: u32) -> Value {
        let mut content = Map::new();
        let n = 1 + self.count(1);
        for _ in 0..n {
            let media = self.pick(MEDIA_TYPES);
            let mut entry = Map::new();
            if self.below(8) != 0 {
                entry.insert("schema".into(), self.schema(depth + 1));
            }
            if self.below(4) == 0 {
                let mut encoding = Map::new();
                encoding.insert(
                    self.name(),
                    json!({"contentType": self.pick(MEDIA_TYPES), "style": self.pick(STYLES)}),
                );
                entry.insert("encoding".into(), Value::Object(encoding));
            }
            content.insert(media, Value::Object(entry));
        }
        Value::Object(content)
    }

    fn request_body(&mut self, depth: u32) -> Value {
        if self.below(6) == 0 {
            return json!({"$ref": self.pick(&["#/components/requestBodies/R", "#/components/requestBodies/Missing", "#/components/schemas/A"])});
        }
        let mut o = Map::new();
        o.insert("content".into(), self.media_map(depth));
        if self.flag() {
            o.insert("required".into(), Value::Bool(self.flag()));
        }
        if self.below(4) == 0 {
            o.insert("description".into(), Value::String(self.string()));
        }
        Value::Object(o)
    }

    fn response(&mut self, depth: u32) -> Value {
        if self.below(6) == 0 {
            return json!({"$ref": self.pick(&["#/components/responses/R", "#/responses/R", "#/components/responses/Missing"])});
        }
        let mut o = Map::new();
        o.insert("description".into(), Value::String(self.string()));
        if self.swagger {
            if self.below(4) != 0 {
                o.insert("schema".into(), self.schema(depth + 1));
            }
        } else if self.below(4) != 0 {
            o.insert("content".into(), self.media_map(depth));
        }
        Value::Object(o)
    }

    fn responses(&mut self, depth: u32) -> Value {
        let mut map = Map::new();
        let n = self.count(2);
        for _ in 0..n {
            let code = self.pick(&["200", "201", "204", "2XX", "default", "400", "abc", "299"]);
            map.insert(code, self.response(depth));
        }
        Value::Object(map)
    }

    fn security(&mut self) -> Value {
        let n = self.count(2);
        Value::Array(
            (0..n)
                .map(|_| {
                    let mut req = Map::new();
                    let k = self.count(2);
                    for _ in 0..k {
                        let scheme = self.pick(&["bearer", "basic", "key", "cookieKey", "missing"]);
                        req.insert(scheme, json!([]));
                    }
                    Value::Object(req)
                })
                .collect(),
        )
    }

    fn extension(&mut self) -> Value {
        let mut o = Map::new();
        let n = self.count(3);
        for _ in 0..n {
            let key = self.pick(&["exclude", "name", "description", "parameters", "bogus"]);
            let value = match key.as_str() {
                "exclude" => Value::Bool(self.flag()),
                "name" | "description" => Value::String(self.string()),
                "parameters" => {
                    let mut params = Map::new();
                    let name = match self.below(3) {
                        0 => format!("{}:{}", self.pick(LOCATIONS), self.name()),
                        _ => self.name(),
                    };
                    let setting = match self.below(4) {
                        0 => json!({"hide": true}),
                        1 => json!({"hide": true, "value": 1}),
                        2 => self.any(1),
                        _ => json!({"value": self.any(2)}),
                    };
                    params.insert(name, setting);
                    Value::Object(params)
                }
                _ => self.any(1),
            };
            o.insert(key, value);
        }
        if self.below(8) == 0 {
            return self.any(1);
        }
        Value::Object(o)
    }

    fn operation(&mut self, depth: u32) -> Value {
        let mut o = Map::new();
        let n = self.count(7);
        for _ in 0..n {
            if !self.spend() {
                break;
            }
            let key = self.pick(&[
                "operationId",
                "summary",
                "description",
                "deprecated",
                "tags",
                "parameters",
                "parameters",
                "requestBody",
                "responses",
                "responses",
                "security",
                "x-mcpgen",
                "consumes",
                "produces",
                "servers",
            ]);
            let value = match key.as_str() {
                "operationId" => match self.below(3) {
                    0 => Value::String(self.string()),
                    _ => Value::String(self.pick(OPERATION_IDS)),
                },
                "summary" | "description" => Value::String(self.string()),
                "deprecated" => Value::Bool(self.flag()),
                "tags" => json!([self.string()]),
                "parameters" => self.parameters(depth),
                "requestBody" => self.request_body(depth),
                "responses" => self.responses(depth),
                "security" => self.security(),
                "x-mcpgen" => self.extension(),
                "consumes" | "produces" => json!([self.pick(MEDIA_TYPES)]),
                _ => json!([{"url": self.pick(SERVER_URLS)}]),
            };
            o.insert(key, value);
        }
        Value::Object(o)
    }

    fn path_template(&mut self) -> String {
        if self.below(10) == 0 {
            return self.string();
        }
        let n = self.count(3);
        let mut path = String::new();
        for _ in 0..n {
            path.push('/');
            path.push_str(&self.pick(PATH_SEGMENTS));
        }
        if path.is_empty() {
            path.push('/');
        }
        path
    }

    fn path_item(&mut self, depth: u32) -> Value {
        if self.below(10) == 0 {
            return json!({"$ref": self.pick(&["#/components/pathItems/I", "paths/items.yaml", "#/paths/~1pets", "#/paths"])});
        }
        let mut o = Map::new();
        let n = 1 + self.count(2);
        for _ in 0..n {
            let method = self.pick(METHODS);
            o.insert(method, self.operation(depth));
        }
        if self.below(3) == 0 {
            o.insert("parameters".into(), self.parameters(depth));
        }
        if self.below(6) == 0 {
            o.insert("x-mcpgen".into(), self.extension());
        }
        Value::Object(o)
    }

    fn paths(&mut self) -> Value {
        let mut map = Map::new();
        let n = self.count(4);
        for _ in 0..n {
            let path = self.path_template();
            map.insert(path, self.path_item(0));
        }
        Value::Object(map)
    }

    fn security_scheme(&mut self) -> Value {
        match self.below(8) {
            0 => json!({"type": "http", "scheme": self.pick(&["bearer", "Basic", "digest"])}),
            1 => json!({"type": "apiKey", "in": self.pick(LOCATIONS), "name": self.name()}),
            2 => json!({"type": "oauth2", "flows": {}}),
            3 => json!({"type": "basic"}),
            4 => {
                json!({"type": "oauth2", "flow": "implicit", "authorizationUrl": "https://a", "scopes": {}})
            }
            5 => json!({"$ref": "#/components/securitySchemes/bearer"}),
            _ => self.any(1),
        }
    }

    fn security_schemes(&mut self) -> Value {
        let mut map = Map::new();
        let n = self.count(3);
        for _ in 0..n {
            let key = self.pick(&["bearer", "basic", "key", "cookieKey"]);
            map.insert(key, self.security_scheme());
        }
        Value::Object(map)
    }

    fn schemas(&mut self) -> Value {
        let mut map = Map::new();
        let n = self.count(4);
        for _ in 0..n {
            let key = self.pick(SCHEMA_NAMES);
            map.insert(key, self.schema(0));
        }
        Value::Object(map)
    }

    fn named_parameters(&mut self) -> Value {
        let mut map = Map::new();
        let n = self.count(2);
        for _ in 0..n {
            let key = self.pick(&["P", "Q"]);
            map.insert(key, self.parameter(0));
        }
        Value::Object(map)
    }

    fn info(&mut self) -> Value {
        match self.below(8) {
            0 => self.any(1),
            1 => json!({}),
            _ => {
                json!({"title": self.string(), "version": self.string(), "description": self.string()})
            }
        }
    }

    fn document(&mut self) -> Value {
        let mut root = Map::new();
        self.swagger = self.below(3) == 0;
        if self.swagger {
            let version = match self.below(8) {
                0 => json!(2.0),
                1 => json!("1.2"),
                _ => json!("2.0"),
            };
            root.insert("swagger".into(), version);
            root.insert("info".into(), self.info());
            if self.flag() {
                root.insert(
                    "host".into(),
                    Value::String(self.pick(&["api.example.com", "h:8080", "", "a b", "[::1]"])),
                );
            }
            if self.flag() {
                root.insert(
                    "basePath".into(),
                    Value::String(self.pick(&["/v1", "", "v2", "/", "/a b"])),
                );
            }
            if self.flag() {
                root.insert(
                    "schemes".into(),
                    json!([self.pick(&["https", "http", "ws"])]),
                );
            }
            if self.flag() {
                root.insert("consumes".into(), json!([self.pick(MEDIA_TYPES)]));
            }
            root.insert("paths".into(), self.paths());
            if self.flag() {
                root.insert("definitions".into(), self.schemas());
            }
            if self.flag() {
                root.insert("parameters".into(), self.named_parameters());
            }
            if self.below(3) == 0 {
                let mut responses = Map::new();
                responses.insert("R".into(), self.response(0));
                root.insert("responses".into(), Value::Object(responses));
            }
            if self.flag() {
                root.insert("securityDefinitions".into(), self.security_schemes());
            }
        } else {
            let version = match self.below(10) {
                0 => json!(3.0),
                1 => json!("3.2.0"),
                2 => json!("3"),
                3..=5 => json!("3.1.0"),
                _ => json!("3.0.3"),
            };
            root.insert("openapi".into(), version);
            root.insert("info".into(), self.info());
            if self.flag() {
                let mut server = Map::new();
                server.insert("url".into(), Value::String(self.pick(SERVER_URLS)));
                if self.flag() {
                    server.insert(
                        "variables".into(),
                        json!({"port": {"default": self.any(1)}, "scheme": {"default": "https"}, "host": {"default": self.string()}}),
                    );
                }
                root.insert("servers".into(), json!([server]));
            }
            root.insert("paths".into(), self.paths());
            let mut components = Map::new();
            if self.below(4) != 0 {
                components.insert("schemas".into(), self.schemas());
            }
            if self.flag() {
                components.insert("parameters".into(), self.named_parameters());
            }
            if self.below(3) == 0 {
                let mut bodies = Map::new();
                bodies.insert("R".into(), self.request_body(0));
                components.insert("requestBodies".into(), Value::Object(bodies));
            }
            if self.below(3) == 0 {
                let mut responses = Map::new();
                responses.insert("R".into(), self.response(0));
                components.insert("responses".into(), Value::Object(responses));
            }
            if self.flag() {
                components.insert("securitySchemes".into(), self.security_schemes());
            }
            if self.below(4) == 0 {
                let mut items = Map::new();
                items.insert("I".into(), self.path_item(0));
                components.insert("pathItems".into(), Value::Object(items));
            }
            root.insert("components".into(), Value::Object(components));
            if self.below(6) == 0 {
                root.insert("webhooks".into(), json!({"hook": self.path_item(0)}));
            }
        }
        if self.below(3) == 0 {
            root.insert("security".into(), self.security());
        }
        if self.below(12) == 0 {
            root.insert("x-mcpgen".into(), self.any(1));
        }
        Value::Object(root)
    }

    /// One of the seed documents with a few edits.
    fn edited_seed(&mut self) -> Value {
        let seeds = seeds();
        let i = self.below(seeds.len());
        let mut doc = seeds[i].clone();
        self.swagger = doc.get("swagger").is_some();
        let edits = 1 + self.below(8);
        for _ in 0..edits {
            self.edit(&mut doc);
        }
        doc
    }

    fn edit(&mut self, doc: &mut Value) {
        // A node found by walking down from the root.
        let donor = {
            let mut node = &*doc;
            let steps = self.below(10);
            for _ in 0..steps {
                node = match node {
                    Value::Object(map) if !map.is_empty() => {
                        let i = self.below(map.len());
                        map.values().nth(i).expect("index is in range")
                    }
                    Value::Array(items) if !items.is_empty() => {
                        let i = self.below(items.len());
                        &items[i]
                    }
                    _ => break,
                };
            }
            node.clone()
        };
        let mut node = &mut *doc;
        let steps = self.below(10);
        for _ in 0..steps {
            let len = match &*node {
                Value::Object(map) => map.len(),
                Value::Array(items) => items.len(),
                _ => 0,
            };
            if len == 0 {
                break;
            }
            let i = self.below(len);
            node = match node {
                Value::Object(map) => map.values_mut().nth(i).expect("index is in range"),
                Value::Array(items) => &mut items[i],
                _ => unreachable!("checked above"),
            };
        }
        let replacement = match self.below(12) {
            0 => None,
            1 => Some(self.schema(0)),
            2 => Some(self.parameter(0)),
            3 => Some(self.operation(0)),
            4 => Some(json!({"$ref": self.schema_ref()})),
            5 => Some(json!({"allOf": [node.clone()]})),
            6 => Some(json!({"items": node.clone()})),
            7 => Some(donor),
            8 => Some(Value::String(self.string())),
            _ => {
                // Add or replace one key of an object.
                if let Value::Object(map) = node {
                    let key = match self.below(2) {
                        0 => self.pick(KEYWORDS),
                        _ => self.pick(DOCUMENT_KEYS),
                    };
                    let value = match self.below(3) {
                        0 => self.any(1),
                        1 => self.schema(0),
                        _ => donor,
                    };
                    map.insert(key, value);
                }
                return;
            }
        };
        match replacement {
            Some(value) => *node = value,
            None => match node {
                Value::Object(map) if !map.is_empty() => {
                    let i = self.below(map.len());
                    let key = map.keys().nth(i).expect("index is in range").clone();
                    map.shift_remove(&key);
                }
                Value::Array(items) if !items.is_empty() => {
                    let i = self.below(items.len());
                    items.remove(i);
                }
                _ => {}
            },
        }
    }
}
