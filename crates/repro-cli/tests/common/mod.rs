//! Test support shared by the integration tests: running the binary, and a real HTTP server on
//! 127.0.0.1 that plays a node's JSON-RPC endpoint.

// Each test crate that includes this uses a part of it.
#![allow(dead_code)]

use std::process::{Command, Output};
use std::sync::Arc;
use std::thread::JoinHandle;

use serde_json::{Value, json};

/// Runs `casper-repro ARGS` with no node from the environment and no colours.
pub fn casper_repro(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_casper-repro"))
        .args(args)
        .env_remove("CASPER_NODE_RPC")
        .env("NO_COLOR", "1")
        .output()
        .expect("run casper-repro")
}

/// A JSON-RPC server on loopback; stopped when dropped.
pub struct Node {
    server: Arc<tiny_http::Server>,
    thread: Option<JoinHandle<()>>,
    pub url: String,
}

impl Drop for Node {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Node {
    /// Serves every request with `answer(request body) -> (HTTP status, response body)`.
    pub fn start(answer: impl Fn(&str) -> (u16, String) + Send + 'static) -> Node {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind loopback"));
        let url = format!("http://{}/rpc", server.server_addr().to_ip().unwrap());
        let s = Arc::clone(&server);
        let thread = std::thread::spawn(move || {
            for mut request in s.incoming_requests() {
                let mut body = String::new();
                let _ = request.as_reader().read_to_string(&mut body);
                let (status, text) = answer(&body);
                let response = tiny_http::Response::from_string(text)
                    .with_status_code(status)
                    .with_header(
                        "content-type: application/json"
                            .parse::<tiny_http::Header>()
                            .unwrap(),
                    );
                let _ = request.respond(response);
            }
        });
        Node {
            server,
            thread: Some(thread),
            url,
        }
    }
}

/// The JSON-RPC request in `body` (Null when it is not JSON).
pub fn request(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or(Value::Null)
}

/// A JSON-RPC success document.
pub fn result(id: &Value, result: &Value) -> String {
    json!({"jsonrpc": "2.0", "id": id, "result": result}).to_string()
}

/// A JSON-RPC error document.
pub fn error(id: &Value, code: i64, message: &str) -> String {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}}).to_string()
}

/// A node's answer to the JSON-RPC request `body` from a bundle's recorded calls: the recorded
/// result for the same method and parameters, else the node's errors for an unknown method or an
/// unknown transaction or state.
pub fn bundle_answer(bundle: &Value, body: &str) -> (u16, String) {
    let req = request(body);
    let id = &req["id"];
    let method = req["method"].as_str().unwrap_or_default();
    let calls = bundle["calls"].as_array().expect("a bundle has calls");
    let known = calls.iter().any(|c| c["method"] == method);
    let answer = calls
        .iter()
        .find(|c| c["method"] == method && same_params(&c["params"], &req["params"]));
    let doc = match (answer, known) {
        (Some(c), _) => result(id, &c["result"]),
        (None, false) => error(id, -32601, "Method not found"),
        (None, true) => error(id, -32000, "No such transaction or state"),
    };
    (200, doc)
}

/// Parameters equal but for `finalized_approvals` (clients differ in sending it).
fn same_params(a: &Value, b: &Value) -> bool {
    let strip = |v: &Value| {
        let mut v = v.clone();
        if let Some(o) = v.as_object_mut() {
            o.remove("finalized_approvals");
        }
        v
    };
    strip(a) == strip(b)
}
