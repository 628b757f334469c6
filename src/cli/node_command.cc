// `cmln node start --config FILE`: the Confidential MLNode server (src/node/server.h, docs/node.md).
//
// Prints one JSON line {"listening": "HOST:PORT", "node_id", "chain_id", "epoch", "key_id"} on stdout
// once it is attested and serving, logs JSON lines on stderr, and runs until SIGINT/SIGTERM (exit 0:
// the last usage is sealed and submitted once first). Exit 1 if boot fails (the reason on stderr), 2 for
// a configuration that does not parse.
#include <pthread.h>
#include <signal.h>

#include <iostream>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "node/config.h"
#include "node/server.h"

namespace cmln::cli {

namespace {

std::string g_config_path;

void RunStart() {
  auto config = node::LoadNodeConfig(g_config_path);
  if (!config.ok()) {
    std::cerr << "error: " << config.error().ToString() << "\n";
    SetExitCode(2);
    return;
  }
  // Every thread the server starts inherits this mask; one thread waits for the signals and stops it.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto server = node::NodeServer::Create(std::move(*config));
  if (!server.ok()) {
    std::cerr << "error: " << server.error().ToString() << "\n";
    SetExitCode(1);
    return;
  }
  node::NodeServer& s = **server;
  std::thread waiter([&s, signals] {
    int sig = 0;
    sigwait(&signals, &sig);
    s.Stop();
  });
  Status st = s.Start();
  if (!st.ok()) {
    std::cerr << "error: " << st.error().ToString() << "\n";
    SetExitCode(1);
    pthread_kill(waiter.native_handle(), SIGTERM);
    waiter.join();
    return;
  }
  auto keys = s.keys();
  nlohmann::json line = {{"listening", "127.0.0.1:" + std::to_string(s.port())},
                         {"chain_id", s.chain_id()},
                         {"epoch", keys ? keys->epoch : 0},
                         {"key_id", keys ? keys->key_id : 0}};
  std::cout << line.dump() << std::endl;
  s.Wait();
  waiter.join();
  s.Stop();
}

}  // namespace

void RegisterNode(CLI::App& app) {
  CLI::App* node = app.add_subcommand("node", "Run the Confidential MLNode server");
  node->require_subcommand(1);
  CLI::App* start = node->add_subcommand("start", "Boot, attest and serve encrypted inference");
  start->add_option("--config", g_config_path, "Configuration file (JSON, docs/node.md)")->required();
  start->callback(RunStart);
}

}  // namespace cmln::cli
