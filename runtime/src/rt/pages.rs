//! Several pages of an answer in one call: an operation whose answers come in pages (a cursor,
//! a page number or an offset among its query parameters, or a `Link` header) takes an
//! optional `_pages` argument; the server then reads up to that many pages, one after the
//! other, and returns their items together in the shape of one page (the newest page's other
//! fields, such as its cursor, so that the model can go on from there).
//!
//! Bounds: at most [`MAX_PAGES`] pages, and all pages together no larger than the response
//! limit; a `Link` is followed only on the upstream's origin, below its base path.

use rmcp::model::JsonObject;
use serde_json::{Value, json};

use super::descriptor::{NextPage, Pagination};
use super::request::Upstream;

/// The argument that asks for more than one page.
pub const PAGES_ARG: &str = "_pages";
/// At most this many pages in one call.
pub const MAX_PAGES: u64 = 10;

/// The schema of [`PAGES_ARG`].
pub fn pages_schema() -> Value {
    json!({
        "type": "integer",
        "minimum": 1,
        "maximum": MAX_PAGES,
        "default": 1,
        "description": format!(
            "Read up to this many pages of the answer (at most {MAX_PAGES}) and return their \
             items together; 1 (the default) reads one."
        ),
    })
}

/// Takes [`PAGES_ARG`] out of the arguments: how many pages to read.
pub(super) fn take_pages(args: &mut JsonObject) -> Result<u64, String> {
    match args.remove(PAGES_ARG) {
        None | Some(Value::Null) => Ok(1),
        Some(value) => value
            .as_u64()
            .filter(|n| (1..=MAX_PAGES).contains(n))
            .ok_or_else(|| {
                format!("`{PAGES_ARG}` must be a whole number from 1 to {MAX_PAGES}, not {value}")
            }),
    }
}

/// Where the next page is.
#[derive(Debug, PartialEq)]
pub(super) enum Next {
    /// The same operation with these arguments.
    Arguments(JsonObject),
    /// This URL (a `Link` header's), with the operation's headers.
    Url(reqwest::Url),
    /// There is none, or it cannot be reached.
    End,
}

/// The request for the page after `page` (the answer just read, to arguments `args` at `url`,
/// whose `Link` header named `link` as next).
pub(super) fn next_page(
    pagination: &Pagination,
    args: &JsonObject,
    page: &Value,
    link: Option<&str>,
    url: &reqwest::Url,
    upstream: &Upstream,
) -> Next {
    let with = |arg: &str, value: Value| {
        let mut next = args.clone();
        next.insert(arg.to_owned(), value);
        Next::Arguments(next)
    };
    let count = items(page, pagination.items).map_or(0, Vec::len);
    match pagination.next {
        NextPage::Link => follow(link, url, upstream),
        NextPage::NextUrl(field) => {
            follow(page.pointer(field).and_then(Value::as_str), url, upstream)
        }
        NextPage::Cursor { arg, cursor } => match page.pointer(cursor) {
            Some(Value::String(s)) if !s.is_empty() && args.get(arg) != Some(&json!(s)) => {
                with(arg, json!(s))
            }
            Some(Value::Number(n)) if args.get(arg) != Some(&json!(n)) => with(arg, json!(n)),
            _ => Next::End,
        },
        NextPage::AfterLast { arg, id, more } => {
            let last = items(page, pagination.items).and_then(|items| items.last());
            match (page.pointer(more), last.and_then(|item| item.get(id))) {
                (Some(Value::Bool(true)), Some(id @ (Value::String(_) | Value::Number(_)))) => {
                    with(arg, id.clone())
                }
                _ => Next::End,
            }
        }
        NextPage::Page { arg, first } if count > 0 => {
            let current = args.get(arg).and_then(Value::as_i64).unwrap_or(first);
            with(arg, json!(current.saturating_add(1)))
        }
        NextPage::Offset { arg } if count > 0 => {
            let current = args.get(arg).and_then(Value::as_u64).unwrap_or(0);
            with(arg, json!(current.saturating_add(count as u64)))
        }
        NextPage::Page { .. } | NextPage::Offset { .. } => Next::End,
    }
}

/// The URL `link` (relative to `url`) as the next page's, when it is on the upstream's origin,
/// below its base path, and not the page just read.
fn follow(link: Option<&str>, url: &reqwest::Url, upstream: &Upstream) -> Next {
    match link
        .filter(|l| !l.is_empty())
        .and_then(|l| url.join(l).ok())
    {
        Some(next) if upstream.may_redirect_to(&next) && next != *url => Next::Url(next),
        _ => Next::End,
    }
}

/// The items of a page.
pub(super) fn items<'v>(page: &'v Value, pointer: &str) -> Option<&'v Vec<Value>> {
    page.pointer(pointer).and_then(Value::as_array)
}

/// Puts `all` in place of `page`'s items: the answer of several pages.
pub(super) fn with_items(mut page: Value, pointer: &str, all: Vec<Value>) -> Value {
    if let Some(slot) = page.pointer_mut(pointer) {
        *slot = Value::Array(all);
    }
    page
}

/// The target of the `rel="next"` link of a `Link` header (RFC 8288), if it has one.
pub(super) fn next_link(header: &str) -> Option<&str> {
    // `<url>; rel="next", <url>; rel="last"`: a URL cannot hold `>`, so each link ends at
    // the `,` after its `>`.
    let mut rest = header;
    while let Some(open) = rest.find('<') {
        let after = &rest[open + 1..];
        let close = after.find('>')?;
        let target = &after[..close];
        let params = &after[close + 1..];
        let end = params.find('<').unwrap_or(params.len());
        let is_next = params[..end].split(';').any(|param| {
            let Some((name, value)) = param.split_once('=') else {
                return false;
            };
            name.trim().eq_ignore_ascii_case("rel")
                && value
                    .trim()
                    .trim_end_matches(',')
                    .trim_end()
                    .trim_matches('"')
                    .split_ascii_whitespace()
                    .any(|rel| rel.eq_ignore_ascii_case("next"))
        });
        if is_next {
            return Some(target);
        }
        rest = &params[end..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upstream() -> Upstream {
        Upstream::parse("http://127.0.0.1:8080/v1").unwrap()
    }

    fn url(text: &str) -> reqwest::Url {
        reqwest::Url::parse(text).unwrap()
    }

    fn args(value: Value) -> JsonObject {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn links_are_read_and_followed_only_below_the_base() {
        let header = r#"<https://api.github.com/repos?page=3>; rel="next", <https://api.github.com/repos?page=9>; rel="last""#;
        assert_eq!(
            next_link(header),
            Some("https://api.github.com/repos?page=3")
        );
        assert_eq!(
            next_link(r#"</a?p=2>; rel="prev", </a?p=4>; rel="next""#),
            Some("/a?p=4")
        );
        assert_eq!(next_link(r#"</a>; rel="prev last""#), None);
        assert_eq!(next_link("garbage"), None);

        let pagination = Pagination {
            next: NextPage::Link,
            items: "",
        };
        let here = url("http://127.0.0.1:8080/v1/pets");
        let next = |link| {
            next_page(
                &pagination,
                &JsonObject::new(),
                &json!([1]),
                Some(link),
                &here,
                &upstream(),
            )
        };
        assert_eq!(
            next("/v1/pets?page=2"),
            Next::Url(url("http://127.0.0.1:8080/v1/pets?page=2"))
        );
        assert_eq!(next("http://169.254.169.254/latest"), Next::End);
        assert_eq!(next("/admin?page=2"), Next::End);
        assert_eq!(next("/v1/pets"), Next::End, "the same page again");
    }

    #[test]
    fn cursors_pages_and_offsets_advance_until_the_end() {
        let here = url("http://127.0.0.1:8080/v1/pets");
        let next = |next: NextPage, items: &'static str, a: Value, page: Value| {
            next_page(
                &Pagination { next, items },
                &args(a),
                &page,
                None,
                &here,
                &upstream(),
            )
        };
        let cursor = NextPage::Cursor {
            arg: "after",
            cursor: "/meta/next",
        };
        assert_eq!(
            next(
                cursor,
                "/data",
                json!({"limit": 2}),
                json!({"data": [1, 2], "meta": {"next": "c2"}})
            ),
            Next::Arguments(args(json!({"limit": 2, "after": "c2"})))
        );
        assert_eq!(
            next(
                cursor,
                "/data",
                json!({}),
                json!({"data": [], "meta": {"next": null}})
            ),
            Next::End
        );
        assert_eq!(
            next(
                cursor,
                "/data",
                json!({"after": "c2"}),
                json!({"data": [1], "meta": {"next": "c2"}})
            ),
            Next::End,
            "a cursor that does not move ends the pages"
        );

        let after = NextPage::AfterLast {
            arg: "starting_after",
            id: "id",
            more: "/has_more",
        };
        assert_eq!(
            next(
                after,
                "/data",
                json!({}),
                json!({"data": [{"id": "a"}, {"id": "b"}], "has_more": true})
            ),
            Next::Arguments(args(json!({"starting_after": "b"})))
        );
        assert_eq!(
            next(
                after,
                "/data",
                json!({}),
                json!({"data": [{"id": "a"}], "has_more": false})
            ),
            Next::End
        );

        let page = NextPage::Page {
            arg: "page",
            first: 1,
        };
        assert_eq!(
            next(page, "", json!({}), json!([1])),
            Next::Arguments(args(json!({"page": 2})))
        );
        assert_eq!(
            next(page, "", json!({"page": 4}), json!([1])),
            Next::Arguments(args(json!({"page": 5})))
        );
        assert_eq!(next(page, "", json!({"page": 4}), json!([])), Next::End);

        let offset = NextPage::Offset { arg: "offset" };
        assert_eq!(
            next(
                offset,
                "/items",
                json!({"offset": 10}),
                json!({"items": [1, 2, 3]})
            ),
            Next::Arguments(args(json!({"offset": 13})))
        );
    }

    #[test]
    fn the_page_count_is_checked() {
        let mut given = args(json!({"_pages": 3, "q": "x"}));
        assert_eq!(take_pages(&mut given), Ok(3));
        assert!(!given.contains_key(PAGES_ARG));
        assert_eq!(take_pages(&mut JsonObject::new()), Ok(1));
        for bad in [json!(0), json!(11), json!("2"), json!(1.5)] {
            let err = take_pages(&mut args(json!({ "_pages": bad }))).unwrap_err();
            assert!(err.contains("from 1 to 10"), "{err}");
        }
        assert_eq!(
            with_items(
                json!({"data": [1], "next": "c"}),
                "/data",
                vec![json!(1), json!(2)]
            ),
            json!({"data": [1, 2], "next": "c"})
        );
    }
}
