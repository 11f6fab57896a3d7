//! Coupon writes: templates (keeping the store's counters), claims under
//! both limits, and guarded status moves.

use chrono::{DateTime, Utc};
use mallkit_core::coupon::{UserCoupon, UserCouponStatus};
use mallkit_core::ids::{CheckoutId, UserCouponId};
use mallkit_core::storage::{CouponWrite, GuardFailure};

use super::{Stop, Tx, already, check_violation, not_found, unique_violation};
use crate::codec::{backend, i32_of, i64_of, json, name, parse, u32_of};

/// Applies one coupon write.
pub(super) async fn apply(tx: &mut Tx, write: &CouponWrite) -> Result<(), Stop> {
    match write {
        CouponWrite::PutTemplate(t) => {
            // An existing template keeps the issued/used counters the store keeps.
            let done = sqlx::query(
                "INSERT INTO coupon_templates (id, title, kind, scope, validity, total_limit, per_user_limit, issued,
                     used, status, layer)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                 ON CONFLICT (id) DO UPDATE SET title = $2, kind = $3, scope = $4, validity = $5, total_limit = $6,
                     per_user_limit = $7, status = $10, layer = $11",
            )
            .bind(i64_of(t.id.0))
            .bind(&t.title)
            .bind(json(&t.kind)?)
            .bind(json(&t.scope)?)
            .bind(json(&t.validity)?)
            .bind(t.total_limit.map(i32_of).transpose()?)
            .bind(i32_of(t.per_user_limit)?)
            .bind(i32_of(t.issued)?)
            .bind(i32_of(t.used)?)
            .bind(name(&t.status)?)
            .bind(t.layer.map(|l| name(&l)).transpose()?)
            .execute(&mut **tx)
            .await;
            match done {
                Err(e) if check_violation(&e).as_deref() == Some("coupon_templates_issued_within_limit") => {
                    return Err(Stop::Other(backend(format!(
                        "coupon template {}: total_limit {:?} is below the coupons already issued",
                        t.id, t.total_limit
                    ))));
                }
                other => {
                    other?;
                }
            }
        }
        CouponWrite::SetTemplateStatus { template, status } => {
            let done = sqlx::query("UPDATE coupon_templates SET status = $2 WHERE id = $1")
                .bind(i64_of(template.0))
                .bind(name(status)?)
                .execute(&mut **tx)
                .await?;
            if done.rows_affected() == 0 {
                return Err(not_found("coupon_template", template.0));
            }
        }
        CouponWrite::Issue(c) => issue_coupon(tx, c).await?,
        CouponWrite::SetStatus { coupon, from, to, checkout, at } => {
            set_coupon_status(tx, *coupon, *from, *to, *checkout, *at).await?
        }
    }
    Ok(())
}

/// Counts a claim against the template (conditional `UPDATE`) and the user
/// (counter upserted `WHERE claimed < per_user_limit`), then stores the
/// coupon. Failures are told apart in the memory store's order: taken id,
/// unknown template, disabled, exhausted, per-user limit.
async fn issue_coupon(tx: &mut Tx, c: &UserCoupon) -> Result<(), Stop> {
    let taken =
        sqlx::query("SELECT 1 FROM user_coupons WHERE id = $1").bind(i64_of(c.id.0)).fetch_optional(&mut **tx).await?;
    if taken.is_some() {
        return Err(already("user_coupon", c.id.0));
    }
    let per_user: Option<i32> = sqlx::query_scalar(
        "UPDATE coupon_templates SET issued = issued + 1
         WHERE id = $1 AND status = 'enabled' AND (total_limit IS NULL OR issued < total_limit)
         RETURNING per_user_limit",
    )
    .bind(i64_of(c.template.0))
    .fetch_optional(&mut **tx)
    .await?;
    let per_user = match per_user {
        Some(n) => n,
        None => refused_claim(tx, c).await?,
    };
    let counted = sqlx::query(
        "INSERT INTO coupon_claims (user_id, template_id, claimed) VALUES ($1, $2, 1)
         ON CONFLICT (user_id, template_id) DO UPDATE SET claimed = coupon_claims.claimed + 1
         WHERE coupon_claims.claimed < $3",
    )
    .bind(i64_of(c.user.0))
    .bind(i64_of(c.template.0))
    .bind(per_user)
    .execute(&mut **tx)
    .await?;
    if counted.rows_affected() == 0 {
        return Err(
            GuardFailure::ClaimLimitReached { template: c.template, user: c.user, limit: u32_of(per_user)? }.into()
        );
    }
    let inserted = sqlx::query(
        "INSERT INTO user_coupons (id, template_id, user_id, status, valid_from, valid_to, claimed_at, checkout_id,
             used_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(i64_of(c.id.0))
    .bind(i64_of(c.template.0))
    .bind(i64_of(c.user.0))
    .bind(name(&c.status)?)
    .bind(c.valid_from)
    .bind(c.valid_to)
    .bind(c.claimed_at)
    .bind(c.checkout.map(|x| i64_of(x.0)))
    .bind(c.used_at)
    .execute(&mut **tx)
    .await;
    match inserted {
        Err(e) if unique_violation(&e).as_deref() == Some("user_coupons_pkey") => Err(already("user_coupon", c.id.0)),
        other => other.map(|_| ()).map_err(Stop::Db),
    }
}

/// The conditional `UPDATE` of a claim matched nothing: why, from the row
/// locked as it is now. When it has changed in between so that the claim
/// fits after all (re-enabled, limit raised), the claim is counted under the
/// lock. Returns the per-user limit.
async fn refused_claim(tx: &mut Tx, c: &UserCoupon) -> Result<i32, Stop> {
    let row = sqlx::query("SELECT * FROM coupon_templates WHERE id = $1 FOR UPDATE")
        .bind(i64_of(c.template.0))
        .fetch_optional(&mut **tx)
        .await?;
    let Some(row) = row else { return Err(not_found("coupon_template", c.template.0)) };
    let t = crate::codec::template(&row)?;
    // The per-user count is checked next, by the counter's own guard.
    t.admit_claim(0).map_err(|r| GuardFailure::of_claim(c, r))?;
    sqlx::query("UPDATE coupon_templates SET issued = issued + 1 WHERE id = $1")
        .bind(i64_of(c.template.0))
        .execute(&mut **tx)
        .await?;
    Ok(i32_of(t.per_user_limit)?)
}

/// `UPDATE user_coupons … WHERE id = $1 AND status = $from`, with the
/// template's `used` counter moved when the coupon enters or leaves `used`.
async fn set_coupon_status(
    tx: &mut Tx,
    coupon: UserCouponId,
    from: UserCouponStatus,
    to: UserCouponStatus,
    checkout: Option<CheckoutId>,
    at: DateTime<Utc>,
) -> Result<(), Stop> {
    let template: Option<i64> = sqlx::query_scalar(
        "UPDATE user_coupons SET status = $3,
             checkout_id = COALESCE($4, CASE WHEN $3 IN ('unused', 'expired') THEN NULL ELSE checkout_id END),
             used_at = CASE WHEN $3 IN ('unused', 'expired') THEN NULL WHEN $3 = 'used' THEN $5 ELSE used_at END
         WHERE id = $1 AND status = $2
         RETURNING template_id",
    )
    .bind(i64_of(coupon.0))
    .bind(name(&from)?)
    .bind(name(&to)?)
    .bind(checkout.map(|c| i64_of(c.0)))
    .bind(at)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(template) = template else {
        let actual: Option<String> = sqlx::query_scalar("SELECT status FROM user_coupons WHERE id = $1")
            .bind(i64_of(coupon.0))
            .fetch_optional(&mut **tx)
            .await?;
        return Err(match actual {
            None => not_found("user_coupon", coupon.0),
            Some(s) => GuardFailure::CouponStatusChanged { coupon, expected: from, actual: parse(s)? }.into(),
        });
    };
    let delta = mallkit_core::coupon::used_delta(from, to);
    if delta != 0 {
        sqlx::query("UPDATE coupon_templates SET used = GREATEST(used + $2, 0) WHERE id = $1")
            .bind(template)
            .bind(delta)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}
