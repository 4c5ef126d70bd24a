//! The ranking behind `search_operations`: for tasks phrased the way an agent phrases them,
//! the operation meant must come first, or at worst among the first few. Checked against a
//! committed fixture, and against GitHub's REST API, 1,200 operations in a 13 MB document that
//! is not committed: that test is ignored by default and needs the npm package
//! `@octokit/openapi@23.0.2`, which `scripts/corpus.sh` installs (see [`github_spec`]):
//!
//! ```sh
//! scripts/corpus-ci.sh && cargo test -p mcpgen-tests --test search_rank -- --ignored
//! ```

use std::path::PathBuf;

use mcpgen::discovery::discovery_tools;
use mcpgen::search::{SearchDoc, SearchIndex};
use mcpgen_codegen::{Settings, ToolSpec, map_document};
use mcpgen_tests::workspace_root;

/// The rank (1-based) of `wanted` among the results for `query`, if it is in the first 10.
fn rank(index: &SearchIndex, tools: &[ToolSpec], query: &str, wanted: &[&str]) -> Option<usize> {
    index
        .search(query, 10)
        .iter()
        .position(|hit| wanted.contains(&tools[hit.doc].name.as_str()))
        .map(|i| i + 1)
}

fn build(tools: &[ToolSpec]) -> SearchIndex {
    let tags: Vec<Vec<&str>> = tools
        .iter()
        .map(|t| t.tags.iter().map(String::as_str).collect())
        .collect();
    SearchIndex::build(tools.iter().zip(&tags).map(|(t, tags)| SearchDoc {
        name: &t.name,
        title: t.title.as_deref(),
        description: &t.description,
        tags,
        method: &t.plan.method,
        path: &t.plan.path,
    }))
}

/// Runs every case, prints the ranks, and checks that each wanted operation is within
/// `max_rank` and that at least `min_first` of them come first.
fn evaluate(tools: &[ToolSpec], cases: &[(&str, &[&str])], max_rank: usize, min_first: f64) {
    let index = build(tools);
    let mut first = 0;
    let mut failures = Vec::new();
    for (query, wanted) in cases {
        let found = rank(&index, tools, query, wanted);
        let top: Vec<&str> = index
            .search(query, 3)
            .iter()
            .map(|h| tools[h.doc].name.as_str())
            .collect();
        println!(
            "{:>4}  {query:<55} {top:?}",
            found.map_or("-".to_owned(), |r| r.to_string())
        );
        match found {
            Some(1) => first += 1,
            Some(r) if r <= max_rank => {}
            _ => failures.push(format!("`{query}`: wanted {wanted:?}, got {top:?}")),
        }
    }
    let share = first as f64 / cases.len() as f64;
    println!("first: {first}/{} ({:.0}%)", cases.len(), share * 100.0);
    assert!(
        failures.is_empty(),
        "not within {max_rank}:\n{}",
        failures.join("\n")
    );
    assert!(
        share >= min_first,
        "only {first} of {} queries found their operation first",
        cases.len()
    );
}

#[test]
fn fixture_queries_find_their_operation() {
    let spec = workspace_root().join("tests/fixtures/search.yaml");
    let mapped = map_document(&spec, &Settings::new()).expect("the fixture maps");
    let cases: &[(&str, &[&str])] = &[
        ("find a customer by email", &["searchCustomers"]),
        ("create a new customer", &["createCustomer"]),
        ("remove a customer", &["deleteCustomer"]),
        ("change a customer's address", &["updateCustomer"]),
        ("all invoices of a customer", &["listCustomerInvoices"]),
        ("refund a payment", &["refundPayment"]),
        ("send an invoice by email", &["sendInvoice"]),
        ("void an invoice", &["voidInvoice"]),
        ("charge a card", &["createPayment"]),
        ("list products", &["listProducts"]),
        ("change the price of a product", &["updatePrice"]),
        ("stock level of a product", &["getInventory"]),
        ("register a webhook", &["createWebhook"]),
        ("stop sending events to a webhook", &["deleteWebhook"]),
        ("cancel a subscription", &["cancelSubscription"]),
        ("upload a file", &["uploadFile"]),
        ("download a file", &["downloadFile"]),
        ("who am I", &["getCurrentUser"]),
        ("rotate an API key", &["rotateApiKey"]),
        ("DELETE /customers/{customerId}", &["deleteCustomer"]),
        ("getInventory", &["getInventory"]),
        ("usage report for last month", &["getUsageReport"]),
    ];
    evaluate(&mapped.api.tools, cases, 3, 0.9);
}

/// GitHub's REST API document: `MCPGEN_GITHUB_SPEC`, or where `scripts/corpus.sh` and
/// `scripts/bench.sh` install the npm package. Panics when there is none: a test that asks
/// for it must not pass without it.
fn github_spec() -> PathBuf {
    if let Some(path) = std::env::var_os("MCPGEN_GITHUB_SPEC") {
        return PathBuf::from(path);
    }
    let relative = "node_modules/@octokit/openapi/generated/api.github.com.json";
    ["target/corpus-npm", "target/bench-npm"]
        .iter()
        .map(|dir| workspace_root().join(dir).join(relative))
        .find(|path| path.exists())
        .expect(
            "GitHub's API document is not installed: run scripts/corpus-ci.sh (or `npm install \
             --prefix target/corpus-npm @octokit/openapi@23.0.2`), or set MCPGEN_GITHUB_SPEC to \
             an api.github.com.json",
        )
}

#[test]
#[ignore = "needs GitHub's 13 MB API document; run scripts/corpus-ci.sh, then \
            cargo test -p mcpgen-tests --test search_rank -- --ignored"]
fn github_queries_find_their_operation() {
    let spec = github_spec();
    let mapped = map_document(&spec, &Settings::new()).expect("GitHub's document maps");
    assert!(mapped.api.tools.len() > 1000);
    let cases: &[(&str, &[&str])] = &[
        ("list pull requests", &["pulls_list"]),
        ("merge a pull request", &["pulls_merge"]),
        ("open a new issue", &["issues_create"]),
        ("add a comment to an issue", &["issues_create-comment"]),
        ("read a file from a repository", &["repos_get-content"]),
        (
            "list my repositories",
            &["repos_list-for-authenticated-user"],
        ),
        (
            "star a repository",
            &["activity_star-repo-for-authenticated-user"],
        ),
        ("publish a release", &["repos_create-release"]),
        (
            "list workflow runs",
            &[
                "actions_list-workflow-runs-for-repo",
                "actions_list-workflow-runs",
            ],
        ),
        (
            "remove branch protection",
            &["repos_delete-branch-protection"],
        ),
        ("get a user by username", &["users_get-by-username"]),
        ("list members of an organization", &["orgs_list-members"]),
        ("create a gist", &["gists_create"]),
        ("search code", &["search_code"]),
        ("add labels to an issue", &["issues_add-labels"]),
        ("create a repository webhook", &["repos_create-webhook"]),
        ("list commits", &["repos_list-commits"]),
        ("fork a repository", &["repos_create-fork"]),
        ("rate limit", &["rate-limit_get"]),
        (
            "set an actions secret for a repository",
            &["actions_create-or-update-repo-secret"],
        ),
        (
            "add reviewers to a pull request",
            &["pulls_request-reviewers"],
        ),
        ("list tags", &["repos_list-tags"]),
        ("compare two commits", &["repos_compare-commits"]),
        ("create a deployment", &["repos_create-deployment"]),
        ("cancel a workflow run", &["actions_cancel-workflow-run"]),
        (
            "list notifications",
            &["activity_list-notifications-for-authenticated-user"],
        ),
        ("lock an issue", &["issues_lock"]),
        ("get the readme of a repository", &["repos_get-readme"]),
        ("create a check run", &["checks_create"]),
        (
            "dependabot alerts of a repository",
            &["dependabot_list-alerts-for-repo"],
        ),
        ("GET /repos/{owner}/{repo}/pulls", &["pulls_list"]),
        ("pulls_merge", &["pulls_merge"]),
    ];
    evaluate(&mapped.api.tools, cases, 5, 0.75);

    // The whole tool list an agent loads in search mode, as tools/list sends it.
    let list = rmcp::model::ListToolsResult::with_all_items(discovery_tools(&mapped.api.title));
    let bytes = serde_json::to_string(&list).expect("serialises").len();
    println!("tools/list in search mode: {bytes} bytes");
    assert!(bytes < 5 * 1024, "{bytes} bytes");
}
