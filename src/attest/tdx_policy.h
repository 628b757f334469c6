// Policy validation of a verified TDX report (the "validate" layer: it checks no signatures and trusts
// that its input came from VerifyTdxQuote). Every mismatch is listed at once, each with the field, the
// value seen and the value wanted (lowercase hex).
//
// Thread safety: pure functions.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "attest/tdx_verify.h"
#include "attest/verdict.h"

namespace cmln::attest {

struct TdxPolicy {
  // A debug TD (TD_ATTRIBUTES bit 0, TUD.DEBUG) is refused unless this is set. Default false; tests only.
  bool allow_debug_for_testing = false;
  // Allowed values per measurement; an empty list means "not checked". Defaults: all empty.
  std::vector<Mr48> allowed_mrtd;
  std::array<std::vector<Mr48>, 4> allowed_rtmr;
  std::vector<Mr48> allowed_mrconfigid;
  // TCB statuses accepted. Default {UpToDate, SWHardeningNeeded}.
  std::vector<TcbStatus> accepted_tcb_statuses{TcbStatus::kUpToDate, TcbStatus::kSWHardeningNeeded};
  // When set, REPORTDATA must equal it exactly. Default unset (not checked).
  std::optional<std::array<uint8_t, 64>> expected_report_data;
};
TdxPolicy DefaultTdxPolicy();

// Stable reason codes of the policy layer.
inline constexpr char kReasonDebugEnabled[] = "debug_enabled";
inline constexpr char kReasonMeasurementMismatch[] = "measurement_mismatch";
inline constexpr char kReasonTcbStatusNotAccepted[] = "tcb_status_not_accepted";
inline constexpr char kReasonReportDataMismatch[] = "report_data_mismatch";

struct PolicyMismatch {
  std::string code;    // one of the kReason* above
  std::string field;   // "td_attributes", "mrtd", "rtmr0".."rtmr3", "mrconfigid", "tcb_status", "report_data"
  std::string seen;    // hex (or the status name)
  std::string wanted;  // hex values separated by " | " (or status names)

  Reason ToReason() const;  // message: "<field>: seen <seen>, wanted <wanted>"
};

// Every way `report` violates `policy`; empty means accepted.
std::vector<PolicyMismatch> ValidateTdx(const VerifiedTdxReport& report, const TdxPolicy& policy);

// The full verdict for the CLI: TdxVerdictOf(report) with `accepted` and `reasons` from ValidateTdx.
Verdict TdxVerdict(const VerifiedTdxReport& report, const TdxPolicy& policy);

}  // namespace cmln::attest
