//! Which Wasm configuration a replay uses, and why: the policy, on plain values.
//!
//! In order: an explicit chainspec; an explicit mainnet protocol version; for chain `casper`, the
//! executing block's protocol version in the built-in mainnet table; for another chain, the node's
//! own chainspec when it is the block's protocol version (a node serves its *current* chainspec,
//! not the one an older block ran); otherwise mainnet's table for that version, with the
//! assumption written down.

use repro_chain::install::Install;
use repro_core::{Protocol, ProtocolError, ProtocolVersion};

use crate::model::ConfigSource;

/// A chainspec given by the user.
#[derive(Debug, Clone, Copy)]
pub struct Chainspec<'a> {
    /// Where it came from, as shown in reports (e.g. the path given).
    pub shown: &'a str,
    /// Its name in the replay's provenance (e.g. the file name).
    pub name: &'a str,
    pub text: &'a [u8],
}

/// What the user asked for, if anything.
#[derive(Debug, Clone, Copy, Default)]
pub struct Explicit<'a> {
    pub protocol: Option<ProtocolVersion>,
    pub chainspec: Option<Chainspec<'a>>,
}

/// Why no configuration could be chosen.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading chainspec {shown}")]
    Chainspec {
        shown: String,
        #[source]
        detail: Detail,
    },
    #[error(
        "--protocol {given} disagrees with the chainspec's [protocol] version {found} ({shown})"
    )]
    Disagree {
        given: ProtocolVersion,
        found: ProtocolVersion,
        shown: String,
    },
    #[error(
        "the executing block is not available, so its protocol version is unknown: give --protocol VERSION or --chainspec FILE"
    )]
    NoVersion,
    #[error("the protocol version `{text}`: {detail}")]
    BadVersion { text: String, detail: String },
    #[error("give --protocol VERSION or --chainspec FILE")]
    Neither,
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
}

/// What was wrong, in words (the cause of a [`ConfigError`]).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Detail(pub String);

/// The protocol of an explicit `--protocol` (mainnet table) and/or chainspec (any network).
pub fn explicit_protocol(explicit: &Explicit<'_>) -> Result<Protocol, ConfigError> {
    match (explicit.protocol, explicit.chainspec) {
        (Some(version), None) => Ok(Protocol::mainnet(version)?),
        (version, Some(c)) => {
            let parsed = std::str::from_utf8(c.text)
                .map_err(|e| e.to_string())
                .and_then(|s| repro_core::parse_chainspec(s).map_err(|e| e.to_string()))
                .map_err(|detail| ConfigError::Chainspec {
                    shown: c.shown.to_owned(),
                    detail: Detail(detail),
                })?;
            if let Some(given) = version
                && given != parsed.version
            {
                return Err(ConfigError::Disagree {
                    given,
                    found: parsed.version,
                    shown: c.shown.to_owned(),
                });
            }
            Ok(Protocol::from_chainspec(&parsed, c.name, c.text)?)
        }
        (None, None) => Err(ConfigError::Neither),
    }
}

/// The replay configuration for `install`, and where it came from.
pub fn choose(
    explicit: &Explicit<'_>,
    install: &Install,
) -> Result<(Protocol, ConfigSource), ConfigError> {
    if explicit.protocol.is_some() || explicit.chainspec.is_some() {
        let protocol = explicit_protocol(explicit)?;
        let from = match &explicit.chainspec {
            Some(c) => format!("chainspec {}", c.shown),
            None => "--protocol, built-in mainnet table".into(),
        };
        let version = protocol.version().to_string();
        if let Some(block) = &install.block
            && block.protocol_version != version
        {
            tracing::warn!(
                "replaying with protocol {version} but the executing block ran protocol {}",
                block.protocol_version
            );
        }
        return Ok((
            protocol,
            ConfigSource {
                protocol_version: version,
                from,
                assumption: None,
            },
        ));
    }
    // The executing block's protocol version; without the block, the one the node wrote into the
    // installed Contract record (2.x effects carry it).
    let (text, from) = match (&install.block, install.contracts.first()) {
        (Some(block), _) => (block.protocol_version.as_str(), "the executing block's"),
        (None, Some(c)) => (
            c.record_protocol_version.as_str(),
            "the installed Contract record's (the block is not available)",
        ),
        (None, None) => return Err(ConfigError::NoVersion),
    };
    let version: ProtocolVersion = text.parse().map_err(|e| ConfigError::BadVersion {
        text: text.to_owned(),
        detail: format!("{e}"),
    })?;
    let chain = &install.transaction.chain_name;
    if chain == "casper" {
        return Ok((
            Protocol::mainnet(version)?,
            ConfigSource {
                protocol_version: version.to_string(),
                from: format!("{from} protocol version, built-in mainnet table"),
                assumption: None,
            },
        ));
    }
    let node = install
        .node_chainspec
        .as_deref()
        .map(|text| repro_core::parse_chainspec(text).map(|parsed| (parsed, text)));
    let mut why_not_node = String::from("the node served no chainspec");
    match node {
        Some(Ok((parsed, text))) if parsed.version == version => {
            let protocol =
                Protocol::from_chainspec(&parsed, "the node's chainspec", text.as_bytes())?;
            let network_note = match &parsed.network {
                Some(n) if n != chain => Some(format!(
                    "the node's chainspec names network `{n}`, the transaction chain `{chain}`"
                )),
                _ => None,
            };
            return Ok((
                protocol,
                ConfigSource {
                    protocol_version: version.to_string(),
                    from: format!(
                        "the node's chainspec (info_get_chainspec, protocol {version} = {from})"
                    ),
                    assumption: network_note,
                },
            ));
        }
        Some(Ok((parsed, _))) => {
            why_not_node = format!(
                "the node's chainspec is for protocol {}, not {version}",
                parsed.version
            );
        }
        Some(Err(e)) => why_not_node = format!("the node's chainspec does not parse: {e}"),
        None => {}
    }
    let protocol = Protocol::mainnet(version)?;
    let assumption = Some(format!(
        "chain `{chain}` is not mainnet (`casper`) and {why_not_node}: its Wasm configuration was assumed to be mainnet {version}'s; give --chainspec for that network's own"
    ));
    Ok((
        protocol,
        ConfigSource {
            protocol_version: version.to_string(),
            from: format!("{from} protocol version, built-in mainnet table"),
            assumption,
        },
    ))
}
