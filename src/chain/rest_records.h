// What the client reads from any network node's REST API (src/chain/node.h, docs/chain.md "REST records"):
// the chain status, the release registry, the collateral documents, the attestation records of a model,
// escrows, accounts and model prices, parsed from the JSON records into plain structs.
//
// Nothing read here is trusted: the network node is not (DESIGN section 1). Attestation records are only
// candidates; the client verifies every bundle itself (node_verifier.h). Releases and prices come from
// chain consensus, which is trusted, through the node the user chose.
//
// JSON conventions of the chain: uint64 as decimal strings (plain numbers accepted too), bytes as lowercase
// hex, documents (`bundle`, `collateral`) as base64, enums by name. A record missing a field or with a
// mistyped one is kMalformed (naming the field); hex/base64 that does not decode is kBadEncoding.
//
// Thread safety: the Parse* functions are pure; a ChainReader may be used from several threads (each
// call opens its own connection).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chain/rest_client.h"
#include "common/bytes.h"
#include "common/status.h"

namespace cmln::client {

inline constexpr std::string_view kAttestationVerified = "ATTESTATION_STATUS_VERIFIED";
inline constexpr std::string_view kEscrowOpen = "ESCROW_STATUS_OPEN";

struct ChainStatus {
  std::string chain_id;
  uint64_t height = 0;
  uint64_t epoch = 0;
};

struct ReleaseInfo {
  std::string release_id;
  std::string platform;
  std::map<std::string, Bytes> measurements;  // every one must match
  std::string model_id;
  Bytes model_digest;
  std::string min_tcb;  // Intel PCS spelling; empty = "UpToDate"
  uint64_t not_before_epoch = 0;
  uint64_t not_after_epoch = 0;  // 0 = open-ended
  bool retired = false;
};

struct CollateralDoc {
  std::string platform;
  std::string kind;
  std::string id;
  Bytes collateral;
  int64_t next_update = 0;
};

// A TeeAttestation record as the chain lists it.
struct AttestationRecord {
  std::string node_id;
  std::string participant;
  std::string model_id;
  std::string endpoint;  // base URL of the node, e.g. "http://127.0.0.1:8101"
  std::string release_id;
  std::string platform;
  bool simulated = false;
  std::string status;  // "ATTESTATION_STATUS_VERIFIED", ...
  Bytes sign_public_key;
  Bytes ohttp_key_config;
  std::string bundle_json;  // decoded from base64
  Bytes bundle_hash;
  uint64_t attested_epoch = 0;
  uint64_t expires_after_epoch = 0;
};

struct EscrowInfo {
  uint64_t id = 0;
  std::string creator;
  std::string model_id;
  uint64_t amount = 0;
  uint64_t remaining = 0;
  uint64_t settled = 0;
  uint64_t refunded = 0;
  std::string status;  // "ESCROW_STATUS_OPEN", ...
  uint64_t created_epoch = 0;
};

struct AccountInfo {
  std::string address;
  uint64_t balance = 0;
  uint64_t sequence = 0;
};

struct ChainParams {
  std::map<std::string, uint64_t> model_prices;  // model id -> ngonka per token
  uint64_t min_escrow_amount = 0;
  uint64_t max_escrow_amount = 0;
  uint64_t min_tx_fee = 0;
  bool allow_simulated_tee = false;
};

Result<ChainStatus> ParseChainStatus(const nlohmann::json& j);
Result<ReleaseInfo> ParseReleaseRecord(const nlohmann::json& j);
Result<CollateralDoc> ParseCollateralRecord(const nlohmann::json& j);
Result<AttestationRecord> ParseAttestationRecord(const nlohmann::json& j);
Result<EscrowInfo> ParseEscrow(const nlohmann::json& j);
Result<AccountInfo> ParseAccount(const nlohmann::json& j);
Result<ChainParams> ParseParams(const nlohmann::json& j);

class ChainReader {
 public:
  explicit ChainReader(std::string base_url) : base_url_(base_url), rest_(std::move(base_url)) {}

  // Errors: kIoError when the node cannot be reached; the node's own code; the Parse* codes.
  Result<ChainStatus> Status() const;
  Result<ChainParams> Params() const;
  Result<std::vector<ReleaseInfo>> Releases() const;
  Result<std::vector<CollateralDoc>> Collateral() const;
  // Every record for `model_id` (any status; the caller keeps VERIFIED ones).
  Result<std::vector<AttestationRecord>> Attestations(const std::string& model_id) const;
  Result<EscrowInfo> Escrow(uint64_t id) const;
  Result<std::vector<EscrowInfo>> EscrowsOf(const std::string& creator) const;
  Result<AccountInfo> Account(const std::string& address) const;

  const chain::RestClient& rest() const { return rest_; }
  const std::string& base_url() const { return base_url_; }

 private:
  std::string base_url_;
  chain::RestClient rest_;
};

}  // namespace cmln::client
