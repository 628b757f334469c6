#include "abci/local_network.h"

#include <arpa/inet.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <thread>

#include "abci/rest_proxy.h"
#include "attest/evidence_file.h"
#include "common/durable_file.h"

namespace cmln::abci {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr auto kToolTimeout = std::chrono::seconds(60);
constexpr auto kSocketTimeout = std::chrono::seconds(30);

constexpr size_t kMaxConfigFileBytes = 64 << 20;  // genesis.json carries the whole app genesis

Result<std::string> ReadText(const std::string& path) {
  CMLN_ASSIGN_OR_RETURN(Bytes bytes, attest::ReadFileCapped(path, kMaxConfigFileBytes));
  return std::string(AsChars(bytes));
}

Result<json> ReadJson(const std::string& path) {
  CMLN_ASSIGN_OR_RETURN(std::string text, ReadText(path));
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return Error(ErrorCode::kBadEncoding, path + ": not JSON");
  return j;
}

// A port the kernel just handed out on 127.0.0.1 (free now; a race with another process is possible
// but the next Prepare picks new ones).
Result<int> FreeLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return Error(ErrorCode::kIoError, "socket() failed");
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(sa);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) == 0;
  ::close(fd);
  if (!ok) return Error(ErrorCode::kIoError, "no free loopback port");
  return static_cast<int>(ntohs(sa.sin_port));
}

// Runs a short tool to completion; its combined output, or an error naming the log.
Result<std::string> RunTool(const std::vector<std::string>& argv, const std::string& log) {
  ChildProcess p(argv[0], log);
  CMLN_TRY(p.Start(argv));
  auto status = p.WaitExit(kToolTimeout);
  if (!status.has_value()) {
    p.Kill();
    return Error(ErrorCode::kIoError, argv[0] + " " + argv[1] + ": timed out (see " + log + ")");
  }
  if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
    return Error(ErrorCode::kIoError, argv[0] + " " + argv[1] + ": failed (see " + log + ")");
  }
  return p.RunLog();
}

// Sets `key = value` in `[section]` ("" = the top level) of a CometBFT config.toml.
Status SetToml(std::string& toml, const std::string& section, const std::string& key, const std::string& value) {
  size_t from = 0;
  if (!section.empty()) {
    from = toml.find("\n[" + section + "]\n");
    if (from == std::string::npos) return Error(ErrorCode::kMalformed, "config.toml: no [" + section + "]");
  }
  const size_t at = toml.find("\n" + key + " = ", from);
  if (at == std::string::npos) return Error(ErrorCode::kMalformed, "config.toml: no " + section + "." + key);
  const size_t eol = toml.find('\n', at + 1);
  toml.replace(at + 1, eol - at - 1, key + " = " + value);
  return OkStatus();
}

std::string Rfc3339(int64_t unix_seconds) {
  const std::time_t t = unix_seconds;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string Quoted(const std::string& s) { return "\"" + s + "\""; }

}  // namespace

Result<std::unique_ptr<LocalNetwork>> LocalNetwork::Prepare(const LocalNetworkOptions& options) {
  if (options.validators < 1 || options.validators > 16) {
    return Error(ErrorCode::kInvalidArgument, "validators must be 1..16");
  }
  if (!options.app_genesis.is_object() || !options.app_genesis.contains("chain_id") ||
      !options.app_genesis["chain_id"].is_string() || !options.app_genesis.contains("genesis_time") ||
      !options.app_genesis["genesis_time"].is_number_integer()) {
    return Error(ErrorCode::kInvalidArgument, "app genesis needs chain_id and genesis_time");
  }
  std::unique_ptr<LocalNetwork> net(new LocalNetwork());
  net->opts_ = options;
  net->chain_id_ = options.app_genesis["chain_id"].get<std::string>();
  const std::string& dir = options.dir;
  std::error_code ec;
  fs::create_directories(dir + "/logs", ec);
  if (ec) return Error(ErrorCode::kIoError, dir + ": " + ec.message());

  // The network's identity: a home made for another shape is not silently reused.
  const std::string marker = dir + "/network.json";
  const json identity = {{"validators", options.validators}, {"chain_id", net->chain_id_}};
  const bool fresh = !fs::exists(marker);
  if (!fresh) {
    CMLN_ASSIGN_OR_RETURN(json existing, ReadJson(marker));
    if (existing != identity) {
      return Error(ErrorCode::kAlreadyExists, dir + " holds a network of " + existing.dump() + ", not " + identity.dump());
    }
  }

  for (int i = 0; i < options.validators; ++i) {
    LocalValidator v;
    const std::string base = dir + "/validator-" + std::to_string(i);
    v.comet_home = base + "/comet";
    v.app_home = base + "/app";
    v.socket = base + "/app.sock";
    v.app = std::make_unique<ChildProcess>("validator-" + std::to_string(i) + " app",
                                           dir + "/logs/validator-" + std::to_string(i) + "-app.log");
    v.comet = std::make_unique<ChildProcess>("validator-" + std::to_string(i) + " cometbft",
                                             dir + "/logs/validator-" + std::to_string(i) + "-comet.log");
    const std::string tool_log = dir + "/logs/validator-" + std::to_string(i) + "-setup.log";
    if (fresh) {
      fs::remove_all(base, ec);
      fs::create_directories(v.app_home, ec);
      CMLN_TRY(RunTool({options.cometbft_path, "init", "--home", v.comet_home}, tool_log));
    }
    CMLN_ASSIGN_OR_RETURN(std::string id, RunTool({options.cometbft_path, "show-node-id", "--home", v.comet_home}, tool_log));
    // The id is the last non-empty line of this run's output.
    while (!id.empty() && (id.back() == '\n' || id.back() == '\r')) id.pop_back();
    v.node_id = id.substr(id.find_last_of('\n') == std::string::npos ? 0 : id.find_last_of('\n') + 1);
    if (v.node_id.size() != 40) return Error(ErrorCode::kMalformed, "cometbft show-node-id: unexpected output");
    net->validators_.push_back(std::move(v));
  }

  if (fresh) {
    // One genesis: every validator's key (from its own `cometbft init` genesis), our chain id and time,
    // our genesis document as app_state.
    json validators = json::array();
    for (const LocalValidator& v : net->validators_) {
      CMLN_ASSIGN_OR_RETURN(json g, ReadJson(v.comet_home + "/config/genesis.json"));
      validators.push_back(g["validators"][0]);
    }
    CMLN_ASSIGN_OR_RETURN(json genesis, ReadJson(net->validators_[0].comet_home + "/config/genesis.json"));
    genesis["chain_id"] = net->chain_id_;
    genesis["genesis_time"] = Rfc3339(options.app_genesis["genesis_time"].get<int64_t>());
    genesis["validators"] = validators;
    genesis["app_state"] = options.app_genesis;
    for (const LocalValidator& v : net->validators_) {
      CMLN_TRY(WriteFileDurably(v.comet_home + "/config/genesis.json", AsBytes(genesis.dump(2) + "\n")));
    }
    CMLN_TRY(WriteFileDurably(marker, AsBytes(identity.dump() + "\n")));
  }
  CMLN_TRY(net->Configure());
  return net;
}

Status LocalNetwork::Configure() {
  for (LocalValidator& v : validators_) {
    CMLN_ASSIGN_OR_RETURN(v.p2p_port, FreeLoopbackPort());
    CMLN_ASSIGN_OR_RETURN(v.rpc_port, FreeLoopbackPort());
  }
  for (size_t i = 0; i < validators_.size(); ++i) {
    LocalValidator& v = validators_[i];
    std::string peers;
    for (size_t j = 0; j < validators_.size(); ++j) {
      if (j == i) continue;
      if (!peers.empty()) peers += ",";
      peers += validators_[j].node_id + "@127.0.0.1:" + std::to_string(validators_[j].p2p_port);
    }
    const std::string path = v.comet_home + "/config/config.toml";
    CMLN_ASSIGN_OR_RETURN(std::string toml, ReadText(path));
    CMLN_TRY(SetToml(toml, "", "proxy_app", Quoted("unix://" + v.socket)));
    CMLN_TRY(SetToml(toml, "", "moniker", Quoted("validator-" + std::to_string(i))));
    CMLN_TRY(SetToml(toml, "rpc", "laddr", Quoted("tcp://127.0.0.1:" + std::to_string(v.rpc_port))));
    CMLN_TRY(SetToml(toml, "p2p", "laddr", Quoted("tcp://127.0.0.1:" + std::to_string(v.p2p_port))));
    CMLN_TRY(SetToml(toml, "p2p", "persistent_peers", Quoted(peers)));
    CMLN_TRY(SetToml(toml, "p2p", "addr_book_strict", "false"));
    CMLN_TRY(SetToml(toml, "p2p", "allow_duplicate_ip", "true"));
    CMLN_TRY(SetToml(toml, "consensus", "timeout_commit", Quoted(opts_.timeout_commit)));
    CMLN_TRY(SetToml(toml, "consensus", "timeout_propose", Quoted(opts_.timeout_propose)));
    CMLN_TRY(SetToml(toml, "consensus", "create_empty_blocks", "true"));
    // Loopback: no reason to batch p2p writes or sleep between gossip rounds for 100 ms (the defaults,
    // tuned for the internet), which would otherwise add several hundred ms to every block.
    CMLN_TRY(SetToml(toml, "p2p", "flush_throttle_timeout", Quoted("10ms")));
    CMLN_TRY(SetToml(toml, "consensus", "peer_gossip_sleep_duration", Quoted("10ms")));
    CMLN_TRY(WriteFileDurably(path, AsBytes(toml)));
  }
  return OkStatus();
}

LocalNetwork::~LocalNetwork() { StopAll(std::chrono::seconds(5)); }

Status LocalNetwork::StartApp(int i, const std::vector<std::string>& env) {
  LocalValidator& v = validator(i);
  std::error_code ec;
  fs::remove(v.socket, ec);
  CMLN_TRY(v.app->Start({opts_.cmln_path, "chain", "abci", "--home", v.app_home, "--listen", "unix://" + v.socket}, env));
  const auto deadline = Clock::now() + kSocketTimeout;
  while (!fs::exists(v.socket)) {
    if (!v.app->Running() || Clock::now() >= deadline) {
      return Error(ErrorCode::kIoError, v.app->name() + " did not open its socket (see " + v.app->log_path() + ")");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return OkStatus();
}

Status LocalNetwork::StartComet(int i) {
  LocalValidator& v = validator(i);
  return v.comet->Start({opts_.cometbft_path, "start", "--home", v.comet_home, "--log_level", "info"});
}

Status LocalNetwork::StartAll(int64_t height, std::chrono::milliseconds timeout) {
  for (int i = 0; i < size(); ++i) CMLN_TRY(StartApp(i));
  for (int i = 0; i < size(); ++i) CMLN_TRY(StartComet(i));
  if (!WaitHeight(0, height, timeout)) {
    return Error(ErrorCode::kIoError, "the CometBFT network did not reach height " + std::to_string(height) +
                                          " (see " + opts_.dir + "/logs)");
  }
  return OkStatus();
}

void LocalNetwork::Stop(int i, std::chrono::milliseconds grace) {
  LocalValidator& v = validator(i);
  v.comet->Stop(grace);
  v.app->Stop(grace);
}

void LocalNetwork::StopAll(std::chrono::milliseconds grace) {
  for (int i = 0; i < size(); ++i) Stop(i, grace);
}

int64_t LocalNetwork::Height(int i) const {
  auto status = CometRpcCall(validators_.at(static_cast<size_t>(i)).rpc_url(), "status", json::object());
  if (!status.ok()) return -1;
  const json& sync = (*status)["sync_info"];
  if (!sync.is_object() || !sync.contains("latest_block_height") || !sync["latest_block_height"].is_string()) return -1;
  return std::strtoll(sync["latest_block_height"].get<std::string>().c_str(), nullptr, 10);
}

bool LocalNetwork::WaitHeight(int i, int64_t h, std::chrono::milliseconds timeout) const {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (Height(i) >= h) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

std::string LocalNetwork::LogTails(int i, size_t bytes) const {
  auto tail = [bytes](const std::string& path) {
    auto text = ReadText(path);
    std::string t = text.ok() ? *text : std::string();
    return t.size() > bytes ? t.substr(t.size() - bytes) : t;
  };
  const LocalValidator& v = validators_.at(static_cast<size_t>(i));
  return "app log:\n" + tail(v.app->log_path()) + "\ncometbft log:\n" + tail(v.comet->log_path());
}

Result<std::string> FindCometbft(const std::string& near) {
  if (const char* env = std::getenv("CMLN_COMETBFT"); env != nullptr && *env != '\0') {
    if (fs::exists(env)) return std::string(env);
    return Error(ErrorCode::kNotFound, std::string("CMLN_COMETBFT=") + env + ": no such file");
  }
  std::error_code ec;
  for (fs::path d = fs::absolute(near, ec); !d.empty(); d = d.parent_path()) {
    if (fs::exists(d / ".gobin" / "cometbft")) return (d / ".gobin" / "cometbft").string();
    if (d == d.root_path()) break;
  }
  if (const char* path = std::getenv("PATH"); path != nullptr) {
    std::string_view rest(path);
    while (!rest.empty()) {
      const size_t colon = rest.find(':');
      const fs::path candidate = fs::path(std::string(rest.substr(0, colon))) / "cometbft";
      if (fs::exists(candidate)) return candidate.string();
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  }
  return Error(ErrorCode::kNotFound, "cometbft not found: run scripts/setup (it installs .gobin/cometbft) or set CMLN_COMETBFT");
}

}  // namespace cmln::abci
