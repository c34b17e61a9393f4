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
