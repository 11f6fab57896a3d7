//! The shared conformance suite on the in-memory store.

mallkit_conformance::suite!(async { mallkit_storage_memory::MemoryStore::new() });
