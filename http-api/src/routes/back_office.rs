//! Merchant and admin endpoints (seed 004 admin, seed 000 §6, seed 002).
//!
//! Who may call what: the order and after-sales lists, shipping and
//! after-sales handling take merchant staff
//! (their own merchant's orders only; another merchant's read as not found)
//! or an admin; coupon templates, points, tiers and customers take an admin.

use axum::extract::State;
use chrono::{DateTime, Utc};
use mallkit_core::after_sales::{AfterSale, AfterSaleAction, AfterSaleFilter};
use mallkit_core::coupon::{CouponKind, CouponScope, CouponTemplate, StackLayer, TemplateStatus, UserCoupon, Validity};
use mallkit_core::identity::{Role, UserFilter, UserStatus};
use mallkit_core::ids::{AfterSaleId, CouponTemplateId, LedgerEntryId, MerchantId, OrderId, UserId};
use mallkit_core::order::{Order, OrderFilter};
use mallkit_core::page::PageRequest;
use mallkit_core::points::{LedgerEntry, PointsAccount, PointsSource, Tier};
use mallkit_core::storefront::HeldCoupon;
use mallkit_core::{MallError, Money, Rate};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::UserView;
use crate::App;
use crate::amount::Amount;
use crate::envelope::{Data, Envelope, Page, PageQuery};
use crate::error::{ApiError, ApiResult, AuthErrors};
use crate::extract::{Admin, Body, Param, Params, Staff};

/// A back-office list filter.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MerchantListParams {
    /// Whose orders or cases: required for an admin; merchant staff see their own merchant's.
    pub merchant_id: Option<MerchantId>,
    /// Only this status (`pending_payment`, `awaiting_shipment`, … for orders; `requested`, `approved`, … for cases).
    pub status: Option<String>,
    /// Page, from 1.
    pub page: Option<u32>,
    /// Page size, 1–100.
    pub page_size: Option<u32>,
}

impl MerchantListParams {
    fn merchant(&self, staff: &Staff) -> ApiResult<MerchantId> {
        match (staff.merchant, self.merchant_id) {
            (Some(own), None) => Ok(own),
            (Some(own), Some(asked)) if own == asked => Ok(own),
            (Some(_), Some(_)) => {
                Err(MallError::Forbidden { role: "merchant", action: "see another merchant's records" }.into())
            }
            (None, Some(asked)) => Ok(asked),
            (None, None) => {
                Err(ApiError::Decode { field: "merchant_id".into(), message: "is required for an admin".into() })
            }
        }
    }

    fn status<T: serde::de::DeserializeOwned>(&self) -> ApiResult<Option<T>> {
        self.status
            .as_deref()
            .map(|s| {
                serde_json::from_value(serde_json::Value::String(s.to_owned()))
                    .map_err(|_| ApiError::Decode { field: "status".into(), message: format!("unknown status {s}") })
            })
            .transpose()
    }
}

/// Shipping details.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipRequest {
    /// Carrier, e.g. `SF`.
    pub carrier: String,
    /// Tracking number.
    pub tracking_no: String,
}

/// An after-sales step by the merchant or admin.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StaffStep {
    /// Accept the request.
    Approve,
    /// Refuse it (a note says why).
    Reject,
    /// The returned goods arrived.
    Receive,
    /// The replacement was shipped (exchange).
    Reship,
}

/// A step with a note.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepRequest {
    /// The step.
    pub action: StaffStep,
    /// Note for the log, up to 200 characters.
    #[serde(default)]
    pub note: String,
}

/// Kind of coupon.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KindName {
    /// 满减: spend ≥ threshold, take off amount.
    Threshold,
    /// 折扣: pay `rate` of the eligible amount, optional threshold and cap.
    Percentage,
    /// 无门槛: take off amount.
    Cash,
}

/// A new coupon template.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateRequest {
    /// Title shown to buyers, e.g. `满299减30`.
    #[schema(example = "满299减30")]
    pub title: String,
    /// Kind.
    pub kind: KindName,
    /// Threshold, yuan (threshold; optional for percentage).
    #[schema(value_type = Option<mallkit_core::Money>)]
    pub threshold: Option<Amount>,
    /// Amount taken off, yuan (threshold and cash).
    #[schema(value_type = Option<mallkit_core::Money>)]
    pub amount: Option<Amount>,
    /// Rate paid, e.g. `"0.9"` for 9折 (percentage).
    pub rate: Option<Rate>,
    /// Cap of a percentage discount, yuan.
    #[schema(value_type = Option<mallkit_core::Money>)]
    pub max_discount: Option<Amount>,
    /// What it applies to.
    pub scope: CouponScope,
    /// When it can be used.
    pub validity: Validity,
    /// Coupons that may be issued in all; absent is unlimited.
    pub total_limit: Option<u32>,
    /// Coupons one user may hold (default 1).
    pub per_user_limit: Option<u32>,
    /// Stacking layer; absent means it stands alone.
    pub layer: Option<StackLayer>,
}

impl TemplateRequest {
    fn into_template(self) -> ApiResult<CouponTemplate> {
        let need = |field: &str, value: Option<Amount>| {
            value
                .map(|a| a.0)
                .ok_or_else(|| ApiError::Decode { field: field.into(), message: "is required for this kind".into() })
        };
        let kind = match self.kind {
            KindName::Threshold => CouponKind::Threshold {
                threshold: need("threshold", self.threshold)?,
                amount: need("amount", self.amount)?,
            },
            KindName::Cash => CouponKind::Cash { amount: need("amount", self.amount)? },
            KindName::Percentage => CouponKind::Percentage {
                rate: self.rate.ok_or_else(|| ApiError::Decode {
                    field: "rate".into(),
                    message: "is required for this kind".into(),
                })?,
                threshold: self.threshold.map_or(Money::ZERO, |a| a.0),
                max_discount: self.max_discount.map(|a| a.0),
            },
        };
        Ok(CouponTemplate {
            id: CouponTemplateId(0),
            title: self.title,
            kind,
            scope: self.scope,
            validity: self.validity,
            total_limit: self.total_limit,
            per_user_limit: self.per_user_limit.unwrap_or(1),
            issued: 0,
            used: 0,
            status: TemplateStatus::Enabled,
            layer: self.layer,
        })
    }
}

/// Enable or disable a template.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateStatusRequest {
    /// New status.
    pub status: TemplateStatus,
}

/// An admin points adjustment.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdjustPointsRequest {
    /// Whose account.
    pub user_id: UserId,
    /// Points to add (positive) or remove (negative), not zero.
    pub points: i64,
    /// Why, 1–200 characters.
    pub remark: String,
}

/// The result of an adjustment.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdjustPointsView {
    /// The ledger row written.
    pub entry: LedgerEntryId,
    /// The account after it.
    pub account: PointsAccount,
}

/// Ledger search.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LedgerParams {
    /// Whose ledger.
    pub user_id: UserId,
    /// Only rows of this source.
    #[param(inline)]
    pub source: Option<PointsSource>,
    /// Page, from 1.
    pub page: Option<u32>,
    /// Page size, 1–100.
    pub page_size: Option<u32>,
}

/// Customer search.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CustomerParams {
    /// Username, nickname, phone or e-mail contains.
    pub keyword: Option<String>,
    /// Only this status.
    #[param(inline)]
    pub status: Option<UserStatus>,
    /// Page, from 1.
    pub page: Option<u32>,
    /// Page size, 1–100.
    pub page_size: Option<u32>,
}

/// A customer in the list.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerSummary {
    /// The user.
    pub user: UserView,
    /// Points account.
    pub points: PointsAccount,
    /// Orders placed.
    pub orders: u32,
    /// Paid and kept (payable less refunds over paid orders), yuan.
    pub spent: Money,
    /// Last order time.
    pub last_order_at: Option<DateTime<Utc>>,
}

/// A customer in detail.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerDetail {
    /// Summary.
    pub summary: CustomerSummary,
    /// Coupons held, newest first (the first page: `GET /coupons/mine` pages on).
    pub coupons: Page<HeldCoupon>,
    /// Orders, newest first (the first page).
    pub orders: Page<Order>,
}

/// The list rows of `users`: points and order figures from one aggregate read each.
async fn customer_summaries(app: &App, users: Vec<mallkit_core::identity::User>) -> ApiResult<Vec<CustomerSummary>> {
    let ids: Vec<UserId> = users.iter().map(|u| u.id).collect();
    let stats = app.mall.customer_stats(&ids).await?;
    let mut out = Vec::with_capacity(users.len());
    for (user, stats) in users.into_iter().zip(stats) {
        out.push(CustomerSummary {
            points: app.mall.points_account(user.id).await?,
            orders: stats.orders,
            spent: stats.spent,
            last_order_at: stats.last_order_at,
            user: user.into(),
        });
    }
    Ok(out)
}

/// A merchant's orders, newest first (to find what to ship).
#[utoipa::path(get, path = "/api/v1/admin/orders", tag = "back-office", security(("bearer" = [])),
    params(MerchantListParams), responses((status = 200, body = Envelope<Page<Order>>), AuthErrors))]
pub async fn list_orders(
    State(app): State<App>,
    staff: Staff,
    Params(p): Params<MerchantListParams>,
) -> ApiResult<Data<Page<Order>>> {
    let page = PageQuery { page: p.page, page_size: p.page_size }.request()?;
    let filter = OrderFilter { merchant: Some(p.merchant(&staff)?), status: p.status()?, user: None };
    Ok(Data(app.mall.orders(staff.caller.actor(), filter, page).await?))
}

/// A merchant's after-sales cases, newest first (the queue to handle).
#[utoipa::path(get, path = "/api/v1/admin/after-sales", tag = "back-office", security(("bearer" = [])),
    params(MerchantListParams), responses((status = 200, body = Envelope<Page<AfterSale>>), AuthErrors))]
pub async fn list_after_sales(
    State(app): State<App>,
    staff: Staff,
    Params(p): Params<MerchantListParams>,
) -> ApiResult<Data<Page<AfterSale>>> {
    let page = PageQuery { page: p.page, page_size: p.page_size }.request()?;
    let filter = AfterSaleFilter { merchant: Some(p.merchant(&staff)?), status: p.status()?, ..Default::default() };
    Ok(Data(app.mall.after_sales(staff.caller.actor(), filter, page).await?))
}

/// Ships an order with a carrier and tracking number.
#[utoipa::path(post, path = "/api/v1/admin/orders/{id}/ship", tag = "back-office", security(("bearer" = [])),
    params(("id" = u64, Path, description = "Order id")), request_body = ShipRequest,
    responses((status = 200, body = Envelope<Order>), AuthErrors))]
pub async fn ship(
    State(app): State<App>,
    staff: Staff,
    Param(id): Param<OrderId>,
    Body(r): Body<ShipRequest>,
) -> ApiResult<Data<Order>> {
    Ok(Data(app.mall.ship(staff.caller.actor(), id, r.carrier.trim(), r.tracking_no.trim()).await?))
}

/// An after-sales case of the merchant's orders (any, for an admin).
#[utoipa::path(get, path = "/api/v1/admin/after-sales/{id}", tag = "back-office", security(("bearer" = [])),
    params(("id" = u64, Path, description = "After-sales case id")),
    responses((status = 200, body = Envelope<AfterSale>), AuthErrors))]
pub async fn after_sale(
    State(app): State<App>,
    staff: Staff,
    Param(id): Param<AfterSaleId>,
) -> ApiResult<Data<AfterSale>> {
    Ok(Data(app.mall.after_sale(staff.caller.actor(), id).await?))
}

/// Moves a case: approve, reject, receive the returned goods, reship (exchange).
#[utoipa::path(post, path = "/api/v1/admin/after-sales/{id}/steps", tag = "back-office", security(("bearer" = [])),
    params(("id" = u64, Path, description = "After-sales case id")), request_body = StepRequest,
    responses((status = 200, body = Envelope<AfterSale>), AuthErrors))]
pub async fn after_sale_step(
    State(app): State<App>,
    staff: Staff,
    Param(id): Param<AfterSaleId>,
    Body(r): Body<StepRequest>,
) -> ApiResult<Data<AfterSale>> {
    let action = match r.action {
        StaffStep::Approve => AfterSaleAction::Approve,
        StaffStep::Reject => AfterSaleAction::Reject,
        StaffStep::Receive => AfterSaleAction::Receive,
        StaffStep::Reship => AfterSaleAction::Reship,
    };
    Ok(Data(app.mall.after_sale_step(staff.caller.actor(), id, action, &r.note).await?))
}

/// Refunds an approved case through the payment provider (exactly once),
/// returning and reversing points and restocking returned goods.
#[utoipa::path(post, path = "/api/v1/admin/after-sales/{id}/refund", tag = "back-office", security(("bearer" = [])),
    params(("id" = u64, Path, description = "After-sales case id")),
    responses((status = 200, body = Envelope<AfterSale>), AuthErrors))]
pub async fn after_sale_refund(
    State(app): State<App>,
    staff: Staff,
    Param(id): Param<AfterSaleId>,
) -> ApiResult<Data<AfterSale>> {
    Ok(Data(app.mall.refund_after_sale(staff.caller.actor(), id).await?))
}

/// Creates a coupon template (enabled).
#[utoipa::path(post, path = "/api/v1/admin/coupon-templates", tag = "back-office", security(("bearer" = [])),
    request_body = TemplateRequest, responses((status = 200, body = Envelope<CouponTemplate>), AuthErrors))]
pub async fn create_template(
    State(app): State<App>,
    _admin: Admin,
    Body(r): Body<TemplateRequest>,
) -> ApiResult<Data<CouponTemplate>> {
    Ok(Data(app.mall.create_template(r.into_template()?).await?))
}

/// Every template with its claimed (`issued`) and `used` counts.
#[utoipa::path(get, path = "/api/v1/admin/coupon-templates", tag = "back-office", security(("bearer" = [])),
    params(PageQuery), responses((status = 200, body = Envelope<Page<CouponTemplate>>), AuthErrors))]
pub async fn list_templates(
    State(app): State<App>,
    _admin: Admin,
    Params(page): Params<PageQuery>,
) -> ApiResult<Data<Page<CouponTemplate>>> {
    Ok(Data(app.mall.templates(page.request()?).await?))
}

/// Enables or disables a template.
#[utoipa::path(put, path = "/api/v1/admin/coupon-templates/{id}/status", tag = "back-office", security(("bearer" = [])),
    params(("id" = u64, Path, description = "Template id")), request_body = TemplateStatusRequest,
    responses((status = 200, body = Envelope<CouponTemplate>), AuthErrors))]
pub async fn set_template_status(
    State(app): State<App>,
    _admin: Admin,
    Param(id): Param<CouponTemplateId>,
    Body(r): Body<TemplateStatusRequest>,
) -> ApiResult<Data<CouponTemplate>> {
    app.mall.set_template_status(id, r.status).await?;
    Ok(Data(app.mall.template(id).await?))
}

/// The coupons claimed from a template (claim records), by id.
#[utoipa::path(get, path = "/api/v1/admin/coupon-templates/{id}/claims", tag = "back-office", security(("bearer" = [])),
    params(("id" = u64, Path, description = "Template id"), PageQuery),
    responses((status = 200, body = Envelope<Page<UserCoupon>>), AuthErrors))]
pub async fn template_claims(
    State(app): State<App>,
    _admin: Admin,
    Param(id): Param<CouponTemplateId>,
    Params(page): Params<PageQuery>,
) -> ApiResult<Data<Page<UserCoupon>>> {
    Ok(Data(app.mall.template_claims(id, page.request()?).await?))
}

/// Adds or removes points (an admin adjustment in the ledger).
#[utoipa::path(post, path = "/api/v1/admin/points/adjust", tag = "back-office", security(("bearer" = [])),
    request_body = AdjustPointsRequest, responses((status = 200, body = Envelope<AdjustPointsView>), AuthErrors))]
pub async fn adjust_points(
    State(app): State<App>,
    _admin: Admin,
    Body(r): Body<AdjustPointsRequest>,
) -> ApiResult<Data<AdjustPointsView>> {
    app.accounts.user(r.user_id).await?;
    let entry = app.mall.adjust_points(r.user_id, r.points, r.remark.trim()).await?;
    let account = app.mall.points_account(r.user_id).await?;
    Ok(Data(AdjustPointsView { entry, account }))
}

/// A user's ledger, newest first, optionally of one source.
#[utoipa::path(get, path = "/api/v1/admin/points/ledger", tag = "back-office", security(("bearer" = [])),
    params(LedgerParams), responses((status = 200, body = Envelope<Page<LedgerEntry>>), AuthErrors))]
pub async fn search_ledger(
    State(app): State<App>,
    _admin: Admin,
    Params(p): Params<LedgerParams>,
) -> ApiResult<Data<Page<LedgerEntry>>> {
    let page = PageQuery { page: p.page, page_size: p.page_size }.request()?;
    Ok(Data(app.mall.ledger(p.user_id, p.source, page).await?))
}

/// Every member tier, by level.
#[utoipa::path(get, path = "/api/v1/admin/tiers", tag = "back-office", security(("bearer" = [])),
    responses((status = 200, body = Envelope<Vec<Tier>>), AuthErrors))]
pub async fn list_tiers(State(app): State<App>, _admin: Admin) -> ApiResult<Data<Vec<Tier>>> {
    Ok(Data(app.mall.tiers().await?))
}

/// Creates or replaces the tier of a level.
#[utoipa::path(put, path = "/api/v1/admin/tiers/{level}", tag = "back-office", security(("bearer" = [])),
    params(("level" = u32, Path, description = "Tier level")), request_body = Tier,
    responses((status = 200, body = Envelope<Tier>), AuthErrors))]
pub async fn save_tier(
    State(app): State<App>,
    _admin: Admin,
    Param(level): Param<u32>,
    Body(tier): Body<Tier>,
) -> ApiResult<Data<Tier>> {
    if tier.level != level {
        return Err(ApiError::Decode {
            field: "level".into(),
            message: format!("must equal the path's level {level}"),
        });
    }
    app.mall.save_tier(tier.clone()).await?;
    Ok(Data(tier))
}

/// Customers with their points, orders and spending.
#[utoipa::path(get, path = "/api/v1/admin/customers", tag = "back-office", security(("bearer" = [])),
    params(CustomerParams), responses((status = 200, body = Envelope<Page<CustomerSummary>>), AuthErrors))]
pub async fn list_customers(
    State(app): State<App>,
    _admin: Admin,
    Params(p): Params<CustomerParams>,
) -> ApiResult<Data<Page<CustomerSummary>>> {
    let page = PageQuery { page: p.page, page_size: p.page_size }.request()?;
    let filter = UserFilter { role: Some(Role::Customer), status: p.status, keyword: p.keyword };
    let users = app.accounts.users(&filter, page).await?;
    let (total, total_capped, has_more) = (users.total, users.total_capped, users.has_more);
    let items = customer_summaries(&app, users.items).await?;
    Ok(Data(Page { items, total, total_capped, page: page.page(), page_size: page.page_size(), has_more }))
}

/// One customer with points, coupons, orders and spending.
#[utoipa::path(get, path = "/api/v1/admin/customers/{id}", tag = "back-office", security(("bearer" = [])),
    params(("id" = u64, Path, description = "User id")),
    responses((status = 200, body = Envelope<CustomerDetail>), AuthErrors))]
pub async fn customer(
    State(app): State<App>,
    admin: Admin,
    Param(id): Param<UserId>,
) -> ApiResult<Data<CustomerDetail>> {
    let user = app.accounts.user(id).await?;
    let summary = customer_summaries(&app, vec![user])
        .await?
        .pop()
        .ok_or(MallError::NotFound { entity: "user", id: id.to_string() })?;
    let coupons = app.mall.held_coupons(id, None, PageRequest::FIRST).await?;
    let orders = app
        .mall
        .orders(admin.0.actor(), OrderFilter { user: Some(id), ..Default::default() }, PageRequest::FIRST)
        .await?;
    Ok(Data(CustomerDetail { summary, coupons, orders }))
}

/// Freezes a user: every session ends and login is refused.
#[utoipa::path(post, path = "/api/v1/admin/customers/{id}/freeze", tag = "back-office", security(("bearer" = [])),
    params(("id" = u64, Path, description = "User id")),
    responses((status = 200, body = Envelope<UserView>), AuthErrors))]
pub async fn freeze_customer(
    State(app): State<App>,
    admin: Admin,
    Param(id): Param<UserId>,
) -> ApiResult<Data<UserView>> {
    Ok(Data(app.accounts.set_status_by(admin.0.user.id, id, UserStatus::Frozen).await?.into()))
}

/// Unfreezes a user.
#[utoipa::path(post, path = "/api/v1/admin/customers/{id}/unfreeze", tag = "back-office", security(("bearer" = [])),
    params(("id" = u64, Path, description = "User id")),
    responses((status = 200, body = Envelope<UserView>), AuthErrors))]
pub async fn unfreeze_customer(
    State(app): State<App>,
    _admin: Admin,
    Param(id): Param<UserId>,
) -> ApiResult<Data<UserView>> {
    Ok(Data(app.accounts.set_status(id, UserStatus::Active).await?.into()))
}
