// Durable storage of the chain: SQLite in WAL mode with synchronous=FULL.
//
// Tables: state(k, v) the committed key-value state; blocks(height, time, proposer, app_hash, tx_hashes,
// events) one row per committed block (height 0 = genesis); txs(hash, height, idx, code, log, events, raw)
// for tx lookup; meta(k, v) for the genesis document.
//
// CommitBlock writes a block's state changes, its block row and its tx rows in ONE SQL transaction, so a
// crash (kill -9, power loss) at any point leaves either the whole block or none of it: restart resumes
// at the last committed height with its app hash. Thread safety: not thread-safe; the App serializes use.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chain/kv_store.h"
#include "common/bytes.h"
#include "common/status.h"

struct sqlite3;

namespace cmln::chain {

struct BlockRecord {
  uint64_t height = 0;
  int64_t time = 0;
  std::string proposer;
  Bytes app_hash;
  std::vector<std::string> tx_hashes;
  std::string events_json = "[]";  // end-block events
};

struct TxRecord {
  std::string hash;
  uint64_t height = 0;
  uint32_t index = 0;
  uint32_t code = 0;
  std::string log;
  std::string events_json = "[]";
  Bytes raw;
};

class BlockStore {
 public:
  // Opens or creates the database file (kIoError naming the path on failure).
  static Result<std::unique_ptr<BlockStore>> Open(const std::string& path);
  ~BlockStore();
  BlockStore(const BlockStore&) = delete;
  BlockStore& operator=(const BlockStore&) = delete;

  Status LoadState(StateMap* out) const;
  Result<std::optional<BlockRecord>> LastBlock() const;
  Result<std::optional<BlockRecord>> GetBlock(uint64_t height) const;
  Result<std::optional<TxRecord>> GetTx(const std::string& hash_hex) const;
  // Atomically: apply `writes` to the state table, insert the block row and the tx rows, and store
  // `meta` entries. kIoError (and nothing written) on any failure.
  Status CommitBlock(const BlockRecord& block, const WriteSet& writes, const std::vector<TxRecord>& txs,
                     const std::vector<std::pair<std::string, std::string>>& meta = {});
  Result<std::optional<std::string>> GetMeta(const std::string& key) const;

 private:
  explicit BlockStore(sqlite3* db) : db_(db) {}
  Status Exec(const char* sql) const;
  sqlite3* db_;
};

}  // namespace cmln::chain
