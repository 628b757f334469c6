#include "attest/snp_policy.h"

#include <algorithm>
#include <cstdio>
#include <string>

namespace cmln::attest::snp {

namespace {

constexpr const char* kPlatform = "snp";

std::string HexByte(uint8_t v) { return HexEncode(ByteView(&v, 1)); }

std::string HexList(const std::vector<Bytes>& values) {
  std::string s;
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) s += " | ";
    s += HexEncode(values[i]);
  }
  return s;
}

template <size_t N>
bool InList(const std::array<uint8_t, N>& v, const std::vector<Bytes>& list) {
  return std::any_of(list.begin(), list.end(),
                     [&](const Bytes& b) { return b.size() == N && std::equal(b.begin(), b.end(), v.begin()); });
}

void Add(Verdict& v, const char* code, std::string message) { v.reasons.push_back({code, std::move(message)}); }

}  // namespace

SnpPolicy DefaultSnpPolicy() { return SnpPolicy{}; }

Verdict ValidateSnpReport(const VerifiedSnpReport& verified, const SnpPolicy& policy) {
  const SnpReport& r = verified.report;
  Verdict v;
  v.platform = kPlatform;
  v.simulated = false;
  v.measurements["measurement"] = HexEncode(r.measurement);
  v.measurements["host_data"] = HexEncode(r.host_data);
  v.report_data = HexEncode(r.report_data);

  if (r.debug() && !policy.allow_debug_for_testing) {
    char policy_hex[24];
    std::snprintf(policy_hex, sizeof(policy_hex), "0x%016llx", static_cast<unsigned long long>(r.policy));
    Add(v, "debug_enabled",
        std::string("POLICY at 0x008 is ") + policy_hex + ": DEBUG (bit 19) is set, wanted clear");
  }
  if (!policy.allowed_measurements.empty() && !InList(r.measurement, policy.allowed_measurements)) {
    Add(v, "measurement_not_approved", "MEASUREMENT is " + HexEncode(r.measurement) + ", wanted one of " +
                                           HexList(policy.allowed_measurements));
  }
  if (!policy.allowed_host_data.empty() && !InList(r.host_data, policy.allowed_host_data)) {
    Add(v, "measurement_not_approved",
        "HOST_DATA is " + HexEncode(r.host_data) + ", wanted one of " + HexList(policy.allowed_host_data));
  }
  if (policy.minimum_tcb) {
    const SnpMinimumTcb& min = *policy.minimum_tcb;
    const TcbVersion& t = r.reported_tcb;
    bool below = false;
    auto check = [&](const char* name, uint8_t seen, uint8_t wanted) {
      if (seen < wanted) {
        below = true;
        Add(v, "tcb_below_minimum", std::string("REPORTED_TCB ") + name + " is 0x" + HexByte(seen) +
                                        ", wanted at least 0x" + HexByte(wanted));
      }
    };
    if (t.layout == TcbLayout::kTurin) check("fmc", t.fmc, min.fmc);
    check("boot_loader", t.boot_loader, min.boot_loader);
    check("tee", t.tee, min.tee);
    check("snp", t.snp, min.snp);
    check("microcode", t.microcode, min.microcode);
    v.tcb_status = below ? TcbStatus::kOutOfDate : TcbStatus::kUpToDate;
  }
  if (policy.expected_report_data) {
    const Bytes& want = *policy.expected_report_data;
    if (want.size() != r.report_data.size() || !std::equal(want.begin(), want.end(), r.report_data.begin())) {
      Add(v, "binding_mismatch", "REPORT_DATA is " + HexEncode(r.report_data) + ", wanted " + HexEncode(want));
    }
  }
  if (r.vmpl > policy.max_vmpl) {
    Add(v, "vmpl_not_allowed",
        "VMPL is " + std::to_string(r.vmpl) + ", wanted at most " + std::to_string(policy.max_vmpl));
  }
  if (policy.required_vmpl && r.vmpl != *policy.required_vmpl) {
    Add(v, "vmpl_not_allowed",
        "VMPL is " + std::to_string(r.vmpl) + ", wanted " + std::to_string(*policy.required_vmpl));
  }
  if (r.migrate_ma() && !policy.allow_migrate_ma) {
    Add(v, "migrate_ma_not_allowed", "POLICY at 0x008: MIGRATE_MA (bit 18) is set, wanted clear");
  }
  v.accepted = v.reasons.empty();
  return v;
}

Verdict MakeSnpVerdict(const Result<VerifiedSnpReport>& verified, const SnpPolicy& policy) {
  if (verified.ok()) return ValidateSnpReport(verified.value(), policy);
  Verdict v;
  v.platform = kPlatform;
  v.accepted = false;
  v.reasons.push_back({std::string(ErrorCodeName(verified.error().code())), verified.error().message()});
  return v;
}

}  // namespace cmln::attest::snp
