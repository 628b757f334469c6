// The ABCI-shaped core of the chain: CheckTx, FinalizeBlock (all transactions of a block, then the
// end-block phase), Commit and Query, so the embedded block producer (node.h) drives it now and an
// ABCI++ adapter under CometBFT can drive the same code later.
//
//   CheckTx(tx)            decode, signature, messages' stateless checks and signers, then sequence, fee
//                          and balance against the check state (committed state plus the pending txs
//                          already admitted), so a mempool admits sequence n+1 after n. No message runs.
//   FinalizeBlock(h, txs)  for each tx: the same checks, then fee+sequence (kept even if a message fails,
//                          as in Cosmos), then every message in its own cache (all or nothing); then the
//                          end block (refunds, epoch boundary). Returns per-tx results and the app hash:
//                            app_hash(h) = SHA-256("cmln/app-hash/v1" || app_hash(h-1) || u64be(h) ||
//                                                  SHA-256(for each changed key in byte order:
//                                                          u32be(len k) k u8(present) u32be(len v) v))
//   Commit()               persists the finalized block in one SQL transaction, then makes it the
//                          committed state and resets the check state. Returns the app hash.
//   Query(path)            read-only JSON views of committed state (see docs/chain.md for the paths).
//
// Thread safety: none; the caller (Node) serializes all calls with one mutex.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chain/attestation_verifier.h"
#include "chain/block_store.h"
#include "chain/events.h"
#include "chain/genesis.h"
#include "chain/keeper.h"
#include "chain/kv_store.h"
#include "common/status.h"

namespace cmln::chain {

struct TxResult {
  std::string hash;
  ErrorCode code = ErrorCode::kOk;
  std::string log;
  std::vector<Event> events;

  bool ok() const { return code == ErrorCode::kOk; }
  nlohmann::json ToJson() const;
};

struct BlockHeader {
  uint64_t height = 0;
  int64_t time = 0;  // unix seconds; must not go backwards
  std::string proposer;
};

struct FinalizeBlockResult {
  std::vector<TxResult> tx_results;
  std::vector<Event> end_block_events;
  Bytes app_hash;
};

class App {
 public:
  // Opens the database (":memory:" for tests) and loads the last committed state. `verifier` must
  // outlive the App (may be null if no attestation messages or epoch re-evaluation are needed).
  static Result<std::unique_ptr<App>> Open(const std::string& db_path, const AttestationVerifier* verifier);

  // Writes the genesis state as block 0. kAlreadyExists if the store is already initialized.
  Status InitChain(const Genesis& genesis);
  bool initialized() const { return initialized_; }

  TxResult CheckTx(ByteView raw);
  // REQUIRES: header.height == height() + 1 and no finalized-but-uncommitted block.
  Result<FinalizeBlockResult> FinalizeBlock(const BlockHeader& header, const std::vector<Bytes>& txs);
  Result<Bytes> Commit();
  Result<nlohmann::json> Query(std::string_view path) const;

  uint64_t height() const { return height_; }
  const Bytes& app_hash() const { return app_hash_; }
  int64_t last_block_time() const { return last_time_; }
  const std::string& chain_id() const { return chain_id_; }
  const StateMap& committed_state() const { return committed_; }
  const BlockStore& block_store() const { return *store_; }

 private:
  App(std::unique_ptr<BlockStore> store, const AttestationVerifier* verifier);
  TxResult RunTx(ByteView raw, CacheStore* block_cache, const BlockContext& ctx, bool check_only);
  Status Stateless(const struct DecodedTx& tx) const;
  pb::Params CommittedParams() const;

  std::unique_ptr<BlockStore> store_;
  const AttestationVerifier* verifier_;
  StateMap committed_;
  MapReader committed_reader_{&committed_};
  std::unique_ptr<CacheStore> check_cache_;
  bool initialized_ = false;
  std::string chain_id_;
  uint64_t height_ = 0;
  Bytes app_hash_;
  int64_t last_time_ = 0;

  struct Pending {
    BlockRecord block;
    std::unique_ptr<CacheStore> cache;
    std::vector<TxRecord> txs;
  };
  std::optional<Pending> pending_;
};

// The app-hash step above, exposed for tests.
Bytes ChainAppHash(ByteView previous, uint64_t height, const WriteSet& writes);

// Protobuf record -> JSON for the REST API (proto field names, every field printed; uint64 as strings,
// enums by name; bytes as lowercase hex, except the documents `bundle` and `collateral` in base64).
nlohmann::json ProtoToJson(const google::protobuf::Message& m);

}  // namespace cmln::chain
