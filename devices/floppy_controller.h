// An 82077AA-style floppy disk controller at 0x3F0-0x3F5 and 0x3F7 with
// IRQ 6 and DMA channel 2, and one 3.5" 1.44 MB drive (A:) holding a disk
// image. Commands complete the moment their last parameter byte is written:
// data moves through the DMA channel then and the interrupt is raised, so
// what the guest sees follows from its own accesses and the image alone.
// The commands SeaBIOS and DOS-era boot code use are implemented (specify,
// sense interrupt/drive status, recalibrate, seek, read ID, read/write
// data, format track, version, configure, perpendicular mode, lock,
// dumpreg); others end with "invalid command" as on the chip.
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "vmm/device_state.h"
#include "devices/disk_image.h"
#include "devices/isa_dma.h"
#include "vmm/interrupts.h"
#include "vmm/io_bus.h"

namespace rrvm {

class FloppyController final : public IoDevice, public DeviceState {
 public:
  static constexpr uint16_t kBasePort = 0x3F0;
  static constexpr unsigned kHeads = 2, kTracks = 80, kSectorsPerTrack = 18;

  FloppyController(IrqSink& irq, IsaDma& dma, unsigned irq_line = 6, unsigned dma_channel = 2);
  ~FloppyController() override;

  // Puts `image` (not owned; a floppy image) in drive A:.
  void insert(DiskImage* image) { disk_ = image; }

  // Claims 0x3F0-0x3F5 and 0x3F7 (0x3F6 belongs to the IDE controller).
  void attach(IoBus& ports);

  const char* device_name() const override { return "fdc"; }
  // Offsets from 0x3F0 (0-7).
  uint64_t io_read(uint64_t offset, unsigned size) override;
  void io_write(uint64_t offset, unsigned size, uint64_t value) override;

  // The image's in-memory contents are part of the disk, not saved here.
  std::vector<uint8_t> save_state() const override;
  void load_state(std::span<const uint8_t> bytes) override;

 private:
  enum class Phase : uint8_t { Command, Result };
  uint8_t read_register(unsigned reg);
  void write_register(unsigned reg, uint8_t value);
  void write_fifo(uint8_t value);
  uint8_t read_fifo();
  void execute();
  void reset(bool from_dor);
  void raise_irq();
  void lower_irq();
  void result(std::initializer_list<uint8_t> bytes);
  void finish_no_result(uint8_t st0, bool irq);
  void transfer(bool to_memory);
  void format_track();
  bool drive_ready(unsigned drive) const { return drive == 0 && disk_ != nullptr; }
  uint8_t st3(unsigned drive, unsigned head) const;

  IrqSink& irq_;
  IsaDma& dma_;
  unsigned irq_line_, dma_channel_;
  DiskImage* disk_ = nullptr;
  std::unique_ptr<IoDevice> dir_port_;

  uint8_t dor_ = 0;           // 0x3F2: drive select, reset (bit 2 high = run), DMA/IRQ gate, motors
  uint8_t data_rate_ = 0;     // DSR/CCR
  Phase phase_ = Phase::Command;
  std::vector<uint8_t> fifo_;  // command bytes being gathered, or results to read
  size_t fifo_pos_ = 0;
  bool irq_pending_ = false;
  uint8_t st0_ = 0;                 // status for the next SENSE INTERRUPT
  uint8_t reset_sense_left_ = 0;    // after a reset: one SENSE INTERRUPT per drive
  std::array<uint8_t, 4> cylinder_{};
  uint8_t head_ = 0, sector_ = 1;   // head and sector of the last access (READ ID)
  uint8_t specify_[2] = {0, 0};
  uint8_t config_ = 0x20, precomp_ = 0, perpendicular_ = 0;
  bool lock_ = false;
  bool media_changed_ = true;  // the disk change line until the first seek
};

}  // namespace rrvm
