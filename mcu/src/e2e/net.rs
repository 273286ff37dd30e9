//! The TCP/IP stack: smoltcp over the [`Nic`], a static IPv4 address on
//! QEMU's user-mode network (10.0.2.15/24, gateway 10.0.2.2, which is the
//! host's loopback), and one TCP socket that each HTTP exchange opens and
//! closes. Blocking calls with deadlines on the device's clock.

use core::fmt;

use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet, SocketStorage};
use smoltcp::socket::tcp::{self, State};
use smoltcp::time::Instant as NetInstant;
use smoltcp::wire::{EthernetAddress, IpAddress, IpCidr, IpEndpoint, Ipv4Address};
use static_cell::ConstStaticCell;

use super::clock;
use super::nic::{FrameCounts, Nic};

/// The guest's address on QEMU's user-mode network.
pub const ADDRESS: Ipv4Address = Ipv4Address::new(10, 0, 2, 15);
/// QEMU's user-mode gateway: the host, whose 127.0.0.1 it forwards to.
pub const GATEWAY: Ipv4Address = Ipv4Address::new(10, 0, 2, 2);

const RX_BYTES: usize = 4096;
const TX_BYTES: usize = 1024;

static TCP_RX: ConstStaticCell<[u8; RX_BYTES]> = ConstStaticCell::new([0; RX_BYTES]);
static TCP_TX: ConstStaticCell<[u8; TX_BYTES]> = ConstStaticCell::new([0; TX_BYTES]);
static SOCKETS: ConstStaticCell<[SocketStorage<'static>; 1]> =
    ConstStaticCell::new([SocketStorage::EMPTY]);

/// Why a network operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetError {
    /// The peer refused or reset the connection (nothing listens there).
    Refused,
    /// The deadline passed.
    TimedOut,
    /// The connection is closed (or was never opened).
    NotConnected,
    /// smoltcp refused the operation.
    Stack,
}

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Refused => "connection refused or reset",
            Self::TimedOut => "timed out",
            Self::NotConnected => "not connected",
            Self::Stack => "the TCP/IP stack refused the operation",
        })
    }
}

/// TCP payload bytes through the socket.
#[derive(Clone, Copy, Default)]
pub struct StreamCounts {
    /// Connections opened.
    pub connections: u32,
    /// Payload bytes sent.
    pub sent: u64,
    /// Payload bytes received.
    pub received: u64,
}

/// The interface, its one TCP socket and the counters.
pub struct Net {
    nic: Nic,
    iface: Interface,
    sockets: SocketSet<'static>,
    tcp: SocketHandle,
    next_port: u16,
    streams: StreamCounts,
}

fn timestamp() -> NetInstant {
    NetInstant::from_millis(i64::try_from(clock::uptime_ms()).unwrap_or(i64::MAX))
}

impl Net {
    /// Brings the interface up on `nic`; `seed` varies TCP's initial
    /// sequence numbers and ports from boot to boot.
    #[must_use]
    #[inline(never)]
    pub fn new(mut nic: Nic, seed: u64) -> Self {
        let mut config = Config::new(EthernetAddress(nic.mac()).into());
        config.random_seed = seed;
        let mut iface = Interface::new(config, &mut nic, timestamp());
        iface.update_ip_addrs(|addresses| {
            // Cannot fail: the list is empty and holds at least one address.
            let _ = addresses.push(IpCidr::new(IpAddress::Ipv4(ADDRESS), 24));
        });
        // Cannot fail: the route table is empty.
        let _ = iface.routes_mut().add_default_ipv4_route(GATEWAY);
        let mut sockets = SocketSet::new(&mut SOCKETS.take()[..]);
        let socket = tcp::Socket::new(
            tcp::SocketBuffer::new(&mut TCP_RX.take()[..]),
            tcp::SocketBuffer::new(&mut TCP_TX.take()[..]),
        );
        let tcp = sockets.add(socket);
        Self {
            nic,
            iface,
            sockets,
            tcp,
            next_port: 49152 + (seed % 8192) as u16,
            streams: StreamCounts::default(),
        }
    }

    /// Frames and bytes through the card.
    #[must_use]
    pub const fn frames(&self) -> FrameCounts {
        self.nic.counts()
    }

    /// Payload bytes through TCP.
    #[must_use]
    pub const fn streams(&self) -> StreamCounts {
        self.streams
    }

    /// Moves packets between the card and the socket.
    pub fn poll(&mut self) {
        self.iface
            .poll(timestamp(), &mut self.nic, &mut self.sockets);
    }

    fn socket(&mut self) -> &mut tcp::Socket<'static> {
        self.sockets.get_mut::<tcp::Socket<'static>>(self.tcp)
    }

    /// Polls until `done` says yes (`Some(result)`) or `deadline_ms` passes.
    fn wait<T>(
        &mut self,
        deadline_ms: u64,
        mut done: impl FnMut(&mut tcp::Socket<'static>) -> Option<Result<T, NetError>>,
    ) -> Result<T, NetError> {
        loop {
            self.poll();
            if let Some(result) = done(self.socket()) {
                return result;
            }
            if clock::uptime_ms() >= deadline_ms {
                return Err(NetError::TimedOut);
            }
        }
    }

    /// Opens a TCP connection to `address:port`, waiting until `deadline_ms`.
    ///
    /// # Errors
    /// Refused (reset by the peer), timed out, or smoltcp refused the socket.
    pub fn connect(
        &mut self,
        address: Ipv4Address,
        port: u16,
        deadline_ms: u64,
    ) -> Result<(), NetError> {
        self.abort();
        let local = self.next_port;
        self.next_port = if local >= 65_000 { 49152 } else { local + 1 };
        let remote = IpEndpoint::new(IpAddress::Ipv4(address), port);
        let socket = self.sockets.get_mut::<tcp::Socket<'static>>(self.tcp);
        socket
            .connect(self.iface.context(), remote, local)
            .map_err(|_| NetError::Stack)?;
        self.streams.connections += 1;
        self.wait(deadline_ms, |socket| match socket.state() {
            State::Established => Some(Ok(())),
            State::SynSent | State::SynReceived => None,
            // Closed after the SYN: the peer answered with a reset.
            _ => Some(Err(NetError::Refused)),
        })
    }

    /// Sends all of `data`, waiting until `deadline_ms`.
    ///
    /// # Errors
    /// The connection closed, or the deadline passed.
    pub fn send_all(&mut self, mut data: &[u8], deadline_ms: u64) -> Result<(), NetError> {
        while !data.is_empty() {
            let sent = self.wait(deadline_ms, |socket| {
                if !socket.may_send() {
                    return Some(Err(NetError::NotConnected));
                }
                if !socket.can_send() {
                    return None;
                }
                Some(socket.send_slice(data).map_err(|_| NetError::NotConnected))
            })?;
            self.streams.sent += sent as u64;
            data = &data[sent..];
        }
        // Until the peer has it, so the bytes count as gone.
        self.wait(deadline_ms, |socket| {
            (socket.send_queue() == 0 || !socket.may_send()).then_some(Ok(()))
        })
    }

    /// Receives at least one byte into `buffer`, waiting until
    /// `deadline_ms`; 0 when the peer has closed its side.
    ///
    /// # Errors
    /// The connection was reset, or the deadline passed.
    pub fn receive(&mut self, buffer: &mut [u8], deadline_ms: u64) -> Result<usize, NetError> {
        let read = self.wait(deadline_ms, |socket| {
            if socket.can_recv() {
                return Some(
                    socket
                        .recv_slice(buffer)
                        .map_err(|_| NetError::NotConnected),
                );
            }
            if !socket.may_recv() {
                // A FIN after all data: the end of the stream; no FIN: a reset.
                return Some(match socket.state() {
                    State::CloseWait | State::LastAck | State::Closing | State::TimeWait => Ok(0),
                    _ => Err(NetError::Refused),
                });
            }
            None
        })?;
        self.streams.received += read as u64;
        Ok(read)
    }

    /// Closes the connection (FIN) and waits until `deadline_ms` for the
    /// close to finish; resets it if it does not.
    pub fn close(&mut self, deadline_ms: u64) {
        self.socket().close();
        let closed = self.wait(deadline_ms, |socket| {
            matches!(socket.state(), State::Closed | State::TimeWait).then_some(Ok(()))
        });
        if closed.is_err() {
            self.abort();
        }
    }

    /// Drops the connection at once (RST if open).
    pub fn abort(&mut self) {
        self.socket().abort();
        self.poll();
    }
}
