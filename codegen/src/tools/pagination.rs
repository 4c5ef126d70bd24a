//! Recognises operations whose answers come in pages, so that the server can read several
//! pages in one call (the runtime's `_pages` argument). Only GET operations whose answer has a
//! list of items (the answer itself, or one array property of it) qualify, and then the first
//! of these that fits says how the next page is asked for:
//!
//! 1. a `Link` response header (RFC 8288, `rel="next"`), as GitHub sends;
//! 2. a URL to the next page in the answer (`next` with `format: uri`, `links.next`,
//!    HAL's `_links.next.href`), as Django REST framework and HAL APIs send;
//! 3. a cursor query parameter (`cursor`, `after`, `page_token`, ...) and the answer's field
//!    that carries the next cursor (`next_cursor`, `nextPageToken`, `meta.next`, ...);
//! 4. Stripe's `starting_after` with `has_more` and the items' `id`;
//! 5. a page-number query parameter (`page`, `page_number`);
//! 6. an offset query parameter (`offset`, `skip`, `start`).
//!
//! `x-mcpgen: {pagination: false}` on an operation turns it off.

use serde_json::Value;

use crate::model::{Location, Operation};

use super::ToolSpec;

/// How an operation's answers come in pages (the runtime's `Pagination`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaginationSpec {
    /// How the next page is asked for.
    pub next: NextPageSpec,
    /// Where a page's items are: `""` (the answer is the list) or a JSON pointer.
    pub items: String,
}

/// How the next page is asked for (the runtime's `NextPage`, whose variants say more).
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum NextPageSpec {
    /// The `Link` header's `rel="next"`.
    Link,
    /// The URL at this pointer of the answer.
    NextUrl(String),
    /// The argument takes the cursor at this pointer of the answer.
    Cursor { arg: String, cursor: String },
    /// The argument takes the last item's `id` while the flag at `more` is true.
    AfterLast {
        arg: String,
        id: String,
        more: String,
    },
    /// The argument is a page number, from `first`.
    Page { arg: String, first: i64 },
    /// The argument is an offset.
    Offset { arg: String },
}

/// Names of cursor parameters, folded (lower case, no `_` or `-`).
const CURSOR_PARAMS: &[&str] = &[
    "cursor",
    "after",
    "pagetoken",
    "nexttoken",
    "continuationtoken",
    "continuation",
    "marker",
    "pagecursor",
    "startcursor",
    "nextcursor",
    "nextpagetoken",
];
/// Names of the answer's field that carries the next cursor, folded.
const CURSOR_FIELDS: &[&str] = &[
    "nextcursor",
    "nextpagetoken",
    "nexttoken",
    "endcursor",
    "continuationtoken",
    "continuation",
    "nextmarker",
    "cursor",
    "next",
    "after",
];
/// Objects of the answer that hold paging fields.
const PAGING_OBJECTS: &[&str] = &[
    "meta",
    "pagination",
    "paging",
    "page_info",
    "pageInfo",
    "response_metadata",
    "links",
    "_links",
    "cursor",
    "cursors",
];
/// Preferred names of the items' array property.
const ITEM_ARRAYS: &[&str] = &[
    "data", "items", "results", "entries", "records", "values", "elements", "nodes", "objects",
    "list", "content", "hits", "rows",
];
const PAGE_PARAMS: &[&str] = &["page", "pagenumber", "pagenum", "pageno"];
const OFFSET_PARAMS: &[&str] = &["offset", "skip", "start", "startindex"];

fn fold(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// How `op` (mapped to `tool`) pages its answers, if it recognisably does.
pub fn detect(op: &Operation, tool: &ToolSpec, doc: &Value) -> Option<PaginationSpec> {
    if !op.method.eq_ignore_ascii_case("get") || op.extension.pagination == Some(false) {
        return None;
    }
    let output = tool.output_schema.as_ref()?;
    let answer = if tool.output_wrapped {
        output.pointer("/properties/result")?
    } else {
        output
    };
    let answer = resolve(output, answer);
    let (items, item_schema) = items_of(output, answer)?;
    let item_schema = resolve(output, item_schema);
    let query_param = |names: &[&str]| {
        op.params
            .iter()
            .filter(|p| p.location == Location::Query)
            .find(|p| names.contains(&fold(&p.name).as_str()))
            .and_then(|p| {
                let arg = tool
                    .plan
                    .params
                    .iter()
                    .find(|s| s.location == Location::Query && s.name == p.name)?;
                Some((arg.arg.clone(), &p.schema))
            })
    };
    let spec = |next| {
        Some(PaginationSpec {
            next,
            items: items.clone(),
        })
    };

    if declares_link_header(op, doc) {
        return spec(NextPageSpec::Link);
    }
    if !items.is_empty() {
        if let Some(pointer) = next_url_field(output, answer) {
            return spec(NextPageSpec::NextUrl(pointer));
        }
        if let Some((arg, _)) = query_param(CURSOR_PARAMS)
            && let Some(cursor) = cursor_field(output, answer)
        {
            return spec(NextPageSpec::Cursor { arg, cursor });
        }
        if let Some((arg, _)) = query_param(&["startingafter"])
            && property(output, answer, "has_more").is_some()
            && property(output, item_schema, "id").is_some()
        {
            return spec(NextPageSpec::AfterLast {
                arg,
                id: "id".into(),
                more: "/has_more".into(),
            });
        }
    }
    if let Some((arg, schema)) = query_param(PAGE_PARAMS)
        && is_integer(schema)
    {
        let first = ["default", "minimum"]
            .iter()
            .find_map(|k| schema.get(*k).and_then(Value::as_i64))
            .unwrap_or(1);
        return spec(NextPageSpec::Page { arg, first });
    }
    if let Some((arg, schema)) = query_param(OFFSET_PARAMS)
        && is_integer(schema)
    {
        return spec(NextPageSpec::Offset { arg });
    }
    None
}

/// Follows a local `$ref` (into the tool schema's `$defs`), a few times at most.
fn resolve<'v>(root: &'v Value, mut schema: &'v Value) -> &'v Value {
    for _ in 0..8 {
        let Some(target) = schema
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
            .and_then(|pointer| root.pointer(pointer))
        else {
            break;
        };
        schema = target;
    }
    schema
}

fn types(schema: &Value) -> Vec<&str> {
    match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn is_integer(schema: &Value) -> bool {
    types(schema).contains(&"integer")
}

/// The pointer of the items in the answer and the items' schema: the answer itself when it
/// is a list, else its array property of a preferred name, or its only one.
fn items_of<'v>(root: &'v Value, answer: &'v Value) -> Option<(String, &'v Value)> {
    if types(answer).contains(&"array") {
        return Some((String::new(), answer.get("items").unwrap_or(&Value::Null)));
    }
    let properties = answer.get("properties")?.as_object()?;
    let arrays: Vec<(&String, &Value)> = properties
        .iter()
        .filter(|(_, s)| types(resolve(root, s)).contains(&"array"))
        .collect();
    let (name, schema) = ITEM_ARRAYS
        .iter()
        .find_map(|preferred| arrays.iter().find(|(name, _)| name == preferred))
        .or_else(|| (arrays.len() == 1).then(|| &arrays[0]))?;
    let schema = resolve(root, schema);
    Some((
        crate::pointer::push_token("", name),
        schema.get("items").unwrap_or(&Value::Null),
    ))
}

/// The schema of property `name` of `schema`.
fn property<'v>(root: &'v Value, schema: &'v Value, name: &str) -> Option<&'v Value> {
    schema
        .get("properties")
        .and_then(|p| p.get(name))
        .map(|s| resolve(root, s))
}

/// Whether the operation's successful answer declares a `Link` header.
fn declares_link_header(op: &Operation, doc: &Value) -> bool {
    let Some(response) = op.response.as_ref().and_then(|r| {
        let at = r.pointer.find("/content/").map(|i| &r.pointer[..i])?;
        crate::pointer::value_at(doc, at)
    }) else {
        return false;
    };
    response
        .get("headers")
        .and_then(Value::as_object)
        .is_some_and(|headers| headers.keys().any(|k| k.eq_ignore_ascii_case("link")))
}

/// The pointer of a string property that holds the next page's URL.
fn next_url_field(root: &Value, answer: &Value) -> Option<String> {
    let is_url = |schema: &Value| {
        types(schema).contains(&"string")
            && schema
                .get("format")
                .and_then(Value::as_str)
                .is_some_and(|f| matches!(f, "uri" | "url" | "uri-reference"))
    };
    for name in [
        "next",
        "next_url",
        "nextUrl",
        "next_page_url",
        "nextPageUrl",
    ] {
        if property(root, answer, name).is_some_and(is_url) {
            return Some(format!("/{name}"));
        }
    }
    for holder in ["links", "_links", "pagination", "meta", "paging"] {
        let Some(links) = property(root, answer, holder) else {
            continue;
        };
        if let Some(next) = property(root, links, "next") {
            if is_url(next) {
                return Some(format!("/{holder}/next"));
            }
            if property(root, next, "href").is_some_and(|h| types(h).contains(&"string")) {
                return Some(format!("/{holder}/next/href"));
            }
        }
    }
    None
}

/// The pointer of the answer's field that carries the next cursor: at the top, or in one of
/// the objects that hold paging fields.
fn cursor_field(root: &Value, answer: &Value) -> Option<String> {
    let in_object = |schema: &Value, prefix: &str| {
        let properties = schema.get("properties")?.as_object()?;
        CURSOR_FIELDS.iter().find_map(|wanted| {
            properties.iter().find_map(|(name, s)| {
                let s = resolve(root, s);
                (fold(name) == *wanted
                    && types(s).iter().any(|t| matches!(*t, "string" | "integer")))
                .then(|| format!("{prefix}/{}", crate::pointer::escape_token(name)))
            })
        })
    };
    in_object(answer, "").or_else(|| {
        PAGING_OBJECTS.iter().find_map(|holder| {
            let schema = property(root, answer, holder)?;
            in_object(schema, &format!("/{holder}"))
        })
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn items(answer: Value) -> Option<String> {
        items_of(&answer, &answer).map(|(p, _)| p)
    }

    #[test]
    fn items_are_the_list_or_its_array_property() {
        assert_eq!(
            items(json!({"type": "array", "items": {}})),
            Some(String::new())
        );
        assert_eq!(
            items(
                json!({"type": "object", "properties": {"tags": {"type": "array"}, "data": {"type": "array"}}})
            ),
            Some("/data".into())
        );
        assert_eq!(
            items(
                json!({"type": "object", "properties": {"pets": {"type": "array"}, "count": {"type": "integer"}}})
            ),
            Some("/pets".into())
        );
        assert_eq!(
            items(
                json!({"type": "object", "properties": {"a": {"type": "array"}, "b": {"type": "array"}}})
            ),
            None,
            "two lists, neither named as items"
        );
    }

    #[test]
    fn cursor_and_url_fields_are_found_where_apis_put_them() {
        let answer = json!({"type": "object", "properties": {
            "data": {"type": "array"},
            "response_metadata": {"type": "object", "properties": {"next_cursor": {"type": "string"}}}
        }});
        assert_eq!(
            cursor_field(&answer, &answer),
            Some("/response_metadata/next_cursor".into())
        );
        let answer = json!({"type": "object", "properties": {"nextPageToken": {"type": ["string", "null"]}}});
        assert_eq!(
            cursor_field(&answer, &answer),
            Some("/nextPageToken".into())
        );
        let drf = json!({"type": "object", "properties": {"next": {"type": ["string", "null"], "format": "uri"}}});
        assert_eq!(next_url_field(&drf, &drf), Some("/next".into()));
        let hal = json!({"type": "object", "properties": {"_links": {"type": "object", "properties": {
            "next": {"type": "object", "properties": {"href": {"type": "string"}}}
        }}}});
        assert_eq!(next_url_field(&hal, &hal), Some("/_links/next/href".into()));
        assert_eq!(fold("Page-Token"), "pagetoken");
    }
}
