#include "devices/floppy_controller.h"

namespace rrvm {

namespace {
constexpr uint8_t kMsrRqm = 0x80, kMsrDio = 0x40, kMsrBusy = 0x10;
constexpr uint8_t kDorDriveMask = 0x03, kDorRun = 0x04, kDorIrqDma = 0x08;
constexpr uint8_t kSt0AbnormalTermination = 0x40, kSt0Invalid = 0x80, kSt0SeekEnd = 0x20, kSt0ReadyChanged = 0xC0;
constexpr uint8_t kSt1EndOfCylinder = 0x80, kSt1NoData = 0x04, kSt1MissingAddressMark = 0x01, kSt1NotWritable = 0x02;
constexpr uint8_t kSizeCode512 = 2;

// Parameter bytes after the command byte, for the commands implemented.
int parameter_count(uint8_t cmd) {
  switch (cmd) {
    case 0x0E: case 0x10: case 0x14: case 0x94: case 0x18: return 0;  // dumpreg, version, (un)lock, part id
    case 0x12: return 1;                                               // perpendicular mode
    case 0x13: return 3;                                               // configure
    case 0x8F: case 0xCF: return 2;                                    // relative seek
    default: break;
  }
  switch (cmd & 0x1F) {
    case 0x03: return 2;                                     // specify
    case 0x04: case 0x07: case 0x0A: return 1;               // sense drive status, recalibrate, read id
    case 0x08: return 0;                                     // sense interrupt status
    case 0x0F: return 2;                                     // seek
    case 0x0D: return 5;                                     // format track
    case 0x02: case 0x05: case 0x06: case 0x09: case 0x0C:   // read track, write, read, (deleted)
    case 0x11: case 0x16: case 0x19: case 0x1D: return 8;    // scans, verify
    default: return -1;                                      // invalid
  }
}
}  // namespace

// 0x3F7: digital input register (read) / configuration control (write).
class FloppyDirPort final : public IoDevice {
 public:
  explicit FloppyDirPort(FloppyController& fdc) : fdc_(fdc) {}
  const char* device_name() const override { return "fdc dir"; }
  uint64_t io_read(uint64_t, unsigned) override { return fdc_.io_read(7, 1); }
  void io_write(uint64_t, unsigned, uint64_t value) override { fdc_.io_write(7, 1, value); }

 private:
  FloppyController& fdc_;
};

FloppyController::FloppyController(IrqSink& irq, IsaDma& dma, unsigned irq_line, unsigned dma_channel)
    : irq_(irq), dma_(dma), irq_line_(irq_line), dma_channel_(dma_channel),
      dir_port_(std::make_unique<FloppyDirPort>(*this)) {}

FloppyController::~FloppyController() = default;

void FloppyController::attach(IoBus& ports) {
  ports.add(kBasePort, 6, this);
  ports.add(kBasePort + 7, 1, dir_port_.get());
}

uint64_t FloppyController::io_read(uint64_t offset, unsigned size) {
  uint64_t v = read_register(unsigned(offset));
  for (unsigned i = 1; i < size && i < 4; ++i) v |= uint64_t(0xFF) << (8 * i);  // the FDC is 8 bits wide
  return v;
}

void FloppyController::io_write(uint64_t offset, unsigned /*size*/, uint64_t value) {
  write_register(unsigned(offset), uint8_t(value));
}

uint8_t FloppyController::read_register(unsigned reg) {
  switch (reg) {
    case 0: return irq_pending_ ? 0x80 : 0x00;  // status A: interrupt pending
    case 1: return 0xC0 | uint8_t(dor_ & kDorDriveMask ? 0 : 0x20);  // status B: drive 0 selected
    case 2: return dor_;
    case 3: return 0x00;  // tape drive register
    case 4: {             // main status
      if (!(dor_ & kDorRun)) return 0x00;
      if (phase_ == Phase::Result) return kMsrRqm | kMsrDio | kMsrBusy;
      return fifo_.empty() ? kMsrRqm : uint8_t(kMsrRqm | kMsrBusy);
    }
    case 5: return read_fifo();
    case 7: return media_changed_ && disk_ && (dor_ & kDorDriveMask) == 0 ? 0x80 : 0x00;
    default: return 0xFF;
  }
}

void FloppyController::write_register(unsigned reg, uint8_t v) {
  switch (reg) {
    case 2: {
      const uint8_t old = dor_;
      dor_ = v;
      if ((old & kDorRun) && !(v & kDorRun)) {
        // Held in reset: nothing runs until the bit goes high again.
        fifo_.clear();
        phase_ = Phase::Command;
        lower_irq();
      } else if (!(old & kDorRun) && (v & kDorRun)) {
        reset(true);
      }
      // The DMA/IRQ gate decides whether a pending interrupt reaches the PIC.
      irq_.set_irq(irq_line_, irq_pending_ && (dor_ & kDorIrqDma));
      break;
    }
    case 4:  // data rate select; bit 7 is a software reset
      data_rate_ = v & 3;
      if (v & 0x80) reset(true);
      break;
    case 5: write_fifo(v); break;
    case 7: data_rate_ = v & 3; break;  // configuration control
    default: break;
  }
}

void FloppyController::raise_irq() {
  irq_pending_ = true;
  if (dor_ & kDorIrqDma) irq_.set_irq(irq_line_, true);
}

void FloppyController::lower_irq() {
  irq_pending_ = false;
  irq_.set_irq(irq_line_, false);
}

// Leaving reset: the controller idles, and each of the four drive slots owes
// one SENSE INTERRUPT ("ready changed"), announced by an interrupt.
void FloppyController::reset(bool irq) {
  fifo_.clear();
  fifo_pos_ = 0;
  phase_ = Phase::Command;
  lower_irq();
  st0_ = kSt0ReadyChanged;
  if (!lock_) config_ = 0x20;
  if (irq) {
    reset_sense_left_ = 4;
    raise_irq();
  }
}

void FloppyController::result(std::initializer_list<uint8_t> bytes) {
  fifo_.assign(bytes);
  fifo_pos_ = 0;
  phase_ = Phase::Result;
}

// Seek-type commands end without a result phase; SENSE INTERRUPT reads st0.
void FloppyController::finish_no_result(uint8_t st0, bool irq) {
  fifo_.clear();
  phase_ = Phase::Command;
  st0_ = st0;
  if (irq) raise_irq();
}

uint8_t FloppyController::read_fifo() {
  if (phase_ != Phase::Result || fifo_pos_ >= fifo_.size()) return 0;
  const uint8_t v = fifo_[fifo_pos_++];
  if (fifo_pos_ == fifo_.size()) {
    fifo_.clear();
    fifo_pos_ = 0;
    phase_ = Phase::Command;
    lower_irq();
  }
  return v;
}

void FloppyController::write_fifo(uint8_t v) {
  if (!(dor_ & kDorRun) || phase_ == Phase::Result) return;  // the chip ignores the byte then
  fifo_.push_back(v);
  const int params = parameter_count(fifo_[0]);
  if (params < 0 || fifo_.size() == size_t(params) + 1) execute();
}

uint8_t FloppyController::st3(unsigned drive, unsigned head) const {
  uint8_t v = uint8_t((head & 1) << 2 | (drive & 3));
  if (drive_ready(drive)) v |= 0x20 | 0x08;  // ready, two-sided
  if (cylinder_[drive & 3] == 0) v |= 0x10;  // track 0
  return v;
}

void FloppyController::execute() {
  const uint8_t cmd = fifo_[0];
  const std::vector<uint8_t> p(fifo_.begin() + 1, fifo_.end());
  const unsigned drive = p.empty() ? 0 : p[0] & 3, head = p.empty() ? 0 : (p[0] >> 2) & 1;
  switch (cmd) {
    case 0x0E:
      result({cylinder_[0], cylinder_[1], cylinder_[2], cylinder_[3], specify_[0], specify_[1], kSectorsPerTrack,
              uint8_t((lock_ ? 0x80 : 0) | perpendicular_), config_, precomp_});
      return;
    case 0x10: result({0x90}); return;  // 82077AA
    case 0x18: result({0x41}); return;
    case 0x14: case 0x94:
      lock_ = cmd == 0x94;
      result({uint8_t(lock_ ? 0x10 : 0x00)});
      return;
    case 0x12:
      perpendicular_ = p[0] & 0x7F;
      fifo_.clear();
      return;
    case 0x13:
      config_ = p[1];
      precomp_ = p[2];
      fifo_.clear();
      return;
    case 0x8F: case 0xCF: {  // relative seek: bit 6 says outward (down)
      int c = cylinder_[drive] + ((cmd & 0x40) ? -int(p[1]) : int(p[1]));
      cylinder_[drive] = uint8_t(std::clamp(c, 0, 255));
      finish_no_result(uint8_t(kSt0SeekEnd | head << 2 | drive), true);
      return;
    }
    default: break;
  }
  switch (cmd & 0x1F) {
    case 0x03:
      specify_[0] = p[0];
      specify_[1] = p[1];
      fifo_.clear();
      return;
    case 0x04: result({st3(drive, head)}); return;
    case 0x07:
      cylinder_[drive] = 0;
      if (drive_ready(drive)) media_changed_ = false;
      finish_no_result(uint8_t(kSt0SeekEnd | drive), true);
      return;
    case 0x08: {
      uint8_t st0;
      unsigned sense_drive = dor_ & kDorDriveMask;
      if (reset_sense_left_ > 0) {
        sense_drive = 4u - reset_sense_left_;
        st0 = uint8_t(kSt0ReadyChanged | sense_drive);
        --reset_sense_left_;
      } else if (!irq_pending_) {
        result({kSt0Invalid});
        return;
      } else {
        st0 = st0_;
      }
      result({st0, cylinder_[sense_drive & 3]});
      lower_irq();
      st0_ = kSt0ReadyChanged;
      return;
    }
    case 0x0A: {
      head_ = uint8_t(head);
      if (!drive_ready(drive) || data_rate_ != 0) {
        result({uint8_t(kSt0AbnormalTermination | head << 2 | drive), kSt1MissingAddressMark, 0, cylinder_[drive],
                uint8_t(head), sector_, kSizeCode512});
      } else {
        result({uint8_t(head << 2 | drive), 0, 0, cylinder_[drive], uint8_t(head), sector_, kSizeCode512});
      }
      raise_irq();
      return;
    }
    case 0x0F:
      cylinder_[drive] = p[1];
      if (drive_ready(drive)) media_changed_ = false;
      finish_no_result(uint8_t(kSt0SeekEnd | head << 2 | drive), true);
      return;
    case 0x06: case 0x0C: case 0x16: transfer(true); return;
    case 0x05: case 0x09: transfer(false); return;
    case 0x0D: format_track(); return;
    default:
      // Read track and the scans are not implemented; the chip's answer to a
      // command it does not know is a lone ST0 of 0x80.
      result({kSt0Invalid});
      return;
  }
}

// READ/WRITE DATA (and VERIFY): sector by sector in the order the chip walks
// them (sector, then with MT the other head, then the next cylinder), until
// the DMA channel reaches terminal count or the cylinder ends without MT.
void FloppyController::transfer(bool to_memory) {
  const uint8_t cmd = fifo_[0];
  const std::vector<uint8_t> p(fifo_.begin() + 1, fifo_.end());
  const bool multi_track = cmd & 0x80, verify = (cmd & 0x1F) == 0x16;
  const unsigned drive = p[0] & 3;
  unsigned c = p[1], h = p[2] & 1, r = p[3];
  const unsigned eot = p[5];
  uint8_t st0 = uint8_t(h << 2 | drive), st1 = 0, st2 = 0;
  auto finish = [&] {
    head_ = uint8_t(h);
    sector_ = uint8_t(r);
    cylinder_[drive] = uint8_t(c);
    result({st0, st1, st2, uint8_t(c), uint8_t(h), uint8_t(r), p[4]});
    raise_irq();
  };
  if (!drive_ready(drive) || data_rate_ != 0) {
    st0 |= kSt0AbnormalTermination;
    st1 = kSt1MissingAddressMark;
    finish();
    return;
  }
  if (!to_memory && !verify && p[4] != kSizeCode512) {
    st0 |= kSt0AbnormalTermination;
    st1 = kSt1NoData;
    finish();
    return;
  }
  std::vector<uint8_t> sector(DiskImage::kSectorSize);
  for (;;) {
    if (c >= kTracks || r < 1 || r > kSectorsPerTrack || p[4] != kSizeCode512) {
      st0 |= kSt0AbnormalTermination;
      st1 |= kSt1NoData;
      break;
    }
    const uint64_t lba = (uint64_t(c) * kHeads + h) * kSectorsPerTrack + (r - 1);
    size_t moved;
    if (to_memory) {
      disk_->read(lba, 1, sector);
      moved = verify ? sector.size() : dma_.write_memory(dma_channel_, sector);
    } else {
      moved = dma_.read_memory(dma_channel_, sector);
      if (moved == sector.size() && !disk_->write(lba, 1, sector)) st1 |= kSt1NotWritable;
    }
    const bool tc = verify ? false : dma_.terminal_count(dma_channel_);
    if (moved < sector.size() && !tc) {
      st0 |= kSt0AbnormalTermination;  // the channel stopped (masked, wrong direction): overrun
      st1 |= 0x10;
      break;
    }
    // On to the next sector.
    bool end_of_cylinder = false;
    if (r == eot || r == kSectorsPerTrack) {
      r = 1;
      if (multi_track && h == 0) {
        h = 1;
      } else {
        h = 0;
        ++c;
        end_of_cylinder = true;
      }
    } else {
      ++r;
    }
    if (tc) break;
    if (end_of_cylinder && !multi_track) {
      st0 |= kSt0AbnormalTermination;
      st1 |= kSt1EndOfCylinder;
      break;
    }
  }
  st0 = uint8_t((st0 & ~0x04) | h << 2);
  finish();
}

// FORMAT TRACK: the DMA channel delivers C, H, R, N for each sector; each
// formatted sector is filled with the filler byte.
void FloppyController::format_track() {
  const std::vector<uint8_t> p(fifo_.begin() + 1, fifo_.end());
  const unsigned drive = p[0] & 3, head = (p[0] >> 2) & 1, count = p[2];
  uint8_t st0 = uint8_t(head << 2 | drive), st1 = 0;
  std::vector<uint8_t> fill(DiskImage::kSectorSize, p[4]);
  uint8_t id[4] = {0, 0, 0, 0};
  if (!drive_ready(drive) || p[1] != kSizeCode512 || data_rate_ != 0) {
    st0 |= kSt0AbnormalTermination;
    st1 = kSt1MissingAddressMark;
  } else {
    for (unsigned i = 0; i < count; ++i) {
      if (dma_.read_memory(dma_channel_, id) < 4) {
        st0 |= kSt0AbnormalTermination;
        st1 |= 0x10;
        break;
      }
      if (id[0] < kTracks && id[1] < kHeads && id[2] >= 1 && id[2] <= kSectorsPerTrack)
        disk_->write((uint64_t(id[0]) * kHeads + id[1]) * kSectorsPerTrack + id[2] - 1, 1, fill);
      if (dma_.terminal_count(dma_channel_)) break;
    }
  }
  result({st0, st1, 0, id[0], id[1], id[2], p[1]});
  raise_irq();
}

std::vector<uint8_t> FloppyController::save_state() const {
  ByteWriter w;
  w.header("FDC ", 1);
  for (uint8_t b : {dor_, data_rate_, uint8_t(phase_), st0_, reset_sense_left_, head_, sector_, specify_[0],
                    specify_[1], config_, precomp_, perpendicular_})
    w.u8(b);
  w.boolean(irq_pending_);
  w.boolean(lock_);
  w.boolean(media_changed_);
  w.bytes(cylinder_);
  w.u16(uint16_t(fifo_.size()));
  w.bytes(fifo_);
  w.u16(uint16_t(fifo_pos_));
  return w.take();
}

void FloppyController::load_state(std::span<const uint8_t> bytes) {
  ByteReader r(bytes, "fdc state");
  r.header("FDC ", 1);
  dor_ = r.u8();
  data_rate_ = r.u8() & 3;
  phase_ = r.u8() ? Phase::Result : Phase::Command;
  st0_ = r.u8();
  reset_sense_left_ = r.u8() & 7;
  head_ = r.u8() & 1;
  sector_ = r.u8();
  specify_[0] = r.u8();
  specify_[1] = r.u8();
  config_ = r.u8();
  precomp_ = r.u8();
  perpendicular_ = r.u8();
  irq_pending_ = r.boolean();
  lock_ = r.boolean();
  media_changed_ = r.boolean();
  r.bytes(cylinder_);
  const uint16_t n = r.u16();
  if (n > 16) r.fail("fifo of " + std::to_string(n) + " bytes");
  fifo_.resize(n);
  r.bytes(fifo_);
  fifo_pos_ = r.u16();
  if (fifo_pos_ > fifo_.size()) r.fail("fifo position past its end");
  r.finish();
  irq_.set_irq(irq_line_, irq_pending_ && (dor_ & kDorIrqDma));
}

}  // namespace rrvm
