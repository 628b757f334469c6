// scripts/bench chain-cometbft: the chain under four CometBFT v0.38 validators (each with its own
// `cmln chain abci`, abci::LocalNetwork, 100 ms commit timeout) against the embedded block producer
// (`cmln chain start`, 100 ms blocks) as the peer, both from the same genesis, both reached the way nodes
// and clients reach them: the REST API (`cmln chain rest` in front of validator 0 for CometBFT).
//
//   latency     one MsgSend at a time: broadcast (POST /txs) until GET /txs/{hash} finds it committed,
//               polled every 5 ms; median of kLatencyTxs.
//   throughput  kLoadTxs MsgSends from one account (sequences n..n+k-1, signed before timing: the check
//               state admits n+1 after n), broadcast back to back, until the last is committed;
//               per-tx time = elapsed / k.
// Everything runs on this one machine: four validators and four apps share its cores, so the figures
// are what a single-host devnet sees, not a distributed network (no network latency, more CPU contention).
// Last line: {"name":"chain-cometbft","ours_us": CometBFT per-tx time under load,"peer":"embedded-chain",
// "peer_us":…, "ratio":…, latency medians and txs per second of both}.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "abci/local_network.h"
#include "chain/node.h"
#include "chain/rest_client.h"
#include "chain/tx.h"
#include "common/child_process.h"

namespace {

using namespace cmln;
namespace fs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr int kLatencyTxs = 15;
constexpr int kLoadTxs = 300;

[[noreturn]] void Die(const std::string& why) {
  std::cerr << "chain-cometbft: " << why << "\n";
  std::exit(1);
}

template <typename T>
T Must(Result<T> r, const std::string& what) {
  if (!r.ok()) Die(what + ": " + r.error().ToString());
  return std::move(*r);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct Figures {
  double latency_ms = 0;
  double per_tx_us = 0;
  double tx_per_s = 0;
  double broadcast_us = 0;  // per tx, the back-to-back POST /txs phase alone (CheckTx admission)
};

// Runs both measurements against the chain at `url`, signing as `key` from its current sequence.
Figures Measure(const std::string& url, const seal::AccountPrivateKey& key, const std::string& to) {
  const chain::RestClient rest(url);
  const json status = Must(rest.Get("/status"), "status");
  const std::string chain_id = status["chain_id"].get<std::string>();
  const std::string from = seal::AccountAddressToString(seal::AccountAddressFromPublicKey(key.public_key()));
  uint64_t sequence = std::stoull(Must(rest.Get("/accounts/" + from), "account").value("sequence", std::string("0")));
  auto send = [&](uint64_t seq) {
    chain::v1::Msg m;
    m.mutable_send()->set_from_address(from);
    m.mutable_send()->set_to_address(to);
    m.mutable_send()->set_amount(1);
    return Must(chain::BuildSignedTx(key, chain_id, seq, 0, {m}), "sign");
  };
  auto committed = [&](const std::string& hash) { return rest.Get("/txs/" + hash).ok(); };
  auto broadcast = [&](const Bytes& tx) {
    json r = Must(rest.BroadcastTx(tx), "broadcast");
    if (r.value("code", -1) != 0) Die("tx refused: " + r.dump());
    return r["hash"].get<std::string>();
  };

  Figures f;
  std::vector<double> latencies;
  for (int i = 0; i < kLatencyTxs; ++i) {
    const Bytes tx = send(sequence++);
    const auto t0 = Clock::now();
    const std::string hash = broadcast(tx);
    while (!committed(hash)) {
      if (Clock::now() - t0 > std::chrono::seconds(60)) Die("tx not committed in 60 s");
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    latencies.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  f.latency_ms = Median(latencies);

  std::vector<Bytes> load;
  for (int i = 0; i < kLoadTxs; ++i) load.push_back(send(sequence++));
  const auto t0 = Clock::now();
  std::string last;
  for (const Bytes& tx : load) last = broadcast(tx);
  f.broadcast_us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / kLoadTxs;
  while (!committed(last)) {
    if (Clock::now() - t0 > std::chrono::seconds(300)) Die("load not committed in 300 s");
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const double elapsed_us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
  f.per_tx_us = elapsed_us / kLoadTxs;
  f.tx_per_s = 1e6 / f.per_tx_us;
  return f;
}

}  // namespace

int main() {
  const std::string self = SelfExecutablePath();
  const std::string cmln = (fs::path(self).parent_path() / "cmln").string();
  const std::string cometbft = Must(abci::FindCometbft(self), "cometbft");
  const std::string home = (fs::temp_directory_path() / ("cmln-bench-comet-" + std::to_string(::getpid()))).string();
  fs::remove_all(home);
  chain::InitOptions init;
  Status st = chain::InitHome(home, init);
  if (!st.ok()) Die("chain init: " + st.error().ToString());
  const auto alice = Must(chain::LoadKeyFile(home + "/keys/alice.json"), "alice key");
  const std::string bob = json::parse(std::ifstream(home + "/keys/bob.json"))["address"].get<std::string>();

  // Peer: the embedded block producer.
  Figures embedded;
  {
    ChildProcess chain("chain", home + "/embedded.log");
    if (!chain.Start({cmln, "chain", "start", "--home", home, "--listen", "127.0.0.1:0", "--block-interval-ms", "100"})
             .ok()) {
      Die("cannot start cmln chain start");
    }
    const std::string url = chain.WaitListening(std::chrono::seconds(30)).value_or("");
    if (url.empty()) Die("embedded chain did not start: " + chain.RunLog());
    embedded = Measure(url, alice, bob);
    chain.Stop(std::chrono::seconds(10));
  }
  std::fprintf(stderr, "embedded chain (100 ms blocks):   latency %7.1f ms   load %8.0f us/tx  %6.0f tx/s  (admission %6.0f us/tx)\n",
               embedded.latency_ms, embedded.per_tx_us, embedded.tx_per_s, embedded.broadcast_us);

  // Ours: four CometBFT validators.
  Figures comet;
  {
    abci::LocalNetworkOptions o;
    o.dir = home + "/cometbft";
    o.validators = 4;
    o.cometbft_path = cometbft;
    o.cmln_path = cmln;
    o.app_genesis = json::parse(std::ifstream(home + "/config/genesis.json"));
    o.timeout_commit = "100ms";
    auto net = Must(abci::LocalNetwork::Prepare(o), "cometbft network");
    Status up = net->StartAll(2, std::chrono::seconds(120));
    if (!up.ok()) Die(up.error().ToString());
    ChildProcess rest("rest", home + "/rest.log");
    if (!rest.Start({cmln, "chain", "rest", "--comet", net->validator(0).rpc_url(), "--listen", "127.0.0.1:0"}).ok()) {
      Die("cannot start cmln chain rest");
    }
    const std::string url = rest.WaitListening(std::chrono::seconds(30)).value_or("");
    if (url.empty()) Die("cmln chain rest did not start: " + rest.RunLog());
    comet = Measure(url, alice, bob);
    rest.Stop(std::chrono::seconds(10));
    net->StopAll(std::chrono::seconds(10));
  }
  std::fprintf(stderr, "4 CometBFT validators (100 ms):   latency %7.1f ms   load %8.0f us/tx  %6.0f tx/s  (admission %6.0f us/tx)\n",
               comet.latency_ms, comet.per_tx_us, comet.tx_per_s, comet.broadcast_us);
  fs::remove_all(home);

  const json out = {{"name", "chain-cometbft"},
                    {"ours_us", std::round(comet.per_tx_us * 10) / 10},
                    {"peer", "embedded-chain"},
                    {"peer_us", std::round(embedded.per_tx_us * 10) / 10},
                    {"ratio", std::round(comet.per_tx_us / embedded.per_tx_us * 1000) / 1000},
                    {"validators", 4},
                    {"load_txs", kLoadTxs},
                    {"ours_tx_per_s", std::round(comet.tx_per_s)},
                    {"peer_tx_per_s", std::round(embedded.tx_per_s)},
                    {"ours_latency_ms", std::round(comet.latency_ms * 10) / 10},
                    {"peer_latency_ms", std::round(embedded.latency_ms * 10) / 10},
                    {"ours_admission_us", std::round(comet.broadcast_us * 10) / 10},
                    {"peer_admission_us", std::round(embedded.broadcast_us * 10) / 10}};
  std::cout << out.dump() << std::endl;
  return 0;
}
