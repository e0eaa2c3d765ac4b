//! API keys: an admin key for everything and a read-only key for reads. Both transports call
//! [`ApiKeys::check`] with the access the operation's entry in [`crate::operations`] declares.

use crate::service::ServiceError;

/// What an operation needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Reads: info, list, get, query, scroll, count, metrics.
    Read,
    /// Everything that changes data.
    Write,
    /// Acts that replace a collection's or the server's data wholesale (snapshot recovery and
    /// uploads, full snapshots) or change the cluster. Only the admin key grants it; today that
    /// is also the only key that writes, but the level is declared apart so a future
    /// write-only key cannot inherit it.
    Admin,
}

/// The configured keys. With no admin key, authentication is off.
#[derive(Debug, Clone, Default)]
pub struct ApiKeys {
    admin: Option<String>,
    read_only: Option<String>,
}

impl ApiKeys {
    /// From the `security` config section. An empty key counts as unset: compose files pass
    /// `GROVE__SECURITY__API_KEY=` when no key is wanted, and a key of `""` would otherwise match
    /// a request sending an empty `api-key` header.
    pub fn new(admin: Option<String>, read_only: Option<String>) -> Self {
        let set = |k: Option<String>| k.filter(|k| !k.trim().is_empty());
        ApiKeys { admin: set(admin), read_only: set(read_only) }
    }

    /// Whether any key is configured.
    pub fn enabled(&self) -> bool {
        self.admin.is_some()
    }

    /// Checks the key presented (`api-key` header/metadata, or `Authorization: Bearer`).
    pub fn check(&self, presented: Option<&str>, need: Access) -> Result<(), ServiceError> {
        let Some(admin) = &self.admin else { return Ok(()) };
        let Some(key) = presented else {
            return Err(ServiceError::Unauthenticated(
                "Must provide an API key: send it in the `api-key` header".to_owned(),
            ));
        };
        if constant_time_eq(key.as_bytes(), admin.as_bytes()) {
            return Ok(());
        }
        if let Some(ro) = &self.read_only {
            if constant_time_eq(key.as_bytes(), ro.as_bytes()) {
                return match need {
                    Access::Read => Ok(()),
                    Access::Write | Access::Admin => Err(ServiceError::PermissionDenied(
                        "The read-only API key cannot change data; use the admin key".to_owned(),
                    )),
                };
            }
        }
        Err(ServiceError::Unauthenticated("Invalid API key".to_owned()))
    }
}

/// Extracts the key from an `api-key` value or an `Authorization: Bearer` value.
pub fn presented_key<'a>(api_key: Option<&'a str>, authorization: Option<&'a str>) -> Option<&'a str> {
    api_key.or_else(|| authorization.and_then(|a| a.strip_prefix("Bearer ")).map(str::trim))
}

/// Compares without an early exit on the first differing byte, so response time does not
/// reveal how much of a guessed key was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_grant_what_they_should() {
        let open = ApiKeys::default();
        assert!(!ApiKeys::new(Some(String::new()), Some(" ".into())).enabled());
        assert!(open.check(None, Access::Write).is_ok());
        let k = ApiKeys::new(Some("admin".into()), Some("reader".into()));
        assert!(matches!(k.check(None, Access::Read), Err(ServiceError::Unauthenticated(_))));
        assert!(matches!(k.check(Some("nope"), Access::Read), Err(ServiceError::Unauthenticated(_))));
        assert!(k.check(Some("reader"), Access::Read).is_ok());
        assert!(matches!(k.check(Some("reader"), Access::Write), Err(ServiceError::PermissionDenied(_))));
        assert!(k.check(Some("admin"), Access::Write).is_ok());
        assert!(k.check(Some("admin"), Access::Admin).is_ok());
        assert!(matches!(k.check(Some("reader"), Access::Admin), Err(ServiceError::PermissionDenied(_))));
        assert_eq!(presented_key(None, Some("Bearer admin")), Some("admin"));
    }
}
