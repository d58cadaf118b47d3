(module
  (memory 1)
  (func (export "sext") (param i32) (result i32)
    local.get 0 i32.const 24 i32.shl i32.const 24 i32.shr_s))
