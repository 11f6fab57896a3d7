//! Cart writes.

use mallkit_core::storage::CartWrite;

use super::{Stop, Tx};
use crate::codec::{i64_of, json};

/// Applies one cart write.
pub(super) async fn apply(tx: &mut Tx, write: &CartWrite) -> Result<(), Stop> {
    match write {
        CartWrite::Put(cart) => {
            sqlx::query(
                "INSERT INTO carts (user_id, items) VALUES ($1, $2) ON CONFLICT (user_id) DO UPDATE SET items = $2",
            )
            .bind(i64_of(cart.user.0))
            .bind(json(&cart.items)?)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}
