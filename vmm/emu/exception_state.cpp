#include "vmm/emu/exception_state.h"

#include <cstdint>
#include <cstring>
#include <mutex>
#include <vector>

namespace rrvm {
namespace {

struct Probe {
  uc_engine* uc = nullptr;
  uint32_t last_vector = 0xFFFFFFFF;
};

void probe_intr(uc_engine* uc, uint32_t intno, void* user) {
  static_cast<Probe*>(user)->last_vector = intno;
  uc_emu_stop(uc);
}

// Runs one `div ecx` (ecx = 0) at 0x1000 and returns the vector reported.
uint32_t run_divide(Probe& p) {
  uint32_t zero = 0, eip = 0x1000;
  uc_reg_write(p.uc, UC_X86_REG_ECX, &zero);
  uc_reg_write(p.uc, UC_X86_REG_EIP, &eip);
  p.last_vector = 0xFFFFFFFF;
  uc_emu_start(p.uc, 0x1000, UINT64_MAX, 0, 0);
  return p.last_vector;
}

std::optional<size_t> probe_offset() {
  Probe p;
  if (uc_open(UC_ARCH_X86, UC_MODE_32, &p.uc) != UC_ERR_OK) return std::nullopt;
  std::optional<size_t> found;
  uc_hook hook;
  const uint8_t code[] = {0xF7, 0xF1, 0xF4};  // div ecx; hlt
  const size_t size = uc_context_size(p.uc);
  uc_context *before = nullptr, *after = nullptr;
  if (uc_mem_map(p.uc, 0, 0x2000, UC_PROT_ALL) == UC_ERR_OK &&
      uc_mem_write(p.uc, 0x1000, code, sizeof code) == UC_ERR_OK &&
      uc_hook_add(p.uc, &hook, UC_HOOK_INTR, reinterpret_cast<void*>(&probe_intr), &p, 1, 0) ==
          UC_ERR_OK &&
      uc_context_alloc(p.uc, &before) == UC_ERR_OK && uc_context_alloc(p.uc, &after) == UC_ERR_OK) {
    uc_context_save(p.uc, before);
    if (run_divide(p) == 0) {
      uc_context_save(p.uc, after);
      auto* b = reinterpret_cast<const uint8_t*>(before);
      auto* a = reinterpret_cast<uint8_t*>(after);
      std::vector<uint8_t> pristine(a, a + size);
      for (size_t off = 0; off + 4 <= size && !found; off += 4) {
        int32_t vb, va;
        std::memcpy(&vb, b + off, 4);
        std::memcpy(&va, a + off, 4);
        if (vb != -1 || va != 0) continue;
        // Candidate: put -1 back and see whether the next #DE is a #DE again.
        std::memcpy(a, pristine.data(), size);
        const int32_t none = -1;
        std::memcpy(a + off, &none, 4);
        uc_context_restore(p.uc, after);
        if (run_divide(p) == 0) found = off;
      }
    }
  }
  if (before) uc_context_free(before);
  if (after) uc_context_free(after);
  uc_close(p.uc);
  return found;
}

}  // namespace

ExceptionStateReset::ExceptionStateReset() {
  static std::once_flag once;
  static std::optional<size_t> offset;
  std::call_once(once, [] { offset = probe_offset(); });
  offset_ = offset;
}

ExceptionStateReset::~ExceptionStateReset() {
  if (scratch_) uc_context_free(scratch_);
}

void ExceptionStateReset::reset(uc_engine* uc) {
  if (!offset_) return;
  if (scratch_owner_ != uc) {
    if (scratch_) uc_context_free(scratch_);
    scratch_ = nullptr;
    if (uc_context_alloc(uc, &scratch_) != UC_ERR_OK) {
      scratch_ = nullptr;
      return;
    }
    scratch_owner_ = uc;
  }
  if (uc_context_save(uc, scratch_) != UC_ERR_OK) return;
  const int32_t none = -1;
  std::memcpy(reinterpret_cast<uint8_t*>(scratch_) + *offset_, &none, 4);
  uc_context_restore(uc, scratch_);
}

}  // namespace rrvm
