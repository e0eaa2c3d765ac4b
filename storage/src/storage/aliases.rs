//! Collection aliases: extra names that resolve to a collection wherever a name is accepted.
//!
//! Why in storage: an alias must survive a restart and change atomically with the collections
//! it names (deleting a collection drops its aliases in the same batch), and resolving it in
//! [`Storage::coll`] makes every operation of both transports accept it without each handler
//! knowing. Aliases are registry rows (`0 | alias/<name>` -> collection name) in the `meta`
//! column family, loaded into a map at open.
//!
//! A change request is a list of actions applied as ONE batch under the admin lock: either all
//! of them take effect or none does (Qdrant promises that no collection change happens between
//! them; one batch is the simplest way to keep that promise).

use std::collections::BTreeMap;

use super::{reg_key, validate_name, Storage};
use crate::error::{Result, StorageError};
use crate::kv::{Batch, Cf, KvBackend, Scan};

/// Registry key prefix of alias rows.
pub(super) const REG_ALIAS: &[u8] = b"alias/";

/// One alias action of a change request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AliasAction {
    /// Points `alias` at `collection` (replacing where it pointed before).
    Create {
        /// The alias.
        alias: String,
        /// The collection it names.
        collection: String,
    },
    /// Removes `alias` (404 when there is none).
    Delete {
        /// The alias.
        alias: String,
    },
    /// Renames alias `old` to `new` (404 when `old` does not exist).
    Rename {
        /// The current name.
        old: String,
        /// The new name.
        new: String,
    },
}

pub(super) fn alias_key(alias: &str) -> Vec<u8> {
    let mut k = REG_ALIAS.to_vec();
    k.extend_from_slice(alias.as_bytes());
    reg_key(&k)
}

/// Reads every alias row.
pub(super) fn load(kv: &dyn KvBackend) -> Result<BTreeMap<String, String>> {
    let mut map = BTreeMap::new();
    let mut err = None;
    kv.scan(Cf::Meta, &reg_key(REG_ALIAS), &[], &mut |k, v| {
        let alias = String::from_utf8_lossy(&k[4 + REG_ALIAS.len()..]).into_owned();
        match String::from_utf8(v.to_vec()) {
            Ok(c) => {
                map.insert(alias, c);
            }
            Err(_) => err = Some(StorageError::Corrupt(format!("alias record {alias} is not UTF-8"))),
        }
        Scan::Continue
    })?;
    match err {
        Some(e) => Err(e),
        None => Ok(map),
    }
}

impl Storage {
    /// Every alias as `(alias, collection)`, sorted by alias.
    pub fn list_aliases(&self) -> Vec<(String, String)> {
        self.aliases.read().iter().map(|(a, c)| (a.clone(), c.clone())).collect()
    }

    /// The aliases of one collection (404 when it does not exist), sorted.
    pub fn collection_aliases(&self, name: &str) -> Result<Vec<String>> {
        let real =
            self.resolve(name).ok_or_else(|| StorageError::CollectionNotFound { name: name.into() })?;
        Ok(self.aliases.read().iter().filter(|(_, c)| **c == real).map(|(a, _)| a.clone()).collect())
    }

    /// The collection a name means: itself when a collection has that name, else the
    /// collection an alias of that name points to.
    pub fn resolve(&self, name: &str) -> Option<String> {
        if self.collections.read().contains_key(name) {
            return Some(name.to_owned());
        }
        let target = self.aliases.read().get(name).cloned()?;
        self.collections.read().contains_key(&target).then_some(target)
    }

    /// Applies alias actions in order as one durable batch. Errors (nothing is applied): an
    /// alias that is a collection's name (409), a missing collection or alias (404), an
    /// invalid name (400).
    pub fn update_aliases(&self, actions: &[AliasAction]) -> Result<()> {
        let _a = self.admin.lock();
        let mut next = self.aliases.read().clone();
        let collections = self.collections.read().keys().cloned().collect::<std::collections::BTreeSet<_>>();
        for action in actions {
            match action {
                AliasAction::Create { alias, collection } => {
                    validate_name(alias)?;
                    if collections.contains(alias) {
                        return Err(StorageError::CollectionExists { name: alias.clone() });
                    }
                    if !collections.contains(collection) {
                        return Err(StorageError::CollectionNotFound { name: collection.clone() });
                    }
                    next.insert(alias.clone(), collection.clone());
                }
                AliasAction::Delete { alias } => {
                    if next.remove(alias).is_none() {
                        return Err(StorageError::AliasNotFound { name: alias.clone() });
                    }
                }
                AliasAction::Rename { old, new } => {
                    validate_name(new)?;
                    if collections.contains(new) {
                        return Err(StorageError::CollectionExists { name: new.clone() });
                    }
                    let Some(c) = next.remove(old) else {
                        return Err(StorageError::AliasNotFound { name: old.clone() });
                    };
                    next.insert(new.clone(), c);
                }
            }
        }
        let mut b = Batch::new();
        let current = self.aliases.read().clone();
        for (alias, coll) in &current {
            if next.get(alias) != Some(coll) {
                b.delete(Cf::Meta, alias_key(alias));
            }
        }
        for (alias, coll) in &next {
            if current.get(alias) != Some(coll) {
                b.put(Cf::Meta, alias_key(alias), coll.as_bytes().to_vec());
            }
        }
        if !b.is_empty() {
            self.kv.write(b)?;
        }
        *self.aliases.write() = next;
        Ok(())
    }

    /// Adds the deletes of `collection`'s aliases to `b`; returns them (to drop from the map
    /// once the batch is written).
    pub(super) fn drop_aliases_of(&self, collection: &str, b: &mut Batch) -> Vec<String> {
        let gone: Vec<String> =
            self.aliases.read().iter().filter(|(_, c)| *c == collection).map(|(a, _)| a.clone()).collect();
        for a in &gone {
            b.delete(Cf::Meta, alias_key(a));
        }
        gone
    }
}
