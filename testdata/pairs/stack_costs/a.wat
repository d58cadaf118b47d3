;; The same limiter and limit; the per-function stack cost differs (2 vs 3): another limiter
;; implementation counted locals or operand heights differently.
(module
  (memory 1)
  (global $sh (mut i32) (i32.const 0))
  (func $g (result i32) (local i32 i32) i32.const 7)
  (func (export "call") (result i32)
    global.get $sh i32.const 2 i32.add global.set $sh
    global.get $sh i32.const 500 i32.gt_u if unreachable end
    call $g
    global.get $sh i32.const 2 i32.sub global.set $sh))
