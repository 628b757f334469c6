// The attestation policy file of `cmln attest verify --policy FILE`: one JSON document for both platforms,
// mapped onto the existing TdxPolicy (tdx_policy.h) and snp::SnpPolicy (snp_policy.h). The policy only
// validates evidence that already verified (the "validate" step); it never weakens a cryptographic check.
//
// Grammar (every key optional; an absent key keeps the default, which is the DefaultTdxPolicy /
// DefaultSnpPolicy value; unknown keys, duplicate keys, wrong types, bad hex, wrong lengths and empty
// lists are refused):
//
//   {
//     "version": 1,                                  // if present, must be 1
//     "allow_debug_for_testing": false,              // debug TDs / debug SNP guests; default false (forbidden)
//     "report_data": "<128 hex>",                    // expected REPORTDATA / REPORT_DATA (64 bytes), both platforms
//     "tdx": {
//       "mrtd":       ["<96 hex>", ...],             // allowed values; absent = not checked
//       "rtmr0": [...], "rtmr1": [...], "rtmr2": [...], "rtmr3": [...],
//       "mrconfigid": [...],
//       "accepted_tcb_statuses": ["UpToDate", "SWHardeningNeeded"]   // Intel's spelling; default as shown
//     },
//     "snp": {
//       "measurement": ["<96 hex>", ...],            // allowed MEASUREMENT values
//       "host_data":   ["<64 hex>", ...],            // allowed HOST_DATA values
//       "minimum_tcb": {"boot_loader": 0..255, "tee": 0..255, "snp": 0..255, "microcode": 0..255,
//                       "fmc": 0..255},              // each key optional (0); fmc applies to Turin only
//       "max_vmpl": 0..3,                            // default 3 (any)
//       "required_vmpl": 0..3,                       // default unset
//       "allow_migrate_ma": true                     // default true
//     }
//   }
//
// Hex is upper or lower case, without prefix or whitespace. Lists hold at most kMaxPolicyListEntries
// values; an empty list is refused because it would read as "allow none" but mean "not checked".
// TCB statuses apply to TDX only: SNP reports carry no TCB status of their own (snp_policy.h judges them
// against minimum_tcb).
//
// Errors: kBadEncoding (not JSON, with the byte offset; bad hex, with the key path), kMalformed (unknown
// or duplicate key, wrong type, wrong length, out of range, empty list; the message names the key path,
// e.g. `tdx.rtmr1[2]`), kLengthTooLarge (text over kMaxPolicyFileSize or a list over the cap).
//
// Thread safety: pure functions except ReadPolicyFile, which only reads the named file.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "attest/snp_policy.h"
#include "attest/tdx_policy.h"
#include "common/status.h"

namespace cmln::attest {

inline constexpr int kPolicyFileVersion = 1;
inline constexpr size_t kMaxPolicyListEntries = 256;
inline constexpr size_t kMaxPolicyFileSize = 64 * 1024;

struct AttestPolicy {
  TdxPolicy tdx;
  snp::SnpPolicy snp;
};

// DefaultTdxPolicy() and snp::DefaultSnpPolicy(): debug forbidden, TDX TCB status UpToDate or
// SWHardeningNeeded, no measurement, report data or VMPL constraint.
AttestPolicy DefaultAttestPolicy();

// Parses the document above. On success every field not named in `text` has its default.
Result<AttestPolicy> ParsePolicyJson(std::string_view text);

// ReadFileCapped(path, kMaxPolicyFileSize) then ParsePolicyJson; errors carry the path as context.
Result<AttestPolicy> ReadPolicyFile(const std::string& path);

// The canonical document for `policy` (every key present that differs from "not checked"; lowercase hex);
// ParsePolicyJson(PolicyToJson(p).dump()) gives back `p`.
nlohmann::json PolicyToJson(const AttestPolicy& policy);

}  // namespace cmln::attest
