#include "node/chain_client.h"

#include <algorithm>

namespace cmln::node {

using json = nlohmann::json;

ChainClient::ChainClient(std::string rest_url, seal::AccountPrivateKey host_key, uint64_t tx_fee)
    : rest_(std::move(rest_url)),
      host_key_(std::move(host_key)),
      host_address_(seal::AccountAddressToString(seal::AccountAddressFromPublicKey(host_key_.public_key()))),
      tx_fee_(tx_fee) {}

Result<chain::ChainStatus> ChainClient::Status() const {
  CMLN_ASSIGN_OR_RETURN(json s, rest_.Get("/status"));
  return chain::ParseChainStatus(s);
}

Result<uint64_t> ChainClient::PricePerToken(const std::string& model_id) const {
  CMLN_ASSIGN_OR_RETURN(json j, rest_.Get("/params"));
  CMLN_ASSIGN_OR_RETURN(chain::ChainParams params, chain::ParseParams(j));
  auto it = params.model_prices.find(model_id);
  if (it == params.model_prices.end()) return Error(ErrorCode::kNotFound, "chain params: no price for model " + model_id);
  return it->second;
}

Result<EscrowState> ChainClient::Escrow(uint64_t id) const {
  CMLN_ASSIGN_OR_RETURN(json j, rest_.Get("/escrows/" + std::to_string(id)));
  CMLN_ASSIGN_OR_RETURN(chain::EscrowInfo e, chain::ParseEscrow(j));
  EscrowState out;
  out.id = e.id;
  out.open = e.status == chain::kEscrowStatusOpen;
  out.model_id = std::move(e.model_id);
  out.remaining = e.remaining;
  std::copy(e.creator_key_hash.begin(), e.creator_key_hash.end(), out.creator_key_hash.begin());  // 32 bytes
  return out;
}

Result<chain::AttestationRecord> ChainClient::Attestation(const std::string& node_id) const {
  CMLN_ASSIGN_OR_RETURN(json j, rest_.Get("/attestations?node=" + node_id));
  return chain::ParseAttestationRecord(j);
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
