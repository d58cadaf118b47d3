(module
  (memory 1)
  (func $balance (export "balance_of") (result i32) i32.const 0)
  (func $mint (export "mint") (result i32) i32.const 1)
  (func (export "call") (result i32) call $balance))
