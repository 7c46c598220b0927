#include "system/display_sampler.h"

#include "devices/cirrus/cirrus_vga.h"

namespace rrvm {

DisplaySampler::DisplaySampler(GuestMemory& memory, CirrusVga& vga, Sink sink, uint64_t period_ns)
    : memory_(memory), vga_(vga), sink_(std::move(sink)), period_(period_ns), next_(period_ns) {}

void DisplaySampler::gather_dirty() {
  DirtyBitmap bm = memory_.collect_dirty(vga_.vram_slot());
  if (pending_.size() < bm.size()) pending_.resize(bm.size(), 0);
  for (size_t i = 0; i < bm.size(); ++i) pending_[i] |= bm[i];
}

bool DisplaySampler::any_dirty() const {
  for (uint64_t w : pending_)
    if (w) return true;
  return false;
}

void DisplaySampler::sample(uint64_t now_ns, bool force) {
  gather_dirty();
  std::vector<uint8_t> regs = serialize(vga_.display_state());
  bool regs_changed = regs != last_registers_;
  if (!force && !regs_changed && !any_dirty()) return;
  DisplayFrameEvent e;
  e.guest_ns = now_ns;
  if (regs_changed) e.display_registers = regs;
  auto vram = vga_.vram();
  for (size_t w = 0; w < pending_.size(); ++w) {
    for (uint64_t bits = pending_[w]; bits; bits &= bits - 1) {
      uint32_t page = uint32_t(w * 64 + __builtin_ctzll(bits));
      if (uint64_t(page + 1) * kPageSize > vram.size()) continue;
      VramPage p;
      p.index = page;
      p.bytes.assign(vram.begin() + page * kPageSize, vram.begin() + (page + 1) * kPageSize);
      e.pages.push_back(std::move(p));
    }
  }
  std::fill(pending_.begin(), pending_.end(), 0);
  last_registers_ = std::move(regs);
  render_into(vga_.display_state(), vram.data(), vram.size(), frame_);
  ++frames_;
  sink_(e, frame_);
}

void DisplaySampler::advance_to(uint64_t now_ns) {
  if (now_ns < next_) return;
  last_ns_ = now_ns;
  sample(now_ns, false);
  while (next_ <= now_ns) next_ += period_;
}

void DisplaySampler::on_exit(const Position&, const Exit& exit) {
  bool vga_register = exit.kind == ExitKind::PortIo && exit.is_write && exit.address >= 0x3B0 &&
                      exit.address < 0x3E0;
  if (!vga_register) return;
  gather_dirty();
  if (any_dirty()) sample(last_ns_, false);
}

void DisplaySampler::on_stop(const Position&, const RunResult&) { sample(last_ns_, false); }

}  // namespace rrvm
