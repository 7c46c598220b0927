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

bool DisplaySampler::on_boundary(const Position&) {
  gather_dirty();
  return false;
}

void DisplaySampler::on_stop(const Position&, const RunResult&) { sample(last_ns_, false); }

std::vector<uint8_t> DisplaySampler::save_state() const {
  ByteWriter w;
  w.header("DSMP", 1);
  w.u64(period_);
  w.u64(next_);
  w.u64(last_ns_);
  w.u64(frames_);
  w.u32(uint32_t(pending_.size()));
  for (uint64_t word : pending_) w.u64(word);
  w.u32(uint32_t(last_registers_.size()));
  w.bytes(last_registers_);
  return w.take();
}

void DisplaySampler::load_state(std::span<const uint8_t> bytes) {
  ByteReader r(bytes, "display-sampler state");
  r.header("DSMP", 1);
  if (r.u64() != period_) r.fail("frame period differs from this sampler's");
  const uint64_t next = r.u64(), last_ns = r.u64(), frames = r.u64();
  const uint32_t words = r.u32();
  if (words > vga_.vram().size() / kPageSize / 64 + 1) r.fail("dirty bitmap larger than VRAM");
  DirtyBitmap pending(words);
  for (auto& word : pending) word = r.u64();
  const uint32_t n = r.u32();
  if (n > r.remaining()) r.fail("display registers longer than the state");
  std::vector<uint8_t> regs(n);
  r.bytes(regs);
  r.finish();
  next_ = next;
  last_ns_ = last_ns;
  frames_ = frames;
  pending_ = std::move(pending);
  last_registers_ = std::move(regs);
}

}  // namespace rrvm
