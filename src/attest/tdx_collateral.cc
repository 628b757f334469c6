// QuoteCollateralV3 JSON, TCB info v3 and QE identity v2; the layout is in tdx_collateral.h.
// Every JSON access goes through the type-checked helpers below, so no nlohmann exception can be thrown.
#include "attest/tdx_collateral.h"

#include <cstring>

#include <nlohmann/json.hpp>

namespace cmln::attest {

namespace {

using Json = nlohmann::json;

Error Missing(std::string_view field, std::string_view want) {
  return Error(ErrorCode::kMalformed, std::string(field) + ": missing or not " + std::string(want));
}

Result<const Json*> Field(const Json& obj, std::string_view field, std::string_view key) {
  if (!obj.is_object()) return Error(ErrorCode::kMalformed, std::string(field) + ": not an object");
  auto it = obj.find(std::string(key));
  if (it == obj.end()) return Missing(std::string(field) + "." + std::string(key), "present");
  return &*it;
}

Result<std::string> String(const Json& obj, std::string_view field, std::string_view key) {
  CMLN_ASSIGN_OR_RETURN(const Json* v, Field(obj, field, key));
  if (!v->is_string()) return Missing(std::string(field) + "." + std::string(key), "a string");
  return v->get_ref<const std::string&>();
}

Result<uint64_t> Unsigned(const Json& obj, std::string_view field, std::string_view key, uint64_t max) {
  CMLN_ASSIGN_OR_RETURN(const Json* v, Field(obj, field, key));
  const std::string name = std::string(field) + "." + std::string(key);
  if (!v->is_number_integer()) return Missing(name, "an integer");
  uint64_t out = 0;
  if (v->is_number_unsigned()) {
    out = v->get<uint64_t>();
  } else {
    const int64_t s = v->get<int64_t>();
    if (s < 0) return Error(ErrorCode::kMalformed, name + ": negative");
    out = static_cast<uint64_t>(s);
  }
  if (out > max) return Error(ErrorCode::kMalformed, name + ": " + std::to_string(out) + " out of range");
  return out;
}

template <size_t N>
Status HexArray(const Json& obj, std::string_view field, std::string_view key, std::array<uint8_t, N>& out) {
  CMLN_ASSIGN_OR_RETURN(std::string text, String(obj, field, key));
  const std::string name = std::string(field) + "." + std::string(key);
  auto bytes = HexDecode(text);
  if (!bytes.ok()) return bytes.error().WithContext(name);
  if (bytes->size() != N) {
    return Error(ErrorCode::kMalformed, name + ": " + std::to_string(bytes->size()) + " bytes, want " + std::to_string(N));
  }
  std::memcpy(out.data(), bytes->data(), N);
  return OkStatus();
}

Result<uint32_t> HexU32BE(const Json& obj, std::string_view field, std::string_view key) {
  std::array<uint8_t, 4> b{};
  CMLN_TRY(HexArray(obj, field, key, b));
  // A hex number, most significant byte first (as Intel's QVL reads it).
  return (static_cast<uint32_t>(b[0]) << 24) | (static_cast<uint32_t>(b[1]) << 16) | (static_cast<uint32_t>(b[2]) << 8) |
         static_cast<uint32_t>(b[3]);
}

Result<int64_t> Date(const Json& obj, std::string_view field, std::string_view key) {
  CMLN_ASSIGN_OR_RETURN(std::string text, String(obj, field, key));
  auto t = ParseRfc3339Utc(text);
  if (!t.ok()) return t.error().WithContext(std::string(field) + "." + std::string(key));
  return *t;
}

Result<const Json*> Array(const Json& obj, std::string_view field, std::string_view key, size_t max) {
  CMLN_ASSIGN_OR_RETURN(const Json* v, Field(obj, field, key));
  const std::string name = std::string(field) + "." + std::string(key);
  if (!v->is_array()) return Missing(name, "an array");
  if (v->size() > max) return Error(ErrorCode::kLengthTooLarge, name + ": " + std::to_string(v->size()) + " entries");
  return v;
}

Status StatusField(const Json& obj, std::string_view field, TcbStatus* out) {
  CMLN_ASSIGN_OR_RETURN(std::string s, String(obj, field, "tcbStatus"));
  if (!ParseTcbStatus(s, out)) return Error(ErrorCode::kMalformed, std::string(field) + ".tcbStatus: unknown \"" + s + "\"");
  return OkStatus();
}

Status Advisories(const Json& obj, std::string_view field, std::vector<std::string>* out) {
  if (!obj.is_object() || !obj.contains("advisoryIDs")) return OkStatus();  // optional
  CMLN_ASSIGN_OR_RETURN(const Json* arr, Array(obj, field, "advisoryIDs", 1024));
  for (const auto& a : *arr) {
    if (!a.is_string()) return Missing(std::string(field) + ".advisoryIDs[]", "a string");
    out->push_back(a.get_ref<const std::string&>());
  }
  return OkStatus();
}

Status Components(const Json& tcb, std::string_view field, std::string_view key, std::array<uint8_t, 16>& out) {
  CMLN_ASSIGN_OR_RETURN(const Json* arr, Array(tcb, field, key, 16));
  const std::string name = std::string(field) + "." + std::string(key);
  if (arr->size() != 16) return Error(ErrorCode::kMalformed, name + ": " + std::to_string(arr->size()) + " components, want 16");
  for (size_t i = 0; i < 16; ++i) {
    CMLN_ASSIGN_OR_RETURN(uint64_t svn, Unsigned((*arr)[i], name + "[" + std::to_string(i) + "]", "svn", 255));
    out[i] = static_cast<uint8_t>(svn);
  }
  return OkStatus();
}

Result<std::vector<IsvSvnLevel>> IsvSvnLevels(const Json& obj, std::string_view field) {
  CMLN_ASSIGN_OR_RETURN(const Json* arr, Array(obj, field, "tcbLevels", kMaxTcbLevels));
  std::vector<IsvSvnLevel> levels;
  for (size_t i = 0; i < arr->size(); ++i) {
    const std::string name = std::string(field) + ".tcbLevels[" + std::to_string(i) + "]";
    const Json& l = (*arr)[i];
    IsvSvnLevel level;
    CMLN_ASSIGN_OR_RETURN(const Json* tcb, Field(l, name, "tcb"));
    CMLN_ASSIGN_OR_RETURN(uint64_t isvsvn, Unsigned(*tcb, name + ".tcb", "isvsvn", 0xffff));
    level.isvsvn = static_cast<uint16_t>(isvsvn);
    CMLN_TRY(StatusField(l, name, &level.status));
    CMLN_TRY(Advisories(l, name, &level.advisory_ids));
    levels.push_back(std::move(level));
  }
  return levels;
}

Result<TdxModuleIdentity> ModuleIdentity(const Json& obj, std::string_view field, bool with_levels) {
  TdxModuleIdentity m;
  if (with_levels) {
    CMLN_ASSIGN_OR_RETURN(m.id, String(obj, field, "id"));
  }
  CMLN_TRY(HexArray(obj, field, "mrsigner", m.mrsigner));
  CMLN_TRY(HexArray(obj, field, "attributes", m.attributes));
  CMLN_TRY(HexArray(obj, field, "attributesMask", m.attributes_mask));
  if (with_levels) {
    CMLN_ASSIGN_OR_RETURN(m.levels, IsvSvnLevels(obj, field));
  }
  return m;
}

Result<Json> ParseJsonText(std::string_view text, std::string_view what) {
  if (text.size() > kMaxCollateralJson) {
    return Error(ErrorCode::kLengthTooLarge, std::string(what) + ": " + std::to_string(text.size()) + " bytes exceeds cap");
  }
  Json j = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Error(ErrorCode::kBadEncoding, std::string(what) + ": not JSON");
  if (!j.is_object()) return Error(ErrorCode::kMalformed, std::string(what) + ": not a JSON object");
  return j;
}

Result<Bytes> HexField(const Json& obj, std::string_view field, std::string_view key) {
  CMLN_ASSIGN_OR_RETURN(std::string text, String(obj, field, key));
  auto b = HexDecode(text);
  if (!b.ok()) return b.error().WithContext(std::string(field) + "." + std::string(key));
  return std::move(b).value();
}

Result<std::vector<Certificate>> ChainField(const Json& obj, std::string_view key) {
  CMLN_ASSIGN_OR_RETURN(std::string pem, String(obj, "collateral", key));
  auto chain = ParsePemChain(pem);
  if (!chain.ok()) return chain.error().WithContext("collateral." + std::string(key));
  return std::move(chain).value();
}

Result<Crl> CrlField(const Json& obj, std::string_view key) {
  CMLN_ASSIGN_OR_RETURN(Bytes der, HexField(obj, "collateral", key));
  auto crl = ParseCrlDer(der);
  if (!crl.ok()) return crl.error().WithContext("collateral." + std::string(key));
  return std::move(crl).value();
}

}  // namespace

Result<TcbInfo> ParseTcbInfo(std::string_view json_text) {
  constexpr std::string_view f = "tcb_info";
  CMLN_ASSIGN_OR_RETURN(Json j, ParseJsonText(json_text, f));
  TcbInfo t;
  CMLN_ASSIGN_OR_RETURN(t.id, String(j, f, "id"));
  CMLN_ASSIGN_OR_RETURN(uint64_t version, Unsigned(j, f, "version", 0xffff));
  t.version = static_cast<uint32_t>(version);
  if (t.version != 3) return Error(ErrorCode::kUnsupported, "tcb_info.version " + std::to_string(t.version) + " (want 3)");
  CMLN_ASSIGN_OR_RETURN(t.issue_date, Date(j, f, "issueDate"));
  CMLN_ASSIGN_OR_RETURN(t.next_update, Date(j, f, "nextUpdate"));
  CMLN_TRY(HexArray(j, f, "fmspc", t.fmspc));
  CMLN_TRY(HexArray(j, f, "pceId", t.pce_id));
  CMLN_ASSIGN_OR_RETURN(uint64_t tcb_type, Unsigned(j, f, "tcbType", 0xffff));
  t.tcb_type = static_cast<uint32_t>(tcb_type);
  CMLN_ASSIGN_OR_RETURN(uint64_t eval, Unsigned(j, f, "tcbEvaluationDataNumber", 0xffffffff));
  t.tcb_evaluation_data_number = static_cast<uint32_t>(eval);
  if (j.contains("tdxModule")) {
    CMLN_ASSIGN_OR_RETURN(const Json* module, Field(j, f, "tdxModule"));
    CMLN_ASSIGN_OR_RETURN(t.tdx_module, ModuleIdentity(*module, "tcb_info.tdxModule", false));
  }
  if (j.contains("tdxModuleIdentities")) {
    CMLN_ASSIGN_OR_RETURN(const Json* ids, Array(j, f, "tdxModuleIdentities", 64));
    for (size_t i = 0; i < ids->size(); ++i) {
      CMLN_ASSIGN_OR_RETURN(TdxModuleIdentity m,
                            ModuleIdentity((*ids)[i], "tcb_info.tdxModuleIdentities[" + std::to_string(i) + "]", true));
      t.tdx_module_identities.push_back(std::move(m));
    }
  }
  CMLN_ASSIGN_OR_RETURN(const Json* levels, Array(j, f, "tcbLevels", kMaxTcbLevels));
  for (size_t i = 0; i < levels->size(); ++i) {
    const std::string name = "tcb_info.tcbLevels[" + std::to_string(i) + "]";
    const Json& l = (*levels)[i];
    TcbLevel level;
    CMLN_ASSIGN_OR_RETURN(const Json* tcb, Field(l, name, "tcb"));
    CMLN_TRY(Components(*tcb, name + ".tcb", "sgxtcbcomponents", level.sgx_components));
    CMLN_ASSIGN_OR_RETURN(uint64_t pcesvn, Unsigned(*tcb, name + ".tcb", "pcesvn", 0xffff));
    level.pcesvn = static_cast<uint16_t>(pcesvn);
    if (tcb->contains("tdxtcbcomponents")) {
      level.has_tdx_components = true;
      CMLN_TRY(Components(*tcb, name + ".tcb", "tdxtcbcomponents", level.tdx_components));
    }
    CMLN_ASSIGN_OR_RETURN(level.tcb_date, String(l, name, "tcbDate"));
    CMLN_TRY(StatusField(l, name, &level.status));
    CMLN_TRY(Advisories(l, name, &level.advisory_ids));
    t.levels.push_back(std::move(level));
  }
  return t;
}

Result<QeIdentity> ParseQeIdentity(std::string_view json_text) {
  constexpr std::string_view f = "qe_identity";
  CMLN_ASSIGN_OR_RETURN(Json j, ParseJsonText(json_text, f));
  QeIdentity q;
  CMLN_ASSIGN_OR_RETURN(q.id, String(j, f, "id"));
  CMLN_ASSIGN_OR_RETURN(uint64_t version, Unsigned(j, f, "version", 0xffff));
  q.version = static_cast<uint32_t>(version);
  if (q.version != 2) return Error(ErrorCode::kUnsupported, "qe_identity.version " + std::to_string(q.version) + " (want 2)");
  CMLN_ASSIGN_OR_RETURN(q.issue_date, Date(j, f, "issueDate"));
  CMLN_ASSIGN_OR_RETURN(q.next_update, Date(j, f, "nextUpdate"));
  CMLN_ASSIGN_OR_RETURN(q.miscselect, HexU32BE(j, f, "miscselect"));
  CMLN_ASSIGN_OR_RETURN(q.miscselect_mask, HexU32BE(j, f, "miscselectMask"));
  CMLN_TRY(HexArray(j, f, "attributes", q.attributes));
  CMLN_TRY(HexArray(j, f, "attributesMask", q.attributes_mask));
  CMLN_TRY(HexArray(j, f, "mrsigner", q.mrsigner));
  CMLN_ASSIGN_OR_RETURN(uint64_t prod, Unsigned(j, f, "isvprodid", 0xffff));
  q.isvprodid = static_cast<uint16_t>(prod);
  CMLN_ASSIGN_OR_RETURN(q.levels, IsvSvnLevels(j, f));
  return q;
}

Result<TdxCollateral> ParseTdxCollateral(std::string_view json_text) {
  CMLN_ASSIGN_OR_RETURN(Json j, ParseJsonText(json_text, "collateral"));
  TdxCollateral c;
  CMLN_ASSIGN_OR_RETURN(c.pck_crl_issuer_chain, ChainField(j, "pck_crl_issuer_chain"));
  CMLN_ASSIGN_OR_RETURN(c.root_ca_crl, CrlField(j, "root_ca_crl"));
  CMLN_ASSIGN_OR_RETURN(c.pck_crl, CrlField(j, "pck_crl"));
  CMLN_ASSIGN_OR_RETURN(c.tcb_info_issuer_chain, ChainField(j, "tcb_info_issuer_chain"));
  CMLN_ASSIGN_OR_RETURN(c.tcb_info_text, String(j, "collateral", "tcb_info"));
  CMLN_ASSIGN_OR_RETURN(c.tcb_info_signature, HexField(j, "collateral", "tcb_info_signature"));
  CMLN_ASSIGN_OR_RETURN(c.qe_identity_issuer_chain, ChainField(j, "qe_identity_issuer_chain"));
  CMLN_ASSIGN_OR_RETURN(c.qe_identity_text, String(j, "collateral", "qe_identity"));
  CMLN_ASSIGN_OR_RETURN(c.qe_identity_signature, HexField(j, "collateral", "qe_identity_signature"));
  CMLN_ASSIGN_OR_RETURN(c.tcb_info, ParseTcbInfo(c.tcb_info_text));
  CMLN_ASSIGN_OR_RETURN(c.qe_identity, ParseQeIdentity(c.qe_identity_text));
  return c;
}

}  // namespace cmln::attest
