// `cmln devnet`: the whole system on one machine, in one command (DESIGN section 2, docs/client.md):
// a chain that accepts simulated TEEs, N Confidential MLNodes serving the demo model under the TEE
// simulator, and the OpenAI-compatible proxy for the demo user, all on loopback.
//
//   cmln devnet [--nodes N] [--validators V] [--home DIR] [--proxy-listen 127.0.0.1:PORT]
//               [--chain-listen 127.0.0.1:PORT] [--model-path FILE] [--model-id ID] [--sim-pki DIR]
//               [--cometbft PATH]
//
// First start (DIR/chain/config/genesis.json absent): genesis as `cmln chain init --allow-simulated-tee`
// (demo accounts alice and bob, hosts host1..hostN, a development PKI in DIR/chain/sim-pki). Every start:
//   1. the chain: with --validators 0 (default) `cmln chain start`, the embedded block producer; with
//      --validators V, V CometBFT v0.38 validators on loopback, each with its own `cmln chain abci`
//      (abci::LocalNetwork under DIR/cometbft, ~2 blocks/s), and `cmln chain rest` in front of
//      validator-0 serving the same REST API, so nodes, proxy and `cmln chat` work unchanged;
//   2. the sim-tdx release of the demo model, registered by the authority if the chain lacks it
//      (model_digest = SHA-256 of the weights file, measurements = kDevnetMeasurements below, which the
//      nodes' simulator reports);
//   3. N `cmln node start` processes (configs in DIR/nodes/node-K/config.json, rewritten each start),
//      waiting until each is attested and its record is VERIFIED on chain;
//   4. `cmln proxy` for alice, trusting the devnet's development PKI;
//   5. DIR/client.json, the config `cmln chat --config DIR/client.json` uses.
// Progress lines go to stdout while it starts; then a summary of where each part listens and one JSON
// line {"devnet": "ready", "home", "chain", "proxy", "nodes": [{"node_id", "endpoint"}], "client_config"
// [, "validators": [{"validator", "rpc", "node_id"}]]}.
// Logs of every child: DIR/logs/*.log (and DIR/cometbft/logs/). A second start reuses DIR (same genesis,
// keys, PKI and, with validators, the same CometBFT homes and stores); DIR/devnet.json records the
// first start's choices, and a start with another --validators is refused.
// SIGINT/SIGTERM stops every child (proxy, nodes, the chain REST API, then each CometBFT before its app:
// SIGTERM, SIGKILL after 20 s) and exits 0. If the chain REST API or the proxy dies the devnet stops and
// exits 1; a node or validator that dies is reported and the rest keep running. Exit 1 if starting
// fails (the reason and the log to read on stderr).
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "abci/local_network.h"
#include "chain/node.h"
#include "chain/proto/tx.pb.h"
#include "chain/rest_client.h"
#include "cli/commands.h"
#include "client/client_options.h"
#include "common/child_process.h"
#include "common/durable_file.h"
#include "seal/crypto.h"

namespace cmln::cli {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr const char* kDevnetModelId = "smollm2-135m-instruct";
constexpr const char* kDevnetReleaseId = "devnet-smollm2-sim-tdx-1";
constexpr const char* kDefaultModelFile = "models/SmolLM2-135M-Instruct.Q4_1.gguf";
constexpr uint64_t kDevnetEpochLength = 3600;  // blocks of 1 s: escrows stay open for an hour
constexpr auto kStartTimeout = std::chrono::minutes(3);
constexpr auto kStopGrace = std::chrono::seconds(20);
// CometBFT pacing for --validators: about two blocks a second.
constexpr const char* kCometTimeoutCommit = "500ms";
constexpr const char* kCometTimeoutPropose = "1s";

struct DevnetOpts {
  int nodes = 2;
  std::string home;
  std::string proxy_listen = "127.0.0.1:8080";
  std::string chain_listen = "127.0.0.1:26657";
  std::string model_path;
  std::string model_id = kDevnetModelId;
  std::string sim_pki;  // reuse this development PKI at first start instead of generating one
  int validators = 0;   // 0: the embedded chain; N: N CometBFT validators
  std::string cometbft;  // the cometbft binary (default: abci::FindCometbft)
} g_dev;

// The simulated measurements of the devnet image: what the nodes' simulator reports and the release
// approves. Fixed, so a second start (or a second devnet) approves the same "image".
std::map<std::string, Bytes> DevnetMeasurements() {
  std::map<std::string, Bytes> m;
  for (const char* name : {"MRTD", "RTMR0", "RTMR1", "RTMR2"}) {
    const seal::Digest32 d = seal::Sha256(AsBytes(std::string("cmln devnet image v1 ") + name));
    Bytes v(d.begin(), d.end());
    v.resize(48, 0x00);
    m[name] = v;
  }
  return m;
}

void Say(const std::string& line) { std::cout << "devnet: " << line << std::endl; }

Result<seal::Digest32> HashFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(ErrorCode::kNotFound, path + ": cannot open (run scripts/setup for the demo model)");
  seal::Sha256Hasher h;
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    h.Update(ByteView(reinterpret_cast<const uint8_t*>(buf.data()), static_cast<size_t>(in.gcount())));
  }
  return h.Finish();
}

std::string DefaultModelPath() {
  if (fs::exists(kDefaultModelFile)) return fs::absolute(kDefaultModelFile).string();
  // Next to the build directory of this binary (build/cmln -> ../models/...).
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    for (fs::path dir = exe.parent_path(); !dir.empty() && dir != dir.root_path(); dir = dir.parent_path()) {
      if (fs::exists(dir / kDefaultModelFile)) return (dir / kDefaultModelFile).string();
    }
  }
  return fs::absolute(kDefaultModelFile).string();
}

// Registers the devnet release unless the chain has it.
Status EnsureRelease(const std::string& chain_url, const std::string& chain_home, const seal::Digest32& digest) {
  chain::RestClient rest(chain_url);
  if (rest.Get(std::string("/releases/") + kDevnetReleaseId).ok()) return OkStatus();
  CMLN_ASSIGN_OR_RETURN(seal::AccountPrivateKey authority, chain::LoadKeyFile(chain_home + "/keys/authority.json"));
  CMLN_ASSIGN_OR_RETURN(json params, rest.Get("/params"));
  chain::v1::Msg msg;
  auto* reg = msg.mutable_register_release();
  reg->set_authority(seal::AccountAddressToString(seal::AccountAddressFromPublicKey(authority.public_key())));
  auto* r = reg->mutable_release();
  r->set_release_id(kDevnetReleaseId);
  r->set_platform("sim-tdx");
  for (const auto& [name, value] : DevnetMeasurements()) {
    auto* m = r->add_measurements();
    m->set_name(name);
    m->set_value(std::string(AsChars(value)));
  }
  r->set_model_id(g_dev.model_id);
  r->set_model_digest(std::string(reinterpret_cast<const char*>(digest.data()), digest.size()));
  r->set_engine("builtin");
  r->set_min_tcb("UpToDate");
  const uint64_t fee = params.contains("min_tx_fee") ? std::stoull(params["min_tx_fee"].get<std::string>()) : 0;
  CMLN_ASSIGN_OR_RETURN(json tx, rest.SignAndBroadcast(authority, {msg}, fee, /*wait=*/true));
  if (tx.value("code", -1) != 0) return Error(ErrorCode::kInternal, "register release: " + tx.value("log", std::string()));
  return OkStatus();
}

// Waits until the chain lists every node of `ids` as VERIFIED for the model.
Status WaitVerified(const std::string& chain_url, const std::set<std::string>& ids, int timeout_ms) {
  chain::RestClient rest(chain_url);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    auto list = rest.Get("/attestations?model=" + g_dev.model_id);
    if (list.ok() && list->is_array()) {
      std::set<std::string> verified;
      for (const auto& a : *list) {
        if (a.value("status", "") == "ATTESTATION_STATUS_VERIFIED") verified.insert(a.value("node_id", ""));
      }
      bool all = true;
      for (const auto& id : ids) all = all && verified.count(id) > 0;
      if (all) return OkStatus();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return Error(ErrorCode::kIoError, "nodes not VERIFIED on chain in time");
}

void RunDevnet() {
  if (g_dev.nodes < 1 || g_dev.nodes > 16) {
    std::cerr << "error: --nodes must be 1..16\n";
    return SetExitCode(2);
  }
  if (g_dev.validators < 0 || g_dev.validators > 16) {
    std::cerr << "error: --validators must be 0..16 (0: the embedded chain)\n";
    return SetExitCode(2);
  }
  if (g_dev.home.empty()) {
    const char* h = std::getenv("HOME");
    g_dev.home = std::string(h != nullptr ? h : ".") + "/.cmln/devnet";
  }
  g_dev.home = fs::absolute(g_dev.home).lexically_normal().string();
  if (g_dev.model_path.empty()) g_dev.model_path = DefaultModelPath();
  std::string ph;
  int pp = 0;
  if (!client::ParseHostPort(g_dev.proxy_listen, ph, pp).ok() || !client::ParseHostPort(g_dev.chain_listen, ph, pp).ok()) {
    std::cerr << "error: --proxy-listen / --chain-listen want HOST:PORT\n";
    return SetExitCode(2);
  }
  const std::string home = g_dev.home;
  const std::string chain_home = home + "/chain";
  const std::string logs = home + "/logs";
  std::error_code ec;
  fs::create_directories(logs, ec);

  // Signals are taken by sigwait on a dedicated thread; children get them unblocked (ChildProcess::Start).
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::atomic<bool> stop{false};
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    stop = true;
  });

  const std::string self = SelfExecutablePath();
  std::vector<std::unique_ptr<ChildProcess>> nodes;
  // The chain's REST API: `cmln chain start` (embedded) or `cmln chain rest` in front of CometBFT.
  ChildProcess chain_proc("chain", logs + "/chain.log");
  ChildProcess proxy_proc("proxy", logs + "/proxy.log");
  std::unique_ptr<abci::LocalNetwork> network;  // --validators N
  auto shutdown = [&](int code) {
    Say("stopping");
    proxy_proc.Stop(kStopGrace);
    for (auto& n : nodes) n->Stop(kStopGrace);
    chain_proc.Stop(kStopGrace);
    if (network) network->StopAll(kStopGrace);
    if (!stop) {
      stop = true;
      pthread_kill(waiter.native_handle(), SIGTERM);
    }
    waiter.join();
    Say("stopped");
    SetExitCode(code);
  };
  auto fail = [&](const std::string& why, const std::string& log) {
    std::cerr << "devnet: error: " << why << (log.empty() ? "" : " (see " + log + ")") << "\n";
    shutdown(1);
  };

  // 0. Genesis, once.
  Say("home " + home);
  if (!fs::exists(chain_home + "/config/genesis.json")) {
    Say("first start: genesis with demo accounts alice, bob and " + std::to_string(g_dev.nodes) + " host accounts; " +
        (g_dev.sim_pki.empty() ? std::string("generating the development PKI (RSA-4096, a few seconds)")
                               : "reusing the development PKI " + g_dev.sim_pki));
    chain::InitOptions init;
    init.allow_simulated_tee = true;
    init.epoch_length = kDevnetEpochLength;
    init.model_prices = {{g_dev.model_id, 1}};
    init.sim_pki_dir = g_dev.sim_pki;
    init.hosts.clear();
    for (int i = 1; i <= g_dev.nodes; ++i) init.hosts.push_back("host" + std::to_string(i));
    Status st = chain::InitHome(chain_home, init);
    if (!st.ok()) return fail("chain init: " + st.error().ToString(), "");
  } else {
    Say("reusing the existing genesis, keys and development PKI");
  }
  for (int i = 1; i <= g_dev.nodes; ++i) {
    if (!fs::exists(chain_home + "/keys/host" + std::to_string(i) + ".json")) {
      return fail("this home was made for fewer nodes (no keys/host" + std::to_string(i) + ".json); use --nodes " +
                      std::to_string(i - 1) + " or a new --home",
                  "");
    }
  }

  // DIR/devnet.json remembers what the first start chose: the PKI genesis trusts (DIR/chain/sim-pki, or
  // the one --sim-pki named) and the consensus (embedded, or N CometBFT validators), which a later start
  // must not change under the same chain state.
  std::string sim_pki = chain_home + "/sim-pki";
  if (!fs::exists(home + "/devnet.json")) {
    json first = {{"validators", g_dev.validators}};
    if (!g_dev.sim_pki.empty()) first["sim_pki"] = fs::absolute(g_dev.sim_pki).string();
    Status w = WriteFileDurably(home + "/devnet.json", AsBytes(first.dump() + "\n"));
    if (!w.ok()) return fail(w.error().ToString(), "");
  }
  {
    std::ifstream in(home + "/devnet.json");
    auto j = json::parse(in, nullptr, false);
    if (j.is_object() && j.contains("sim_pki") && j["sim_pki"].is_string()) sim_pki = j["sim_pki"].get<std::string>();
    const int recorded = j.is_object() && j.contains("validators") && j["validators"].is_number_integer()
                             ? j["validators"].get<int>()
                             : 0;  // homes from before --validators ran the embedded chain
    if (recorded != g_dev.validators) {
      return fail("this home runs " +
                      (recorded == 0 ? std::string("the embedded chain") : std::to_string(recorded) + " validators") +
                      "; use --validators " + std::to_string(recorded) + " or a new --home",
                  "");
    }
  }

  // 1. The chain: embedded, or N CometBFT validators with the REST API in front of validator 0.
  if (g_dev.validators == 0) {
    Say("starting the chain (embedded block producer)");
    Status started = chain_proc.Start({self, "chain", "start", "--home", chain_home, "--listen", g_dev.chain_listen});
    if (!started.ok()) return fail(started.error().ToString(), "");
  } else {
    auto cometbft = g_dev.cometbft.empty() ? abci::FindCometbft(self) : Result<std::string>(g_dev.cometbft);
    if (!cometbft.ok()) return fail(cometbft.error().ToString(), "");
    std::ifstream genesis_in(chain_home + "/config/genesis.json");
    abci::LocalNetworkOptions net;
    net.dir = home + "/cometbft";
    net.validators = g_dev.validators;
    net.cometbft_path = *cometbft;
    net.cmln_path = self;
    net.app_genesis = json::parse(genesis_in, nullptr, false);
    net.timeout_commit = kCometTimeoutCommit;
    net.timeout_propose = kCometTimeoutPropose;
    Say("starting " + std::to_string(g_dev.validators) + " CometBFT validators, each with its own `cmln chain abci`");
    auto prepared = abci::LocalNetwork::Prepare(net);
    if (!prepared.ok()) return fail("cometbft network: " + prepared.error().ToString(), net.dir + "/logs");
    network = std::move(*prepared);
    Status up = network->StartAll(/*height=*/2, kStartTimeout);
    if (!up.ok()) return fail(up.error().ToString(), net.dir + "/logs");
    for (int i = 0; i < network->size(); ++i) {
      Say("validator-" + std::to_string(i) + " producing blocks; CometBFT RPC " + network->validator(i).rpc_url());
    }
    Status started = chain_proc.Start(
        {self, "chain", "rest", "--comet", network->validator(0).rpc_url(), "--listen", g_dev.chain_listen});
    if (!started.ok()) return fail(started.error().ToString(), "");
  }
  const std::string chain_url = chain_proc.WaitListening(std::chrono::seconds(60)).value_or("");
  if (chain_url.empty()) return fail("the chain did not start", chain_proc.log_path());
  Say("chain REST API on " + chain_url);

  // 2. The release of the demo model.
  Say("hashing the model " + g_dev.model_path);
  auto digest = HashFile(g_dev.model_path);
  if (!digest.ok()) return fail(digest.error().ToString(), "");
  Status rel = EnsureRelease(chain_url, chain_home, *digest);
  if (!rel.ok()) return fail("release: " + rel.error().ToString(), chain_proc.log_path());
  Say(std::string("release ") + kDevnetReleaseId + " approves model " + g_dev.model_id + " sha256 " +
      HexEncode(*digest).substr(0, 16) + "…");

  // 3. The nodes.
  json measurements = json::object();
  for (const auto& [k, v] : DevnetMeasurements()) measurements[k] = HexEncode(v);
  std::set<std::string> ids;
  json node_summary = json::array();
  for (int i = 1; i <= g_dev.nodes; ++i) {
    const std::string id = "node-" + std::to_string(i);
    const std::string dir = home + "/nodes/" + id;
    fs::create_directories(dir + "/data", ec);
    json config = {{"node_id", id},
                   {"chain_rest_url", chain_url},
                   {"host_key_file", chain_home + "/keys/host" + std::to_string(i) + ".json"},
                   {"listen_host", "127.0.0.1"},
                   {"listen_port", 0},
                   {"model_id", g_dev.model_id},
                   {"model_path", g_dev.model_path},
                   {"engine_threads", 1},
                   {"platform", "sim-tdx"},
                   {"release_id", kDevnetReleaseId},
                   {"sim_pki_dir", sim_pki},
                   {"sim_measurements", measurements},
                   {"data_dir", dir + "/data"},
                   {"batch_interval_ms", 2000}};
    Status w = WriteFileDurably(dir + "/config.json", AsBytes(config.dump(2) + "\n"));
    if (!w.ok()) return fail(w.error().ToString(), "");
    auto proc = std::make_unique<ChildProcess>(id, logs + "/" + id + ".log");
    Say("starting " + id + " (simulated TDX, built-in engine)");
    Status started = proc->Start({self, "node", "start", "--config", dir + "/config.json"});
    if (!started.ok()) return fail(started.error().ToString(), "");
    nodes.push_back(std::move(proc));
    ids.insert(id);
  }
  for (auto& n : nodes) {
    const std::string url = n->WaitListening(kStartTimeout).value_or("");
    if (url.empty()) return fail(n->name() + " did not start", n->log_path());
    node_summary.push_back({{"node_id", n->name()}, {"endpoint", url}});
    Say(n->name() + " attested and serving on " + url);
  }
  Status verified = WaitVerified(chain_url, ids, 60000);
  if (!verified.ok()) return fail(verified.error().ToString(), chain_proc.log_path());
  Say("every node's attestation is VERIFIED on chain");

  // 4. The proxy for alice; 5. the client config for `cmln chat`.
  const std::string alice_key = chain_home + "/keys/alice.json";

  Say("starting the OpenAI-compatible proxy (it verifies every node itself)");
  Status proxy_started = proxy_proc.Start({self, "proxy", "--listen", g_dev.proxy_listen, "--chain", chain_url,
                                           "--key", alice_key, "--allow-simulated", "--sim-trust", sim_pki});
  if (!proxy_started.ok()) return fail(proxy_started.error().ToString(), "");
  const std::string proxy_url = proxy_proc.WaitListening(std::chrono::seconds(60)).value_or("");
  if (proxy_url.empty()) return fail("the proxy did not start", proxy_proc.log_path());
  const std::string client_config = home + "/client.json";
  json cc = {{"chain", chain_url}, {"key", alice_key}, {"allow_simulated", true}, {"sim_trust", sim_pki},
             {"model", g_dev.model_id}};
  Status wc = WriteFileDurably(client_config, AsBytes(cc.dump(2) + "\n"));
  if (!wc.ok()) return fail(wc.error().ToString(), "");

  std::cout << "\n"
            << "  chain    " << chain_url << "   (REST; home " << chain_home << ")\n";
  json validator_summary = json::array();
  for (int i = 0; network && i < network->size(); ++i) {
    const abci::LocalValidator& v = network->validator(i);
    std::cout << "  cometbft " << v.rpc_url() << "   (validator-" << i << " RPC; p2p 127.0.0.1:" << v.p2p_port
              << ")\n";
    validator_summary.push_back({{"validator", i}, {"rpc", v.rpc_url()}, {"node_id", v.node_id}});
  }
  for (const auto& n : node_summary) {
    std::cout << "  node     " << n["endpoint"].get<std::string>() << "   (" << n["node_id"].get<std::string>()
              << ", sim-tdx)\n";
  }
  std::cout << "  proxy    " << proxy_url << "/v1   (OpenAI API for alice; any api key)\n"
            << "  chat     cmln chat --config " << client_config << " \"Hello!\"\n"
            << "  logs     " << logs << "\n\n";
  json ready = {{"devnet", "ready"}, {"home", home},          {"chain", chain_url},
               {"proxy", proxy_url}, {"nodes", node_summary}, {"client_config", client_config}};
  if (network) ready["validators"] = validator_summary;
  std::cout << ready.dump() << std::endl;
  Say("ready; Ctrl-C stops everything");

  // Ctrl-C in a terminal signals the whole process group: the children may exit a moment before our
  // sigwait thread sets `stop`, which is a normal stop, not a failure.
  auto died = [&](ChildProcess& p) {
    if (p.Running()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    return !stop;
  };
  while (!stop) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    if (stop) break;
    if (died(chain_proc)) return fail("the chain exited", chain_proc.log_path());
    if (died(proxy_proc)) return fail("the proxy exited", proxy_proc.log_path());
    // A child that exits is reported once (pid() turns -1 once reaped).
    for (auto& n : nodes) {
      if (n->pid() > 0 && !n->Running()) Say(n->name() + " exited (see " + n->log_path() + "); the others keep serving");
    }
    for (int i = 0; network && i < network->size(); ++i) {
      for (ChildProcess* p : {network->validator(i).app.get(), network->validator(i).comet.get()}) {
        if (p->pid() > 0 && !p->Running()) {
          Say(p->name() + " exited (see " + p->log_path() + ")" +
              (i == 0 ? "; the REST API reads through validator-0 and stops answering"
                      : "; the other validators keep producing blocks while 2/3 of them run"));
        }
      }
    }
  }
  shutdown(0);
}

}  // namespace

void RegisterDevnet(CLI::App& app) {
  CLI::App* dev = app.add_subcommand("devnet", "Chain, N simulated-TEE nodes and the proxy on loopback, in one command");
  dev->add_option("--nodes", g_dev.nodes, "Confidential MLNodes to run (1..16)");
  dev->add_option("--home", g_dev.home, "devnet directory (default ~/.cmln/devnet); reused by a second start");
  dev->add_option("--proxy-listen", g_dev.proxy_listen, "HOST:PORT of the OpenAI-compatible proxy (port 0: any)");
  dev->add_option("--chain-listen", g_dev.chain_listen, "HOST:PORT of the chain REST API (port 0: any)");
  dev->add_option("--model-path", g_dev.model_path, "GGUF weights (default models/SmolLM2-135M-Instruct.Q4_1.gguf)");
  dev->add_option("--model-id", g_dev.model_id, "the chain's model id for it");
  dev->add_option("--sim-pki", g_dev.sim_pki, "first start: reuse this development PKI instead of generating one");
  dev->add_option("--validators", g_dev.validators,
                  "0: the embedded chain (default); N: N CometBFT v0.38 validators, each with `cmln chain abci`");
  dev->add_option("--cometbft", g_dev.cometbft, "the cometbft binary (default: .gobin/cometbft from scripts/setup)");
  dev->callback(RunDevnet);
}

}  // namespace cmln::cli
