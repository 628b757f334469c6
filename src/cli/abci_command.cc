// `cmln chain abci`: the chain as a CometBFT v0.38 ABCI 2.0 application (src/abci/, docs/cometbft.md).
//
//   cmln chain abci --home DIR [--listen unix:///path | tcp://127.0.0.1:PORT]
//
// Opens DIR/data/chain.db (created if missing; genesis arrives with CometBFT's InitChain as app_state),
// prints one JSON line {"listening", "height", "app_hash"} once bound, then serves CometBFT until SIGINT or
// SIGTERM (exit 0). Exit 1 if the store or the socket cannot be opened, 2 for usage errors.
// Test-only: CMLN_ABCI_CRASH_BEFORE_COMMIT_AT_HEIGHT=N makes the process _exit(86) when Commit arrives for
// block N, after FinalizeBlock and before anything of the block is written.
//
//   cmln chain rest --comet http://127.0.0.1:26657 [--listen 127.0.0.1:1317]
//
// The embedded node's REST API in front of a CometBFT node (abci/rest_proxy.h), so `cmln tx` and
// `cmln query --node URL` work unchanged against a CometBFT network. Prints {"listening", "comet"} once bound.
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <thread>

#include <nlohmann/json.hpp>

#include "abci/abci_app.h"
#include "abci/rest_proxy.h"
#include "abci/server.h"
#include "chain/attestation_verifier.h"
#include "cli/commands.h"

namespace cmln::cli {

namespace {

struct AbciOpts {
  std::string home;
  std::string listen = "tcp://127.0.0.1:26658";
} g_abci;

struct RestOpts {
  std::string comet = "http://127.0.0.1:26657";
  std::string listen = "127.0.0.1:1317";
} g_rest;

abci::AbciServer* g_server = nullptr;
abci::CometRestProxy* g_proxy = nullptr;

void OnAbciSignal(int) {
  if (g_server != nullptr) g_server->RequestStop();
}

void OnRestSignal(int) {
  if (g_proxy != nullptr) g_proxy->Stop();
}

void RunRest() {
  auto colon = g_rest.listen.rfind(':');
  if (colon == std::string::npos) {
    std::cerr << "error: --listen wants HOST:PORT\n";
    SetExitCode(2);
    return;
  }
  abci::CometRestProxy proxy(g_rest.comet, g_rest.listen.substr(0, colon), std::stoi(g_rest.listen.substr(colon + 1)));
  g_proxy = &proxy;
  std::signal(SIGINT, OnRestSignal);
  std::signal(SIGTERM, OnRestSignal);
  std::thread announcer([&] {
    for (int i = 0; i < 500 && proxy.port() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (proxy.port() == 0) return;
    std::cout << nlohmann::json{{"listening", g_rest.listen.substr(0, colon) + ":" + std::to_string(proxy.port())},
                                {"comet", g_rest.comet}}
                     .dump()
              << std::endl;
  });
  Status st = proxy.Run();
  announcer.join();
  g_proxy = nullptr;
  if (!st.ok()) {
    std::cerr << "error: " << st.error().ToString() << "\n";
    SetExitCode(1);
  }
}

void RunAbci() {
  std::error_code ec;
  std::filesystem::create_directories(g_abci.home + "/data", ec);
  if (ec) {
    std::cerr << "error: cannot create " << g_abci.home << "/data: " << ec.message() << "\n";
    SetExitCode(1);
    return;
  }
  abci::AbciOptions o;
  o.db_path = g_abci.home + "/data/chain.db";
  if (const char* crash = std::getenv("CMLN_ABCI_CRASH_BEFORE_COMMIT_AT_HEIGHT"); crash != nullptr && *crash != '\0') {
    char* end = nullptr;
    unsigned long long h = std::strtoull(crash, &end, 10);
    if (end == nullptr || *end != '\0') {
      std::cerr << "error: CMLN_ABCI_CRASH_BEFORE_COMMIT_AT_HEIGHT wants a height\n";
      SetExitCode(2);
      return;
    }
    o.crash_before_commit_at = h;
  }
  // The same verifier as `cmln chain start`: pinned vendor roots, genesis tee_trust for simulated platforms.
  static chain::AttestLibraryVerifier verifier;
  auto app = abci::AbciApplication::Open(o, &verifier);
  if (!app.ok()) {
    std::cerr << "error: " << app.error().ToString() << "\n";
    SetExitCode(1);
    return;
  }
  auto server = abci::AbciServer::Listen(g_abci.listen, app->get());
  if (!server.ok()) {
    std::cerr << "error: " << server.error().ToString() << "\n";
    SetExitCode(server.error().code() == ErrorCode::kInvalidArgument ? 2 : 1);
    return;
  }
  g_server = server->get();
  std::signal(SIGINT, OnAbciSignal);
  std::signal(SIGTERM, OnAbciSignal);
  std::cout << nlohmann::json{{"listening", (*server)->bound_address()},
                              {"height", (*app)->height()},
                              {"app_hash", HexEncode((*app)->app_hash())}}
                   .dump()
            << std::endl;
  Status st = (*server)->Serve();
  g_server = nullptr;
  if (!st.ok()) {
    std::cerr << "error: " << st.error().ToString() << "\n";
    SetExitCode(1);
  }
}

}  // namespace

void RegisterChainAbci(CLI::App& chain) {
  auto* cmd = chain.add_subcommand("abci", "Serve the chain to CometBFT v0.38 over ABCI 2.0 (socket)");
  cmd->add_option("--home", g_abci.home, "Home directory (data/chain.db)")->required();
  cmd->add_option("--listen", g_abci.listen, "unix:///PATH or tcp://HOST:PORT");
  cmd->callback(RunAbci);
  auto* rest = chain.add_subcommand("rest", "The chain's REST API in front of a CometBFT node (abci_query, broadcast_tx_sync)");
  rest->add_option("--comet", g_rest.comet, "CometBFT RPC URL");
  rest->add_option("--listen", g_rest.listen, "REST listen address HOST:PORT (port 0 = any)");
  rest->callback(RunRest);
}

}  // namespace cmln::cli
