// QEMU's firmware configuration device (fw_cfg) on x86 ports: selector at
// 0x510 (16-bit write), data at 0x511 (byte reads), and the DMA interface
// at 0x514-0x51B (a big-endian 64-bit address of a FWCfgDmaAccess; writing
// the low half at 0x518 starts it). Items are numbered keys (bit 15: the
// architecture's own) and named files, listed in the directory at key 0x19
// and numbered from 0x20 in name order, as QEMU does. Whatever no item holds
// reads as 0, DMA reads of it fill zeros and DMA writes set the error bit,
// as on QEMU (docs/specs/fw_cfg.rst and hw/nvram/fw_cfg.c). Every item is
// fixed when the machine is built from its recorded configuration, so the
// bytes a DMA transfer writes into guest RAM follow from it and from the
// guest's own request; the transfer completes within the port write.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "vmm/device_state.h"
#include "vmm/guest_dma.h"
#include "vmm/io_bus.h"

namespace rrvm {

class FwCfg final : public IoDevice, public DeviceState {
 public:
  static constexpr uint16_t kPort = 0x510, kDmaPort = 0x514;
  static constexpr uint16_t kSignature = 0x00, kId = 0x01, kFileDir = 0x19, kFileFirst = 0x20;
  static constexpr uint16_t kArchLocal = 0x8000, kWriteChannel = 0x4000;
  static constexpr uint32_t kDmaError = 0x01, kDmaRead = 0x02, kDmaSkip = 0x04, kDmaSelect = 0x08,
                            kDmaWrite = 0x10;

  // The signature ("QEMU") and the feature word (traditional interface and
  // DMA) are present from the start.
  explicit FwCfg(GuestDma& dma);
  ~FwCfg() override;

  void add_item(uint16_t key, std::vector<uint8_t> data);
  // Keys are renumbered so that files sit in name order from 0x20 on.
  void add_file(const std::string& name, std::vector<uint8_t> data);
  uint16_t file_key(const std::string& name) const;  // 0 when absent

  // Claims 0x510-0x511 and 0x514-0x51B.
  void attach(IoBus& ports);

  const char* device_name() const override { return "fw_cfg"; }
  // Offsets from 0x510: 0-1 selector/data; 4-11 the DMA address register.
  uint64_t io_read(uint64_t offset, unsigned size) override;
  void io_write(uint64_t offset, unsigned size, uint64_t value) override;

  // The selection and the DMA address; the items are configuration.
  std::vector<uint8_t> save_state() const override;
  void load_state(std::span<const uint8_t> bytes) override;

 private:
  const std::vector<uint8_t>* entry() const;
  void select(uint16_t key);
  uint8_t read_byte();
  void dma_transfer(uint64_t descriptor);
  void rebuild_directory();

  GuestDma& dma_;
  std::unique_ptr<IoDevice> dma_port_;
  std::map<uint16_t, std::vector<uint8_t>> items_;                  // by key & ~kWriteChannel
  std::vector<std::pair<std::string, std::vector<uint8_t>>> files_;  // in name order
  uint16_t selected_ = 0;
  uint32_t offset_ = 0;
  uint64_t dma_address_ = 0;
};

}  // namespace rrvm
