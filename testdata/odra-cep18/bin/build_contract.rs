#![no_std]
#![no_main]
#![allow(unused_imports, clippy::single_component_path_imports)]
use odra_cep18;
