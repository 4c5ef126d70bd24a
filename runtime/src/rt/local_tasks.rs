//! Tasks of hand-written tools (the `io.modelcontextprotocol/tasks` extension), run in this
//! process: a tool that supports tasks ([`ExtraTool::with_task_support`]) calls
//! [`ToolContext::run_as_task`] where its work may outlast the request, and from there a
//! client that takes tasks gets a task at once while the tool goes on. What comes before (an
//! argument check, a question to the user) stays within the request.
//!
//! Within a task, the tool asks for input the way it does anywhere ([`Answer::InputRequired`]):
//! the task turns `input_required` with the requests, `tasks/update` answers them (in parts,
//! if the client likes), and once every request has its answer the tool is called again with
//! the answers and its state. `tasks/cancel` stops the tool where it is.
//!
//! Unlike the tasks of long-running operations (sealed tickets any replica can follow), these
//! live in the process that runs them: behind a load balancer, a client must reach the same
//! replica (sticky sessions) to follow one. Bounded: [`MAX_TASKS`] at once, each kept for
//! [`KEEP_FOR`] after it ends.
//!
//! [`ExtraTool::with_task_support`]: super::extra::ExtraTool::with_task_support
//! [`ToolContext::run_as_task`]: super::extra::ToolContext::run_as_task
//! [`Answer::InputRequired`]: super::interaction::Answer::InputRequired

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use ring::rand::{SecureRandom, SystemRandom};
use rmcp::model::{
    CallToolResult, CreateTaskResult, DetailedTask, GetTaskResult, InputRequests, InputResponses,
    JsonObject, Task, TaskPayload, TaskStatus,
};
use serde_json::json;
use tokio::sync::Notify;

use super::audit::rfc3339_millis;
use super::interaction::Input;

/// The most tasks of hand-written tools at once.
pub const MAX_TASKS: usize = 1_000;
/// How long an ended task can still be read.
pub const KEEP_FOR: Duration = Duration::from_secs(60 * 60);
/// What a client is told to wait between polls.
const POLL_INTERVAL: Duration = Duration::from_millis(500);
/// The prefix of these task ids (the tickets of long-running operations start with `t1.`).
pub const ID_PREFIX: &str = "h1.";

/// Where a task stands.
#[derive(Debug, Clone)]
enum Stage {
    Working,
    /// Waiting for answers to these requests.
    InputRequired(InputRequests),
    Completed(CallToolResult),
    Cancelled,
}

/// One task.
#[derive(Debug)]
pub struct LocalTask {
    id: String,
    /// Who may read it (see `tasks::bound_caller`).
    caller: String,
    created: SystemTime,
    state: Mutex<TaskState>,
    /// Wakes the tool when the last outstanding request has its answer.
    answered: Notify,
}

#[derive(Debug)]
struct TaskState {
    stage: Stage,
    updated: SystemTime,
    /// When it ended.
    ended: Option<Instant>,
    /// The answers gathered for the outstanding requests.
    answers: InputResponses,
    /// Stops the tool.
    work: Option<tokio::task::AbortHandle>,
}

impl LocalTask {
    /// A new working task for `caller`.
    pub fn new(caller: String) -> Arc<Self> {
        let mut bytes = [0u8; 16];
        // The id is what lets a caller read the task: unguessable.
        let _ = SystemRandom::new().fill(&mut bytes);
        let id = format!(
            "{ID_PREFIX}{}",
            bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
        );
        let now = SystemTime::now();
        Arc::new(LocalTask {
            id,
            caller,
            created: now,
            state: Mutex::new(TaskState {
                stage: Stage::Working,
                updated: now,
                ended: None,
                answers: InputResponses::new(),
                work: None,
            }),
            answered: Notify::new(),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, TaskState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The work to stop on `tasks/cancel`.
    pub fn set_work(&self, work: tokio::task::AbortHandle) {
        self.state().work = Some(work);
    }

    /// The tool finished.
    pub fn complete(&self, result: CallToolResult) {
        let mut state = self.state();
        if matches!(state.stage, Stage::Cancelled) {
            return;
        }
        state.stage = Stage::Completed(result);
        state.updated = SystemTime::now();
        state.ended = Some(Instant::now());
    }

    /// The tool asks for `requests`; waits until each has its answer, and gives the answers
    /// and `state` back as the tool's next input.
    pub async fn ask(&self, requests: InputRequests, state: Option<String>) -> Input {
        {
            let mut task = self.state();
            task.answers.clear();
            task.stage = Stage::InputRequired(requests);
            task.updated = SystemTime::now();
        }
        loop {
            let notified = self.answered.notified();
            {
                let mut task = self.state();
                if let Stage::InputRequired(outstanding) = &task.stage
                    && outstanding.is_empty()
                {
                    let answers = std::mem::take(&mut task.answers);
                    task.stage = Stage::Working;
                    task.updated = SystemTime::now();
                    return Input {
                        responses: Some(answers),
                        state,
                    };
                }
            }
            notified.await;
        }
    }

    /// `tasks/update`: answers to outstanding requests; answers to anything else are
    /// ignored, as the extension asks.
    pub fn update(&self, responses: InputResponses) {
        let mut task = self.state();
        let TaskState { stage, answers, .. } = &mut *task;
        let Stage::InputRequired(outstanding) = stage else {
            return;
        };
        for (key, answer) in responses {
            if outstanding.remove(&key).is_some() {
                answers.insert(key, answer);
            }
        }
        if outstanding.is_empty() {
            drop(task);
            self.answered.notify_one();
        }
    }

    /// `tasks/cancel`: stops the tool, unless the task already ended.
    pub fn cancel(&self) {
        let mut task = self.state();
        if task.ended.is_some() {
            return;
        }
        if let Some(work) = task.work.take() {
            work.abort();
        }
        task.stage = Stage::Cancelled;
        task.updated = SystemTime::now();
        task.ended = Some(Instant::now());
    }

    /// The task as the call that created it answers.
    pub fn created(&self) -> CreateTaskResult {
        CreateTaskResult::new(self.task(TaskStatus::Working, SystemTime::now()))
    }

    fn task(&self, status: TaskStatus, updated: SystemTime) -> Task {
        let mut task = Task::new(
            self.id.clone(),
            status,
            rfc3339_millis(self.created),
            rfc3339_millis(updated),
        )
        .with_ttl_ms(KEEP_FOR.as_millis() as u64);
        if matches!(status, TaskStatus::Working | TaskStatus::InputRequired) {
            task = task.with_poll_interval_ms(POLL_INTERVAL.as_millis() as u64);
        }
        task
    }

    /// `tasks/get`.
    pub fn detailed(&self) -> GetTaskResult {
        let (stage, updated) = {
            let state = self.state();
            (state.stage.clone(), state.updated)
        };
        let (status, payload) = match stage {
            Stage::Working => (TaskStatus::Working, TaskPayload::Working),
            Stage::InputRequired(input_requests) => (
                TaskStatus::InputRequired,
                TaskPayload::InputRequired { input_requests },
            ),
            Stage::Completed(result) => (
                TaskStatus::Completed,
                TaskPayload::Completed {
                    result: match serde_json::to_value(result) {
                        Ok(serde_json::Value::Object(map)) => map,
                        _ => JsonObject::new(),
                    },
                },
            ),
            Stage::Cancelled => (TaskStatus::Cancelled, TaskPayload::Cancelled),
        };
        GetTaskResult::new(DetailedTask::new(self.task(status, updated), payload))
    }

    /// The task as failed, when the tool stopped without an answer (it panicked).
    pub fn fail(&self, message: &str) {
        let mut task = self.state();
        if task.ended.is_some() {
            return;
        }
        task.stage = Stage::Completed(CallToolResult::error(vec![
            rmcp::model::ContentBlock::text(message.to_owned()),
        ]));
        task.updated = SystemTime::now();
        task.ended = Some(Instant::now());
    }
}

/// The tasks of hand-written tools.
#[derive(Debug, Default)]
pub struct LocalTasks(Mutex<HashMap<String, Arc<LocalTask>>>);

impl LocalTasks {
    /// Keeps `task`, unless there are too many; then `false`.
    pub fn add(&self, task: Arc<LocalTask>) -> bool {
        let mut tasks = self.0.lock().unwrap_or_else(|p| p.into_inner());
        tasks.retain(|_, t| {
            t.state()
                .ended
                .is_none_or(|ended| ended.elapsed() < KEEP_FOR)
        });
        if tasks.len() >= MAX_TASKS {
            return false;
        }
        tasks.insert(task.id.clone(), task);
        true
    }

    /// The task `id`, if `caller` may read it.
    pub fn get(&self, id: &str, caller: &str) -> Option<Arc<LocalTask>> {
        let tasks = self.0.lock().unwrap_or_else(|p| p.into_inner());
        tasks.get(id).filter(|t| t.caller == caller).cloned()
    }
}

/// The error of a task that is not there: the protocol's invalid params, as for an unknown
/// ticket.
pub fn unknown(id: &str) -> rmcp::ErrorData {
    rmcp::ErrorData::invalid_params(
        "no task has this id on this server".to_owned(),
        Some(json!({ "taskId": id })),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> rmcp::model::InputRequest {
        serde_json::from_value(json!({
            "method": "elicitation/create",
            "params": {"mode": "form", "message": "Sure?", "requestedSchema": {"type": "object", "properties": {}}}
        }))
        .unwrap()
    }

    #[tokio::test]
    async fn input_is_gathered_in_parts_and_unknown_answers_are_ignored() {
        let task = LocalTask::new(String::new());
        let asker = Arc::clone(&task);
        let asked = tokio::spawn(async move {
            let requests =
                InputRequests::from([("a".to_owned(), request()), ("b".to_owned(), request())]);
            asker.ask(requests, Some("s".to_owned())).await
        });
        tokio::task::yield_now().await;
        task.update(InputResponses::from([
            ("a".to_owned(), json!(1)),
            ("zzz".to_owned(), json!(2)),
        ]));
        let shown = serde_json::to_value(task.detailed()).unwrap();
        assert_eq!(shown["status"], "input_required");
        assert!(shown["inputRequests"].get("a").is_none());
        assert!(shown["inputRequests"].get("b").is_some());
        assert!(!asked.is_finished());
        task.update(InputResponses::from([("b".to_owned(), json!(3))]));
        let input = asked.await.unwrap();
        assert_eq!(
            input.responses.unwrap(),
            InputResponses::from([("a".to_owned(), json!(1)), ("b".to_owned(), json!(3))])
        );
        assert_eq!(input.state.as_deref(), Some("s"));
        assert_eq!(
            serde_json::to_value(task.detailed()).unwrap()["status"],
            "working"
        );
    }

    #[tokio::test]
    async fn cancelling_stops_the_work_and_an_ended_task_stays_as_it_ended() {
        let tasks = LocalTasks::default();
        let task = LocalTask::new("alice".to_owned());
        assert!(tasks.add(Arc::clone(&task)));
        assert!(tasks.get(&task.id, "bob").is_none());
        let work = tokio::spawn(std::future::pending::<()>());
        task.set_work(work.abort_handle());
        task.cancel();
        assert!(work.await.unwrap_err().is_cancelled());
        task.complete(CallToolResult::success(vec![]));
        let shown = serde_json::to_value(tasks.get(&task.id, "alice").unwrap().detailed()).unwrap();
        assert_eq!(shown["status"], "cancelled");
    }
}
