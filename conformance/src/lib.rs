//! # mallkit-conformance
//!
//! One conformance suite for every mallkit store, written once against the
//! `mallkit-core` storage traits: [`guards`] checks the storage contract
//! (every guard, all-or-nothing batches, reads), [`journeys`] runs whole
//! customer journeys through `Mall` with the seeds' numbers, [`identity`]
//! checks `IdentityStore` and `IdempotencyStore` (so a store under the suite
//! implements those too), [`lists`] walks every paged list page by page
//! against the core rules.
//!
//! A backend runs the whole suite with one line in a test file:
//!
//! ```ignore
//! mallkit_conformance::suite!(async { mallkit_storage_memory::MemoryStore::new() });
//! ```
//!
//! The expression is evaluated once per case, so every case gets a fresh,
//! empty store. The calling crate needs `tokio` (macros, multi-thread
//! runtime) as a dev-dependency.

pub mod events;
pub mod guards;
pub mod identity;
pub mod journeys;
pub mod lists;

/// Expands into one `#[tokio::test]` per conformance case; `$make` is an
/// expression whose `.await` yields a fresh, empty store.
#[macro_export]
macro_rules! suite {
    ($make:expr) => {
        $crate::suite!(@cases $make;
            events::events_commit_with_their_batch_and_read_by_aggregate,
            guards::catalog_round_trips,
            guards::a_failed_guard_rolls_back_the_whole_batch,
            guards::stock_moves_are_guarded,
            guards::coupon_claims_respect_every_limit,
            guards::coupon_status_moves_are_guarded,
            guards::points_ledger_applies_each_source_once,
            guards::coupons_of_template_lists_every_claim,
            journeys::seed_004_preview_order_pay_ship_confirm_return,
            journeys::unpaid_order_closes_after_timeout_and_gives_everything_back,
            journeys::duplicate_callbacks_confirm_once_and_a_late_one_is_refunded,
            journeys::two_merchants_split_into_two_orders_paid_by_one_payment,
            journeys::partial_return_below_threshold_claws_back_the_kept_units_discount,
            journeys::refund_only_before_shipping_refunds_shipping_and_closes,
            journeys::cancel_after_payment_refunds_everything_and_returns_points,
            journeys::sixty_four_buyers_for_the_last_hundred_units_never_oversell,
            journeys::a_void_coupon_is_never_chosen_and_a_locked_one_cannot_be_voided,
            journeys::auto_confirm_waits_for_an_open_case_then_completes_with_tier_points,
            identity::users_round_trip_by_id_and_every_login,
            identity::identity_writes_append_their_events_or_none,
            identity::duplicate_logins_are_refused_naming_the_field,
            identity::user_updates_are_versioned_and_keep_logins_unique,
            identity::sessions_are_found_by_digest_and_revoked_once,
            identity::revoking_a_users_sessions_leaves_others_alone,
            identity::verification_codes_are_replaced_per_phone,
            identity::addresses_keep_one_default_and_their_owner,
            identity::concurrent_defaults_leave_exactly_one,
            identity::idempotency_keys_start_replay_and_release,
            identity::a_stale_idempotency_claim_is_taken_over,
            identity::sixteen_concurrent_claims_start_exactly_once,
            lists::every_list_walks_every_row_once,
            lists::product_search_pages_every_filter_in_every_sort,
            lists::chinese_keywords_of_every_length_equal_a_substring_scan,
            lists::product_search_follows_writes_in_the_same_batch,
            lists::template_and_claim_pages_follow_ids,
            lists::held_coupons_page_by_claim_time_with_status_as_of_now,
            lists::ledger_pages_newest_first_by_source,
            lists::user_pages_filter_by_role_status_and_keyword,
            lists::order_pages_by_user_and_merchant_newest_first,
            lists::order_pages_by_status_alone_unfiltered_and_by_time_over_ids,
            lists::after_sale_pages_by_order_merchant_user_and_status,
            lists::after_sale_pages_by_user_status_alone_and_by_time_over_ids,
            lists::customer_stats_aggregate_each_buyers_orders,
        );
    };
    (@cases $make:expr; $($module:ident :: $case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                $crate::$module::$case($make.await).await;
            }
        )*
    };
}
