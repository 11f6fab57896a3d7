//! The routes, one module per area; each handler carries its OpenAPI
//! description, and [`register`] adds handler and description together, so
//! no route can be missing from the spec.

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::App;

mod account;
mod after_sales;
mod auth;
mod back_office;
mod cart;
mod catalog;
mod catalog_editing;
mod coupons;
mod orders;
mod payments;
mod points;
mod system;

pub use account::UserView;

/// Adds every route.
pub fn register(router: OpenApiRouter<App>) -> OpenApiRouter<App> {
    router
        .routes(routes!(system::health))
        .routes(routes!(system::ready))
        // identity
        .routes(routes!(auth::register))
        .routes(routes!(auth::login))
        .routes(routes!(auth::wechat_login))
        .routes(routes!(auth::refresh))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::forgot_password))
        .routes(routes!(auth::reset_password))
        .routes(routes!(account::me, account::update_me))
        .routes(routes!(account::change_password))
        .routes(routes!(account::list_addresses, account::create_address))
        .routes(routes!(account::get_address, account::update_address, account::delete_address))
        .routes(routes!(account::set_default_address))
        // storefront
        .routes(routes!(catalog::categories))
        .routes(routes!(catalog::products))
        .routes(routes!(catalog::product))
        .routes(routes!(cart::get_cart, cart::clear_cart))
        .routes(routes!(cart::add_item))
        .routes(routes!(cart::update_item, cart::remove_item))
        .routes(routes!(coupons::market))
        .routes(routes!(coupons::claim))
        .routes(routes!(coupons::mine))
        .routes(routes!(coupons::validate))
        // orders and payments
        .routes(routes!(orders::preview))
        .routes(routes!(orders::create, orders::list))
        .routes(routes!(orders::detail))
        .routes(routes!(orders::cancel))
        .routes(routes!(orders::confirm))
        .routes(routes!(payments::create))
        .routes(routes!(payments::status))
        .routes(routes!(payments::callback))
        // points and tiers
        .routes(routes!(points::overview))
        .routes(routes!(points::ledger))
        .routes(routes!(points::member))
        // after-sales
        .routes(routes!(after_sales::apply, after_sales::list))
        .routes(routes!(after_sales::detail))
        .routes(routes!(after_sales::cancel))
        .routes(routes!(after_sales::ship_back))
        // back office
        .routes(routes!(catalog_editing::create_product))
        .routes(routes!(catalog_editing::update_product))
        .routes(routes!(catalog_editing::set_product_status))
        .routes(routes!(catalog_editing::add_sku))
        .routes(routes!(catalog_editing::update_sku))
        .routes(routes!(catalog_editing::adjust_stock))
        .routes(routes!(back_office::list_orders))
        .routes(routes!(back_office::ship))
        .routes(routes!(back_office::list_after_sales))
        .routes(routes!(back_office::after_sale))
        .routes(routes!(back_office::after_sale_step))
        .routes(routes!(back_office::after_sale_refund))
        .routes(routes!(back_office::create_template, back_office::list_templates))
        .routes(routes!(back_office::set_template_status))
        .routes(routes!(back_office::template_claims))
        .routes(routes!(back_office::adjust_points))
        .routes(routes!(back_office::search_ledger))
        .routes(routes!(back_office::list_tiers))
        .routes(routes!(back_office::save_tier))
        .routes(routes!(back_office::list_customers))
        .routes(routes!(back_office::customer))
        .routes(routes!(back_office::freeze_customer))
        .routes(routes!(back_office::unfreeze_customer))
}
