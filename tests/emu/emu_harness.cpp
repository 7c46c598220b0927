#include "tests/emu/emu_harness.h"

#include <fstream>
#include <iterator>
#include <stdexcept>

#include "vmm/cpuid.h"
#include "vmm/image_loader.h"

namespace rrvm::emutest {

std::string snippet_path(const std::string& name) { return std::string(EMU_TEST_GUEST_DIR) + "/" + name + ".bin"; }

Harness::Harness(const std::string& snippet, Mode mode, bool log_dirty) : memory(std::make_unique<GuestMemory>()) {
  std::ifstream in(snippet_path(snippet), std::ios::binary);
  if (!in) throw std::runtime_error("cannot open snippet " + snippet_path(snippet));
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Registers regs;
  if (mode == Mode::Real) {
    memory->add_slot(0, 0x80000, "ram", log_dirty);
    entry = 0x7C00;
    regs = real_mode_state(0, 0x7C00);
  } else {
    memory->add_slot(0, 0x100000, "ram", log_dirty);
    entry = 0x10000;
    write_flat_gdt(*memory);
    regs = flat32_state(0x10000);
  }
  if (!memory->write(entry, bytes.data(), bytes.size())) throw std::runtime_error("snippet too large");
  cpu = create_emu_vcpu(*memory, default_cpuid_table());
  cpu->set_registers(regs);
}

Exit Harness::run_collect(std::vector<Exit>* io, uint64_t read_value) {
  for (;;) {
    Exit e = cpu->run({});
    if (e.kind != ExitKind::PortIo && e.kind != ExitKind::Mmio) return e;
    if (!e.is_write) cpu->complete_read(read_value);
    if (io) io->push_back(e);
  }
}

uint32_t Harness::read32(uint64_t gpa) const {
  uint32_t v = 0;
  memory->read(gpa, &v, 4);
  return v;
}

}  // namespace rrvm::emutest
