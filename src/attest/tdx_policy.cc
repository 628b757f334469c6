#include "attest/tdx_policy.h"

#include <algorithm>

namespace cmln::attest {

namespace {

std::string JoinHex(const std::vector<Mr48>& values) {
  std::string out;
  for (const auto& v : values) {
    if (!out.empty()) out += " | ";
    out += HexEncode(v);
  }
  return out;
}

void CheckAllowed(const std::string& field, const Mr48& seen, const std::vector<Mr48>& allowed,
                  std::vector<PolicyMismatch>& out) {
  if (allowed.empty()) return;
  if (std::find(allowed.begin(), allowed.end(), seen) != allowed.end()) return;
  out.push_back({kReasonMeasurementMismatch, field, HexEncode(seen), JoinHex(allowed)});
}

}  // namespace

TdxPolicy DefaultTdxPolicy() { return TdxPolicy{}; }

Reason PolicyMismatch::ToReason() const { return Reason{code, field + ": seen " + seen + ", wanted " + wanted}; }

std::vector<PolicyMismatch> ValidateTdx(const VerifiedTdxReport& report, const TdxPolicy& policy) {
  std::vector<PolicyMismatch> out;
  const TdReport& body = report.quote.body;
  if (body.debug() && !policy.allow_debug_for_testing) {
    out.push_back({kReasonDebugEnabled, "td_attributes", HexEncode(body.td_attributes), "bit 0 (DEBUG) clear"});
  }
  CheckAllowed("mrtd", body.mr_td, policy.allowed_mrtd, out);
  for (size_t i = 0; i < 4; ++i) CheckAllowed("rtmr" + std::to_string(i), body.rtmr[i], policy.allowed_rtmr[i], out);
  CheckAllowed("mrconfigid", body.mr_config_id, policy.allowed_mrconfigid, out);
  const auto& ok = policy.accepted_tcb_statuses;
  if (std::find(ok.begin(), ok.end(), report.tcb_status) == ok.end()) {
    std::string wanted;
    for (TcbStatus s : ok) wanted += (wanted.empty() ? "" : " | ") + std::string(TcbStatusName(s));
    out.push_back({kReasonTcbStatusNotAccepted, "tcb_status", TcbStatusName(report.tcb_status), wanted});
  }
  if (policy.expected_report_data && *policy.expected_report_data != body.report_data) {
    out.push_back({kReasonReportDataMismatch, "report_data", HexEncode(body.report_data),
                   HexEncode(*policy.expected_report_data)});
  }
  return out;
}

Verdict TdxVerdict(const VerifiedTdxReport& report, const TdxPolicy& policy) {
  Verdict v = TdxVerdictOf(report);
  for (const auto& m : ValidateTdx(report, policy)) v.reasons.push_back(m.ToReason());
  v.accepted = v.reasons.empty();
  return v;
}

}  // namespace cmln::attest
