//! The codeverifier API, exactly as the real client calls it: casper-client 5.0.1 (crates.io),
//! `lib/verification.rs` (the calls) and `lib/verification_types.rs` (the documents).
//!
//! - `POST {base}/verification` with `{"hash": "<as the user typed it>", "code_archive": "<base64
//!   of a tar.gz of the project's top-level entries minus .git and target>"}`. The client prints
//!   any status other than 200 and polls anyway.
//! - `GET {base}/verification/{hash}/status` → `{"status": Waiting|Pending|Verified|Failed,
//!   "error"?: {"code", "description"}}`. The client polls (3 s, doubling up to 300 s) until
//!   Verified or Failed; any status other than 200 ends its wait.
//! - `GET {base}/verification/{hash}/details` → `{"status", "result": {"binary_uri",
//!   "logs_uri"}}`; the client parses it whatever the outcome, so a failed verification answers it
//!   too.
//!
//! `{hash}` in the URL is the string the user gave the client, so every form of a hash that
//! `repro_chain::install::Requested::parse` accepts (`HEX`, `deploy-HEX`, `transaction-v1-HEX`) is
//! accepted here too.

use serde::{Deserialize, Serialize};

/// `VerificationStatus`: the client's four states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    /// Queued, no worker has it yet.
    Waiting,
    /// A worker is verifying it.
    Pending,
    Verified,
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Waiting => "Waiting",
            Status::Pending => "Pending",
            Status::Verified => "Verified",
            Status::Failed => "Failed",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        [
            Status::Waiting,
            Status::Pending,
            Status::Verified,
            Status::Failed,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// `VerificationErrorCode`, with the client's spelling (the client rejects any other).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErrorCode {
    Ok,
    None,
    BytecodeMismatch,
    BuildError,
    ContractAlreadyVerified,
    ContractNotFound,
    Internal,
    InvalidContract,
    InvalidHash,
    WrongCodeArchive,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Ok => "Ok",
            ErrorCode::None => "None",
            ErrorCode::BytecodeMismatch => "BytecodeMismatch",
            ErrorCode::BuildError => "BuildError",
            ErrorCode::ContractAlreadyVerified => "ContractAlreadyVerified",
            ErrorCode::ContractNotFound => "ContractNotFound",
            ErrorCode::Internal => "Internal",
            ErrorCode::InvalidContract => "InvalidContract",
            ErrorCode::InvalidHash => "InvalidHash",
            ErrorCode::WrongCodeArchive => "WrongCodeArchive",
        }
    }

    pub fn parse(s: &str) -> Option<ErrorCode> {
        use ErrorCode::*;
        [
            Ok,
            None,
            BytecodeMismatch,
            BuildError,
            ContractAlreadyVerified,
            ContractNotFound,
            Internal,
            InvalidContract,
            InvalidHash,
            WrongCodeArchive,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// `VerificationError`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Error {
    pub code: ErrorCode,
    pub description: String,
}

/// `VerificationRequest` (5.0.x names the field `hash`; earlier clients sent `deploy_hash`).
#[derive(Debug, Clone, Deserialize)]
pub struct Request {
    #[serde(alias = "deploy_hash")]
    pub hash: String,
    pub code_archive: String,
}

/// `VerificationResult`: the status answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusDoc {
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Error>,
}

/// `VerificationDetailsResult`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DetailsResult {
    pub binary_uri: String,
    pub logs_uri: String,
}

/// `VerificationDetails`: the details answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DetailsDoc {
    pub status: Status,
    pub result: DetailsResult,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_the_serde_spelling() {
        for s in ["Waiting", "Pending", "Verified", "Failed"] {
            let v = Status::parse(s).unwrap();
            assert_eq!(serde_json::to_value(v).unwrap(), s);
        }
        for s in [
            "Ok",
            "None",
            "BytecodeMismatch",
            "BuildError",
            "ContractAlreadyVerified",
            "ContractNotFound",
            "Internal",
            "InvalidContract",
            "InvalidHash",
            "WrongCodeArchive",
        ] {
            let v = ErrorCode::parse(s).unwrap();
            assert_eq!(serde_json::to_value(v).unwrap(), s);
        }
        assert_eq!(Status::parse("verified"), None);
    }

    #[test]
    fn a_status_without_error_has_no_error_field() {
        let doc = StatusDoc {
            status: Status::Waiting,
            error: None,
        };
        assert_eq!(
            serde_json::to_string(&doc).unwrap(),
            r#"{"status":"Waiting"}"#
        );
    }
}
