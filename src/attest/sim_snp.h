// The `sim-snp` evidence generator: an AMD SEV-SNP ATTESTATION_REPORT (version 3 by default, or 2) in
// exactly the layout snp_report.h documents (offsets are its kOff* constants), signed with the simulated
// VCEK (ECDSA P-384 / SHA-384 over bytes 0x000..0x29F; r and s little-endian, zero-padded to 72 bytes).
//
// Field values: POLICY = bit 16 (SMT allowed) | bit 17 (reserved, must be one) | bit 19 (DEBUG) only
// when asked; SIGNATURE_ALGO 1; CURRENT/REPORTED/COMMITTED/LAUNCH_TCB = the VCEK's SPLs (so the
// verifier's REPORTED_TCB check passes); PLATFORM_INFO = SMT_EN; KEY_INFO = 0 (VCEK, chip key not
// masked); CHIP_ID = the VCEK's hwID; CPUID family/model/stepping of the product (v3); REPORT_ID fresh;
// REPORT_ID_MA all ones (no migration agent); every reserved byte zero.
// Thread safety: reentrant.
#pragma once

#include <array>
#include <cstdint>

#include "attest/sim_pki.h"
#include "attest/snp_report.h"
#include "common/bytes.h"
#include "common/status.h"

namespace cmln::attest {

struct SimSnpReportSpec {
  std::array<uint8_t, snp::kReportDataSize> report_data{};
  std::array<uint8_t, snp::kMeasurementSize> measurement{};
  std::array<uint8_t, snp::kHostDataSize> host_data{};
  uint32_t vmpl = 0;  // 0..3
  // Sets POLICY.DEBUG. Default off; the default policy then refuses the report (debug_enabled).
  bool debug = false;
  uint32_t version = 3;  // 2 or 3 (a Turin PKI needs 3)
  uint32_t guest_svn = 0;
  std::array<uint8_t, snp::kFamilyIdSize> family_id{};
  std::array<uint8_t, snp::kImageIdSize> image_id{};
};

inline constexpr uint64_t kSimSnpPolicyBase =
    (uint64_t{1} << snp::kPolicyBitSmt) | (uint64_t{1} << snp::kPolicyBitReservedOne);

// A signed report under `pki`. kInvalidArgument for a VMPL above 3, a version other than 2/3, or a
// version 2 report from a Turin PKI.
Result<Bytes> GenerateSimSnpReport(const SimPki& pki, const SimSnpReportSpec& spec);

}  // namespace cmln::attest
