#include "debug/rsp_connection.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace rrvm::debug {

namespace {
int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
constexpr char kHex[] = "0123456789abcdef";
}  // namespace

std::string to_hex(const void* bytes, size_t size) {
  std::string out;
  out.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    const uint8_t b = static_cast<const uint8_t*>(bytes)[i];
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

std::string hex_text(const std::string& text) { return to_hex(text.data(), text.size()); }

std::optional<std::string> from_hex_text(const std::string& hex) {
  if (hex.size() % 2) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = hex_digit(hex[i]), lo = hex_digit(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(char(hi << 4 | lo));
  }
  return out;
}

RspConnection::RspConnection(uint16_t port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw std::runtime_error(std::string("gdb server: socket: ") + std::strerror(errno));
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 1) != 0) {
    std::string why = std::strerror(errno);
    ::close(listen_fd_);
    throw std::runtime_error("gdb server: cannot listen on 127.0.0.1:" + std::to_string(port) + ": " + why +
                             " (choose another --port, or 0 for any free one)");
  }
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
}

RspConnection::~RspConnection() {
  if (fd_ >= 0) ::close(fd_);
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

void RspConnection::accept_client() {
  do fd_ = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
  while (fd_ < 0 && errno == EINTR);
  if (fd_ < 0) throw std::runtime_error(std::string("gdb server: accept: ") + std::strerror(errno));
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ::close(listen_fd_);
  listen_fd_ = -1;
}

bool RspConnection::read_byte(uint8_t* b) {
  if (!buffered_.empty()) {
    *b = uint8_t(buffered_[0]);
    buffered_.erase(0, 1);
    return true;
  }
  char chunk[4096];
  ssize_t n;
  do n = ::read(fd_, chunk, sizeof chunk);
  while (n < 0 && errno == EINTR);
  if (n <= 0) return false;
  buffered_.assign(chunk, size_t(n));
  return read_byte(b);
}

void RspConnection::write_all(const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // gdb went away: the next receive() sees it
    done += size_t(n);
  }
}

bool RspConnection::interrupt_pending() {
  if (fd_ < 0) return false;
  pollfd p{fd_, POLLIN, 0};
  if (buffered_.empty() && ::poll(&p, 1, 0) > 0 && (p.revents & POLLIN)) {
    char chunk[4096];
    ssize_t n = ::read(fd_, chunk, sizeof chunk);
    if (n > 0) buffered_.append(chunk, size_t(n));
  }
  size_t at = buffered_.find('\x03');
  if (at != std::string::npos) {
    buffered_.erase(at, 1);
    interrupted_ = true;
  }
  return std::exchange(interrupted_, false);
}

std::optional<std::string> RspConnection::receive() {
  for (;;) {
    uint8_t b;
    if (!read_byte(&b)) return std::nullopt;
    if (b == 0x03) return std::string("\x03");
    if (b != '$') continue;  // acks and noise between packets
    std::string data;
    uint8_t sum = 0;
    for (;;) {
      if (!read_byte(&b)) return std::nullopt;
      if (b == '#') break;
      sum = uint8_t(sum + b);
      data.push_back(char(b));
    }
    uint8_t c1, c2;
    if (!read_byte(&c1) || !read_byte(&c2)) return std::nullopt;
    const int hi = hex_digit(char(c1)), lo = hex_digit(char(c2));
    if (!no_ack_) {
      if (hi < 0 || lo < 0 || uint8_t(hi << 4 | lo) != sum) {
        write_all("-");
        continue;
      }
      write_all("+");
    }
    // Binary escapes (0x7d, byte ^ 0x20) and run-length encoding ('*').
    std::string out;
    for (size_t i = 0; i < data.size(); ++i) {
      if (data[i] == '}' && i + 1 < data.size()) {
        out.push_back(char(data[++i] ^ 0x20));
      } else if (data[i] == '*' && i + 1 < data.size() && !out.empty()) {
        out.append(size_t(uint8_t(data[++i]) - 29), out.back());
      } else {
        out.push_back(data[i]);
      }
    }
    return out;
  }
}

void RspConnection::send(const std::string& payload) {
  std::string packet = "$";
  uint8_t sum = 0;
  for (char c : payload) {
    // '$', '#', '}' and '*' in a reply are escaped.
    if (c == '$' || c == '#' || c == '}' || c == '*') {
      packet.push_back('}');
      sum = uint8_t(sum + '}');
      c = char(c ^ 0x20);
    }
    packet.push_back(c);
    sum = uint8_t(sum + uint8_t(c));
  }
  packet.push_back('#');
  packet.push_back(kHex[sum >> 4]);
  packet.push_back(kHex[sum & 15]);
  for (int attempt = 0; attempt < 3; ++attempt) {
    write_all(packet);
    if (no_ack_) return;
    uint8_t b;
    if (!read_byte(&b)) return;
    if (b == '+') return;
    if (b == 0x03) interrupted_ = true;
    if (b == '$') {  // gdb already sends the next packet: keep it
      buffered_.insert(buffered_.begin(), '$');
      return;
    }
  }
}

}  // namespace rrvm::debug
