// Parses arbitrary text as QuoteCollateralV3 JSON, and as bare TCB info / QE identity documents.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "attest/tdx_collateral.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)cmln::attest::ParseTdxCollateral(text).ok();
  (void)cmln::attest::ParseTcbInfo(text).ok();
  (void)cmln::attest::ParseQeIdentity(text).ok();
  return 0;
}
