#include "attest/verdict.h"

namespace cmln::attest {

namespace {
struct StatusName {
  TcbStatus status;
  const char* name;
};
constexpr StatusName kStatusNames[] = {
    {TcbStatus::kUpToDate, "UpToDate"},
    {TcbStatus::kSWHardeningNeeded, "SWHardeningNeeded"},
    {TcbStatus::kConfigurationNeeded, "ConfigurationNeeded"},
    {TcbStatus::kConfigurationAndSWHardeningNeeded, "ConfigurationAndSWHardeningNeeded"},
    {TcbStatus::kOutOfDate, "OutOfDate"},
    {TcbStatus::kOutOfDateConfigurationNeeded, "OutOfDateConfigurationNeeded"},
    {TcbStatus::kRevoked, "Revoked"},
    {TcbStatus::kTcbNotSupported, "TcbNotSupported"},
    {TcbStatus::kUnknown, "Unknown"},
};
}  // namespace

int TcbRank(TcbStatus s) {
  switch (s) {
    case TcbStatus::kUpToDate: return 0;
    case TcbStatus::kSWHardeningNeeded: return 1;
    case TcbStatus::kConfigurationNeeded: return 2;
    case TcbStatus::kConfigurationAndSWHardeningNeeded: return 3;
    case TcbStatus::kOutOfDate: return 4;
    case TcbStatus::kOutOfDateConfigurationNeeded: return 5;
    case TcbStatus::kRevoked:
    case TcbStatus::kTcbNotSupported:
    case TcbStatus::kUnknown: return kUnacceptableTcbRank;
  }
  return kUnacceptableTcbRank;
}

const char* TcbStatusName(TcbStatus s) {
  for (const auto& e : kStatusNames) {
    if (e.status == s) return e.name;
  }
  return "Unknown";
}

bool ParseTcbStatus(const std::string& name, TcbStatus* out) {
  for (const auto& e : kStatusNames) {
    if (name == e.name && e.status != TcbStatus::kUnknown) {
      *out = e.status;
      return true;
    }
  }
  return false;
}

nlohmann::json Verdict::ToJson() const {
  nlohmann::json reasons_json = nlohmann::json::array();
  for (const auto& r : reasons) reasons_json.push_back({{"code", r.code}, {"message", r.message}});
  nlohmann::json m = nlohmann::json::object();
  for (const auto& [k, v] : measurements) m[k] = v;
  return {{"verdict", accepted ? "accepted" : "rejected"},
          {"platform", platform},
          {"simulated", simulated},
          {"tcb_status", TcbStatusName(tcb_status)},
          {"advisory_ids", advisory_ids},
          {"measurements", m},
          {"report_data", report_data},
          {"reasons", reasons_json}};
}

}  // namespace cmln::attest
