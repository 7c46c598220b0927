#include "system/console_rebuild.h"

#include <variant>

#include "devices/debug_port.h"
#include "devices/pc_board.h"
#include "devices/serial_16550.h"
#include "vmm/io_bus.h"

namespace rrvm {

namespace {

// Guest time as far as the trace tells it (service points carry it): the
// UART's timing affects only its status bits, never what it transmits.
class TraceClock final : public Clock {
 public:
  uint64_t now_ns() override { return now_; }
  void advance(uint64_t ns) { now_ = std::max(now_, ns); }

 private:
  uint64_t now_ = 0;
};

class NoIrq final : public IrqSink {
 public:
  void set_irq(unsigned, bool) override {}
};

}  // namespace

ConsoleOutput rebuild_console(const TraceReader& reader) {
  ConsoleOutput out;
  TraceClock clock;
  NoIrq irq;
  // The PC board's claims.
  Serial16550 com1(clock, irq, kCom1Irq, [&](uint8_t b) { out.serial += static_cast<char>(b); });
  DebugConsole debugcon([&](uint8_t b) { out.debug_console += static_cast<char>(b); });
  IoBus ports("port");
  ports.add(kCom1Ports.base, kCom1Ports.length, &com1);
  ports.add(kDebugConsolePorts.base, kDebugConsolePorts.length, &debugcon);
  try {
    EventCursor cursor = reader.events();
    while (const TraceEvent* event = cursor.next()) {
      if (const auto* s = std::get_if<ServicePointEvent>(&event->body)) {
        clock.advance(s->ns);
        continue;
      }
      const auto* e = std::get_if<ExitEvent>(&event->body);
      if (!e || e->kind != TraceExitKind::PortIo || e->size == 0) continue;
      // Reads too: they move the UART's state (its receive FIFO, LSR) as
      // they did live.
      if (e->is_write) ports.write(e->address, e->size, e->data);
      else ports.read(e->address, e->size);
    }
  } catch (const TraceError& e) {
    out.error = e.what();
  }
  return out;
}

}  // namespace rrvm
