// Fuzzes the SEV-SNP ATTESTATION_REPORT parser (threat A16): any bytes give a report or an error,
// never a crash or an over-read. Seeds: the real v2 (S1) and v3 (S3) reports and synthetic v5 ones.
#include <cstddef>
#include <cstdint>

#include "attest/snp_report.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const cmln::ByteView input(data, size);
  auto parsed = cmln::attest::snp::ParseSnpReport(input);
  if (parsed.ok()) {
    // Touch the decoded values so the layout code runs.
    (void)parsed->reported_tcb.ToString();
    (void)cmln::attest::snp::SignedRegion(input);
  }
  return 0;
}
