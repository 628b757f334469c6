// Fuzzes the multi-GPU evidence_list JSON parser and the NVIDIA RIM (SWID tag XML) parser (threat A16):
// any text gives a value or an error, never a crash. The first input byte picks the target. Seeds: the
// NVSwitch evidence_list sample (bare and wrapped in {"evidence_list": ...}), and NVIDIA's RIMs (driver, VBIOS).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "attest/gpu_evidence.h"
#include "attest/nvidia_rim.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  if (data[0] & 1) {
    auto rim = cmln::attest::nvidia::ParseRim(text);
    if (rim.ok()) {
      for (const auto& m : rim->measurements) {
        if (m.alternatives.empty() || m.alternatives.size() > cmln::attest::nvidia::kMaxRimAlternatives) __builtin_trap();
        if (rim->Find(m.index) != &m) __builtin_trap();
      }
    }
    return 0;
  }
  auto list = cmln::attest::nvidia::ParseGpuEvidenceList(text);
  if (list.ok()) {
    // Re-serializing and parsing again gives the same canonical digest.
    auto again = cmln::attest::nvidia::ParseGpuEvidenceList(cmln::attest::nvidia::GpuEvidenceListToJson(*list).dump());
    if (!again.ok()) __builtin_trap();
    if (cmln::attest::nvidia::GpuEvidenceListDigest(*again) != cmln::attest::nvidia::GpuEvidenceListDigest(*list)) {
      __builtin_trap();
    }
  }
  return 0;
}
