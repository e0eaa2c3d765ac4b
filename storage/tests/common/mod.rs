//! Test helpers shared by the storage test binaries.

pub mod oracle;
