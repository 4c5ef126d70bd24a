//! Swagger 2.0 to OpenAPI 3.0: `host`, `basePath` and `schemes` become `servers`; the
//! root sections become `components`; body and formData parameters become request bodies per
//! `consumes`; the type fields of other parameters and of headers move into a `schema`, their
//! `collectionFormat` into `style`/`explode`; response schemas go into `content` per
//! `produces`; security definitions become 3.0 security schemes. Schemas then take their few
//! Swagger-only keywords (`type: file`, `x-nullable`, a string `discriminator`) to 3.0, and
//! references follow everything to its new place.

mod parameters;

use std::collections::HashSet;

use serde_json::Value;

use super::value::{discard, distribute, object};
use super::walk::{Loc, walk_document};
use super::{Object, UpgradeError, decode_token, expected, root_error, warn};
use crate::pointer::push_token;
use parameters::Extracted;

const SWAGGER_METHODS: [&str; 7] = ["get", "put", "post", "delete", "options", "head", "patch"];

/// Converts a Swagger 2.0 document to OpenAPI 3.0.
pub(super) fn convert(
    doc: &mut Value,
    warnings: &mut Vec<UpgradeError>,
) -> Result<(), UpgradeError> {
    let Value::Object(root) = doc else {
        return Err(root_error(doc));
    };
    let body_params = {
        let mut swagger = Swagger::new(root, warnings);
        let mut components = match root.shift_remove("components") {
            Some(Value::Object(existing)) => existing,
            Some(other) => {
                swagger.warn("/components", expected("an object", &other));
                discard(other);
                Object::new()
            }
            None => Object::new(),
        };
        swagger.build_components(root, &mut components);
        match root.get_mut("paths") {
            Some(Value::Object(paths)) => {
                for (path, item) in paths.iter_mut() {
                    if path.starts_with("x-") {
                        continue;
                    }
                    let ptr = push_token("/paths", path);
                    match item {
                        Value::Object(item) => swagger.upgrade_path_item(item, &ptr),
                        other => swagger.warn(ptr, expected("an object", other)),
                    }
                }
            }
            Some(other) => swagger.warn("/paths", expected("an object", other)),
            None => {}
        }
        let servers = swagger.servers();
        reorder_root(root, servers, components);
        discard(Value::Object(std::mem::take(&mut swagger.form_params)));
        std::mem::take(&mut swagger.body_params)
    };
    walk_document(root, warnings, |schema, loc, warnings| {
        visit_swagger_schema(schema, loc, warnings, &body_params)
    });
    Ok(())
}

/// Puts `openapi` where `swagger` was and `servers` after `info`, so the
/// output reads like a hand-written 3.0 document.
fn reorder_root(root: &mut Object, servers: Value, components: Object) {
    let old = std::mem::take(root);
    let mut servers = Some(servers);
    for (key, value) in old {
        if key == "swagger" {
            discard(value);
            root.insert("openapi".to_owned(), Value::String("3.0.3".to_owned()));
            continue;
        }
        let is_info = key == "info";
        root.insert(key, value);
        if is_info && let Some(servers) = servers.take() {
            root.insert("servers".to_owned(), servers);
        }
    }
    if let Some(servers) = servers {
        root.insert("servers".to_owned(), servers);
    }
    if !components.is_empty() {
        root.insert("components".to_owned(), Value::Object(components));
    }
}

fn visit_swagger_schema(
    schema: &mut Object,
    loc: &Loc<'_>,
    warnings: &mut Vec<UpgradeError>,
    body_params: &HashSet<String>,
) -> bool {
    if let Some(Value::String(reference)) = schema.get_mut("$ref")
        && let Some(rewritten) = rewrite_ref(reference, body_params)
    {
        *reference = rewritten;
    }
    if schema.get("type").and_then(Value::as_str) == Some("file") {
        schema.insert("type".to_owned(), Value::String("string".to_owned()));
        schema.insert("format".to_owned(), Value::String("binary".to_owned()));
    }
    match schema.get("x-nullable") {
        Some(Value::Bool(nullable)) => {
            let nullable = *nullable;
            schema.shift_remove("x-nullable");
            if nullable && !schema.contains_key("nullable") {
                schema.insert("nullable".to_owned(), Value::Bool(true));
            }
        }
        Some(other) => loc.warn(warnings, "x-nullable", expected("a boolean", other)),
        None => {}
    }
    if let Some(Value::String(property)) = schema.get_mut("discriminator") {
        let property = std::mem::take(property);
        schema.insert(
            "discriminator".to_owned(),
            object([("propertyName", Value::String(property))]),
        );
    }
    false
}

/// Rewrites the fragment of a Swagger `$ref` to its OpenAPI 3 location, for
/// local and external references alike. Returns `None` when nothing changes.
fn rewrite_ref(reference: &str, body_params: &HashSet<String>) -> Option<String> {
    let (file, fragment) = reference.split_once('#')?;
    let mapped = if let Some(rest) = fragment.strip_prefix("/definitions/") {
        format!("/components/schemas/{rest}")
    } else if let Some(rest) = fragment.strip_prefix("/parameters/") {
        // Only local body parameters are known; an external file is not read.
        let name = decode_token(rest.split('/').next().unwrap_or(rest));
        if file.is_empty() && body_params.contains(&name) {
            format!("/components/requestBodies/{rest}")
        } else {
            format!("/components/parameters/{rest}")
        }
    } else if let Some(rest) = fragment.strip_prefix("/responses/") {
        format!("/components/responses/{rest}")
    } else {
        return None;
    };
    Some(format!("{file}#{mapped}"))
}

/// The name a `#/parameters/NAME` reference points at, if it is local and direct.
fn local_parameter_name(reference: &str) -> Option<String> {
    let rest = reference.strip_prefix("#/parameters/")?;
    (!rest.contains('/')).then(|| decode_token(rest))
}

/// One conversion under way: the root defaults that operations fall back to, what is known of
/// the global parameters (which are body, which form fields), and the warnings so far.
struct Swagger<'w> {
    consumes: Vec<String>,
    produces: Vec<String>,
    host: Option<String>,
    base_path: String,
    schemes: Vec<String>,
    body_params: HashSet<String>,
    form_params: Object,
    known_params: HashSet<String>,
    warnings: &'w mut Vec<UpgradeError>,
}

impl<'w> Swagger<'w> {
    /// Takes the root fields that have no place in 3.0 and only feed the conversion.
    fn new(root: &mut Object, warnings: &'w mut Vec<UpgradeError>) -> Self {
        let mut swagger = Self {
            consumes: Vec::new(),
            produces: Vec::new(),
            host: None,
            base_path: "/".to_owned(),
            schemes: Vec::new(),
            body_params: HashSet::new(),
            form_params: Object::new(),
            known_params: HashSet::new(),
            warnings,
        };
        match root.shift_remove("host") {
            Some(Value::String(host)) => swagger.host = Some(host),
            Some(other) => {
                swagger.warn(
                    "/host",
                    format!("{}; ignored", expected("a string", &other)),
                );
                discard(other);
            }
            None => {}
        }
        match root.shift_remove("basePath") {
            Some(Value::String(base)) => swagger.base_path = base,
            Some(other) => {
                swagger.warn(
                    "/basePath",
                    format!("{}; ignored", expected("a string", &other)),
                );
                discard(other);
            }
            None => {}
        }
        swagger.schemes = swagger
            .string_list(root, "schemes", "")
            .unwrap_or_else(|| vec!["https".to_owned()]);
        swagger.consumes = swagger
            .string_list(root, "consumes", "")
            .unwrap_or_else(|| vec!["application/json".to_owned()]);
        swagger.produces = swagger
            .string_list(root, "produces", "")
            .unwrap_or_else(|| vec!["application/json".to_owned()]);
        swagger
    }

    fn warn(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        warn(self.warnings, || pointer.into(), message);
    }

    /// Removes `key` and returns its strings; `None` when absent, invalid or
    /// empty, so callers fall back to the next level of defaults.
    fn string_list(&mut self, obj: &mut Object, key: &str, base: &str) -> Option<Vec<String>> {
        let ptr = push_token(base, key);
        match obj.shift_remove(key)? {
            Value::Array(items) => {
                let mut out = Vec::new();
                for (i, item) in items.into_iter().enumerate() {
                    match item {
                        Value::String(s) => out.push(s),
                        other => {
                            self.warn(
                                format!("{ptr}/{i}"),
                                format!("{}; ignored", expected("a string", &other)),
                            );
                            discard(other);
                        }
                    }
                }
                (!out.is_empty()).then_some(out)
            }
            other => {
                self.warn(ptr, format!("{}; ignored", expected("an array", &other)));
                discard(other);
                None
            }
        }
    }

    fn servers(&mut self) -> Value {
        if let Some(host) = &self.host
            && host.contains("://")
        {
            self.warnings.push(UpgradeError::new(
                "/host",
                "host should not include a scheme; used as given",
            ));
        }
        let urls = server_urls(self.host.as_deref(), &self.base_path, &self.schemes);
        Value::Array(
            urls.into_iter()
                .map(|url| object([("url", Value::String(url))]))
                .collect(),
        )
    }

    /// Takes an object-valued root field; anything else is left in place.
    fn take_object(&mut self, root: &mut Object, key: &str) -> Option<Object> {
        match root.get(key)? {
            Value::Object(_) => match root.shift_remove(key) {
                Some(Value::Object(map)) => Some(map),
                _ => None,
            },
            other => {
                let message = expected("an object", other);
                self.warn(push_token("", key), message);
                None
            }
        }
    }

    fn build_components(&mut self, root: &mut Object, components: &mut Object) {
        if let Some(definitions) = self.take_object(root, "definitions") {
            components.insert("schemas".to_owned(), Value::Object(definitions));
        }
        if let Some(params) = self.take_object(root, "parameters") {
            self.global_parameters(params, components);
        }
        if let Some(mut responses) = self.take_object(root, "responses") {
            let produces = self.produces.clone();
            for (name, response) in responses.iter_mut() {
                let ptr = push_token("/responses", name);
                match response {
                    Value::Object(response) => self.convert_response(response, &produces, &ptr),
                    other => self.warn(ptr, expected("an object", other)),
                }
            }
            components.insert("responses".to_owned(), Value::Object(responses));
        }
        if let Some(mut schemes) = self.take_object(root, "securityDefinitions") {
            for (name, scheme) in schemes.iter_mut() {
                let ptr = push_token("/securityDefinitions", name);
                match scheme {
                    Value::Object(scheme) => self.convert_security_scheme(scheme, &ptr),
                    other => self.warn(ptr, expected("an object", other)),
                }
            }
            components.insert("securitySchemes".to_owned(), Value::Object(schemes));
        }
    }

    fn upgrade_path_item(&mut self, item: &mut Object, ptr: &str) {
        if let Some(Value::String(reference)) = item.get_mut("$ref")
            && let Some(rewritten) = rewrite_ref(reference, &self.body_params)
        {
            *reference = rewritten;
        }
        let shared = self.take_body_parameters(item, ptr);
        let mut any_operation = false;
        for (method, operation) in item.iter_mut() {
            if !SWAGGER_METHODS.contains(&method.as_str()) {
                continue;
            }
            let op_ptr = push_token(ptr, method);
            match operation {
                Value::Object(operation) => {
                    any_operation = true;
                    self.upgrade_operation(operation, &op_ptr, &shared);
                }
                other => self.warn(op_ptr, expected("an object", other)),
            }
        }
        if !any_operation && !shared.is_empty() {
            self.warn(
                push_token(ptr, "parameters"),
                "path-level body or formData parameters apply to no operation; dropped",
            );
        }
        shared.discard();
    }

    fn upgrade_operation(&mut self, operation: &mut Object, ptr: &str, shared: &Extracted) {
        let consumes = self
            .string_list(operation, "consumes", ptr)
            .unwrap_or_else(|| self.consumes.clone());
        let produces = self
            .string_list(operation, "produces", ptr)
            .unwrap_or_else(|| self.produces.clone());
        self.operation_servers(operation, ptr);

        let own = self.take_body_parameters(operation, ptr);
        let request_body = self.request_body(own, shared, &consumes);
        if let Some(request_body) = request_body {
            if operation.contains_key("requestBody") {
                self.warn(
                    push_token(ptr, "requestBody"),
                    "already present; the body built from parameters was dropped",
                );
                discard(request_body);
            } else {
                let keys = || operation.keys();
                let index = keys()
                    .position(|k| k == "parameters")
                    .map(|i| i + 1)
                    .or_else(|| keys().position(|k| k == "responses"))
                    .unwrap_or(operation.len());
                operation.shift_insert(index, "requestBody".to_owned(), request_body);
            }
        }

        let responses_ptr = push_token(ptr, "responses");
        match operation.get_mut("responses") {
            Some(Value::Object(responses)) => {
                for (code, response) in responses.iter_mut() {
                    if code.starts_with("x-") {
                        continue;
                    }
                    let response_ptr = push_token(&responses_ptr, code);
                    match response {
                        Value::Object(response) => {
                            self.convert_response(response, &produces, &response_ptr);
                        }
                        other => self.warn(response_ptr, expected("an object", other)),
                    }
                }
            }
            Some(other) => self.warn(responses_ptr, expected("an object", other)),
            None => {}
        }
    }

    /// Operation-level `schemes` override the global ones; 3.0 says that with operation `servers`.
    fn operation_servers(&mut self, operation: &mut Object, ptr: &str) {
        let Some(schemes) = self.string_list(operation, "schemes", ptr) else {
            return;
        };
        if schemes == self.schemes {
            return;
        }
        if self.host.is_none() {
            self.warn(
                push_token(ptr, "schemes"),
                "operation schemes need a host to form a server URL; dropped",
            );
            return;
        }
        let urls = server_urls(self.host.as_deref(), &self.base_path, &schemes);
        let servers = urls
            .into_iter()
            .map(|url| object([("url", Value::String(url))]))
            .collect();
        operation.insert("servers".to_owned(), Value::Array(servers));
    }

    fn convert_response(&mut self, response: &mut Object, produces: &[String], ptr: &str) {
        if let Some(reference) = response.get_mut("$ref") {
            if let Value::String(reference) = reference
                && let Some(rewritten) = rewrite_ref(reference, &self.body_params)
            {
                *reference = rewritten;
            }
            return;
        }
        let schema = response.shift_remove("schema");
        let examples = match response.shift_remove("examples") {
            Some(Value::Object(examples)) => examples,
            Some(other) => {
                self.warn(
                    push_token(ptr, "examples"),
                    format!(
                        "{}; dropped",
                        expected("an object keyed by media type", &other)
                    ),
                );
                discard(other);
                Object::new()
            }
            None => Object::new(),
        };
        let mut media_types: Vec<String> = produces.to_vec();
        for media_type in examples.keys() {
            if !media_types.contains(media_type) {
                media_types.push(media_type.clone());
            }
        }
        let mut content = Object::new();
        if let Some(schema) = schema {
            for (media_type, schema) in media_types
                .iter()
                .zip(distribute(schema, media_types.len()))
            {
                content.insert(media_type.clone(), object([("schema", schema)]));
            }
        }
        for (media_type, example) in examples {
            let entry = content
                .entry(media_type)
                .or_insert_with(|| Value::Object(Object::new()));
            if let Value::Object(entry) = entry {
                entry.insert("example".to_owned(), example);
            }
        }
        let headers_ptr = push_token(ptr, "headers");
        match response.get_mut("headers") {
            Some(Value::Object(headers)) => {
                for (name, header) in headers.iter_mut() {
                    let header_ptr = push_token(&headers_ptr, name);
                    match header {
                        Value::Object(header) => {
                            self.move_into_schema(header, "header", &header_ptr)
                        }
                        other => self.warn(header_ptr, expected("an object", other)),
                    }
                }
            }
            Some(other) => self.warn(headers_ptr, expected("an object", other)),
            None => {}
        }
        if !content.is_empty() {
            response.insert("content".to_owned(), Value::Object(content));
        }
    }

    fn convert_security_scheme(&mut self, scheme: &mut Object, ptr: &str) {
        match scheme.get("type").and_then(Value::as_str) {
            Some("basic") => {
                scheme.insert("type".to_owned(), Value::String("http".to_owned()));
                scheme.insert("scheme".to_owned(), Value::String("basic".to_owned()));
            }
            Some("apiKey") => {}
            Some("oauth2") => self.convert_oauth2(scheme, ptr),
            _ => self.warn(
                push_token(ptr, "type"),
                "unknown security scheme type; left as-is",
            ),
        }
    }

    fn convert_oauth2(&mut self, scheme: &mut Object, ptr: &str) {
        let (flow, needs_authorization, needs_token) =
            match scheme.get("flow").and_then(Value::as_str) {
                Some("implicit") => ("implicit", true, false),
                Some("password") => ("password", false, true),
                Some("application") => ("clientCredentials", false, true),
                Some("accessCode") => ("authorizationCode", true, true),
                _ => {
                    self.warn(push_token(ptr, "flow"), "unknown oauth2 flow; left as-is");
                    return;
                }
            };
        let mut flow_object = Object::new();
        let fields = [
            ("authorizationUrl", needs_authorization),
            ("tokenUrl", needs_token),
        ];
        for (field, needed) in fields {
            match scheme.shift_remove(field) {
                Some(url) if needed => {
                    flow_object.insert(field.to_owned(), url);
                }
                Some(unused) => discard(unused),
                None if needed => self.warn(
                    ptr,
                    format!("oauth2 flow {flow} requires {field}, which is missing"),
                ),
                None => {}
            }
        }
        // 3.0 makes `scopes` required, so an absent one becomes empty.
        let scopes = scheme
            .shift_remove("scopes")
            .unwrap_or_else(|| Value::Object(Object::new()));
        flow_object.insert("scopes".to_owned(), scopes);
        scheme.shift_remove("flow");
        scheme.insert(
            "flows".to_owned(),
            object([(flow, Value::Object(flow_object))]),
        );
    }
}

fn server_urls(host: Option<&str>, base_path: &str, schemes: &[String]) -> Vec<String> {
    // Paths are appended to the server URL, so a trailing slash would produce `//`.
    let trimmed = base_path.trim_end_matches('/');
    let path = if trimmed.is_empty() || trimmed.starts_with('/') {
        trimmed.to_owned()
    } else {
        format!("/{trimmed}")
    };
    match host {
        None if path.is_empty() => vec!["/".to_owned()],
        None => vec![path],
        Some(host) if host.contains("://") => vec![format!("{}{path}", host.trim_end_matches('/'))],
        Some(host) => {
            let host = host.trim_end_matches('/');
            schemes
                .iter()
                .map(|scheme| format!("{scheme}://{host}{path}"))
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::upgrade::test_support::*;
    use crate::upgrade::value::deep_clone;
    use crate::upgrade::{SourceVersion, upgrade_to_31};

    // ---- Swagger 2.0: root, servers, components ------------------------

    #[test]
    fn swagger_version_field_becomes_openapi_in_place() {
        let (doc, _) = upgrade(swagger(json!({})));
        let keys: Vec<&str> = doc
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, ["openapi", "info", "servers", "paths"]);
        assert_eq!(doc["openapi"], "3.1.0");
    }

    #[test]
    fn upgrade_swagger2_alone_produces_openapi_303() {
        let mut doc =
            swagger(json!({"definitions": {"A": {"type": "string", "x-nullable": true}}}));
        let mut warnings = Vec::new();
        convert(&mut doc, &mut warnings).unwrap();
        assert_eq!(doc["openapi"], "3.0.3");
        assert!(doc.get("swagger").is_none());
        assert_eq!(
            doc["components"]["schemas"]["A"],
            json!({"type": "string", "nullable": true})
        );
    }

    #[test]
    fn servers_one_per_scheme() {
        let (doc, _) = upgrade(swagger(json!({
            "host": "api.example.com",
            "basePath": "/v1",
            "schemes": ["http", "https"]
        })));
        assert_eq!(
            doc["servers"],
            json!([{"url": "http://api.example.com/v1"}, {"url": "https://api.example.com/v1"}])
        );
        assert!(
            doc.get("host").is_none()
                && doc.get("basePath").is_none()
                && doc.get("schemes").is_none()
        );
    }

    #[test]
    fn servers_default_to_https_and_root_base_path() {
        let (doc, _) = upgrade(swagger(json!({"host": "api.example.com"})));
        assert_eq!(doc["servers"], json!([{"url": "https://api.example.com"}]));
        let (doc, _) = upgrade(swagger(json!({"host": "h.io:8080", "basePath": "/api/"})));
        assert_eq!(doc["servers"], json!([{"url": "https://h.io:8080/api"}]));
    }

    #[test]
    fn servers_without_host_are_relative_base_path() {
        let (doc, _) = upgrade(swagger(json!({"basePath": "/v2", "schemes": ["http"]})));
        assert_eq!(doc["servers"], json!([{"url": "/v2"}]));
        let (doc, _) = upgrade(swagger(json!({})));
        assert_eq!(doc["servers"], json!([{"url": "/"}]));
    }

    #[test]
    fn invalid_server_fields_warn_and_fall_back() {
        let (doc, warnings) = upgrade(swagger(
            json!({"host": 5, "basePath": [], "schemes": "http"}),
        ));
        assert_eq!(doc["servers"], json!([{"url": "/"}]));
        assert_warnings(
            &warnings,
            &[
                ("/host", "expected a string, found a number"),
                ("/basePath", "found an array"),
                ("/schemes", "expected an array"),
            ],
        );
        let (doc, warnings) = upgrade(swagger(json!({"host": "http://h.io"})));
        assert_eq!(doc["servers"], json!([{"url": "http://h.io"}]));
        assert_warning(&warnings, "/host", "scheme");
    }

    #[test]
    fn definitions_become_component_schemas_with_refs_rewritten() {
        let (doc, _) = upgrade(swagger(json!({
            "definitions": {
                "Pet": {
                    "type": "object",
                    "properties": {
                        "owner": {"$ref": "#/definitions/Person"},
                        "tags": {"type": "array", "items": {"$ref": "#/definitions/Tag"}},
                        "extra": {"additionalProperties": {"$ref": "#/definitions/Tag"}},
                        "remote": {"$ref": "other.yaml#/definitions/Remote"},
                        "whole": {"$ref": "other.yaml"}
                    },
                    "allOf": [{"$ref": "#/definitions/Base"}]
                },
                "Person": {"type": "object"}, "Tag": {"type": "string"}, "Base": {}
            }
        })));
        assert!(doc.get("definitions").is_none());
        let pet = &doc["components"]["schemas"]["Pet"];
        assert_eq!(
            pet["properties"]["owner"]["$ref"],
            "#/components/schemas/Person"
        );
        assert_eq!(
            pet["properties"]["tags"]["items"]["$ref"],
            "#/components/schemas/Tag"
        );
        assert_eq!(
            pet["properties"]["extra"]["additionalProperties"]["$ref"],
            "#/components/schemas/Tag"
        );
        assert_eq!(
            pet["properties"]["remote"]["$ref"],
            "other.yaml#/components/schemas/Remote"
        );
        assert_eq!(pet["properties"]["whole"]["$ref"], "other.yaml");
        assert_eq!(pet["allOf"][0]["$ref"], "#/components/schemas/Base");
    }

    #[test]
    fn ref_strings_inside_examples_and_extensions_are_data() {
        let (doc, _) = upgrade(swagger(json!({
            "definitions": {"A": {
                "example": {"$ref": "#/definitions/A"},
                "x-meta": {"$ref": "#/definitions/A"}
            }}
        })));
        let a = &doc["components"]["schemas"]["A"];
        assert_eq!(a["examples"][0]["$ref"], "#/definitions/A");
        assert_eq!(a["x-meta"]["$ref"], "#/definitions/A");
    }

    #[test]
    fn ref_rewriting_decodes_escaped_names() {
        let body = HashSet::from(["a/b".to_owned(), "c d".to_owned()]);
        assert_eq!(
            rewrite_ref("#/parameters/a~1b", &body).as_deref(),
            Some("#/components/requestBodies/a~1b")
        );
        assert_eq!(
            rewrite_ref("#/parameters/c%20d", &body).as_deref(),
            Some("#/components/requestBodies/c%20d")
        );
        assert_eq!(
            rewrite_ref("#/responses/R", &body).as_deref(),
            Some("#/components/responses/R")
        );
        assert_eq!(rewrite_ref("#/components/schemas/A", &body), None);
        assert_eq!(rewrite_ref("plain.yaml", &body), None);
        assert_eq!(decode_token("%zz%4"), "%zz%4");
    }

    #[test]
    fn global_responses_become_components_and_refs_follow() {
        let (doc, _) = upgrade(swagger(json!({
            "produces": ["application/xml"],
            "responses": {"NotFound": {"description": "nope", "schema": {"$ref": "#/definitions/Error"}}},
            "paths": {"/a": {"get": {"responses": {"404": {"$ref": "#/responses/NotFound"}}}}}
        })));
        assert_eq!(
            doc["components"]["responses"]["NotFound"],
            json!({"description": "nope", "content": {"application/xml": {"schema": {"$ref": "#/components/schemas/Error"}}}})
        );
        assert_eq!(
            doc["paths"]["/a"]["get"]["responses"]["404"],
            json!({"$ref": "#/components/responses/NotFound"})
        );
    }

    #[test]
    fn security_definitions_become_security_schemes() {
        let (doc, warnings) = upgrade(swagger(json!({
            "securityDefinitions": {
                "basic": {"type": "basic", "description": "b"},
                "key": {"type": "apiKey", "name": "X-Key", "in": "header"},
                "implicit": {"type": "oauth2", "flow": "implicit", "authorizationUrl": "https://a", "scopes": {"r": "read"}},
                "password": {"type": "oauth2", "flow": "password", "tokenUrl": "https://t"},
                "app": {"type": "oauth2", "flow": "application", "tokenUrl": "https://t", "scopes": {}},
                "code": {"type": "oauth2", "flow": "accessCode", "authorizationUrl": "https://a", "tokenUrl": "https://t", "scopes": {"w": "write"}, "x-ext": true},
                "broken": {"type": "oauth2", "flow": "accessCode", "scopes": {}},
                "odd": {"type": "oauth2", "flow": "device"},
                "weird": {"type": "saml"}
            },
            "security": [{"basic": []}]
        })));
        let schemes = &doc["components"]["securitySchemes"];
        assert_eq!(
            schemes["basic"],
            json!({"type": "http", "description": "b", "scheme": "basic"})
        );
        assert_eq!(
            schemes["key"],
            json!({"type": "apiKey", "name": "X-Key", "in": "header"})
        );
        assert_eq!(
            schemes["implicit"],
            json!({"type": "oauth2", "flows": {"implicit": {"authorizationUrl": "https://a", "scopes": {"r": "read"}}}})
        );
        assert_eq!(
            schemes["password"],
            json!({"type": "oauth2", "flows": {"password": {"tokenUrl": "https://t", "scopes": {}}}})
        );
        assert_eq!(
            schemes["app"],
            json!({"type": "oauth2", "flows": {"clientCredentials": {"tokenUrl": "https://t", "scopes": {}}}})
        );
        assert_eq!(
            schemes["code"],
            json!({"type": "oauth2", "x-ext": true, "flows": {"authorizationCode": {
                "authorizationUrl": "https://a", "tokenUrl": "https://t", "scopes": {"w": "write"}}}})
        );
        assert_warnings(
            &warnings,
            &[
                ("/securityDefinitions/broken", "requires authorizationUrl"),
                ("/securityDefinitions/broken", "requires tokenUrl"),
                ("/securityDefinitions/odd/flow", "unknown oauth2 flow"),
            ],
        );
        assert_eq!(schemes["odd"], json!({"type": "oauth2", "flow": "device"}));
        assert_warning(
            &warnings,
            "/securityDefinitions/weird/type",
            "unknown security scheme",
        );
        assert_eq!(doc["security"], json!([{"basic": []}]));
        assert!(doc.get("securityDefinitions").is_none());
    }

    #[test]
    fn top_level_metadata_and_extensions_are_kept() {
        let (doc, _) = upgrade(swagger(json!({
            "tags": [{"name": "pets", "x-display": "Pets"}],
            "externalDocs": {"url": "https://docs"},
            "security": [{"key": []}],
            "x-logo": {"url": "logo.png"},
            "paths": {"x-paths-ext": 1, "/a": {"x-item": 2, "get": {"x-op": 3, "tags": ["pets"], "security": [], "responses": {"x-r": 4}}}}
        })));
        assert_eq!(doc["tags"], json!([{"name": "pets", "x-display": "Pets"}]));
        assert_eq!(doc["externalDocs"], json!({"url": "https://docs"}));
        assert_eq!(doc["security"], json!([{"key": []}]));
        assert_eq!(doc["x-logo"], json!({"url": "logo.png"}));
        assert_eq!(doc["info"], json!({"title": "t", "version": "1"}));
        assert_eq!(doc["paths"]["x-paths-ext"], 1);
        assert_eq!(doc["paths"]["/a"]["x-item"], 2);
        assert_eq!(
            doc["paths"]["/a"]["get"],
            json!({"x-op": 3, "tags": ["pets"], "security": [], "responses": {"x-r": 4}})
        );
    }

    #[test]
    fn operation_schemes_become_operation_servers() {
        let (doc, warnings) = upgrade(swagger(json!({
            "host": "h.io", "basePath": "/v1", "schemes": ["https"],
            "paths": {"/a": {
                "get": {"schemes": ["http"], "responses": {}},
                "put": {"schemes": ["https"], "responses": {}}
            }}
        })));
        assert_eq!(
            doc["paths"]["/a"]["get"]["servers"],
            json!([{"url": "http://h.io/v1"}])
        );
        assert!(doc["paths"]["/a"]["get"].get("schemes").is_none());
        assert!(doc["paths"]["/a"]["put"].get("servers").is_none());
        assert!(warnings.is_empty(), "{warnings:?}");
        let (_, warnings) = upgrade(swagger(
            json!({"paths": {"/a": {"get": {"schemes": ["ws"], "responses": {}}}}}),
        ));
        assert_warning(&warnings, "/paths/~1a/get/schemes", "need a host");
    }

    // ---- Swagger 2.0: responses and schemas ------------------------------

    #[test]
    fn response_schema_goes_into_content_per_produces() {
        let (doc, _) = upgrade(swagger(json!({
            "produces": ["application/xml"],
            "paths": {"/a": {
                "get": {"produces": ["application/json", "text/csv"], "responses": {
                    "200": {"description": "ok", "schema": {"type": "array", "items": {"$ref": "#/definitions/Pet"}}},
                    "204": {"description": "none"}
                }},
                "put": {"responses": {"200": {"description": "ok", "schema": {"type": "string"}}}}
            }}
        })));
        let get = &doc["paths"]["/a"]["get"];
        assert_eq!(
            get["responses"]["200"]["content"],
            json!({
                "application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Pet"}}},
                "text/csv": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Pet"}}}
            })
        );
        assert_eq!(get["responses"]["204"], json!({"description": "none"}));
        assert!(get.get("produces").is_none());
        assert_eq!(
            doc["paths"]["/a"]["put"]["responses"]["200"]["content"],
            json!({"application/xml": {"schema": {"type": "string"}}})
        );
        let (doc, _) = upgrade(swagger(json!({"paths": {"/a": {"get": {"responses": {
            "200": {"description": "ok", "schema": {"type": "string"}}}}}}})));
        assert_eq!(
            doc["paths"]["/a"]["get"]["responses"]["200"]["content"],
            json!({"application/json": {"schema": {"type": "string"}}})
        );
    }

    #[test]
    fn response_examples_become_media_type_examples() {
        let (doc, _) = upgrade(swagger(json!({"paths": {"/a": {"get": {
            "produces": ["application/json"],
            "responses": {"200": {
                "description": "ok",
                "schema": {"type": "object"},
                "examples": {"application/json": {"id": 1}, "application/xml": "<id>1</id>"}
            }}
        }}}})));
        assert_eq!(
            doc["paths"]["/a"]["get"]["responses"]["200"]["content"],
            json!({
                "application/json": {"schema": {"type": "object"}, "example": {"id": 1}},
                "application/xml": {"schema": {"type": "object"}, "example": "<id>1</id>"}
            })
        );
    }

    #[test]
    fn response_headers_move_type_into_schema() {
        let (doc, _) = upgrade(swagger(
            json!({"paths": {"/a": {"get": {"responses": {"200": {
                "description": "ok",
                "headers": {
                    "X-Rate": {"type": "integer", "format": "int32", "description": "r"},
                    "X-List": {"type": "array", "items": {"type": "string"}, "collectionFormat": "csv"}
                }
            }}}}}}),
        ));
        let headers = &doc["paths"]["/a"]["get"]["responses"]["200"]["headers"];
        assert_eq!(
            headers["X-Rate"],
            json!({"description": "r", "schema": {"type": "integer", "format": "int32"}})
        );
        assert_eq!(
            headers["X-List"],
            json!({"style": "simple", "schema": {"type": "array", "items": {"type": "string"}}})
        );
    }

    #[test]
    fn file_response_becomes_binary_string() {
        let (doc, _) = upgrade(swagger(json!({"paths": {"/a": {"get": {
            "produces": ["application/pdf"],
            "responses": {"200": {"description": "ok", "schema": {"type": "file"}}}
        }}}})));
        assert_eq!(
            doc["paths"]["/a"]["get"]["responses"]["200"]["content"]["application/pdf"]["schema"],
            json!({"type": "string", "format": "binary", "contentMediaType": "application/octet-stream"})
        );
    }

    #[test]
    fn swagger_schema_keywords_are_translated() {
        let (doc, _) = upgrade(swagger(json!({"definitions": {
            "Pet": {
                "type": "object",
                "discriminator": "kind",
                "properties": {
                    "kind": {"type": "string"},
                    "name": {"type": "string", "x-nullable": true},
                    "file": {"type": "file"},
                    "plain": {"type": "string", "x-nullable": false}
                }
            }
        }})));
        let pet = &doc["components"]["schemas"]["Pet"];
        assert_eq!(pet["discriminator"], json!({"propertyName": "kind"}));
        assert_eq!(
            pet["properties"]["name"],
            json!({"type": ["string", "null"]})
        );
        assert_eq!(pet["properties"]["file"]["format"], "binary");
        assert_eq!(pet["properties"]["plain"], json!({"type": "string"}));
    }

    // ---- Swagger 2.0: wrong types ----------------------------------------

    #[test]
    fn swagger_wrong_types_warn_and_are_left_in_place() {
        let (doc, warnings) = upgrade(swagger(
            json!({"paths": 5, "definitions": 5, "responses": [], "consumes": "x"}),
        ));
        assert_eq!(doc["paths"], 5);
        assert_eq!(doc["definitions"], 5);
        assert_warnings(
            &warnings,
            &[
                ("/paths", "expected an object, found a number"),
                ("/definitions", "expected an object, found a number"),
                ("/responses", "found an array"),
                ("/consumes", "expected an array"),
            ],
        );
        assert_eq!(
            warnings.iter().filter(|w| w.pointer == "/paths").count(),
            1,
            "{warnings:?}"
        );
    }

    #[test]
    fn swagger_wrong_types_inside_paths() {
        let (doc, warnings) = upgrade(swagger(json!({
            "parameters": {"bad": 5, "noin": {"name": "x"}},
            "paths": {
                "/a": {"get": {"parameters": {}, "responses": {"200": 5}}, "put": "nope"},
                "/b": [],
                "/c": {"parameters": [5, {"$ref": 7}], "post": {"responses": [], "consumes": 3}}
            }
        })));
        assert_eq!(doc["paths"]["/a"]["get"]["parameters"], json!({}));
        assert_warnings(
            &warnings,
            &[
                (
                    "/paths/~1a/get/parameters",
                    "expected an array, found an object",
                ),
                ("/paths/~1a/get/responses/200", "found a number"),
                ("/paths/~1a/put", "found a string"),
                ("/paths/~1b", "found an array"),
                ("/paths/~1c/parameters/0", "found a number"),
                ("/paths/~1c/parameters/1/$ref", "expected a string"),
                ("/paths/~1c/post/responses", "found an array"),
                ("/paths/~1c/post/consumes", "expected an array"),
                ("/parameters/bad", "found a number"),
                ("/parameters/noin", "no `in`"),
            ],
        );
    }

    #[test]
    fn swagger_type_confusion_never_panics() {
        survives_type_confusion(&swagger(json!({
            "host": "h.io", "basePath": "/v", "schemes": ["http"], "consumes": ["application/json"], "produces": ["application/xml"],
            "definitions": {"P": {"type": "object", "discriminator": "k", "x-nullable": true,
                "properties": {"k": {"type": "string"}, "l": {"type": "array", "items": {"$ref": "#/definitions/P"}}}}},
            "parameters": {"B": {"name": "b", "in": "body", "schema": {"$ref": "#/definitions/P"}},
                           "F": {"name": "f", "in": "formData", "type": "file"},
                           "Q": {"name": "q", "in": "query", "type": "array", "items": {"type": "string"}, "collectionFormat": "ssv"}},
            "responses": {"R": {"description": "r", "schema": {"type": "file"}, "headers": {"H": {"type": "integer"}}}},
            "securityDefinitions": {"o": {"type": "oauth2", "flow": "accessCode", "authorizationUrl": "a", "tokenUrl": "t", "scopes": {}}},
            "paths": {"/a/{id}": {
                "parameters": [{"name": "id", "in": "path", "type": "string"}, {"name": "s", "in": "formData", "type": "string"}, {"$ref": "#/parameters/F"}],
                "post": {"consumes": ["multipart/form-data"], "produces": ["text/plain"], "schemes": ["https"],
                    "parameters": [{"$ref": "#/parameters/Q"}, {"name": "x", "in": "formData", "type": "array", "items": {"type": "integer"}, "collectionFormat": "multi"}],
                    "responses": {"200": {"description": "ok", "schema": {"type": "string"}, "examples": {"text/plain": "hi"}}, "404": {"$ref": "#/responses/R"}}},
                "put": {"parameters": [{"$ref": "#/parameters/B"}], "responses": {}}
            }}
        })));
    }

    #[test]
    fn deeply_nested_swagger_schemas_are_cloned_and_dropped_safely() {
        let leaf = json!({"$ref": "#/definitions/Leaf", "x-nullable": true});
        let deep = || {
            nest(leaf.clone(), DEEP, |v| {
                let mut map = Object::new();
                map.insert("type".into(), json!("array"));
                map.insert("items".into(), v);
                Value::Object(map)
            })
        };
        let mut doc = swagger(json!({"definitions": {"Leaf": {"type": "string"}}}));
        doc["definitions"]["Deep"] = deep();
        let mut body = json!({"name": "b", "in": "body"});
        body["schema"] = deep();
        let mut response = json!({"description": "ok"});
        response["schema"] = deep();
        let mut item = Object::new();
        item.insert("parameters".into(), Value::Array(vec![body]));
        let mut operation = json!({"consumes": ["application/json", "application/xml"], "produces": ["application/json", "text/plain"]});
        operation["responses"] = single("200", response);
        item.insert("post".into(), deep_clone(&operation));
        item.insert("put".into(), operation);
        doc["paths"] = single("/deep", Value::Object(item));

        let (version, warnings) = upgrade_to_31(&mut doc).unwrap();
        assert_eq!(version, SourceVersion::Swagger2);
        assert!(warnings.is_empty(), "{warnings:?}");

        let check = |mut cursor: &Value| {
            for _ in 0..DEEP {
                assert_eq!(cursor["type"], "array");
                cursor = &cursor["items"];
            }
            assert_eq!(
                cursor,
                &json!({"anyOf": [{"$ref": "#/components/schemas/Leaf"}, {"type": "null"}]})
            );
        };
        check(&doc["components"]["schemas"]["Deep"]);
        for method in ["post", "put"] {
            let op = &doc["paths"]["/deep"][method];
            for media in ["application/json", "application/xml"] {
                check(&op["requestBody"]["content"][media]["schema"]);
            }
            for media in ["application/json", "text/plain"] {
                check(&op["responses"]["200"]["content"][media]["schema"]);
            }
        }
        discard(doc);
    }
}
