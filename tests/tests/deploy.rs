//! The container recipe of a generated crate and the deployment files of `examples/deploy`,
//! checked against the real server. No container engine runs here: the files are parsed, and
//! every flag, port, path and environment variable they use is compared with what the server
//! generated from `examples/petstore/openapi.yaml` accepts (its `--help`, built from the
//! workspace's runtime) and with each other; every command line they run is handed to that
//! server's argument parser.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use mcpgen_codegen::{GeneratedCrate, Settings};
use mcpgen_tests::dockerfile::{self, Stage};
use mcpgen_tests::workspace_root;
use serde_json::Value;

/// The server the deployment files run.
const CRATE: &str = "petstore-mcp";

fn spec() -> PathBuf {
    workspace_root().join("examples/petstore/openapi.yaml")
}

fn deploy_dir() -> PathBuf {
    workspace_root().join("examples/deploy")
}

/// The example crate as the generator writes it now, with the settings
/// `examples/petstore` is generated with.
fn generated() -> &'static GeneratedCrate {
    static CRATE_FILES: OnceLock<GeneratedCrate> = OnceLock::new();
    CRATE_FILES.get_or_init(|| {
        let settings = mcpgen_codegen::config::apply_file(
            &mcpgen_codegen::config::beside(&spec()).expect("examples/petstore/mcpgen.toml"),
            Settings::new().crate_name(CRATE),
        )
        .unwrap();
        mcpgen_codegen::generate_crate(&spec(), &settings).unwrap()
    })
}

/// The generated `Dockerfile`'s stages.
fn dockerfile_stages() -> Vec<Stage> {
    let text = generated()
        .file("Dockerfile")
        .expect("a generated Dockerfile");
    dockerfile::stages(&dockerfile::parse(text))
}

/// The image's `ENTRYPOINT`, in exec form.
fn entrypoint() -> Vec<String> {
    let stages = dockerfile_stages();
    let last = stages.last().unwrap();
    last.one("ENTRYPOINT")
        .exec_form()
        .expect("ENTRYPOINT in exec form")
}

/// The server's `--help`, from a server generated and built with the workspace's runtime.
fn help() -> &'static str {
    static HELP: OnceLock<String> = OnceLock::new();
    HELP.get_or_init(|| {
        let output = Command::new(mcpgen_tests::petstore_binary())
            .arg("--help")
            .output()
            .expect("the server runs");
        assert!(output.status.success(), "--help fails: {output:?}");
        String::from_utf8(output.stdout).unwrap()
    })
}

/// The long options `--help` defines (not the ones its descriptions mention).
fn server_flags() -> BTreeSet<String> {
    help()
        .lines()
        .filter_map(|line| {
            let line = line.trim_start();
            let line = match line.strip_prefix('-') {
                Some(rest) if !rest.starts_with('-') => rest.split_once(", ")?.1,
                _ => line,
            };
            let flag = line.strip_prefix("--")?;
            let name: String = flag
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            Some(format!("--{name}"))
        })
        .collect()
}

/// The `[default: ...]` `--help` shows for `flag`.
fn help_default(flag: &str) -> String {
    let start = help()
        .lines()
        .position(|l| l.trim_start().starts_with(&format!("{flag} ")))
        .unwrap_or_else(|| panic!("--help has no {flag}"));
    help()
        .lines()
        .skip(start + 1)
        .take_while(|l| !l.trim_start().starts_with('-'))
        .find_map(|l| {
            l.trim()
                .strip_prefix("[default: ")
                .and_then(|d| d.strip_suffix(']'))
        })
        .unwrap_or_else(|| panic!("--help shows no default for {flag}"))
        .to_owned()
}

/// The environment variables the example server reads: `<PREFIX>_BASE_URL`,
/// `<PREFIX>_MCP_TOKEN` and its security schemes' credentials.
fn server_env() -> BTreeSet<String> {
    let mapped = mcpgen_codegen::map_document(&spec(), &Settings::new().crate_name(CRATE)).unwrap();
    let prefix = &mapped.api.env_prefix;
    // The two names the runtime builds from the prefix: still built there.
    let runtime: String = std::fs::read_dir(workspace_root().join("runtime/src/rt"))
        .unwrap()
        .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap())
        .collect();
    for suffix in ["_BASE_URL", "_MCP_TOKEN"] {
        assert!(
            runtime.contains(&format!("{suffix}\"")),
            "the runtime no longer reads <PREFIX>{suffix}"
        );
    }
    let mut names: BTreeSet<String> =
        [format!("{prefix}_BASE_URL"), format!("{prefix}_MCP_TOKEN")].into();
    // The credentials, as the example's README lists them.
    let readme =
        std::fs::read_to_string(workspace_root().join("examples/petstore/README.md")).unwrap();
    for scheme in &mapped.api.schemes {
        for name in &scheme.env {
            assert!(
                readme.contains(&format!("`{name}`")),
                "examples/petstore/README.md does not list {name}"
            );
            names.insert(name.clone());
        }
    }
    assert!(names.contains("PETSTORE_BEARER_AUTH_TOKEN"), "{names:?}");
    names
}

/// The values given to `flag` on a command line (`--flag VALUE` or `--flag=VALUE`).
fn flag_values<'a>(words: &'a [String], flag: &str) -> Vec<&'a str> {
    let mut values = Vec::new();
    for (i, word) in words.iter().enumerate() {
        if word == flag {
            values.push(words.get(i + 1).map_or("", String::as_str));
        } else if let Some(value) = word.strip_prefix(&format!("{flag}=")) {
            values.push(value);
        }
    }
    values
}

/// The one value of `flag` on a command line, or `--help`'s default.
fn flag_value(words: &[String], flag: &str) -> String {
    match flag_values(words, flag).as_slice() {
        [] => help_default(flag),
        [one] => (*one).to_owned(),
        more => panic!("{flag} is given {} times in {words:?}", more.len()),
    }
}

fn port_of(bind: &str) -> u64 {
    bind.rsplit_once(':')
        .and_then(|(_, port)| port.parse().ok())
        .unwrap_or_else(|| panic!("{bind:?} is not HOST:PORT"))
}

/// A command line the deployment files run: it runs the image's binary, uses only flags the
/// server defines, and the server's own parser accepts it (given `--help` last, the parser
/// reads every argument before it, refusing unknown flags, bad values and repeated options,
/// then prints the help instead of serving).
fn assert_server_command(what: &str, words: &[String]) {
    assert_eq!(
        words.first(),
        entrypoint().first(),
        "{what}: runs the image's binary"
    );
    let flags = server_flags();
    for word in &words[1..] {
        if let Some(flag) = word.strip_prefix("--") {
            let flag = format!("--{}", flag.split('=').next().unwrap());
            assert!(
                flags.contains(&flag),
                "{what}: {flag} is not a flag of the server; its --help:\n{}",
                help()
            );
        }
    }
    let output = Command::new(mcpgen_tests::petstore_binary())
        .args(&words[1..])
        .arg("--help")
        .output()
        .expect("the server runs");
    assert!(
        output.status.success(),
        "{what}: the server refuses {words:?}:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {value}"))
        .iter()
        .map(|v| match v {
            Value::String(s) => s.clone(),
            other => panic!("not a string: {other}"),
        })
        .collect()
}

fn read_yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    serde_yaml_ng::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "{} does not parse as one YAML document: {e}",
            path.display()
        )
    })
}

/// Every YAML file under `examples/deploy`, by path relative to it.
fn deploy_yaml() -> BTreeMap<String, Value> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                out.push(path);
            }
        }
    }
    let mut paths = Vec::new();
    walk(&deploy_dir(), &mut paths);
    paths
        .into_iter()
        .map(|path| {
            let relative = path.strip_prefix(deploy_dir()).unwrap();
            (
                relative.to_string_lossy().replace('\\', "/"),
                read_yaml(&path),
            )
        })
        .collect()
}

/// The Kubernetes objects of `kubernetes/`, by kind (one of each).
fn kubernetes() -> BTreeMap<String, Value> {
    let mut objects = BTreeMap::new();
    for (path, object) in deploy_yaml() {
        if !path.starts_with("kubernetes/") {
            continue;
        }
        let kind = object["kind"]
            .as_str()
            .unwrap_or_else(|| panic!("{path} has no kind"))
            .to_owned();
        assert!(object["apiVersion"].is_string(), "{path} has no apiVersion");
        assert!(
            objects.insert(kind.clone(), object).is_none(),
            "two objects of kind {kind}"
        );
    }
    objects
}

/// A Kubernetes quantity in base units: bytes for memory (`32Mi`), millicores for CPU
/// (`100m`, `"1"`).
fn quantity(value: &Value) -> u64 {
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => panic!("not a quantity: {other}"),
    };
    for (suffix, factor) in [("Ki", 1 << 10), ("Mi", 1 << 20), ("Gi", 1 << 30), ("m", 1)] {
        if let Some(number) = text.strip_suffix(suffix) {
            return number.parse::<u64>().unwrap() * factor;
        }
    }
    // Whole CPUs, in millicores.
    text.parse::<u64>().unwrap() * 1000
}

fn labels_match(selector: &Value, labels: &Value) -> bool {
    let selector = selector.as_object().expect("a label selector");
    !selector.is_empty() && selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

#[test]
fn the_generated_dockerfile_builds_in_one_stage_and_runs_unprivileged_in_another() {
    let stages = dockerfile_stages();
    assert_eq!(stages.len(), 2, "a build stage and a run stage");
    let (build, run) = (&stages[0], &stages[1]);

    // The build stage: the workspace's own minimum Rust, on the run stage's Debian.
    let workspace: toml::Table = std::fs::read_to_string(workspace_root().join("Cargo.toml"))
        .unwrap()
        .parse()
        .unwrap();
    let rust_version = workspace["workspace"]["package"]["rust-version"]
        .as_str()
        .unwrap();
    let version = build
        .base
        .strip_prefix("rust:")
        .and_then(|b| b.strip_suffix("-slim-bookworm"))
        .unwrap_or_else(|| panic!("build stage from {}", build.base));
    assert!(
        version == rust_version || version.starts_with(&format!("{rust_version}.")),
        "the image builds with Rust {version}; the workspace's rust-version is {rust_version}"
    );
    assert_eq!(
        version.split('.').count(),
        3,
        "a full version pins the toolchain"
    );
    let name = build.name.as_deref().expect("the build stage is named");
    // Cargo.toml before the sources, so that the dependencies' layer is cached; `--locked`
    // wherever a Cargo.lock is sure to exist.
    let copies: Vec<&str> = build.all("COPY").map(|c| c.rest.as_str()).collect();
    assert_eq!(copies, ["Cargo.toml Cargo.lock* ./", "src ./src"]);
    let runs: Vec<&str> = build.all("RUN").map(|r| r.rest.as_str()).collect();
    assert_eq!(runs.len(), 2);
    assert!(
        runs[0].contains("if [ -f Cargo.lock ]; then cargo build --release --locked; else cargo build --release; fi"),
        "{}",
        runs[0]
    );
    assert!(
        runs[1].contains("cargo build --release --locked"),
        "{}",
        runs[1]
    );

    // The run stage: distroless with CA certificates, as a numeric non-root user.
    assert_eq!(run.base, "gcr.io/distroless/cc-debian12:nonroot");
    let user = &run.one("USER").rest;
    let uid: u32 = user
        .split(':')
        .next()
        .unwrap()
        .parse()
        .expect("a numeric user");
    assert_ne!(uid, 0, "USER {user}");
    assert_eq!(run.one("EXPOSE").rest, "8000");
    assert_eq!(run.one("STOPSIGNAL").rest, "SIGTERM");
    let copy = run.one("COPY");
    assert_eq!(copy.option("from").as_deref(), Some(name));

    // The binary it copies is the crate's binary, where ENTRYPOINT runs it.
    let manifest: toml::Table = generated().file("Cargo.toml").unwrap().parse().unwrap();
    let bins = manifest["bin"].as_array().unwrap();
    assert_eq!(bins.len(), 1);
    let bin = bins[0]["name"].as_str().unwrap();
    assert_eq!(bin, manifest["package"]["name"].as_str().unwrap());
    assert_eq!(bin, CRATE);
    assert!(
        runs[1].ends_with(&format!("cp target/release/{bin} /{bin}")),
        "{}",
        runs[1]
    );
    let bin_path = format!("/usr/local/bin/{bin}");
    assert_eq!(copy.options().1, format!("/{bin} {bin_path}"));
    let labels: BTreeMap<String, String> = run.one("LABEL").label_pairs().into_iter().collect();
    assert_eq!(labels["org.opencontainers.image.title"], CRATE);
    assert_eq!(
        labels["org.opencontainers.image.version"],
        manifest["package"]["version"].as_str().unwrap()
    );

    let entrypoint = entrypoint();
    assert_eq!(entrypoint[0], bin_path);
    assert_eq!(flag_values(&entrypoint, "--transport"), ["http"]);
    assert_eq!(flag_values(&entrypoint, "--bind"), ["0.0.0.0:8000"]);
    assert_eq!(flag_values(&entrypoint, "--log-format"), ["json"]);

    // The health check: exec form (there is no shell), the same binary and address.
    let check = run.one("HEALTHCHECK");
    let command = check.exec_form().expect("HEALTHCHECK CMD in exec form");
    assert_eq!(command[0], bin_path);
    assert!(command.iter().any(|w| w == "--health-check"), "{command:?}");
    assert_eq!(
        flag_values(&command, "--bind"),
        flag_values(&entrypoint, "--bind")
    );
    for option in ["interval", "timeout", "start-period", "retries"] {
        assert!(check.option(option).is_some(), "HEALTHCHECK --{option}");
    }

    let ignored: Vec<&str> = generated()
        .file(".dockerignore")
        .expect("a generated .dockerignore")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect();
    assert_eq!(ignored, ["target", ".git"]);
}

#[test]
fn the_generated_dockerfile_runs_command_lines_the_server_accepts() {
    let stages = dockerfile_stages();
    let run = stages.last().unwrap();
    assert_server_command("the Dockerfile's ENTRYPOINT", &entrypoint());
    let check = run.one("HEALTHCHECK").exec_form().unwrap();
    assert_server_command("the Dockerfile's HEALTHCHECK", &check);
    // The port the image exposes is the one the server binds.
    assert_eq!(
        port_of(&flag_value(&entrypoint(), "--bind")).to_string(),
        run.one("EXPOSE").rest
    );
}

#[test]
fn every_deployment_file_parses_and_kustomize_lists_every_manifest() {
    let files = deploy_yaml();
    let manifests: BTreeSet<String> = files
        .keys()
        .filter_map(|p| p.strip_prefix("kubernetes/"))
        .filter(|p| *p != "kustomization.yaml")
        .map(str::to_owned)
        .collect();
    let kustomization = &files["kubernetes/kustomization.yaml"];
    assert_eq!(kustomization["kind"], "Kustomization");
    let listed: BTreeSet<String> = strings(&kustomization["resources"]).into_iter().collect();
    assert_eq!(listed, manifests);
    assert!(files.contains_key("compose.yaml"));
    let kinds: BTreeSet<String> = kubernetes().into_keys().collect();
    let expected: BTreeSet<String> = [
        "ConfigMap",
        "Deployment",
        "HorizontalPodAutoscaler",
        "Kustomization",
        "PodDisruptionBudget",
        "Secret",
        "Service",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    assert_eq!(kinds, expected);
    // The image kustomize rewrites is the one the Deployment runs.
    let deployment = &kubernetes()["Deployment"];
    let image = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
        .as_str()
        .unwrap();
    let name = kustomization["images"][0]["name"].as_str().unwrap();
    assert!(image.starts_with(&format!("{name}:")), "{image} vs {name}");
    assert!(image.ends_with(&format!("/{CRATE}:0.1.0")), "{image}");
}

#[test]
fn the_kubernetes_deployment_runs_the_server_as_its_help_and_image_say() {
    let objects = kubernetes();
    let deployment = &objects["Deployment"];
    let spec = &deployment["spec"];
    assert_eq!(spec["replicas"], 3);
    let pod = &spec["template"]["spec"];
    let pod_labels = &spec["template"]["metadata"]["labels"];
    assert!(labels_match(&spec["selector"]["matchLabels"], pod_labels));
    let containers = pod["containers"].as_array().unwrap();
    assert_eq!(containers.len(), 1);
    let container = &containers[0];

    // The environment: only what the server reads, and what the arguments refer to.
    let mut words = strings(&container["command"]);
    words.extend(strings(&container["args"]));
    let env = container["env"].as_array().unwrap();
    let server_env = server_env();
    let mut expanded = BTreeMap::new();
    for var in env {
        let name = var["name"].as_str().unwrap();
        let reference = format!("$({name})");
        if !server_env.contains(name) {
            assert!(
                words.iter().any(|w| w.contains(&reference)),
                "{name} is neither read by the server nor used in its arguments"
            );
        }
        expanded.insert(reference, "default");
    }
    // Kubernetes leaves an undefined `$(NAME)` as it is: every one must be defined.
    for word in &words {
        let mut rest = word.as_str();
        while let Some(start) = rest.find("$(") {
            let end = rest[start..].find(')').expect("a closed reference") + start;
            assert!(
                expanded.contains_key(&rest[start..=end]),
                "{word}: {} is not in env",
                &rest[start..=end]
            );
            rest = &rest[end..];
        }
    }
    let mut run = words.clone();
    for word in &mut run {
        for (reference, value) in &expanded {
            *word = word.replace(reference, value);
        }
    }
    assert_server_command("the Deployment's container", &run);
    assert_eq!(flag_values(&run, "--transport"), ["http"]);
    let required: BTreeSet<&str> = [
        "PETSTORE_BASE_URL",
        "PETSTORE_MCP_TOKEN",
        "PETSTORE_BEARER_AUTH_TOKEN",
    ]
    .into();
    let given: BTreeSet<&str> = env.iter().filter_map(|v| v["name"].as_str()).collect();
    assert!(required.is_subset(&given), "{given:?}");

    // Secrets come from the Secret, settings from the ConfigMap, with keys they hold; the
    // Secret's values are placeholders.
    let secret = &objects["Secret"];
    let config = &objects["ConfigMap"];
    for var in env {
        let from = &var["valueFrom"];
        for (reference, object, data) in [
            ("secretKeyRef", secret, "stringData"),
            ("configMapKeyRef", config, "data"),
        ] {
            if let Some(key_ref) = from.get(reference) {
                assert_eq!(key_ref["name"], object["metadata"]["name"], "{var}");
                let key = key_ref["key"].as_str().unwrap();
                assert!(object[data].get(key).is_some(), "{var}: no key {key}");
            }
        }
    }
    for name in ["PETSTORE_MCP_TOKEN", "PETSTORE_BEARER_AUTH_TOKEN"] {
        let from = env.iter().find(|v| v["name"] == name).unwrap();
        assert!(
            from["valueFrom"].get("secretKeyRef").is_some(),
            "{name} is a secret"
        );
    }
    for (key, value) in secret["stringData"].as_object().unwrap() {
        assert!(
            value.as_str().unwrap().contains("not-a-real"),
            "{key}: the example Secret holds placeholders only"
        );
    }

    // Ports: the named container ports are the ones the server binds.
    let ports: BTreeMap<String, u64> = container["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["containerPort"].as_u64().unwrap(),
            )
        })
        .collect();
    let http = port_of(&flag_value(&run, "--bind"));
    let metrics = port_of(&flag_value(&run, "--metrics-bind"));
    assert_eq!(
        ports,
        BTreeMap::from([("http".into(), http), ("metrics".into(), metrics)])
    );
    let annotations = &spec["template"]["metadata"]["annotations"];
    assert_eq!(annotations["prometheus.io/scrape"], "true");
    assert_eq!(annotations["prometheus.io/port"], metrics.to_string());
    assert_eq!(annotations["prometheus.io/path"], "/metrics");

    // Probes: readiness on /readyz, liveness on /healthz, both on the MCP port.
    for (probe, path) in [("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")] {
        let get = &container[probe]["httpGet"];
        assert_eq!(get["path"], path, "{probe}");
        let port = match &get["port"] {
            Value::String(name) => ports[name],
            number => number.as_u64().unwrap(),
        };
        assert_eq!(port, http, "{probe}");
    }

    // The Service's names are allowed hosts.
    let service = objects["Service"]["metadata"]["name"].as_str().unwrap();
    let hosts = flag_values(&words, "--allow-host");
    for host in [
        service.to_owned(),
        format!("{service}.$(POD_NAMESPACE).svc.cluster.local"),
    ] {
        assert!(
            hosts.contains(&host.as_str()),
            "--allow-host {host}: {hosts:?}"
        );
    }

    // Stopping: the preStop pause and the server's drain fit in the grace period.
    let grace: u64 = flag_value(&run, "--shutdown-grace-secs").parse().unwrap();
    let pause = container["lifecycle"]["preStop"]["sleep"]["seconds"]
        .as_u64()
        .unwrap_or(0);
    let termination = pod["terminationGracePeriodSeconds"].as_u64().unwrap();
    assert!(
        termination > pause + grace,
        "terminationGracePeriodSeconds {termination} <= preStop {pause} s + --shutdown-grace-secs {grace}"
    );

    // Unprivileged, as the image's USER; resources from the measured figures.
    let image_user = dockerfile_stages().last().unwrap().one("USER").rest.clone();
    let uid: u64 = image_user.split(':').next().unwrap().parse().unwrap();
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(pod["securityContext"]["runAsUser"], uid);
    let security = &container["securityContext"];
    assert_eq!(security["allowPrivilegeEscalation"], false);
    assert_eq!(security["readOnlyRootFilesystem"], true);
    assert_eq!(strings(&security["capabilities"]["drop"]), ["ALL"]);
    let resources = &container["resources"];
    let memory = quantity(&resources["requests"]["memory"]);
    assert!(
        (32 << 20..=64 << 20).contains(&memory),
        "memory request {memory}"
    );
    assert!(quantity(&resources["limits"]["memory"]) >= memory);
    assert!(quantity(&resources["limits"]["cpu"]) >= quantity(&resources["requests"]["cpu"]));
}

#[test]
fn the_service_autoscaler_and_disruption_budget_select_the_deployments_pods() {
    let objects = kubernetes();
    let deployment = &objects["Deployment"];
    let name = &deployment["metadata"]["name"];
    let pod_labels = &deployment["spec"]["template"]["metadata"]["labels"];
    let replicas = deployment["spec"]["replicas"].as_u64().unwrap();
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    let port_names: BTreeSet<&str> = container["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();

    let service = &objects["Service"]["spec"];
    assert_eq!(service["type"], "ClusterIP");
    assert!(labels_match(&service["selector"], pod_labels));
    let ports = service["ports"].as_array().unwrap();
    for port in ports {
        let target = port["targetPort"].as_str().expect("a named target port");
        assert!(port_names.contains(target), "targetPort {target}");
    }
    let http = ports.iter().find(|p| p["name"] == "http").unwrap();
    assert_eq!(
        (http["port"].as_u64(), http["targetPort"].as_str()),
        (Some(80), Some("http"))
    );
    assert!(ports.iter().any(|p| p["targetPort"] == "metrics"));

    let hpa = &objects["HorizontalPodAutoscaler"];
    assert_eq!(hpa["apiVersion"], "autoscaling/v2");
    let target = &hpa["spec"]["scaleTargetRef"];
    assert_eq!(target["apiVersion"], deployment["apiVersion"]);
    assert_eq!(target["kind"], "Deployment");
    assert_eq!(&target["name"], name);
    assert_eq!(hpa["spec"]["minReplicas"].as_u64(), Some(replicas));
    assert_eq!(hpa["spec"]["maxReplicas"], 10);
    let cpu = hpa["spec"]["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["resource"]["name"] == "cpu")
        .expect("a CPU metric");
    assert_eq!(cpu["resource"]["target"]["type"], "Utilization");
    assert_eq!(cpu["resource"]["target"]["averageUtilization"], 70);
    assert!(
        container["resources"]["requests"].get("cpu").is_some(),
        "utilisation needs a CPU request"
    );

    let pdb = &objects["PodDisruptionBudget"]["spec"];
    assert_eq!(
        pdb["selector"]["matchLabels"],
        deployment["spec"]["selector"]["matchLabels"]
    );
    assert!(labels_match(&pdb["selector"]["matchLabels"], pod_labels));
    let min_available = pdb["minAvailable"].as_u64().unwrap();
    assert_eq!(min_available, 2);
    assert!(
        min_available < replicas,
        "a budget the Deployment can meet while one pod moves"
    );
}

#[test]
fn compose_runs_three_healthy_replicas_behind_a_round_robin_proxy() {
    let compose = read_yaml(&deploy_dir().join("compose.yaml"));
    let services = compose["services"].as_object().unwrap();
    let (server_name, server) = services
        .iter()
        .find(|(_, s)| s.get("build").is_some())
        .expect("a service built from the example crate");
    assert_eq!(server["build"], "../petstore");
    assert!(
        workspace_root()
            .join("examples/petstore/Cargo.toml")
            .exists(),
        "the build context is the example crate"
    );
    assert_eq!(server["deploy"]["replicas"], 3);
    assert!(
        server.get("ports").is_none(),
        "replicas cannot share a host port"
    );
    assert!(
        server.get("container_name").is_none(),
        "replicas need names of their own"
    );

    // What it runs: the image's ENTRYPOINT with `command` added.
    assert!(server.get("entrypoint").is_none());
    let mut words = entrypoint();
    words.extend(strings(&server["command"]));
    assert_server_command("compose's server", &words);
    let mut check = strings(&server["healthcheck"]["test"]);
    assert_eq!(check.remove(0), "CMD", "exec form: the image has no shell");
    assert!(check.iter().any(|w| w == "--health-check"));
    assert_server_command("compose's health check", &check);
    assert_eq!(flag_values(&check, "--bind"), flag_values(&words, "--bind"));

    // Its environment: only what the server reads (with `${...}` from the shell, never a value
    // written here).
    let server_env = server_env();
    for entry in strings(&server["environment"]) {
        let (name, value) = entry.split_once('=').unwrap_or((&entry, ""));
        assert!(
            server_env.contains(name),
            "{name} is not read by the server"
        );
        assert!(value.is_empty() || value.starts_with("${"), "{entry}");
    }

    // Stopping: more than the server's drain.
    let grace: u64 = flag_value(&words, "--shutdown-grace-secs").parse().unwrap();
    let stop = server["stop_grace_period"].as_str().unwrap();
    let stop: u64 = stop.strip_suffix('s').unwrap().parse().unwrap();
    assert!(
        stop > grace,
        "stop_grace_period {stop}s <= --shutdown-grace-secs {grace}"
    );
    assert_eq!(server["stop_signal"], "SIGTERM");
    assert_eq!(server["read_only"], true);
    assert_eq!(strings(&server["cap_drop"]), ["ALL"]);

    // The proxy: waits for healthy replicas and spreads requests over every one of them.
    let (_, proxy) = services
        .iter()
        .find(|(name, _)| *name != server_name)
        .expect("a proxy service");
    assert_eq!(
        proxy["depends_on"][server_name]["condition"],
        "service_healthy"
    );
    let config = std::fs::read_to_string(deploy_dir().join("nginx.conf")).unwrap();
    let port = port_of(&flag_value(&words, "--bind"));
    assert!(
        config.contains(&format!("server {server_name}:{port} resolve")),
        "nginx.conf proxies to {server_name}:{port}, looked up again as replicas change"
    );
    let directives: Vec<&str> = config
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .collect();
    for needed in [
        "proxy_buffering off;",
        "proxy_http_version 1.1;",
        "proxy_set_header Host $http_host;",
    ] {
        assert!(directives.contains(&needed), "nginx.conf: {needed}");
    }
    // No balancing method named: round-robin.
    for method in ["hash ", "ip_hash", "least_conn", "random"] {
        assert!(
            !directives.iter().any(|l| l.starts_with(method)),
            "nginx.conf: {method}"
        );
    }
    let mount = strings(&proxy["volumes"]);
    assert!(
        mount.iter().any(|m| m.starts_with("./nginx.conf:")),
        "{mount:?}"
    );
}
