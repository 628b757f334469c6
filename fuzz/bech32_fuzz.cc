// Fuzzes the bech32 decoder (BIP-173) on arbitrary text. Whatever decodes must re-encode to the
// lowercase form of the input, at the 5-bit level and, when the data regroups into bytes, at the byte
// level; and decoding must agree with Decode() given the decoded hrp.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "seal/bech32.h"

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cmln::seal::bech32;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto decoded = DecodeFiveBit(text);
  if (!decoded.ok()) return 0;
  const std::string lower = Lower(text);

  auto again = EncodeFiveBit(decoded->hrp, decoded->data);
  if (!again.ok() || *again != lower) std::abort();

  auto bytes = FiveBitToBytes(decoded->data);
  auto via_decode = Decode(text, decoded->hrp);
  if (bytes.ok() != via_decode.ok()) std::abort();
  if (bytes.ok()) {
    if (*bytes != *via_decode) std::abort();
    auto encoded = Encode(decoded->hrp, *bytes);
    if (!encoded.ok() || *encoded != lower) std::abort();
  }
  return 0;
}
