//! The shared conformance suite on PostgreSQL: each case in its own database.

mallkit_conformance::suite!(mallkit_storage_postgres::testing::fresh_store());
