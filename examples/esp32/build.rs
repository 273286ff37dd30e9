//! Passes ESP-IDF's build settings (linker arguments, cfgs) to this crate.

fn main() {
    embuild::espidf::sysenv::output();
}
