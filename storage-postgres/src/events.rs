//! The domain event log (migration 0012): a batch's `Write::AppendEvent`s
//! go in with one statement at the end of its transaction, read in write order.

use async_trait::async_trait;
use mallkit_core::event::{Aggregate, DomainEvent};
use mallkit_core::page::{Page, PageRequest};
use mallkit_core::storage::{EventStore, StoreError, Write};
use sqlx::postgres::PgRow;

use crate::PgStore;
use crate::codec::{actor_of, actor_parts, backend, from_json, get, i64_of, id_of, json, name, parse};
use crate::writes::{Stop, Tx};

/// Inserts every event of a batch in one statement, in batch order (so
/// `seq` follows it), after the batch's other writes.
pub(crate) async fn append_all(tx: &mut Tx, writes: &[Write]) -> Result<(), Stop> {
    let events: Vec<&DomainEvent> =
        writes.iter().filter_map(|w| if let Write::AppendEvent(e) = w { Some(e) } else { None }).collect();
    append(tx, &events).await
}

/// Inserts `events` in one statement, in order, inside `tx` (a batch's, or
/// an identity write's).
pub(crate) async fn append(tx: &mut Tx, events: &[&DomainEvent]) -> Result<(), Stop> {
    if events.is_empty() {
        return Ok(());
    }
    let n = events.len();
    let (mut ids, mut ats, mut actor_types, mut actor_ids) =
        (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
    let (mut aggregates, mut aggregate_ids, mut kinds, mut payloads) =
        (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
    for e in events {
        let (actor_type, actor_id) = actor_parts(e.actor);
        let payload = json(&e.event)?;
        ids.push(i64_of(e.id));
        ats.push(e.at);
        actor_types.push(actor_type);
        actor_ids.push(actor_id);
        aggregates.push(name(&e.aggregate)?);
        aggregate_ids.push(i64_of(e.aggregate_id));
        kinds.push(payload.get("type").and_then(|t| t.as_str()).unwrap_or_default().to_owned());
        payloads.push(payload.to_string());
    }
    sqlx::query(
        "INSERT INTO domain_events (id, at, actor_type, actor_id, aggregate, aggregate_id, kind, payload)
         SELECT e.id, e.at, e.actor_type, e.actor_id, e.aggregate, e.aggregate_id, e.kind, e.payload::JSONB
         FROM UNNEST($1::BIGINT[], $2::TIMESTAMPTZ[], $3::TEXT[], $4::BIGINT[], $5::TEXT[], $6::BIGINT[],
                     $7::TEXT[], $8::TEXT[]) WITH ORDINALITY
              AS e (id, at, actor_type, actor_id, aggregate, aggregate_id, kind, payload, n)
         ORDER BY e.n",
    )
    .bind(ids)
    .bind(ats)
    .bind(actor_types)
    .bind(actor_ids)
    .bind(aggregates)
    .bind(aggregate_ids)
    .bind(kinds)
    .bind(payloads)
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
