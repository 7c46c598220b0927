// A board with just the PCI host and the Cirrus card, driven through the same
// bus entry points a vCPU exit would use (port I/O, MMIO, slot memory).
#pragma once
#include <cstdint>
#include <cstring>
#include <string>

#include "devices/cirrus/cirrus_vga.h"
#include "devices/pci/pci_host.h"
#include "display/renderer.h"
#include "vmm/clock.h"
#include "vmm/guest_memory.h"
#include "vmm/io_bus.h"

namespace rrvm::test {

struct CirrusRig {
  static constexpr uint64_t kLfb = 0xE0000000, kMmio = 0xE2000000;
  GuestMemory memory;
  ManualClock clock;
  IoBus ports{"port"}, mmio{"mmio"};
  PciHost pci;
  int map_changes = 0;
  CirrusVga vga{memory, clock, [this] { ++map_changes; }};

  CirrusRig() {
    memory.add_slot(0, 0xA0000, "ram");  // low RAM below the VGA hole
    pci.attach(ports);
    pci.add_device(2, &vga);
    vga.attach(ports, mmio);
  }
  void out8(uint16_t port, uint8_t v) { ports.write(port, 1, v); }
  void out16(uint16_t port, uint16_t v) { ports.write(port, 2, v); }
  uint8_t in8(uint16_t port) { return static_cast<uint8_t>(ports.read(port, 1)); }
  uint32_t cfg_read(unsigned dev, unsigned off) {
    ports.write(0xCF8, 4, 0x80000000u | (dev << 11) | (off & 0xFC));
    return static_cast<uint32_t>(ports.read(0xCFC, 4));
  }
  void cfg_write(unsigned dev, unsigned off, uint32_t v) {
    ports.write(0xCF8, 4, 0x80000000u | (dev << 11) | (off & 0xFC));
    ports.write(0xCFC, 4, v);
  }
  // What a driver does: program both BARs, enable memory decoding.
  void enable_bars() {
    cfg_write(2, 0x10, kLfb);
    cfg_write(2, 0x14, kMmio);
    cfg_write(2, 0x04, 0x0002);
  }
  void seq(uint8_t i, uint8_t v) { out8(0x3C4, i); out8(0x3C5, v); }
  void gr(uint8_t i, uint8_t v) { out8(0x3CE, i); out8(0x3CF, v); }
  void crtc(uint8_t i, uint8_t v) { out8(0x3D4, i); out8(0x3D5, v); }
  void attr(uint8_t i, uint8_t v) {
    in8(0x3DA);  // reset the flip-flop
    out8(0x3C0, i);
    out8(0x3C0, v);
  }
  void screen_on() {
    in8(0x3DA);
    out8(0x3C0, 0x20);
  }
  void dac(uint8_t index, uint8_t r, uint8_t g, uint8_t b) {
    out8(0x3C8, index);
    out8(0x3C9, r);
    out8(0x3C9, g);
    out8(0x3C9, b);
  }
  void set_hidden_dac(uint8_t v) {
    for (int i = 0; i < 4; ++i) in8(0x3C6);
    out8(0x3C6, v);
  }
  // Guest CPU store into guest-physical memory: slot memory when a slot maps
  // the address, else an MMIO exit on the bus (exactly what a backend does).
  void store8(uint64_t gpa, uint8_t v) {
    if (uint8_t* p = memory.host_ptr(gpa, 1)) {
      *p = v;
      memory.mark_dirty(gpa, 1);
    } else {
      mmio.write(gpa, 1, v);
    }
  }
  void store32(uint64_t gpa, uint32_t v) {
    if (uint8_t* p = memory.host_ptr(gpa, 4)) {
      std::memcpy(p, &v, 4);
      memory.mark_dirty(gpa, 4);
    } else {
      mmio.write(gpa, 4, v);
    }
  }
  uint8_t load8(uint64_t gpa) {
    if (const uint8_t* p = memory.host_ptr(gpa, 1)) return *p;
    return static_cast<uint8_t>(mmio.read(gpa, 1));
  }
  Frame frame() const {
    auto v = vga.vram();
    return render(vga.display_state(), v.data(), v.size());
  }

  // Cirrus extended linear mode: bpp 8/15/16/24/32, pitch = width * bytes.
  void set_extended_mode(unsigned width, unsigned height, unsigned bpp) {
    out8(0x3C2, 0xE3);
    seq(0x06, 0x12);  // unlock extensions
    uint8_t sr7 = 0x01;
    unsigned bytes = 1;
    switch (bpp) {
      case 15: sr7 |= 0x06; bytes = 2; set_hidden_dac(0xC0); break;
      case 16: sr7 |= 0x06; bytes = 2; set_hidden_dac(0xC1); break;
      case 24: sr7 |= 0x04; bytes = 3; set_hidden_dac(0xC5); break;
      case 32: sr7 |= 0x08; bytes = 4; set_hidden_dac(0xC5); break;
      default: set_hidden_dac(0x00); break;
    }
    seq(0x07, sr7);
    crtc(0x11, 0x00);  // unprotect CR0-7
    crtc(0x01, static_cast<uint8_t>(width / 8 - 1));
    unsigned vde = height - 1;
    crtc(0x12, static_cast<uint8_t>(vde));
    crtc(0x07, static_cast<uint8_t>(((vde >> 8) & 1) << 1 | ((vde >> 9) & 1) << 6));
    crtc(0x09, 0x40);
    unsigned offset = width * bytes / 8;
    crtc(0x13, static_cast<uint8_t>(offset));
    crtc(0x1B, static_cast<uint8_t>(((offset >> 8) & 1) << 4 | 0x02));
    crtc(0x0C, 0);
    crtc(0x0D, 0);
    gr(0x05, 0x40);
    gr(0x06, 0x01);
    screen_on();
  }
};

}  // namespace rrvm::test
