// Parses arbitrary bytes as the DER of the SGX PCK certificate extension, and as a CCEL event log.
#include <cstddef>
#include <cstdint>

#include "attest/ccel.h"
#include "attest/pck_extensions.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cmln::ByteView in(data, size);
  (void)cmln::attest::ParsePckExtensions(in).ok();
  (void)cmln::attest::ReplayCcel(in).ok();
  return 0;
}
