;; B was built with a cargo feature that adds an entry point.
(module
  (memory 1)
  (func $balance (export "balance_of") (result i32) i32.const 0)
  (func (export "call") (result i32) call $balance))
