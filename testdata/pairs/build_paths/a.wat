;; Panic-location strings embed the build paths: alice's machine, the older sparse index dir.
(module
  (memory 1)
  (func (export "call") (result i32) i32.const 1048576)
  (data (i32.const 1048576)
    "called `Option::unwrap()` on a `None` value"
    "/home/alice/.cargo/registry/src/index.crates.io-6f17d22bba15001f/casper-types-4.0.1/src/bytesrepr.rs"
    "\00\00\00\00"
    "/home/alice/src/cep18/contract/src/main.rs"
    "\01\00\00\00"))
