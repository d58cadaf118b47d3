//! Node answers that do not parse, explained in terms of the answer: which field, where, and what
//! to do. casper-types' and serde's own messages name Rust types (`TransactionJson::V1`,
//! `FailedToMap(…)`) and repeat themselves; users see neither.

use serde_json::Value;

/// The transaction (or deploy) JSON of an `info_get_transaction` / `info_get_deploy` result,
/// checked for layouts and field contents casper-types would reject with an unhelpful message.
/// `at` is the JSON path of `value` in the answer (e.g. `transaction`).
pub(super) fn transaction_layout(at: &str, value: &Value) -> Option<String> {
    if let Some(v1) = value.get("Version1")
        && v1.get("payload").is_none()
        && v1.get("header").is_some()
        && v1.get("body").is_some()
    {
        return Some(format!(
            "`{at}.Version1` has the `header`/`body` layout of the 2.0 pre-releases (2024 dev-nets and nctl), not the `payload` layout of the 2.0 release that mainnet runs; casper-repro reads only the released layout: fetch the transaction from a node running 2.0.0 or later"
        ));
    }
    bad_hex(at, value)
}

/// The first string under a key that holds hex bytes (`module_bytes`, `bytes`) that is not hex.
fn bad_hex(at: &str, value: &Value) -> Option<String> {
    match value {
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            let path = format!("{at}.{k}");
            match v {
                Value::String(s) if matches!(k.as_str(), "module_bytes" | "bytes") => {
                    hex_problem(&path, s)
                }
                _ => bad_hex(&path, v),
            }
        }),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| bad_hex(&format!("{at}[{i}]"), v)),
        _ => None,
    }
}

fn hex_problem(path: &str, s: &str) -> Option<String> {
    if let Some((offset, c)) = s.char_indices().find(|(_, c)| !c.is_ascii_hexdigit()) {
        let shortened = s.starts_with('[') && s.ends_with(" hex chars]");
        let hint = if shortened {
            ": this is the shortened form casper-client prints (`[N hex chars]`), not the node's answer; save the node's own JSON-RPC answer (e.g. with `casper-repro fetch`)"
        } else {
            ": the answer was altered or truncated on its way; fetch it from the node again"
        };
        return Some(format!(
            "`{path}` is not hex: character {c:?} at offset {offset} of {}{hint}",
            s.len()
        ));
    }
    if s.len() % 2 == 1 {
        return Some(format!(
            "`{path}` has an odd number of hex digits ({}): the bytes are truncated; fetch the answer from the node again",
            s.len()
        ));
    }
    None
}

/// After a parse failure: the innermost message of casper-types' and serde's error text, without
/// Rust type names and repetition, turned into a sentence about the answer (`value`, at `at`).
pub(super) fn parse_failure(at: &str, value: &Value, message: &str) -> String {
    let inner = plain(message);
    if let Some(field) = between(&inner, "unknown field `", "`") {
        let place = find_key(at, value, field).unwrap_or_else(|| at.to_owned());
        let layout = if value.get("Version1").is_some() {
            "the TransactionV1 layout of the 2.0 release has no such field: the answer comes from a pre-release node (a 2.0 release candidate), whose layout mainnet never ran; fetch it from a node running 2.0.0 or later"
        } else {
            "the node's released API has no such field: the answer comes from a node version casper-repro does not read, or was edited"
        };
        return format!("`{place}` has the field `{field}`: {layout}");
    }
    if let Some(field) = between(&inner, "missing field `", "`") {
        return format!(
            "`{at}` lacks the field `{field}` that the node's released API always sends: the answer is from an unreleased node layout, or was cut short"
        );
    }
    format!("`{at}` does not parse: {inner}")
}

/// The text between `start` and the next `end`.
fn between<'a>(s: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let rest = s.split_once(start)?.1;
    Some(rest.split_once(end)?.0)
}

/// The JSON path of the first object key `key` under `value`.
fn find_key(at: &str, value: &Value, key: &str) -> Option<String> {
    match value {
        Value::Object(map) => {
            if map.contains_key(key) {
                return Some(at.to_owned());
            }
            map.iter()
                .find_map(|(k, v)| find_key(&format!("{at}.{k}"), v, key))
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| find_key(&format!("{at}[{i}]"), v, key)),
        _ => None,
    }
}

/// The innermost readable message of an error text: casper-types' `FailedToMap("… err: …")`
/// chains and serde_json's `Error("…", line: 0, column: 0)` wrappers removed, escaped quotes
/// restored, and Rust paths (`Transaction::V1`, `casper_types::…`) replaced by plain words.
pub(crate) fn plain(message: &str) -> String {
    let mut m = message.trim().to_owned();
    // The last `err: ` holds the innermost cause of a casper-types mapping chain.
    let mut wrapped = false;
    if let Some((_, inner)) = m.rsplit_once("err: ") {
        m = inner.to_owned();
        wrapped = true;
    }
    for wrapper in ["FailedToMap(", "Error("] {
        while let Some(rest) = m.strip_prefix(wrapper) {
            m = rest.to_owned();
            wrapped = true;
        }
    }
    if let Some(i) = m.find("\", line: ") {
        m.truncate(i);
    }
    let m = if wrapped {
        m.trim_start_matches(['"', '\\'])
            .trim_end_matches([')', '"', '\\'])
            .to_owned()
    } else {
        m
    };
    strip_rust_paths(&m.replace("\\\"", "\"").replace("\\'", "'"))
}

/// `Foo::Bar` → `Bar`, `a::b::C` → `C`: readers know the JSON, not the Rust types behind it.
fn strip_rust_paths(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, word) in s.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let is_path = word.contains("::")
            && word
                .trim_matches(|c: char| !c.is_alphanumeric())
                .split("::")
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_alphanumeric() || c == '_'));
        match (is_path, word.rsplit_once("::")) {
            (true, Some((_, last))) => out.push_str(last),
            _ => out.push_str(word),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_unwraps_casper_types_chains() {
        let m = r#"FailedToMap("Failed to map TransactionJson::V1 to Transaction::V1, err: Failed to map TransactionJson::V1 to Transaction::V1, err: Error(\"unknown field `transferred_value`, expected `id` or `runtime`\", line: 0, column: 0)")"#;
        assert_eq!(
            plain(m),
            "unknown field `transferred_value`, expected `id` or `runtime`"
        );
        assert_eq!(plain("missing field `payload`"), "missing field `payload`");
        assert_eq!(
            plain("a sentence (with a remark)"),
            "a sentence (with a remark)"
        );
        assert_eq!(
            plain("invalid value for casper_types::Key: x"),
            "invalid value for Key: x"
        );
    }

    #[test]
    fn hex_problems_name_field_and_offset() {
        let v: Value =
            serde_json::json!({"Deploy": {"session": {"ModuleBytes": {"module_bytes": "0061zz"}}}});
        assert_eq!(
            bad_hex("transaction", &v).unwrap(),
            "`transaction.Deploy.session.ModuleBytes.module_bytes` is not hex: character 'z' at offset 4 of 6: the answer was altered or truncated on its way; fetch it from the node again"
        );
        let odd: Value = serde_json::json!({"module_bytes": "006"});
        assert!(
            bad_hex("deploy", &odd)
                .unwrap()
                .contains("odd number of hex digits (3)")
        );
        let fine: Value = serde_json::json!({"module_bytes": "0061736d", "args": []});
        assert_eq!(bad_hex("deploy", &fine), None);
    }
}
