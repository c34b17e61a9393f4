//! Console sessions stored in the database: a tower-sessions store over `Db` (reads on the
//! read pool, writes through the single SQLite writer), records kept as JSON.

use crate::db::{self, Db};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};

#[derive(Debug, Clone)]
pub struct DbSessionStore {
    db: Db,
}

impl DbSessionStore {
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

fn backend(e: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

fn to_chrono(t: time::OffsetDateTime) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(t.unix_timestamp(), t.nanosecond())
        .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC)
}

fn to_time(t: chrono::DateTime<chrono::Utc>) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(t.timestamp())
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

fn encode(record: &Record) -> session_store::Result<String> {
    serde_json::to_string(&record.data).map_err(|e| session_store::Error::Encode(e.to_string()))
}

#[async_trait::async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let data = encode(record)?;
        // 128 random bits collide practically never; still, never overwrite someone's session.
        while !db::session::insert_session(
            &self.db,
            &record.id.to_string(),
            &data,
            to_chrono(record.expiry_date),
        )
        .await
        .map_err(backend)?
        {
            record.id = Id::default();
        }
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        db::session::save_session(
            &self.db,
            &record.id.to_string(),
            &encode(record)?,
            to_chrono(record.expiry_date),
        )
        .await
        .map_err(backend)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let Some((data, expires_at)) = db::session::load_session(&self.db, &id.to_string())
            .await
            .map_err(backend)?
        else {
            return Ok(None);
        };
        if expires_at <= chrono::Utc::now() {
            return Ok(None);
        }
        let data =
            serde_json::from_str(&data).map_err(|e| session_store::Error::Decode(e.to_string()))?;
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date: to_time(expires_at),
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        db::session::delete_session(&self.db, &id.to_string())
            .await
            .map_err(backend)
    }
}

#[async_trait::async_trait]
impl ExpiredDeletion for DbSessionStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        db::session::delete_expired_sessions(&self.db)
            .await
            .map(|_| ())
            .map_err(backend)
    }
}
