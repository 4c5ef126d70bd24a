//! A raw JSON-RPC client for a server on stdio: one writer task batches request lines into
//! the server's stdin, one reader task matches answer lines to the waiting calls by id, so
//! any number of calls can be in flight on the one pipe. Answers whose id no call is
//! waiting for (duplicates, strays) are counted.

use std::collections::HashMap;
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::{mpsc, oneshot};

use crate::procs::ChildGuard;
use crate::rpc::{self, CallError};

/// Calls waiting for an answer.
type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Answer>>>>;

/// An answer line as received.
#[derive(Debug)]
pub struct Answer {
    /// The message.
    pub message: Value,
    /// Length of its line in bytes.
    pub bytes: usize,
    /// When the whole line had been read (before it was parsed).
    pub arrived: Instant,
}

/// A server process driven over its stdin and stdout.
pub struct StdioServer {
    guard: ChildGuard,
    lines: Option<mpsc::UnboundedSender<String>>,
    pending: Pending,
    next_id: AtomicU64,
    strays: Arc<AtomicU64>,
    timeout: Duration,
    spawned: Instant,
}

impl StdioServer {
    /// Starts `bin ARGS` with `env`, stderr appended to `log`, and sends `initialize` at once.
    /// Returns the session (initialised) and the time from spawning to the `initialize`
    /// answer.
    pub async fn start(
        bin: &Path,
        args: &[&str],
        env: &[(&str, &str)],
        log: &Path,
        timeout: Duration,
    ) -> Result<(StdioServer, Duration), String> {
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|e| format!("cannot open {}: {e}", log.display()))?;
        let mut command = tokio::process::Command::new(bin);
        command
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log_file);
        let started = Instant::now();
        let mut guard = ChildGuard::spawn(command, &bin.display().to_string())?;
        let stdin = guard.child_mut().stdin.take().ok_or("no stdin pipe")?;
        let stdout = guard.child_mut().stdout.take().ok_or("no stdout pipe")?;

        let (tx, mut rx) = mpsc::unbounded_channel::<String>();
        tokio::spawn(async move {
            let mut stdin = stdin;
            let mut buffer = Vec::with_capacity(64 * 1024);
            while let Some(line) = rx.recv().await {
                buffer.extend_from_slice(line.as_bytes());
                buffer.push(b'\n');
                // Whatever else is queued goes out in the same write.
                while let Ok(more) = rx.try_recv() {
                    buffer.extend_from_slice(more.as_bytes());
                    buffer.push(b'\n');
                }
                if stdin.write_all(&buffer).await.is_err() {
                    break;
                }
                buffer.clear();
            }
            // Dropping stdin closes the pipe: the server sees end of file and exits.
        });

        let pending: Pending = Arc::default();
        let strays = Arc::new(AtomicU64::new(0));
        {
            let pending = pending.clone();
            let strays = strays.clone();
            tokio::spawn(async move {
                let mut lines = BufReader::with_capacity(256 * 1024, stdout).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    let arrived = Instant::now();
                    let Ok(message) = serde_json::from_str::<Value>(&line) else {
                        strays.fetch_add(1, Ordering::Relaxed);
                        continue;
                    };
                    let Some(id) = message.get("id").and_then(Value::as_u64) else {
                        // A notification (a log message, say): no call is waiting for it.
                        continue;
                    };
                    let waiting = pending
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .remove(&id);
                    match waiting {
                        Some(sender) => {
                            let _ = sender.send(Answer {
                                message,
                                bytes: line.len(),
                                arrived,
                            });
                        }
                        None => {
                            strays.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            });
        }

        let server = StdioServer {
            guard,
            lines: Some(tx),
            pending,
            next_id: AtomicU64::new(1),
            strays,
            timeout,
            spawned: started,
        };
        let answer = server
            .request(0, rpc::initialize(0))
            .await
            .map_err(|e| format!("initialize over stdio failed: {}", e.message))?;
        let first_answer = answer.arrived - started;
        if answer.message.get("result").is_none() {
            return Err(format!("initialize was refused: {}", answer.message));
        }
        server.send_line(rpc::INITIALIZED.to_owned())?;
        Ok((server, first_answer))
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.guard.pid()
    }

    /// When the process was spawned.
    pub fn spawned(&self) -> Instant {
        self.spawned
    }

    /// Answers whose id no call was waiting for, so far.
    pub fn strays(&self) -> u64 {
        self.strays.load(Ordering::Relaxed)
    }

    /// A fresh request id.
    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    fn send_line(&self, line: String) -> Result<(), String> {
        self.lines
            .as_ref()
            .ok_or("the session is closed")?
            .send(line)
            .map_err(|_| "the server's stdin is closed".to_owned())
    }

    /// Sends `line` (a request with id `id`) and waits for the answer with that id.
    pub async fn send_and_wait(&self, id: u64, line: String) -> Result<Value, CallError> {
        self.request(id, line).await.map(|answer| answer.message)
    }

    /// [`StdioServer::send_and_wait`], with the answer's size and arrival time.
    pub async fn request(&self, id: u64, line: String) -> Result<Answer, CallError> {
        let (tx, rx) = oneshot::channel();
        self.pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, tx);
        if let Err(e) = self.send_line(line) {
            self.forget(id);
            return Err(CallError::lost(e));
        }
        match tokio::time::timeout(self.timeout, rx).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(_)) => {
                self.forget(id);
                Err(CallError::lost(format!(
                    "call {id}: the server closed stdout"
                )))
            }
            Err(_) => {
                self.forget(id);
                Err(CallError::lost(format!(
                    "call {id}: no answer within {:?}",
                    self.timeout
                )))
            }
        }
    }

    fn forget(&self, id: u64) {
        self.pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&id);
    }

    /// One `tools/call getPetById`, checked.
    pub async fn get_pet(&self) -> Result<(), CallError> {
        let id = self.next_id();
        let answer = self.send_and_wait(id, rpc::get_pet(id)).await?;
        rpc::check_pet_answer(&answer, id)
    }

    /// Closes stdin and waits for the server to exit (killing it if it does not).
    pub async fn close(self) -> Result<(), String> {
        self.close_within(Duration::from_secs(5)).await
    }

    /// [`StdioServer::close`], waiting up to `grace` for the exit.
    pub async fn close_within(mut self, grace: Duration) -> Result<(), String> {
        self.lines = None;
        self.guard.stop(grace).await
    }
}
