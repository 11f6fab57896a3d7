//! The committed spec (openapi/openapi.json) is what the code generates; every
//! `$ref` resolves; every operation documents its success and error bodies;
//! every operation that takes a token says so.
//!
//! After changing a route or DTO: `MALLKIT_UPDATE_OPENAPI=1 cargo test -p mallkit-http --test openapi`.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::PathBuf;

use serde_json::Value;

fn committed() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../openapi/openapi.json")
}

#[test]
fn committed_spec_matches_the_code() {
    let generated = mallkit_http::openapi().to_pretty_json().unwrap() + "\n";
    if std::env::var_os("MALLKIT_UPDATE_OPENAPI").is_some() {
        std::fs::write(committed(), &generated).unwrap();
    }
    let on_disk = std::fs::read_to_string(committed()).unwrap_or_default();
    assert!(
        on_disk == generated,
        "openapi/openapi.json differs from the generated spec; regenerate it with \
         MALLKIT_UPDATE_OPENAPI=1 cargo test -p mallkit-http --test openapi"
    );
}

fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                out.push(r);
            }
            map.values().for_each(|v| refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[test]
fn every_operation_is_fully_described() {
    let spec: Value = serde_json::from_str(&mallkit_http::openapi().to_json().unwrap()).unwrap();
    let schemas = spec["components"]["schemas"].as_object().unwrap();
    let mut all = Vec::new();
    refs(&spec, &mut all);
    for r in all {
        let name = r.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("unexpected ref {r}"));
        assert!(schemas.contains_key(name), "dangling $ref {r}");
    }
    let public = [
        "/health",
        "/ready",
        "/api/v1/categories",
        "/api/v1/products",
        "/api/v1/products/{id}",
        "/api/v1/payments/callback/simulated",
    ];
    let mut operations = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            operations += 1;
            let responses = op["responses"].as_object().unwrap();
            assert!(
                responses["200"]["content"]["application/json"]["schema"].is_object(),
                "{method} {path}: no 200 body"
            );
            if path != "/health" && path != "/api/v1/categories" {
                assert!(
                    responses.keys().any(|k| k.starts_with('4') || k.starts_with('5')),
                    "{method} {path}: no error response"
                );
            }
            let secured = op.get("security").is_some();
            let needs_token =
                !public.contains(&path.as_str()) && !path.starts_with("/api/v1/auth/") || path == "/api/v1/auth/logout";
            assert_eq!(secured, needs_token, "{method} {path}: security");
        }
    }
    assert!(operations >= 60, "{operations} operations");
    assert!(spec["components"]["securitySchemes"]["bearer"].is_object());
}
