//! Points accounts, the append-only ledger and member tiers. The ledger is
//! indexed by user and by (user, source): positions of the rows in write
//! order, so a page of one user's ledger reads only that user's rows.

use std::collections::{BTreeMap, HashMap, HashSet};

use async_trait::async_trait;
use mallkit_core::ids::UserId;
use mallkit_core::page::{Page, PageRequest};
use mallkit_core::points::{LedgerEntry, PointsAccount, PointsAction, PointsSource, Tier};
use mallkit_core::storage::{GuardFailure, PointsStore, PointsWrite, StoreError};

use crate::{MemoryStore, Staged, missing};

type LedgerKey = (UserId, PointsSource, PointsAction, u64);

/// Accounts, ledger (with its indexes) and tiers.
#[derive(Debug, Default)]
pub(crate) struct Points {
    tiers: BTreeMap<u32, Tier>,
    accounts: BTreeMap<UserId, PointsAccount>,
    ledger: Vec<LedgerEntry>,
    ledger_keys: HashSet<LedgerKey>,
    /// Positions in `ledger` of each user's rows, oldest first.
    by_user: HashMap<UserId, Vec<usize>>,
    /// Positions in `ledger` of each user's rows of one source, oldest first.
    by_source: HashMap<(UserId, PointsSource), Vec<usize>>,
}

/// Tiers, accounts and ledger rows written by a batch.
#[derive(Default)]
pub(crate) struct PointsBatch {
    tiers: Staged<u32, Tier>,
    accounts: Staged<UserId, PointsAccount>,
    ledger: Vec<LedgerEntry>,
    ledger_keys: HashSet<LedgerKey>,
}

impl PointsBatch {
    /// Stages one points write.
    pub(crate) fn stage(&mut self, base: &Points, write: PointsWrite) -> Result<(), GuardFailure> {
        match write {
            PointsWrite::PutTier(t) => self.put_tier(t),
            PointsWrite::Post(entry) => self.apply(base, entry)?,
        }
        Ok(())
    }

    pub(crate) fn put_tier(&mut self, t: Tier) {
        self.tiers.put(t.level, t);
    }

    /// Guards: the source key is new (in the state and in this batch); the
    /// account's own guards (`PointsAccount::apply`).
    pub(crate) fn apply(&mut self, base: &Points, mut entry: LedgerEntry) -> Result<(), GuardFailure> {
        let key = entry.source_key();
        if base.ledger_keys.contains(&key) || !self.ledger_keys.insert(key) {
            return Err(GuardFailure::PointsSourceApplied {
                user: entry.user,
                points_source: entry.source,
                action: entry.action,
                reference: entry.reference,
            });
        }
        if self.accounts.get(&base.accounts, entry.user).is_none() {
            self.accounts.put(entry.user, PointsAccount { user: entry.user, ..Default::default() });
        }
        let account = self.accounts.get(&base.accounts, entry.user).ok_or(missing("points_account", entry.user.0))?;
        account.apply(&mut entry)?;
        self.ledger.push(entry);
        Ok(())
    }

    pub(crate) fn commit(self, state: &mut Points) {
        self.tiers.commit(&mut state.tiers);
        self.accounts.commit(&mut state.accounts);
        state.ledger_keys.extend(self.ledger_keys);
        for entry in self.ledger {
            let at = state.ledger.len();
            state.by_user.entry(entry.user).or_default().push(at);
            state.by_source.entry((entry.user, entry.source)).or_default().push(at);
            state.ledger.push(entry);
        }
    }
}

impl Points {
    fn rows<'a>(&'a self, positions: Option<&'a Vec<usize>>) -> impl DoubleEndedIterator<Item = &'a LedgerEntry> {
        positions.into_iter().flatten().filter_map(|&i| self.ledger.get(i))
    }
}

impl MemoryStore {
    /// Every points account, by user.
    pub fn all_accounts(&self) -> Vec<PointsAccount> {
        self.read().points.accounts.values().copied().collect()
    }
}

#[async_trait]
impl PointsStore for MemoryStore {
    async fn points_account(&self, user: UserId) -> Result<PointsAccount, StoreError> {
        Ok(self.read().points.accounts.get(&user).copied().unwrap_or(PointsAccount { user, ..Default::default() }))
    }
    async fn ledger(&self, user: UserId) -> Result<Vec<LedgerEntry>, StoreError> {
        let state = self.read();
        let points = &state.points;
        Ok(points.rows(points.by_user.get(&user)).cloned().collect())
    }
    async fn tiers(&self) -> Result<Vec<Tier>, StoreError> {
        Ok(self.read().points.tiers.values().cloned().collect())
    }
    async fn ledger_page(
        &self,
        user: UserId,
        source: Option<PointsSource>,
        page: PageRequest,
    ) -> Result<Page<LedgerEntry>, StoreError> {
        let state = self.read();
        let points = &state.points;
        let positions = match source {
            Some(s) => points.by_source.get(&(user, s)),
            None => points.by_user.get(&user),
        };
        Ok(page.page_from_iter(points.rows(positions).rev()).map(LedgerEntry::clone))
    }
}
