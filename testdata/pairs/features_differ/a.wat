;; A was compiled with sign-ext (newer LLVM default); B lowered it to shifts.
(module
  (memory 1)
  (func (export "sext") (param i32) (result i32) local.get 0 i32.extend8_s))
