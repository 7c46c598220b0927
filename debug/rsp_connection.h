// One GDB remote serial protocol connection over TCP: packet framing
// ($data#checksum), acknowledgements (until QStartNoAckMode), run-length
// decoding of what gdb sends, binary escapes, and the interrupt byte (0x03).
// It knows nothing of what the packets mean.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace rrvm::debug {

class RspConnection {
 public:
  // Listens on 127.0.0.1:`port` (0: any free port). Throws std::runtime_error.
  explicit RspConnection(uint16_t port);
  ~RspConnection();
  RspConnection(const RspConnection&) = delete;
  RspConnection& operator=(const RspConnection&) = delete;

  uint16_t port() const { return port_; }
  // Waits for gdb to connect (one client; the listening socket closes).
  void accept_client();
  // The next packet's payload; nullopt when gdb hung up. A lone 0x03 comes
  // back as "\x03".
  std::optional<std::string> receive();
  void send(const std::string& payload);
  void set_no_ack() { no_ack_ = true; }
  // True when gdb sent the interrupt byte since the last call (checked
  // without blocking while the replay runs).
  bool interrupt_pending();

 private:
  bool read_byte(uint8_t* b);
  void write_all(const std::string& bytes);

  int listen_fd_ = -1;
  int fd_ = -1;
  uint16_t port_ = 0;
  bool no_ack_ = false;
  bool interrupted_ = false;
  std::string buffered_;
};

// Hex helpers of the protocol.
std::string to_hex(const void* bytes, size_t size);
std::string hex_text(const std::string& text);  // monitor output, O packets
std::optional<std::string> from_hex_text(const std::string& hex);

}  // namespace rrvm::debug
