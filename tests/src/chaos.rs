//! An upstream that misbehaves on purpose, written on raw TCP so that it can do what no
//! well-behaved HTTP server does: reset connections, lie about lengths, stall. Some paths fail
//! only their first few requests (`/flaky-N` fails N times with 503), to exercise retries.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A running misbehaving upstream on 127.0.0.1.
pub struct Chaos {
    /// Its address.
    pub addr: SocketAddr,
    /// The request heads received, in order (`GET /path` plus headers).
    pub heads: Heads,
}

impl Chaos {
    /// Starts the server. `redirect_target` is where `/redirect-away` sends callers.
    pub async fn start(redirect_target: String) -> Chaos {
        let (addr, heads) = serve_raw(move |stream, heads| {
            let target = redirect_target.clone();
            async move { serve(stream, heads, target).await }
        })
        .await;
        Chaos { addr, heads }
    }
}

/// The request heads a raw server has received, in order.
pub type Heads = Arc<Mutex<Vec<String>>>;

/// Listens on a free port of 127.0.0.1 and hands every connection, with the shared record of
/// request heads, to `answer` on a task of its own (an error ends that connection only).
/// Returns the address and the record.
pub async fn serve_raw<F, Fut>(answer: F) -> (SocketAddr, Heads)
where
    F: Fn(TcpStream, Heads) -> Fut + Send + 'static,
    Fut: Future<Output = std::io::Result<()>> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let heads = Heads::default();
    let recorded = heads.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let connection = answer(stream, recorded.clone());
            tokio::spawn(async move {
                let _ = connection.await;
            });
        }
    });
    (addr, heads)
}

/// Reads a request head (up to its blank line, or `max` bytes): `None` when the client closes
/// the connection first. Whatever of the body came with it is part of the text.
pub async fn read_head(stream: &mut TcpStream, max: usize) -> std::io::Result<Option<String>> {
    let mut buffer = vec![0u8; max];
    let mut read = 0;
    loop {
        let n = stream.read(&mut buffer[read..]).await?;
        if n == 0 {
            return Ok(None);
        }
        read += n;
        if buffer[..read].windows(4).any(|w| w == b"\r\n\r\n") || read == buffer.len() {
            return Ok(Some(String::from_utf8_lossy(&buffer[..read]).into_owned()));
        }
    }
}

async fn serve(
    mut stream: TcpStream,
    heads: Heads,
    redirect_target: String,
) -> std::io::Result<()> {
    let Some(head) = read_head(&mut stream, 16 * 1024).await? else {
        return Ok(());
    };
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let path = path.split('?').next().unwrap_or("/").to_owned();
    // How many requests for this path came before this one.
    let earlier = {
        let mut heads = heads.lock().unwrap();
        let earlier = heads
            .iter()
            .filter(|h| {
                h.split_whitespace()
                    .nth(1)
                    .and_then(|p| p.split('?').next())
                    == Some(&path)
            })
            .count();
        heads.push(head);
        earlier
    };
    let status = |code: &str, extra: &str| {
        format!(
            "HTTP/1.1 {code}\r\ncontent-type: application/json\r\ncontent-length: 2\r\n{extra}connection: close\r\n\r\n{{}}"
        )
    };
    let json = |body: &str| {
        format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    match path.as_str() {
        "/ok" | "/home" => stream.write_all(json(r#"{"ok":true}"#).as_bytes()).await?,
        "/slow" => {
            tokio::time::sleep(Duration::from_secs(20)).await;
            stream.write_all(json("{}").as_bytes()).await?;
        }
        "/reset" => {
            // Linger 0 makes close send RST instead of FIN.
            stream.set_zero_linger()?;
            drop(stream);
            return Ok(());
        }
        "/bad-json" => stream.write_all(json("{not json").as_bytes()).await?,
        // 503 once, then success: a retry succeeds.
        "/flaky" | "/flaky-put" if earlier == 0 => {
            stream
                .write_all(status("503 Service Unavailable", "").as_bytes())
                .await?
        }
        "/flaky" | "/flaky-put" => stream.write_all(json(r#"{"ok":true}"#).as_bytes()).await?,
        // 429 with Retry-After in seconds, then success.
        "/rate-limited" if earlier == 0 => {
            stream
                .write_all(status("429 Too Many Requests", "retry-after: 1\r\n").as_bytes())
                .await?
        }
        "/rate-limited" => stream.write_all(json(r#"{"ok":true}"#).as_bytes()).await?,
        // 503 with Retry-After as an HTTP date, then success. The date has whole seconds, so
        // two seconds ahead is a wait of one to two seconds.
        "/retry-at" if earlier == 0 => {
            let at = std::time::SystemTime::now() + Duration::from_secs(2);
            let header = format!("retry-after: {}\r\n", httpdate::fmt_http_date(at));
            stream
                .write_all(status("503 Service Unavailable", &header).as_bytes())
                .await?
        }
        "/retry-at" => stream.write_all(json(r#"{"ok":true}"#).as_bytes()).await?,
        // Always unavailable, asking for a wait far beyond any retry budget.
        "/retry-much-later" => {
            stream
                .write_all(status("503 Service Unavailable", "retry-after: 3600\r\n").as_bytes())
                .await?
        }
        // Always a gateway error.
        "/always-502" | "/post-502" => {
            stream
                .write_all(status("502 Bad Gateway", "").as_bytes())
                .await?
        }
        "/mid-body" => {
            stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{\"partial\":")
                .await?;
            stream.flush().await?;
            return Ok(());
        }
        "/huge" => {
            let size = 50 * 1024 * 1024;
            stream
                .write_all(format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {size}\r\n\r\n[").as_bytes())
                .await?;
            let chunk = vec![b'1'; 64 * 1024];
            let mut sent = 1;
            while sent < size {
                let n = chunk.len().min(size - sent);
                if stream.write_all(&chunk[..n]).await.is_err() {
                    return Ok(());
                }
                sent += n;
            }
        }
        "/redirect-away" => {
            let response = format!(
                "HTTP/1.1 302 Found\r\nlocation: {redirect_target}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
            stream.write_all(response.as_bytes()).await?;
        }
        "/redirect-home" => {
            stream
                .write_all(b"HTTP/1.1 307 Temporary Redirect\r\nlocation: /home\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                .await?;
        }
        _ => {
            stream
                .write_all(
                    b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                )
                .await?
        }
    }
    stream.shutdown().await
}
