;; Built by nightly-2023-03-25 (rustc commit 8a73f50d…).
(module
  (@producers (language "Rust" "") (processed-by "rustc" "1.70.0-nightly (8a73f50d8 2023-03-24)"))
  (memory 1)
  (func (export "call") (result i32) i32.const 1048576)
  (data (i32.const 1048576)
    "/rustc/8a73f50d875840b8077b8ec080fa41881d96ce40/library/core/src/panicking.rs\00\00"))
