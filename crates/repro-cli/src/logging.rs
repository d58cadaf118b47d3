//! Logging on stderr: `-v` debug, `-vv` trace, `-q` errors, `RUST_LOG` overrides.
//!
//! Without `RUST_LOG` the filter is a plain maximum level (what the default directives `warn`,
//! `debug`, ... mean), and the formatting subscriber is built the first time something is to be
//! logged, not at start. Most runs log nothing: then they neither parse directives nor set up the
//! span registry, and the libraries' debug spans are no-ops at their call sites. On a small
//! `replay` that was 2 % of the whole process (docs/fidelity.md).

use std::sync::OnceLock;

use tracing::subscriber::Interest;
use tracing::{Dispatch, Event, Metadata, Subscriber, span};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::LevelFilter;

use crate::GlobalArgs;

/// The format of every line: no time, no target, colour only on a terminal without `NO_COLOR`.
macro_rules! formatter {
    () => {
        tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_ansi(
                std::env::var_os("NO_COLOR").is_none()
                    && std::io::IsTerminal::is_terminal(&std::io::stderr()),
            )
            .with_target(false)
            .without_time()
    };
}

/// Installs the global subscriber for these flags and the environment (`RUST_LOG`, `NO_COLOR`).
pub fn init(global: &GlobalArgs) {
    // A RUST_LOG that does not parse leaves the flags in charge, as it always has.
    match std::env::var_os("RUST_LOG").and_then(|_| EnvFilter::try_from_default_env().ok()) {
        Some(filter) => install(Dispatch::new(formatter!().with_env_filter(filter).finish())),
        None => init_levels(global),
    }
}

/// Installs the global subscriber for the flags alone (`RUST_LOG` is not read: `casper-repro`
/// hands command lines that set it to `casper-repro-full`, and so links no directive parser).
pub fn init_levels(global: &GlobalArgs) {
    let level = match (global.quiet, global.verbose) {
        (true, _) => LevelFilter::ERROR,
        (false, 0) => LevelFilter::WARN,
        (false, 1) => LevelFilter::DEBUG,
        (false, _) => LevelFilter::TRACE,
    };
    install(Dispatch::new(Deferred {
        level,
        inner: OnceLock::new(),
    }));
}

fn install(dispatch: Dispatch) {
    // Only fails when a subscriber is already set: then that one stays.
    let _ = tracing::dispatcher::set_global_default(dispatch);
}

/// A level filter in front of the formatting subscriber, which it builds on first use.
struct Deferred {
    level: LevelFilter,
    inner: OnceLock<Dispatch>,
}

impl std::fmt::Debug for Deferred {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deferred")
            .field("level", &self.level)
            .field("built", &self.inner.get().is_some())
            .finish()
    }
}

impl Deferred {
    fn inner(&self) -> &Dispatch {
        self.inner
            .get_or_init(|| Dispatch::new(formatter!().with_max_level(self.level).finish()))
    }

    fn passes(&self, metadata: &Metadata<'_>) -> bool {
        *metadata.level() <= self.level
    }
}

impl Subscriber for Deferred {
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        if self.passes(metadata) {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(self.level)
    }

    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        self.passes(metadata)
    }

    fn new_span(&self, span: &span::Attributes<'_>) -> span::Id {
        self.inner().new_span(span)
    }

    fn record(&self, span: &span::Id, values: &span::Record<'_>) {
        self.inner().record(span, values);
    }

    fn record_follows_from(&self, span: &span::Id, follows: &span::Id) {
        self.inner().record_follows_from(span, follows);
    }

    fn event(&self, event: &Event<'_>) {
        self.inner().event(event);
    }

    fn enter(&self, span: &span::Id) {
        self.inner().enter(span);
    }

    fn exit(&self, span: &span::Id) {
        self.inner().exit(span);
    }

    fn clone_span(&self, id: &span::Id) -> span::Id {
        self.inner().clone_span(id)
    }

    fn try_close(&self, id: span::Id) -> bool {
        self.inner().try_close(id)
    }

    fn current_span(&self) -> tracing_core::span::Current {
        self.inner
            .get()
            .map_or_else(tracing_core::span::Current::none, Dispatch::current_span)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `f` under a fresh `Deferred` at `level`; says whether it built the formatter.
    fn builds(level: LevelFilter, f: impl FnOnce()) -> bool {
        let subscriber = std::sync::Arc::new(Deferred {
            level,
            inner: OnceLock::new(),
        });
        tracing::dispatcher::with_default(&Dispatch::from(subscriber.clone()), f);
        subscriber.inner.get().is_some()
    }

    #[test]
    fn nothing_is_built_until_something_passes_the_level() {
        assert!(!builds(LevelFilter::WARN, || {
            let span = tracing::debug_span!("quiet", n = 1);
            let _entered = span.enter();
            tracing::debug!("not shown");
            tracing::info!("not shown either");
        }));
        assert!(!builds(LevelFilter::ERROR, || tracing::warn!("not shown")));
        assert!(builds(LevelFilter::WARN, || tracing::warn!("shown")));
        assert!(builds(LevelFilter::DEBUG, || {
            let _span = tracing::debug_span!("shown").entered();
        }));
    }
}
