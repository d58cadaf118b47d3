;; A as a node stores it (env.gas metering, env.memory import); B the raw build.
(module
  (import "env" "gas" (func $gas (param i32)))
  (import "env" "memory" (memory 1 64))
  (func $helper (param i32) (result i32)
    i32.const 4 call $gas
    local.get 0 i32.const 1 i32.add return)
  (func (export "call")
    i32.const 3 call $gas
    i32.const 5 call $helper drop))
