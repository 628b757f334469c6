// AMD SEV-SNP policy validation: the last step after parse (snp_report.h) and verify (snp_verify.h).
// It checks no signature and trusts its input to be a VerifiedSnpReport; it only compares fields with
// what the caller allows, and lists every mismatch at once (field, value seen, value wanted, in hex).
//
// Reason codes (stable; shared with the ErrorCode names of common/status.h where one exists):
//   debug_enabled            POLICY.DEBUG (bit 19) is set and the policy does not allow debug      (A8)
//   measurement_not_approved MEASUREMENT or HOST_DATA not in the allowed list (message names which)  (A9)
//   tcb_below_minimum        a REPORTED_TCB component below the minimum                              (A7)
//   binding_mismatch         REPORT_DATA differs from the expected value                            (A10)
//   vmpl_not_allowed         VMPL above the maximum or not the required one
//   migrate_ma_not_allowed   POLICY.MIGRATE_MA set and the policy forbids a migration agent
// Verification failures become one reason whose code is ErrorCodeName() of the error (e.g.
// "bad_signature", "chain_untrusted", "cert_expired"), see MakeSnpVerdict.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "attest/snp_verify.h"
#include "attest/verdict.h"
#include "common/bytes.h"
#include "common/status.h"

namespace cmln::attest::snp {

// Minimum security patch level per TCB component. Components are compared one by one (a TCB is not
// totally ordered); fmc applies to Turin only.
struct SnpMinimumTcb {
  uint8_t boot_loader = 0;
  uint8_t tee = 0;
  uint8_t snp = 0;
  uint8_t microcode = 0;
  uint8_t fmc = 0;
};

struct SnpPolicy {
  // Debug guests can be decrypted by the host. Default false; true only for tests (named so).
  bool allow_debug_for_testing = false;
  // Allowed MEASUREMENT values (48 bytes each). Empty = not checked.
  std::vector<Bytes> allowed_measurements;
  // Allowed HOST_DATA values (32 bytes each). Empty = not checked.
  std::vector<Bytes> allowed_host_data;
  // Minimum REPORTED_TCB. nullopt = not checked (the verdict's tcb_status is then Unknown).
  std::optional<SnpMinimumTcb> minimum_tcb;
  // Expected REPORT_DATA (64 bytes). nullopt = not checked.
  std::optional<Bytes> expected_report_data;
  // Highest VMPL accepted (0 is the most privileged). Default 3 (any).
  uint32_t max_vmpl = 3;
  // If set, VMPL must equal it. Default nullopt.
  std::optional<uint32_t> required_vmpl;
  // Whether a migration agent may be associated (POLICY.MIGRATE_MA). Default true (not checked).
  bool allow_migrate_ma = true;
};

// Debug forbidden, everything else unchecked (see the defaults above).
SnpPolicy DefaultSnpPolicy();

// Validates a verified report. The verdict is accepted iff `reasons` is empty; it always carries
// platform "snp", simulated false, measurements {"measurement", "host_data"} and report_data (hex),
// and tcb_status UpToDate / OutOfDate against minimum_tcb (Unknown when no minimum is set).
Verdict ValidateSnpReport(const VerifiedSnpReport& verified, const SnpPolicy& policy);

// Verification result plus policy in one verdict: an error becomes a rejection with one reason
// {ErrorCodeName(code), message}; a success is ValidateSnpReport.
Verdict MakeSnpVerdict(const Result<VerifiedSnpReport>& verified, const SnpPolicy& policy);

}  // namespace cmln::attest::snp
