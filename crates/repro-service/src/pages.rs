//! Server-rendered pages, readable without JavaScript: the recent verifications with a submit
//! form (`/`), a verification's page (`/jobs/{id}`: verdict, chain commitments, the three stages,
//! causes and diff, toolchain and provenance, downloads, the source files) and a source file
//! (`/jobs/{id}/source/{path}`). A page still in the queue refreshes itself (a meta refresh).

use std::fmt::Write as _;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Multipart, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde_json::Value;

use crate::archive;
use crate::codeverifier::Status;
use crate::server::{ApiError, AppState};
use crate::store::Job;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(index))
        .route("/submit", post(submit_form))
        .route("/jobs/{id}", get(job_page))
        .route("/batches/{id}", get(batch_page))
        .route("/jobs/{id}/source/{*path}", get(source_page))
}

/// `s` escaped for HTML text and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:70rem;margin:1rem auto;padding:0 1rem;color:#222}\
table{border-collapse:collapse;width:100%;margin:.5rem 0}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}\
code,pre{font-family:ui-monospace,monospace;font-size:.85rem}pre{background:#f6f6f6;padding:.5rem;overflow:auto;max-height:40rem}\
.Verified{color:#fff;background:#1a7f37}.Failed{color:#fff;background:#cf222e}.Waiting,.Pending{background:#eee}\
.badge{padding:.1rem .5rem;border-radius:.3rem;font-weight:bold}.passed{color:#1a7f37}.failed{color:#cf222e}\
.hash{word-break:break-all}";

fn page(title: &str, refresh: bool, body: &str) -> Html<String> {
    let meta = if refresh {
        "<meta http-equiv=\"refresh\" content=\"5\">"
    } else {
        ""
    };
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">{meta}\
         <meta name=\"viewport\" content=\"width=device-width\"><title>{t} · casper-repro</title>\
         <style>{STYLE}</style></head><body><header><a href=\"/\">casper-repro</a> · open \
         verification of Casper contracts · <a href=\"/openapi.json\">API</a></header>\
         <main><h1>{t}</h1>{body}</main></body></html>",
        t = esc(title)
    ))
}

fn badge(s: Status) -> String {
    format!("<span class=\"badge {0}\">{0}</span>", s.as_str())
}

fn error_page(e: ApiError) -> Response {
    let body = format!(
        "<p><span class=\"badge Failed\">{}</span> {}</p><p><a href=\"/\">Back</a></p>",
        esc(e.code),
        esc(&e.description)
    );
    (e.status, page("Error", false, &body)).into_response()
}

async fn index(State(state): State<Arc<AppState>>) -> Response {
    let jobs = match state.store.list(None, None, 50).await {
        Ok(j) => j,
        Err(e) => return error_page(e.into()),
    };
    let mut b = String::new();
    b.push_str(
        "<h2>Submit</h2><form method=\"post\" action=\"/submit\" enctype=\"multipart/form-data\">\
         <p><label>Deploy or transaction hash <input name=\"hash\" size=\"70\" required \
         pattern=\"[0-9a-zA-Z-]+\"></label></p>\
         <p><label>Project source (.tar.gz of the project directory, without target/) \
         <input type=\"file\" name=\"archive\" required accept=\".tar.gz,.tgz,application/gzip\"></label></p>\
         <p><button type=\"submit\">Verify</button></p></form>\
         <p>Or with casper-client: <code>verify_contract(HASH, BASE_URL, PROJECT_DIR)</code> \
         against this server's base URL.</p><h2>Recent verifications</h2>",
    );
    if jobs.is_empty() {
        b.push_str("<p>None yet.</p>");
    } else {
        b.push_str("<table><tr><th>#</th><th>Transaction</th><th>Status</th><th>Verdict</th></tr>");
        for j in &jobs {
            let _ = write!(
                b,
                "<tr><td><a href=\"/jobs/{id}\">{id}</a></td><td class=\"hash\"><code>{tx}</code></td>\
                 <td>{st}</td><td>{v}</td></tr>",
                id = j.id,
                tx = esc(&j.tx_hash),
                st = badge(j.status),
                v = esc(j.verdict.as_deref().unwrap_or("")),
            );
        }
        b.push_str("</table>");
    }
    page("Verifications", false, &b).into_response()
}

async fn submit_form(State(state): State<Arc<AppState>>, mut form: Multipart) -> Response {
    let mut hash = None;
    let mut archive = None;
    loop {
        match form.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or_default().to_owned();
                let data = match field.bytes().await {
                    Ok(d) => d,
                    Err(e) => return error_page(form_error(e.body_text())),
                };
                match name.as_str() {
                    "hash" => hash = Some(String::from_utf8_lossy(&data).trim().to_owned()),
                    "archive" => archive = Some(data.to_vec()),
                    _ => {}
                }
            }
            Ok(None) => break,
            Err(e) => return error_page(form_error(e.body_text())),
        }
    }
    let (Some(hash), Some(archive)) = (hash, archive) else {
        return error_page(form_error("give the hash and the archive".into()));
    };
    match crate::server::submit(&state, &hash, crate::server::Source::Archive(archive)).await {
        Ok((id, _)) => Redirect::to(&format!("/jobs/{id}")).into_response(),
        Err(e) => error_page(e),
    }
}

fn form_error(why: String) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "BadRequest", why)
}

async fn load(state: &AppState, id: &str) -> Result<Job, ApiError> {
    let n: i64 = id
        .parse()
        .map_err(|_| ApiError::new(StatusCode::NOT_FOUND, "NotFound", format!("no job `{id}`")))?;
    state
        .store
        .job(n)
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "NotFound", format!("no job {n}")))
}

async fn batch_page(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    let id = match id.parse::<i64>() {
        Ok(id) => id,
        Err(_) => {
            return error_page(ApiError::new(
                axum::http::StatusCode::BAD_REQUEST,
                "BadRequest",
                format!("`{id}` is not a batch number"),
            ));
        }
    };
    match crate::server::batch_doc(&state, id).await {
        Ok(doc) => render_batch(&doc),
        Err(e) => error_page(e),
    }
}

/// A batch's progress: counts, a progress bar, rate and ETA, and every job with its outcome.
/// Refreshes itself until every job has finished.
fn render_batch(d: &crate::batch::BatchDoc) -> Response {
    let finished = d.verified + d.failed;
    let mut b = String::new();
    let _ = write!(
        b,
        "<p><progress max=\"{total}\" value=\"{finished}\">{finished}/{total}</progress> \
         {finished} of {total} finished</p>\
         <table class=\"counts\"><tr><th>Verified</th><th>Failed</th><th>Running</th>\
         <th>Waiting</th><th>Rate</th><th>ETA</th></tr>\
         <tr><td id=\"verified\">{v}</td><td id=\"failed\">{f}</td><td id=\"running\">{r}</td>\
         <td id=\"waiting\">{w}</td><td id=\"rate\">{rate}</td><td id=\"eta\">{eta}</td></tr></table>",
        total = d.total,
        v = d.verified,
        f = d.failed,
        r = d.running,
        w = d.waiting,
        rate = d
            .rate_per_minute
            .map(|r| format!("{r:.1} per minute"))
            .unwrap_or_else(|| "-".into()),
        eta = if d.done {
            "done".to_owned()
        } else {
            d.eta_seconds
                .map(crate::batch::human_duration)
                .unwrap_or_else(|| "-".into())
        },
    );
    b.push_str(
        "<table><tr><th>#</th><th>Job</th><th>Transaction</th><th>Toolchain</th><th>Status</th>\
         <th>Verdict or error</th></tr>",
    );
    for j in &d.jobs {
        let error = j
            .error
            .as_ref()
            .map(|e| format!("<strong>{}</strong> {}", esc(&e.code), esc(&e.description)));
        let outcome = match (&j.verdict, error) {
            (Some(v), Some(e)) => format!("{}: {e}", esc(v)),
            (Some(v), None) => esc(v),
            (None, Some(e)) => e,
            (None, None) => String::new(),
        };
        let _ = write!(
            b,
            "<tr><td>{pos}</td><td><a href=\"/jobs/{id}\">{id}</a></td>\
             <td class=\"hash\"><code>{tx}</code></td><td>{tc}</td><td>{st}</td><td>{outcome}</td></tr>",
            pos = j.position,
            id = j.id,
            tx = esc(&j.transaction),
            tc = esc(j.toolchain.as_deref().unwrap_or("(inferred)")),
            st = badge(j.status),
        );
    }
    b.push_str("</table>");
    let _ = write!(
        b,
        "<p><a href=\"{}\">This batch as JSON</a></p>",
        esc(&d.links.this)
    );
    let title = match &d.name {
        Some(n) => format!("Batch {} · {n}", d.id),
        None => format!("Batch {}", d.id),
    };
    page(&title, !d.done, &b).into_response()
}

async fn job_page(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    match render_job(&state, &id).await {
        Ok(r) => r,
        Err(e) => error_page(e),
    }
}

async fn render_job(state: &AppState, id: &str) -> Result<Response, ApiError> {
    let job = load(state, id).await?;
    let report: Option<Value> = state
        .store
        .report(job.id)
        .await?
        .and_then(|r| serde_json::from_str(&r).ok());
    let mut b = String::new();
    let _ = write!(
        b,
        "<p>Transaction <code class=\"hash\">{}</code></p><p>{} {}</p>",
        esc(&job.tx_hash),
        badge(job.status),
        esc(job.verdict.as_deref().unwrap_or("")),
    );
    if let Some(g) = &job.git {
        let _ = write!(
            b,
            "<p>Source fetched by this server from git: <code class=\"hash\">{}</code> at commit \
             <code class=\"hash\">{}</code>{}</p>",
            esc(&g.url),
            esc(&g.commit),
            g.path
                .as_deref()
                .map(|p| format!(", directory <code>{}</code>", esc(p)))
                .unwrap_or_default()
        );
    }
    if let Some(d) = &job.error_description {
        let code = job.error_code.map(|c| c.as_str()).unwrap_or("");
        let _ = write!(b, "<p><strong>{}</strong> {}</p>", esc(code), esc(d));
    }
    if matches!(job.status, Status::Waiting | Status::Pending) {
        let _ = write!(
            b,
            "<p>{} (attempt {} of {}). This page refreshes itself.</p>",
            if job.status == Status::Waiting {
                "Queued"
            } else {
                "Being verified"
            },
            job.attempts,
            job.max_attempts
        );
    }
    if let Some(r) = &report {
        render_report(&mut b, r);
    }
    if let Some(sha) = &job.provenance_sha256
        && let Some(p) = state.store.blob(sha).await?
    {
        let text = String::from_utf8_lossy(&p);
        let pretty = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| serde_json::to_string_pretty(&v).ok())
            .unwrap_or_else(|| text.into_owned());
        let _ = write!(
            b,
            "<h2>Provenance of the rebuild</h2><pre>{}</pre>",
            esc(&pretty)
        );
    }
    b.push_str("<h2>Downloads</h2><ul>");
    let mut link = |label: &str, sha: Option<&String>, note: &str| {
        if let Some(s) = sha {
            let _ = write!(
                b,
                "<li><a href=\"/api/v1/blobs/{s}\">{}</a> {}</li>",
                esc(label),
                esc(note)
            );
        }
    };
    link("source archive (tar.gz)", Some(&job.archive_sha256), "");
    link(
        "offline bundle (tar.gz)",
        job.bundle_sha256.as_ref(),
        "— the node's answers: casper-repro verify SOURCE --bundle bundle/ re-checks everything without a node",
    );
    link("rebuilt module (.wasm)", job.binary_sha256.as_ref(), "");
    link("build logs", job.logs_sha256.as_ref(), "");
    link("provenance (JSON)", job.provenance_sha256.as_ref(), "");
    if report.is_some() {
        let _ = write!(
            b,
            "<li><a href=\"/api/v1/jobs/{}/report\">verify report (JSON)</a></li>",
            job.id
        );
    }
    b.push_str("</ul>");
    if let Some(a) = state.store.blob(&job.archive_sha256).await?
        && let Ok(mut files) = archive::list(&a, &archive::Limits::default())
    {
        files.sort();
        let _ = write!(b, "<h2>Source ({} files)</h2><ul>", files.len());
        for (path, size) in &files {
            let _ = write!(
                b,
                "<li><a href=\"/jobs/{}/source/{}\">{}</a> ({size} bytes)</li>",
                job.id,
                esc(&url_path(path)),
                esc(path)
            );
        }
        b.push_str("</ul>");
    }
    let title = format!("Verification #{}", job.id);
    let refresh = matches!(job.status, Status::Waiting | Status::Pending);
    Ok(page(&title, refresh, &b).into_response())
}

/// Percent-encodes what a path segment may not hold.
fn url_path(p: &str) -> String {
    let mut out = String::new();
    for b in p.bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

fn render_report(b: &mut String, r: &Value) {
    let _ = write!(b, "<p>{}</p>", esc(s(r, "summary")));
    let cfg = &r["configuration"];
    let _ = write!(
        b,
        "<p>Replayed with protocol {} ({}).</p>",
        esc(s(cfg, "protocol_version")),
        esc(s(cfg, "from"))
    );
    if let Some(t) = r.get("toolchain").filter(|t| !t.is_null()) {
        let _ = write!(b, "<p>Toolchain: <code>{}</code></p>", esc(&t.to_string()));
    }
    b.push_str("<h2>Chain commitments checked</h2><table><tr><th>Check</th><th>Result</th><th>Detail</th></tr>");
    for c in r["install"]["checks"].as_array().into_iter().flatten() {
        let status = s(c, "status");
        let _ = write!(
            b,
            "<tr><td class=\"hash\">{}</td><td class=\"{}\">{}</td><td>{}</td></tr>",
            esc(s(c, "check")),
            esc(status),
            esc(status),
            esc(s(c, "detail"))
        );
    }
    b.push_str("</table><h2>Stages</h2>");
    if let Some(rb) = r.get("rebuild").filter(|x| !x.is_null()) {
        let name = match rb.get("artifact").and_then(Value::as_str) {
            Some(a) => format!("{} ({a})", s(rb, "package")),
            None => s(rb, "package").to_owned(),
        };
        let _ = write!(b, "<h3>Rebuild of {}</h3>", esc(&name));
        // The rebuild's stage fields are flattened into the rebuild's object.
        stages(b, std::slice::from_ref(rb));
    }
    for c in r["contracts"].as_array().into_iter().flatten() {
        let eps: Vec<&str> = c["entry_points"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let _ = write!(
            b,
            "<h3>Contract <code class=\"hash\">{}</code> — {}</h3><p>Entry points: {}. Stored Wasm sha256 <code class=\"hash\">{}</code></p>",
            esc(s(c, "contract_hash")),
            esc(s(c, "verdict")),
            esc(&eps.join(", ")),
            esc(s(c, "stored_sha256")),
        );
        stages(b, c["stages"].as_array().map(Vec::as_slice).unwrap_or(&[]));
    }
}

fn stages(b: &mut String, list: &[Value]) {
    b.push_str("<table><tr><th>Stage</th><th>Outcome</th><th>Chain side sha256</th><th>Rebuilt/replayed sha256</th></tr>");
    for st in list {
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{}</td><td class=\"hash\"><code>{}</code></td><td class=\"hash\"><code>{}</code></td></tr>",
            esc(s(st, "stage")),
            esc(s(st, "outcome")),
            esc(s(st, "a_sha256")),
            esc(s(st, "b_sha256")),
        );
        if let Some(n) = st.get("normalisation").and_then(Value::as_str) {
            let _ = write!(
                b,
                "<tr><td colspan=\"4\">Equal after normalisation: {}</td></tr>",
                esc(n)
            );
        }
        causes(b, st["causes"].as_array().map(Vec::as_slice).unwrap_or(&[]));
        if let Some(e) = st.get("error").and_then(Value::as_str) {
            let _ = write!(b, "<tr><td colspan=\"4\">{}</td></tr>", esc(e));
        }
        if let Some(d) = st.get("diff").filter(|d| !d.is_null()) {
            b.push_str("<tr><td colspan=\"4\">");
            diff(b, d);
            b.push_str("</td></tr>");
        }
    }
    b.push_str("</table>");
}

/// A stage's probable causes, most probable first: the sentence, what in the bytes supports it,
/// and what to do.
fn causes(b: &mut String, list: &[Value]) {
    if list.is_empty() {
        return;
    }
    b.push_str("<tr><td colspan=\"4\"><strong>Probable causes</strong><ol>");
    for c in list {
        let _ = write!(b, "<li>{}", esc(s(c, "summary")));
        let evidence: Vec<&str> = c["evidence"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        if !evidence.is_empty() {
            b.push_str("<br>Evidence:<ul>");
            for e in evidence {
                let _ = write!(b, "<li>{}</li>", esc(e));
            }
            b.push_str("</ul>");
        }
        if let Some(fix) = c.get("fix").and_then(Value::as_str) {
            let _ = write!(b, "What to do: {}", esc(fix));
        }
        b.push_str("</li>");
    }
    b.push_str("</ol></td></tr>");
}

/// The structural diff of a stage (repro-diff's report): the sections that differ, the
/// functions that differ with their WAT diffs, and the whole document for the curious.
fn diff(b: &mut String, d: &Value) {
    b.push_str("<details open><summary>Diff</summary><table><tr><th>Section</th><th>Status</th><th>A bytes</th><th>B bytes</th></tr>");
    for row in d["sections"].as_array().into_iter().flatten() {
        if s(row, "status") == "identical" {
            continue;
        }
        let size = |side: &str| {
            row[side]["size"]
                .as_u64()
                .map_or_else(|| "—".to_owned(), |n| n.to_string())
        };
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(s(row, "name")),
            esc(&s(row, "status").replace('_', " ")),
            size("a"),
            size("b"),
        );
    }
    b.push_str("</table>");
    let funcs = &d["functions"];
    let entries = funcs["entries"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    if !entries.is_empty() {
        const SHOWN: usize = 20;
        let _ = write!(
            b,
            "<p>{} of {} functions differ{}:</p><ul>",
            entries.len(),
            funcs["count_a"].as_u64().unwrap_or(0),
            if entries.len() > SHOWN {
                format!(" (the first {SHOWN} shown)")
            } else {
                String::new()
            }
        );
        let name = |f: &Value| -> String {
            if f.is_null() {
                return "—".to_owned();
            }
            let idx = f["index"].as_u64().unwrap_or(0);
            match f["name"].as_str() {
                Some(n) => format!("#{idx} {n}"),
                None => format!("#{idx}"),
            }
        };
        for e in entries.iter().take(SHOWN) {
            let _ = write!(
                b,
                "<li><code>{}</code> ↔ <code>{}</code>: {}",
                esc(&name(&e["a"])),
                esc(&name(&e["b"])),
                esc(&s(e, "class").replace('_', " ")),
            );
            if let Some(w) = e.get("wat_diff").and_then(Value::as_str) {
                let _ = write!(b, "<pre>{}</pre>", esc(w));
            }
            b.push_str("</li>");
        }
        b.push_str("</ul>");
    }
    let _ = write!(
        b,
        "<details><summary>The whole diff (JSON)</summary><pre>{}</pre></details></details>",
        esc(&serde_json::to_string_pretty(d).unwrap_or_default())
    );
}

async fn source_page(
    State(state): State<Arc<AppState>>,
    Path((id, path)): Path<(String, String)>,
) -> Response {
    let r: Result<Response, ApiError> = async {
        let job = load(&state, &id).await?;
        let a = state
            .store
            .blob(&job.archive_sha256)
            .await?
            .ok_or_else(|| {
                ApiError::new(StatusCode::NOT_FOUND, "NotFound", "the archive is gone")
            })?;
        let data = archive::read(&a, &path, &archive::Limits::default())
            .map_err(|e| {
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal", e.to_string())
            })?
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::NOT_FOUND,
                    "NotFound",
                    format!("no file `{path}` in the source"),
                )
            })?;
        let body = match std::str::from_utf8(&data) {
            Ok(text) => format!(
                "<p><a href=\"/jobs/{}\">Back to verification #{}</a></p><pre>{}</pre>",
                job.id,
                job.id,
                esc(text)
            ),
            Err(_) => format!(
                "<p><a href=\"/jobs/{}\">Back</a></p><p>Binary file, {} bytes.</p>",
                job.id,
                data.len()
            ),
        };
        Ok((
            [(header::CACHE_CONTROL, "public, max-age=3600")],
            page(&path, false, &body),
        )
            .into_response())
    }
    .await;
    r.unwrap_or_else(error_page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            esc("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(url_path("src/a b#.rs"), "src/a%20b%23.rs");
    }
}
