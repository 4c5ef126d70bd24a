//! Which operation a resource URI reads. A GET operation is a resource when its document names
//! one (`x-mcpgen: {resource: "docs://readme"}`), whatever the server's options; with
//! `--get-resources` every other GET operation that needs no argument is one too, as
//! `operation://<tool>`. Templates (see [`templates`](super::templates)) cover the operations
//! that need path parameters. A URI is looked up exactly first, so that no template ever
//! reads a resource that has a URI of its own.

use std::collections::HashMap;

use rmcp::model::{ContentBlock, Resource, ResourceContents};
use serde_json::{Map, Value};

use super::descriptor::{ApiDescriptor, ToolDescriptor};
use super::discovery;
use super::templates::Templates;
use super::uri_template::UriTemplate;

/// The resources and templates of a server's operations.
#[derive(Debug, Default)]
pub struct OperationResources {
    /// Each resource's URI and operation (its index in the table), in the table's order.
    resources: Vec<(String, usize)>,
    /// The same, by URI.
    by_uri: HashMap<String, usize>,
    /// The templates.
    pub templates: Templates,
}

impl OperationResources {
    /// The resources of the operations `served` lets through: those the document names, and
    /// with `get_resources` those of the other GET operations.
    pub fn build(
        api: &ApiDescriptor,
        get_resources: bool,
        served: impl Fn(&ToolDescriptor) -> bool,
    ) -> Self {
        let mut resources = Vec::new();
        for (index, tool) in api.tools.iter().enumerate() {
            if !served(tool) {
                continue;
            }
            let uri = match tool.resource {
                Some(named) => UriTemplate::parse(named.uri)
                    .is_ok_and(|t| !t.has_variables())
                    .then(|| named.uri.to_owned()),
                None => (get_resources
                    && discovery::is_resource_operation(tool, &parse_object(tool.input_schema)))
                .then(|| format!("{}{}", discovery::OPERATION_URI_PREFIX, tool.name)),
            };
            if let Some(uri) = uri {
                resources.push((uri, index));
            }
        }
        let by_uri = resources.iter().cloned().collect();
        OperationResources {
            resources,
            by_uri,
            templates: Templates::build(api, get_resources, served),
        }
    }

    /// The resources as `resources/list` shows them.
    pub fn listed(&self, api: &ApiDescriptor) -> Vec<Resource> {
        self.resources
            .iter()
            .map(|(uri, index)| discovery::operation_resource(uri, &api.tools[*index]))
            .collect()
    }

    /// The operation `uri` reads, with the arguments a template's URI holds; `None` when it
    /// names no resource of an operation.
    pub fn resolve(&self, uri: &str) -> Option<(usize, Option<Map<String, Value>>)> {
        if let Some(&index) = self.by_uri.get(uri) {
            return Some((index, None));
        }
        self.templates
            .resolve(uri)
            .map(|(index, arguments)| (index, Some(arguments)))
    }

    /// The URIs of the resources, for messages.
    pub fn uris(&self) -> impl Iterator<Item = &str> {
        self.resources.iter().map(|(uri, _)| uri.as_str())
    }
}

/// A JSON object from text; empty when the text is not one.
pub(super) fn parse_object(text: &str) -> Map<String, Value> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

/// Contents read from a resource as the content of a prompt's message: text as an embedded
/// resource, an image or audio as such, other binary content as an embedded resource.
pub fn prompt_content(contents: ResourceContents) -> ContentBlock {
    match contents {
        ResourceContents::BlobResourceContents {
            mime_type: Some(mime_type),
            blob,
            ..
        } if mime_type.starts_with("image/") => ContentBlock::image(blob, mime_type),
        ResourceContents::BlobResourceContents {
            mime_type: Some(mime_type),
            blob,
            ..
        } if mime_type.starts_with("audio/") => ContentBlock::audio(blob, mime_type),
        other => ContentBlock::resource(other),
    }
}

#[cfg(test)]
mod tests {
    use super::super::descriptor::{CallPlan, ParamPlan, ResourceDescriptor, ToolDescriptor};
    use super::super::tests::{TOOL, api};
    use super::*;

    static TOOLS: [ToolDescriptor; 4] = [
        ToolDescriptor {
            name: "readme",
            resource: Some(ResourceDescriptor {
                uri: "docs://readme",
                mime_type: Some("text/markdown"),
            }),
            ..TOOL
        },
        ToolDescriptor {
            name: "getPage",
            input_schema: r#"{"type":"object","properties":{"page_id":{"type":"string"}},"required":["page_id"]}"#,
            plan: CallPlan {
                path: "/pages/{id}",
                params: &[ParamPlan::path("id").argument("page_id")],
                ..TOOL.plan
            },
            resource: Some(ResourceDescriptor {
                uri: "docs://{id}",
                mime_type: None,
            }),
            ..TOOL
        },
        ToolDescriptor {
            name: "getPet",
            input_schema: r#"{"type":"object","properties":{"petId":{"type":"string"}},"required":["petId"]}"#,
            plan: CallPlan {
                path: "/pets/{petId}",
                params: &[ParamPlan::path("petId")],
                ..TOOL.plan
            },
            ..TOOL
        },
        ToolDescriptor {
            name: "getThing",
            ..TOOL
        },
    ];
    static API: ApiDescriptor = ApiDescriptor {
        server_name: "docs-mcp",
        ..api(&TOOLS)
    };

    /// The URIs of the resources and of the templates, as listed.
    fn listed(resources: &OperationResources) -> (Vec<String>, Vec<String>) {
        (
            resources.listed(&API).into_iter().map(|r| r.uri).collect(),
            resources
                .templates
                .listed(&API)
                .into_iter()
                .map(|t| t.uri_template)
                .collect(),
        )
    }

    #[test]
    fn named_resources_are_resources_whatever_the_options() {
        let plain = OperationResources::build(&API, false, |_| true);
        assert_eq!(
            listed(&plain),
            (vec!["docs://readme".into()], vec!["docs://{id}".into()])
        );
        let listed_readme = &plain.listed(&API)[0];
        assert_eq!(
            (
                listed_readme.name.as_str(),
                listed_readme.mime_type.as_deref()
            ),
            ("readme", Some("text/markdown"))
        );
        // The URI of its own wins over a template that matches it too.
        assert_eq!(plain.resolve("docs://readme"), Some((0, None)));
        let (index, arguments) = plain.resolve("docs://a%20b").unwrap();
        assert_eq!(index, 1);
        assert_eq!(arguments.unwrap()["page_id"], "a b");
        assert_eq!(plain.resolve("docs://a/b"), None);
        assert_eq!(plain.resolve("operation://getThing"), None);
        assert_eq!(plain.resolve("docs-mcp://pets/1"), None);

        let all = OperationResources::build(&API, true, |_| true);
        assert_eq!(
            listed(&all),
            (
                vec!["docs://readme".into(), "operation://getThing".into()],
                vec!["docs://{id}".into(), "docs://pets/{petId}".into()]
            )
        );
        assert_eq!(all.resolve("docs://pets/7").unwrap().0, 2);
        let only_get_pet = OperationResources::build(&API, true, |t| t.name == "getPet");
        assert_eq!(
            listed(&only_get_pet),
            (vec![], vec!["docs://pets/{petId}".into()])
        );
    }

    #[test]
    fn binary_contents_become_their_kind_of_content() {
        let blob = |mime: &str| ResourceContents::BlobResourceContents {
            uri: "x://y".to_owned(),
            mime_type: Some(mime.to_owned()),
            blob: "AAAA".to_owned(),
            meta: None,
        };
        assert!(
            matches!(prompt_content(blob("image/png")), ContentBlock::Image(i) if i.mime_type == "image/png")
        );
        assert!(matches!(
            prompt_content(blob("audio/wav")),
            ContentBlock::Audio(_)
        ));
        assert!(matches!(
            prompt_content(blob("application/pdf")),
            ContentBlock::Resource(_)
        ));
        let text = ResourceContents::TextResourceContents {
            uri: "x://y".to_owned(),
            mime_type: Some("text/plain".to_owned()),
            text: "hi".to_owned(),
            meta: None,
        };
        assert!(matches!(prompt_content(text), ContentBlock::Resource(_)));
    }
}
