#include "chain/rest_records.h"

#include <charconv>

namespace cmln::chain {

namespace {

Error Bad(std::string_view record, std::string_view field, std::string_view why) {
  return Error(ErrorCode::kMalformed, std::string(record) + "." + std::string(field) + ": " + std::string(why));
}

Result<std::string> Str(const nlohmann::json& j, std::string_view record, const char* field) {
  if (!j.is_object() || !j.contains(field)) return Bad(record, field, "missing");
  if (!j[field].is_string()) return Bad(record, field, "not a string");
  return j[field].get<std::string>();
}

// uint64 / int64 as the chain writes them (decimal strings), or as plain JSON numbers.
Result<uint64_t> U64(const nlohmann::json& j, std::string_view record, const char* field) {
  if (!j.is_object() || !j.contains(field)) return Bad(record, field, "missing");
  const nlohmann::json& v = j[field];
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer() && v.get<int64_t>() >= 0) return static_cast<uint64_t>(v.get<int64_t>());
  if (!v.is_string()) return Bad(record, field, "not a decimal integer");
  const std::string s = v.get<std::string>();
  uint64_t out = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size()) return Bad(record, field, "not a decimal integer");
  return out;
}

Result<bool> Bool(const nlohmann::json& j, std::string_view record, const char* field) {
  if (!j.is_object() || !j.contains(field)) return Bad(record, field, "missing");
  if (!j[field].is_boolean()) return Bad(record, field, "not a boolean");
  return j[field].get<bool>();
}

Result<Bytes> Hex(const nlohmann::json& j, std::string_view record, const char* field) {
  CMLN_ASSIGN_OR_RETURN(std::string text, Str(j, record, field));
  auto b = HexDecode(text);
  if (!b.ok()) return Error(ErrorCode::kBadEncoding, std::string(record) + "." + field + ": not hex");
  return *b;
}

Result<Bytes> Base64(const nlohmann::json& j, std::string_view record, const char* field) {
  CMLN_ASSIGN_OR_RETURN(std::string text, Str(j, record, field));
  auto b = Base64Decode(text);
  if (!b.ok()) return Error(ErrorCode::kBadEncoding, std::string(record) + "." + field + ": not base64");
  return *b;
}

}  // namespace

Result<ChainStatus> ParseChainStatus(const nlohmann::json& j) {
  ChainStatus s;
  CMLN_ASSIGN_OR_RETURN(s.chain_id, Str(j, "status", "chain_id"));
  CMLN_ASSIGN_OR_RETURN(s.height, U64(j, "status", "height"));
  CMLN_ASSIGN_OR_RETURN(s.epoch, U64(j, "status", "epoch"));
  CMLN_ASSIGN_OR_RETURN(s.epoch_nonce, Hex(j, "status", "epoch_nonce"));
  if (s.epoch_nonce.size() != 32) return Bad("status", "epoch_nonce", "not 32 bytes");
  return s;
}

Result<ReleaseInfo> ParseReleaseRecord(const nlohmann::json& j) {
  constexpr std::string_view kRec = "release";
  if (!j.is_object() || !j.contains("release") || !j["release"].is_object()) return Bad(kRec, "release", "missing");
  const nlohmann::json& r = j["release"];
  ReleaseInfo out;
  CMLN_ASSIGN_OR_RETURN(out.release_id, Str(r, kRec, "release_id"));
  CMLN_ASSIGN_OR_RETURN(out.platform, Str(r, kRec, "platform"));
  CMLN_ASSIGN_OR_RETURN(out.model_id, Str(r, kRec, "model_id"));
  CMLN_ASSIGN_OR_RETURN(out.model_digest, Hex(r, kRec, "model_digest"));
  CMLN_ASSIGN_OR_RETURN(out.min_tcb, Str(r, kRec, "min_tcb"));
  CMLN_ASSIGN_OR_RETURN(out.not_before_epoch, U64(r, kRec, "not_before_epoch"));
  CMLN_ASSIGN_OR_RETURN(out.not_after_epoch, U64(r, kRec, "not_after_epoch"));
  CMLN_ASSIGN_OR_RETURN(out.retired, Bool(j, kRec, "retired"));
  if (!r.contains("measurements") || !r["measurements"].is_array()) return Bad(kRec, "measurements", "not an array");
  for (const auto& m : r["measurements"]) {
    CMLN_ASSIGN_OR_RETURN(std::string name, Str(m, "release.measurements", "name"));
    CMLN_ASSIGN_OR_RETURN(Bytes value, Hex(m, "release.measurements", "value"));
    out.measurements[name] = std::move(value);
  }
  return out;
}

Result<CollateralDoc> ParseCollateralRecord(const nlohmann::json& j) {
  constexpr std::string_view kRec = "collateral";
  CollateralDoc d;
  CMLN_ASSIGN_OR_RETURN(d.platform, Str(j, kRec, "platform"));
  CMLN_ASSIGN_OR_RETURN(d.kind, Str(j, kRec, "kind"));
  CMLN_ASSIGN_OR_RETURN(d.id, Str(j, kRec, "id"));
  CMLN_ASSIGN_OR_RETURN(d.collateral, Base64(j, kRec, "collateral"));
  CMLN_ASSIGN_OR_RETURN(uint64_t next, U64(j, kRec, "next_update"));
  d.next_update = static_cast<int64_t>(next);
  return d;
}

Result<AttestationRecord> ParseAttestationRecord(const nlohmann::json& j) {
  constexpr std::string_view kRec = "attestation";
  AttestationRecord a;
  CMLN_ASSIGN_OR_RETURN(a.node_id, Str(j, kRec, "node_id"));
  CMLN_ASSIGN_OR_RETURN(a.participant, Str(j, kRec, "participant"));
  CMLN_ASSIGN_OR_RETURN(a.model_id, Str(j, kRec, "model_id"));
  CMLN_ASSIGN_OR_RETURN(a.endpoint, Str(j, kRec, "endpoint"));
  CMLN_ASSIGN_OR_RETURN(a.release_id, Str(j, kRec, "release_id"));
  CMLN_ASSIGN_OR_RETURN(a.platform, Str(j, kRec, "platform"));
  CMLN_ASSIGN_OR_RETURN(a.simulated, Bool(j, kRec, "simulated"));
  CMLN_ASSIGN_OR_RETURN(a.status, Str(j, kRec, "status"));
  CMLN_ASSIGN_OR_RETURN(a.sign_public_key, Hex(j, kRec, "sign_public_key"));
  CMLN_ASSIGN_OR_RETURN(a.ohttp_key_config, Hex(j, kRec, "ohttp_key_config"));
  CMLN_ASSIGN_OR_RETURN(Bytes bundle, Base64(j, kRec, "bundle"));
  a.bundle_json.assign(bundle.begin(), bundle.end());
  CMLN_ASSIGN_OR_RETURN(a.bundle_hash, Hex(j, kRec, "bundle_hash"));
  CMLN_ASSIGN_OR_RETURN(a.attested_epoch, U64(j, kRec, "attested_epoch"));
  CMLN_ASSIGN_OR_RETURN(a.expires_after_epoch, U64(j, kRec, "expires_after_epoch"));
  CMLN_ASSIGN_OR_RETURN(a.last_batch_seq, U64(j, kRec, "last_batch_seq"));
  CMLN_ASSIGN_OR_RETURN(a.status_reason, Str(j, kRec, "status_reason"));
  return a;
}

Result<EscrowInfo> ParseEscrow(const nlohmann::json& j) {
  constexpr std::string_view kRec = "escrow";
  EscrowInfo e;
  CMLN_ASSIGN_OR_RETURN(e.id, U64(j, kRec, "id"));
  CMLN_ASSIGN_OR_RETURN(e.creator, Str(j, kRec, "creator"));
  CMLN_ASSIGN_OR_RETURN(e.model_id, Str(j, kRec, "model_id"));
  CMLN_ASSIGN_OR_RETURN(e.amount, U64(j, kRec, "amount"));
  CMLN_ASSIGN_OR_RETURN(e.remaining, U64(j, kRec, "remaining"));
  CMLN_ASSIGN_OR_RETURN(e.settled, U64(j, kRec, "settled"));
  CMLN_ASSIGN_OR_RETURN(e.refunded, U64(j, kRec, "refunded"));
  CMLN_ASSIGN_OR_RETURN(e.status, Str(j, kRec, "status"));
  CMLN_ASSIGN_OR_RETURN(e.created_epoch, U64(j, kRec, "created_epoch"));
  CMLN_ASSIGN_OR_RETURN(e.creator_key_hash, Hex(j, kRec, "creator_key_hash"));
  if (e.creator_key_hash.size() != 32) return Bad(kRec, "creator_key_hash", "not 32 bytes");
  return e;
}

Result<AccountInfo> ParseAccount(const nlohmann::json& j) {
  AccountInfo a;
  CMLN_ASSIGN_OR_RETURN(a.address, Str(j, "account", "address"));
  CMLN_ASSIGN_OR_RETURN(a.balance, U64(j, "account", "balance"));
  CMLN_ASSIGN_OR_RETURN(a.sequence, U64(j, "account", "sequence"));
  return a;
}

Result<ChainParams> ParseParams(const nlohmann::json& j) {
  constexpr std::string_view kRec = "params";
  ChainParams p;
  if (!j.is_object() || !j.contains("model_prices") || !j["model_prices"].is_array()) {
    return Bad(kRec, "model_prices", "not an array");
  }
  for (const auto& mp : j["model_prices"]) {
    CMLN_ASSIGN_OR_RETURN(std::string model, Str(mp, "params.model_prices", "model_id"));
    CMLN_ASSIGN_OR_RETURN(uint64_t price, U64(mp, "params.model_prices", "price_per_token"));
    p.model_prices[model] = price;
  }
  CMLN_ASSIGN_OR_RETURN(p.min_escrow_amount, U64(j, kRec, "min_escrow_amount"));
  CMLN_ASSIGN_OR_RETURN(p.max_escrow_amount, U64(j, kRec, "max_escrow_amount"));
  CMLN_ASSIGN_OR_RETURN(p.min_tx_fee, U64(j, kRec, "min_tx_fee"));
  CMLN_ASSIGN_OR_RETURN(p.allow_simulated_tee, Bool(j, kRec, "allow_simulated_tee"));
  return p;
}

}  // namespace cmln::chain
