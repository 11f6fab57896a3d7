//! The domain event log (migration 0012): appended by
//! `Write::AppendEvent` in the batch's transaction, read in write order.

use async_trait::async_trait;
use mallkit_core::event::{Aggregate, DomainEvent};
use mallkit_core::page::{Page, PageRequest};
use mallkit_core::storage::{EventStore, StoreError};
use sqlx::postgres::PgRow;

use crate::PgStore;
use crate::codec::{actor_of, actor_parts, backend, from_json, get, i64_of, id_of, json, name, parse};
use crate::writes::{Stop, Tx};

/// Inserts one event.
pub(crate) async fn append(tx: &mut Tx, e: &DomainEvent) -> Result<(), Stop> {
    let (actor_type, actor_id) = actor_parts(e.actor);
    let payload = json(&e.event)?;
    let kind = payload.get("type").and_then(|t| t.as_str()).unwrap_or_default().to_owned();
    sqlx::query(
        "INSERT INTO domain_events (id, at, actor_type, actor_id, aggregate, aggregate_id, kind, payload)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(i64_of(e.id))
    .bind(e.at)
    .bind(actor_type)
    .bind(actor_id)
    .bind(name(&e.aggregate)?)
    .bind(i64_of(e.aggregate_id))
    .bind(kind)
    .bind(payload)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn event(r: &PgRow) -> Result<DomainEvent, StoreError> {
    Ok(DomainEvent {
        id: id_of(get(r, "id")?),
        at: get(r, "at")?,
        actor: actor_of(&get::<String>(r, "actor_type")?, get(r, "actor_id")?)?,
        aggregate: parse(get(r, "aggregate")?)?,
        aggregate_id: id_of(get(r, "aggregate_id")?),
        event: from_json(get(r, "payload")?)?,
    })
}

#[async_trait]
impl EventStore for PgStore {
    async fn events(
        &self,
        aggregate: Option<(Aggregate, u64)>,
        page: PageRequest,
    ) -> Result<Page<DomainEvent>, StoreError> {
        let (limit, offset) =
            (i64::try_from(page.fetch()).map_err(backend)?, i64::try_from(page.offset()).map_err(backend)?);
        let cap = i64::try_from(mallkit_core::page::COUNT_CAP + 1).map_err(backend)?;
        let (kind, id) = match aggregate {
            Some((a, id)) => (Some(name(&a)?), Some(i64_of(id))),
            None => (None, None),
        };
        let filter = "($1::TEXT IS NULL OR (aggregate = $1 AND aggregate_id = $2))";
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT * FROM domain_events WHERE {filter} ORDER BY seq LIMIT $3 OFFSET $4"
        )))
        .bind(&kind)
        .bind(id)
        .bind(limit)
        .bind(offset)
        .fetch_all(self.pool())
        .await
        .map_err(backend)?;
        let counted: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT count(*) FROM (SELECT 1 FROM domain_events WHERE {filter} LIMIT $3) t"
        )))
        .bind(&kind)
        .bind(id)
        .bind(cap)
        .fetch_one(self.pool())
        .await
        .map_err(backend)?;
        let items = rows.iter().map(event).collect::<Result<Vec<_>, _>>()?;
        Ok(page.page_of(items, u64::try_from(counted).map_err(backend)?))
    }
}
