//! `codeverifier-client BASE_URL HASH PROJECT_DIR`: the real casper-client 5.0.1's
//! `verify_contract` (its `lib/verification.rs`: archive the project, POST /verification, poll
//! /verification/{hash}/status, GET /verification/{hash}/details), unchanged, behind a command
//! line. casper-client 5.0.1's own binary has no verify-contract subcommand; this is the library
//! call that a wallet or explorer embedding casper-client makes.
//!
//! Prints the details document the client parsed, as JSON, and exits 0; exits 1 when the client
//! reports a failure, 2 on bad arguments.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [base_url, hash, project] = args.as_slice() else {
        eprintln!("usage: codeverifier-client BASE_URL HASH PROJECT_DIR");
        return ExitCode::from(2);
    };
    // Verbosity 2 (High): the client prints each status it polls.
    match casper_client::cli::verify_contract(hash, base_url, Some(project), 2).await {
        Ok(details) => {
            match serde_json::to_string(&details) {
                Ok(json) => println!("DETAILS {json}"),
                Err(e) => {
                    eprintln!("cannot print the details: {e}");
                    return ExitCode::from(1);
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("verify_contract failed: {e}");
            ExitCode::from(1)
        }
    }
}
