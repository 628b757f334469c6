// `cmln query …`: read chain state from a node's REST API and print the JSON.
//
//   cmln query <what> [--node URL]
//     status | params | supply | participants | collateral | releases
//     account ADDR | earnings ADDR | release ID | escrow ID | epoch [N|current] | tx HASH | block HEIGHT
//     attestations [--model M | --node-id N] | escrows [--creator ADDR]
// Exit 0 on success; 1 with {"error": {code, message}} when the node refuses or is unreachable.
#include <iostream>
#include <nlohmann/json.hpp>

#include "chain/rest_client.h"
#include "cli/commands.h"

namespace cmln::cli {

namespace {

struct QueryOpts {
  std::string node = "http://127.0.0.1:26657";
  std::string arg;
  std::string model, node_id, creator;
} g_q;

void Run(const std::string& path) {
  chain::RestClient client(g_q.node);
  auto r = client.Get(path);
  if (!r.ok()) {
    std::cout << nlohmann::json{{"error", {{"code", std::string(ErrorCodeName(r.error().code()))}, {"message", r.error().message()}}}}.dump()
              << "\n";
    SetExitCode(1);
    return;
  }
  std::cout << r->dump() << "\n";
  SetExitCode(0);
}

CLI::App* What(CLI::App* q, const char* name, const char* help) {
  auto* c = q->add_subcommand(name, help);
  c->add_option("--node", g_q.node, "Chain REST URL");
  return c;
}

}  // namespace

void RegisterQuery(CLI::App& app) {
  auto* q = app.add_subcommand("query", "Query chain state over REST");
  q->require_subcommand(1);
  for (const char* fixed : {"status", "params", "supply", "participants", "collateral", "releases"}) {
    What(q, fixed, "Fixed view")->callback([fixed] { Run(std::string("/") + fixed); });
  }
  struct OneArg {
    const char* name;
    const char* prefix;
  };
  for (OneArg a : {OneArg{"account", "/accounts/"}, OneArg{"earnings", "/earnings/"}, OneArg{"release", "/releases/"},
                   OneArg{"escrow", "/escrows/"}, OneArg{"tx", "/txs/"}, OneArg{"block", "/blocks/"}}) {
    auto* c = What(q, a.name, "One record");
    c->add_option("id", g_q.arg)->required();
    std::string prefix = a.prefix;
    c->callback([prefix] { Run(prefix + g_q.arg); });
  }
  auto* ep = What(q, "epoch", "An epoch (default current)");
  ep->add_option("n", g_q.arg);
  ep->callback([] { Run("/epochs/" + (g_q.arg.empty() ? std::string("current") : g_q.arg)); });
  auto* att = What(q, "attestations", "TEE attestations (all, by model or by node)");
  att->add_option("--model", g_q.model);
  att->add_option("--node-id", g_q.node_id);
  att->callback([] {
    if (!g_q.node_id.empty()) return Run("/attestations?node=" + g_q.node_id);
    if (!g_q.model.empty()) return Run("/attestations?model=" + g_q.model);
    Run("/attestations");
  });
  auto* esc = What(q, "escrows", "Escrows (all or by creator)");
  esc->add_option("--creator", g_q.creator);
  esc->callback([] { Run(g_q.creator.empty() ? std::string("/escrows") : "/escrows?creator=" + g_q.creator); });
}

}  // namespace cmln::cli
