//! Turns `ODRA_MODULE` (set by cargo odra build) into the `odra_module` cfg.
pub fn main() {
    odra_build::build();
}
