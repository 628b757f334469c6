#include "chain/node.h"

#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <httplib.h>

#include "attest/bundle.h"
#include "attest/evidence_file.h"
#include "attest/sim_pki.h"
#include "attest/x509_builder.h"
#include "chain/keys.h"
#include "chain/ohttp_relay.h"
#include "chain/tx.h"
#include "common/http_listen.h"

namespace cmln::chain {

namespace fs = std::filesystem;

namespace {

// Node configuration and genesis files: a few KiB in practice; the cap keeps a wrong path from
// pulling a huge file into memory.
constexpr size_t kMaxConfigFileSize = 16 * 1024 * 1024;

Result<std::string> ReadFile(const std::string& path) {
  CMLN_ASSIGN_OR_RETURN(Bytes bytes, attest::ReadFileCapped(path, kMaxConfigFileSize));
  return std::string(bytes.begin(), bytes.end());
}

Status WriteFile(const std::string& path, const std::string& data, bool secret) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return Error(ErrorCode::kIoError, "cannot write " + path);
  out << data;
  out.close();
  if (!out) return Error(ErrorCode::kIoError, "cannot write " + path);
  if (secret) ::chmod(path.c_str(), 0600);
  return OkStatus();
}

int HttpStatusFor(ErrorCode c) {
  switch (c) {
    case ErrorCode::kNotFound: return 404;
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kBadEncoding:
    case ErrorCode::kMalformed: return 400;
    default: return 422;
  }
}

nlohmann::json ErrorJson(const Error& e) {
  return {{"code", static_cast<int>(e.code())}, {"codespace", std::string(ErrorCodeName(e.code()))}, {"error", e.message()}};
}

// What a simulated-TEE devnet genesis trusts: the development PKI's roots and its collateral.
struct SimGenesis {
  nlohmann::json tee_trust;
  nlohmann::json collateral = nlohmann::json::array();
};

// Builds "tee_trust" and the sim-tdx / sim-snp collateral records from `pki`, each record verified
// against those roots at `genesis_time` (so a genesis never carries collateral its own chain refuses).
Result<SimGenesis> BuildSimGenesis(const attest::SimPki& pki, int64_t genesis_time, int64_t validity) {
  SimGenesis out;
  out.tee_trust = {{"sim",
                    {{"tdx_roots_pem", attest::CertificatePem(pki.intel_root)},
                     {"snp_arks_pem", {{attest::snp::SnpProductName(pki.snp.product), attest::CertificatePem(pki.ark)}}}}}};
  const attest::SimCollateralOptions window{genesis_time - attest::kSimDay, validity + attest::kSimDay, {}, {}};
  CMLN_ASSIGN_OR_RETURN(std::string tdx, attest::BuildSimTdxCollateral(pki, window));
  CMLN_ASSIGN_OR_RETURN(std::string crl, attest::BuildSimSnpCrl(pki, window));
  const std::string product = attest::snp::SnpProductName(pki.snp.product);
  const std::string snp =
      nlohmann::json{{"product", product}, {"cert_chain", attest::SimSnpChainPem(pki)}, {"crl", crl}}.dump();
  CMLN_ASSIGN_OR_RETURN(attest::BundleTrust trust,
                        BundleTrustFromSettings(TrustSettings{true, out.tee_trust.dump()}));
  for (const auto& [platform, doc] : {std::pair<std::string_view, const std::string&>{attest::kPlatformSimTdx, tdx},
                                      {attest::kPlatformSimSnp, snp}}) {
    auto v = attest::VerifyPlatformCollateral(platform, AsBytes(doc), trust, genesis_time);
    if (!v.ok()) return v.error().WithContext(std::string("genesis ") + std::string(platform) + " collateral");
    out.collateral.push_back({{"platform", std::string(platform)},
                              {"kind", v->kind},
                              {"id", v->id},
                              {"collateral_base64", Base64Encode(AsBytes(doc))},
                              {"issue_time", v->issue_time},
                              {"next_update", v->next_update}});
  }
  return out;
}

// The PKI a simulated-TEE genesis uses: `o.sim_pki_dir` as is, or a new one written to DIR/sim-pki.
Result<attest::SimPki> DevnetSimPki(const std::string& home, const InitOptions& o, int64_t genesis_time) {
  if (!o.sim_pki_dir.empty()) return attest::LoadSimPki(o.sim_pki_dir);
  const std::string dir = home + "/sim-pki";
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_empty(dir, ec)) return Error(ErrorCode::kAlreadyExists, dir + " is not empty");
  attest::SimPkiOptions po;
  po.now = genesis_time;
  po.rsa_bits = o.sim_pki_rsa_bits;
  po.collateral_validity = o.sim_collateral_validity;
  CMLN_ASSIGN_OR_RETURN(attest::SimPki pki, attest::GenerateSimPki(po));
  CMLN_TRY(attest::WriteSimPki(pki, dir));
  return pki;
}

}  // namespace

Result<seal::AccountPrivateKey> LoadKeyFile(const std::string& path) {
  CMLN_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object() || !j.contains("private_key_hex") || !j["private_key_hex"].is_string()) {
    return Error(ErrorCode::kMalformed, "key file " + path + ": no private_key_hex");
  }
  CMLN_ASSIGN_OR_RETURN(Bytes scalar, HexDecode(j["private_key_hex"].get<std::string>()));
  SecretBytes secret(scalar);
  SecureZero(scalar.data(), scalar.size());
  return seal::AccountPrivateKey::FromBytes(secret.view());
}

Status InitHome(const std::string& home, const InitOptions& o) {
  const std::string genesis_path = home + "/config/genesis.json";
  if (fs::exists(genesis_path)) return Error(ErrorCode::kAlreadyExists, genesis_path + " exists");
  if (!o.sim_pki_dir.empty() && !o.allow_simulated_tee) {
    return Error(ErrorCode::kInvalidArgument, "sim_pki_dir is only used with allow_simulated_tee");
  }
  // Key names become file names under DIR/keys: a name must not reach outside it or collide.
  std::set<std::string> names = {"authority", "validator"};
  for (const auto* list : {&o.demo_accounts, &o.hosts}) {
    for (const auto& name : *list) {
      if (name.empty() || name.size() > 64 || name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") != std::string::npos) {
        return Error(ErrorCode::kInvalidArgument, "key name '" + name + "' is not 1..64 of [a-z0-9_-]");
      }
      if (!names.insert(name).second) return Error(ErrorCode::kInvalidArgument, "key name " + name + " repeated");
    }
  }
  std::error_code ec;
  for (const char* d : {"/config", "/keys", "/data"}) {
    fs::create_directories(home + d, ec);
    if (ec) return Error(ErrorCode::kIoError, "cannot create " + home + d + ": " + ec.message());
  }
  fs::permissions(home + "/keys", fs::perms::owner_all, ec);
  auto make_key = [&](const std::string& name) -> Result<std::string> {
    auto key = seal::AccountPrivateKey::Generate();
    std::string addr = seal::AccountAddressToString(seal::AccountAddressFromPublicKey(key.public_key()));
    nlohmann::json j = {{"name", name},
                        {"address", addr},
                        {"public_key_hex", HexEncode(key.public_key())},
                        {"private_key_hex", HexEncode(key.scalar())}};
    CMLN_TRY(WriteFile(home + "/keys/" + name + ".json", j.dump(2) + "\n", /*secret=*/true));
    return addr;
  };
  CMLN_ASSIGN_OR_RETURN(std::string authority, make_key("authority"));
  CMLN_ASSIGN_OR_RETURN(std::string validator, make_key("validator"));
  nlohmann::json accounts = nlohmann::json::array();
  nlohmann::json participants = nlohmann::json::array();
  accounts.push_back({{"address", authority}, {"balance", 1'000'000'000'000ULL}});
  accounts.push_back({{"address", validator}, {"balance", 0}});
  for (const auto& name : o.demo_accounts) {
    CMLN_ASSIGN_OR_RETURN(std::string a, make_key(name));
    accounts.push_back({{"address", a}, {"balance", 1'000'000'000'000ULL}});  // 1000 gonka
  }
  for (const auto& name : o.hosts) {
    CMLN_ASSIGN_OR_RETURN(std::string a, make_key(name));
    accounts.push_back({{"address", a}, {"balance", 1'000'000'000ULL}});
    participants.push_back({{"address", a}, {"weight", 100}});
  }
  nlohmann::json prices = nlohmann::json::array();
  auto sorted = o.model_prices;
  std::sort(sorted.begin(), sorted.end());
  for (const auto& [model, price] : sorted) prices.push_back({{"model_id", model}, {"price_per_token", std::to_string(price)}});
  int64_t t = o.genesis_time != 0 ? o.genesis_time
                                  : std::chrono::duration_cast<std::chrono::seconds>(
                                        std::chrono::system_clock::now().time_since_epoch()).count();
  SimGenesis sim{nlohmann::json::object()};
  if (o.allow_simulated_tee) {
    CMLN_ASSIGN_OR_RETURN(attest::SimPki pki, DevnetSimPki(home, o, t));
    CMLN_ASSIGN_OR_RETURN(sim, BuildSimGenesis(pki, t, o.sim_collateral_validity));
  }
  nlohmann::json genesis = {{"chain_id", o.chain_id},
                            {"genesis_time", t},
                            {"params",
                             {{"authority", authority},
                              {"epoch_length", std::to_string(o.epoch_length)},
                              {"model_prices", prices},
                              {"allow_simulated_tee", o.allow_simulated_tee}}},
                            {"accounts", accounts},
                            {"participants", participants},
                            {"collateral", sim.collateral},
                            {"tee_trust", sim.tee_trust}};
  CMLN_ASSIGN_OR_RETURN(Genesis g, ParseGenesis(genesis.dump()));  // validate before writing
  (void)g;
  CMLN_TRY(WriteFile(home + "/config/node.json", nlohmann::json{{"validator", validator}}.dump(2) + "\n", false));
  return WriteFile(genesis_path, genesis.dump(2) + "\n", false);
}

Node::Node(NodeOptions o, std::unique_ptr<App> app, std::string validator)
    : opts_(std::move(o)), app_(std::move(app)), validator_(std::move(validator)) {}

Node::~Node() { Stop(); }

Result<std::unique_ptr<Node>> Node::Open(const NodeOptions& o, const AttestationVerifier* verifier) {
  CMLN_ASSIGN_OR_RETURN(std::string node_text, ReadFile(o.home + "/config/node.json"));
  auto node_json = nlohmann::json::parse(node_text, nullptr, false);
  if (!node_json.is_object() || !node_json.contains("validator")) {
    return Error(ErrorCode::kMalformed, o.home + "/config/node.json: no validator");
  }
  CMLN_ASSIGN_OR_RETURN(std::unique_ptr<App> app, App::Open(o.home + "/data/chain.db", verifier));
  if (!app->initialized()) {
    CMLN_ASSIGN_OR_RETURN(std::string text, ReadFile(o.home + "/config/genesis.json"));
    CMLN_ASSIGN_OR_RETURN(Genesis g, ParseGenesis(text));
    CMLN_TRY(app->InitChain(g));
  }
  return std::unique_ptr<Node>(new Node(o, std::move(app), node_json["validator"].get<std::string>()));
}

TxResult Node::Broadcast(ByteView raw) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string hash = TxHashHex(raw);
  if (mempool_hashes_.count(hash)) {
    TxResult r;
    r.hash = hash;
    r.code = ErrorCode::kAlreadyExists;
    r.log = "tx already in the mempool";
    return r;
  }
  if (mempool_.size() >= opts_.max_mempool_txs) {
    TxResult r;
    r.hash = hash;
    r.code = ErrorCode::kLimitExceeded;
    r.log = "mempool full";
    return r;
  }
  TxResult r = app_->CheckTx(raw);
  if (r.ok()) {
    mempool_.push_back(ToBytes(raw));
    mempool_hashes_.insert(hash);
  }
  return r;
}

Status Node::ProduceBlock() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Bytes> txs;
  while (!mempool_.empty() && txs.size() < opts_.max_block_txs) {
    txs.push_back(std::move(mempool_.front()));
    mempool_.pop_front();
  }
  for (const auto& t : txs) mempool_hashes_.erase(TxHashHex(t));
  int64_t now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  BlockHeader h{app_->height() + 1, std::max(now, app_->last_block_time()), validator_};
  CMLN_ASSIGN_OR_RETURN(FinalizeBlockResult r, app_->FinalizeBlock(h, txs));
  (void)r;
  CMLN_ASSIGN_OR_RETURN(Bytes app_hash, app_->Commit());
  (void)app_hash;
  // Re-check what is left against the new state (CheckTx state was reset by Commit).
  std::deque<Bytes> left;
  left.swap(mempool_);
  mempool_hashes_.clear();
  for (auto& t : left) {
    if (app_->CheckTx(t).ok()) {
      mempool_hashes_.insert(TxHashHex(t));
      mempool_.push_back(std::move(t));
    }
  }
  return OkStatus();
}

Result<nlohmann::json> Node::Query(std::string_view path) {
  std::lock_guard<std::mutex> lock(mu_);
  return app_->Query(path);
}

void Node::InstallRoutes() {
  auto reply = [](httplib::Response& res, const Result<nlohmann::json>& r) {
    if (r.ok()) {
      res.status = 200;
      res.set_content(r->dump(), "application/json");
    } else {
      res.status = HttpStatusFor(r.error().code());
      res.set_content(ErrorJson(r.error()).dump(), "application/json");
    }
  };
  auto get = [this, reply](const std::string& pattern, std::function<std::string(const httplib::Request&)> path) {
    http_->Get(pattern, [this, reply, path](const httplib::Request& req, httplib::Response& res) {
      reply(res, Query(path(req)));
    });
  };
  auto fixed = [](const char* p) { return [p](const httplib::Request&) { return std::string(p); }; };
  auto m1 = [](const char* prefix) {
    return [prefix](const httplib::Request& req) { return std::string(prefix) + std::string(req.matches[1]); };
  };
  get("/status", fixed("status"));
  get("/params", fixed("params"));
  get("/supply", fixed("supply"));
  get("/participants", fixed("participants"));
  get("/collateral", fixed("collateral"));
  get(R"(/accounts/([A-Za-z0-9]+))", m1("account/"));
  get(R"(/earnings/([A-Za-z0-9]+))", m1("earnings/"));
  get("/releases", fixed("releases"));
  get(R"(/releases/([^/]+))", m1("release/"));
  get("/attestations", [](const httplib::Request& req) {
    if (req.has_param("node")) return "attestations/node/" + req.get_param_value("node");
    if (req.has_param("model")) return "attestations/model/" + req.get_param_value("model");
    return std::string("attestations");
  });
  get("/escrows", [](const httplib::Request& req) {
    if (req.has_param("creator")) return "escrows/creator/" + req.get_param_value("creator");
    return std::string("escrows");
  });
  get(R"(/escrows/([0-9]+))", m1("escrow/"));
  get(R"(/epochs/([a-z0-9]+))", m1("epoch/"));
  get(R"(/blocks/([0-9]+))", m1("block/"));
  get(R"(/txs/([0-9a-f]+))", m1("tx/"));
  // The network node as an Oblivious Relay to the confidential nodes it lists (RFC 9458, IP privacy).
  MountOhttpRelay(*http_, EndpointFromAttestations([this](const std::string& node_id) {
    return Query("attestations/node/" + node_id);
  }));
  http_->Post("/txs", [this](const httplib::Request& req, httplib::Response& res) {
    auto body = nlohmann::json::parse(req.body, nullptr, false);
    if (!body.is_object() || !body.contains("tx_base64") || !body["tx_base64"].is_string()) {
      res.status = 400;
      res.set_content(ErrorJson(Error(ErrorCode::kMalformed, "body must be {\"tx_base64\": …}")).dump(), "application/json");
      return;
    }
    auto raw = Base64Decode(body["tx_base64"].get<std::string>());
    if (!raw.ok()) {
      res.status = 400;
      res.set_content(ErrorJson(raw.error()).dump(), "application/json");
      return;
    }
    TxResult r = Broadcast(*raw);
    res.status = r.ok() ? 200 : 422;
    res.set_content(r.ToJson().dump(), "application/json");
  });
}

Status Node::Run() {
  http_ = std::make_unique<httplib::Server>();
  http_->set_payload_max_length(kAbsoluteMaxTxBytes * 2);
  InstallRoutes();
  CMLN_ASSIGN_OR_RETURN(int port, BindServer(*http_, opts_.listen_host, opts_.port));
  bound_port_ = port;
  std::thread server = ListenInBackground(*http_);
  Status result = OkStatus();
  auto next = std::chrono::steady_clock::now();
  while (!stop_.load()) {
    next += std::chrono::milliseconds(opts_.block_interval_ms);
    std::this_thread::sleep_until(next);
    if (stop_.load()) break;
    Status st = ProduceBlock();
    if (!st.ok()) {
      result = st;
      break;
    }
  }
  http_->stop();
  server.join();
  return result;
}

void Node::Stop() {
  stop_ = true;
  if (http_) http_->stop();
}

}  // namespace cmln::chain
