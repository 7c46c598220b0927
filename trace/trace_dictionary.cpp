#include "trace/trace_dictionary.h"

namespace rrvm {
namespace {
// trace/dictionary-v6.bin, as written out by trace/CMakeLists.txt.
constexpr uint8_t kDictionaryV6[] = {
#include "trace_dictionary_v6.inc"
};
}  // namespace

std::span<const uint8_t> trace_dictionary_v6() { return kDictionaryV6; }

}  // namespace rrvm
