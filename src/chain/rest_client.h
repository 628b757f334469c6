// A small JSON client for the chain's REST API (node.h), used by `cmln tx`, `cmln query` and tests.
// Each call opens a connection to `base_url` ("http://127.0.0.1:26657"); timeouts 10 s.
// Errors: kIoError when the node cannot be reached; otherwise the node's own error code and message
// (from its {"code", "codespace", "error"} body). Thread safety: a client per thread.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "chain/proto/tx.pb.h"
#include "common/status.h"
#include "seal/account_key.h"

namespace cmln::chain {

class RestClient {
 public:
  explicit RestClient(std::string base_url) : base_(std::move(base_url)) {}

  Result<nlohmann::json> Get(const std::string& path) const;
  // POST /txs. Returns the CheckTx result JSON ({hash, code, codespace, log}) whether admitted or not.
  Result<nlohmann::json> BroadcastTx(ByteView raw) const;
  // Polls GET /txs/{hash} until the tx is in a committed block (or kNotFound after timeout_ms).
  Result<nlohmann::json> WaitTx(const std::string& hash, int timeout_ms) const;
  // Fetches chain id and the signer's sequence, signs and broadcasts one tx with `messages`; with
  // `wait`, returns the committed result instead of the CheckTx result.
  Result<nlohmann::json> SignAndBroadcast(const seal::AccountPrivateKey& key, const std::vector<v1::Msg>& messages,
                                          uint64_t fee, bool wait, int timeout_ms = 30000) const;

 private:
  std::string base_;
};

}  // namespace cmln::chain
