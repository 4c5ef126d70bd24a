//! Swagger 2.0 parameters in OpenAPI 3.0: a body parameter becomes a request body with one
//! media type per `consumes`, formData parameters become the properties of a form request body
//! (multipart when a file is among them), and the type fields of any other parameter (and of a
//! header) move into its `schema`, its `collectionFormat` into `style` and `explode`.

use std::collections::HashSet;

use serde_json::Value;

use super::{Swagger, local_parameter_name, rewrite_ref};
use crate::pointer::push_token;
use crate::upgrade::value::{clone_object, discard, distribute, object};
use crate::upgrade::{Object, expected};

/// Fields of a Swagger non-body parameter or header that OpenAPI 3 moves into `schema`.
const SCHEMA_FIELDS: [&str; 16] = [
    "type",
    "format",
    "items",
    "enum",
    "default",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "uniqueItems",
    "multipleOf",
];

/// A parameter without `in` that has a `schema`: only a body parameter has one, so it is one.
fn is_body_without_in(param: &Value) -> bool {
    param.get("in").is_none() && param.get("schema").is_some()
}

const BODY_WITHOUT_IN_WARNING: &str =
    "parameter has no `in`; it has a `schema`, which only a body parameter has: read as `in: body`";

/// The `{name}`s of the path template a pointer below `/paths/<template>` is in.
fn path_template_names(ptr: &str) -> Vec<String> {
    let mut tokens = crate::pointer::tokens(ptr);
    match (tokens.next(), tokens.next()) {
        (Some(first), Some(template)) if first == "paths" => {
            crate::model::template_names(&template)
        }
        _ => Vec::new(),
    }
}

/// A body parameter: inline, with its pointer, or a reference to a global one.
enum BodyParam {
    Inline(Object, String),
    Ref(String),
}

impl BodyParam {
    fn copy(&self) -> Self {
        match self {
            Self::Inline(param, ptr) => Self::Inline(clone_object(param), ptr.clone()),
            Self::Ref(reference) => Self::Ref(reference.clone()),
        }
    }

    fn discard(self) {
        if let Self::Inline(param, _) = self {
            discard(Value::Object(param));
        }
    }
}

/// Body and formData parameters pulled out of a parameter list; both become a `requestBody`.
#[derive(Default)]
pub(super) struct Extracted {
    body: Option<BodyParam>,
    forms: Vec<(Object, String)>,
}

impl Extracted {
    pub(super) fn is_empty(&self) -> bool {
        self.body.is_none() && self.forms.is_empty()
    }

    fn discard_forms(&mut self) {
        for (field, _) in self.forms.drain(..) {
            discard(Value::Object(field));
        }
    }

    pub(super) fn discard(mut self) {
        self.discard_forms();
        if let Some(body) = self.body.take() {
            body.discard();
        }
    }
}

/// What a parameter of a list is, once converted.
enum Classified {
    Body(BodyParam),
    Form(Object, String),
    Other(Value),
}

impl Swagger<'_> {
    /// Converts the root `parameters`: body ones become `requestBodies`, formData ones are
    /// kept aside to be inlined where they are referenced, the rest become `parameters`.
    pub(super) fn global_parameters(&mut self, params: Object, components: &mut Object) {
        // Classified up front because any parameter may be referenced before it is converted.
        for (name, param) in &params {
            self.known_params.insert(name.clone());
            if param.get("in").and_then(Value::as_str) == Some("body") || is_body_without_in(param)
            {
                self.body_params.insert(name.clone());
            }
        }
        let consumes = self.consumes.clone();
        let mut parameters = Object::new();
        let mut request_bodies = Object::new();
        for (name, param) in params {
            let ptr = push_token("/parameters", &name);
            let Value::Object(mut param) = param else {
                self.warn(&ptr, expected("an object", &param));
                parameters.insert(name, param);
                continue;
            };
            if let Some(Value::String(reference)) = param.get_mut("$ref") {
                if let Some(rewritten) = rewrite_ref(reference, &self.body_params) {
                    *reference = rewritten;
                }
                parameters.insert(name, Value::Object(param));
                continue;
            }
            let body_without_in = is_body_without_in(&Value::Object(param.clone()));
            if body_without_in {
                self.warn(&ptr, BODY_WITHOUT_IN_WARNING);
            }
            match param.get("in").and_then(Value::as_str) {
                Some("body") => {
                    let body = self.json_request_body(param, &consumes, &ptr);
                    request_bodies.insert(name, body);
                }
                None if body_without_in => {
                    let body = self.json_request_body(param, &consumes, &ptr);
                    request_bodies.insert(name, body);
                }
                // A form field is not a parameter in 3.0; references to it are inlined.
                Some("formData") => {
                    self.form_params.insert(name, Value::Object(param));
                }
                Some(location) => {
                    let location = location.to_owned();
                    self.move_into_schema(&mut param, &location, &ptr);
                    parameters.insert(name, Value::Object(param));
                }
                None => {
                    self.warn(&ptr, "parameter has no `in` location; left as-is");
                    parameters.insert(name, Value::Object(param));
                }
            }
        }
        if !parameters.is_empty() {
            components.insert("parameters".to_owned(), Value::Object(parameters));
        }
        if !request_bodies.is_empty() {
            components.insert("requestBodies".to_owned(), Value::Object(request_bodies));
        }
    }

    /// Converts the non-body `parameters` of a path item or operation (at `ptr`) in place,
    /// removing the list when none is left, and takes out the body and formData ones. A body
    /// excludes form fields, so when both are there the form fields are dropped.
    pub(super) fn take_body_parameters(&mut self, holder: &mut Object, ptr: &str) -> Extracted {
        let params_ptr = push_token(ptr, "parameters");
        let mut taken = Extracted::default();
        if let Some(params) = holder.get_mut("parameters") {
            self.extract_parameters(params, &params_ptr, &mut taken);
        }
        remove_if_empty_array(holder, "parameters");
        if taken.body.is_some() && !taken.forms.is_empty() {
            self.warn(
                &params_ptr,
                "a body parameter and formData parameters cannot be combined; the formData parameters were dropped",
            );
            taken.discard_forms();
        }
        taken
    }

    /// Converts non-body parameters in place and moves body/formData ones into `out`.
    fn extract_parameters(&mut self, params: &mut Value, ptr: &str, out: &mut Extracted) {
        if crate::model::is_one_parameter(params) {
            self.warn(ptr, crate::model::ONE_PARAMETER_WARNING);
            *params = Value::Array(vec![std::mem::take(params)]);
        }
        let Value::Array(list) = params else {
            self.warn(ptr, expected("an array", params));
            return;
        };
        for (i, param) in std::mem::take(list).into_iter().enumerate() {
            let param_ptr = format!("{ptr}/{i}");
            match self.classify(param, &param_ptr) {
                Classified::Body(body) => {
                    if out.body.is_some() {
                        self.warn(
                            &param_ptr,
                            "only one body parameter is allowed; this one was dropped",
                        );
                        body.discard();
                    } else {
                        out.body = Some(body);
                    }
                }
                Classified::Form(field, field_ptr) => out.forms.push((field, field_ptr)),
                Classified::Other(value) => list.push(value),
            }
        }
    }

    fn classify(&mut self, param: Value, ptr: &str) -> Classified {
        let Value::Object(mut param) = param else {
            self.warn(ptr, expected("an object", &param));
            return Classified::Other(param);
        };
        if let Some(reference) = param.get("$ref") {
            let ref_ptr = push_token(ptr, "$ref");
            let Value::String(reference) = reference else {
                let message = expected("a string", reference);
                self.warn(ref_ptr, message);
                return Classified::Other(Value::Object(param));
            };
            let reference = reference.clone();
            let rewritten = rewrite_ref(&reference, &self.body_params);
            if let Some(name) = local_parameter_name(&reference) {
                if self.body_params.contains(&name) {
                    discard(Value::Object(param));
                    return Classified::Body(BodyParam::Ref(rewritten.unwrap_or(reference)));
                }
                if let Some(field) = self.form_params.get(&name).and_then(Value::as_object) {
                    let field = clone_object(field);
                    discard(Value::Object(param));
                    return Classified::Form(field, push_token("/parameters", &name));
                }
                if !self.known_params.contains(&name) {
                    self.warn(&ref_ptr, format!("refers to undefined parameter {name:?}"));
                }
            } else if !reference.starts_with('#') && reference.contains("#/parameters/") {
                self.warn(
                    &ref_ptr,
                    "cannot tell whether this external parameter is a body parameter; assumed it is not",
                );
            }
            if let Some(rewritten) = rewritten {
                param.insert("$ref".to_owned(), Value::String(rewritten));
            }
            return Classified::Other(Value::Object(param));
        }
        match param.get("in").and_then(Value::as_str) {
            Some("body") => Classified::Body(BodyParam::Inline(param, ptr.to_owned())),
            Some("formData") => Classified::Form(param, ptr.to_owned()),
            Some(location) => {
                let location = location.to_owned();
                self.move_into_schema(&mut param, &location, ptr);
                Classified::Other(Value::Object(param))
            }
            None if param.contains_key("schema") => {
                self.warn(ptr, BODY_WITHOUT_IN_WARNING);
                Classified::Body(BodyParam::Inline(param, ptr.to_owned()))
            }
            None => {
                let in_template = param
                    .get("name")
                    .and_then(Value::as_str)
                    .is_some_and(|name| path_template_names(ptr).iter().any(|n| n == name));
                if in_template {
                    // Only a path parameter may be named in the path template.
                    self.warn(
                        ptr,
                        "parameter has no `in`; read as `in: path`, since the path template \
                         names it",
                    );
                    param.insert("in".to_owned(), Value::String("path".to_owned()));
                    self.move_into_schema(&mut param, "path", ptr);
                } else {
                    self.warn(ptr, "parameter has no `in` location; left as-is");
                }
                Classified::Other(Value::Object(param))
            }
        }
    }

    /// The request body that an operation's own body or formData parameters make, or else the
    /// path item's (`shared`): operation parameters override path-level ones, and a body
    /// excludes form fields.
    pub(super) fn request_body(
        &mut self,
        mut own: Extracted,
        shared: &Extracted,
        consumes: &[String],
    ) -> Option<Value> {
        let body = match own.body.take() {
            Some(body) => Some(body),
            None if own.forms.is_empty() => shared.body.as_ref().map(BodyParam::copy),
            None => None,
        };
        match body {
            Some(BodyParam::Ref(reference)) => Some(object([("$ref", Value::String(reference))])),
            Some(BodyParam::Inline(param, param_ptr)) => {
                Some(self.json_request_body(param, consumes, &param_ptr))
            }
            None => {
                let own_names: HashSet<String> = own
                    .forms
                    .iter()
                    .filter_map(|(f, _)| field_name(f))
                    .collect();
                let mut fields: Vec<(Object, String)> = shared
                    .forms
                    .iter()
                    .filter(|(f, _)| field_name(f).is_none_or(|name| !own_names.contains(&name)))
                    .map(|(f, p)| (clone_object(f), p.clone()))
                    .collect();
                fields.append(&mut own.forms);
                (!fields.is_empty()).then(|| self.form_request_body(fields, consumes))
            }
        }
    }

    fn json_request_body(&mut self, mut param: Object, consumes: &[String], ptr: &str) -> Value {
        let mut body = Object::new();
        if let Some(description) = param.shift_remove("description") {
            body.insert("description".to_owned(), description);
        }
        let schema = param.shift_remove("schema").unwrap_or_else(|| {
            self.warn(ptr, "body parameter has no schema; any content is accepted");
            Value::Object(Object::new())
        });
        let content = consumes
            .iter()
            .zip(distribute(schema, consumes.len()))
            .map(|(media_type, schema)| (media_type.clone(), object([("schema", schema)])))
            .collect();
        body.insert("content".to_owned(), Value::Object(content));
        if let Some(required) = param.shift_remove("required") {
            body.insert("required".to_owned(), required);
        }
        // 3.0 bodies are nameless; code generators use this extension to name the argument.
        if let Some(name) = param.get("name").and_then(Value::as_str) {
            body.insert(
                "x-codegen-request-body-name".to_owned(),
                Value::String(name.to_owned()),
            );
        }
        move_extensions(param, &mut body);
        Value::Object(body)
    }

    fn form_request_body(&mut self, fields: Vec<(Object, String)>, consumes: &[String]) -> Value {
        let mut properties = Object::new();
        let mut required = Vec::new();
        let mut encoding = Object::new();
        let mut any_file = false;
        for (mut field, ptr) in fields {
            let Some(name) = field_name(&field) else {
                self.warn(&ptr, "formData parameter has no name; dropped");
                discard(Value::Object(field));
                continue;
            };
            let mut schema = Object::new();
            if let Some(description) = field.shift_remove("description") {
                schema.insert("description".to_owned(), description);
            }
            schema.append(&mut self.extract_schema(&mut field, &ptr));
            if is_file(&schema) {
                schema.insert("type".to_owned(), Value::String("string".to_owned()));
                schema.insert("format".to_owned(), Value::String("binary".to_owned()));
                any_file = true;
            }
            if schema
                .get("items")
                .and_then(Value::as_object)
                .is_some_and(is_file)
            {
                any_file = true;
            }
            let collection_format = field.shift_remove("collectionFormat");
            if is_array(&schema) {
                let (style, explode) = self.collection_style(collection_format, "formData", &ptr);
                let mut entry = Object::new();
                entry.insert("style".to_owned(), Value::String(style.to_owned()));
                if let Some(explode) = explode {
                    entry.insert("explode".to_owned(), Value::Bool(explode));
                }
                encoding.insert(name.clone(), Value::Object(entry));
            } else if let Some(format) = collection_format {
                discard(format);
            }
            if field.get("required").and_then(Value::as_bool) == Some(true) {
                required.push(Value::String(name.clone()));
            }
            if field.contains_key("allowEmptyValue") {
                self.warn(
                    push_token(&ptr, "allowEmptyValue"),
                    "allowEmptyValue has no equivalent for request body fields; dropped",
                );
            }
            move_extensions(field, &mut schema);
            properties.insert(name, Value::Object(schema));
        }
        let multipart = any_file
            || consumes
                .iter()
                .any(|m| m.starts_with("multipart/form-data"));
        let media_type = if multipart {
            "multipart/form-data"
        } else {
            "application/x-www-form-urlencoded"
        };
        let mut schema = Object::new();
        schema.insert("type".to_owned(), Value::String("object".to_owned()));
        schema.insert("properties".to_owned(), Value::Object(properties));
        let any_required = !required.is_empty();
        if any_required {
            schema.insert("required".to_owned(), Value::Array(required));
        }
        let mut media = Object::new();
        media.insert("schema".to_owned(), Value::Object(schema));
        // 3.0 ignores style/explode for multipart, and its form default is explode: true,
        // unlike Swagger's csv default, so urlencoded arrays need it spelled out.
        if !multipart && !encoding.is_empty() {
            media.insert("encoding".to_owned(), Value::Object(encoding));
        }
        let mut body = Object::new();
        let mut content = Object::new();
        content.insert(media_type.to_owned(), Value::Object(media));
        body.insert("content".to_owned(), Value::Object(content));
        if any_required {
            body.insert("required".to_owned(), Value::Bool(true));
        }
        Value::Object(body)
    }

    /// Moves the type information of a non-body parameter or header into `schema`.
    pub(super) fn move_into_schema(&mut self, target: &mut Object, location: &str, ptr: &str) {
        let schema = self.extract_schema(target, ptr);
        let collection_format = target.shift_remove("collectionFormat");
        if is_array(&schema) {
            let (style, explode) = self.collection_style(collection_format, location, ptr);
            target.insert("style".to_owned(), Value::String(style.to_owned()));
            if let Some(explode) = explode {
                target.insert("explode".to_owned(), Value::Bool(explode));
            }
        } else if let Some(format) = collection_format {
            discard(format);
        }
        target.insert("schema".to_owned(), Value::Object(schema));
    }

    fn extract_schema(&mut self, source: &mut Object, ptr: &str) -> Object {
        let mut schema = Object::new();
        for key in SCHEMA_FIELDS {
            if let Some(value) = source.shift_remove(key) {
                schema.insert(key.to_owned(), value);
            }
        }
        // Nullability belongs to the value, so it follows the type into the schema.
        if let Some(value) = source.shift_remove("x-nullable") {
            schema.insert("x-nullable".to_owned(), value);
        }
        let mut depth = 0;
        let mut warned = false;
        let mut current = schema.get_mut("items");
        while let Some(Value::Object(items)) = current {
            depth += 1;
            if let Some(format) = items.shift_remove("collectionFormat") {
                // Once per parameter: the pointer grows with depth, so more would be quadratic.
                if !warned {
                    warned = true;
                    self.warn(
                        format!("{ptr}{}/collectionFormat", "/items".repeat(depth)),
                        "collectionFormat of nested arrays has no OpenAPI 3 equivalent; dropped",
                    );
                }
                discard(format);
            }
            current = items.get_mut("items");
        }
        schema
    }

    /// Maps a Swagger collectionFormat to OpenAPI 3 `style`/`explode`.
    fn collection_style(
        &mut self,
        format: Option<Value>,
        location: &str,
        ptr: &str,
    ) -> (&'static str, Option<bool>) {
        let at = push_token(ptr, "collectionFormat");
        let format = match format {
            None => "csv".to_owned(),
            Some(Value::String(format)) => format,
            Some(other) => {
                self.warn(
                    &at,
                    format!("{}; treated as csv", expected("a string", &other)),
                );
                discard(other);
                "csv".to_owned()
            }
        };
        let query_like = matches!(location, "query" | "formData" | "cookie");
        let delimited_ok = matches!(location, "query" | "formData");
        let csv = if query_like {
            ("form", Some(false))
        } else {
            ("simple", None)
        };
        match format.as_str() {
            "csv" => csv,
            "multi" if query_like => ("form", Some(true)),
            "ssv" if delimited_ok => ("spaceDelimited", None),
            "pipes" if delimited_ok => ("pipeDelimited", None),
            "tsv" => {
                self.warn(&at, "tsv has no OpenAPI 3 equivalent; treated as csv");
                csv
            }
            "multi" | "ssv" | "pipes" => {
                self.warn(
                    &at,
                    format!("{format} is not supported for {location} values in OpenAPI 3; treated as csv"),
                );
                csv
            }
            other => {
                self.warn(
                    &at,
                    format!("unknown collectionFormat {other:?}; treated as csv"),
                );
                csv
            }
        }
    }
}

fn field_name(field: &Object) -> Option<String> {
    field.get("name").and_then(Value::as_str).map(str::to_owned)
}

fn is_file(schema: &Object) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("file")
}

fn is_array(schema: &Object) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("array")
}

fn remove_if_empty_array(obj: &mut Object, key: &str) {
    if obj
        .get(key)
        .and_then(Value::as_array)
        .is_some_and(Vec::is_empty)
    {
        obj.shift_remove(key);
    }
}

/// Keeps `x-` extensions of a consumed object; the rest of it has no 3.0 place.
fn move_extensions(source: Object, target: &mut Object) {
    for (key, value) in source {
        if key.starts_with("x-") {
            target.insert(key, value);
        } else {
            discard(value);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::upgrade::UpgradeError;
    use crate::upgrade::test_support::*;

    #[test]
    fn global_parameters_split_into_parameters_and_request_bodies() {
        let (doc, _) = upgrade(swagger(json!({
            "consumes": ["application/json", "application/xml"],
            "parameters": {
                "limit": {"name": "limit", "in": "query", "type": "integer", "maximum": 100},
                "PetBody": {
                    "name": "pet", "in": "body", "required": true, "description": "A pet",
                    "schema": {"$ref": "#/definitions/Pet"}, "x-extra": 1
                }
            },
            "definitions": {"Pet": {"type": "object"}}
        })));
        let components = &doc["components"];
        assert_eq!(
            components["parameters"]["limit"],
            json!({"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 100}})
        );
        assert_eq!(
            components["requestBodies"]["PetBody"],
            json!({
                "description": "A pet",
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Pet"}},
                    "application/xml": {"schema": {"$ref": "#/components/schemas/Pet"}}
                },
                "required": true,
                "x-codegen-request-body-name": "pet",
                "x-extra": 1
            })
        );
        assert!(components["parameters"].get("PetBody").is_none());
    }

    #[test]
    fn refs_to_body_parameters_become_request_body_refs() {
        let (doc, warnings) = upgrade(swagger(json!({
            "parameters": {
                "PetBody": {"name": "pet", "in": "body", "schema": {"type": "object"}},
                "limit": {"name": "limit", "in": "query", "type": "integer"}
            },
            "paths": {"/pets": {"post": {
                "parameters": [
                    {"$ref": "#/parameters/PetBody"},
                    {"$ref": "#/parameters/limit"},
                    {"$ref": "#/parameters/missing"},
                    {"$ref": "common.yaml#/parameters/shared"}
                ],
                "responses": {"200": {"description": "ok"}}
            }}}
        })));
        let op = &doc["paths"]["/pets"]["post"];
        assert_eq!(
            op["requestBody"],
            json!({"$ref": "#/components/requestBodies/PetBody"})
        );
        assert_eq!(
            op["parameters"],
            json!([
                {"$ref": "#/components/parameters/limit"},
                {"$ref": "#/components/parameters/missing"},
                {"$ref": "common.yaml#/components/parameters/shared"}
            ])
        );
        let keys: Vec<&str> = op.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["parameters", "requestBody", "responses"]);
        assert_warning(
            &warnings,
            "/paths/~1pets/post/parameters/2/$ref",
            "undefined parameter",
        );
        assert_warning(
            &warnings,
            "/paths/~1pets/post/parameters/3/$ref",
            "external parameter",
        );
    }

    // ---- Swagger 2.0: request bodies ------------------------------------

    #[test]
    fn body_parameter_becomes_request_body_per_operation_consumes() {
        let (doc, _) = upgrade(swagger(json!({
            "consumes": ["application/xml"],
            "paths": {"/pets": {
                "post": {
                    "consumes": ["application/json", "text/plain"],
                    "parameters": [{"name": "pet", "in": "body", "required": true, "description": "d",
                                    "schema": {"$ref": "#/definitions/Pet"}}],
                    "responses": {}
                },
                "put": {
                    "parameters": [{"name": "pet", "in": "body", "schema": {"type": "string"}}],
                    "responses": {}
                }
            }}
        })));
        let post = &doc["paths"]["/pets"]["post"];
        assert_eq!(
            post["requestBody"],
            json!({
                "description": "d",
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Pet"}},
                    "text/plain": {"schema": {"$ref": "#/components/schemas/Pet"}}
                },
                "required": true,
                "x-codegen-request-body-name": "pet"
            })
        );
        assert!(post.get("parameters").is_none() && post.get("consumes").is_none());
        let put = &doc["paths"]["/pets"]["put"];
        assert_eq!(
            put["requestBody"]["content"],
            json!({"application/xml": {"schema": {"type": "string"}}})
        );
    }

    #[test]
    fn body_media_type_defaults_to_json() {
        let (doc, warnings) = upgrade(swagger(json!({"paths": {"/a": {"post": {
            "parameters": [{"name": "b", "in": "body", "schema": {"type": "object"}},
                           {"name": "c", "in": "body"}],
            "responses": {}
        }}}})));
        assert_eq!(
            doc["paths"]["/a"]["post"]["requestBody"]["content"],
            json!({"application/json": {"schema": {"type": "object"}}})
        );
        assert_warning(
            &warnings,
            "/paths/~1a/post/parameters/1",
            "only one body parameter",
        );
    }

    #[test]
    fn body_without_schema_warns() {
        let (doc, warnings) = upgrade(swagger(json!({"paths": {"/a": {"post": {
            "parameters": [{"name": "b", "in": "body"}], "responses": {}
        }}}})));
        assert_eq!(
            doc["paths"]["/a"]["post"]["requestBody"]["content"],
            json!({"application/json": {"schema": {}}})
        );
        assert_warning(&warnings, "/paths/~1a/post/parameters/0", "no schema");
    }

    #[test]
    fn form_data_becomes_urlencoded_object_schema() {
        let (doc, warnings) = upgrade(swagger(json!({"paths": {"/login": {"post": {
            "parameters": [
                {"name": "user", "in": "formData", "type": "string", "required": true, "description": "who", "minLength": 1},
                {"name": "remember", "in": "formData", "type": "boolean", "default": false, "allowEmptyValue": true},
                {"name": "ids", "in": "formData", "type": "array", "items": {"type": "integer"}, "collectionFormat": "multi"},
                {"name": "tags", "in": "formData", "type": "array", "items": {"type": "string"}},
                {"name": "q", "in": "query", "type": "string"}
            ],
            "responses": {}
        }}}})));
        let op = &doc["paths"]["/login"]["post"];
        assert_eq!(
            op["requestBody"],
            json!({
                "content": {"application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "user": {"description": "who", "type": "string", "minLength": 1},
                            "remember": {"type": "boolean", "default": false},
                            "ids": {"type": "array", "items": {"type": "integer"}},
                            "tags": {"type": "array", "items": {"type": "string"}}
                        },
                        "required": ["user"]
                    },
                    "encoding": {
                        "ids": {"style": "form", "explode": true},
                        "tags": {"style": "form", "explode": false}
                    }
                }},
                "required": true
            })
        );
        assert_eq!(
            op["parameters"],
            json!([{"name": "q", "in": "query", "schema": {"type": "string"}}])
        );
        assert_warning(
            &warnings,
            "/paths/~1login/post/parameters/1/allowEmptyValue",
            "dropped",
        );
    }

    #[test]
    fn form_data_with_file_becomes_multipart_binary() {
        let (doc, _) = upgrade(swagger(json!({"paths": {"/upload": {"post": {
            "consumes": ["application/x-www-form-urlencoded"],
            "parameters": [
                {"name": "file", "in": "formData", "type": "file", "required": true},
                {"name": "note", "in": "formData", "type": "string"}
            ],
            "responses": {}
        }}}})));
        let content = &doc["paths"]["/upload"]["post"]["requestBody"]["content"];
        assert_eq!(
            content,
            &json!({"multipart/form-data": {"schema": {
                "type": "object",
                "properties": {
                    "file": {"type": "string", "format": "binary", "contentMediaType": "application/octet-stream"},
                    "note": {"type": "string"}
                },
                "required": ["file"]
            }}})
        );
    }

    #[test]
    fn form_data_uses_multipart_when_consumes_says_so() {
        let (doc, _) = upgrade(swagger(json!({"paths": {"/a": {"post": {
            "consumes": ["multipart/form-data"],
            "parameters": [{"name": "n", "in": "formData", "type": "array", "items": {"type": "string"}}],
            "responses": {}
        }}}})));
        let body = &doc["paths"]["/a"]["post"]["requestBody"];
        assert!(body["content"]["multipart/form-data"].is_object());
        assert!(
            body["content"]["multipart/form-data"]
                .get("encoding")
                .is_none()
        );
        assert!(body.get("required").is_none());
    }

    #[test]
    fn form_data_array_of_files_is_multipart() {
        let (doc, _) = upgrade(swagger(json!({"paths": {"/a": {"post": {
            "parameters": [{"name": "files", "in": "formData", "type": "array", "items": {"type": "file"}}],
            "responses": {}
        }}}})));
        let media = &doc["paths"]["/a"]["post"]["requestBody"]["content"]["multipart/form-data"];
        assert_eq!(
            media["schema"]["properties"]["files"]["items"]["type"],
            "string"
        );
        assert_eq!(
            media["schema"]["properties"]["files"]["items"]["format"],
            "binary"
        );
    }

    #[test]
    fn path_level_form_data_merges_into_each_operation() {
        let (doc, _) = upgrade(swagger(json!({"paths": {"/items/{id}": {
            "parameters": [
                {"name": "id", "in": "path", "required": true, "type": "string"},
                {"name": "shared", "in": "formData", "type": "string", "required": true},
                {"name": "over", "in": "formData", "type": "string"}
            ],
            "post": {"parameters": [{"name": "own", "in": "formData", "type": "integer"}], "responses": {}},
            "put": {"parameters": [{"name": "over", "in": "formData", "type": "number"}], "responses": {}},
            "patch": {"parameters": [{"name": "b", "in": "body", "schema": {"type": "object"}}], "responses": {}},
            "get": {"responses": {}}
        }}})));
        let item = &doc["paths"]["/items/{id}"];
        assert_eq!(
            item["parameters"],
            json!([{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}])
        );
        let post =
            &item["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"];
        assert_eq!(
            post["properties"],
            json!({"shared": {"type": "string"}, "over": {"type": "string"}, "own": {"type": "integer"}})
        );
        assert_eq!(post["required"], json!(["shared"]));
        let put =
            &item["put"]["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"];
        assert_eq!(
            put["properties"],
            json!({"shared": {"type": "string"}, "over": {"type": "number"}})
        );
        assert_eq!(
            item["patch"]["requestBody"]["content"],
            json!({"application/json": {"schema": {"type": "object"}}})
        );
        assert!(
            item["get"]["requestBody"]["content"]["application/x-www-form-urlencoded"].is_object()
        );
    }

    #[test]
    fn path_level_body_merges_into_operations_without_their_own() {
        let (doc, _) = upgrade(swagger(json!({
            "parameters": {"Shared": {"name": "s", "in": "body", "schema": {"type": "string"}}},
            "paths": {
                "/a": {
                    "parameters": [{"name": "p", "in": "body", "schema": {"$ref": "#/definitions/P"}}],
                    "post": {"consumes": ["text/xml"], "responses": {}},
                    "put": {"parameters": [{"name": "own", "in": "body", "schema": {"type": "integer"}}], "responses": {}},
                    "patch": {"parameters": [{"name": "f", "in": "formData", "type": "string"}], "responses": {}}
                },
                "/b": {"parameters": [{"$ref": "#/parameters/Shared"}], "post": {"responses": {}}}
            }
        })));
        let a = &doc["paths"]["/a"];
        assert!(a.get("parameters").is_none());
        assert_eq!(
            a["post"]["requestBody"]["content"],
            json!({"text/xml": {"schema": {"$ref": "#/components/schemas/P"}}})
        );
        assert_eq!(a["post"]["requestBody"]["x-codegen-request-body-name"], "p");
        assert_eq!(
            a["put"]["requestBody"]["content"]["application/json"]["schema"]["type"],
            "integer"
        );
        assert!(
            a["patch"]["requestBody"]["content"]["application/x-www-form-urlencoded"].is_object()
        );
        assert_eq!(
            doc["paths"]["/b"]["post"]["requestBody"],
            json!({"$ref": "#/components/requestBodies/Shared"})
        );
    }

    #[test]
    fn path_level_body_without_operations_warns() {
        let (_, warnings) = upgrade(swagger(json!({"paths": {"/a": {
            "parameters": [{"name": "p", "in": "body", "schema": {}}]
        }}})));
        assert_warning(&warnings, "/paths/~1a/parameters", "apply to no operation");
    }

    #[test]
    fn body_and_form_data_together_keep_the_body() {
        let (doc, warnings) = upgrade(swagger(json!({"paths": {"/a": {"post": {
            "parameters": [{"name": "f", "in": "formData", "type": "string"},
                           {"name": "b", "in": "body", "schema": {"type": "object"}}],
            "responses": {}
        }}}})));
        assert!(
            doc["paths"]["/a"]["post"]["requestBody"]["content"]["application/json"].is_object()
        );
        assert_warning(
            &warnings,
            "/paths/~1a/post/parameters",
            "cannot be combined",
        );
    }

    #[test]
    fn refs_to_global_form_data_parameters_are_inlined() {
        let (doc, _) = upgrade(swagger(json!({
            "parameters": {"Upload": {"name": "upload", "in": "formData", "type": "file", "required": true}},
            "paths": {"/a": {"post": {"parameters": [{"$ref": "#/parameters/Upload"}], "responses": {}}}}
        })));
        let schema =
            &doc["paths"]["/a"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"];
        assert_eq!(schema["properties"]["upload"]["format"], "binary");
        assert_eq!(schema["required"], json!(["upload"]));
        assert!(doc["components"].get("parameters").is_none());
    }

    // ---- Swagger 2.0: non-body parameters -------------------------------

    #[test]
    fn non_body_parameter_type_info_moves_into_schema() {
        let (doc, _) = upgrade(swagger(json!({"paths": {"/a": {"get": {
            "parameters": [{
                "name": "q", "in": "query", "description": "d", "required": false, "allowEmptyValue": true,
                "type": "integer", "format": "int32", "enum": [1, 2], "default": 1,
                "minimum": 0, "maximum": 10, "exclusiveMinimum": true, "exclusiveMaximum": false,
                "multipleOf": 1, "x-example": 2
            }, {
                "name": "s", "in": "header", "type": "string", "minLength": 1, "maxLength": 5, "pattern": "^a"
            }, {
                "name": "arr", "in": "query", "type": "array", "items": {"type": "string"},
                "minItems": 1, "maxItems": 3, "uniqueItems": true
            }],
            "responses": {}
        }}}})));
        let params = &doc["paths"]["/a"]["get"]["parameters"];
        assert_eq!(
            params[0],
            json!({
                "name": "q", "in": "query", "description": "d", "required": false, "allowEmptyValue": true,
                "x-example": 2,
                "schema": {"type": "integer", "format": "int32", "enum": [1, 2], "default": 1,
                           "exclusiveMinimum": 0, "maximum": 10, "multipleOf": 1}
            })
        );
        assert_eq!(
            params[1]["schema"],
            json!({"type": "string", "minLength": 1, "maxLength": 5, "pattern": "^a"})
        );
        assert_eq!(
            params[2],
            json!({"name": "arr", "in": "query", "style": "form", "explode": false, "schema": {
                "type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 3, "uniqueItems": true}})
        );
    }

    fn param_style(location: &str, format: Option<&str>) -> (Value, Vec<UpgradeError>) {
        let mut param = json!({"name": "p", "in": location, "required": true, "type": "array", "items": {"type": "string"}});
        if let Some(format) = format {
            param["collectionFormat"] = json!(format);
        }
        let (doc, warnings) = upgrade(swagger(
            json!({"paths": {"/a": {"get": {"parameters": [param], "responses": {}}}}}),
        ));
        let param = doc["paths"]["/a"]["get"]["parameters"][0].clone();
        assert!(param.get("collectionFormat").is_none());
        let style = json!({"style": param.get("style"), "explode": param.get("explode")});
        (style, warnings)
    }

    #[test]
    fn collection_formats_map_to_style_and_explode() {
        let cases = [
            ("query", None, json!({"style": "form", "explode": false})),
            (
                "query",
                Some("csv"),
                json!({"style": "form", "explode": false}),
            ),
            (
                "path",
                Some("csv"),
                json!({"style": "simple", "explode": null}),
            ),
            ("header", None, json!({"style": "simple", "explode": null})),
            (
                "query",
                Some("ssv"),
                json!({"style": "spaceDelimited", "explode": null}),
            ),
            (
                "query",
                Some("pipes"),
                json!({"style": "pipeDelimited", "explode": null}),
            ),
            (
                "query",
                Some("multi"),
                json!({"style": "form", "explode": true}),
            ),
        ];
        for (location, format, expected_style) in cases {
            let (style, warnings) = param_style(location, format);
            assert_eq!(style, expected_style, "{location} {format:?}");
            assert!(warnings.is_empty(), "{location} {format:?}: {warnings:?}");
        }
    }

    #[test]
    fn unsupported_collection_formats_warn() {
        let pointer = "/paths/~1a/get/parameters/0/collectionFormat";
        let (style, warnings) = param_style("query", Some("tsv"));
        assert_eq!(style, json!({"style": "form", "explode": false}));
        assert_warning(&warnings, pointer, "tsv has no OpenAPI 3 equivalent");
        let (style, warnings) = param_style("path", Some("tsv"));
        assert_eq!(style, json!({"style": "simple", "explode": null}));
        assert_warning(&warnings, pointer, "tsv");
        let (style, warnings) = param_style("path", Some("multi"));
        assert_eq!(style, json!({"style": "simple", "explode": null}));
        assert_warning(&warnings, pointer, "multi is not supported for path");
        let (style, warnings) = param_style("header", Some("pipes"));
        assert_eq!(style, json!({"style": "simple", "explode": null}));
        assert_warning(&warnings, pointer, "pipes");
        let (style, warnings) = param_style("query", Some("semicolons"));
        assert_eq!(style, json!({"style": "form", "explode": false}));
        assert_warning(&warnings, pointer, "unknown collectionFormat");
    }

    #[test]
    fn collection_format_on_scalars_is_dropped_and_nested_ones_warn() {
        let (doc, warnings) = upgrade(swagger(json!({"paths": {"/a": {"get": {
            "parameters": [
                {"name": "s", "in": "query", "type": "string", "collectionFormat": "csv"},
                {"name": "m", "in": "query", "type": "array", "collectionFormat": "pipes",
                 "items": {"type": "array", "collectionFormat": "csv", "items": {"type": "integer"}}}
            ],
            "responses": {}
        }}}})));
        let params = &doc["paths"]["/a"]["get"]["parameters"];
        assert_eq!(
            params[0],
            json!({"name": "s", "in": "query", "schema": {"type": "string"}})
        );
        assert_eq!(
            params[1]["schema"]["items"],
            json!({"type": "array", "items": {"type": "integer"}})
        );
        assert_eq!(params[1]["style"], "pipeDelimited");
        assert_warning(
            &warnings,
            "/paths/~1a/get/parameters/1/items/collectionFormat",
            "nested arrays",
        );
    }

    #[test]
    fn parameter_x_nullable_becomes_nullable_schema() {
        let (doc, _) = upgrade(swagger(json!({"paths": {"/a": {"get": {
            "parameters": [{"name": "q", "in": "query", "type": "string", "x-nullable": true}],
            "responses": {}
        }}}})));
        assert_eq!(
            doc["paths"]["/a"]["get"]["parameters"][0]["schema"],
            json!({"type": ["string", "null"]})
        );
    }
}
