//! The network card: QEMU's virtio-net on the riscv32 `virt` machine's
//! virtio-mmio bus, driven by `virtio-drivers`' raw driver, as a smoltcp
//! [`Device`]. Its queues and frame buffers are static memory (as a
//! device's DMA buffers would be), never the heap, so the heap figures are
//! the client's alone.

use core::cell::Cell;
use core::ptr::NonNull;

use critical_section::Mutex;
use smoltcp::phy::{self, Device, DeviceCapabilities, Medium};
use smoltcp::time::Instant;
use static_cell::ConstStaticCell;
use virtio_drivers::device::net::VirtIONetRaw;
use virtio_drivers::transport::mmio::{MmioTransport, VirtIOHeader};
use virtio_drivers::transport::{DeviceType, Transport};
use virtio_drivers::{BufferDirection, Hal, PAGE_SIZE, PhysAddr};

/// The `virt` machine's eight virtio-mmio slots.
const MMIO_BASE: usize = 0x1000_1000;
const MMIO_SLOT: usize = 0x1000;
const MMIO_SLOTS: usize = 8;

/// Descriptors per virtqueue.
const QUEUE_SIZE: usize = 16;
/// Receive buffers kept with the card.
const RX_BUFFERS: usize = 8;
/// A receive buffer: the virtio-net header (12 bytes) and a 1514-byte frame
/// (virtio-drivers' minimum, 1526).
const RX_BUFFER_BYTES: usize = 1536;
/// The largest Ethernet frame (without FCS) at an MTU of 1500.
const FRAME_BYTES: usize = 1514;
/// Pages of DMA memory for the two virtqueues (each fits in two pages at 16 descriptors).
const DMA_PAGES: usize = 8;

#[repr(C, align(4096))]
struct DmaPages([u8; DMA_PAGES * PAGE_SIZE]);

static DMA: ConstStaticCell<DmaPages> = ConstStaticCell::new(DmaPages([0; DMA_PAGES * PAGE_SIZE]));
/// (base of the DMA pages, pages handed out)
static DMA_NEXT: Mutex<Cell<(usize, usize)>> = Mutex::new(Cell::new((0, 0)));
static RX: ConstStaticCell<[[u8; RX_BUFFER_BYTES]; RX_BUFFERS]> =
    ConstStaticCell::new([[0; RX_BUFFER_BYTES]; RX_BUFFERS]);
static FRAMES: ConstStaticCell<[[u8; FRAME_BYTES]; 2]> =
    ConstStaticCell::new([[0; FRAME_BYTES]; 2]);

/// virtio-drivers' platform glue: physical addresses are the CPU's (no MMU,
/// no IOMMU), DMA memory is carved from a static region and never returned.
struct BareMetalHal;

// SAFETY: `dma_alloc` hands out page-aligned, zeroed pages of a static region,
// each at most once (the region is taken once, the bump pointer only grows);
// addresses are identity mapped, so sharing a buffer is its address.
unsafe impl Hal for BareMetalHal {
    fn dma_alloc(pages: usize, _direction: BufferDirection) -> (PhysAddr, NonNull<u8>) {
        let start = critical_section::with(|cs| {
            let cell = DMA_NEXT.borrow(cs);
            let (mut base, used) = cell.get();
            if base == 0 {
                base = DMA.take().0.as_mut_ptr() as usize;
            }
            if used + pages > DMA_PAGES {
                return None;
            }
            cell.set((base, used + pages));
            Some(base + used * PAGE_SIZE)
        });
        let Some(start) = start else {
            semihosting::eprintln!("configcat-mcu: virtio DMA pages exhausted");
            crate::exit(crate::FAULT_EXIT);
        };
        // The region is zeroed at reset and pages are never handed out twice.
        let pointer = NonNull::new(start as *mut u8).unwrap_or(NonNull::dangling());
        (start as PhysAddr, pointer)
    }

    unsafe fn dma_dealloc(_paddr: PhysAddr, _vaddr: NonNull<u8>, _pages: usize) -> i32 {
        // The queues live as long as the firmware: nothing is given back.
        0
    }

    unsafe fn mmio_phys_to_virt(paddr: PhysAddr, _size: usize) -> NonNull<u8> {
        NonNull::new(paddr as usize as *mut u8).unwrap_or(NonNull::dangling())
    }

    unsafe fn share(buffer: NonNull<[u8]>, _direction: BufferDirection) -> PhysAddr {
        buffer.cast::<u8>().as_ptr() as usize as PhysAddr
    }

    unsafe fn unshare(_paddr: PhysAddr, _buffer: NonNull<[u8]>, _direction: BufferDirection) {}
}

/// Frames and bytes through the card, in each direction.
#[derive(Clone, Copy, Default)]
pub struct FrameCounts {
    /// Frames sent.
    pub sent: u32,
    /// Ethernet bytes sent (headers included, FCS excluded).
    pub sent_bytes: u64,
    /// Frames received.
    pub received: u32,
    /// Ethernet bytes received.
    pub received_bytes: u64,
}

/// The virtio-net card as a smoltcp device.
pub struct Nic {
    raw: VirtIONetRaw<BareMetalHal, MmioTransport<'static>, QUEUE_SIZE>,
    rx: &'static mut [[u8; RX_BUFFER_BYTES]; RX_BUFFERS],
    /// The token of each receive buffer with the card.
    tokens: [u16; RX_BUFFERS],
    /// The last frame received (copied out, so its buffer goes back to the card at once).
    frame_in: &'static mut [u8; FRAME_BYTES],
    frame_in_len: usize,
    frame_out: &'static mut [u8; FRAME_BYTES],
    counts: FrameCounts,
}

impl Nic {
    /// Finds the virtio-net card on the virtio-mmio bus and starts it;
    /// `None` when the machine has none.
    #[must_use]
    #[inline(never)]
    pub fn probe() -> Option<Self> {
        let transport = (0..MMIO_SLOTS).find_map(|slot| {
            let header = NonNull::new((MMIO_BASE + slot * MMIO_SLOT) as *mut VirtIOHeader)?;
            // SAFETY: each slot is a virtio-mmio register window of the `virt`
            // machine (0x1000 bytes, header and config space), mapped for the
            // whole run; only the transport made for the card's slot is kept,
            // and nothing else touches that slot.
            let transport = unsafe { MmioTransport::new(header, MMIO_SLOT) }.ok()?;
            (transport.device_type() == DeviceType::Network).then_some(transport)
        })?;
        let mut raw = VirtIONetRaw::new(transport).ok()?;
        let rx = RX.take();
        let mut tokens = [0; RX_BUFFERS];
        for (buffer, token) in rx.iter_mut().zip(&mut tokens) {
            // SAFETY: each buffer is handed to the card once and not read or
            // written until the card returns it (`receive` below).
            *token = unsafe { raw.receive_begin(buffer) }.ok()?;
        }
        let [frame_in, frame_out] = FRAMES.take();
        Some(Self {
            raw,
            rx,
            tokens,
            frame_in,
            frame_in_len: 0,
            frame_out,
            counts: FrameCounts::default(),
        })
    }

    /// The card's MAC address.
    #[must_use]
    pub fn mac(&self) -> [u8; 6] {
        self.raw.mac_address()
    }

    /// Frames and bytes so far.
    #[must_use]
    pub const fn counts(&self) -> FrameCounts {
        self.counts
    }

    /// Takes a received frame from the card into `frame_in` and gives its
    /// buffer back; false when none is waiting.
    fn take_frame(&mut self) -> bool {
        let Some(token) = self.raw.poll_receive() else {
            return false;
        };
        let Some(index) = self.tokens.iter().position(|&t| t == token) else {
            return false;
        };
        let buffer = &mut self.rx[index];
        // SAFETY: `buffer` is the one handed to the card with this token.
        let received = unsafe { self.raw.receive_complete(token, buffer) };
        let mut got = false;
        if let Ok((header, length)) = received {
            if let Some(frame) = buffer.get(header..header + length) {
                let length = frame.len().min(FRAME_BYTES);
                self.frame_in[..length].copy_from_slice(&frame[..length]);
                self.frame_in_len = length;
                self.counts.received += 1;
                self.counts.received_bytes += length as u64;
                got = true;
            }
        }
        // SAFETY: as at start-up: not touched again until the card returns it.
        match unsafe { self.raw.receive_begin(buffer) } {
            Ok(token) => self.tokens[index] = token,
            Err(_) => {
                semihosting::eprintln!("configcat-mcu: virtio-net receive queue broken");
                crate::exit(crate::FAULT_EXIT);
            }
        }
        got
    }
}

/// A received frame, lent to smoltcp.
pub struct RxToken<'a>(&'a [u8]);

/// Room for a frame to send.
pub struct TxToken<'a> {
    raw: &'a mut VirtIONetRaw<BareMetalHal, MmioTransport<'static>, QUEUE_SIZE>,
    frame: &'a mut [u8; FRAME_BYTES],
    counts: &'a mut FrameCounts,
}

impl phy::RxToken for RxToken<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(self.0)
    }
}

impl phy::TxToken for TxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let length = len.min(FRAME_BYTES);
        let result = f(&mut self.frame[..length]);
        // QEMU takes the frame when notified; `send` waits for that.
        if self.raw.send(&self.frame[..length]).is_ok() {
            self.counts.sent += 1;
            self.counts.sent_bytes += length as u64;
        }
        result
    }
}

impl Device for Nic {
    type RxToken<'a> = RxToken<'a>;
    type TxToken<'a> = TxToken<'a>;

    fn receive(&mut self, _timestamp: Instant) -> Option<(RxToken<'_>, TxToken<'_>)> {
        if !self.take_frame() {
            return None;
        }
        Some((
            RxToken(&self.frame_in[..self.frame_in_len]),
            TxToken {
                raw: &mut self.raw,
                frame: &mut *self.frame_out,
                counts: &mut self.counts,
            },
        ))
    }

    fn transmit(&mut self, _timestamp: Instant) -> Option<TxToken<'_>> {
        Some(TxToken {
            raw: &mut self.raw,
            frame: &mut *self.frame_out,
            counts: &mut self.counts,
        })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut capabilities = DeviceCapabilities::default();
        capabilities.medium = Medium::Ethernet;
        capabilities.max_transmission_unit = FRAME_BYTES;
        capabilities.max_burst_size = Some(1);
        capabilities
    }
}
