// The confidential inference client (DESIGN section 2 "client"; docs/client.md): what `cmln proxy` and
// `cmln chat` run on the user's machine.
//
//   discovery     lists the attestation records of a model from any network node (ChainReader) and
//                 verifies every bundle itself (node_verifier.h) under the user's trust; verified bundles
//                 are cached by bundle hash for cache_ttl_s, the list is re-read at most every
//                 refresh_interval_s (and at once after a stale key);
//   quota         reuses an OPEN escrow of the user's for the model, or creates one
//                 (MsgCreateConfidentialEscrow signed by the user's key) within `budget` (the total this
//                 client may lock); a node's quota_exhausted / escrow_closed answer creates the next one
//                 ("top-up") and retries once;
//   exchange      signs an authorization per attempt (bound to the node id), seals with OHTTP or chunked
//                 OHTTP to the attested key, opens the answer, verifies the receipt (exchange.h);
//   failover      on connect failure, an HTTP 5xx or 429 (outer or inside the encryption), or a stale key
//                 (re-attest once: re-read the chain, re-verify, retry with the new key), the next verified
//                 node is tried — only before the first content byte went to the caller (D3). After that a
//                 broken stream is an error to the caller (B5).
//
// Errors of Complete(): kInvalidArgument (request JSON without a model), kNotFound (no verified node for the
// model), kInsufficientFunds (budget exhausted), kIoError (every verified node failed; the message lists
// each), kDecryptFailed / kTruncated (B5: the stream broke after content was delivered), the receipt codes
// of VerifyReceiptField. A node's own refusal (an OpenAI error object inside the encryption, e.g. 400
// invalid_request) is not an Error: it is returned as the answer with its status.
//
// Thread safety: Complete, VerifiedNodes and Models may be called from many threads at once.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "attest/bundle.h"
#include "client/chain_reader.h"
#include "client/exchange.h"
#include "client/node_verifier.h"
#include "common/status.h"
#include "seal/account_key.h"

namespace cmln::client {

struct ClientConfig {
  std::string chain_url;  // any network node's REST API, e.g. "http://127.0.0.1:26657"
  // A network node to relay every encapsulated request through (POST {relay_url}/v1/relay/{node_id},
  // RFC 9458): the confidential node never sees this client's address. Empty: straight to each node's
  // endpoint. The relay is not trusted with anything but the address: it sees only sealed bytes.
  std::string relay_url;
  TrustConfig trust;
  // Total ngonka this client may lock in escrows it creates (escrows found open at start are reused
  // without counting against it).
  uint64_t budget = 1'000'000;
  // Amount of each escrow it creates; 0 = min(100000, what is left of the budget), raised to the chain's
  // min_escrow_amount.
  uint64_t escrow_amount = 0;
  int refresh_interval_s = 5;
  int cache_ttl_s = 600;
  int connect_timeout_ms = 3000;
  int read_timeout_s = 300;
  // After a failure a node is tried last for this long.
  int failure_cooldown_s = 30;
  // Unix seconds; the system clock when empty. Tests pin it.
  std::function<int64_t()> now;
};

// A delivered completion.
struct Completion {
  NodeAnswer answer;      // the node's decrypted answer (OpenAI JSON, the SSE bytes, or an OpenAI error)
  std::string node_id;    // the node that served it
  uint64_t escrow_id = 0;
  std::optional<seal::Receipt> receipt;  // present (and verified) iff answer.status == 200
  int attempts = 0;       // nodes tried
};

// Where a streamed answer goes while it arrives.
struct StreamSink {
  // Once, before any content, when a node answered 200: the node serving the stream.
  std::function<void(const VerifiedNode& node, const NodeAnswer& head)> on_head;
  // Content bytes (SSE) as they arrive: each chunk authenticated, the whole confirmed only when
  // Complete() returns its verified receipt.
  std::function<void(ByteView content)> on_content;
};

class Client {
 public:
  // Reads the user's key (`key` already loaded by the caller) and checks the chain is reachable.
  static Result<std::unique_ptr<Client>> Create(ClientConfig config, seal::AccountPrivateKey key);

  // Verified nodes of `model`, refreshed per the policy above (or now with `force_refresh`).
  Result<std::vector<VerifiedNode>> VerifiedNodes(const std::string& model, bool force_refresh = false);
  // Why each listed node of `model` was refused at the last refresh (node id -> error).
  std::vector<std::pair<std::string, Error>> RefusedNodes(const std::string& model);
  // Models with a price on chain and at least one verified node.
  Result<std::vector<std::string>> Models();

  // One chat completion. `request_json` is the OpenAI request body, sent to the node byte for byte.
  // With `"stream": true` the content goes to `sink` as it arrives (sink may be null: it is only kept).
  Result<Completion> Complete(ByteView request_json, const StreamSink* sink = nullptr);

  const std::string& address() const { return address_; }
  const std::string& chain_id() const { return chain_id_; }
  uint64_t locked() const;                  // ngonka locked in escrows this client created
  std::vector<uint64_t> created_escrows() const;

 private:
  Client(ClientConfig config, seal::AccountPrivateKey key, std::string chain_id);
  int64_t Now() const;

  struct ModelState {
    int64_t listed_at = 0;
    bool listed = false;
    std::vector<VerifiedNode> nodes;
    std::vector<std::pair<std::string, Error>> refused;
    uint64_t price_per_token = 0;
  };
  struct CachedBundle {
    Result<attest::VerifiedBundle> verified = Error(ErrorCode::kInternal, "unset");
    int64_t verified_at = 0;
  };
  Status Refresh(const std::string& model, ModelState& state);
  Result<uint64_t> PricePerToken(const std::string& model);

  // The escrow to authorize against; `replace` = the node said this one is exhausted or closed.
  Result<uint64_t> EnsureEscrow(const std::string& model, std::optional<uint64_t> replace);

  enum class Outcome { kDone, kFailover, kStaleKey, kTopUp };
  struct Attempt {
    Outcome outcome = Outcome::kFailover;
    Result<Completion> result = Error(ErrorCode::kInternal, "unset");
    std::string failure;  // why, for kFailover
  };
  Attempt TryNode(const VerifiedNode& node, uint64_t escrow_id, uint64_t price, ByteView request, bool stream,
                  const StreamSink* sink);

  ClientConfig config_;
  seal::AccountPrivateKey key_;
  std::string address_;
  std::string chain_id_;
  ChainReader reader_;

  mutable std::mutex discovery_mu_;
  std::map<std::string, ModelState> models_;
  std::map<std::string, CachedBundle> bundle_cache_;  // hex bundle hash -> VerifyBundle result
  std::map<std::string, int64_t> failed_at_;          // node id -> last failure

  mutable std::mutex escrow_mu_;
  std::map<std::string, uint64_t> escrow_of_model_;
  std::vector<uint64_t> created_;
  uint64_t locked_ = 0;

  std::atomic<uint64_t> round_robin_{0};
};

}  // namespace cmln::client
