//! The event envelope (the outbox rows' payloads) against its JSON Schema,
//! `docs/events/v1.schema.json`.

use crate::helpers::TestApp;
use qrpay::db::outbox;
use serde_json::{Value, json};
use std::collections::HashSet;

crate::both_backends!(outbox_payloads_match_the_published_json_schema);

fn schema() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/events/v1.schema.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The subset of JSON Schema that `docs/events/v1.schema.json` uses: type, const, enum, required,
/// properties, additionalProperties: false, minimum, minLength, oneOf, local $ref, date-time.
fn validate(root: &Value, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.strip_prefix("#/$defs/").expect("local refs only");
        return validate(root, &root["$defs"][name], value, at, errors);
    }
    let type_ok = |t: &str| match t {
        "object" => value.is_object(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        "array" => value.is_array(),
        other => panic!("type {other} not handled"),
    };
    match &schema["type"] {
        Value::String(t) if !type_ok(t) => return errors.push(format!("{at}: not a {t}: {value}")),
        Value::Array(ts) if !ts.iter().any(|t| type_ok(t.as_str().unwrap())) => {
            return errors.push(format!("{at}: none of {ts:?}: {value}"));
        }
        _ => {}
    }
    if let Some(c) = schema.get("const")
        && c != value
    {
        errors.push(format!("{at}: {value} is not {c}"));
    }
    if let Some(options) = schema["enum"].as_array()
        && !options.contains(value)
    {
        errors.push(format!("{at}: {value} is not one of {options:?}"));
    }
    if let (Some(min), Some(v)) = (schema["minimum"].as_i64(), value.as_i64())
        && v < min
    {
        errors.push(format!("{at}: {v} < {min}"));
    }
    if let (Some(min), Some(s)) = (schema["minLength"].as_u64(), value.as_str())
        && (s.chars().count() as u64) < min
    {
        errors.push(format!("{at}: shorter than {min}"));
    }
    if schema["format"] == "date-time"
        && let Some(s) = value.as_str()
        && chrono::DateTime::parse_from_rfc3339(s).is_err()
    {
        errors.push(format!("{at}: {s:?} is not an RFC 3339 date-time"));
    }
    if let Some(obj) = value.as_object() {
        for req in schema["required"].as_array().into_iter().flatten() {
            if !obj.contains_key(req.as_str().unwrap()) {
                errors.push(format!("{at}: {req} is missing"));
            }
        }
        let props = schema["properties"].as_object();
        for (k, v) in obj {
            match props.and_then(|p| p.get(k)) {
                Some(s) => validate(root, s, v, &format!("{at}.{k}"), errors),
                None if schema["additionalProperties"] == false => {
                    errors.push(format!("{at}: unexpected field {k}"));
                }
                None => {}
            }
        }
    }
    if let Some(options) = schema["oneOf"].as_array() {
        let matching = options
            .iter()
            .filter(|o| {
                let mut e = Vec::new();
                validate(root, o, value, at, &mut e);
                e.is_empty()
            })
            .count();
        if matching != 1 {
            errors.push(format!(
                "{at}: matches {matching} of the oneOf branches, not one"
            ));
        }
    }
}

fn schema_errors(value: &Value) -> Vec<String> {
    let root = schema();
    let mut errors = Vec::new();
    validate(&root, &root, value, "$", &mut errors);
    errors
}

async fn outbox_payloads_match_the_published_json_schema(app: TestApp) {
    let p = app.create_payment(500).await;
    app.cancel(p["id"].as_str().unwrap()).await;
    let paid = app.paid_payment(1000).await;
    app.refund(&paid, json!({"amount": 300, "reason": "возврат"}))
        .await;
    let d = app.create_payment(700).await;
    app.decline(d["id"].as_str().unwrap()).await;
    let payloads = outbox::payloads(&app.db).await.unwrap();
    assert_eq!(payloads.len(), 8);
    let mut types = HashSet::new();
    for payload in &payloads {
        let value: Value = serde_json::from_str(payload).unwrap();
        assert_eq!(schema_errors(&value), Vec::<String>::new(), "{value}");
        types.insert(value["type"].as_str().unwrap().to_owned());
    }
    assert!(types.contains("refund.completed") && types.contains("payment.declined"));

    // The check can fail: broken envelopes are caught.
    let good: Value = serde_json::from_str(&payloads[3]).unwrap();
    let mut no_id = good.clone();
    no_id.as_object_mut().unwrap().remove("event_id");
    let mut string_amount = good.clone();
    string_amount["payment"]["amount"] = json!("1000");
    let mut both = good.clone();
    both["refund"] = json!({});
    let mut bad_time = good.clone();
    bad_time["occurred_at"] = json!("yesterday");
    for broken in [no_id, string_amount, both, bad_time] {
        assert!(!schema_errors(&broken).is_empty(), "{broken}");
    }
}
