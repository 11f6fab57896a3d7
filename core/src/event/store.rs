//! Event reads: the store trait of this area, served by every backend, and
//! its forwarding through an `Arc`.

use async_trait::async_trait;

use crate::event::{Aggregate, DomainEvent};
use crate::page::{Page, PageRequest};
use crate::storage::StoreError;

/// Event reads (the log is written by [`crate::storage::Write::AppendEvent`]).
#[async_trait]
pub trait EventStore: Send + Sync {
    /// One page of the events, in the order they were committed, only
    /// those of one aggregate (kind and id) when given.
    async fn events(
        &self,
        aggregate: Option<(Aggregate, u64)>,
        page: PageRequest,
    ) -> Result<Page<DomainEvent>, StoreError>;
}

#[async_trait]
impl<T: EventStore + ?Sized> EventStore for std::sync::Arc<T> {
    async fn events(
        &self,
        aggregate: Option<(Aggregate, u64)>,
        page: PageRequest,
    ) -> Result<Page<DomainEvent>, StoreError> {
        (**self).events(aggregate, page).await
    }
}
