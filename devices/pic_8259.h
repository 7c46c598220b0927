// The PC's pair of i8259A interrupt controllers: master at 0x20/0x21, slave
// at 0xA0/0xA1 cascaded on the master's IR2, plus the ELCR (0x4D0/0x4D1) that
// switches single lines to level-triggered mode. As on real parts, a request
// that goes away before the CPU acknowledges it leaves nothing in IRR, and the
// acknowledge then yields the spurious vector IRQ7. The master keeps a cascade
// request latched once the slave raised it, so a slave request withdrawn
// before the acknowledge gives the slave's spurious vector (IRQ15).
#pragma once
#include <cstdint>

#include "vmm/device_state.h"
#include "vmm/interrupts.h"
#include "vmm/io_bus.h"

namespace rrvm {

class Pic8259Pair;

// One i8259A; its two ports are offsets 0 (command) and 1 (data).
class Pic8259Chip final : public IoDevice {
 public:
  Pic8259Chip(Pic8259Pair* pair, bool master) : pair_(pair), master_(master) {}
  const char* device_name() const override { return master_ ? "pic-master" : "pic-slave"; }
  uint64_t io_read(uint64_t offset, unsigned size) override;
  void io_write(uint64_t offset, unsigned size, uint64_t value) override;

  uint8_t irr() const { return irr_; }
  uint8_t isr() const { return isr_; }
  uint8_t imr() const { return imr_; }
  uint8_t vector_base() const { return vector_base_; }
  bool initialized() const { return init_step_ == 0; }

 private:
  friend class Pic8259Pair;
  friend class Pic8259Elcr;
  void set_line(unsigned ir, bool level);
  void set_elcr(uint8_t elcr);
  int priority(int ir) const { return (ir - lowest_priority_ - 1) & 7; }
  int highest(uint8_t bits) const;  // highest-priority set bit, -1 if none
  int pending() const;              // IR that would be delivered, -1 if none
  void acknowledge(int ir);
  void write_command(uint8_t v);
  void write_data(uint8_t v);
  void end_of_interrupt(uint8_t ocw2);
  void save(ByteWriter& w) const;
  void load(ByteReader& r);

  Pic8259Pair* pair_;
  bool master_;
  uint8_t irr_ = 0, isr_ = 0, imr_ = 0xFF, lines_ = 0, elcr_ = 0;
  uint8_t vector_base_ = 0, icw3_ = 0;
  uint8_t init_step_ = 0;  // 0: operating; 2-4: waiting for ICW2-ICW4
  uint8_t lowest_priority_ = 7;
  bool icw4_needed_ = false, single_ = false, auto_eoi_ = false, rotate_on_aeoi_ = false;
  bool special_fully_nested_ = false, special_mask_ = false, read_isr_ = false, poll_ = false;
};

// ELCR pair at 0x4D0 (master, offset 0) and 0x4D1 (slave, offset 1).
class Pic8259Elcr final : public IoDevice {
 public:
  explicit Pic8259Elcr(Pic8259Pair* pair) : pair_(pair) {}
  const char* device_name() const override { return "pic-elcr"; }
  uint64_t io_read(uint64_t offset, unsigned size) override;
  void io_write(uint64_t offset, unsigned size, uint64_t value) override;

 private:
  Pic8259Pair* pair_;
};

class Pic8259Pair final : public InterruptController, public DeviceState {
 public:
  Pic8259Pair() : master_(this, true), slave_(this, false), elcr_(this) {}
  Pic8259Pair(const Pic8259Pair&) = delete;
  Pic8259Pair& operator=(const Pic8259Pair&) = delete;

  Pic8259Chip& master() { return master_; }
  Pic8259Chip& slave() { return slave_; }
  Pic8259Elcr& elcr() { return elcr_; }

  // ISA IRQ 0-15. IRQ2 is the cascade; a device driving "IRQ2" reaches IRQ9
  // as on the PC bus. Other numbers are ignored.
  void set_irq(unsigned irq, bool level) override;
  bool has_pending_interrupt() override;
  uint8_t acknowledge_interrupt() override;

  std::vector<uint8_t> save_state() const override;
  void load_state(std::span<const uint8_t> bytes) override;

 private:
  friend class Pic8259Chip;
  friend class Pic8259Elcr;
  void update_cascade();  // slave INT output -> master IR2
  Pic8259Chip master_, slave_;
  Pic8259Elcr elcr_;
};

}  // namespace rrvm
