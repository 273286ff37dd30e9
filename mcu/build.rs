//! Puts the memory map of the target's QEMU machine where the runtime
//! crate's `link.x` includes it (`memory.x`).
use std::path::PathBuf;

fn main() {
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let source = match arch.as_str() {
        "riscv32" => "memory-riscv32.x",
        "arm" => "memory-arm.x",
        _ => return,
    };
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::copy(source, out.join("memory.x")).expect("memory map copied");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed={source}");
    println!("cargo:rerun-if-changed=build.rs");
}
