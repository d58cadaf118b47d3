;; Both sides are metered through env.gas; only the charged constants differ (a cost table with
;; every instruction at 1 on side A, at 10 on side B).
(module
  (import "env" "gas" (func $gas (param i32)))
  (memory 1)
  (func $add (param i32) (result i32)
    i32.const 40 call $gas
    local.get 0 i32.const 1 i32.add return)
  (func (export "call") (param i32) (result i32)
    i32.const 90 call $gas
    local.get 0 i32.const 2 i32.mul local.get 0 i32.add call $add drop local.get 0 return))
