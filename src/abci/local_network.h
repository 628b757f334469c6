// A CometBFT network of N validators on loopback, each a `cometbft start` process with its own
// `cmln chain abci` process on a unix socket: what `cmln devnet --validators N` runs, and what the
// CometBFT end-to-end tests run (docs/cometbft.md).
//
// Layout under `dir`:  validator-K/comet/   CometBFT home (config, node key, priv validator, data)
//                      validator-K/app/     `cmln chain abci` home (data/chain.db)
//                      validator-K/app.sock the ABCI socket
//                      logs/validator-K-{comet,app}.log
//
// Contract:
//  - Prepare creates the homes on first use (`cometbft init` for each, one genesis with every validator,
//    our genesis document as app_state, CometBFT's genesis_time = our genesis_time) and reuses them
//    afterwards: keys, genesis and both stores survive, so a second start resumes the same chain.
//    A home prepared for another validator count or chain id is refused (kAlreadyExists).
//  - Every Prepare picks fresh free loopback ports and rewrites each config.toml (RPC and P2P listen
//    addresses, persistent peers, the ABCI socket, fast block timeouts, loopback gossip pacing); node ids
//    are stable.
//  - Processes are ChildProcess objects: killed on destruction; Stop() stops CometBFT before its app.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/child_process.h"
#include "common/status.h"

namespace cmln::abci {

struct LocalNetworkOptions {
  std::string dir;
  int validators = 4;
  std::string cometbft_path;  // the `cometbft` binary (v0.38.25)
  std::string cmln_path;      // the `cmln` binary that runs `chain abci`
  nlohmann::json app_genesis;  // our genesis document (`cmln chain init`'s config/genesis.json)
  // Block pacing: CometBFT's timeout_commit and timeout_propose.
  std::string timeout_commit = "200ms";
  std::string timeout_propose = "1s";
};

struct LocalValidator {
  std::string comet_home;
  std::string app_home;
  std::string socket;
  std::string node_id;
  int p2p_port = 0;
  int rpc_port = 0;
  std::unique_ptr<ChildProcess> app;
  std::unique_ptr<ChildProcess> comet;

  std::string rpc_url() const { return "http://127.0.0.1:" + std::to_string(rpc_port); }
};

class LocalNetwork {
 public:
  static Result<std::unique_ptr<LocalNetwork>> Prepare(const LocalNetworkOptions& options);
  ~LocalNetwork();

  int size() const { return static_cast<int>(validators_.size()); }
  LocalValidator& validator(int i) { return validators_.at(static_cast<size_t>(i)); }
  const std::string& chain_id() const { return chain_id_; }

  // Starts validator i's app and waits (up to 30 s) for its socket; `env` adds environment entries
  // (test hooks such as CMLN_ABCI_CRASH_BEFORE_COMMIT_AT_HEIGHT).
  Status StartApp(int i, const std::vector<std::string>& env = {});
  Status StartComet(int i);
  // Every app, then every CometBFT, then waits until validator 0 reports height >= `height`.
  Status StartAll(int64_t height, std::chrono::milliseconds timeout);
  // CometBFT first, then the app (SIGTERM, SIGKILL after `grace`).
  void Stop(int i, std::chrono::milliseconds grace);
  void StopAll(std::chrono::milliseconds grace);

  // CometBFT's latest block height at validator i, or -1 when its RPC does not answer.
  int64_t Height(int i) const;
  // Waits until validator i reports height >= h.
  bool WaitHeight(int i, int64_t h, std::chrono::milliseconds timeout) const;
  // The tails of validator i's two logs, for failure messages.
  std::string LogTails(int i, size_t bytes = 3000) const;

 private:
  LocalNetwork() = default;
  Status Configure();

  LocalNetworkOptions opts_;
  std::string chain_id_;
  std::vector<LocalValidator> validators_;
};

// Finds the cometbft binary: $CMLN_COMETBFT, then .gobin/cometbft in the directory of `near` or any of its
// parents (scripts/setup installs it there), then `cometbft` on PATH. kNotFound if none exists.
Result<std::string> FindCometbft(const std::string& near);

}  // namespace cmln::abci
