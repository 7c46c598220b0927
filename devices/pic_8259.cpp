#include "devices/pic_8259.h"

namespace rrvm {

namespace {
constexpr uint8_t kMasterElcrMask = 0xF8;  // IRQ0-2 are always edge-triggered
constexpr uint8_t kSlaveElcrMask = 0xDE;   // IRQ8 and IRQ13 too
}  // namespace

void Pic8259Chip::set_line(unsigned ir, bool level) {
  uint8_t bit = uint8_t(1u << ir);
  bool was = lines_ & bit;
  if (level) {
    lines_ |= bit;
    // Edge mode latches on the rising edge; level mode follows the line.
    if (!was || (elcr_ & bit)) irr_ |= bit;
  } else {
    lines_ &= uint8_t(~bit);
    irr_ &= uint8_t(~bit);  // the request went away before it was taken
  }
}

void Pic8259Chip::set_elcr(uint8_t elcr) {
  elcr_ = elcr & (master_ ? kMasterElcrMask : kSlaveElcrMask);
  irr_ = uint8_t((irr_ & ~elcr_) | (lines_ & elcr_));
}

int Pic8259Chip::highest(uint8_t bits) const {
  for (int p = 0; p < 8; ++p) {
    int ir = (lowest_priority_ + 1 + p) & 7;
    if (bits & (1u << ir)) return ir;
  }
  return -1;
}

int Pic8259Chip::pending() const {
  if (init_step_ != 0) return -1;
  int req = highest(uint8_t(irr_ & ~imr_));
  if (req < 0) return -1;
  uint8_t in_service = isr_;
  if (special_mask_) in_service &= uint8_t(~imr_);
  // Special fully nested: the slave may interrupt its own in-service request.
  if (master_ && special_fully_nested_) in_service &= uint8_t(~0x04);
  int cur = highest(in_service);
  if (cur >= 0 && priority(cur) <= priority(req)) return -1;
  return req;
}

void Pic8259Chip::acknowledge(int ir) {
  uint8_t bit = uint8_t(1u << ir);
  if (!(elcr_ & bit)) irr_ &= uint8_t(~bit);
  if (auto_eoi_) {
    if (rotate_on_aeoi_) lowest_priority_ = uint8_t(ir);
  } else {
    isr_ |= bit;
  }
}

void Pic8259Chip::end_of_interrupt(uint8_t ocw2) {
  unsigned level = ocw2 & 7;
  switch (ocw2 >> 5) {
    case 1:  // non-specific EOI
    case 5: {  // rotate on non-specific EOI
      int ir = highest(isr_);
      if (ir < 0) break;
      isr_ &= uint8_t(~(1u << ir));
      if ((ocw2 >> 5) == 5) lowest_priority_ = uint8_t(ir);
      break;
    }
    case 3:  // specific EOI
      isr_ &= uint8_t(~(1u << level));
      break;
    case 7:  // rotate on specific EOI
      isr_ &= uint8_t(~(1u << level));
      lowest_priority_ = uint8_t(level);
      break;
    case 6:  // set priority
      lowest_priority_ = uint8_t(level);
      break;
    case 4: rotate_on_aeoi_ = true; break;
    case 0: rotate_on_aeoi_ = false; break;
    default: break;  // 2: no operation
  }
}

void Pic8259Chip::write_command(uint8_t v) {
  if (v & 0x10) {  // ICW1: restart initialization
    init_step_ = 2;
    icw4_needed_ = v & 0x01;
    single_ = v & 0x02;
    imr_ = 0;
    isr_ = 0;
    irr_ &= elcr_;  // edge latches reset; level requests remain
    lowest_priority_ = 7;
    auto_eoi_ = rotate_on_aeoi_ = special_fully_nested_ = special_mask_ = false;
    read_isr_ = poll_ = false;
    return;
  }
  if (v & 0x08) {  // OCW3
    if (v & 0x04) poll_ = true;
    if (v & 0x02) read_isr_ = v & 0x01;
    if (v & 0x40) special_mask_ = v & 0x20;
    return;
  }
  end_of_interrupt(v);  // OCW2
}

void Pic8259Chip::write_data(uint8_t v) {
  switch (init_step_) {
    case 2:
      vector_base_ = v & 0xF8;
      init_step_ = single_ ? (icw4_needed_ ? 4 : 0) : 3;
      return;
    case 3:
      icw3_ = v;
      init_step_ = icw4_needed_ ? 4 : 0;
      return;
    case 4:
      auto_eoi_ = v & 0x02;
      special_fully_nested_ = v & 0x10;
      init_step_ = 0;
      return;
    default:
      imr_ = v;  // OCW1
  }
}

uint64_t Pic8259Chip::io_read(uint64_t offset, unsigned /*size*/) {
  if (poll_) {
    // A poll read acts as the acknowledge: bit 7 says whether a request was
    // pending, bits 2-0 which.
    poll_ = false;
    int ir = pending();
    if (ir < 0) return 0;
    acknowledge(ir);
    pair_->update_cascade();
    return 0x80u | unsigned(ir);
  }
  if (offset == 1) return imr_;
  return read_isr_ ? isr_ : irr_;
}

void Pic8259Chip::io_write(uint64_t offset, unsigned /*size*/, uint64_t value) {
  if (offset == 0)
    write_command(uint8_t(value));
  else
    write_data(uint8_t(value));
  pair_->update_cascade();
}

void Pic8259Chip::save(ByteWriter& w) const {
  for (uint8_t v : {irr_, isr_, imr_, lines_, elcr_, vector_base_, icw3_, init_step_,
                    lowest_priority_})
    w.u8(v);
  for (bool b : {icw4_needed_, single_, auto_eoi_, rotate_on_aeoi_, special_fully_nested_,
                 special_mask_, read_isr_, poll_})
    w.boolean(b);
}

void Pic8259Chip::load(ByteReader& r) {
  for (uint8_t* v : {&irr_, &isr_, &imr_, &lines_, &elcr_, &vector_base_, &icw3_, &init_step_,
                     &lowest_priority_})
    *v = r.u8();
  for (bool* b : {&icw4_needed_, &single_, &auto_eoi_, &rotate_on_aeoi_, &special_fully_nested_,
                  &special_mask_, &read_isr_, &poll_})
    *b = r.boolean();
  lowest_priority_ &= 7;
  if (init_step_ > 4 || init_step_ == 1) r.fail("bad initialization step " + std::to_string(init_step_));
}

// Two byte registers (0x4D0 master, 0x4D1 slave); a word access covers both.
uint64_t Pic8259Elcr::io_read(uint64_t offset, unsigned size) {
  uint64_t v = 0;
  for (unsigned i = 0; i < size && offset + i < 2; ++i)
    v |= uint64_t(offset + i == 0 ? pair_->master_.elcr_ : pair_->slave_.elcr_) << (8 * i);
  return v;
}

void Pic8259Elcr::io_write(uint64_t offset, unsigned size, uint64_t value) {
  for (unsigned i = 0; i < size && offset + i < 2; ++i)
    (offset + i == 0 ? pair_->master_ : pair_->slave_).set_elcr(uint8_t(value >> (8 * i)));
  pair_->update_cascade();
}

void Pic8259Pair::update_cascade() {
  // The master latches the slave's INT on its rising edge and keeps the
  // request when INT falls again: a slave request withdrawn before the
  // acknowledge then yields the slave's spurious vector (IRQ15).
  if (slave_.pending() >= 0)
    master_.set_line(2, true);
  else
    master_.lines_ &= uint8_t(~0x04);
}

void Pic8259Pair::set_irq(unsigned irq, bool level) {
  if (irq == 2) irq = 9;
  if (irq < 8)
    master_.set_line(irq, level);
  else if (irq < 16)
    slave_.set_line(irq - 8, level);
  else
    return;
  update_cascade();
}

bool Pic8259Pair::has_pending_interrupt() { return master_.pending() >= 0; }

uint8_t Pic8259Pair::acknowledge_interrupt() {
  int ir = master_.pending();
  if (ir < 0) return uint8_t(master_.vector_base_ + 7);  // spurious IRQ7
  master_.acknowledge(ir);
  uint8_t vector;
  if (ir == 2) {
    int sir = slave_.pending();
    if (sir < 0) {
      vector = uint8_t(slave_.vector_base_ + 7);  // spurious IRQ15 (master ISR2 stays set)
    } else {
      slave_.acknowledge(sir);
      vector = uint8_t(slave_.vector_base_ + sir);
    }
    // The slave's INT drops during INTA; a request still pending there must
    // make a fresh edge on IR2.
    master_.set_line(2, false);
  } else {
    vector = uint8_t(master_.vector_base_ + ir);
  }
  update_cascade();
  return vector;
}

std::vector<uint8_t> Pic8259Pair::save_state() const {
  ByteWriter w;
  w.header("PIC ", 1);
  master_.save(w);
  slave_.save(w);
  return w.take();
}

void Pic8259Pair::load_state(std::span<const uint8_t> bytes) {
  ByteReader r(bytes, "pic state");
  r.header("PIC ", 1);
  Pic8259Chip m = master_, s = slave_;
  m.load(r);
  s.load(r);
  r.finish();
  master_ = m;
  slave_ = s;
  master_.elcr_ &= kMasterElcrMask;
  slave_.elcr_ &= kSlaveElcrMask;
}

}  // namespace rrvm
