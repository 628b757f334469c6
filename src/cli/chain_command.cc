// `cmln chain init|start`: the embedded single-node chain (src/chain/node.h).
//
//   cmln chain init  --home DIR [--chain-id ID] [--epoch-length N] [--allow-simulated-tee [--sim-pki DIR2]]
//                    [--genesis-time UNIX] [--model ID=PRICE]... [--host NAME]...
//   cmln chain start --home DIR [--listen HOST:PORT] [--block-interval-ms N]
//
// init prints {"home", "chain_id", "genesis", "keys": {name: address}} (+ "sim_pki": dir with
// --allow-simulated-tee) and exits 0 (1 if DIR is already initialized). With --allow-simulated-tee the
// genesis trusts a development PKI: DIR2 if given, else a new one written to DIR/sim-pki (node.h).
// start prints one JSON line {"listening": "HOST:PORT", "height", "app_hash"} once the
// REST API is bound, then produces blocks until SIGINT/SIGTERM (exit 0) or a store failure (exit 1).
#include <atomic>
#include <chrono>
#include <csignal>
#include <thread>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "chain/attestation_verifier.h"
#include "chain/node.h"
#include "cli/commands.h"

namespace cmln::cli {

namespace {

struct InitOpts {
  std::string home;
  std::string chain_id = "cmln-devnet";
  uint64_t epoch_length = 20;
  bool allow_sim = false;
  int64_t genesis_time = 0;
  std::vector<std::string> models;
  std::string sim_pki;
  std::vector<std::string> hosts;
} g_init;

struct StartOpts {
  std::string home;
  std::string listen = "127.0.0.1:26657";
  int interval_ms = 1000;
} g_start;

chain::Node* g_node = nullptr;

void OnSignal(int) {
  if (g_node != nullptr) g_node->Stop();
}

void Fail(const Error& e) {
  std::cerr << "error: " << e.ToString() << "\n";
  SetExitCode(1);
}

void RunInit() {
  chain::InitOptions o;
  o.chain_id = g_init.chain_id;
  o.epoch_length = g_init.epoch_length;
  o.allow_simulated_tee = g_init.allow_sim;
  o.genesis_time = g_init.genesis_time;
  o.sim_pki_dir = g_init.sim_pki;
  if (!g_init.hosts.empty()) o.hosts = g_init.hosts;
  if (!g_init.models.empty()) {
    o.model_prices.clear();
    for (const auto& m : g_init.models) {
      auto eq = m.find('=');
      if (eq == std::string::npos || eq == 0) {
        std::cerr << "error: --model wants ID=PRICE\n";
        SetExitCode(2);
        return;
      }
      o.model_prices.emplace_back(m.substr(0, eq), std::stoull(m.substr(eq + 1)));
    }
  }
  Status st = chain::InitHome(g_init.home, o);
  if (!st.ok()) return Fail(st.error());
  nlohmann::json keys = nlohmann::json::object();
  for (const auto& entry : std::filesystem::directory_iterator(g_init.home + "/keys")) {
    std::ifstream in(entry.path());
    auto j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_object()) keys[j.value("name", "")] = j.value("address", "");
  }
  nlohmann::json out = {{"home", g_init.home},
                        {"chain_id", o.chain_id},
                        {"genesis", g_init.home + "/config/genesis.json"},
                        {"keys", keys}};
  if (o.allow_simulated_tee) out["sim_pki"] = o.sim_pki_dir.empty() ? g_init.home + "/sim-pki" : o.sim_pki_dir;
  std::cout << out.dump() << "\n";
}

void RunStart() {
  chain::NodeOptions o;
  o.home = g_start.home;
  auto colon = g_start.listen.rfind(':');
  if (colon == std::string::npos) {
    std::cerr << "error: --listen wants HOST:PORT\n";
    SetExitCode(2);
    return;
  }
  o.listen_host = g_start.listen.substr(0, colon);
  o.port = std::stoi(g_start.listen.substr(colon + 1));
  o.block_interval_ms = g_start.interval_ms;
  // Bundles and collateral are verified by the attest library (attest/bundle.h) against the pinned
  // vendor roots and, for simulated platforms on chains that allow them, genesis tee_trust.sim.
  static chain::AttestLibraryVerifier verifier;
  auto node = chain::Node::Open(o, &verifier);
  if (!node.ok()) return Fail(node.error());
  g_node = node->get();
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::atomic<bool> done{false};
  std::thread announcer([&] {
    while ((*node)->port() == 0) {
      if (done.load()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    auto st = (*node)->Query("status");
    nlohmann::json j = {{"listening", o.listen_host + ":" + std::to_string((*node)->port())}};
    if (st.ok()) {
      j["height"] = (*st)["height"];
      j["app_hash"] = (*st)["app_hash"];
    }
    std::cout << j.dump() << std::endl;
  });
  Status st = (*node)->Run();
  done = true;
  announcer.join();
  g_node = nullptr;
  if (!st.ok()) return Fail(st.error());
}

}  // namespace

void RegisterChain(CLI::App& app) {
  auto* cmd = app.add_subcommand("chain", "Run the embedded single-node chain");
  cmd->require_subcommand(1);
  auto* init = cmd->add_subcommand("init", "Create a home directory: genesis, authority/validator/demo keys");
  init->add_option("--home", g_init.home, "Home directory")->required();
  init->add_option("--chain-id", g_init.chain_id, "Chain id");
  init->add_option("--epoch-length", g_init.epoch_length, "Blocks per epoch");
  init->add_flag("--allow-simulated-tee", g_init.allow_sim, "Accept sim-tdx/sim-snp evidence (devnets only)");
  init->add_option("--sim-pki", g_init.sim_pki, "Reuse this development PKI (default: a new one in HOME/sim-pki)");
  init->add_option("--genesis-time", g_init.genesis_time, "Genesis time (unix seconds; default now)");
  init->add_option("--model", g_init.models, "Model price ID=NGONKA_PER_TOKEN (repeatable)");
  init->add_option("--host", g_init.hosts, "Host participant key name, weight 100 (repeatable; default host)");
  init->callback(RunInit);
  auto* start = cmd->add_subcommand("start", "Produce blocks and serve the REST API");
  start->add_option("--home", g_start.home, "Home directory")->required();
  start->add_option("--listen", g_start.listen, "REST listen address HOST:PORT (port 0 = any)");
  start->add_option("--block-interval-ms", g_start.interval_ms, "Block interval in milliseconds");
  start->callback(RunStart);
}

}  // namespace cmln::cli
