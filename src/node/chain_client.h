// What the node reads from and submits to the chain, over its REST API (chain/node.h, docs/chain.md).
// All reads are JSON GETs; submissions are transactions signed by the HOST account key (the TEE key
// signs only receipts and usage batches), serialized through one mutex so two of the host's
// transactions never race for the same account sequence, and always waited for until committed.
//
// Errors: kIoError when the chain cannot be reached (the node keeps serving within known quota, D5),
// kNotFound for a record the chain does not have, the chain::Parse* codes (rest_records.h) for a
// record that does not decode; a submission returns the tx result (code 0 = success, else the chain's
// ErrorCode) as a value.
//
// Thread safety: all methods are thread-safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

#include "chain/rest_client.h"
#include "chain/rest_records.h"
#include "common/bytes.h"
#include "common/status.h"
#include "seal/account_key.h"
#include "seal/crypto.h"

namespace cmln::node {

struct EscrowState {
  uint64_t id = 0;
  bool open = false;  // ESCROW_STATUS_OPEN
  std::string model_id;
  uint64_t remaining = 0;
  seal::Digest32 creator_key_hash{};
};

// The committed result of one transaction.
struct TxOutcome {
  bool committed = false;  // false: refused by CheckTx (never in a block)
  ErrorCode code = ErrorCode::kOk;
  std::string log;
  uint64_t height = 0;
};

class ChainClient {
 public:
  ChainClient(std::string rest_url, seal::AccountPrivateKey host_key, uint64_t tx_fee);

  const std::string& host_address() const { return host_address_; }

  // Chain id, height, and the current epoch with its nonce (GET /status).
  Result<chain::ChainStatus> Status() const;
  // params.model_prices[model].price_per_token; kNotFound if the model has no price.
  Result<uint64_t> PricePerToken(const std::string& model_id) const;
  Result<EscrowState> Escrow(uint64_t id) const;
  // kNotFound before the node's first attestation.
  Result<chain::AttestationRecord> Attestation(const std::string& node_id) const;

  // MsgSubmitTeeAttestation{participant = host, node_id, model_id, endpoint, bundle}.
  Result<TxOutcome> SubmitAttestation(const std::string& node_id, const std::string& model_id,
                                      const std::string& endpoint, const std::string& bundle_json);
  // MsgSettleConfidentialUsage{submitter = host, batch, signature}.
  Result<TxOutcome> SettleUsage(ByteView batch, ByteView signature);

 private:
  Result<TxOutcome> Submit(const chain::v1::Msg& msg);

  chain::RestClient rest_;
  seal::AccountPrivateKey host_key_;
  std::string host_address_;
  uint64_t tx_fee_;
  std::mutex tx_mu_;
};

}  // namespace cmln::node
