// The embedded single-node mode: a block producer and a REST (JSON) API over one App, as started by
// `cmln chain start --home DIR`.
//
// Home directory layout (written by InitHome / `cmln chain init`):
//   config/genesis.json   the genesis document (genesis.h)
//   config/node.json      {"validator": "gonka1…"} the proposer credited with fees
//   keys/<name>.json      {"name", "address", "public_key_hex", "private_key_hex"} (mode 0600; devnet only)
//   sim-pki/              with allow_simulated_tee and no sim_pki_dir: the devnet's development PKI
//                         (attest/sim_pki.h layout, mode 0700, private keys 0600), which the devnet's
//                         simulated nodes read to sign their evidence
//   data/chain.db         the SQLite store (block_store.h)
//
// Blocks: every block_interval_ms the producer takes up to max_block_txs transactions from the mempool
// in arrival order, runs FinalizeBlock with the wall-clock second as block time (never earlier than the
// previous block's) and commits. Transactions left over are re-checked against the new state.
// Wall-clock time enters only through the block header, never the state machine.
//
// REST (all JSON; errors as {"code", "codespace", "error"} with 400/404/422/503):
//   GET  /status /params /supply /participants /collateral
// Records are the state protobufs in JSON with proto field names (uint64 as decimal strings, enums by
// name); every bytes field is lowercase hex except `bundle` and `collateral` (documents, base64).
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
  // With allow_simulated_tee only: the development PKI whose roots and collateral genesis trusts. Empty =
  // generate a new one into DIR/sim-pki; otherwise an existing PKI directory (`cmln attest sim pki`, or
  // another devnet's DIR/sim-pki), reused as is and not copied.
  std::string sim_pki_dir;
  int sim_pki_rsa_bits = 4096;  // ARK/ASK size of a generated PKI (AMD's is 4096; tests may use 2048)
  // The genesis sim-tdx / sim-snp collateral is issued one day before genesis_time and stays valid
  // this long after genesis_time.
  int64_t sim_collateral_validity = 365 * 86400;
};

// Creates the home directory: keys for authority, validator, demo accounts and hosts (participants with
// weight 100), and a genesis that funds them. With allow_simulated_tee, genesis also carries
// "tee_trust": {"sim": {"tdx_roots_pem", "snp_arks_pem": {product: PEM}}} of the development PKI and one
// collateral record per simulated platform (sim-tdx "tdx_collateral_v3" keyed by FMSPC, sim-snp
// "snp_chain" keyed by product), each verified against those roots at genesis_time before it is written,
// and params.allow_simulated_tee = true. Release registration stays a governance tx.
// Errors: kAlreadyExists if DIR/config/genesis.json exists (or DIR/sim-pki is not empty);
// kInvalidArgument for sim_pki_dir without allow_simulated_tee or for a key name (demo account, host) that
// is not 1..64 of [a-z0-9_-] or is repeated; the PKI loader's codes for a bad
// sim_pki_dir; kIoError for files. On failure DIR may hold partial key files but no genesis.
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
