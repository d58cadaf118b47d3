;; The same code built by bob with a newer cargo (new sparse index dir) in another checkout.
(module
  (memory 1)
  (func (export "call") (result i32) i32.const 1048576)
  (data (i32.const 1048576)
    "called `Option::unwrap()` on a `None` value"
    "/home/bob/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/casper-types-4.0.1/src/bytesrepr.rs"
    "\00\00\00\00"
    "/home/bob/work/cep18/contract/src/main.rs"
    "\01\00\00\00"))
