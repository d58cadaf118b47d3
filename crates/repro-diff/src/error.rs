//! Typed errors. Every parse failure carries the byte offset in the input where it was detected.

use serde::Serialize;

/// Which input an error or a fact refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Input {
    /// The first module of a diff.
    A,
    /// The second module of a diff.
    B,
    /// The only module (inspect).
    Module,
}

impl std::fmt::Display for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Input::A => "module A",
            Input::B => "module B",
            Input::Module => "module",
        })
    }
}

/// Errors of this crate. A difference between modules is never an error: it is a report.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes are not a well-formed WebAssembly module.
    #[error("{input} is malformed at offset {offset:#x}: {message}")]
    Malformed {
        /// Which input.
        input: Input,
        /// Byte offset in that input where the problem was detected.
        offset: usize,
        /// What is wrong, from the parser.
        message: String,
    },
    /// `--function` named a function that neither module has.
    #[error("no function {selector:?} in either module")]
    NoSuchFunction {
        /// The selector as given.
        selector: String,
    },
}

impl Error {
    pub(crate) fn malformed(input: Input, offset: usize, message: impl Into<String>) -> Self {
        Error::Malformed {
            input,
            offset,
            message: message.into(),
        }
    }

    pub(crate) fn from_parser(input: Input, err: &wasmparser::BinaryReaderError) -> Self {
        // wasmparser's messages can span lines (pretty-printed arrays): keep one line.
        Error::malformed(
            input,
            err.offset(),
            err.message()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
        )
    }

    /// The byte offset of a malformed-input error.
    pub fn offset(&self) -> Option<usize> {
        match self {
            Error::Malformed { offset, .. } => Some(*offset),
            Error::NoSuchFunction { .. } => None,
        }
    }
}

/// Result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;
