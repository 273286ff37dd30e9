//! The end-to-end firmware's device side (`--features e2e`, riscv32 `virt`):
//! its clock, its network card, a TCP/IP stack over it, an HTTP connection
//! the embedded client fetches through, and flash in a host file.

pub mod clock;
pub mod flash;
pub mod http;
pub mod net;
pub mod nic;
