// Typed decoding of the chain's REST records (node.h, docs/chain.md "REST records"): the chain status,
// the release registry, the collateral documents, attestation records, escrows, accounts and params,
// parsed from the JSON the REST API writes into plain structs. One decoder for every reader — the client
// (src/client) and the Confidential MLNode (src/node).
//
// Parsing is not trust: a reader decides what it believes (the client verifies every bundle itself).
//
// JSON conventions of the chain: uint64 as decimal strings (plain numbers accepted too), bytes as lowercase
// hex, documents (`bundle`, `collateral`) as base64, enums by name. A record missing a field or with a
// mistyped one is kMalformed (naming the field); hex/base64 that does not decode is kBadEncoding.
//
// Every field is present (the API prints proto3 defaults). Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/bytes.h"
#include "common/status.h"

namespace cmln::chain {

inline constexpr std::string_view kAttestationStatusVerified = "ATTESTATION_STATUS_VERIFIED";
inline constexpr std::string_view kEscrowStatusOpen = "ESCROW_STATUS_OPEN";

struct ChainStatus {
  std::string chain_id;
  uint64_t height = 0;
  uint64_t epoch = 0;  // the current epoch ...
  Bytes epoch_nonce;   // ... and its nonce (32 bytes)
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
  uint64_t last_batch_seq = 0;  // the node's last settled usage batch
  std::string status_reason;
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
  Bytes creator_key_hash;  // SHA-256 of the creator's compressed key (32 bytes)
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



}  // namespace cmln::chain
