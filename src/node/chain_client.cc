#include "node/chain_client.h"

namespace cmln::node {

namespace {

using json = nlohmann::json;

// uint64 fields are decimal strings in the chain's JSON (proto3 JSON mapping); numbers are accepted too.
Result<uint64_t> U64(const json& j, const char* field) {
  if (!j.is_object() || !j.contains(field)) return uint64_t{0};  // proto3 JSON omits zero values
  const json& v = j[field];
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    if (!s.empty() && s.size() <= 20 && s.find_first_not_of("0123456789") == std::string::npos) {
      try {
        return static_cast<uint64_t>(std::stoull(s));
      } catch (...) {
      }
    }
  }
  return Error(ErrorCode::kMalformed, std::string("chain record field ") + field + ": not a uint64");
}

std::string Str(const json& j, const char* field) {
  if (!j.is_object() || !j.contains(field) || !j[field].is_string()) return "";
  return j[field].get<std::string>();
}

Result<Bytes> HexField(const json& j, const char* field) {
  auto b = HexDecode(Str(j, field));
  if (!b.ok()) return Error(ErrorCode::kMalformed, std::string("chain record field ") + field + ": not hex");
  return b;
}

}  // namespace

ChainClient::ChainClient(std::string rest_url, seal::AccountPrivateKey host_key, uint64_t tx_fee)
    : rest_(std::move(rest_url)),
      host_key_(std::move(host_key)),
      host_address_(seal::AccountAddressToString(seal::AccountAddressFromPublicKey(host_key_.public_key()))),
      tx_fee_(tx_fee) {}

Result<ChainStatus> ChainClient::Status() const {
  CMLN_ASSIGN_OR_RETURN(json s, rest_.Get("/status"));
  ChainStatus out;
  out.chain_id = Str(s, "chain_id");
  if (out.chain_id.empty()) return Error(ErrorCode::kMalformed, "chain status: no chain_id");
  CMLN_ASSIGN_OR_RETURN(out.height, U64(s, "height"));
  CMLN_ASSIGN_OR_RETURN(out.epoch, U64(s, "epoch"));
  CMLN_ASSIGN_OR_RETURN(out.epoch_nonce, HexField(s, "epoch_nonce"));
  return out;
}

Result<ChainStatus> ChainClient::CurrentEpoch() const {
  CMLN_ASSIGN_OR_RETURN(ChainStatus out, Status());
  CMLN_ASSIGN_OR_RETURN(json e, rest_.Get("/epochs/current"));
  CMLN_ASSIGN_OR_RETURN(out.epoch, U64(e, "number"));
  CMLN_ASSIGN_OR_RETURN(out.epoch_nonce, HexField(e, "nonce"));
  if (out.epoch_nonce.size() != 32) return Error(ErrorCode::kMalformed, "epoch nonce: not 32 bytes");
  return out;
}

Result<uint64_t> ChainClient::PricePerToken(const std::string& model_id) const {
  CMLN_ASSIGN_OR_RETURN(json p, rest_.Get("/params"));
  if (p.contains("model_prices") && p["model_prices"].is_array()) {
    for (const auto& m : p["model_prices"]) {
      if (Str(m, "model_id") == model_id) return U64(m, "price_per_token");
    }
  }
  return Error(ErrorCode::kNotFound, "chain params: no price for model " + model_id);
}

Result<EscrowState> ChainClient::Escrow(uint64_t id) const {
  CMLN_ASSIGN_OR_RETURN(json e, rest_.Get("/escrows/" + std::to_string(id)));
  EscrowState out;
  out.id = id;
  out.open = Str(e, "status") == "ESCROW_STATUS_OPEN";
  out.model_id = Str(e, "model_id");
  CMLN_ASSIGN_OR_RETURN(out.remaining, U64(e, "remaining"));
  CMLN_ASSIGN_OR_RETURN(Bytes kh, HexField(e, "creator_key_hash"));
  if (kh.size() != out.creator_key_hash.size()) return Error(ErrorCode::kMalformed, "escrow creator_key_hash: not 32 bytes");
  std::copy(kh.begin(), kh.end(), out.creator_key_hash.begin());
  return out;
}

Result<AttestationState> ChainClient::Attestation(const std::string& node_id) const {
  CMLN_ASSIGN_OR_RETURN(json a, rest_.Get("/attestations?node=" + node_id));
  AttestationState out;
  out.status = Str(a, "status");
  CMLN_ASSIGN_OR_RETURN(out.sign_public_key, HexField(a, "sign_public_key"));
  CMLN_ASSIGN_OR_RETURN(out.last_batch_seq, U64(a, "last_batch_seq"));
  out.status_reason = Str(a, "status_reason");
  return out;
}

Result<TxOutcome> ChainClient::Submit(const chain::v1::Msg& msg) {
  std::lock_guard<std::mutex> lock(tx_mu_);
  CMLN_ASSIGN_OR_RETURN(json r, rest_.SignAndBroadcast(host_key_, {msg}, tx_fee_, /*wait=*/true));
  TxOutcome out;
  out.committed = r.contains("height");
  out.code = static_cast<ErrorCode>(r.value("code", 0));
  out.log = r.value("log", std::string());
  if (out.committed && r["height"].is_number_unsigned()) out.height = r["height"].get<uint64_t>();
  return out;
}

Result<TxOutcome> ChainClient::SubmitAttestation(const std::string& node_id, const std::string& model_id,
                                                 const std::string& endpoint, const std::string& bundle_json) {
  chain::v1::Msg msg;
  auto* m = msg.mutable_submit_tee_attestation();
  m->set_participant(host_address_);
  m->set_node_id(node_id);
  m->set_model_id(model_id);
  m->set_endpoint(endpoint);
  m->set_bundle(bundle_json);
  return Submit(msg);
}

Result<TxOutcome> ChainClient::SettleUsage(ByteView batch, ByteView signature) {
  chain::v1::Msg msg;
  auto* m = msg.mutable_settle_confidential_usage();
  m->set_submitter(host_address_);
  m->set_batch(std::string(AsChars(batch)));
  m->set_signature(std::string(AsChars(signature)));
  return Submit(msg);
}

}  // namespace cmln::node
