//! Prompts through a real MCP client: the Petstore's guide per tag and its hand-written
//! workflow (examples/petstore/mcpgen.toml), rendered for the mode the server serves in and
//! for the tools it serves; Arazzo workflows through `cargo mcpgen serve --arazzo`; argument
//! completion; and the errors a bad `prompts/get` gets.

use mcpgen_tests::{Client, mcpgen_binary, petstore_binary, stdio_client, workspace_root};
use rmcp::model::{GetPromptRequestParams, GetPromptResult, JsonObject};
use serde_json::Value;

/// No upstream is called: an address nothing listens on.
const NO_UPSTREAM: [&str; 2] = ["--base-url", "http://127.0.0.1:9/v1"];

fn args(pairs: &[(&str, &str)]) -> JsonObject {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::from(*v)))
        .collect()
}

async fn get(client: &Client, name: &str, arguments: &[(&str, &str)]) -> GetPromptResult {
    client
        .get_prompt(GetPromptRequestParams::new(name).with_arguments(args(arguments)))
        .await
        .unwrap_or_else(|e| panic!("prompts/get {name}: {e}"))
}

/// The text of a prompt's one message.
fn message(result: &GetPromptResult) -> String {
    assert_eq!(result.messages.len(), 1);
    let message = serde_json::to_value(&result.messages[0]).unwrap();
    assert_eq!(message["role"], "user");
    message["content"]["text"].as_str().unwrap().to_owned()
}

async fn names(client: &Client) -> Vec<String> {
    let prompts = client.list_all_prompts().await.expect("prompts/list");
    prompts.into_iter().map(|p| p.name).collect()
}

async fn petstore(extra: &[&str]) -> Client {
    let mut all = NO_UPSTREAM.to_vec();
    all.extend_from_slice(extra);
    stdio_client(petstore_binary(), &all, &[]).await
}

#[tokio::test]
async fn guides_and_workflows_of_the_generated_server() {
    let client = petstore(&[]).await;
    assert_eq!(names(&client).await, ["rename_a_pet", "guide_pets"]);
    let listed = client.list_all_prompts().await.unwrap();
    let rename = &listed[0];
    assert_eq!(rename.title.as_deref(), Some("Rename a pet"));
    let arguments: Vec<(&str, Option<bool>)> = rename
        .arguments
        .iter()
        .flatten()
        .map(|a| (a.name.as_str(), a.required))
        .collect();
    assert_eq!(arguments, [("name", Some(true)), ("pet", Some(true))]);

    // The guide lists the tag's tools, reading ones first, each with what it needs; the task
    // is appended when given.
    let guide = message(&get(&client, "guide_pets", &[("task", "find a cat called Tom")]).await);
    let order: Vec<usize> = [
        "listPets",
        "getPetById",
        "createPet",
        "updatePet",
        "deletePet",
    ]
    .iter()
    .map(|tool| {
        guide
            .find(&format!("- `{tool}` ("))
            .unwrap_or_else(|| panic!("{tool} is in the guide:\n{guide}"))
    })
    .collect();
    assert!(order.is_sorted(), "reading tools first:\n{guide}");
    assert!(
        guide.contains("- `getPetById` (GET /pets/{petId}): "),
        "{guide}"
    );
    assert!(guide.contains("needs `petId`"), "{guide}");
    assert!(
        guide.contains("Everything about pets"),
        "tag description:\n{guide}"
    );
    assert!(
        guide.ends_with("The task: find a cat called Tom"),
        "{guide}"
    );
    let without_task = message(&get(&client, "guide_pets", &[]).await);
    assert!(!without_task.contains("The task"), "{without_task}");

    // The workflow fills in the arguments where its steps name them.
    let rename = get(
        &client,
        "rename_a_pet",
        &[("pet", "Tom"), ("name", "Thomas")],
    )
    .await;
    assert_eq!(
        rename.description.as_deref(),
        Some("Find a pet and give it a new name.")
    );
    let text = message(&rename);
    assert!(text.contains("1. `listPets` (GET /pets)"), "{text}");
    assert!(text.contains("find Tom among the pets"), "{text}");
    assert!(
        text.contains("3. `updatePet` (PUT /pets/{petId})"),
        "{text}"
    );
    assert!(text.contains("set its name to Thomas"), "{text}");

    // Mistakes are errors that say what to give.
    let refused = |name: &'static str, arguments: &'static [(&'static str, &'static str)]| {
        let client = &client;
        async move {
            client
                .get_prompt(GetPromptRequestParams::new(name).with_arguments(args(arguments)))
                .await
                .expect_err("refused")
                .to_string()
        }
    };
    let missing = refused("rename_a_pet", &[("pet", "Tom")]).await;
    assert!(
        missing.contains("needs the argument `name`: The pet's new name"),
        "{missing}"
    );
    let unknown = refused("guide_pets", &[("goal", "x")]).await;
    assert!(
        unknown.contains("has no argument `goal`; it takes `task`"),
        "{unknown}"
    );
    let nothing = refused("guide_people", &[]).await;
    assert!(
        nothing.contains("no prompt is named `guide_people`"),
        "{nothing}"
    );
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn prompts_follow_the_mode_and_the_tools_served() {
    // In search mode the operations are reached through call_operation, and the prompts say so.
    let client = petstore(&["--mode", "search"]).await;
    let guide = message(&get(&client, "guide_pets", &[]).await);
    assert!(
        guide.contains("- `listPets` (GET /pets; reached through `call_operation` with `name`"),
        "{guide}"
    );
    client.cancel().await.unwrap();

    // A workflow whose tools are not all served is not offered; a guide keeps the tools that
    // are.
    let client = petstore(&["--read-only"]).await;
    assert_eq!(names(&client).await, ["guide_pets"]);
    let guide = message(&get(&client, "guide_pets", &[]).await);
    assert!(guide.contains("`listPets`"), "{guide}");
    assert!(!guide.contains("`deletePet`"), "{guide}");
    let gone = client
        .get_prompt(
            GetPromptRequestParams::new("rename_a_pet")
                .with_arguments(args(&[("pet", "Tom"), ("name", "T")])),
        )
        .await
        .expect_err("not offered");
    assert!(gone.to_string().contains("no prompt is named"), "{gone}");
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn arazzo_workflows_are_prompts_with_completed_arguments() {
    let root = workspace_root();
    let spec = root.join("examples/petstore/openapi.yaml");
    let arazzo = root.join("tests/fixtures/petstore.arazzo.yaml");
    let mut all = vec![
        "mcpgen",
        "serve",
        spec.to_str().unwrap(),
        "--arazzo",
        arazzo.to_str().unwrap(),
        "--guide-prompts=false",
    ];
    all.extend(NO_UPSTREAM);
    let client = stdio_client(mcpgen_binary(), &all, &[]).await;
    // The workflow that calls another API's operation is left out; the guides are off.
    assert_eq!(names(&client).await, ["rename_a_pet", "retag-pet"]);
    let listed = client.list_all_prompts().await.unwrap();
    assert_eq!(listed[1].title.as_deref(), Some("Give a pet a new tag"));

    let text = message(&get(&client, "retag-pet", &[("petId", "7"), ("tag", "cat")]).await);
    assert!(
        text.contains("1. `getPetById` (GET /pets/{petId})"),
        "{text}"
    );
    assert!(
        text.contains("[step `read`]: Read the pet as it is."),
        "{text}"
    );
    assert!(text.contains("   - `petId` = 7\n"), "{text}");
    assert!(
        text.contains("2. `updatePet` (PUT /pets/{petId})"),
        "{text}"
    );
    assert!(
        text.contains(r#"   - body: {"name": `$steps.read.outputs.name`, "tag": cat}"#),
        "{text}"
    );
    assert!(text.contains("succeeds when: $statusCode == 200"), "{text}");

    // Completion offers the input's enum, filtered by what was typed.
    let offered = client
        .complete_prompt_argument("retag-pet", "tag", "", None)
        .await
        .unwrap();
    assert_eq!(offered.values, ["dog", "cat", "bird"]);
    let offered = client
        .complete_prompt_argument("retag-pet", "tag", "C", None)
        .await
        .unwrap();
    assert_eq!(offered.values, ["cat"]);
    let unknown = client
        .complete_prompt_argument("retag-pet", "colour", "", None)
        .await
        .expect_err("no such argument");
    assert!(
        unknown.to_string().contains("has no argument `colour`"),
        "{unknown}"
    );
    client.cancel().await.unwrap();
}
