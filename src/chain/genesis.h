// Genesis: the chain's initial state, as JSON (written by `cmln chain init`, read once at height 0).
//
//   {
//     "chain_id": "cmln-devnet",                 // 1..64 bytes
//     "genesis_time": 1700000000,                // unix seconds
//     "params": { ...Params in protobuf JSON (proto field names; uint64 as strings or numbers)... },
//     "accounts": [{"address": "gonka1…", "balance": 1000}],
//     "participants": [{"address": "gonka1…", "weight": 100}],
//     "collateral": [{"platform": "sim-tdx", "kind": "tcb_info", "id": "…", "collateral_base64": "…",
//                     "issue_time": 0, "next_update": 0}],   // trusted as given (genesis is trusted)
//     "tee_trust": { ... }                       // pinned roots / dev PKI, handed to the verifier as is
//   }
// Unknown top-level fields are refused, so a typo cannot silently drop a setting.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "chain/kv_store.h"
#include "common/status.h"

namespace cmln::chain {

struct Genesis {
  std::string chain_id;
  int64_t genesis_time = 0;
  nlohmann::json doc;  // the whole validated document
};

// kBadEncoding for text that is not JSON; kInvalidArgument naming the field for anything else.
Result<Genesis> ParseGenesis(std::string_view text);

// Writes the genesis state into `store` (accounts, participants, params, supply, collateral, epoch 0
// with its nonce derived from the chain id and genesis time). REQUIRES: `store` is empty.
Status InitGenesisState(const Genesis& genesis, CacheStore* store);

}  // namespace cmln::chain
