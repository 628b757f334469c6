// Parses arbitrary text as an attestation policy file (attest/policy_file.h). On success the canonical form
// must parse back to the same canonical form (the header's round-trip promise); a mismatch traps.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "attest/policy_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto policy = cmln::attest::ParsePolicyJson(text);
  if (!policy.ok()) return 0;
  const std::string canonical = cmln::attest::PolicyToJson(*policy).dump();
  auto again = cmln::attest::ParsePolicyJson(canonical);
  if (!again.ok() || cmln::attest::PolicyToJson(*again).dump() != canonical) __builtin_trap();
  return 0;
}
