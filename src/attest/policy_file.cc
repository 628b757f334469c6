#include "attest/policy_file.h"

#include <algorithm>
#include <optional>
#include <set>
#include <vector>

#include "attest/evidence_file.h"

namespace cmln::attest {

namespace {

using nlohmann::json;

constexpr size_t kMaxJsonDepth = 8;  // the grammar nests three deep (root, "snp", "minimum_tcb")
constexpr size_t kReportDataSize = 64;
constexpr size_t kMr48Size = 48;
constexpr size_t kHostDataSize = 32;
constexpr uint64_t kMaxVmpl = 3;
constexpr uint64_t kMaxSvn = 255;

// First pass over the text: JSON syntax (with the byte offset of the first error), duplicate keys (which
// nlohmann's DOM parser would silently collapse to the last one) and nesting depth.
class SyntaxChecker : public nlohmann::json_sax<json> {
 public:
  const std::optional<Error>& error() const { return error_; }

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override {
    objects_.emplace_back();
    return Enter();
  }
  bool key(string_t& k) override {
    if (!objects_.back().insert(k).second) return Fail(ErrorCode::kMalformed, "duplicate key \"" + k + "\"");
    return true;
  }
  bool end_object() override {
    objects_.pop_back();
    --depth_;
    return true;
  }
  bool start_array(std::size_t) override { return Enter(); }
  bool end_array() override {
    --depth_;
    return true;
  }
  bool parse_error(std::size_t position, const std::string& last_token, const nlohmann::detail::exception&) override {
    return Fail(ErrorCode::kBadEncoding,
                "not JSON at byte " + std::to_string(position) + " (last read: '" + last_token.substr(0, 32) + "')");
  }

 private:
  bool Enter() {
    if (++depth_ > kMaxJsonDepth) return Fail(ErrorCode::kMalformed, "nested deeper than the grammar allows");
    return true;
  }
  bool Fail(ErrorCode code, std::string message) {
    if (!error_) error_ = Error(code, std::move(message));
    return false;
  }

  std::vector<std::set<std::string>> objects_;
  size_t depth_ = 0;
  std::optional<Error> error_;
};

Error Malformed(const std::string& path, const std::string& what) {
  return Error(ErrorCode::kMalformed, path + ": " + what);
}

std::string Join(const std::string& path, const std::string& key) { return path.empty() ? key : path + "." + key; }

Status CheckObject(const json& v, const std::string& path, std::initializer_list<const char*> allowed) {
  if (!v.is_object())
    return Malformed(path.empty() ? "policy" : path, std::string("want an object, got ") + v.type_name());
  for (const auto& item : v.items()) {
    const std::string& key = item.key();
    if (std::none_of(allowed.begin(), allowed.end(), [&](const char* a) { return key == a; })) {
      std::string known;
      for (const char* a : allowed) known += (known.empty() ? "" : ", ") + std::string(a);
      return Malformed(Join(path, key), "unknown key (known here: " + known + ")");
    }
  }
  return OkStatus();
}

Result<bool> GetBool(const json& v, const std::string& path) {
  if (!v.is_boolean()) return Malformed(path, std::string("want true or false, got ") + v.type_name());
  return v.get<bool>();
}

Result<uint64_t> GetUint(const json& v, const std::string& path, uint64_t max) {
  if (!v.is_number_integer())
    return Malformed(path, std::string("want an integer 0..") + std::to_string(max) + ", got " + v.type_name());
  if (!v.is_number_unsigned() || v.get<uint64_t>() > max) {
    return Malformed(path, "value " + v.dump() + " out of range 0.." + std::to_string(max));
  }
  return v.get<uint64_t>();
}

Result<Bytes> GetHex(const json& v, const std::string& path, size_t size) {
  if (!v.is_string())
    return Malformed(path,
                     std::string("want a hex string of ") + std::to_string(size) + " bytes, got " + v.type_name());
  const std::string& text = v.get_ref<const std::string&>();
  auto bytes = HexDecode(text);
  if (!bytes.ok()) return Error(ErrorCode::kBadEncoding, path + ": not hex (" + bytes.error().message() + ")");
  if (bytes->size() != size) {
    return Malformed(path, std::to_string(bytes->size()) + " bytes, want " + std::to_string(size));
  }
  return std::move(bytes).value();
}

Result<std::vector<Bytes>> GetHexList(const json& v, const std::string& path, size_t size) {
  if (!v.is_array()) return Malformed(path, std::string("want a list of hex strings, got ") + v.type_name());
  if (v.empty()) return Malformed(path, "empty list (omit the key to leave it unchecked)");
  if (v.size() > kMaxPolicyListEntries) {
    return Error(ErrorCode::kLengthTooLarge,
                 path + ": " + std::to_string(v.size()) + " entries, at most " + std::to_string(kMaxPolicyListEntries));
  }
  std::vector<Bytes> out;
  for (size_t i = 0; i < v.size(); ++i) {
    CMLN_ASSIGN_OR_RETURN(Bytes b, GetHex(v[i], path + "[" + std::to_string(i) + "]", size));
    out.push_back(std::move(b));
  }
  return out;
}

Result<std::vector<Mr48>> GetMr48List(const json& v, const std::string& path) {
  CMLN_ASSIGN_OR_RETURN(std::vector<Bytes> list, GetHexList(v, path, kMr48Size));
  std::vector<Mr48> out(list.size());
  for (size_t i = 0; i < list.size(); ++i) std::copy(list[i].begin(), list[i].end(), out[i].begin());
  return out;
}

Status ParseTdx(const json& v, TdxPolicy& p) {
  const std::string path = "tdx";
  CMLN_TRY(CheckObject(v, path, {"mrtd", "rtmr0", "rtmr1", "rtmr2", "rtmr3", "mrconfigid", "accepted_tcb_statuses"}));
  if (v.contains("mrtd")) {
    CMLN_ASSIGN_OR_RETURN(p.allowed_mrtd, GetMr48List(v["mrtd"], "tdx.mrtd"));
  }
  for (size_t i = 0; i < 4; ++i) {
    const std::string key = "rtmr" + std::to_string(i);
    if (v.contains(key)) {
      CMLN_ASSIGN_OR_RETURN(p.allowed_rtmr[i], GetMr48List(v[key], "tdx." + key));
    }
  }
  if (v.contains("mrconfigid")) {
    CMLN_ASSIGN_OR_RETURN(p.allowed_mrconfigid, GetMr48List(v["mrconfigid"], "tdx.mrconfigid"));
  }
  if (v.contains("accepted_tcb_statuses")) {
    const json& list = v["accepted_tcb_statuses"];
    const std::string lpath = "tdx.accepted_tcb_statuses";
    if (!list.is_array())
      return Malformed(lpath, std::string("want a list of TCB status names, got ") + list.type_name());
    if (list.empty()) return Malformed(lpath, "empty list (it would reject every quote)");
    if (list.size() > kMaxPolicyListEntries) return Error(ErrorCode::kLengthTooLarge, lpath + ": too many entries");
    p.accepted_tcb_statuses.clear();
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string epath = lpath + "[" + std::to_string(i) + "]";
      TcbStatus s;
      if (!list[i].is_string())
        return Malformed(epath, std::string("want a TCB status name, got ") + list[i].type_name());
      if (!ParseTcbStatus(list[i].get<std::string>(), &s)) {
        return Malformed(epath, "unknown TCB status \"" + list[i].get<std::string>() +
                                    "\" (want UpToDate, SWHardeningNeeded, ConfigurationNeeded, "
                                    "ConfigurationAndSWHardeningNeeded, OutOfDate, OutOfDateConfigurationNeeded, "
                                    "Revoked or TcbNotSupported)");
      }
      if (std::find(p.accepted_tcb_statuses.begin(), p.accepted_tcb_statuses.end(), s) !=
          p.accepted_tcb_statuses.end()) {
        return Malformed(epath, "\"" + list[i].get<std::string>() + "\" listed twice");
      }
      p.accepted_tcb_statuses.push_back(s);
    }
  }
  return OkStatus();
}

Status ParseSnp(const json& v, snp::SnpPolicy& p) {
  CMLN_TRY(CheckObject(v, "snp",
                       {"measurement", "host_data", "minimum_tcb", "max_vmpl", "required_vmpl", "allow_migrate_ma"}));
  if (v.contains("measurement")) {
    CMLN_ASSIGN_OR_RETURN(p.allowed_measurements, GetHexList(v["measurement"], "snp.measurement", kMr48Size));
  }
  if (v.contains("host_data")) {
    CMLN_ASSIGN_OR_RETURN(p.allowed_host_data, GetHexList(v["host_data"], "snp.host_data", kHostDataSize));
  }
  if (v.contains("minimum_tcb")) {
    const json& t = v["minimum_tcb"];
    CMLN_TRY(CheckObject(t, "snp.minimum_tcb", {"boot_loader", "tee", "snp", "microcode", "fmc"}));
    snp::SnpMinimumTcb min;
    struct Field {
      const char* key;
      uint8_t* out;
    };
    for (const Field& f : {Field{"boot_loader", &min.boot_loader}, Field{"tee", &min.tee}, Field{"snp", &min.snp},
                           Field{"microcode", &min.microcode}, Field{"fmc", &min.fmc}}) {
      if (!t.contains(f.key)) continue;
      CMLN_ASSIGN_OR_RETURN(uint64_t svn, GetUint(t[f.key], std::string("snp.minimum_tcb.") + f.key, kMaxSvn));
      *f.out = static_cast<uint8_t>(svn);
    }
    p.minimum_tcb = min;
  }
  if (v.contains("max_vmpl")) {
    CMLN_ASSIGN_OR_RETURN(uint64_t vmpl, GetUint(v["max_vmpl"], "snp.max_vmpl", kMaxVmpl));
    p.max_vmpl = static_cast<uint32_t>(vmpl);
  }
  if (v.contains("required_vmpl")) {
    CMLN_ASSIGN_OR_RETURN(uint64_t vmpl, GetUint(v["required_vmpl"], "snp.required_vmpl", kMaxVmpl));
    if (vmpl > p.max_vmpl) {
      return Malformed("snp.required_vmpl", std::to_string(vmpl) + " is above snp.max_vmpl " +
                                                std::to_string(p.max_vmpl) + " (no report could pass)");
    }
    p.required_vmpl = static_cast<uint32_t>(vmpl);
  }
  if (v.contains("allow_migrate_ma")) {
    CMLN_ASSIGN_OR_RETURN(p.allow_migrate_ma, GetBool(v["allow_migrate_ma"], "snp.allow_migrate_ma"));
  }
  return OkStatus();
}

json Mr48List(const std::vector<Mr48>& list) {
  json out = json::array();
  for (const auto& m : list) out.push_back(HexEncode(m));
  return out;
}

json BytesList(const std::vector<Bytes>& list) {
  json out = json::array();
  for (const auto& b : list) out.push_back(HexEncode(b));
  return out;
}

}  // namespace

AttestPolicy DefaultAttestPolicy() { return AttestPolicy{DefaultTdxPolicy(), snp::DefaultSnpPolicy()}; }

Result<AttestPolicy> ParsePolicyJson(std::string_view text) {
  if (text.size() > kMaxPolicyFileSize) {
    return Error(ErrorCode::kLengthTooLarge,
                 "policy: " + std::to_string(text.size()) + " bytes, at most " + std::to_string(kMaxPolicyFileSize));
  }
  SyntaxChecker checker;
  const bool syntax_ok = json::sax_parse(text, &checker, json::input_format_t::json, /*strict=*/true);
  if (checker.error()) return checker.error()->WithContext("policy");
  if (!syntax_ok) return Error(ErrorCode::kBadEncoding, "policy: not JSON");
  const json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Error(ErrorCode::kBadEncoding, "policy: not JSON");

  AttestPolicy policy = DefaultAttestPolicy();
  CMLN_TRY(CheckObject(doc, "", {"version", "allow_debug_for_testing", "report_data", "tdx", "snp"}));
  if (doc.contains("version")) {
    if (!doc["version"].is_number_unsigned() || doc["version"].get<uint64_t>() != kPolicyFileVersion) {
      return Malformed("version", "is " + doc["version"].dump() + ", want " + std::to_string(kPolicyFileVersion));
    }
  }
  if (doc.contains("allow_debug_for_testing")) {
    CMLN_ASSIGN_OR_RETURN(bool allow, GetBool(doc["allow_debug_for_testing"], "allow_debug_for_testing"));
    policy.tdx.allow_debug_for_testing = allow;
    policy.snp.allow_debug_for_testing = allow;
  }
  if (doc.contains("report_data")) {
    CMLN_ASSIGN_OR_RETURN(Bytes rd, GetHex(doc["report_data"], "report_data", kReportDataSize));
    std::array<uint8_t, kReportDataSize> fixed{};
    std::copy(rd.begin(), rd.end(), fixed.begin());
    policy.tdx.expected_report_data = fixed;
    policy.snp.expected_report_data = rd;
  }
  if (doc.contains("tdx")) CMLN_TRY(ParseTdx(doc["tdx"], policy.tdx));
  if (doc.contains("snp")) CMLN_TRY(ParseSnp(doc["snp"], policy.snp));
  return policy;
}

Result<AttestPolicy> ReadPolicyFile(const std::string& path) {
  auto text = ReadFileCapped(path, kMaxPolicyFileSize);
  if (!text.ok()) return text.error();
  auto policy = ParsePolicyJson(AsChars(*text));
  if (!policy.ok()) return policy.error().WithContext(path);
  return policy;
}

json PolicyToJson(const AttestPolicy& policy) {
  const TdxPolicy& t = policy.tdx;
  const snp::SnpPolicy& s = policy.snp;
  json doc = {{"version", kPolicyFileVersion},
              {"allow_debug_for_testing", t.allow_debug_for_testing || s.allow_debug_for_testing}};
  if (t.expected_report_data) {
    doc["report_data"] = HexEncode(*t.expected_report_data);
  } else if (s.expected_report_data) {
    doc["report_data"] = HexEncode(*s.expected_report_data);
  }
  json tdx = json::object();
  if (!t.allowed_mrtd.empty()) tdx["mrtd"] = Mr48List(t.allowed_mrtd);
  for (size_t i = 0; i < 4; ++i) {
    if (!t.allowed_rtmr[i].empty()) tdx["rtmr" + std::to_string(i)] = Mr48List(t.allowed_rtmr[i]);
  }
  if (!t.allowed_mrconfigid.empty()) tdx["mrconfigid"] = Mr48List(t.allowed_mrconfigid);
  json statuses = json::array();
  for (TcbStatus st : t.accepted_tcb_statuses) statuses.push_back(TcbStatusName(st));
  tdx["accepted_tcb_statuses"] = statuses;
  doc["tdx"] = tdx;

  json snp_doc = json::object();
  if (!s.allowed_measurements.empty()) snp_doc["measurement"] = BytesList(s.allowed_measurements);
  if (!s.allowed_host_data.empty()) snp_doc["host_data"] = BytesList(s.allowed_host_data);
  if (s.minimum_tcb) {
    snp_doc["minimum_tcb"] = {{"boot_loader", s.minimum_tcb->boot_loader},
                              {"tee", s.minimum_tcb->tee},
                              {"snp", s.minimum_tcb->snp},
                              {"microcode", s.minimum_tcb->microcode},
                              {"fmc", s.minimum_tcb->fmc}};
  }
  snp_doc["max_vmpl"] = s.max_vmpl;
  if (s.required_vmpl) snp_doc["required_vmpl"] = *s.required_vmpl;
  snp_doc["allow_migrate_ma"] = s.allow_migrate_ma;
  doc["snp"] = snp_doc;
  return doc;
}

}  // namespace cmln::attest
