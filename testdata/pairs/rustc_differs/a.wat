;; Built by nightly-2023-01-09 (rustc commit cc47b069…).
(module
  (@producers (language "Rust" "") (processed-by "rustc" "1.68.0-nightly (cc47b0699 2023-01-08)"))
  (memory 1)
  (func (export "call") (result i32) i32.const 1048576)
  (data (i32.const 1048576)
    "/rustc/cc47b069983292e4ee8982d5a58bc6b6ef1b8fd2/library/core/src/panicking.rs\00\00"))
