// The Confidential MLNode (DESIGN sections 3-6, docs/node.md): boot, attestation, serving, settlement.
//
// Boot (Start):
//   1. the host account key (config.host_key_file) and the engine (GGUF weights hashed: model_digest);
//   2. the chain: chain id, the model's price, the node's attestation record (its last_batch_seq);
//   3. the batch journal: batches at or below last_batch_seq are deleted (settled before a crash),
//      the others are submitted first (they may carry the previous boot's key, still accepted by the
//      chain in its grace window) and numbering continues after them;
//   4. the HTTP listener is bound (so the advertised endpoint has its port);
//   5. attestation: fresh X25519 + Ed25519 keys in memory (never on disk), evidence bound to the current
//      epoch and nonce (sim-tdx / sim-snp: BuildSimBundle with the development PKI of sim_pki_dir; tdx /
//      snp: configfs-tsm), MsgSubmitTeeAttestation signed by the host key, then wait until the chain
//      shows the attestation VERIFIED with our sign key; only then are the keys served;
//   6. background threads: the epoch watcher (re-attests with new keys when the chain's epoch changes;
//      requests to the old OHTTP key id then get stale_key) and the settlement thread.
// The OHTTP key id is the previous one + 1 (kept in data_dir/ohttp_key_id, not secret), so a request
// sealed to a key of the previous boot or epoch always meets an unknown key id (B4), never a wrong key.
//
// Thread safety: Start, Wait and Stop from the owning thread (Stop may also be called from another).
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/status.h"
#include "engine/engine.h"
#include "node/chain_client.h"
#include "node/config.h"
#include "node/http_frontend.h"
#include "node/ledger.h"
#include "node/usage_aggregator.h"
#include "node/metrics.h"
#include "node/service.h"
#include "node/settlement.h"

namespace cmln::node {

class NodeServer {
 public:
  // Loads the host key and the engine, and checks the configuration against them.
  static Result<std::unique_ptr<NodeServer>> Create(NodeConfig config);
  ~NodeServer();

  // Boot steps 2-6 above. On error nothing is served (the listener is closed again).
  Status Start();
  // Blocks until Stop().
  void Wait();
  // Stops serving, seals and submits the last usage once, stops the threads. Idempotent.
  void Stop();

  int port() const { return frontend_ ? frontend_->port() : 0; }
  std::shared_ptr<const KeySet> keys() const;
  const std::string& chain_id() const { return chain_id_; }

 private:
  NodeServer(NodeConfig config, std::unique_ptr<engine::Engine> engine, std::unique_ptr<ChainClient> chain);
  // Generates keys, collects evidence, registers them on chain and waits for VERIFIED.
  Result<std::shared_ptr<KeySet>> Attest();
  Result<std::string> BuildBundle(KeySet& keys, const chain::ChainStatus& epoch);
  Result<uint8_t> NextKeyId();
  void WatchEpochs();

  NodeConfig config_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<ChainClient> chain_;
  std::string chain_id_;
  seal::Digest32 model_digest_{};
  Metrics metrics_;
  std::unique_ptr<QuotaLedger> ledger_;
  std::unique_ptr<ReplayCache> replay_;
  UsageAggregator usage_;
  std::unique_ptr<InferenceService> service_;
  std::unique_ptr<Settlement> settlement_;
  std::unique_ptr<HttpFrontend> frontend_;

  mutable std::mutex keys_mu_;
  std::shared_ptr<const KeySet> keys_;

  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  bool stopped_ = false;
  std::thread epoch_thread_;
};

}  // namespace cmln::node
