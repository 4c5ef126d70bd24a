//! Several documents joined into one server's table (`map_documents`): the indices that point
//! into the tables (a prompt's tools, a tool's security schemes) still point at entries of the
//! same document after joining, and the APIs own the runs of tools and schemes they say.

use std::path::{Path, PathBuf};

use mcpgen_codegen::spec::PromptPart;
use mcpgen_codegen::{ApiDocument, Settings, map_documents};

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

#[test]
fn joined_tables_keep_each_documents_references() {
    let petstore = repo("examples/petstore/openapi.yaml");
    let petstore_settings =
        mcpgen_codegen::config::apply_file(&repo("examples/petstore/mcpgen.toml"), Settings::new())
            .unwrap();
    let notes = repo("tests/fixtures/multi/notes/openapi.yaml");
    let notes_settings = mcpgen_codegen::config::apply_file(
        &repo("tests/fixtures/multi/notes/mcpgen.toml"),
        Settings::new(),
    )
    .unwrap();
    let documents = [
        ApiDocument::new(&notes, notes_settings),
        ApiDocument::new(&petstore, petstore_settings).namespace("pets"),
    ];
    let mapped = map_documents(&documents, &Settings::new().crate_name("joined-mcp")).unwrap();
    let api = &mapped.api;
    assert_eq!(mapped.crate_name, "joined-mcp");
    let names: Vec<(&str, usize, usize)> = api
        .apis
        .iter()
        .map(|a| (a.name.as_str(), a.tool_count, a.scheme_count))
        .collect();
    assert_eq!(names, [("notes_desk", 1, 1), ("pets", 6, 1)]);

    // Each tool's schemes are its own API's.
    let mut first_tool = 0;
    let mut first_scheme = 0;
    for upstream in &api.apis {
        let schemes = first_scheme..first_scheme + upstream.scheme_count;
        for tool in &api.tools[first_tool..first_tool + upstream.tool_count] {
            assert!(
                tool.name.starts_with(&format!("{}_", upstream.name)),
                "{}",
                tool.name
            );
            for index in tool.plan.security.iter().flatten() {
                assert!(schemes.contains(index), "{}: scheme {index}", tool.name);
            }
            // Only the Notes Desk's mcpgen.toml masks anything.
            let masked = upstream.name == "notes_desk";
            assert_eq!(
                tool.guardrails.masked_fields.contains(&"query".to_owned()),
                masked,
                "{}",
                tool.name
            );
        }
        first_tool += upstream.tool_count;
        first_scheme += upstream.scheme_count;
    }
    assert_eq!(first_tool, api.tools.len());
    assert_eq!(first_scheme, api.schemes.len());
    assert!(
        api.guardrails.mask_fields.is_empty(),
        "no server-wide mask is left"
    );

    // The Petstore's workflow names the Petstore's tools, shifted past the Notes Desk's.
    let workflow = api
        .prompts
        .iter()
        .find(|p| p.name == "pets_rename_a_pet")
        .expect("the Petstore's workflow, namespaced");
    let named: Vec<&str> = workflow
        .parts
        .iter()
        .filter_map(|part| match part {
            PromptPart::Tool(i) | PromptPart::ToolItem(i) => Some(api.tools[*i].name.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        named,
        ["pets_listPets", "pets_getPetById", "pets_updatePet"]
    );
    assert!(mapped.warnings.iter().all(|w| w.contains(".yaml: ")));
}

#[test]
fn the_builder_joins_several_documents() {
    let source = mcpgen_codegen::Builder::new(repo("tests/fixtures/multi/notes/openapi.yaml"))
        .document(repo("examples/petstore/openapi.yaml"))
        .namespace("pets")
        .settings(Settings::new().crate_name("joined-mcp"))
        .generate()
        .unwrap();
    for needle in [
        "\"notes_desk_getNote\"",
        "\"pets_listPets\"",
        "\"PETS_BEARER_AUTH_TOKEN\"",
        "UpstreamApi",
        "masked_fields: &[\"query\"]",
    ] {
        assert!(source.contains(needle), "`{needle}` is not in the source");
    }
    // One document stays a server of one API.
    let one = mcpgen_codegen::Builder::new(repo("examples/petstore/openapi.yaml"))
        .generate()
        .unwrap();
    assert!(one.contains("\"listPets\"") && one.contains("apis: &[]"));
}
