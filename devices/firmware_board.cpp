#include "devices/firmware_board.h"

#include <fmt/format.h>

#include "devices/pci/i440fx.h"

namespace rrvm {

namespace {
constexpr unsigned kPrimaryIrq = 14, kSecondaryIrq = 15;
constexpr uint16_t kBiosDebugPort = 0x402;

// CMOS (QEMU's pc_cmos_init): what SeaBIOS's QEMU paths read.
constexpr uint8_t kCmosFloppyTypes = 0x10, kCmosEquipment = 0x14, kCmosBootFlag1 = 0x38, kCmosBootFlag2 = 0x3D;
constexpr uint8_t kFloppyType144 = 4;
// Boot device codes in CMOS 0x3D/0x38 (QEMU's -boot letters a, c).
constexpr uint8_t kBootCodeFloppy = 1, kBootCodeDisk = 2;

// fw_cfg legacy keys (QEMU's include/standard-headers/linux/qemu_fw_cfg.h).
constexpr uint16_t kCfgUuid = 0x02, kCfgRamSize = 0x03, kCfgNoGraphic = 0x04, kCfgNbCpus = 0x05, kCfgNuma = 0x0D,
                   kCfgBootMenu = 0x0E, kCfgMaxCpus = 0x0F, kCfgAcpiTables = 0x8000, kCfgIrq0Override = 0x8002;

std::vector<uint8_t> le(uint64_t v, int bytes) {
  std::vector<uint8_t> out;
  for (int i = 0; i < bytes; ++i) out.push_back(uint8_t(v >> (8 * i)));
  return out;
}
}  // namespace

FirmwareBoard::FirmwareBoard(Machine& machine, PcBoard& board, PciHost& pci, FirmwareBoardConfig config)
    : machine_(machine),
      pci_(pci),
      config_(std::move(config)),
      guest_dma_(machine.memory(), [&machine](uint64_t gpa, uint64_t len) { machine.vcpu().invalidate_code(gpa, len); }),
      piix3_([&machine] { machine.request_reset("PIIX3 reset control register 0xCF9"); }),
      dma_(guest_dma_),
      fdc_(board.pic(), dma_),
      ata_{AtaChannel(board.pic(), kPrimaryIrq, "ata0"), AtaChannel(board.pic(), kSecondaryIrq, "ata1")},
      fw_cfg_(guest_dma_),
      kbc_(board.pic(), [&machine] { machine.request_reset("i8042 reset line"); }),
      port92_([&machine] { machine.request_reset("port 0x92 fast reset"); }),
      bios_debug_(config_.bios_log) {
  Vcpu* vcpu = &machine.vcpu();
  shadow_ = std::make_unique<ShadowRam>(machine.memory(), config_.bios_slot, [vcpu] { vcpu->sync_memory_map(); });
  pci.host_bridge().attach_shadow_ram(shadow_.get());
  pci.add_device(1, &piix3_, 0);
  pci.add_device(1, &ide_, 1);
  pci.set_port_cf9(&piix3_.reset_control());

  IoBus& ports = machine.ports();
  claim(machine.mmio(), ShadowRam::kBase, ShadowRam::kSize, shadow_.get());
  dma_.attach(ports);
  claims_.insert(claims_.end(), {{&ports, 0x00}, {&ports, 0xC0}, {&ports, 0x81}});
  fdc_.insert(config_.floppy.get());
  fdc_.attach(ports);
  claims_.insert(claims_.end(), {{&ports, FloppyController::kBasePort}, {&ports, FloppyController::kBasePort + 7u}});
  ata_[0].set_disk(config_.disk.get());
  ata_[0].attach(ports, 0x1F0, 0x3F6);
  ata_[1].attach(ports, 0x170, 0x376);
  claims_.insert(claims_.end(), {{&ports, 0x1F0}, {&ports, 0x3F6}, {&ports, 0x170}, {&ports, 0x376}});
  fw_cfg_.attach(ports);
  claims_.insert(claims_.end(), {{&ports, FwCfg::kPort}, {&ports, FwCfg::kDmaPort}});
  kbc_.attach(ports);
  claims_.insert(claims_.end(), {{&ports, 0x60}, {&ports, 0x64}});
  claim(ports, 0x92, 1, &port92_);
  claim(ports, kBiosDebugPort, 1, &bios_debug_);

  set_cmos(board);
  fill_fw_cfg();
}

FirmwareBoard::~FirmwareBoard() {
  for (const Claim& c : claims_) c.bus->remove(c.base);
  pci_.set_port_cf9(nullptr);
  pci_.host_bridge().attach_shadow_ram(nullptr);
}

void FirmwareBoard::claim(IoBus& bus, uint64_t base, uint64_t length, IoDevice* device) {
  bus.add(base, length, device);
  claims_.push_back({&bus, base});
}

void FirmwareBoard::set_cmos(PcBoard& board) {
  CmosRtc& cmos = board.rtc();
  const bool floppy = config_.floppy != nullptr;
  cmos.set_byte(kCmosFloppyTypes, floppy ? uint8_t(kFloppyType144 << 4) : 0);
  cmos.set_byte(kCmosEquipment, uint8_t((floppy ? 0x01 : 0x00) | 0x02 | 0x04));  // drive, FPU, PS/2 mouse
  const uint8_t first = config_.boot == BootDevice::Floppy ? kBootCodeFloppy : kBootCodeDisk;
  const uint8_t second = config_.boot == BootDevice::Floppy ? kBootCodeDisk : kBootCodeFloppy;
  cmos.set_byte(kCmosBootFlag2, uint8_t(second << 4 | first));
  cmos.set_byte(kCmosBootFlag1, 0x00);  // no third device; check the floppy boot signature
}

void FirmwareBoard::fill_fw_cfg() {
  fw_cfg_.add_item(kCfgUuid, std::vector<uint8_t>(16, 0));
  fw_cfg_.add_item(kCfgRamSize, le(config_.mem_bytes, 8));
  fw_cfg_.add_item(kCfgNoGraphic, le(0, 2));
  fw_cfg_.add_item(kCfgNbCpus, le(1, 2));
  fw_cfg_.add_item(kCfgMaxCpus, le(1, 2));
  fw_cfg_.add_item(kCfgNuma, std::vector<uint8_t>(16, 0));  // no nodes; one CPU's (empty) node entry
  fw_cfg_.add_item(kCfgBootMenu, le(0, 2));
  fw_cfg_.add_item(kCfgAcpiTables, {});
  fw_cfg_.add_item(kCfgIrq0Override, le(1, 4));
  // One e820 entry: all RAM below 4 GiB, as QEMU lists it (SeaBIOS itself
  // reserves the hole from 640 KiB to 1 MiB and its own areas).
  std::vector<uint8_t> e820 = le(0, 8);
  auto len = le(config_.mem_bytes, 8);
  e820.insert(e820.end(), len.begin(), len.end());
  auto type = le(1, 4);  // E820_RAM
  e820.insert(e820.end(), type.begin(), type.end());
  fw_cfg_.add_file("etc/e820", std::move(e820));
  // The boot order comes from CMOS (--boot); no device paths.
  fw_cfg_.add_file("bootorder", {});
  fw_cfg_.add_file("bios-geometry", {});
  fw_cfg_.add_file("etc/boot-menu-wait", le(0, 2));
  // A boot that fails everywhere resets at once (QEMU's default, -1, waits
  // forever), so a recording of an unbootable disk ends.
  fw_cfg_.add_file("etc/boot-fail-wait", le(0, 4));
}

std::vector<BoardDevice> FirmwareBoard::devices() {
  std::vector<BoardDevice> d = {{"shadow-ram", shadow_.get()}, {"piix3", &piix3_},     {"piix3-ide", &ide_},
                                {"dma", &dma_},                {"fdc", &fdc_},         {"ata0", &ata_[0]},
                                {"ata1", &ata_[1]},            {"fw_cfg", &fw_cfg_},   {"i8042", &kbc_},
                                {"port92", &port92_},          {"bios-debug", &bios_debug_}};
  if (config_.floppy) d.push_back({"floppy-image", config_.floppy.get()});
  if (config_.disk) d.push_back({"disk-image", config_.disk.get()});
  return d;
}

std::vector<std::pair<std::string, std::string>> FirmwareBoard::descriptions() const {
  std::vector<std::pair<std::string, std::string>> d;
  d.emplace_back("i440fx-pam", "pci=00:00.0 shadow=0xc0000-0xfffff");
  d.emplace_back("piix3", "pci=00:01.0 rcr=0xcf9");
  d.emplace_back("piix3-ide", "pci=00:01.1 ata0=0x1f0/0x3f6/irq14 ata1=0x170/0x376/irq15");
  d.emplace_back("dma", "ports=0x00-0x0f,0xc0-0xdf,0x81-0x8f");
  d.emplace_back("fdc", fmt::format("ports=0x3f0-0x3f5,0x3f7 irq=6 dma=2 drive-a={}",
                                    config_.floppy ? "1.44M" : "empty"));
  d.emplace_back("ata0", fmt::format("master={}", config_.disk ? fmt::format("{} sectors", config_.disk->sectors())
                                                                  : std::string("none")));
  d.emplace_back("fw_cfg", "ports=0x510-0x511,0x514-0x51b dma");
  d.emplace_back("i8042", "ports=0x60,0x64 irq=1,12");
  d.emplace_back("port92", "ports=0x92");
  d.emplace_back("bios-debug", "ports=0x402");
  d.emplace_back("boot", config_.boot == BootDevice::Floppy ? "floppy" : "disk");
  return d;
}

}  // namespace rrvm
