(module
  (memory 1)
  (func $helper (param i32) (result i32)
    local.get 0 i32.const 1 i32.add return)
  (func (export "call")
    i32.const 5 call $helper drop))
