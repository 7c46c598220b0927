#include "devices/pci/pci_host.h"

#include <stdexcept>
#include <string>

#include "devices/pci/i440fx.h"

namespace rrvm {

PciDevice::PciDevice(uint16_t vendor, uint16_t device, uint32_t class_code, uint8_t revision) {
  config_[0x00] = static_cast<uint8_t>(vendor);
  config_[0x01] = static_cast<uint8_t>(vendor >> 8);
  config_[0x02] = static_cast<uint8_t>(device);
  config_[0x03] = static_cast<uint8_t>(device >> 8);
  config_[0x08] = revision;
  config_[0x09] = static_cast<uint8_t>(class_code);
  config_[0x0A] = static_cast<uint8_t>(class_code >> 8);
  config_[0x0B] = static_cast<uint8_t>(class_code >> 16);
}

void PciDevice::declare_bar(int bar, PciBarKind kind, uint32_t size) {
  if (bar < 0 || bar >= kBars || size == 0 || (size & (size - 1)))
    throw std::invalid_argument("PCI BAR " + std::to_string(bar) + " needs a power-of-two size");
  bars_[bar].kind = kind;
  bars_[bar].size = size;
  uint8_t low = kind == PciBarKind::Io ? 0x01 : kind == PciBarKind::Memory32Prefetch ? 0x08 : 0x00;
  config_[0x10 + bar * 4] = low;
}

void PciDevice::declare_rom(uint32_t size) {
  if (size < 2048 || (size & (size - 1))) throw std::invalid_argument("PCI expansion ROM needs a power-of-two size >= 2 KiB");
  rom_.kind = PciBarKind::Memory32;
  rom_.size = size;
}

void PciDevice::set_subsystem(uint16_t vendor, uint16_t id) {
  config_[0x2C] = static_cast<uint8_t>(vendor);
  config_[0x2D] = static_cast<uint8_t>(vendor >> 8);
  config_[0x2E] = static_cast<uint8_t>(id);
  config_[0x2F] = static_cast<uint8_t>(id >> 8);
}

uint32_t PciDevice::bar_register(int bar) const {
  unsigned o = bar == kRomBar ? 0x30 : 0x10 + bar * 4;
  return uint32_t(config_[o]) | uint32_t(config_[o + 1]) << 8 | uint32_t(config_[o + 2]) << 16 |
         uint32_t(config_[o + 3]) << 24;
}

std::optional<uint64_t> PciDevice::bar_window(int bar) const {
  if (bar == kRomBar) {
    if (rom_.kind == PciBarKind::None || !memory_enabled()) return std::nullopt;
    const uint32_t reg = bar_register(kRomBar);
    const uint64_t base = reg & ~0x7FFu;
    if (!(reg & 1) || base == 0 || base + rom_.size - 1 >= 0xFFFFFFFFull) return std::nullopt;
    return base;
  }
  if (bar < 0 || bar >= kBars) return std::nullopt;
  const Bar& b = bars_[bar];
  if (b.kind == PciBarKind::None) return std::nullopt;
  uint32_t reg = bar_register(bar);
  if (b.kind == PciBarKind::Io) {
    if (!io_enabled()) return std::nullopt;
    uint64_t base = reg & ~3u & 0xFFFF;
    // Unprogrammed (0) or still showing the sizing pattern: not decoded.
    if (base == 0 || base + b.size - 1 >= 0xFFFF) return std::nullopt;
    return base;
  }
  if (!memory_enabled()) return std::nullopt;
  uint64_t base = reg & ~0xFu;
  if (base == 0 || base + b.size - 1 >= 0xFFFFFFFFull) return std::nullopt;
  return base;
}

uint32_t PciDevice::config_read(unsigned offset, unsigned size) const {
  if (offset >= 256 || size == 0 || size > 4 || offset + size > 256) return 0xFFFFFFFFu;
  uint32_t v = 0;
  for (unsigned i = 0; i < size; ++i) v |= uint32_t(config_[offset + i]) << (8 * i);
  return v;
}

void PciDevice::config_write(unsigned offset, unsigned size, uint32_t value) {
  if (offset >= 256 || size == 0 || size > 4 || offset + size > 256) return;
  for (unsigned i = 0; i < size; ++i) write_byte(offset + i, static_cast<uint8_t>(value >> (8 * i)));
  update_windows();
}

void PciDevice::write_byte(unsigned o, uint8_t v) {
  if (o == 0x04) {  // command: I/O, memory, bus master, parity, SERR, INTx disable
    config_[o] = v & 0x47;
  } else if (o == 0x05) {
    config_[o] = v & 0x05;
  } else if (o == 0x06 || o == 0x07) {
    config_[o] &= static_cast<uint8_t>(~v);  // status: write one to clear
  } else if (o == 0x0C || o == 0x0D || o == 0x3C) {
    config_[o] = v;  // cache line size, latency timer, interrupt line
  } else if (o >= 0x10 && o < 0x28) {
    int bar = static_cast<int>((o - 0x10) / 4);
    const Bar& b = bars_[bar];
    if (b.kind == PciBarKind::None) return;
    unsigned byte = (o - 0x10) % 4;
    uint32_t mask = ~(b.size - 1);
    mask &= b.kind == PciBarKind::Io ? ~3u : ~0xFu;  // type bits are read-only
    uint8_t m = static_cast<uint8_t>(mask >> (8 * byte));
    config_[o] = static_cast<uint8_t>((config_[o] & ~m) | (v & m));
  } else if (o >= 0x30 && o < 0x34) {
    if (rom_.kind == PciBarKind::None) return;
    const uint32_t mask = ~(rom_.size - 1) | 1u;  // address bits and the enable bit
    const uint8_t m = static_cast<uint8_t>(mask >> (8 * (o - 0x30)));
    config_[o] = static_cast<uint8_t>((config_[o] & ~m) | (v & m));
  } else if (o >= 0x40) {
    device_config_write(o, v);
  }
  // Everything else (IDs, class, header type) is read-only.
}

void PciDevice::update_windows() {
  for (int i = 0; i <= kRomBar; ++i) {
    Bar& b = i == kRomBar ? rom_ : bars_[i];
    if (b.kind == PciBarKind::None) continue;
    auto w = bar_window(i);
    if (w != b.window) {
      b.window = w;
      bar_window_changed(i, w);
    }
  }
}

void PciDevice::restore_config_space(std::span<const uint8_t, 256> bytes) {
  for (size_t i = 0; i < 256; ++i) config_[i] = bytes[i];
  for (int i = 0; i <= kRomBar; ++i) {
    Bar& b = i == kRomBar ? rom_ : bars_[i];
    b.window.reset();
    if (b.kind != PciBarKind::None) bar_window_changed(i, std::nullopt);
  }
  update_windows();
}

PciHost::PciHost() : bridge_(std::make_unique<I440fxHostBridge>()) { slots_[0][0] = bridge_.get(); }

PciHost::~PciHost() = default;

void PciHost::attach(IoBus& ports) { ports.add(kBasePort, 8, this); }

void PciHost::add_device(unsigned slot, PciDevice* device, unsigned function) {
  if (slot >= 32 || function >= 8 || slots_[slot][function] || !device)
    throw std::invalid_argument("PCI slot " + std::to_string(slot) + " function " + std::to_string(function) +
                                " is taken or invalid");
  slots_[slot][function] = device;
}

PciDevice* PciHost::selected(unsigned* config_offset) const {
  if (!(address_ & 0x80000000u)) return nullptr;
  if (((address_ >> 16) & 0xFF) != 0) return nullptr;  // only bus 0
  const unsigned slot = (address_ >> 11) & 0x1F, function = (address_ >> 8) & 0x7;
  PciDevice* f0 = slots_[slot][0];
  if (function != 0 && (!f0 || !(f0->config_read(0x0E, 1) & 0x80))) return nullptr;
  *config_offset = address_ & 0xFC;
  return slots_[slot][function];
}

uint64_t PciHost::io_read(uint64_t offset, unsigned size) {
  if (offset == 1 && size == 1 && cf9_) return cf9_->io_read(0, 1);
  if (offset < 4) {
    // The address register; byte/word pieces read their part of it.
    return (address_ >> (8 * offset)) & IoBus::size_mask(size);
  }
  unsigned cfg = 0;
  PciDevice* d = selected(&cfg);
  if (!d) return IoBus::size_mask(size);
  unsigned o = cfg + static_cast<unsigned>(offset - 4);
  if (size > 4 || o + size > cfg + 4) return IoBus::size_mask(size);
  return d->config_read(o, size);
}

void PciHost::io_write(uint64_t offset, unsigned size, uint64_t value) {
  if (offset == 1 && size == 1 && cf9_) {
    cf9_->io_write(0, 1, value);
    return;
  }
  if (offset < 4) {
    if (size == 4 && offset == 0) {
      set_address_register(static_cast<uint32_t>(value));
    } else {
      uint32_t v = address_;
      for (unsigned i = 0; i < size && offset + i < 4; ++i) {
        unsigned sh = 8 * static_cast<unsigned>(offset + i);
        v = (v & ~(0xFFu << sh)) | (uint32_t((value >> (8 * i)) & 0xFF) << sh);
      }
      set_address_register(v);
    }
    return;
  }
  unsigned cfg = 0;
  PciDevice* d = selected(&cfg);
  if (!d) return;
  unsigned o = cfg + static_cast<unsigned>(offset - 4);
  if (size > 4 || o + size > cfg + 4) return;
  d->config_write(o, size, static_cast<uint32_t>(value));
}

std::vector<uint8_t> PciHost::save_state() const {
  ByteWriter w;
  w.header("PCIH", 1);
  w.u32(address_);
  w.bytes(bridge_->config_space());
  return w.take();
}

void PciHost::load_state(std::span<const uint8_t> bytes) {
  ByteReader r(bytes, "pci-host state");
  r.header("PCIH", 1);
  uint32_t address = r.u32();
  std::array<uint8_t, 256> config{};
  r.bytes(config);
  r.finish();
  set_address_register(address);
  bridge_->restore_config_space(config);
}

}  // namespace rrvm
