// The gdb remote protocol over a replay: registers, memory, breakpoints,
// watchpoints, forward and reverse execution, and `monitor` commands, all
// asked of a ReplayTimeline (the server holds no replay state of its own).
//
// Addresses. gdb sees linear addresses: memory reads, breakpoints and
// watchpoints take them (segment base + offset; through the page tables when
// paging is on), and eip is reported as the linear address of the next
// instruction (CS base + EIP) so that gdb's $pc, `x/i $pc` and `break *ADDR`
// agree in real mode too. `monitor regs` prints the raw registers.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "debug/rsp_connection.h"
#include "system/replay_timeline.h"

namespace rrvm::debug {

class GdbServer {
 public:
  GdbServer(ReplayTimeline& timeline, RspConnection& connection);
  ~GdbServer();
  GdbServer(const GdbServer&) = delete;
  GdbServer& operator=(const GdbServer&) = delete;
  // Serves one gdb session until it detaches, kills or hangs up. `log`
  // receives one line per noteworthy thing (refused writes).
  void serve(const std::function<void(const std::string&)>& log = {});

 private:
  struct Watch {
    int type = 2;  // Z2 write, Z3 read, Z4 access
    uint64_t linear = 0;
    uint64_t length = 1;
    uint64_t physical = 0;
  };

  std::string handle(const std::string& packet, bool* done);
  std::string stop_reply(const TimelineStop& stop);
  std::string registers_hex();
  std::string register_hex(unsigned n);
  std::string read_memory(const std::string& args);
  std::string breakpoint(const std::string& args, bool insert);
  std::string resume(char action);
  std::string monitor(const std::string& command);
  std::string target_xml() const;
  std::string features_read(const std::string& args);
  void arm();

  ReplayTimeline& timeline_;
  RspConnection& connection_;
  std::vector<uint64_t> breakpoints_;
  std::vector<Watch> watches_;
  TimelineStop last_stop_;
  std::string architecture_;
  std::function<void(const std::string&)> log_;
};

}  // namespace rrvm::debug
