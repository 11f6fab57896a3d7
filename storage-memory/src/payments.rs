//! Payments, by id and by their unique number.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use mallkit_core::ids::PaymentId;
use mallkit_core::payment::Payment;
use mallkit_core::storage::{GuardFailure, PaymentStore, PaymentWrite, StoreError};

use crate::{MemoryStore, Staged};

/// The payments, with the index of their numbers.
#[derive(Debug, Default)]
pub(crate) struct Payments {
    payments: BTreeMap<PaymentId, Payment>,
    numbers: HashMap<String, PaymentId>,
}

/// Payments inserted or updated by a batch.
#[derive(Default)]
pub(crate) struct PaymentBatch {
    payments: Staged<PaymentId, Payment>,
}

impl PaymentBatch {
    /// Stages one write.
    pub(crate) fn stage(&mut self, base: &Payments, write: PaymentWrite) -> Result<(), GuardFailure> {
        match write {
            PaymentWrite::Insert(row) => self.insert(base, row),
            PaymentWrite::Update(row) => self.update(base, row),
        }
    }

    /// Guard: neither the id nor the number is taken.
    pub(crate) fn insert(&mut self, base: &Payments, p: Payment) -> Result<(), GuardFailure> {
        if base.numbers.contains_key(&p.number) {
            return Err(GuardFailure::AlreadyExists { entity: "payment", id: p.id.0 });
        }
        self.payments.insert_new(&base.payments, "payment", (p.id, p.id.0), p)
    }

    /// Guard: the stored version equals the payment's; bumps it.
    pub(crate) fn update(&mut self, base: &Payments, p: Payment) -> Result<(), GuardFailure> {
        self.payments.replace_versioned(&base.payments, "payment", (p.id, p.id.0), p)
    }

    pub(crate) fn commit(self, state: &mut Payments) {
        for p in self.payments.0.values() {
            state.numbers.insert(p.number.clone(), p.id);
        }
        self.payments.commit(&mut state.payments);
    }
}

#[async_trait]
impl PaymentStore for MemoryStore {
    async fn payment(&self, id: PaymentId) -> Result<Option<Payment>, StoreError> {
        Ok(self.read().payments.payments.get(&id).cloned())
    }
    async fn payment_by_number(&self, number: &str) -> Result<Option<Payment>, StoreError> {
        let state = self.read();
        let payments = &state.payments;
        Ok(payments.numbers.get(number).and_then(|id| payments.payments.get(id)).cloned())
    }
}
