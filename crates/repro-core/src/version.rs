//! Casper protocol versions (`major.minor.patch`), as they appear in chainspecs and block headers.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A Casper protocol version such as `1.5.8`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProtocolVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl ProtocolVersion {
    pub const fn new(major: u32, minor: u32, patch: u32) -> Self {
        Self {
            major,
            minor,
            patch,
        }
    }
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// A string that is not `MAJOR.MINOR.PATCH` with decimal numbers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a protocol version (expected MAJOR.MINOR.PATCH, e.g. 1.5.8)")]
pub struct ParseVersionError(pub String);

impl FromStr for ProtocolVersion {
    type Err = ParseVersionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseVersionError(s.to_owned());
        let mut parts = s.trim().split('.');
        let mut next = || -> Result<u32, ParseVersionError> {
            let part = parts.next().ok_or_else(err)?;
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err());
            }
            part.parse().map_err(|_| err())
        };
        let version = ProtocolVersion::new(next()?, next()?, next()?);
        if parts.next().is_some() {
            return Err(err());
        }
        Ok(version)
    }
}

impl Serialize for ProtocolVersion {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl schemars::JsonSchema for ProtocolVersion {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ProtocolVersion".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "string", "pattern": "^[0-9]+\\.[0-9]+\\.[0-9]+$"})
    }
}

impl<'de> Deserialize<'de> for ProtocolVersion {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_orders() {
        let v: ProtocolVersion = "1.4.13".parse().unwrap();
        assert_eq!(v, ProtocolVersion::new(1, 4, 13));
        assert!(v < "1.4.15".parse().unwrap());
        assert!(ProtocolVersion::new(1, 5, 8) < ProtocolVersion::new(2, 0, 0));
        assert_eq!(v.to_string(), "1.4.13");
    }

    #[test]
    fn rejects_malformed() {
        for bad in ["", "1.5", "1.5.8.1", "a.b.c", "1..8", "1.5.-1", "+1.5.8"] {
            assert!(bad.parse::<ProtocolVersion>().is_err(), "{bad}");
        }
    }
}
