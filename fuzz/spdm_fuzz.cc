// Fuzzes the NVIDIA SPDM GET_MEASUREMENTS report parser and the FWID certificate-extension decoder
// (threat A16): any bytes give a report or an error, never a crash, an over-read or an unbounded
// allocation. The first input byte picks the target. Seeds: the real H100 report (N1), the first NVSwitch
// report of the SW sample, and the N1 leaf's FWID extension value.
#include <cstddef>
#include <cstdint>

#include "attest/nvidia_verify.h"
#include "attest/spdm.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const cmln::ByteView input(data + 1, size - 1);
  if (data[0] & 1) {
    auto fwid = cmln::attest::nvidia::ParseDiceFwid(input);
    if (fwid.ok() && fwid->size() != 48) __builtin_trap();
    return 0;
  }
  auto parsed = cmln::attest::spdm::ParseGpuAttestationReport(input);
  if (parsed.ok()) {
    // Invariants of a successful parse: the signed region is the input minus the 96-byte signature, and
    // every block index is unique.
    if (parsed->signed_bytes.size() + cmln::attest::spdm::kSignatureSize != input.size()) __builtin_trap();
    for (const auto& b : parsed->response.blocks) {
      if (parsed->Block(b.index) != &b) __builtin_trap();
    }
    (void)cmln::attest::spdm::OpaqueTypeName(parsed->response.opaque.empty() ? 0 : parsed->response.opaque[0].type);
  }
  return 0;
}
