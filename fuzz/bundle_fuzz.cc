// Fuzzes the attestation bundle parser (attest/bundle.h): arbitrary text must either be refused with an
// error value or parse into a bundle that serializes canonically and parses back to the same value.
// Also exercises ComputeReportData on every parsed bundle.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "attest/bundle.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto b = cmln::attest::ParseBundle(text);
  if (!b.ok()) return 0;
  auto rd = cmln::attest::ComputeReportData(*b);
  if (!rd.ok()) std::abort();  // a parsed bundle always has a decodable key config
  auto out = cmln::attest::SerializeBundle(*b);
  if (!out.ok()) std::abort();
  auto again = cmln::attest::ParseBundle(*out);
  if (!again.ok() || !(*again == *b)) std::abort();
  return 0;
}
