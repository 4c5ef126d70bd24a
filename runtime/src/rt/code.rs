//! Code mode: the model writes one short JavaScript program that calls many operations, and
//! the server runs it in a sandbox of its own. The tools are `search_operations`,
//! `describe_operation` (a TypeScript declaration, from [`typescript`](super::typescript)) and
//! `execute`.
//!
//! Each run gets a fresh QuickJS runtime and context on a blocking thread, with a memory limit,
//! a stack limit, a deadline (an interrupt handler stops the engine, and waiting for calls ends
//! at it too), a cap on operation calls and on the bytes of its result and logs; a semaphore
//! bounds the runs under way. The engine has no filesystem, network, process, timers, module
//! loader or environment: its globals are the language's own, `api` and `console`. An
//! `api.<operation>(args)` call leaves the engine as a message (the operation's name and its
//! arguments as JSON text) and is run by the server through the same call path as a tool
//! call (validation, confirmation, rate limits, credentials, retries, response bounds,
//! masking, audit); the answer comes back as JSON text and settles the call's promise.

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::task::Poll;
use std::time::Instant;

use rmcp::model::{CallToolResult, ContentBlock, JsonObject, Tool, ToolAnnotations};
use rquickjs::context::EvalOptions;
use rquickjs::function::{Opt, Rest};
use rquickjs::{CatchResultExt, CaughtError, Context, Ctx, Function, Promise, Runtime, Value};
use serde_json::json;
use tokio::sync::Semaphore;

use super::call::Inbound;
use super::config::CodeLimits;
use super::confirm::{NestedAsker, completed};
use super::discovery::{self, DESCRIBE_TOOL, EXECUTE_TOOL, SEARCH_TOOL};
use super::server::GeneratedServer;

/// The most stack the engine may use: deep recursion ends in a `RangeError` well before the
/// thread's own stack (2 MiB on tokio's blocking threads) runs out.
const MAX_STACK_BYTES: usize = 512 * 1024;

/// The file name errors name; the program starts on its second line.
const SCRIPT_FILE: &str = "script.js";

/// Sets up `api` and `console` from the two functions the server gives, and leaves nothing
/// else behind. An `api.<name>(args)` call passes the arguments as JSON text; its rejection (a
/// message) becomes an `Error` made at the call, so that it names the script's line.
const PRELUDE: &str = r#"(function (call, log) {
  "use strict";
  const skipped = new Set(["then", "toJSON", "valueOf", "toString", "constructor"]);
  const api = new Proxy(Object.freeze(Object.create(null)), {
    get(target, name) {
      if (typeof name !== "string" || skipped.has(name)) return undefined;
      return function (args) {
        const error = new Error();
        const json = args === undefined ? undefined : JSON.stringify(args);
        return call(name, json).then(undefined, (message) => {
          error.message = String(message);
          throw error;
        });
      };
    },
    set() { return false; },
    defineProperty() { return false; },
    deleteProperty() { return false; },
  });
  Object.defineProperty(globalThis, "api", { value: api });
  const console = Object.freeze({
    log: (...items) => log("", ...items),
    info: (...items) => log("", ...items),
    debug: (...items) => log("", ...items),
    warn: (...items) => log("warn: ", ...items),
    error: (...items) => log("error: ", ...items),
  });
  Object.defineProperty(globalThis, "console", { value: console });
})"#;

/// Bounds the runs under way, and holds the limits of each.
pub struct Sandbox {
    limits: CodeLimits,
    runs: Arc<Semaphore>,
}

impl Sandbox {
    /// A sandbox with these limits.
    pub fn new(limits: CodeLimits) -> Self {
        Sandbox {
            limits,
            runs: Arc::new(Semaphore::new(limits.max_runs.max(1))),
        }
    }
}

/// Code mode's tools as `tools/list` shows them.
pub fn code_tools(api_title: &str, limits: &CodeLimits) -> Vec<Tool> {
    let mut tools = discovery::discovery_tools(api_title);
    tools.truncate(2);
    tools[0].description = Some(
        format!(
            "Find operations of the {api_title} API for a task, best match first: each result \
             has the operation's name, HTTP method, path and a one-line summary. Then call \
             {DESCRIBE_TOOL} for its TypeScript declaration, and call it from a program with \
             {EXECUTE_TOOL}."
        )
        .into(),
    );
    tools[1].description = Some(
        format!(
            "Show one operation as a TypeScript declaration: how a program run by \
             {EXECUTE_TOOL} calls it (`await api.<name>(args)`), the types of its arguments \
             (optional ones marked `?`) and of what the call resolves to, with descriptions \
             as doc comments."
        )
        .into(),
    );
    tools[1].output_schema = None;
    let execute = Tool::new(
        EXECUTE_TOOL,
        format!(
            "Run a JavaScript program (ES2020) that calls operations of the {api_title} API, \
             in a sandbox, and return what it returns. The code is the body of an async \
             function: `const pets = await api.listPets({{limit: 10}})` calls an operation \
             (names from {SEARCH_TOOL}, types from {DESCRIBE_TOOL}) and resolves to its JSON \
             answer (or its text); a failed call throws an Error with the API's message. \
             Calls may run together (`await Promise.all(...)`). `return` the value you need \
             (only the fields you need: the result must be JSON); `console.log` output comes \
             back too. There is no network, file, timer or module: only `api`. Each run may \
             take {} s, {} operation calls, {} MiB of memory and {} bytes of result and logs.",
            limits.timeout.as_secs(),
            limits.max_calls,
            limits.memory_bytes >> 20,
            limits.max_output_bytes,
        ),
        Arc::new(object(json!({
            "type": "object",
            "properties": {
                "code": {
                    "type": "string",
                    "minLength": 1,
                    "description": "The body of an async function: statements that `await api.<operation>(args)` and `return` a JSON value."
                }
            },
            "required": ["code"],
            "additionalProperties": false
        }))),
    )
    .with_raw_output_schema(Arc::new(object(json!({
        "type": "object",
        "properties": {
            "result": {"description": "What the program returned (null for nothing)."},
            "logs": {"type": "array", "items": {"type": "string"}, "description": "What it logged, one entry per console call."}
        },
        "required": ["result"]
    }))))
    .with_annotations(
        // A program may call any operation, so it promises nothing.
        ToolAnnotations::new()
            .read_only(false)
            .destructive(true)
            .idempotent(false)
            .open_world(true),
    );
    tools.push(execute);
    tools
}

fn object(value: serde_json::Value) -> JsonObject {
    match value {
        serde_json::Value::Object(map) => map,
        _ => JsonObject::new(),
    }
}

/// One `api.<name>(args)` call, as it leaves the engine.
struct ApiCall {
    id: u64,
    name: String,
    arguments: JsonObject,
}

/// The answer to one call: the JSON text it resolves to, or the message it rejects with.
struct ApiAnswer {
    id: u64,
    outcome: Result<String, String>,
}

/// How a run ended.
struct RunOutcome {
    /// The result and the bytes of its JSON text, or why there is none.
    result: Result<(serde_json::Value, usize), String>,
    logs: Logs,
}

/// What a run logged, bounded.
#[derive(Default)]
struct Logs {
    lines: Vec<String>,
    bytes: usize,
    cut: usize,
}

impl Logs {
    fn push(&mut self, line: String, budget: usize) {
        if self.cut > 0 || self.bytes + line.len() > budget {
            self.cut += line.len();
            return;
        }
        self.bytes += line.len();
        self.lines.push(line);
    }

    /// The lines, within `budget` bytes, with a last line saying what was left out.
    fn into_lines(mut self, budget: usize, limits: &CodeLimits) -> Vec<String> {
        while self.bytes > budget {
            let Some(line) = self.lines.pop() else { break };
            self.bytes -= line.len();
            self.cut += line.len();
        }
        if self.cut > 0 {
            self.lines.push(format!(
                "... {} more bytes of logs left out: a run returns at most {} bytes of result \
                 and logs (--code-max-output-bytes)",
                self.cut, limits.max_output_bytes
            ));
        }
        self.lines
    }
}

impl GeneratedServer {
    /// Runs `code` with the caller's `inbound`: its `api` calls go through the call path as
    /// the caller's own calls. Every failure is a tool error the model can act on.
    pub(super) async fn execute(&self, code: &str, inbound: Inbound<'_>) -> CallToolResult {
        let Some(sandbox) = &self.state.sandbox else {
            return error("code mode is not on: the server was started in another mode");
        };
        let limits = sandbox.limits;
        let permit =
            match tokio::time::timeout(limits.timeout, Arc::clone(&sandbox.runs).acquire_owned())
                .await
            {
                Ok(Ok(permit)) => permit,
                _ => {
                    return error(&format!(
                        "The server is running as many programs as it may at once ({}, \
                     --code-max-runs); nothing was run. Try again in a few seconds.",
                        limits.max_runs
                    ));
                }
            };
        let (calls_tx, mut calls_rx) = tokio::sync::mpsc::unbounded_channel::<ApiCall>();
        let (answers_tx, answers_rx) = std::sync::mpsc::channel::<ApiAnswer>();
        let code = code.to_owned();
        let mut engine = tokio::task::spawn_blocking(move || {
            let outcome = run(&code, &limits, calls_tx, answers_rx);
            drop(permit);
            outcome
        });
        // The calls a program makes can ask the user to confirm them as the program's own
        // call could; the answer must come within the run's time.
        let asker = NestedAsker::of(inbound.asker);
        let nested = Inbound {
            asker: asker.asker(),
            ..inbound
        };
        let mut in_flight: Vec<Pin<Box<dyn Future<Output = ()> + Send + '_>>> = Vec::new();
        let outcome = loop {
            tokio::select! {
                finished = &mut engine => break finished,
                Some(call) = calls_rx.recv() => {
                    let answers = answers_tx.clone();
                    in_flight.push(Box::pin(async move {
                        let outcome = self.answer(call.name, call.arguments, nested).await;
                        // The run may be over: then nobody waits for the answer.
                        let _ = answers.send(ApiAnswer { id: call.id, outcome });
                    }));
                }
                () = drive(&mut in_flight), if !in_flight.is_empty() => {}
            }
        };
        // Calls still under way when the run ended are dropped here: a request not yet sent
        // is never sent.
        drop(in_flight);
        let outcome = match outcome {
            Ok(outcome) => outcome,
            Err(_) => return error("The program's sandbox failed; nothing more was run."),
        };
        let used = outcome.result.as_ref().map_or(0, |(_, bytes)| *bytes);
        let logs = outcome
            .logs
            .into_lines(limits.max_output_bytes.saturating_sub(used), &limits);
        match outcome.result {
            Ok((result, _)) => {
                let mut structured = json!({ "result": result });
                if !logs.is_empty() {
                    structured["logs"] = json!(logs);
                }
                CallToolResult::structured(structured)
            }
            Err(message) => {
                let mut text = message;
                if !logs.is_empty() {
                    text.push_str("\nLogged before it ended:\n");
                    text.push_str(&logs.join("\n"));
                }
                error(&text)
            }
        }
    }

    /// Calls operation `name` for a program: the JSON its promise resolves to, or the message
    /// it rejects with.
    async fn answer(
        &self,
        name: String,
        arguments: JsonObject,
        inbound: Inbound<'_>,
    ) -> Result<String, String> {
        let Some(&index) = self.state.by_name.get(name.as_str()) else {
            let unknown = self.unknown_operation(&name);
            return Err(text_of(&unknown));
        };
        let tool = &self.state.api.tools[index];
        let result = completed(
            self.call_operation(index, tool, Some(arguments), inbound, false)
                .await,
        );
        if result.is_error == Some(true) {
            return Err(text_of(&result));
        }
        let value = match result.structured_content {
            Some(serde_json::Value::Object(mut map))
                if tool.output_wrapped && map.len() == 1 && map.contains_key("result") =>
            {
                map.shift_remove("result").unwrap_or_default()
            }
            Some(value) => value,
            None => serde_json::Value::String(text_of(&result)),
        };
        Ok(value.to_string())
    }
}

/// Polls every call under way once; ready when one has ended (and removed).
fn drive<'a>(
    in_flight: &'a mut Vec<Pin<Box<dyn Future<Output = ()> + Send + '_>>>,
) -> impl Future<Output = ()> + 'a {
    std::future::poll_fn(move |cx| {
        let before = in_flight.len();
        in_flight.retain_mut(|call| call.as_mut().poll(cx).is_pending());
        if in_flight.len() < before {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
}

fn text_of(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.as_str()))
        .collect::<Vec<_>>()
        .join("\n")
}

fn error(text: &str) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(text.to_owned())])
}

/// The state the engine's functions share within one run.
struct RunState<'js> {
    /// The promise functions of the calls under way, by id.
    pending: HashMap<u64, (Function<'js>, Function<'js>)>,
    next_id: u64,
    calls: usize,
    logs: Logs,
}

/// Runs `code` to the end on this thread: evaluates it, then settles the promises of its calls
/// as their answers come, until the program's own promise settles, it can never settle, or the
/// time is up.
fn run(
    code: &str,
    limits: &CodeLimits,
    calls: tokio::sync::mpsc::UnboundedSender<ApiCall>,
    answers: Receiver<ApiAnswer>,
) -> RunOutcome {
    let started = Instant::now();
    let deadline = started + limits.timeout;
    let failed = |message: String| RunOutcome {
        result: Err(message),
        logs: Logs::default(),
    };
    let Ok(runtime) = Runtime::new() else {
        return failed("The sandbox could not start (out of memory); try again.".to_owned());
    };
    runtime.set_memory_limit(limits.memory_bytes);
    runtime.set_max_stack_size(MAX_STACK_BYTES);
    runtime.set_interrupt_handler(Some(Box::new(move || Instant::now() >= deadline)));
    let Ok(context) = Context::full(&runtime) else {
        return failed("The sandbox could not start (out of memory); try again.".to_owned());
    };
    let lines = code.lines().count().max(1);
    context.with(|ctx| {
        let state = Rc::new(RefCell::new(RunState {
            pending: HashMap::new(),
            next_id: 0,
            calls: 0,
            logs: Logs::default(),
        }));
        let result = match start(&ctx, code, limits, &state, calls) {
            Ok(promise) => settle(&ctx, &promise, &state, &answers, deadline, limits, lines),
            Err(e) => Err(describe_failure(&ctx, e, lines, limits, deadline)),
        };
        let result = result.map_err(|message| {
            // Name the calls the program was still waiting for.
            let waiting = state.borrow().pending.len();
            if waiting > 0 && Instant::now() >= deadline {
                format!("{message} It was still waiting for {waiting} operation call(s).")
            } else {
                message
            }
        });
        // The engine must hold nothing of ours when it is freed.
        let mut state = state.borrow_mut();
        state.pending.clear();
        let logs = std::mem::take(&mut state.logs);
        RunOutcome { result, logs }
    })
}

/// Defines `api` and `console`, and starts the program: its promise.
fn start<'js>(
    ctx: &Ctx<'js>,
    code: &str,
    limits: &CodeLimits,
    state: &Rc<RefCell<RunState<'js>>>,
    calls: tokio::sync::mpsc::UnboundedSender<ApiCall>,
) -> Result<Promise<'js>, rquickjs::Error> {
    let max_calls = limits.max_calls;
    let call_state = Rc::clone(state);
    let call = Function::new(
        ctx.clone(),
        move |ctx: Ctx<'js>, name: String, arguments: Opt<String>| {
            let (promise, resolve, reject) = ctx.promise()?;
            let mut state = call_state.borrow_mut();
            state.calls += 1;
            let refused = if state.calls > max_calls {
                Some(format!(
                    "`{name}` was not called: a run may make at most {max_calls} operation \
                     calls (--code-max-calls). Do fewer calls per run (fetch lists, not one \
                     item at a time), or split the work over several runs."
                ))
            } else {
                match parse_arguments(&name, arguments.0.as_deref()) {
                    Ok(arguments) => {
                        let id = state.next_id;
                        state.next_id += 1;
                        if calls
                            .send(ApiCall {
                                id,
                                name,
                                arguments,
                            })
                            .is_ok()
                        {
                            state.pending.insert(id, (resolve.clone(), reject.clone()));
                            None
                        } else {
                            Some("the server is no longer taking calls".to_owned())
                        }
                    }
                    Err(message) => Some(message),
                }
            };
            drop(state);
            if let Some(message) = refused {
                reject.call::<_, ()>((message,))?;
            }
            Ok::<_, rquickjs::Error>(promise)
        },
    )?;
    let log_state = Rc::clone(state);
    let budget = limits.max_output_bytes;
    let log = Function::new(
        ctx.clone(),
        move |ctx: Ctx<'js>, prefix: String, items: Rest<Value<'js>>| {
            let mut line = prefix;
            for (i, item) in items.0.into_iter().enumerate() {
                if i > 0 {
                    line.push(' ');
                }
                line.push_str(&shown(&ctx, item));
            }
            log_state.borrow_mut().logs.push(line, budget);
        },
    )?;
    let prelude: Function = ctx.eval(PRELUDE)?;
    prelude.call::<_, ()>((call, log))?;
    let mut options = EvalOptions::default();
    options.global = true;
    options.strict = true;
    options.filename = Some(SCRIPT_FILE.to_owned());
    // The program is the body of an async function, on the lines after the first.
    let source = format!("(async () => {{\n{code}\n}})()");
    let started: Value = ctx.eval_with_options(source, options)?;
    started.into_promise().ok_or_else(|| {
        rquickjs::Error::new_from_js_message(
            "value",
            "promise",
            "the program must not close the function it runs in",
        )
    })
}

/// `args` of a call as an object: none is `{}`.
fn parse_arguments(name: &str, json: Option<&str>) -> Result<JsonObject, String> {
    match json.map(serde_json::from_str::<serde_json::Value>) {
        None => Ok(JsonObject::new()),
        Some(Ok(serde_json::Value::Object(map))) => Ok(map),
        Some(Ok(serde_json::Value::Null)) => Ok(JsonObject::new()),
        Some(Ok(other)) => Err(format!(
            "`api.{name}` takes one object of arguments (`api.{name}({{name: value}})`), not \
             {}",
            kind(&other)
        )),
        Some(Err(e)) => Err(format!(
            "the arguments of `api.{name}` cannot be sent as JSON: {e}"
        )),
    }
}

fn kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// One logged item as text: strings as they are, errors as `Name: message`, other values as
/// JSON.
fn shown<'js>(ctx: &Ctx<'js>, item: Value<'js>) -> String {
    if let Some(text) = item.as_string().and_then(|s| s.to_string().ok()) {
        return text;
    }
    if let Some(exception) = item.as_exception() {
        return exception_text(exception);
    }
    match ctx.json_stringify(item.clone()) {
        Ok(Some(text)) => text.to_string().unwrap_or_default(),
        Ok(None) => item.type_name().to_owned(),
        Err(_) => {
            // Cycles and BigInts: what the value is, at least.
            let _ = ctx.catch();
            format!("[{}]", item.type_name())
        }
    }
}

fn exception_text(exception: &rquickjs::Exception<'_>) -> String {
    let name: Option<String> = exception.get("name").ok();
    let message = exception.message().unwrap_or_default();
    match name {
        Some(name) if !name.is_empty() => format!("{name}: {message}"),
        _ => message,
    }
}

/// Drives the program until its promise settles: runs the engine's jobs, and between them
/// waits for answers to its calls.
fn settle<'js>(
    ctx: &Ctx<'js>,
    promise: &Promise<'js>,
    state: &Rc<RefCell<RunState<'js>>>,
    answers: &Receiver<ApiAnswer>,
    deadline: Instant,
    limits: &CodeLimits,
    lines: usize,
) -> Result<(serde_json::Value, usize), String> {
    loop {
        while ctx.execute_pending_job() {
            if Instant::now() >= deadline {
                return Err(timed_out(limits));
            }
        }
        if Instant::now() >= deadline {
            return Err(timed_out(limits));
        }
        match promise.result::<Value>() {
            Some(Ok(value)) => return result_json(ctx, value, limits),
            Some(Err(e)) => return Err(describe_failure(ctx, e, lines, limits, deadline)),
            None => {}
        }
        if state.borrow().pending.is_empty() {
            return Err(
                "The program's promise never settles: it awaits something that nothing \
                 will resolve (a Promise no call settles; there are no timers). Await only \
                 `api` calls and promises built from them."
                    .to_owned(),
            );
        }
        let wait = deadline.saturating_duration_since(Instant::now());
        let answer = match answers.recv_timeout(wait) {
            Ok(answer) => answer,
            Err(RecvTimeoutError::Timeout) => return Err(timed_out(limits)),
            Err(RecvTimeoutError::Disconnected) => {
                return Err("The server stopped the program.".to_owned());
            }
        };
        deliver(ctx, state, answer)?;
        // Answers that came meanwhile, before the jobs they unblock run.
        while let Ok(answer) = answers.try_recv() {
            deliver(ctx, state, answer)?;
        }
    }
}

/// Settles the promise of one call with its answer.
fn deliver<'js>(
    ctx: &Ctx<'js>,
    state: &Rc<RefCell<RunState<'js>>>,
    answer: ApiAnswer,
) -> Result<(), String> {
    let Some((resolve, reject)) = state.borrow_mut().pending.remove(&answer.id) else {
        return Ok(());
    };
    let settled = match answer.outcome {
        Ok(json) => match ctx.json_parse(json) {
            Ok(value) => resolve.call::<_, ()>((value,)),
            Err(_) => {
                let _ = ctx.catch();
                reject.call::<_, ()>((
                    "the answer does not fit in the program's memory (--code-memory-mib)",
                ))
            }
        },
        Err(message) => reject.call::<_, ()>((message,)),
    };
    settled.map_err(|_| {
        let _ = ctx.catch();
        "The program's sandbox ran out of memory while taking an answer (--code-memory-mib)."
            .to_owned()
    })
}

/// What the program resolved to, as JSON within the output limit, and its size.
fn result_json<'js>(
    ctx: &Ctx<'js>,
    value: Value<'js>,
    limits: &CodeLimits,
) -> Result<(serde_json::Value, usize), String> {
    let text = match ctx.json_stringify(value) {
        Ok(Some(text)) => text.to_string().unwrap_or_else(|_| "null".to_owned()),
        Ok(None) => return Ok((serde_json::Value::Null, 4)),
        Err(_) => {
            let reason = match ctx.catch().as_exception() {
                Some(exception) => exception_text(exception),
                None => "it is not JSON".to_owned(),
            };
            return Err(format!(
                "The program's result cannot be returned as JSON ({reason}). Return plain \
                 data: objects, arrays, strings, numbers, booleans, null."
            ));
        }
    };
    if text.len() > limits.max_output_bytes {
        return Err(format!(
            "The program's result is {} bytes, more than the {} bytes a run may return \
             (--code-max-output-bytes). Return less: only the fields you need, or fewer items \
             (and summarise in the program).",
            text.len(),
            limits.max_output_bytes
        ));
    }
    let value = serde_json::from_str(&text).map_err(|e| {
        format!("The program's result cannot be returned ({e}); return flatter data.")
    })?;
    Ok((value, text.len()))
}

fn timed_out(limits: &CodeLimits) -> String {
    format!(
        "The program did not finish within {} s (--code-timeout-secs) and was stopped. Do less \
         per run: fewer calls, no endless loops.",
        limits.timeout.as_secs()
    )
}

/// A message for an exception that ended the program (or stopped it from starting), with its
/// place in the script.
fn describe_failure<'js>(
    ctx: &Ctx<'js>,
    error: rquickjs::Error,
    lines: usize,
    limits: &CodeLimits,
    deadline: Instant,
) -> String {
    if Instant::now() >= deadline {
        return timed_out(limits);
    }
    let caught = Err::<(), _>(error).catch(ctx).err();
    let (what, stack) = match caught {
        Some(CaughtError::Exception(exception)) => (
            exception_text(&exception),
            exception.stack().unwrap_or_default(),
        ),
        Some(CaughtError::Value(value)) => {
            (format!("{} was thrown", shown(ctx, value)), String::new())
        }
        Some(CaughtError::Error(rquickjs::Error::Allocation)) => {
            ("out of memory".to_owned(), String::new())
        }
        Some(CaughtError::Error(e)) => (e.to_string(), String::new()),
        None => ("it failed".to_owned(), String::new()),
    };
    let place = place(&stack, lines);
    let hint = if what.contains("out of memory") || what.contains("string too long") {
        format!(
            " A run may use {} MiB of memory (--code-memory-mib): build smaller values.",
            limits.memory_bytes >> 20
        )
    } else if what.contains("stack size exceeded") || what.contains("stack overflow") {
        " The recursion is too deep: use a loop.".to_owned()
    } else if what.contains("could not load module") {
        " Programs cannot load modules: use only `api` and the language's own objects.".to_owned()
    } else if what.starts_with("ReferenceError") {
        " Programs have only the language's own globals, `api` and `console`.".to_owned()
    } else {
        String::new()
    };
    let stop = if what.ends_with(['.', '!', '?']) {
        ""
    } else {
        "."
    };
    format!("The program failed{place}: {what}{stop}{hint}")
}

/// ` at line L, column C` for the first frame of the stack in the script (its lines counted
/// from the program's first), or nothing.
fn place(stack: &str, lines: usize) -> String {
    let marker = format!("{SCRIPT_FILE}:");
    for part in stack.split(&marker).skip(1) {
        let mut numbers = part
            .split(|c: char| !c.is_ascii_digit())
            .filter(|s| !s.is_empty())
            .map(|s| s.parse::<usize>().unwrap_or(0));
        let (Some(line), Some(column)) = (numbers.next(), numbers.next()) else {
            continue;
        };
        // The first line is the function the program runs in.
        if line < 2 {
            continue;
        }
        let line = line - 1;
        if line > lines {
            return " at the end of the program".to_owned();
        }
        return format!(" at line {line}, column {column}");
    }
    String::new()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Runs `code` with no server: every call is answered by `answer`.
    fn run_with(
        code: &str,
        limits: CodeLimits,
        answer: impl Fn(&str, &JsonObject) -> Result<String, String> + Send + 'static,
    ) -> (Result<serde_json::Value, String>, Vec<String>, Vec<String>) {
        let budget = limits.max_output_bytes;
        let (calls_tx, mut calls_rx) = tokio::sync::mpsc::unbounded_channel::<ApiCall>();
        let (answers_tx, answers_rx) = std::sync::mpsc::channel();
        let made = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = made.clone();
        let answerer = std::thread::spawn(move || {
            while let Some(call) = calls_rx.blocking_recv() {
                seen.lock().unwrap().push(call.name.clone());
                let outcome = answer(&call.name, &call.arguments);
                let _ = answers_tx.send(ApiAnswer {
                    id: call.id,
                    outcome,
                });
            }
        });
        let outcome = run(code, &limits, calls_tx, answers_rx);
        answerer.join().unwrap();
        let used = outcome.result.as_ref().map_or(0, |(_, bytes)| *bytes);
        let logs = outcome.logs.into_lines(budget - used, &limits);
        let made = made.lock().unwrap().clone();
        (outcome.result.map(|(value, _)| value), logs, made)
    }

    fn quick() -> CodeLimits {
        CodeLimits {
            timeout: Duration::from_millis(300),
            ..CodeLimits::default()
        }
    }

    fn echo(name: &str, arguments: &JsonObject) -> Result<String, String> {
        if name == "fails" {
            return Err("No pet has the id 9.".to_owned());
        }
        Ok(json!({ "name": name, "arguments": arguments }).to_string())
    }

    fn failure(code: &str) -> String {
        run_with(code, quick(), echo).0.unwrap_err()
    }

    #[test]
    fn programs_call_operations_and_return_json() {
        let (result, logs, made) = run_with(
            "const a = await api.listPets({limit: 2});\n\
             const [b, c] = await Promise.all([api.getPet({id: 1}), api.getPet({id: 2})]);\n\
             console.log('got', b.arguments.id, {x: 1});\n\
             return [a.arguments, c.arguments.id];",
            quick(),
            echo,
        );
        assert_eq!(result.unwrap(), json!([{"limit": 2}, 2]));
        assert_eq!(logs, ["got 1 {\"x\":1}"]);
        assert_eq!(made, ["listPets", "getPet", "getPet"]);
    }

    #[test]
    fn failed_calls_throw_where_they_were_made() {
        let text = failure("\n  await api.fails({id: 9});");
        assert!(text.contains("at line 2, column 13"), "{text}");
        let text = failure("const x = 1;\n  await api.fails({id: 9});");
        assert_eq!(
            text, "The program failed at line 2, column 13: Error: No pet has the id 9.",
            "{text}"
        );
        let (result, _, _) = run_with(
            "try { await api.fails({}) } catch (e) { return 'caught: ' + e.message }",
            quick(),
            echo,
        );
        assert_eq!(result.unwrap(), json!("caught: No pet has the id 9."));
        let text = failure("await api.getPet(3)");
        assert!(text.contains("takes one object of arguments"), "{text}");
    }

    #[test]
    fn errors_name_their_line() {
        let text = failure("let a = 1;\nlet b = a.c.d;");
        assert!(
            text.starts_with("The program failed at line 2, column"),
            "{text}"
        );
        assert!(text.contains("TypeError"), "{text}");
        let text = failure("return (");
        assert!(text.contains("SyntaxError"), "{text}");
        assert!(text.contains("at the end of the program"), "{text}");
        let text = failure("throw {code: 7}");
        assert_eq!(text, "The program failed: {\"code\":7} was thrown.");
    }

    #[test]
    fn exhaustion_ends_cleanly() {
        let text = failure("for (;;) {}");
        assert!(text.contains("did not finish within"), "{text}");
        let text = failure("for (;;) { try { for (;;) {} } catch (e) {} }");
        assert!(text.contains("did not finish within"), "{text}");
        let small = CodeLimits {
            memory_bytes: 8 << 20,
            ..quick()
        };
        let text = run_with(
            "const a = []; for (;;) a.push('x'.repeat(1e5) + a.length);",
            small,
            echo,
        )
        .0
        .unwrap_err();
        assert!(text.contains("out of memory"), "{text}");
        assert!(text.contains("--code-memory-mib"), "{text}");
        let text = failure("function f(n) { return f(n + 1) + 1 }\nreturn f(0);");
        assert!(text.contains("Maximum call stack size exceeded"), "{text}");
        let text = failure("await new Promise(() => {});");
        assert!(text.contains("never settles"), "{text}");
    }

    #[test]
    fn the_sandbox_has_nothing_to_reach() {
        let (result, _, _) = run_with(
            "return [typeof require, typeof process, typeof fetch, typeof setTimeout, \
             typeof std, typeof os, typeof XMLHttpRequest, typeof WebAssembly, \
             typeof globalThis.api, Object.keys(api).length]",
            quick(),
            echo,
        );
        assert_eq!(
            result.unwrap(),
            json!([
                "undefined",
                "undefined",
                "undefined",
                "undefined",
                "undefined",
                "undefined",
                "undefined",
                "undefined",
                "object",
                0
            ])
        );
        let text = failure("return await import('fs')");
        assert!(text.contains("could not load module"), "{text}");
        let text = failure("api.listPets = 1; return 1");
        assert!(text.contains("TypeError"), "{text}");
    }

    #[test]
    fn calls_and_output_are_capped() {
        let few = CodeLimits {
            max_calls: 3,
            ..quick()
        };
        let (result, _, made) = run_with(
            "for (let i = 0; i < 10; i++) await api.getPet({id: i});",
            few,
            echo,
        );
        let text = result.unwrap_err();
        assert!(text.contains("at most 3 operation calls"), "{text}");
        assert_eq!(made.len(), 3);
        let small = CodeLimits {
            max_output_bytes: 100,
            ..quick()
        };
        let text = run_with("return 'x'.repeat(200)", small, echo)
            .0
            .unwrap_err();
        assert!(text.contains("202 bytes"), "{text}");
        let (result, logs, _) = run_with(
            "for (let i = 0; i < 100; i++) console.log('line', i); return 1",
            small,
            echo,
        );
        assert_eq!(result.unwrap(), json!(1));
        assert!(logs.len() < 20, "{logs:?}");
        assert!(logs.last().unwrap().contains("more bytes of logs left out"));
        let text = failure("const a = {}; a.a = a; return a;");
        assert!(text.contains("cannot be returned as JSON"), "{text}");
    }
}
