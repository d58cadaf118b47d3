//! JSON-RPC 2.0 over HTTP(S) to a Casper node (1.5: the node's own `/rpc`; 2.x: the sidecar).
//! Each call has a time limit; transport failures, time-outs, HTTP 5xx and 429 are retried a
//! bounded number of times with exponential backoff. Every answered call is recorded, so that the
//! exact answers can be saved as a bundle and re-checked offline.

use std::time::Duration;

use serde_json::{Value, json};

use crate::bundle::Call;
use crate::{CallError, Source};

/// Largest response body read (a 2.x execution result carries whole Wasm modules inline).
const MAX_BODY: u64 = 256 * 1024 * 1024;

/// Time limit and retries of a client.
#[derive(Debug, Clone, Copy)]
pub struct ClientOptions {
    /// Time limit of one HTTP exchange (connect, send, receive).
    pub timeout: Duration,
    /// Further attempts after a failed one (transport error, time-out, 5xx, 429).
    pub retries: u32,
    /// Wait before the first retry; doubled for each further one.
    pub backoff: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            retries: 2,
            backoff: Duration::from_millis(250),
        }
    }
}

/// A live node.
#[derive(Debug)]
pub struct HttpSource {
    url: String,
    agent: ureq::Agent,
    options: ClientOptions,
    next_id: u64,
    /// Every call answered with a result, in order.
    pub recorded: Vec<Call>,
}

impl HttpSource {
    /// A client for the node's JSON-RPC endpoint. A URL without a path gets `/rpc`, the path both
    /// the 1.5 node and the 2.x sidecar serve.
    pub fn new(url: &str, options: ClientOptions) -> Result<Self, CallError> {
        let url = normalise_url(url).map_err(|detail| CallError::BadUrl { detail })?;
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(options.timeout))
            .http_status_as_error(false)
            .user_agent(concat!("casper-repro/", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(Self {
            url,
            agent: config.into(),
            options,
            next_id: 1,
            recorded: Vec::new(),
        })
    }

    /// The endpoint actually called.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn exchange(&mut self, method: &str, params: &Value) -> Result<Value, Attempt> {
        let id = self.next_id;
        self.next_id += 1;
        let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let mut response = self
            .agent
            .post(&self.url)
            .header("content-type", "application/json")
            .send(body.to_string())
            .map_err(|e| Attempt::Retry(describe_transport(&e)))?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY)
            .read_to_string()
            .map_err(|e| Attempt::Retry(format!("reading the response body: {e}")))?;
        if status == 429 || status >= 500 {
            return Err(Attempt::Retry(format!("HTTP {status}{}", excerpt(&text))));
        }
        if status != 200 {
            return Err(Attempt::Fatal(format!(
                "HTTP {status}{} (is {} the node's JSON-RPC endpoint?)",
                excerpt(&text),
                self.url
            )));
        }
        let value: Value = serde_json::from_str(&text)
            .map_err(|e| Attempt::Fatal(format!("not JSON ({e}){}", excerpt(&text))))?;
        if value.get("id") != Some(&json!(id)) {
            return Err(Attempt::Fatal(format!(
                "the response's id is {} but the request's was {id}",
                value.get("id").map_or("missing".into(), Value::to_string)
            )));
        }
        if let Some(error) = value.get("error") {
            let code = error.get("code").and_then(Value::as_i64).unwrap_or(0);
            let message = error
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("(no message)");
            let data = error
                .get("data")
                .map(|d| match d {
                    Value::String(s) => format!(": {s}"),
                    other => format!(": {other}"),
                })
                .unwrap_or_default();
            return Err(Attempt::Rpc(code, format!("{message}{data}")));
        }
        match value.get("result") {
            Some(result) => Ok(result.clone()),
            None => Err(Attempt::Fatal(
                "neither `result` nor `error` in the response".into(),
            )),
        }
    }
}

enum Attempt {
    Retry(String),
    Fatal(String),
    Rpc(i64, String),
}

impl Source for HttpSource {
    fn call(&mut self, method: &str, params: &Value) -> Result<Value, CallError> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            tracing::debug!(method, attempt = attempts, url = %self.url, "JSON-RPC call");
            match self.exchange(method, params) {
                Ok(result) => {
                    self.recorded.push(Call {
                        method: method.to_owned(),
                        params: params.clone(),
                        result: result.clone(),
                    });
                    return Ok(result);
                }
                Err(Attempt::Rpc(-32601, _)) => {
                    return Err(CallError::MethodNotFound {
                        method: method.to_owned(),
                    });
                }
                Err(Attempt::Rpc(code, message)) => {
                    return Err(CallError::Rpc {
                        method: method.to_owned(),
                        code,
                        message,
                    });
                }
                Err(Attempt::Fatal(detail)) => {
                    return Err(CallError::Malformed {
                        url: self.url.clone(),
                        method: method.to_owned(),
                        detail,
                    });
                }
                Err(Attempt::Retry(detail)) => {
                    if attempts > self.options.retries {
                        return Err(CallError::Unreachable {
                            url: self.url.clone(),
                            method: method.to_owned(),
                            detail,
                            attempts,
                        });
                    }
                    let wait = self.options.backoff * 2u32.saturating_pow(attempts - 1);
                    tracing::warn!(method, %detail, "retrying in {} ms", wait.as_millis());
                    std::thread::sleep(wait);
                }
            }
        }
    }

    fn note(&mut self, method: &str, params: &Value, result: &Value) {
        self.recorded.push(Call {
            method: method.to_owned(),
            params: params.clone(),
            result: result.clone(),
        });
    }

    fn describe(&self) -> String {
        format!("node {}", self.url)
    }
}

fn normalise_url(url: &str) -> Result<String, String> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(|| format!("`{url}` is not an http:// or https:// URL"))?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err(format!("`{url}` names no host"));
    }
    Ok(if rest.contains('/') {
        url.to_owned()
    } else {
        format!("{url}/rpc")
    })
}

fn describe_transport(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Timeout(_) => "timed out: no answer within the time limit (--timeout)".into(),
        ureq::Error::ConnectionFailed => "connection failed".into(),
        ureq::Error::HostNotFound => "host not found".into(),
        other => other.to_string(),
    }
}

fn excerpt(text: &str) -> String {
    let t = text.trim();
    if t.is_empty() {
        return String::new();
    }
    let cut: String = t.chars().take(200).collect();
    let more = if cut.len() < t.len() { "…" } else { "" };
    format!(": {cut}{more}")
}

#[cfg(test)]
mod tests {
    use super::normalise_url;

    #[test]
    fn urls_get_the_rpc_path_only_when_they_have_none() {
        assert_eq!(
            normalise_url("http://127.0.0.1:7777").unwrap(),
            "http://127.0.0.1:7777/rpc"
        );
        assert_eq!(
            normalise_url("https://node.example/rpc").unwrap(),
            "https://node.example/rpc"
        );
        assert!(normalise_url("127.0.0.1:7777").is_err());
        assert!(normalise_url("http://").is_err());
    }
}
