// The embedded single-node mode: a block producer and a REST (JSON) API over one App, as started by
// `cmln chain start --home DIR`.
//
// Home directory layout (written by InitHome / `cmln chain init`):
//   config/genesis.json   the genesis document (genesis.h)
//   config/node.json      {"validator": "gonka1…"} the proposer credited with fees
//   keys/<name>.json      {"name", "address", "public_key_hex", "private_key_hex"} (mode 0600; devnet only)
//   data/chain.db         the SQLite store (block_store.h)
//
// Blocks: every block_interval_ms the producer takes up to max_block_txs transactions from the mempool
// in arrival order, runs FinalizeBlock with the wall-clock second as block time (never earlier than the
// previous block's) and commits. Transactions left over are re-checked against the new state.
// Wall-clock time enters only through the block header, never the state machine.
//
// REST (all JSON; errors as {"code", "codespace", "error"} with 400/404/422/503):
//   GET  /status /params /supply /participants /collateral
//   GET  /accounts/{address} /earnings/{address}
//   GET  /releases /releases/{id}
//   GET  /attestations[?model=M][?node=N]
//   GET  /escrows[?creator=A] /escrows/{id}
//   GET  /epochs/current /epochs/{n}
//   GET  /blocks/{height} /txs/{hash}
//   POST /txs {"tx_base64": "…"} -> CheckTx result {hash, code, codespace, log}; 200 admitted, 422 refused
//
// Thread safety: all App access is serialized by one mutex; Stop() may be called from any thread.
#pragma once

#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "chain/app.h"
#include "chain/attestation_verifier.h"
#include "seal/account_key.h"

namespace httplib {
class Server;
}

namespace cmln::chain {

struct NodeOptions {
  std::string home;
  std::string listen_host = "127.0.0.1";
  int port = 26657;             // 0 = pick a free port
  int block_interval_ms = 1000;
  size_t max_block_txs = 1000;
  size_t max_mempool_txs = 10000;
};

struct InitOptions {
  std::string chain_id = "cmln-devnet";
  uint64_t epoch_length = 20;
  bool allow_simulated_tee = false;
  int64_t genesis_time = 0;  // 0 = now
  std::vector<std::string> demo_accounts = {"alice", "bob"};
  std::vector<std::string> hosts = {"host"};
  std::vector<std::pair<std::string, uint64_t>> model_prices = {{"smollm2-135m-instruct", 1}};
};

// Creates the home directory: keys for authority, validator, demo accounts and hosts (participants with
// weight 100), and a genesis that funds them. kAlreadyExists if DIR/config/genesis.json exists.
Status InitHome(const std::string& home, const InitOptions& options);

// Loads a key file written by InitHome.
Result<seal::AccountPrivateKey> LoadKeyFile(const std::string& path);

class Node {
 public:
  // Opens DIR/data/chain.db, initializing it from DIR/config/genesis.json on first start.
  static Result<std::unique_ptr<Node>> Open(const NodeOptions& options, const AttestationVerifier* verifier);
  ~Node();

  // Binds the HTTP listener (so port() is known), then runs the block producer until Stop().
  Status Run();
  void Stop();
  int port() const { return bound_port_.load(); }

  // One block from the mempool (used by Run and by tests). kInternal if the state machine fails.
  Status ProduceBlock();
  TxResult Broadcast(ByteView raw);
  Result<nlohmann::json> Query(std::string_view path);

 private:
  Node(NodeOptions o, std::unique_ptr<App> app, std::string validator);
  void InstallRoutes();

  NodeOptions opts_;
  std::unique_ptr<App> app_;
  std::string validator_;
  std::mutex mu_;
  std::deque<Bytes> mempool_;
  std::set<std::string> mempool_hashes_;
  std::unique_ptr<httplib::Server> http_;
  std::atomic<bool> stop_{false};
  std::atomic<int> bound_port_{0};
};

}  // namespace cmln::chain
