//! One module per subcommand. Each exposes `Args` (clap) and `run(Args) -> anyhow::Result<Outcome>`.

pub mod batch;
pub mod build;
pub mod diff;
pub mod fetch;
pub mod inspect;
pub mod landlock_exec;
pub mod protocols;
pub mod replay;
pub mod serve;
pub mod verify;
