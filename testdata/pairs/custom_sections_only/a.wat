;; A keeps a producers section and a custom section; B is the same module stripped.
(module
  (@producers (language "Rust" "") (processed-by "rustc" "1.68.0-nightly (cc47b0699 2023-01-08)"))
  (@custom "build-note" "built on a laptop")
  (memory 1)
  (func (export "call") (result i32) i32.const 42))
