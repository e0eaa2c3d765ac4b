//! grove-storage: durable collections on RocksDB.
