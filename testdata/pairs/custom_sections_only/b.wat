(module
  (memory 1)
  (func (export "call") (result i32) i32.const 42))
