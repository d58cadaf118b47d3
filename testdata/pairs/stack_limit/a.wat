;; The node's stack-height limiter around a call; only the limit differs (188 vs 500).
(module
  (memory 1)
  (global $sh (mut i32) (i32.const 0))
  (func $g (result i32) i32.const 7)
  (func (export "call") (result i32)
    global.get $sh i32.const 2 i32.add global.set $sh
    global.get $sh i32.const 188 i32.gt_u if unreachable end
    call $g
    global.get $sh i32.const 2 i32.sub global.set $sh))
