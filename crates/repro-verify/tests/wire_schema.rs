//! The JSON documents' contract: the JSON Schema of every document kind, generated from the wire
//! types, is committed under `docs/schema/`. A wire type that changes without a `schema_version`
//! bump fails here; so does a bump without the regenerated schema.
//!
//! After an intended change: bump `wire::SCHEMA_VERSION`, then
//! `UPDATE_WIRE_SCHEMAS=1 cargo test -p repro-verify --test wire_schema`.

use std::path::{Path, PathBuf};

use repro_verify::wire::{SCHEMA_VERSION, schemas};
use serde_json::{Value, json};

/// The schema without its prose (descriptions come from doc comments; they document the shape but
/// are not part of it).
fn shape(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| !matches!(k.as_str(), "description" | "title"))
                .map(|(k, v)| (k.clone(), shape(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(shape).collect()),
        other => other.clone(),
    }
}

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/schema")
}

#[test]
fn committed_schemas_match_the_wire_types_and_their_schema_version() {
    let update = std::env::var_os("UPDATE_WIRE_SCHEMAS").is_some();
    let mut problems = Vec::new();
    for (kind, schema) in schemas() {
        let path = dir().join(format!("{kind}.schema.json"));
        let generated = json!({"schema_version": SCHEMA_VERSION, "schema": schema});
        let committed: Option<Value> = std::fs::read_to_string(&path).ok().map(|t| {
            serde_json::from_str(&t).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        });
        let (same_schema, committed_version) = match &committed {
            Some(c) => (
                shape(&c["schema"]) == shape(&generated["schema"]),
                c["schema_version"].as_u64(),
            ),
            None => (false, None),
        };
        if update {
            if !same_schema && committed_version.is_some_and(|v| v >= u64::from(SCHEMA_VERSION)) {
                problems.push(format!(
                    "{kind}: the document changed but schema_version is still {SCHEMA_VERSION}: bump wire::SCHEMA_VERSION first"
                ));
                continue;
            }
            std::fs::create_dir_all(dir()).unwrap();
            let mut text = serde_json::to_string_pretty(&generated).unwrap();
            text.push('\n');
            std::fs::write(&path, text).unwrap();
            continue;
        }
        match committed_version {
            None => problems.push(format!(
                "{kind}: {} is missing: run with UPDATE_WIRE_SCHEMAS=1",
                path.display()
            )),
            Some(_) if !same_schema => problems.push(format!(
                "{kind}: the document's shape changed (wire types) without a schema_version bump: bump wire::SCHEMA_VERSION (now {SCHEMA_VERSION}) and regenerate with UPDATE_WIRE_SCHEMAS=1"
            )),
            Some(v) if v != u64::from(SCHEMA_VERSION) => problems.push(format!(
                "{kind}: schema_version is {SCHEMA_VERSION} but {} was made for {v}: regenerate with UPDATE_WIRE_SCHEMAS=1",
                path.display()
            )),
            Some(_) => {}
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The check is not vacuous: a document whose shape differs is told apart.
#[test]
fn a_changed_shape_is_detected() {
    let (_, verify) = schemas().into_iter().next().unwrap();
    let original = serde_json::to_value(&verify).unwrap();
    let mut renamed = original.clone();
    renamed["properties"]["verdict_renamed"] = renamed["properties"]["verdict"].take();
    assert_ne!(shape(&renamed), shape(&original));
    let mut reworded = original.clone();
    reworded["properties"]["summary"]["description"] = "other words".into();
    assert_eq!(shape(&reworded), shape(&original), "prose is not shape");
}
