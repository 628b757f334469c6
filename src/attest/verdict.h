// The vocabulary shared by every attestation verifier (TDX, SNP, GPU, simulated): TCB status, stable
// reason codes, and the verification result whose JSON field names are part of the wire format
// (DESIGN section 4, "Verification result").
//
// Layering (after go-tdx-guest): parse (bytes -> struct, knows no crypto) -> verify (signatures, chains,
// CRLs, collateral at a given `now`; returns a verified report, never consults policy) -> validate
// (policy: debug, measurements, TCB status, report data; lists every mismatch at once).
// Only malformed bytes, broken cryptography and revocation are errors of verify; whether an OutOfDate
// TCB is acceptable is policy.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cmln::attest {

// Intel PCS TCB status strings, also used for SNP (UpToDate or OutOfDate against the policy minimum).
enum class TcbStatus {
  kUpToDate,
  kSWHardeningNeeded,
  kConfigurationNeeded,
  kConfigurationAndSWHardeningNeeded,
  kOutOfDate,
  kOutOfDateConfigurationNeeded,
  kRevoked,
  kTcbNotSupported,
  kUnknown,  // not evaluated (e.g. no collateral given)
};

// "UpToDate", "SWHardeningNeeded", ... exactly as Intel's PCS spells them; "Unknown" for kUnknown.
const char* TcbStatusName(TcbStatus s);
// Parses Intel's spelling; returns false for anything else.
bool ParseTcbStatus(const std::string& name, TcbStatus* out);
// Rank of a status for "not below the minimum" checks (a release's min_tcb): 0 is best, in Intel's
// order UpToDate < SWHardeningNeeded < ConfigurationNeeded < ConfigurationAndSWHardeningNeeded <
// OutOfDate < OutOfDateConfigurationNeeded. Unacceptable statuses (Revoked, TcbNotSupported, Unknown)
// rank kUnacceptableTcbRank, above every minimum.
inline constexpr int kUnacceptableTcbRank = 100;
int TcbRank(TcbStatus s);

// One reason for a rejection: a stable snake_case code (never renamed; see docs/attestation.md for the
// list) and a human message that names the field, the value seen and the value wanted (hex).
struct Reason {
  std::string code;
  std::string message;
};

struct Verdict {
  bool accepted = false;
  std::string platform;  // "tdx", "snp", "sim-tdx", "sim-snp", "nvidia-cc", "sim-gpu"
  bool simulated = false;
  TcbStatus tcb_status = TcbStatus::kUnknown;
  std::vector<std::string> advisory_ids;
  std::map<std::string, std::string> measurements;  // field name -> lowercase hex (ordered: deterministic JSON)
  std::string report_data;                          // lowercase hex
  std::vector<Reason> reasons;

  // {verdict "accepted"|"rejected", platform, simulated, tcb_status, advisory_ids, measurements, report_data,
  //  reasons[{code, message}]}
  nlohmann::json ToJson() const;
};

}  // namespace cmln::attest
