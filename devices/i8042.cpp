#include "devices/i8042.h"

namespace rrvm {

namespace {
constexpr unsigned kKeyboardIrq = 1, kMouseIrq = 12;
constexpr uint8_t kCtrKbdInt = 0x01, kCtrAuxInt = 0x02, kCtrSys = 0x04, kCtrKbdDisable = 0x10,
                  kCtrAuxDisable = 0x20, kCtrTranslate = 0x40;
constexpr uint8_t kAck = 0xFA, kResend = 0xFE, kBatOk = 0xAA;
}  // namespace

// 0x64 arrives here and is passed on with offset 4.
class I8042StatusPort final : public IoDevice {
 public:
  explicit I8042StatusPort(I8042& kbc) : kbc_(kbc) {}
  const char* device_name() const override { return "i8042 status"; }
  uint64_t io_read(uint64_t, unsigned size) override { return kbc_.io_read(4, size); }
  void io_write(uint64_t, unsigned size, uint64_t value) override { kbc_.io_write(4, size, value); }

 private:
  I8042& kbc_;
};

I8042::I8042(IrqSink& irq, std::function<void()> reset)
    : irq_(irq), reset_(std::move(reset)), status_port_(std::make_unique<I8042StatusPort>(*this)) {}

void I8042::attach(IoBus& ports) {
  ports.add(0x60, 1, this);
  ports.add(0x64, 1, status_port_.get());
}

uint64_t I8042::io_read(uint64_t offset, unsigned /*size*/) {
  return offset == 4 ? read_status() : read_data();
}

void I8042::io_write(uint64_t offset, unsigned /*size*/, uint64_t value) {
  if (offset == 4) write_command(uint8_t(value));
  else write_data(uint8_t(value));
}

uint8_t I8042::read_status() const {
  uint8_t s = 0x10;  // keyboard not locked; the input buffer always empty (commands act at once)
  if (!out_.empty()) s |= out_.front().aux ? 0x21 : 0x01;
  if (self_tested_) s |= 0x04;
  if (last_was_command_) s |= 0x08;
  return s;
}

uint8_t I8042::read_data() {
  if (out_.empty()) return last_read_;  // as QEMU: the last byte again
  last_read_ = out_.front().value;
  out_.pop_front();
  update_irqs();
  return last_read_;
}

void I8042::queue(uint8_t value, bool aux) {
  if (out_.size() >= 16) return;  // the devices' buffers are small; more is lost
  out_.push_back({value, aux});
  if (aux) last_aux_ = value;
  else last_kbd_ = value;
  update_irqs();
}

void I8042::update_irqs() {
  const bool any = !out_.empty();
  irq_.set_irq(kKeyboardIrq, any && !out_.front().aux && (ctr_ & kCtrKbdInt));
  irq_.set_irq(kMouseIrq, any && out_.front().aux && (ctr_ & kCtrAuxInt));
}

void I8042::write_command(uint8_t cmd) {
  last_was_command_ = true;
  pending_.reset();
  if (cmd >= 0x20 && cmd < 0x40) {  // read controller RAM (0: the command byte)
    queue(cmd == 0x20 ? ctr_ : ram_[cmd - 0x20], false);
    return;
  }
  if (cmd >= 0x60 && cmd < 0x80) {  // write controller RAM: the data byte follows
    pending_ = cmd;
    return;
  }
  if (cmd >= 0xF0) {  // pulse output lines low for each clear bit; line 0 is the CPU reset
    if (!(cmd & 1) && reset_) reset_();
    return;
  }
  switch (cmd) {
    case 0xA7: ctr_ |= kCtrAuxDisable; break;
    case 0xA8: ctr_ &= uint8_t(~kCtrAuxDisable); break;
    case 0xA9: queue(0x00, false); break;  // aux interface test: passed
    case 0xAA:
      self_tested_ = true;
      queue(0x55, false);
      break;
    case 0xAB: queue(0x00, false); break;  // keyboard interface test: passed
    case 0xAD: ctr_ |= kCtrKbdDisable; break;
    case 0xAE: ctr_ &= uint8_t(~kCtrKbdDisable); break;
    case 0xC0: queue(0x80, false); break;  // input port: keyboard not inhibited
    case 0xD0: queue(outport_, false); break;
    case 0xD1: case 0xD2: case 0xD3: case 0xD4: pending_ = cmd; break;
    case 0xDD: outport_ &= uint8_t(~0x02); break;
    case 0xDF: outport_ |= 0x02; break;
    case 0xE0: queue(0x00, false); break;  // test inputs
    default: break;  // unknown commands are ignored
  }
  update_irqs();
}

void I8042::write_data(uint8_t v) {
  last_was_command_ = false;
  if (pending_) {
    const uint8_t cmd = *pending_;
    pending_.reset();
    if (cmd == 0x60) {
      ctr_ = v;
      if (v & kCtrSys) self_tested_ = true;
      update_irqs();
    } else if (cmd > 0x60 && cmd < 0x80) {
      ram_[cmd - 0x60] = v;
    } else if (cmd == 0xD1) {
      outport_ = v;
      if (!(v & 1) && reset_) reset_();  // the reset line held low
    } else if (cmd == 0xD2) {
      queue(v, false);
    } else if (cmd == 0xD3) {
      queue(v, true);
    } else if (cmd == 0xD4) {
      mouse_write(v);
    }
    return;
  }
  keyboard_write(v);
}

void I8042::keyboard_write(uint8_t v) {
  if (kbd_pending_) {
    const uint8_t cmd = *kbd_pending_;
    kbd_pending_.reset();
    if (cmd == 0xF0) {
      if (v == 0) {
        queue(kAck, false);
        const bool xlate = ctr_ & kCtrTranslate;
        static constexpr uint8_t kTranslated[4] = {0, 0x43, 0x41, 0x3F};
        queue(xlate && scan_set_ <= 3 ? kTranslated[scan_set_] : scan_set_, false);
        return;
      }
      if (v <= 3) scan_set_ = v;
    }
    queue(kAck, false);  // LEDs (0xED), typematic (0xF3), scan set
    return;
  }
  switch (v) {
    case 0xED: case 0xF3: case 0xF0:
      kbd_pending_ = v;
      queue(kAck, false);
      break;
    case 0xEE: queue(0xEE, false); break;  // echo
    case 0xF2:                              // identify: an MF2 keyboard
      queue(kAck, false);
      queue(0xAB, false);
      queue((ctr_ & kCtrTranslate) ? 0x41 : 0x83, false);
      break;
    case 0xF4: kbd_scanning_ = true; queue(kAck, false); break;
    case 0xF5: kbd_scanning_ = false; queue(kAck, false); break;
    case 0xF6: scan_set_ = 2; queue(kAck, false); break;
    case 0xFE: queue(last_kbd_, false); break;
    case 0xFF:
      scan_set_ = 2;
      kbd_scanning_ = true;
      queue(kAck, false);
      queue(kBatOk, false);
      break;
    default: queue(kResend, false); break;
  }
}

void I8042::mouse_write(uint8_t v) {
  if (aux_wrap_ && v != 0xEC && v != 0xFF) {
    queue(v, true);  // wrap mode echoes
    return;
  }
  if (aux_pending_) {
    const uint8_t cmd = *aux_pending_;
    aux_pending_.reset();
    if (cmd == 0xF3) aux_rate_ = v;
    else if (cmd == 0xE8) aux_resolution_ = v & 3;
    queue(kAck, true);
    return;
  }
  switch (v) {
    case 0xE6: aux_scaling_ = 1; queue(kAck, true); break;
    case 0xE7: aux_scaling_ = 2; queue(kAck, true); break;
    case 0xE8: case 0xF3:
      aux_pending_ = v;
      queue(kAck, true);
      break;
    case 0xE9:  // status request
      queue(kAck, true);
      queue(uint8_t((aux_streaming_ ? 0x20 : 0) | (aux_scaling_ == 2 ? 0x10 : 0)), true);
      queue(aux_resolution_, true);
      queue(aux_rate_, true);
      break;
    case 0xEA: case 0xF0: queue(kAck, true); break;  // stream / remote mode
    case 0xEB:  // read data: no movement, no buttons
      queue(kAck, true);
      queue(0x08, true);
      queue(0x00, true);
      queue(0x00, true);
      break;
    case 0xEC: aux_wrap_ = false; queue(kAck, true); break;
    case 0xEE: aux_wrap_ = true; queue(kAck, true); break;
    case 0xF2: queue(kAck, true); queue(0x00, true); break;  // identify: a standard mouse
    case 0xF4: aux_streaming_ = true; queue(kAck, true); break;
    case 0xF5: aux_streaming_ = false; queue(kAck, true); break;
    case 0xF6:
      aux_rate_ = 100;
      aux_resolution_ = 2;
      aux_scaling_ = 1;
      queue(kAck, true);
      break;
    case 0xFE: queue(last_aux_, true); break;
    case 0xFF:
      aux_rate_ = 100;
      aux_resolution_ = 2;
      aux_scaling_ = 1;
      aux_streaming_ = false;
      aux_wrap_ = false;
      queue(kAck, true);
      queue(kBatOk, true);
      queue(0x00, true);
      break;
    default: queue(kResend, true); break;
  }
}

std::vector<uint8_t> I8042::save_state() const {
  ByteWriter w;
  w.header("KBC ", 1);
  w.u8(uint8_t(out_.size()));
  for (const Byte& b : out_) {
    w.u8(b.value);
    w.boolean(b.aux);
  }
  for (uint8_t b : {ctr_, outport_, scan_set_, aux_rate_, aux_resolution_, aux_scaling_, last_kbd_, last_aux_,
                    last_read_})
    w.u8(b);
  w.bytes(ram_);
  for (bool b : {self_tested_, last_was_command_, kbd_scanning_, aux_streaming_, aux_wrap_}) w.boolean(b);
  for (const std::optional<uint8_t>* p : {&pending_, &kbd_pending_, &aux_pending_}) {
    w.boolean(p->has_value());
    w.u8(p->value_or(0));
  }
  return w.take();
}

void I8042::load_state(std::span<const uint8_t> bytes) {
  ByteReader r(bytes, "i8042 state");
  r.header("KBC ", 1);
  const uint8_t n = r.u8();
  if (n > 16) r.fail("output queue of " + std::to_string(n) + " bytes");
  out_.clear();
  for (uint8_t i = 0; i < n; ++i) {
    const uint8_t v = r.u8();
    out_.push_back({v, r.boolean()});
  }
  for (uint8_t* b : {&ctr_, &outport_, &scan_set_, &aux_rate_, &aux_resolution_, &aux_scaling_, &last_kbd_, &last_aux_,
                     &last_read_})
    *b = r.u8();
  r.bytes(ram_);
  for (bool* b : {&self_tested_, &last_was_command_, &kbd_scanning_, &aux_streaming_, &aux_wrap_}) *b = r.boolean();
  for (std::optional<uint8_t>* p : {&pending_, &kbd_pending_, &aux_pending_}) {
    const bool has = r.boolean();
    const uint8_t v = r.u8();
    *p = has ? std::optional<uint8_t>(v) : std::nullopt;
  }
  r.finish();
  update_irqs();
}

}  // namespace rrvm
