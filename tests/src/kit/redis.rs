//! A Redis for a test run: `REDIS_URL` when set, else a `redis-server` on a free loopback port.

use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::Error;

/// A reachable Redis; a server this kit started is killed on drop.
#[derive(Debug)]
pub struct RedisServer {
    url: String,
    child: Option<Child>,
}

impl RedisServer {
    /// Uses `REDIS_URL` if set, else starts `redis-server --port <free> --save '' --appendonly no`.
    pub async fn start() -> Result<Self, Error> {
        if let Ok(url) = std::env::var("REDIS_URL")
            && !url.is_empty()
        {
            return Ok(Self { url, child: None });
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                Error::Redis(format!(
                    "cannot start redis-server ({e}); install it (apt-get install redis-server) or set REDIS_URL"
                ))
            })?;
        let server = Self {
            url: format!("redis://127.0.0.1:{port}/0"),
            child: Some(child),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if ping(port).await {
                return Ok(server);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(Error::Redis(format!(
            "redis-server on port {port} did not answer PING within 10 s"
        )))
    }

    /// The URL to give the binaries (`REDIS_URL`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Whether this kit started the server (rather than using `REDIS_URL`).
    pub fn is_owned(&self) -> bool {
        self.child.is_some()
    }
}

async fn ping(port: u16) -> bool {
    let Ok(mut stream) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await else {
        return false;
    };
    if stream.write_all(b"PING\r\n").await.is_err() {
        return false;
    }
    let mut buf = [0u8; 7];
    matches!(tokio::time::timeout(Duration::from_secs(1), stream.read(&mut buf)).await, Ok(Ok(n)) if buf[..n].starts_with(b"+PONG"))
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_started_redis_answers_and_is_gone_after_drop() {
        if std::env::var("REDIS_URL").is_ok_and(|u| !u.is_empty()) {
            let redis = RedisServer::start().await.unwrap();
            assert!(!redis.is_owned());
            return;
        }
        let redis = RedisServer::start().await.unwrap();
        let port: u16 = redis
            .url()
            .rsplit(':')
            .next()
            .unwrap()
            .trim_end_matches("/0")
            .parse()
            .unwrap();
        assert!(ping(port).await);
        drop(redis);
        assert!(!ping(port).await);
    }
}
