//! The native API's OpenAPI 3.1 document (`api/openapi.json`, served at `/openapi.json`). A test
//! holds it to the router: every route is documented, and every documented path is routed.

/// The document.
pub const DOCUMENT: &str = include_str!("../api/openapi.json");

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    /// Every `.route("PATH", …)` of the router's sources, with `{*rest}` written `{rest}`.
    fn routed() -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for src in [include_str!("server.rs"), include_str!("pages.rs")] {
            for part in src.split(".route(").skip(1) {
                let Some(part) = part.trim_start().strip_prefix('"') else {
                    continue;
                };
                let path = part.split('"').next().unwrap();
                out.insert(path.replace("{*", "{"));
            }
        }
        out
    }

    #[test]
    fn the_document_describes_exactly_the_routes() {
        let doc: serde_json::Value = serde_json::from_str(super::DOCUMENT).unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        let documented: BTreeSet<String> =
            doc["paths"].as_object().unwrap().keys().cloned().collect();
        let routed = routed();
        assert!(routed.len() > 15, "{routed:?}");
        assert_eq!(documented, routed);
    }
}
