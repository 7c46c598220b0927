#include "tests/guests/guest_oracle.h"

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>

namespace rrvm::guests {

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read '" + path + "'");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<GuestSpec> load_guest_specs(const std::string& expected_dir, const std::string& guest_dir) {
  const std::string manifest = expected_dir + "/guests.txt";
  std::istringstream lines(read_text_file(manifest));
  std::vector<GuestSpec> specs;
  std::string line;
  int number = 0;
  while (std::getline(lines, line)) {
    ++number;
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    GuestSpec spec;
    std::string image, input;
    if (!(fields >> spec.name >> image >> spec.exit_status >> input))
      throw std::runtime_error(manifest + ":" + std::to_string(number) + ": want 'name image exit input'");
    spec.image_path = guest_dir + "/" + image;
    spec.elf = image.ends_with(".elf");
    if (input != "-") spec.input = read_text_file(expected_dir + "/" + input);
    const std::string exact = expected_dir + "/" + spec.name + ".txt";
    const std::string regex = expected_dir + "/" + spec.name + ".regex";
    if (std::filesystem::exists(exact)) {
      spec.expected = read_text_file(exact);
    } else if (std::filesystem::exists(regex)) {
      spec.expected = read_text_file(regex);
      spec.expected_is_regex = true;
    } else {
      throw std::runtime_error(manifest + ":" + std::to_string(number) + ": neither " + exact + " nor " + regex);
    }
    specs.push_back(std::move(spec));
  }
  return specs;
}

const GuestSpec& find_guest_spec(const std::vector<GuestSpec>& specs, const std::string& name) {
  for (const auto& s : specs)
    if (s.name == name) return s;
  throw std::runtime_error("no guest named '" + name + "' in the guest specification");
}

namespace {
// Printable one-line rendering of guest output for messages.
std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s.substr(0, 400)) {
    if (c == '\n') out += "\\n";
    else if (c < 0x20 || c >= 0x7F) { char b[8]; std::snprintf(b, sizeof b, "\\x%02x", c); out += b; }
    else out += static_cast<char>(c);
  }
  return out + (s.size() > 400 ? "...\"" : "\"");
}
}  // namespace

std::string check_guest_output(const GuestSpec& spec, const std::string& channel, const std::string& output) {
  if (spec.expected_is_regex) {
    if (std::regex_match(output, std::regex(spec.expected))) return "";
    return spec.name + " " + channel + " output " + quoted(output) + " does not match /" + spec.expected + "/";
  }
  if (output == spec.expected) return "";
  return spec.name + " " + channel + " output " + quoted(output) + ", expected " + quoted(spec.expected);
}

}  // namespace rrvm::guests
