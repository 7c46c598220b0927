// Decoding one KVM_RUN exit from the kvm_run area alone: a pure function of
// its contents (no ioctl, no vCPU state), so every exit reason, including
// malformed ones a kernel should never produce, is unit-tested without KVM
// (Firecracker decodes its exits the same way). The vCPU then acts on the
// decoded exit (kvm_vcpu.cpp): hands out string-I/O elements, recognises its
// breakpoint hlt, turns failures into VcpuError.
#pragma once
#include <linux/kvm.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace rrvm::kvm {

struct DecodedExit {
  enum class Kind {
    PortIo,         // io: direction, port, size, count, data_offset
    Mmio,           // mmio: address, length, is_write, data (writes)
    Halt,
    IrqWindowOpen,
    Interrupted,    // KVM_EXIT_INTR: a signal (kick) ended the run
    Debug,          // single step / guest debug
    Shutdown,       // triple fault, or a system event (reset, shutdown, crash)
    Failure,        // the backend cannot go on: message says why
  };
  Kind kind = Kind::Failure;
  bool is_write = false;
  uint16_t port = 0;
  uint8_t size = 0;         // PortIo: element size 1/2/4; Mmio: 1..8 bytes
  uint32_t count = 0;       // PortIo: elements (rep ins/outs), >= 1
  uint64_t data_offset = 0; // PortIo: first element's offset in kvm_run
  uint64_t address = 0;     // Mmio: guest-physical
  uint64_t data = 0;        // Mmio writes: the value, little endian
  std::string message;      // Shutdown / Failure: one line, without registers
};

// `run_size` is the size of the mmap'd area (KVM_GET_VCPU_MMAP_SIZE): a
// port-I/O exit's elements must lie inside it.
DecodedExit decode_kvm_exit(const kvm_run& run, size_t run_size);

}  // namespace rrvm::kvm
