// One ATA (IDE) channel in PIO mode: the command block (8 ports; 16/32-bit
// data at offset 0), the control port (alternate status / device control)
// and an interrupt line, with a hard disk as device 0 (device 1 absent, as
// QEMU shows an empty position: its registers read 0). Data moves only
// through the data port, so every byte of the disk the guest reads is a port
// read, recorded like any other. Commands complete at once (BSY is seen only
// during a software reset). Register behaviour follows QEMU's IDE model,
// which SeaBIOS was written against.
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "vmm/device_state.h"
#include "devices/disk_image.h"
#include "vmm/interrupts.h"
#include "vmm/io_bus.h"

namespace rrvm {

class AtaChannel final : public IoDevice, public DeviceState {
 public:
  // Geometry a disk reports (QEMU's guess for an image without hints).
  static constexpr unsigned kHeads = 16, kSectorsPerTrack = 63, kMaxMultiple = 16;

  AtaChannel(IrqSink& irq, unsigned irq_line, const char* name);
  ~AtaChannel() override;

  // Device 0's disk (not owned; a hard-disk image), or none.
  void set_disk(DiskImage* disk) { disk_ = disk; }

  // Claims the command block at `command_base` and the control port at
  // `control_port` (0x1F0/0x3F6 for the primary channel).
  void attach(IoBus& ports, uint16_t command_base, uint16_t control_port);

  const char* device_name() const override { return name_; }
  // The command block (offsets 0-7).
  uint64_t io_read(uint64_t offset, unsigned size) override;
  void io_write(uint64_t offset, unsigned size, uint64_t value) override;
  // The control port.
  uint8_t read_alternate_status();
  void write_device_control(uint8_t value);

  std::vector<uint8_t> save_state() const override;
  void load_state(std::span<const uint8_t> bytes) override;

 private:
  enum class Transfer : uint8_t { None, PioIn, PioOut };
  bool present() const { return disk_ != nullptr; }
  bool selected_present() const { return present() && !(select_ & 0x10); }
  uint8_t read_register(unsigned reg);
  void write_register(unsigned reg, uint8_t value);
  uint16_t read_data();
  void write_data(uint16_t value);
  void execute(uint8_t command);
  void abort_command();
  void complete(bool irq);
  void set_irq(bool pending);
  uint64_t lba(bool lba48) const;
  void set_lba(uint64_t lba, bool lba48);
  // The sector range of a READ/WRITE SECTORS (MULTIPLE) command: false (and
  // the ID-not-found error posted) when it lies beyond the disk.
  bool begin_transfer(bool lba48, unsigned block, Transfer transfer);
  void start_read(bool lba48, unsigned block);
  void start_write(bool lba48, unsigned block);
  void load_block();
  void store_block();
  void identify();
  void signature();
  uint32_t cylinders() const;

  IrqSink& irq_;
  unsigned irq_line_;
  const char* name_;
  DiskImage* disk_ = nullptr;
  std::unique_ptr<IoDevice> control_port_;

  // Task file; the hob_ bytes are the previous write of each (LBA48).
  uint8_t feature_ = 0, error_ = 0x01, nsector_ = 1, sector_ = 1, lcyl_ = 0, hcyl_ = 0, select_ = 0xA0;
  uint8_t hob_nsector_ = 0, hob_sector_ = 0, hob_lcyl_ = 0, hob_hcyl_ = 0;
  uint8_t status_ = 0x50, control_ = 0;
  bool irq_pending_ = false;
  // PIO transfer in progress.
  Transfer transfer_ = Transfer::None;
  std::vector<uint8_t> buffer_;
  uint32_t buffer_pos_ = 0;
  uint64_t next_lba_ = 0;
  uint32_t sectors_left_ = 0, block_sectors_ = 1;
  bool lba48_ = false;
  uint8_t multiple_ = 0;  // SET MULTIPLE: sectors per DRQ block for READ/WRITE MULTIPLE
  uint8_t logical_heads_ = kHeads, logical_sectors_ = kSectorsPerTrack;  // INITIALIZE DEVICE PARAMETERS
};

}  // namespace rrvm
