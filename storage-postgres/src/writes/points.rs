//! Points writes: tiers and ledger rows on a locked account.

use mallkit_core::money::Rate;
use mallkit_core::points::LedgerEntry;
use mallkit_core::storage::{GuardFailure, PointsWrite};

use super::{Stop, Tx, already, unique_violation};
use crate::codec::{account, i32_of, i64_of, name};

/// Applies one points write.
pub(super) async fn apply(tx: &mut Tx, write: &PointsWrite) -> Result<(), Stop> {
    match write {
        PointsWrite::PutTier(t) => {
            sqlx::query(
                "INSERT INTO tiers (level, name, min_points, points_multiplier, free_shipping, member_discount,
                     benefits)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (level) DO UPDATE SET name = $2, min_points = $3, points_multiplier = $4,
                     free_shipping = $5, member_discount = $6, benefits = $7",
            )
            .bind(i32_of(t.level)?)
            .bind(&t.name)
            .bind(t.min_points)
            .bind(t.points_multiplier.to_decimal())
            .bind(t.free_shipping)
            .bind(t.member_discount.map(Rate::to_decimal))
            .bind(&t.benefits)
            .execute(&mut **tx)
            .await?;
        }
        PointsWrite::Post(entry) => points(tx, entry.clone()).await?,
    }
    Ok(())
}

/// Locks the account (created empty when missing), refuses a source already
/// in the ledger, moves the account with core's `PointsAccount::apply` (the
/// same guards as the memory store), then writes the ledger row and the
/// account in one statement. The ledger's unique source key backs the check.
async fn points(tx: &mut Tx, mut entry: LedgerEntry) -> Result<(), Stop> {
    const LOCK: &str =
        "SELECT user_id, balance, frozen, total_earned, total_spent FROM points_accounts WHERE user_id = $1 FOR UPDATE";
    let user = i64_of(entry.user.0);
    let row = match sqlx::query(LOCK).bind(user).fetch_optional(&mut **tx).await? {
        Some(row) => row,
        None => {
            sqlx::query(
                "INSERT INTO points_accounts (user_id, balance, frozen, total_earned, total_spent)
                 VALUES ($1, 0, 0, 0, 0) ON CONFLICT (user_id) DO NOTHING",
            )
            .bind(user)
            .execute(&mut **tx)
            .await?;
            sqlx::query(LOCK).bind(user).fetch_one(&mut **tx).await?
        }
    };
    let (source, action) = (name(&entry.source)?, name(&entry.action)?);
    let applied: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM points_ledger WHERE user_id = $1 AND source = $2 AND action = $3
             AND reference = $4)",
    )
    .bind(user)
    .bind(&source)
    .bind(&action)
    .bind(i64_of(entry.reference))
    .fetch_one(&mut **tx)
    .await?;
    let source_applied = |entry: &LedgerEntry| -> Stop {
        GuardFailure::PointsSourceApplied {
            user: entry.user,
            points_source: entry.source,
            action: entry.action,
            reference: entry.reference,
        }
        .into()
    };
    if applied {
        return Err(source_applied(&entry));
    }
    let mut acc = account(&row)?;
    acc.apply(&mut entry).map_err(GuardFailure::from)?;
    let written = sqlx::query(
        "WITH entry AS (
             INSERT INTO points_ledger (id, user_id, source, action, reference, points, balance_delta, frozen_delta,
                 balance_after, remark, at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         )
         UPDATE points_accounts SET balance = $12, frozen = $13, total_earned = $14, total_spent = $15
         WHERE user_id = $2",
    )
    .bind(i64_of(entry.id.0))
    .bind(user)
    .bind(&source)
    .bind(&action)
    .bind(i64_of(entry.reference))
    .bind(entry.points)
    .bind(entry.balance_delta)
    .bind(entry.frozen_delta)
    .bind(entry.balance_after)
    .bind(&entry.remark)
    .bind(entry.at)
    .bind(acc.balance)
    .bind(acc.frozen)
    .bind(acc.total_earned)
    .bind(acc.total_spent)
    .execute(&mut **tx)
    .await;
    match written {
        Ok(_) => Ok(()),
        Err(e) => Err(match unique_violation(&e).as_deref() {
            Some("points_ledger_source_once") => source_applied(&entry),
            Some("points_ledger_id_key") => already("ledger_entry", entry.id.0),
            _ => Stop::Db(e),
        }),
    }
}
