//! Tills and kiosks (`till`): their keys (stored hashed), where they show the QR, and the changes
//! an operator makes to them (each with its audit row).

use super::audit::{self, Change, Who};
use super::{ConfigError, Db, duplicate_or, in_tx, now, read, read_inline, write};
use crate::qr::outputs::TillOutputs;
use chrono::{DateTime, Utc};
use serde_json::json;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Till {
    pub till_id: i64,
    pub store_id: i64,
    pub store_code: String,
    pub name: String,
    pub kind: String,
    pub key_prefix: String,
    pub revoked_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub qr_outputs: String,
    pub paper_width: i64,
    pub escpos_native: bool,
    /// The payment type the till uses when it names none (else the store's default).
    pub default_payment_type_id: Option<i64>,
    pub default_payment_type: Option<String>,
    /// The language of the till's error messages (`ru`, `en`).
    pub language: String,
    /// When the till was last heard from (to the minute: see [`mark_seen`]).
    pub last_seen_at: Option<DateTime<Utc>>,
}

impl Till {
    pub fn outputs(&self) -> TillOutputs {
        TillOutputs::from_columns(&self.qr_outputs, self.paper_width, self.escpos_native)
    }
}

/// What a valid till key grants: this till, in this store.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TillIdentity {
    pub till_id: i64,
    pub store_id: i64,
    pub name: String,
    /// The language of the till's error messages unless a request asks for another.
    pub language: String,
    pub last_seen_at: Option<DateTime<Utc>>,
}

/// How stale «последний запрос» may get: a till's requests write it at most this often.
pub const SEEN_EVERY: chrono::TimeDelta = chrono::TimeDelta::seconds(60);

impl TillIdentity {
    /// True when this request should record that the till was seen (never, or a minute ago).
    pub fn seen_is_stale(&self, at: DateTime<Utc>) -> bool {
        self.last_seen_at.is_none_or(|seen| at - seen >= SEEN_EVERY)
    }
}

const TILL_COLUMNS: &str = "t.till_id, t.store_id, s.code as store_code, t.name, t.kind, \
     t.key_prefix, t.revoked_at, t.created_at, t.qr_outputs, t.paper_width, t.escpos_native, \
     t.default_payment_type_id, \
     (select pt.name from payment_type pt where pt.payment_type_id = t.default_payment_type_id) \
       as default_payment_type, t.language, t.last_seen_at";

/// Every store's tills; a static QR's own till row is not one (see `db::static_qr`).
pub async fn list_tills(db: &Db) -> Result<Vec<Till>, sqlx::Error> {
    let sql = format!(
        "select {TILL_COLUMNS} from till t join store s on s.store_id = t.store_id \
         where not exists (select 1 from static_qr q where q.till_id = t.till_id) \
         order by s.code, t.name"
    );
    read!(db, |c| sqlx::query_as(&sql).fetch_all(c).await)
}

/// The till named `name` in the store.
pub async fn till_by_name(db: &Db, store_id: i64, name: &str) -> Result<Till, ConfigError> {
    let sql = format!(
        "select {TILL_COLUMNS} from till t join store s on s.store_id = t.store_id \
         where t.store_id = $1 and t.name = $2"
    );
    let found: Option<Till> = read!(db, |c| sqlx::query_as(&sql)
        .bind(store_id)
        .bind(name)
        .fetch_optional(c)
        .await)?;
    found.ok_or_else(|| ConfigError::NotFound(format!("till {name:?}")))
}

/// The till whose key hashes to `key_hash`, unless revoked (every till API request asks).
pub async fn till_by_key_hash(
    db: &Db,
    key_hash: &str,
) -> Result<Option<TillIdentity>, sqlx::Error> {
    const SQL: &str = "select till_id, store_id, name, language, last_seen_at from till \
         where key_hash = $1 and revoked_at is null";
    read_inline!(db, |c| {
        use rusqlite::OptionalExtension;
        c.prepare_cached(SQL)?
            .query_row([key_hash], |row| {
                Ok(TillIdentity {
                    till_id: row.get(0)?,
                    store_id: row.get(1)?,
                    name: row.get(2)?,
                    language: row.get(3)?,
                    last_seen_at: super::inline::timestamp(row, 4)?,
                })
            })
            .optional()
    });
    read!(db, |c| sqlx::query_as(SQL)
        .bind(key_hash)
        .fetch_optional(c)
        .await)
}

/// Records that the till was seen at `at`, unless another request did within [`SEEN_EVERY`]
/// (a guarded update: concurrent requests write once). Not audited: it is no configuration.
pub async fn mark_seen(db: &Db, till_id: i64, at: DateTime<Utc>) -> Result<(), sqlx::Error> {
    let stale_before = at - SEEN_EVERY;
    write!(db, |c| sqlx::query(
        "update till set last_seen_at = $2 \
         where till_id = $1 and (last_seen_at is null or last_seen_at <= $3)"
    )
    .bind(till_id)
    .bind(at)
    .bind(stale_before)
    .execute(c)
    .await
    .map(|_| ()))
}

/// The name of the till `till_id`, if it exists (revoked tills keep theirs).
pub async fn till_name(db: &Db, till_id: i64) -> Result<Option<String>, sqlx::Error> {
    read!(db, |c| sqlx::query_scalar(
        "select name from till where till_id = $1"
    )
    .bind(till_id)
    .fetch_optional(c)
    .await)
}

/// The store's tills (id, name), by name.
pub async fn store_tills(db: &Db, store_id: i64) -> Result<Vec<(i64, String)>, sqlx::Error> {
    read!(db, |c| sqlx::query_as(
        "select till_id, name from till where store_id = $1 order by name, till_id"
    )
    .bind(store_id)
    .fetch_all(c)
    .await)
}

fn check_paper_width(outputs: &TillOutputs) -> Result<(), ConfigError> {
    if !crate::qr::escpos::WIDTHS.contains(&outputs.paper_width) {
        return Err(ConfigError::Invalid(
            "the paper width must be 384 (58 mm) or 576 (80 mm) dots".into(),
        ));
    }
    Ok(())
}

/// A new till, with its key already hashed.
pub struct NewTill<'a> {
    pub store_id: i64,
    pub name: &'a str,
    pub kind: &'a str,
    pub key_hash: &'a str,
    pub key_prefix: &'a str,
    pub outputs: TillOutputs,
}

fn till_json(name: &str, kind: &str, key_prefix: &str, outputs: &TillOutputs) -> serde_json::Value {
    json!({
        "name": name,
        "kind": kind,
        "key_prefix": key_prefix,
        "qr_outputs": outputs.list(),
        "paper_width": outputs.paper_width,
        "escpos_native": outputs.escpos_native,
    })
}

/// Adds a till (name, kind and paper width checked here) and its audit row.
pub async fn create_till(db: &Db, who: &Who<'_>, new: NewTill<'_>) -> Result<i64, ConfigError> {
    let name = new.name.trim();
    if name.is_empty() {
        return Err(ConfigError::Invalid(
            "the till name must not be empty".into(),
        ));
    }
    if !matches!(new.kind, "till" | "kiosk") {
        return Err(ConfigError::Invalid(
            "the kind must be till or kiosk".into(),
        ));
    }
    check_paper_width(&new.outputs)?;
    let at = now();
    let list = new.outputs.list();
    let mut tx = db.begin().await?;
    let id: i64 = in_tx!(&mut tx, |c| {
        sqlx::query_scalar(
        "insert into till (store_id, name, kind, key_hash, key_prefix, qr_outputs, paper_width, \
         escpos_native, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) \
         returning till_id"
    )
    .bind(new.store_id)
    .bind(name)
    .bind(new.kind)
    .bind(new.key_hash)
    .bind(new.key_prefix)
    .bind(&list)
    .bind(i64::from(new.outputs.paper_width))
    .bind(new.outputs.escpos_native)
    .bind(at)
    .fetch_one(&mut *c)
    .await
    })
    .map_err(|e| duplicate_or(e, format!("till {name:?}")))?;
    audit::record(
        &mut tx,
        who,
        Change {
            store_id: Some(new.store_id),
            action: "create",
            entity: "till",
            entity_id: id.to_string(),
            before: None,
            after: Some(till_json(name, new.kind, new.key_prefix, &new.outputs)),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Revokes a till's key by id; `false` when it was already revoked.
pub async fn revoke_till(
    db: &Db,
    who: &Who<'_>,
    store_id: i64,
    till_id: i64,
) -> Result<bool, ConfigError> {
    let at = now();
    let mut tx = db.begin().await?;
    let name: Option<String> = in_tx!(&mut tx, |c| sqlx::query_scalar(
        "select name from till where store_id = $1 and till_id = $2"
    )
    .bind(store_id)
    .bind(till_id)
    .fetch_optional(&mut *c)
    .await)?;
    let Some(name) = name else {
        return Err(ConfigError::NotFound(format!("till {till_id}")));
    };
    let changed = in_tx!(&mut tx, |c| sqlx::query(
        "update till set revoked_at = $3, updated_at = $3 \
         where store_id = $1 and till_id = $2 and revoked_at is null"
    )
    .bind(store_id)
    .bind(till_id)
    .bind(at)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    if changed == 0 {
        return Ok(false);
    }
    audit::record(
        &mut tx,
        who,
        Change {
            store_id: Some(store_id),
            action: "revoke",
            entity: "till",
            entity_id: till_id.to_string(),
            before: Some(json!({ "name": name, "revoked": false })),
            after: Some(json!({ "name": name, "revoked": true })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// What an operator changes of a till; `None` keeps what it is.
#[derive(Debug, Default)]
pub struct TillEdit<'a> {
    pub name: Option<&'a str>,
    pub kind: Option<&'a str>,
    pub language: Option<&'a str>,
    pub outputs: Option<TillOutputs>,
}

/// Changes where a till shows its QR and how it prints it, with the audit row.
pub async fn set_till_outputs(
    db: &Db,
    who: &Who<'_>,
    store_id: i64,
    till_id: i64,
    outputs: &TillOutputs,
) -> Result<(), ConfigError> {
    let edit = TillEdit {
        outputs: Some(*outputs),
        ..Default::default()
    };
    update_till(db, who, store_id, till_id, &edit).await
}

/// Renames a till, changes its kind, its messages' language or its QR outputs (checked here),
/// with the audit row of what it was and what it is.
pub async fn update_till(
    db: &Db,
    who: &Who<'_>,
    store_id: i64,
    till_id: i64,
    edit: &TillEdit<'_>,
) -> Result<(), ConfigError> {
    if let Some(outputs) = &edit.outputs {
        check_paper_width(outputs)?;
    }
    let new_name = edit.name.map(str::trim);
    if new_name.is_some_and(str::is_empty) {
        return Err(ConfigError::Invalid(
            "the till name must not be empty".into(),
        ));
    }
    if edit.kind.is_some_and(|k| !matches!(k, "till" | "kiosk")) {
        return Err(ConfigError::Invalid(
            "the kind must be till or kiosk".into(),
        ));
    }
    if edit.language.is_some_and(|l| !matches!(l, "ru" | "en")) {
        return Err(ConfigError::Invalid("the language must be ru or en".into()));
    }
    let at = now();
    let mut tx = db.begin().await?;
    type Row = (String, String, String, String, i64, bool);
    let before: Option<Row> = in_tx!(&mut tx, |c| sqlx::query_as(
        "select name, kind, language, qr_outputs, paper_width, escpos_native from till \
         where store_id = $1 and till_id = $2"
    )
    .bind(store_id)
    .bind(till_id)
    .fetch_optional(&mut *c)
    .await)?;
    let Some((name, kind, language, list, width, native)) = before else {
        return Err(ConfigError::NotFound(format!("till {till_id}")));
    };
    let old = TillOutputs::from_columns(&list, width, native);
    let outputs = edit.outputs.unwrap_or(old);
    let (to_name, to_kind, to_language) = (
        new_name.unwrap_or(&name),
        edit.kind.unwrap_or(&kind),
        edit.language.unwrap_or(&language),
    );
    in_tx!(&mut tx, |c| sqlx::query(
        "update till set name = $3, kind = $4, language = $5, qr_outputs = $6, paper_width = $7, \
         escpos_native = $8, updated_at = $9 where store_id = $1 and till_id = $2"
    )
    .bind(store_id)
    .bind(till_id)
    .bind(to_name)
    .bind(to_kind)
    .bind(to_language)
    .bind(outputs.list())
    .bind(i64::from(outputs.paper_width))
    .bind(outputs.escpos_native)
    .bind(at)
    .execute(&mut *c)
    .await
    .map(|_| ()))
    .map_err(|e| duplicate_or(e, format!("till {to_name:?}")))?;
    let state = |name: &str, kind: &str, language: &str, o: &TillOutputs| {
        json!({ "name": name, "kind": kind, "language": language, "qr_outputs": o.list(),
                "paper_width": o.paper_width, "escpos_native": o.escpos_native })
    };
    audit::record(
        &mut tx,
        who,
        Change {
            store_id: Some(store_id),
            action: "update",
            entity: "till",
            entity_id: till_id.to_string(),
            before: Some(state(&name, &kind, &language, &old)),
            after: Some(state(to_name, to_kind, to_language, &outputs)),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
