//! The event log in memory: appended on commit, indexed by aggregate.

use std::collections::HashMap;

use async_trait::async_trait;
use mallkit_core::event::{Aggregate, DomainEvent};
use mallkit_core::page::{Page, PageRequest};
use mallkit_core::storage::{EventStore, StoreError};

use crate::MemoryStore;

/// Every committed event, in commit order, with the positions of each aggregate's.
#[derive(Debug, Default)]
pub(crate) struct Events {
    log: Vec<DomainEvent>,
    by_aggregate: HashMap<(Aggregate, u64), Vec<usize>>,
}

impl Events {
    /// Appends a committed batch's events.
    pub(crate) fn commit(&mut self, events: Vec<DomainEvent>) {
        for e in events {
            self.by_aggregate.entry((e.aggregate, e.aggregate_id)).or_default().push(self.log.len());
            self.log.push(e);
        }
    }
}

#[async_trait]
impl EventStore for MemoryStore {
    async fn events(
        &self,
        aggregate: Option<(Aggregate, u64)>,
        page: PageRequest,
    ) -> Result<Page<DomainEvent>, StoreError> {
        let state = self.read();
        let events = &state.events;
        Ok(match aggregate {
            None => page.page_from_iter(events.log.iter().cloned()),
            Some(key) => {
                let at = events.by_aggregate.get(&key).map_or(&[][..], Vec::as_slice);
                page.page_from_iter(at.iter().map(|&i| events.log[i].clone()))
            }
        })
    }
}
