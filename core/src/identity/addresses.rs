//! The address book commands of [`Accounts`] (seed 001 §3, seed 004 §3): a
//! user's addresses, one default, and the shipping address a checkout uses.

use crate::error::{MallError, invalid};
use crate::identity::*;
use crate::ids::{AddressId, UserId};
use crate::storage::IdentityStore;

impl<S: IdentityStore> Accounts<S> {
    /// The address an order ships to: `id` when given (the user's own), else
    /// the user's default address.
    ///
    /// # Errors
    /// [`MallError::NotFound`] for another user's or an unknown address;
    /// [`MallError::InvalidInput`] on `address_id` when the user has none.
    pub async fn shipping_address(&self, user: UserId, id: Option<AddressId>) -> Result<Address, MallError> {
        match id {
            Some(id) => self.address(user, id).await,
            None => self
                .addresses(user)
                .await?
                .into_iter()
                .find(|a| a.is_default)
                .ok_or_else(|| invalid("address_id", "add a shipping address first")),
        }
    }

    /// A user's addresses, the default first, then by id.
    ///
    /// # Errors
    /// [`MallError::Storage`].
    pub async fn addresses(&self, user: UserId) -> Result<Vec<Address>, MallError> {
        let mut list = self.store.addresses(user).await?;
        list.sort_by_key(|a| (!a.is_default, a.id));
        Ok(list)
    }

    /// One of the user's addresses.
    ///
    /// # Errors
    /// [`MallError::NotFound`] when it does not exist or belongs to someone else.
    pub async fn address(&self, user: UserId, id: AddressId) -> Result<Address, MallError> {
        self.store
            .addresses(user)
            .await?
            .into_iter()
            .find(|a| a.id == id)
            .ok_or_else(|| MallError::not_found("address", id))
    }

    /// Adds (`address.id` is assigned) or replaces one of the user's
    /// addresses. The first address is the default; making one the default
    /// clears the flag on the others; the default cannot be un-set by editing
    /// it (make another one the default instead).
    ///
    /// # Errors
    /// [`MallError::InvalidInput`] naming a bad field or `addresses` when the
    /// book is full; [`MallError::NotFound`] when replacing an address that
    /// is not the user's.
    pub async fn save_address(&self, mut address: Address, new: bool) -> Result<Address, MallError> {
        address.validate()?;
        let existing = self.store.addresses(address.user).await?;
        if new {
            if existing.len() >= self.policy.max_addresses {
                return Err(invalid("addresses", &format!("at most {} addresses", self.policy.max_addresses)));
            }
            address.id = AddressId(self.ids.next_id());
            address.is_default |= existing.is_empty();
        } else {
            let current = existing.iter().find(|a| a.id == address.id);
            let current = current.ok_or_else(|| MallError::not_found("address", address.id))?;
            address.is_default |= current.is_default;
        }
        address.receiver = address.receiver.trim().to_owned();
        self.store.put_address(address.clone()).await?;
        Ok(address)
    }

    /// Deletes one of the user's addresses; when it was the default, the
    /// oldest remaining address becomes the default.
    ///
    /// # Errors
    /// [`MallError::NotFound`] when it is not the user's.
    pub async fn delete_address(&self, user: UserId, id: AddressId) -> Result<(), MallError> {
        let was = self.address(user, id).await?;
        if !self.store.delete_address(user, id).await? {
            return Err(MallError::not_found("address", id));
        }
        if was.is_default
            && let Some(mut next) = self.store.addresses(user).await?.into_iter().min_by_key(|a| a.id)
        {
            next.is_default = true;
            self.store.put_address(next).await?;
        }
        Ok(())
    }

    /// Makes one of the user's addresses the default.
    ///
    /// # Errors
    /// [`MallError::NotFound`] when it is not the user's.
    pub async fn set_default_address(&self, user: UserId, id: AddressId) -> Result<Address, MallError> {
        let mut address = self.address(user, id).await?;
        address.is_default = true;
        self.store.put_address(address.clone()).await?;
        Ok(address)
    }
}
