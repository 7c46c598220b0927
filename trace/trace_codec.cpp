#include "trace/trace_codec.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>
#include <lz4.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "trace/trace.capnp.h"
#include "vmm/cpu_state.h"
#include "vmm/guest_memory.h"

namespace rrvm {
namespace {

// ---- varint columns -------------------------------------------------------

void put_varint(std::vector<uint8_t>& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<uint8_t>(v));
}
uint64_t zigzag(uint64_t delta) {
  auto d = static_cast<int64_t>(delta);
  return (static_cast<uint64_t>(d) << 1) ^ static_cast<uint64_t>(d >> 63);
}
uint64_t unzigzag(uint64_t v) { return (v >> 1) ^ (~(v & 1) + 1); }
void put_u64_le(std::vector<uint8_t>& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

// Reads a column; every read is bounds-checked and names the column.
class ColumnCursor {
 public:
  ColumnCursor(capnp::Data::Reader data, const char* name)
      : p_(data.begin()), end_(data.end()), name_(name) {}
  uint8_t byte() {
    if (p_ == end_) fail("ends early");
    return *p_++;
  }
  uint64_t u64_le() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= uint64_t{byte()} << (8 * i);
    return v;
  }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      uint8_t b = byte();
      if (shift == 63 && b > 1) fail("has an overlong number");
      v |= uint64_t{b & 0x7Fu} << shift;
      if ((b & 0x80) == 0) return v;
    }
    fail("has an overlong number");
  }
  void expect_end() const {
    if (p_ != end_) fail("has entries no event uses");
  }

 private:
  [[noreturn]] void fail(const char* what) const {
    throw CodecError(std::string("event column ") + name_ + " " + what);
  }
  const uint8_t* p_;
  const uint8_t* end_;
  const char* name_;
};

// ---- registers ------------------------------------------------------------

void put_segment(schema::Segment::Builder b, const Segment& s) {
  b.setSelector(s.selector);
  b.setBase(s.base);
  b.setLimit(s.limit);
  b.setType(s.type);
  b.setPresent(s.present);
  b.setDpl(s.dpl);
  b.setDb(s.db);
  b.setS(s.s);
  b.setL(s.l);
  b.setG(s.g);
  b.setAvl(s.avl);
}
Segment get_segment(schema::Segment::Reader r) {
  Segment s;
  s.selector = r.getSelector();
  s.base = r.getBase();
  s.limit = r.getLimit();
  s.type = r.getType();
  s.present = r.getPresent();
  s.dpl = r.getDpl();
  s.db = r.getDb();
  s.s = r.getS();
  s.l = r.getL();
  s.g = r.getG();
  s.avl = r.getAvl();
  return s;
}

void put_registers(schema::Registers::Builder b, const Registers& r) {
  b.setRax(r.rax); b.setRbx(r.rbx); b.setRcx(r.rcx); b.setRdx(r.rdx);
  b.setRsi(r.rsi); b.setRdi(r.rdi); b.setRsp(r.rsp); b.setRbp(r.rbp);
  b.setR8(r.r8); b.setR9(r.r9); b.setR10(r.r10); b.setR11(r.r11);
  b.setR12(r.r12); b.setR13(r.r13); b.setR14(r.r14); b.setR15(r.r15);
  b.setRip(r.rip);
  b.setRflags(r.rflags);
  put_segment(b.initCs(), r.cs); put_segment(b.initDs(), r.ds);
  put_segment(b.initEs(), r.es); put_segment(b.initFs(), r.fs);
  put_segment(b.initGs(), r.gs); put_segment(b.initSs(), r.ss);
  put_segment(b.initTr(), r.tr); put_segment(b.initLdt(), r.ldt);
  auto gdt = b.initGdt();
  gdt.setBase(r.gdt.base);
  gdt.setLimit(r.gdt.limit);
  auto idt = b.initIdt();
  idt.setBase(r.idt.base);
  idt.setLimit(r.idt.limit);
  b.setCr0(r.cr0); b.setCr2(r.cr2); b.setCr3(r.cr3); b.setCr4(r.cr4);
  b.setEfer(r.efer);
}
Registers get_registers(schema::Registers::Reader b) {
  Registers r;
  r.rax = b.getRax(); r.rbx = b.getRbx(); r.rcx = b.getRcx(); r.rdx = b.getRdx();
  r.rsi = b.getRsi(); r.rdi = b.getRdi(); r.rsp = b.getRsp(); r.rbp = b.getRbp();
  r.r8 = b.getR8(); r.r9 = b.getR9(); r.r10 = b.getR10(); r.r11 = b.getR11();
  r.r12 = b.getR12(); r.r13 = b.getR13(); r.r14 = b.getR14(); r.r15 = b.getR15();
  r.rip = b.getRip();
  r.rflags = b.getRflags();
  r.cs = get_segment(b.getCs()); r.ds = get_segment(b.getDs());
  r.es = get_segment(b.getEs()); r.fs = get_segment(b.getFs());
  r.gs = get_segment(b.getGs()); r.ss = get_segment(b.getSs());
  r.tr = get_segment(b.getTr()); r.ldt = get_segment(b.getLdt());
  r.gdt.base = b.getGdt().getBase();
  r.gdt.limit = b.getGdt().getLimit();
  r.idt.base = b.getIdt().getBase();
  r.idt.limit = b.getIdt().getLimit();
  r.cr0 = b.getCr0(); r.cr2 = b.getCr2(); r.cr3 = b.getCr3(); r.cr4 = b.getCr4();
  r.efer = b.getEfer();
  return r;
}

// ---- helpers --------------------------------------------------------------

capnp::Data::Reader as_data(const std::vector<uint8_t>& v) {
  return capnp::Data::Reader(v.data(), v.size());
}
std::vector<uint8_t> to_vector(capnp::Data::Reader d) { return std::vector<uint8_t>(d.begin(), d.end()); }
capnp::Data::Reader as_data(const Sha256Digest& d) { return capnp::Data::Reader(d.data(), d.size()); }
Sha256Digest get_digest(capnp::Data::Reader d, const char* what) {
  Sha256Digest out{};
  if (d.size() != out.size()) throw CodecError(std::string(what) + " is not a 32-byte SHA-256");
  std::memcpy(out.data(), d.begin(), out.size());
  return out;
}

MessageWords to_words(capnp::MessageBuilder& message) {
  kj::Array<capnp::word> flat = capnp::messageToFlatArray(message);
  MessageWords words(flat.size());
  std::memcpy(words.data(), flat.begin(), flat.size() * sizeof(capnp::word));
  return words;
}

// Runs `decode` on the message's root, turning Cap'n Proto's exceptions
// (bad pointers, limits exceeded) into CodecError.
template <typename Root, typename Fn>
auto with_root(const MessageWords& words, Fn&& decode) {
  try {
    capnp::ReaderOptions options;
    // Our decoders visit every word about once; a message that needs more
    // traversal than a few times its size is an amplification attack.
    options.traversalLimitInWords = words.size() * 4 + 1024;
    options.nestingLimit = 16;
    kj::ArrayPtr<const capnp::word> array(reinterpret_cast<const capnp::word*>(words.data()),
                                          words.size());
    capnp::FlatArrayMessageReader reader(array, options);
    if (reader.getEnd() != array.end()) throw CodecError("message has trailing bytes");
    return decode(reader.getRoot<Root>());
  } catch (const kj::Exception& e) {
    throw CodecError(std::string("malformed Cap'n Proto message: ") + e.getDescription().cStr());
  }
}

uint8_t exit_flags(const ExitEvent& e) {
  return static_cast<uint8_t>(static_cast<uint8_t>(e.kind) | (e.is_write ? 4 : 0) | (e.size << 3));
}

}  // namespace

// ---- VRAM deltas ----------------------------------------------------------

namespace {

// dst ^= src, in fixed 16-byte blocks that -O2 vectorizes (its cost model
// leaves loops of unknown length scalar): a full-screen redraw is ~120 pages
// per display frame, and `rrvm frames` spent a quarter of its time here.
void xor_into(uint8_t* __restrict dst, const uint8_t* __restrict src, size_t n) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (size_t k = 0; k < 16; ++k) dst[i + k] ^= src[i + k];
  for (; i < n; ++i) dst[i] ^= src[i];
}

}  // namespace

std::vector<uint8_t> VramDeltaState::encode(uint32_t index, const std::vector<uint8_t>& content) {
  std::vector<uint8_t>& base = pages_[index];
  std::vector<uint8_t> delta = content;
  if (base.size() == content.size()) xor_into(delta.data(), base.data(), delta.size());
  base = content;
  return delta;
}

std::vector<uint8_t> VramDeltaState::decode(uint32_t index, const uint8_t* delta, size_t size) {
  std::vector<uint8_t>& base = pages_[index];
  if (base.size() == size)
    xor_into(base.data(), delta, size);  // the stored page becomes the new content
  else
    base.assign(delta, delta + size);
  return base;
}

// ---- events ---------------------------------------------------------------

void EventBatchEncoder::note_icount(uint64_t icount) {
  if (!min_icount_ || icount < *min_icount_) min_icount_ = icount;
}

void EventBatchEncoder::add_icount(uint64_t icount) {
  put_varint(icounts_, zigzag(icount - last_icount_));
  last_icount_ = icount;
  note_icount(icount);
}

void EventBatchEncoder::add_point(const KickState& k) {
  if (k.registers && k.rep_rcx) throw std::invalid_argument("trace: asynchronous point with both registers and rCX");
  const bool same = last_point_ && last_point_->pc == k.pc && last_point_->state_hash == k.state_hash &&
                    last_point_->registers == k.registers && last_point_->rep_rcx == k.rep_rcx;
  uint8_t flags = static_cast<uint8_t>((same ? 1 : 0) | (!same && k.registers ? 2 : 0) |
                                       (k.dirty_pages_digest ? 4 : 0) | (!same && k.rep_rcx ? 8 : 0));
  async_flags_.push_back(flags);
  approx_bytes_ += 1;
  if (!same && k.rep_rcx) {
    put_varint(async_rcx_, *k.rep_rcx);
    approx_bytes_ += 3;
  }
  if (!same && k.registers) {
    if (k.registers->pc_linear() != k.pc || execution_point_hash(*k.registers) != k.state_hash)
      throw std::invalid_argument("trace: asynchronous point's pc or hash does not match its registers");
    async_regs_.push_back(*k.registers);
    approx_bytes_ += 400;
  } else if (!same) {
    put_varint(async_pcs_, zigzag(k.pc - last_pc_));
    put_u64_le(async_hashes_, k.state_hash);
    approx_bytes_ += 11;
  }
  if (k.dirty_pages_digest) {
    put_u64_le(async_digests_, k.dirty_pages_digest);
    approx_bytes_ += 8;
  }
  last_pc_ = k.pc;
  last_point_ = KickState{k.pc, k.state_hash, k.registers, k.rep_rcx, 0};
}

void EventBatchEncoder::add(const TraceEvent& event, VramDeltaState& vram) {
  kinds_.push_back(static_cast<uint8_t>(event.kind()));
  approx_bytes_ += 1;
  switch (event.kind()) {
    case TraceEventKind::Exit: {
      ExitEvent e = std::get<ExitEvent>(event.body);
      if (e.size > 8) throw std::invalid_argument("trace: exit access size above 8 bytes");
      if (e.kind == TraceExitKind::Halt || e.kind == TraceExitKind::IrqWindow) {
        e = ExitEvent{e.kind, false, 0, 0, 0};  // these carry nothing else
      }
      exit_flags_.push_back(exit_flags(e));
      approx_bytes_ += 1;
      if (e.kind == TraceExitKind::PortIo || e.kind == TraceExitKind::Mmio) {
        put_varint(exit_addresses_, zigzag(e.address - last_address_));
        last_address_ = e.address;
        uint64_t& last = last_data_[DataKey{e.address, static_cast<uint8_t>(exit_flags(e) & 7)}];
        put_varint(exit_data_, zigzag(e.data - last));
        last = e.data;
        approx_bytes_ += 4;
      }
      break;
    }
    case TraceEventKind::Interrupt: {
      const auto& e = std::get<InterruptEvent>(event.body);
      irq_vectors_.push_back(e.vector);
      irq_flags_.push_back(static_cast<uint8_t>((e.icount ? 1 : 0) | (e.kicked ? 2 : 0)));
      put_varint(irq_ordinals_, e.exit_ordinal - last_irq_ordinal_);
      if (e.exit_ordinal < last_irq_ordinal_)
        throw std::invalid_argument("trace: interrupt exit ordinals went backwards");
      last_irq_ordinal_ = e.exit_ordinal;
      if (e.icount) add_icount(*e.icount);
      if (e.kicked) add_point(*e.kicked);
      approx_bytes_ += 6;
      break;
    }
    case TraceEventKind::ClockSample: {
      uint64_t ns = std::get<ClockSampleEvent>(event.body).ns;
      put_varint(clock_, zigzag(ns - last_clock_));
      last_clock_ = ns;
      approx_bytes_ += 4;
      break;
    }
    case TraceEventKind::SerialInput:
      serial_.push_back(std::get<SerialInputEvent>(event.body).byte);
      approx_bytes_ += 1;
      break;
    case TraceEventKind::TscRead: {
      const uint64_t v = std::get<TscReadEvent>(event.body).value;
      put_varint(tsc_, zigzag(v - last_tsc_));
      last_tsc_ = v;
      approx_bytes_ += 3;
      break;
    }
    case TraceEventKind::CpuChecksum: {
      const auto& e = std::get<CpuChecksumEvent>(event.body);
      checksums_.push_back(e);
      if (e.icount) note_icount(*e.icount);
      approx_bytes_ += 32;
      break;
    }
    case TraceEventKind::ServicePoint: {
      const auto& e = std::get<ServicePointEvent>(event.body);
      svc_flags_.push_back(static_cast<uint8_t>((e.icount ? 1 : 0) | (e.async ? 2 : 0)));
      put_varint(svc_ns_, zigzag(e.ns - last_svc_ns_));
      last_svc_ns_ = e.ns;
      put_varint(svc_ordinals_, zigzag(e.exit_ordinal - last_svc_ordinal_));
      last_svc_ordinal_ = e.exit_ordinal;
      if (e.icount) {
        // Against the point's own time: emu's instruction clock keeps them
        // a constant apart, so the column repeats.
        put_varint(icounts_, zigzag(*e.icount - e.ns));
        last_icount_ = *e.icount;
        note_icount(*e.icount);
      }
      if (e.async) add_point(*e.async);
      approx_bytes_ += 8;
      break;
    }
    case TraceEventKind::DisplayFrame: {
      const auto& e = std::get<DisplayFrameEvent>(event.body);
      EncodedFrame f{e.guest_ns, e.display_registers, {}};
      for (const VramPage& p : e.pages) {
        if (p.bytes.size() != kPageSize) throw std::invalid_argument("trace: VRAM page is not 4096 bytes");
        f.pages.emplace_back(p.index, vram.encode(p.index, p.bytes));
      }
      approx_bytes_ += e.display_registers.size() + e.pages.size() * (kPageSize + 16) + 32;
      frames_.push_back(std::move(f));
      break;
    }
  }
}

void EventBatchEncoder::clear() {
  for (auto* v : {&kinds_, &exit_flags_, &exit_addresses_, &exit_data_, &irq_vectors_, &irq_flags_,
                  &irq_ordinals_, &clock_, &serial_, &svc_flags_, &svc_ns_, &svc_ordinals_, &icounts_,
                  &async_flags_, &async_pcs_, &async_hashes_, &async_digests_, &async_rcx_, &tsc_}) {
    v->clear();
  }
  async_regs_.clear();
  checksums_.clear();
  frames_.clear();
  last_address_ = last_irq_ordinal_ = last_clock_ = last_tsc_ = 0;
  last_svc_ns_ = last_svc_ordinal_ = last_icount_ = last_pc_ = 0;
  last_point_.reset();
  last_data_.clear();
  min_icount_.reset();
  approx_bytes_ = 0;
}

MessageWords EventBatchEncoder::finish() {
  capnp::MallocMessageBuilder message;
  auto b = message.initRoot<schema::EventBatch>();
  b.setKinds(as_data(kinds_));
  b.setExitFlags(as_data(exit_flags_));
  b.setExitAddresses(as_data(exit_addresses_));
  b.setExitData(as_data(exit_data_));
  b.setInterruptVectors(as_data(irq_vectors_));
  b.setInterruptFlags(as_data(irq_flags_));
  b.setInterruptExitOrdinals(as_data(irq_ordinals_));
  b.setClockSamples(as_data(clock_));
  b.setSerialInput(as_data(serial_));
  auto sums = b.initCpuChecksums(static_cast<unsigned>(checksums_.size()));
  for (size_t i = 0; i < checksums_.size(); ++i) {
    sums[i].setExitOrdinal(checksums_[i].exit_ordinal);
    sums[i].setHasIcount(checksums_[i].icount.has_value());
    sums[i].setIcount(checksums_[i].icount.value_or(0));
    sums[i].setRegisterHash(checksums_[i].register_hash);
  }
  b.setLayout(1);
  b.setServiceFlags(as_data(svc_flags_));
  b.setServiceNs(as_data(svc_ns_));
  b.setServiceExitOrdinals(as_data(svc_ordinals_));
  b.setIcounts(as_data(icounts_));
  b.setAsyncFlags(as_data(async_flags_));
  b.setAsyncPcs(as_data(async_pcs_));
  b.setAsyncHashes(as_data(async_hashes_));
  auto regs = b.initAsyncRegisters(static_cast<unsigned>(async_regs_.size()));
  for (size_t i = 0; i < async_regs_.size(); ++i) put_registers(regs[i], async_regs_[i]);
  b.setAsyncDigests(as_data(async_digests_));
  b.setAsyncRcx(as_data(async_rcx_));
  b.setTscReads(as_data(tsc_));
  auto frames = b.initDisplayFrames(static_cast<unsigned>(frames_.size()));
  for (size_t i = 0; i < frames_.size(); ++i) {
    frames[i].setGuestNs(frames_[i].guest_ns);
    frames[i].setDisplayRegisters(as_data(frames_[i].registers));
    auto pages = frames[i].initPages(static_cast<unsigned>(frames_[i].pages.size()));
    for (size_t j = 0; j < frames_[i].pages.size(); ++j) {
      pages[j].setIndex(frames_[i].pages[j].first);
      pages[j].setXorDelta(as_data(frames_[i].pages[j].second));
    }
  }
  MessageWords words = to_words(message);
  clear();
  return words;
}

std::vector<TraceEvent> decode_event_batch(const MessageWords& words, uint32_t expected_count,
                                           VramDeltaState& vram, bool page_bytes) {
  return with_root<schema::EventBatch>(words, [&](schema::EventBatch::Reader b) {
    auto kinds = b.getKinds();
    if (kinds.size() != expected_count) throw CodecError("event batch holds a different number of events than its frame says");
    const uint8_t layout = b.getLayout();
    if (layout > 1) throw CodecError("event batch has an unknown layout " + std::to_string(layout));
    const bool columns = layout == 1;  // format version 5
    ColumnCursor flags(b.getExitFlags(), "exitFlags"), addresses(b.getExitAddresses(), "exitAddresses"),
        data(b.getExitData(), "exitData"), vectors(b.getInterruptVectors(), "interruptVectors"),
        irq_flags(b.getInterruptFlags(), "interruptFlags"),
        ordinals(b.getInterruptExitOrdinals(), "interruptExitOrdinals"),
        icounts(columns ? b.getIcounts() : b.getInterruptIcounts(), columns ? "icounts" : "interruptIcounts"),
        clock(b.getClockSamples(), "clockSamples"), serial(b.getSerialInput(), "serialInput"),
        svc_flags(b.getServiceFlags(), "serviceFlags"), svc_ns(b.getServiceNs(), "serviceNs"),
        svc_ordinals(b.getServiceExitOrdinals(), "serviceExitOrdinals"),
        async_flags(b.getAsyncFlags(), "asyncFlags"), pcs(b.getAsyncPcs(), "asyncPcs"),
        hashes(b.getAsyncHashes(), "asyncHashes"), digests(b.getAsyncDigests(), "asyncDigests"),
        rcx(b.getAsyncRcx(), "asyncRcx"), tsc(b.getTscReads(), "tscReads"),
        unused_icounts(columns ? b.getInterruptIcounts() : b.getIcounts(), columns ? "interruptIcounts" : "icounts");
    auto kicks = b.getKicks();
    auto sums = b.getCpuChecksums();
    auto frames = b.getDisplayFrames();
    auto services = b.getServicePoints();
    auto point_registers = b.getAsyncRegisters();
    unsigned next_kick = 0, next_sum = 0, next_frame = 0, next_service = 0, next_registers = 0;
    uint64_t last_address = 0, last_ordinal = 0, last_icount = 0, last_clock = 0, last_tsc = 0;
    uint64_t last_svc_ns = 0, last_svc_ordinal = 0, last_pc = 0;
    std::optional<KickState> last_point;
    std::unordered_map<uint64_t, uint64_t> last_data[8];  // by kind | write << 2

    // Versions 1-4: a Kick struct with the full registers and a 32-byte digest.
    auto old_kick = [](schema::Kick::Reader k, const char* what) {
      KickState out = KickState::at(get_registers(k.getRegisters()));
      out.dirty_pages_digest = digest_prefix(get_digest(k.getDirtyPagesSha256(), what));
      return out;
    };
    // Version 5: the next asynchronous point of the columns.
    auto next_point = [&]() {
      uint8_t f = async_flags.byte();
      if (f > 15 || (f & 3) == 3 || ((f & 8) && (f & 3)))
        throw CodecError("asynchronous point flags out of range");
      KickState k;
      if (f & 1) {
        if (!last_point) throw CodecError("asynchronous point repeats a point before the batch's first");
        k = *last_point;
      } else if (f & 2) {
        if (next_registers >= point_registers.size())
          throw CodecError("more asynchronous points with registers than register records");
        k = KickState::at(get_registers(point_registers[next_registers++]));
      } else {
        k.pc = last_pc + unzigzag(pcs.varint());
        k.state_hash = hashes.u64_le();
        if (f & 8) k.rep_rcx = rcx.varint();
      }
      last_pc = k.pc;
      last_point = k;
      if (f & 4) {
        k.dirty_pages_digest = digests.u64_le();
        if (!k.dirty_pages_digest) throw CodecError("asynchronous point has a zero changed-pages digest");
      }
      return k;
    };

    std::vector<TraceEvent> events;
    events.reserve(kinds.size());
    for (uint8_t kind : kinds) {
      switch (kind) {
        case static_cast<uint8_t>(TraceEventKind::Exit): {
          uint8_t f = flags.byte();
          ExitEvent e;
          e.kind = static_cast<TraceExitKind>(f & 3);
          e.is_write = (f & 4) != 0;
          e.size = static_cast<uint8_t>((f >> 3) & 15);
          if ((f & 0x80) != 0 || e.size > 8) throw CodecError("exit flags out of range");
          if (e.kind == TraceExitKind::PortIo || e.kind == TraceExitKind::Mmio) {
            e.address = last_address + unzigzag(addresses.varint());
            last_address = e.address;
            uint64_t& last = last_data[f & 7][e.address];
            e.data = last + unzigzag(data.varint());
            last = e.data;
          } else if (e.is_write || e.size != 0) {
            throw CodecError("halt/irq-window exit with an access size");
          }
          events.push_back(TraceEvent{e});
          break;
        }
        case static_cast<uint8_t>(TraceEventKind::Interrupt): {
          InterruptEvent e;
          e.vector = vectors.byte();
          uint8_t f = irq_flags.byte();
          if (f > 3) throw CodecError("interrupt flags out of range");
          uint64_t step = ordinals.varint();
          e.exit_ordinal = last_ordinal + step;
          if (e.exit_ordinal < last_ordinal) throw CodecError("interrupt exit ordinal overflows");
          last_ordinal = e.exit_ordinal;
          if (f & 1) {
            e.icount = last_icount + unzigzag(icounts.varint());
            last_icount = *e.icount;
          }
          if ((f & 2) && columns) {
            e.kicked = next_point();
          } else if (f & 2) {
            if (next_kick >= kicks.size()) throw CodecError("more kicked interrupts than kick records");
            e.kicked = old_kick(kicks[next_kick++], "kick dirty-page hash");
          }
          events.push_back(TraceEvent{std::move(e)});
          break;
        }
        case static_cast<uint8_t>(TraceEventKind::ClockSample): {
          uint64_t ns = last_clock + unzigzag(clock.varint());
          last_clock = ns;
          events.push_back(TraceEvent{ClockSampleEvent{ns}});
          break;
        }
        case static_cast<uint8_t>(TraceEventKind::SerialInput):
          events.push_back(TraceEvent{SerialInputEvent{serial.byte()}});
          break;
        case static_cast<uint8_t>(TraceEventKind::TscRead): {
          last_tsc += unzigzag(tsc.varint());
          events.push_back(TraceEvent{TscReadEvent{last_tsc}});
          break;
        }
        case static_cast<uint8_t>(TraceEventKind::CpuChecksum): {
          if (next_sum >= sums.size()) throw CodecError("more checksum events than checksum records");
          auto s = sums[next_sum++];
          CpuChecksumEvent e;
          e.exit_ordinal = s.getExitOrdinal();
          if (s.getHasIcount()) e.icount = s.getIcount();
          e.register_hash = s.getRegisterHash();
          events.push_back(TraceEvent{e});
          break;
        }
        case static_cast<uint8_t>(TraceEventKind::DisplayFrame): {
          if (next_frame >= frames.size()) throw CodecError("more display events than display records");
          auto fr = frames[next_frame++];
          DisplayFrameEvent e;
          e.guest_ns = fr.getGuestNs();
          e.display_registers = to_vector(fr.getDisplayRegisters());
          for (auto p : fr.getPages()) {
            auto delta = p.getXorDelta();
            if (delta.size() != kPageSize) throw CodecError("VRAM page delta is not 4096 bytes");
            e.pages.push_back(page_bytes ? VramPage{p.getIndex(), vram.decode(p.getIndex(), delta.begin(), delta.size())}
                                         : VramPage{p.getIndex(), {}});
          }
          events.push_back(TraceEvent{std::move(e)});
          break;
        }
        case static_cast<uint8_t>(TraceEventKind::ServicePoint): {
          if (columns) {
            uint8_t f = svc_flags.byte();
            if (f > 3) throw CodecError("service point flags out of range");
            ServicePointEvent e;
            e.ns = last_svc_ns + unzigzag(svc_ns.varint());
            last_svc_ns = e.ns;
            e.exit_ordinal = last_svc_ordinal + unzigzag(svc_ordinals.varint());
            last_svc_ordinal = e.exit_ordinal;
            if (f & 1) {
              e.icount = e.ns + unzigzag(icounts.varint());
              last_icount = *e.icount;
            }
            if (f & 2) e.async = next_point();
            events.push_back(TraceEvent{std::move(e)});
            break;
          }
          if (next_service >= services.size()) throw CodecError("more service events than service records");
          auto sp = services[next_service++];
          ServicePointEvent e;
          e.ns = sp.getNs();
          e.exit_ordinal = sp.getExitOrdinal();
          if (sp.getHasIcount()) e.icount = sp.getIcount();
          if (sp.getHasAsync()) e.async = old_kick(sp.getAsync(), "service dirty-page hash");
          events.push_back(TraceEvent{std::move(e)});
          break;
        }
        default:
          throw CodecError("unknown event kind " + std::to_string(kind));
      }
    }
    for (auto* c : {&flags, &addresses, &data, &vectors, &irq_flags, &ordinals, &icounts, &clock, &serial,
                    &svc_flags, &svc_ns, &svc_ordinals, &async_flags, &pcs, &hashes, &digests, &rcx,
                    &unused_icounts, &tsc})
      c->expect_end();
    if (next_kick != kicks.size() || next_sum != sums.size() || next_frame != frames.size() ||
        next_service != services.size() || next_registers != point_registers.size())
      throw CodecError("event batch has records no event uses");
    return events;
  });
}

// ---- header ---------------------------------------------------------------

namespace {
uint64_t parse_legacy_number(const TraceOption& o) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(o.value.data(), o.value.data() + o.value.size(), v, 10);
  if (ec != std::errc() || end != o.value.data() + o.value.size() || o.value.empty())
    throw CodecError("machine option " + o.key + "='" + o.value + "' is not a decimal number");
  return v;
}
}  // namespace

MessageWords encode_header(const TraceHeader& h) {
  capnp::MallocMessageBuilder message;
  auto b = message.initRoot<schema::TraceHeader>();
  b.setFormatVersion(h.format_version);
  b.setRrvmVersion(h.rrvm_version);
  b.setBackend(h.backend);
  auto m = b.initMachine();
  m.setMemorySize(h.machine.memory_size);
  m.setHasRtcBase(h.machine.rtc_base_seconds.has_value());
  m.setRtcBaseSeconds(h.machine.rtc_base_seconds.value_or(0));
  m.setSerialInput(h.machine.serial_input);
  m.setHasLoadAddress(h.machine.load_address.has_value());
  m.setLoadAddress(h.machine.load_address.value_or(0));
  m.setHasEntry(h.machine.entry.has_value());
  m.setEntry(h.machine.entry.value_or(0));
  m.setHasMaxInstructions(h.machine.max_instructions.has_value());
  m.setMaxInstructions(h.machine.max_instructions.value_or(0));
  m.setFirmware(h.machine.firmware);
  m.setBootDevice(h.machine.boot_device);
  m.setPatchTscReads(h.machine.patch_tsc);
  m.setLinuxBoot(h.machine.linux_boot);
  m.setKernelCommandLine(h.machine.kernel_command_line);
  auto opts = m.initOptions(static_cast<unsigned>(h.machine.options.size()));
  for (size_t i = 0; i < h.machine.options.size(); ++i) {
    opts[i].setKey(h.machine.options[i].key);
    opts[i].setValue(h.machine.options[i].value);
  }
  auto slots = b.initMemoryMap(static_cast<unsigned>(h.memory_map.size()));
  for (size_t i = 0; i < h.memory_map.size(); ++i) {
    slots[i].setName(h.memory_map[i].name);
    slots[i].setBase(h.memory_map[i].base);
    slots[i].setSize(h.memory_map[i].size);
    slots[i].setLogDirty(h.memory_map[i].log_dirty);
    slots[i].setMapped(h.memory_map[i].mapped);
  }
  auto devices = b.initDevices(static_cast<unsigned>(h.devices.size()));
  for (size_t i = 0; i < h.devices.size(); ++i) {
    devices[i].setName(h.devices[i].name);
    devices[i].setConfig(h.devices[i].config);
  }
  auto cpuid = b.initCpuid(static_cast<unsigned>(h.cpuid.size()));
  for (size_t i = 0; i < h.cpuid.size(); ++i) {
    const CpuidEntry& e = h.cpuid[i];
    cpuid[i].setFunction(e.function);
    cpuid[i].setIndex(e.index);
    cpuid[i].setEax(e.eax);
    cpuid[i].setEbx(e.ebx);
    cpuid[i].setEcx(e.ecx);
    cpuid[i].setEdx(e.edx);
  }
  auto images = b.initImages(static_cast<unsigned>(h.images.size()));
  for (size_t i = 0; i < h.images.size(); ++i) {
    images[i].setPath(h.images[i].path);
    images[i].setSha256(as_data(h.images[i].sha256));
    images[i].setSize(h.images[i].size);
    images[i].setElf(h.images[i].elf);
    images[i].setRole(h.images[i].role);
  }
  put_registers(b.initInitialRegisters(), h.initial_registers);
  auto argv = b.initCommandLine(static_cast<unsigned>(h.command_line.size()));
  for (size_t i = 0; i < h.command_line.size(); ++i) argv.set(static_cast<unsigned>(i), h.command_line[i]);
  return to_words(message);
}

TraceHeader decode_header(const MessageWords& words) {
  return with_root<schema::TraceHeader>(words, [](schema::TraceHeader::Reader b) {
    TraceHeader h;
    h.format_version = b.getFormatVersion();
    h.rrvm_version = b.getRrvmVersion();
    h.backend = b.getBackend();
    auto m = b.getMachine();
    h.machine.memory_size = m.getMemorySize();
    if (m.getHasRtcBase()) h.machine.rtc_base_seconds = m.getRtcBaseSeconds();
    h.machine.serial_input = m.getSerialInput();
    if (m.getHasLoadAddress()) h.machine.load_address = m.getLoadAddress();
    if (m.getHasEntry()) h.machine.entry = m.getEntry();
    if (m.getHasMaxInstructions()) h.machine.max_instructions = m.getMaxInstructions();
    h.machine.firmware = m.getFirmware();
    h.machine.boot_device = m.getBootDevice();
    h.machine.patch_tsc = m.getPatchTscReads();
    h.machine.linux_boot = m.getLinuxBoot();
    h.machine.kernel_command_line = m.getKernelCommandLine();
    for (auto o : m.getOptions()) {
      TraceOption opt{o.getKey(), o.getValue()};
      // Versions 1-2 kept these as decimal text.
      if (std::optional<uint64_t>* typed = opt.key == "load-addr"          ? &h.machine.load_address
                                           : opt.key == "entry"            ? &h.machine.entry
                                           : opt.key == "max-instructions" ? &h.machine.max_instructions
                                                                           : nullptr) {
        *typed = parse_legacy_number(opt);
        continue;
      }
      h.machine.options.push_back(std::move(opt));
    }
    for (auto s : b.getMemoryMap())
      h.memory_map.push_back(TraceMemorySlot{s.getName(), s.getBase(), s.getSize(), s.getLogDirty(), s.getMapped()});
    for (auto d : b.getDevices()) h.devices.push_back(TraceDevice{d.getName(), d.getConfig()});
    for (auto e : b.getCpuid())
      h.cpuid.push_back(CpuidEntry{e.getFunction(), e.getIndex(), e.getEax(), e.getEbx(), e.getEcx(), e.getEdx()});
    for (auto i : b.getImages()) {
      // Versions 1-3 name no role: their one image is the guest.
      std::string role = i.hasRole() && i.getRole().size() ? std::string(i.getRole()) : std::string("guest");
      h.images.push_back(
          TraceImage{i.getPath(), get_digest(i.getSha256(), "image hash"), i.getSize(), i.getElf(), std::move(role)});
    }
    h.initial_registers = get_registers(b.getInitialRegisters());
    for (auto a : b.getCommandLine()) h.command_line.emplace_back(a);
    return h;
  });
}

// ---- keyframes ------------------------------------------------------------

MessageWords encode_keyframe(const Keyframe& k) {
  capnp::MallocMessageBuilder message;
  auto b = message.initRoot<schema::Keyframe>();
  b.setEventOrdinal(k.event_ordinal);
  b.setExitOrdinal(k.exit_ordinal);
  b.setHasIcount(k.icount.has_value());
  b.setIcount(k.icount.value_or(0));
  put_registers(b.initRegisters(), k.registers);
  auto slots = b.initMemory(static_cast<unsigned>(k.memory.size()));
  std::vector<char> compressed(static_cast<size_t>(LZ4_compressBound(kPageSize)));
  auto compress = [&](const uint8_t* page) {
    int n = LZ4_compress_default(reinterpret_cast<const char*>(page), compressed.data(), kPageSize,
                                 static_cast<int>(compressed.size()));
    if (n <= 0) throw std::runtime_error("LZ4 compression failed");
    return std::vector<uint8_t>(compressed.data(), compressed.data() + n);
  };
  auto put_pages = [&](auto list_builder_init, const std::vector<KeyframePage>& pages, uint64_t size) {
    auto list = list_builder_init(static_cast<unsigned>(pages.size()));
    uint64_t next = 0;
    for (size_t j = 0; j < pages.size(); ++j) {
      const KeyframePage& p = pages[j];
      if (p.bytes.size() != kPageSize || p.index < next || uint64_t(p.index) * kPageSize >= size)
        throw std::invalid_argument("trace: keyframe page out of order, outside its slot or not 4096 bytes");
      next = uint64_t(p.index) + 1;
      list[j].setIndex(p.index);
      list[j].setLz4(as_data(compress(p.bytes.data())));
    }
  };
  b.setIncremental(k.incremental);
  for (size_t i = 0; i < k.memory.size(); ++i) {
    const KeyframeSlot& slot = k.memory[i];
    slots[i].setName(slot.name);
    slots[i].setBase(slot.base);
    if (k.incremental) {
      if (slot.size % kPageSize != 0) throw std::invalid_argument("trace: keyframe slot size is not page aligned");
      slots[i].setSize(slot.size);
      put_pages([&](unsigned n) { return slots[i].initPages(n); }, slot.pages, slot.size);
      continue;
    }
    if (slot.bytes.size() % kPageSize != 0) throw std::invalid_argument("trace: keyframe slot size is not page aligned");
    slots[i].setSize(slot.bytes.size());
    std::vector<std::pair<uint32_t, std::vector<uint8_t>>> pages;
    for (size_t p = 0; p < slot.bytes.size() / kPageSize; ++p) {
      const uint8_t* page = slot.bytes.data() + p * kPageSize;
      if (std::all_of(page, page + kPageSize, [](uint8_t x) { return x == 0; })) continue;
      pages.emplace_back(static_cast<uint32_t>(p), compress(page));
    }
    auto list = slots[i].initPages(static_cast<unsigned>(pages.size()));
    for (size_t j = 0; j < pages.size(); ++j) {
      list[j].setIndex(pages[j].first);
      list[j].setLz4(as_data(pages[j].second));
    }
  }
  auto devices = b.initDevices(static_cast<unsigned>(k.devices.size()));
  for (size_t i = 0; i < k.devices.size(); ++i) {
    devices[i].setName(k.devices[i].name);
    devices[i].setState(as_data(k.devices[i].state));
  }
  if (k.incremental) {
    auto f = b.initFpu();
    f.setFcw(k.fpu.fcw);
    f.setFsw(k.fpu.fsw);
    f.setFtw(k.fpu.ftw);
    f.setFop(k.fpu.fop);
    f.setFip(k.fpu.fip);
    f.setFdp(k.fpu.fdp);
    auto st = f.initSt(8);
    for (unsigned i = 0; i < 8; ++i) st.set(i, capnp::Data::Reader(k.fpu.st[i].data(), k.fpu.st[i].size()));
    auto xmm = f.initXmm(16);
    for (unsigned i = 0; i < 16; ++i) xmm.set(i, capnp::Data::Reader(k.fpu.xmm[i].data(), k.fpu.xmm[i].size()));
    f.setMxcsr(k.fpu.mxcsr);
    b.setInterruptShadow(k.interrupt_shadow);
    b.setInterrupts(k.interrupts);
    b.setAsync(k.async);
    b.setClockLastNs(k.clock_last_ns);
    b.setClockSkippedNs(k.clock_skipped_ns);
    b.setReplayClockNs(k.replay_clock_ns);
    auto d = b.initDisplay();
    d.setFrames(k.display.frames);
    d.setRegisters(as_data(k.display.registers));
    put_pages([&](unsigned n) { return d.initPages(n); }, k.display.pages, uint64_t{1} << 32);
    b.setHasDigestReference(k.digest_reference.has_value());
    if (k.digest_reference) {
      auto ref = b.initDigestReference(static_cast<unsigned>(k.digest_reference->size()));
      for (size_t i = 0; i < k.digest_reference->size(); ++i) {
        const KeyframeSlot& slot = (*k.digest_reference)[i];
        if (slot.size % kPageSize != 0) throw std::invalid_argument("trace: keyframe slot size is not page aligned");
        ref[i].setName(slot.name);
        ref[i].setBase(slot.base);
        ref[i].setSize(slot.size);
        put_pages([&](unsigned n) { return ref[i].initPages(n); }, slot.pages, slot.size);
      }
    }
  }
  return to_words(message);
}

Keyframe decode_keyframe(const MessageWords& words, uint64_t max_memory_bytes) {
  return with_root<schema::Keyframe>(words, [&](schema::Keyframe::Reader b) {
    Keyframe k;
    k.event_ordinal = b.getEventOrdinal();
    k.exit_ordinal = b.getExitOrdinal();
    if (b.getHasIcount()) k.icount = b.getIcount();
    k.registers = get_registers(b.getRegisters());
    uint64_t total = 0;
    k.incremental = b.getIncremental();
    auto get_page = [&](capnp::Data::Reader lz4, uint8_t* out) {
      int n = LZ4_decompress_safe(reinterpret_cast<const char*>(lz4.begin()), reinterpret_cast<char*>(out),
                                  static_cast<int>(std::min<size_t>(lz4.size(), 1u << 20)), kPageSize);
      if (n != static_cast<int>(kPageSize)) throw CodecError("keyframe page does not decompress to 4096 bytes");
    };
    auto get_pages = [&](auto list, uint64_t size, std::vector<KeyframePage>& out) {
      uint64_t next_index = 0;
      for (auto p : list) {
        uint64_t index = p.getIndex();
        if (index < next_index || index >= size / kPageSize)
          throw CodecError("keyframe page index out of order or outside its slot");
        next_index = index + 1;
        KeyframePage page{uint32_t(index), std::vector<uint8_t>(kPageSize)};
        get_page(p.getLz4(), page.bytes.data());
        out.push_back(std::move(page));
      }
    };
    for (auto s : b.getMemory()) {
      uint64_t size = s.getSize();
      if (k.incremental) {
        if (size % kPageSize != 0 || size > max_memory_bytes)
          throw CodecError("keyframe memory slot size " + std::to_string(size) + " is not page aligned or too large");
        if (uint64_t(s.getPages().size()) * kPageSize > max_memory_bytes - total)
          throw CodecError("keyframe memory pages add up to more than the reader allows");
        total += uint64_t(s.getPages().size()) * kPageSize;
        KeyframeSlot slot{s.getName(), s.getBase(), {}, size, {}};
        get_pages(s.getPages(), size, slot.pages);
        k.memory.push_back(std::move(slot));
        continue;
      }
      if (size % kPageSize != 0 || size > max_memory_bytes - total)
        throw CodecError("keyframe memory slot size " + std::to_string(size) + " is not page aligned or too large");
      total += size;
      KeyframeSlot slot{s.getName(), s.getBase(), std::vector<uint8_t>(size), 0, {}};
      uint64_t next_index = 0;
      for (auto p : s.getPages()) {
        uint64_t index = p.getIndex();
        if (index < next_index || index >= size / kPageSize)
          throw CodecError("keyframe page index out of order or outside its slot");
        next_index = index + 1;
        auto lz4 = p.getLz4();
        int n = LZ4_decompress_safe(reinterpret_cast<const char*>(lz4.begin()),
                                    reinterpret_cast<char*>(slot.bytes.data() + index * kPageSize),
                                    static_cast<int>(std::min<size_t>(lz4.size(), 1u << 20)), kPageSize);
        if (n != static_cast<int>(kPageSize)) throw CodecError("keyframe page does not decompress to 4096 bytes");
      }
      k.memory.push_back(std::move(slot));
    }
    for (auto d : b.getDevices()) k.devices.push_back(KeyframeDevice{d.getName(), to_vector(d.getState())});
    if (k.incremental) {
      auto f = b.getFpu();
      k.fpu.fcw = f.getFcw();
      k.fpu.fsw = f.getFsw();
      k.fpu.ftw = f.getFtw();
      k.fpu.fop = f.getFop();
      k.fpu.fip = f.getFip();
      k.fpu.fdp = f.getFdp();
      auto st = f.getSt();
      auto xmm = f.getXmm();
      if (st.size() != 8 || xmm.size() != 16) throw CodecError("keyframe x87/SSE state has the wrong register count");
      for (unsigned i = 0; i < 8; ++i) {
        if (st[i].size() != 16) throw CodecError("keyframe x87 register is not 16 bytes");
        std::copy(st[i].begin(), st[i].end(), k.fpu.st[i].begin());
      }
      for (unsigned i = 0; i < 16; ++i) {
        if (xmm[i].size() != 16) throw CodecError("keyframe SSE register is not 16 bytes");
        std::copy(xmm[i].begin(), xmm[i].end(), k.fpu.xmm[i].begin());
      }
      k.fpu.mxcsr = f.getMxcsr();
      k.interrupt_shadow = b.getInterruptShadow();
      k.interrupts = b.getInterrupts();
      k.async = b.getAsync();
      k.clock_last_ns = b.getClockLastNs();
      k.clock_skipped_ns = b.getClockSkippedNs();
      k.replay_clock_ns = b.getReplayClockNs();
      auto d = b.getDisplay();
      k.display.frames = d.getFrames();
      k.display.registers = to_vector(d.getRegisters());
      if (uint64_t(d.getPages().size()) * kPageSize > max_memory_bytes - total)
        throw CodecError("keyframe display pages add up to more than the reader allows");
      get_pages(d.getPages(), uint64_t{1} << 32, k.display.pages);
      total += uint64_t(d.getPages().size()) * kPageSize;
      if (b.getHasDigestReference()) {
        k.digest_reference.emplace();
        for (auto s : b.getDigestReference()) {
          const uint64_t size = s.getSize();
          if (size % kPageSize != 0 || size > max_memory_bytes)
            throw CodecError("keyframe digest reference slot size " + std::to_string(size) +
                             " is not page aligned or too large");
          if (uint64_t(s.getPages().size()) * kPageSize > max_memory_bytes - total)
            throw CodecError("keyframe digest reference pages add up to more than the reader allows");
          total += uint64_t(s.getPages().size()) * kPageSize;
          KeyframeSlot slot{s.getName(), s.getBase(), {}, size, {}};
          get_pages(s.getPages(), size, slot.pages);
          k.digest_reference->push_back(std::move(slot));
        }
      }
    }
    return k;
  });
}

// ---- end, footer ----------------------------------------------------------

MessageWords encode_end(const TraceEnd& e) {
  capnp::MallocMessageBuilder message;
  auto b = message.initRoot<schema::TraceEnd>();
  b.setReason(static_cast<uint8_t>(e.reason));
  b.setExitStatus(e.exit_status);
  b.setMessage(e.message);
  put_registers(b.initFinalRegisters(), e.final_registers);
  b.setRamSha256(as_data(e.ram_sha256));
  b.setHasInstructionCount(e.instruction_count.has_value());
  b.setInstructionCount(e.instruction_count.value_or(0));
  b.setExitCount(e.exit_count);
  b.setRecordWallNs(e.record_wall_ns);
  return to_words(message);
}

TraceEnd decode_end(const MessageWords& words) {
  return with_root<schema::TraceEnd>(words, [](schema::TraceEnd::Reader b) {
    TraceEnd e;
    if (b.getReason() > static_cast<uint8_t>(StopReason::Interrupted)) throw CodecError("unknown stop reason");
    e.reason = static_cast<StopReason>(b.getReason());
    e.exit_status = b.getExitStatus();
    e.message = b.getMessage();
    e.final_registers = get_registers(b.getFinalRegisters());
    e.ram_sha256 = get_digest(b.getRamSha256(), "RAM hash");
    if (b.getHasInstructionCount()) e.instruction_count = b.getInstructionCount();
    e.exit_count = b.getExitCount();
    e.record_wall_ns = b.getRecordWallNs();
    return e;
  });
}

MessageWords encode_footer(const TraceFooter& f) {
  capnp::MallocMessageBuilder message;
  auto b = message.initRoot<schema::Footer>();
  auto frames = b.initFrames(static_cast<unsigned>(f.frames.size()));
  for (size_t i = 0; i < f.frames.size(); ++i) {
    const FrameIndexEntry& e = f.frames[i];
    frames[i].setOffset(e.offset);
    frames[i].setKind(static_cast<uint8_t>(e.kind));
    frames[i].setFirstEventOrdinal(e.first_event_ordinal);
    frames[i].setEventCount(e.event_count);
    frames[i].setHasIcount(e.icount.has_value());
    frames[i].setIcount(e.icount.value_or(0));
  }
  b.setTotalEvents(f.total_events);
  b.setTotalExits(f.total_exits);
  auto counts = b.initEventCountsByKind(static_cast<unsigned>(f.event_counts_by_kind.size()));
  for (size_t i = 0; i < f.event_counts_by_kind.size(); ++i) counts.set(static_cast<unsigned>(i), f.event_counts_by_kind[i]);
  b.setUncompressedBytes(f.uncompressed_bytes);
  b.setLastGuestNs(f.last_guest_ns);
  return to_words(message);
}

TraceFooter decode_footer(const MessageWords& words) {
  return with_root<schema::Footer>(words, [](schema::Footer::Reader b) {
    TraceFooter f;
    for (auto e : b.getFrames()) {
      if (!frame_kind_valid(e.getKind())) throw CodecError("footer index names an unknown frame kind");
      FrameIndexEntry entry{e.getOffset(), static_cast<FrameKind>(e.getKind()), e.getFirstEventOrdinal(),
                            e.getEventCount(), std::nullopt};
      if (e.getHasIcount()) entry.icount = e.getIcount();
      f.frames.push_back(entry);
    }
    f.total_events = b.getTotalEvents();
    f.total_exits = b.getTotalExits();
    auto counts = b.getEventCountsByKind();
    if (counts.size() > 256) throw CodecError("footer has too many event kinds");
    for (uint64_t c : counts) f.event_counts_by_kind.push_back(c);
    f.uncompressed_bytes = b.getUncompressedBytes();
    f.last_guest_ns = b.getLastGuestNs();
    return f;
  });
}

}  // namespace rrvm
