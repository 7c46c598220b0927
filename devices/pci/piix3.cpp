#include "devices/pci/piix3.h"

namespace rrvm {

class Piix3ResetControl final : public IoDevice {
 public:
  explicit Piix3ResetControl(Piix3IsaBridge& b) : bridge_(b) {}
  const char* device_name() const override { return "piix3 rcr"; }
  uint64_t io_read(uint64_t, unsigned) override { return bridge_.rcr_value_; }
  void io_write(uint64_t, unsigned, uint64_t value) override {
    bridge_.rcr_value_ = uint8_t(value & 0x02);  // system reset type (hard/soft): kept
    if ((value & 0x04) && bridge_.reset_) bridge_.reset_();
  }

 private:
  Piix3IsaBridge& bridge_;
};

Piix3IsaBridge::Piix3IsaBridge(std::function<void()> reset)
    : PciDevice(0x8086, 0x7000, 0x060100, 0x00),
      reset_(std::move(reset)),
      rcr_(std::make_unique<Piix3ResetControl>(*this)) {
  set_subsystem(0x1AF4, 0x1100);
  set_multi_function();
  // hw/isa/piix3.c piix3_reset.
  set_config8(0x04, 0x07);
  set_config8(0x07, 0x02);
  struct Reset {
    uint8_t offset, value;
  };
  for (Reset r : {Reset{0x4C, 0x4D}, {0x4E, 0x03}, {0x60, 0x80}, {0x61, 0x80}, {0x62, 0x80}, {0x63, 0x80},
                  {0x69, 0x02}, {0x70, 0x80}, {0x76, 0x0C}, {0x77, 0x0C}, {0x78, 0x02}, {0xA0, 0x08}, {0xA8, 0x0F}})
    set_config8(r.offset, r.value);
}

Piix3IsaBridge::~Piix3IsaBridge() = default;

std::optional<unsigned> Piix3IsaBridge::pirq_route(unsigned pirq) const {
  if (pirq > 3) return std::nullopt;
  const uint8_t v = config8(0x60 + pirq);
  // IRQs 0-2, 8 and 13 are reserved routes on the PIIX3.
  const unsigned irq = v & 0x0F;
  if ((v & 0x80) || irq < 3 || irq == 8 || irq == 13) return std::nullopt;
  return irq;
}

void Piix3IsaBridge::device_config_write(unsigned offset, uint8_t value) {
  if (offset >= 0x60 && offset <= 0x63) value &= 0x8F;  // route: enable bit and IRQ number
  store_config8(offset, value);
}

std::vector<uint8_t> Piix3IsaBridge::save_state() const {
  ByteWriter w;
  w.header("PIX3", 1);
  w.bytes(config_space());
  w.u8(rcr_value_);
  return w.take();
}

void Piix3IsaBridge::load_state(std::span<const uint8_t> bytes) {
  ByteReader r(bytes, "piix3 state");
  r.header("PIX3", 1);
  std::array<uint8_t, 256> config{};
  r.bytes(config);
  const uint8_t rcr = r.u8();
  r.finish();
  restore_config_space(config);
  rcr_value_ = rcr & 0x02;
}

}  // namespace rrvm
