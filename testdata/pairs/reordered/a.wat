;; Dependency drift: the same bodies, linked in another order (calls renumbered accordingly).
(module
  (memory 1)
  (func $one (param i32) (result i32) local.get 0 i32.const 1 i32.add)
  (func $two (param i32) (result i32) local.get 0 i32.const 2 i32.mul)
  (func $three (param i32) (result i32) local.get 0 i32.const 3 i32.xor)
  (func (export "call") (result i32)
    i32.const 5 call $one call $two call $three))
