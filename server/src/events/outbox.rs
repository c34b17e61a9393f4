//! What an outbox row becomes on the wire: the AMQP message properties and headers around the
//! JSON envelope that `payments/` wrote in the row (`payments::transitions`; schema
//! `docs/events/v1.schema.json`).

use crate::db::outbox::OutboxRow;
use lapin::BasicProperties;
use lapin::types::{AMQPValue, FieldTable};

/// The version of the event envelope (`schema_version` in every message).
pub const SCHEMA_VERSION: i64 = 1;

/// AMQP delivery mode 2: the broker writes the message to disk (a durable queue keeps it).
const PERSISTENT: u8 = 2;

/// Properties of the message for `row`: persistent JSON, `message_id` = the event id (consumers
/// drop duplicates by it), the time of the change, and the store and till as headers so that
/// consumers can filter without parsing the body.
pub fn properties(row: &OutboxRow) -> BasicProperties {
    let mut headers = FieldTable::default();
    headers.insert("store_id".into(), AMQPValue::LongLongInt(row.store_id));
    headers.insert(
        "till_id".into(),
        row.till_id.map_or(AMQPValue::Void, AMQPValue::LongLongInt),
    );
    headers.insert(
        "schema_version".into(),
        AMQPValue::LongLongInt(SCHEMA_VERSION),
    );
    BasicProperties::default()
        .with_content_type("application/json".into())
        .with_delivery_mode(PERSISTENT)
        .with_message_id(row.event_id.as_str().into())
        .with_timestamp(row.created_at.timestamp().max(0) as u64)
        .with_type(row.routing_key.as_str().into())
        .with_app_id("qrpay".into())
        .with_headers(headers)
}

/// A broker URL with its password hidden, for logs, `/readyz` and the CLI.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

/// Checks a broker URL's syntax (`amqp://` or `amqps://`), with a message that says what is wrong.
pub fn check_url(url: &str) -> Result<(), String> {
    let url = url.trim();
    if !(url.starts_with("amqp://") || url.starts_with("amqps://")) {
        return Err(format!(
            "a RabbitMQ URL starts with amqp:// or amqps:// (got {:?})",
            redact(url)
        ));
    }
    url.parse::<lapin::uri::AMQPUri>()
        .map(|_| ())
        .map_err(|e| format!("invalid RabbitMQ URL {}: {e}", redact(url)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hidden_in_broker_urls() {
        assert_eq!(
            redact("amqp://guest:secret@127.0.0.1:5672/%2f"),
            "amqp://guest:***@127.0.0.1:5672/%2f"
        );
        assert_eq!(redact("amqp://127.0.0.1"), "amqp://127.0.0.1");
    }

    #[test]
    fn only_amqp_urls_are_accepted() {
        assert!(check_url("amqp://guest:guest@127.0.0.1:5672/%2f").is_ok());
        assert!(check_url("amqps://broker.example:5671/shop").is_ok());
        assert!(check_url("http://127.0.0.1:5672").is_err());
        assert!(check_url("").is_err());
    }
}
