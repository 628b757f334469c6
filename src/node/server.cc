#include "node/server.h"

#include <chrono>
#include <filesystem>
#include <fstream>

#include "attest/bundle.h"
#include "attest/configfs_tsm.h"
#include "attest/evidence_file.h"
#include "attest/sim_pki.h"
#include "chain/node.h"
#include "engine/local_engine.h"
#include "engine/upstream_engine.h"
#include "node/log.h"

namespace cmln::node {

namespace fs = std::filesystem;

namespace {

constexpr const char* kKeyIdFile = "ohttp_key_id";
constexpr const char* kBatchDir = "batches";
constexpr const char* kUsageDir = "usage";

bool IsSimulated(const std::string& platform) { return platform.rfind("sim-", 0) == 0; }

template <size_t N>
void FillMeasurement(const NodeConfig& c, const char* name, std::array<uint8_t, N>& out) {
  auto it = c.sim_measurements.find(name);
  if (it != c.sim_measurements.end() && it->second.size() == N) std::copy(it->second.begin(), it->second.end(), out.begin());
}

Result<std::unique_ptr<engine::Engine>> LoadEngine(const NodeConfig& c) {
  if (c.upstream_url.empty()) {
    engine::LocalEngineOptions o;
    o.model_path = c.model_path;
    o.n_ctx = c.engine_context;
    o.n_threads = c.engine_threads;
    o.model_name = c.model_id;
    CMLN_ASSIGN_OR_RETURN(auto e, engine::LocalEngine::Load(o));
    return std::unique_ptr<engine::Engine>(std::move(e));
  }
  // "http://HOST:PORT" on a loopback address (the upstream server runs inside the same CVM).
  std::string rest = c.upstream_url;
  if (rest.rfind("http://", 0) == 0) rest = rest.substr(7);
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  const size_t colon = rest.rfind(':');
  if (colon == std::string::npos) return Error(ErrorCode::kInvalidArgument, "config.upstream_url: want http://HOST:PORT");
  engine::UpstreamOptions o;
  o.host = rest.substr(0, colon);
  try {
    o.port = std::stoi(rest.substr(colon + 1));
  } catch (...) {
    return Error(ErrorCode::kInvalidArgument, "config.upstream_url: bad port");
  }
  o.model = c.upstream_model;
  o.weights_path = c.model_path;
  CMLN_ASSIGN_OR_RETURN(auto e, engine::UpstreamEngine::Create(o));
  return std::unique_ptr<engine::Engine>(std::move(e));
}

}  // namespace

NodeServer::NodeServer(NodeConfig config, std::unique_ptr<engine::Engine> engine, std::unique_ptr<ChainClient> chain)
    : config_(std::move(config)), engine_(std::move(engine)), chain_(std::move(chain)) {}

NodeServer::~NodeServer() { Stop(); }

Result<std::unique_ptr<NodeServer>> NodeServer::Create(NodeConfig config) {
  log::SetLevel(log::ParseLevel(config.log_level));
  CMLN_ASSIGN_OR_RETURN(seal::AccountPrivateKey host_key, chain::LoadKeyFile(config.host_key_file));
  const auto t0 = std::chrono::steady_clock::now();
  CMLN_ASSIGN_OR_RETURN(std::unique_ptr<engine::Engine> eng, LoadEngine(config));
  auto digest = eng->ModelDigest();
  if (!digest.ok()) return digest.error().WithContext("model digest (set model_path to the weights file)");
  auto chain = std::make_unique<ChainClient>(config.chain_rest_url, std::move(host_key), config.tx_fee);
  log::Info("engine_loaded", {{"model_id", config.model_id},
                              {"model_digest", HexEncode(*digest)},
                              {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()},
                              {"host", chain->host_address()}});
  std::unique_ptr<NodeServer> s(new NodeServer(std::move(config), std::move(eng), std::move(chain)));
  s->model_digest_ = *digest;
  return s;
}

std::shared_ptr<const KeySet> NodeServer::keys() const {
  std::lock_guard<std::mutex> lock(keys_mu_);
  return keys_;
}

Result<uint8_t> NodeServer::NextKeyId() {
  const std::string path = (fs::path(config_.data_dir) / kKeyIdFile).string();
  uint8_t next = 1;
  if (fs::exists(path)) {
    CMLN_ASSIGN_OR_RETURN(Bytes text, attest::ReadFileCapped(path, 16));
    const std::string s(AsChars(text));
    if (!s.empty() && s.size() <= 3 && s.find_first_not_of("0123456789") == std::string::npos) {
      next = static_cast<uint8_t>((std::stoi(s) + 1) % 256);
    }
  }
  std::ofstream out(path, std::ios::trunc);
  out << static_cast<int>(next);
  out.close();
  if (!out) return Error(ErrorCode::kIoError, "cannot write " + path);
  return next;
}

Result<std::string> NodeServer::BuildBundle(KeySet& keys, const chain::ChainStatus& epoch) {
  attest::BundleBinding binding{chain_id_, epoch.epoch, epoch.epoch_nonce, chain_->host_address(), config_.node_id};
  const Bytes sign_pk = ToBytes(keys.sign_key.public_key());
  attest::AttestationBundle bundle;
  Bytes measurement;
  if (IsSimulated(config_.platform)) {
    CMLN_ASSIGN_OR_RETURN(attest::SimPki pki, attest::LoadSimPki(config_.sim_pki_dir));
    attest::SimBundleSpec spec;
    spec.platform = config_.platform;
    spec.binding = binding;
    spec.ohttp_key_config = keys.key_config_bytes;
    spec.sign_pk = sign_pk;
    spec.model_id = config_.model_id;
    spec.model_digest = ToBytes(model_digest_);
    spec.release_id = config_.release_id;
    FillMeasurement(config_, "MRTD", spec.tdx.mr_td);
    for (size_t i = 0; i < 4; ++i) FillMeasurement(config_, ("RTMR" + std::to_string(i)).c_str(), spec.tdx.rtmr[i]);
    FillMeasurement(config_, "MRCONFIGID", spec.tdx.mr_config_id);
    FillMeasurement(config_, "MEASUREMENT", spec.snp.measurement);
    FillMeasurement(config_, "HOST_DATA", spec.snp.host_data);
    CMLN_ASSIGN_OR_RETURN(bundle, attest::BuildSimBundle(pki, spec));
    measurement = config_.platform == "sim-tdx" ? ToBytes(spec.tdx.mr_td) : ToBytes(spec.snp.measurement);
  } else {
    // Real CVM: the report data commits to everything but the evidence itself.
    bundle.platform = config_.platform;
    bundle.binding = binding;
    bundle.ohttp_key_config = keys.key_config_bytes;
    bundle.sign_pk = sign_pk;
    bundle.model_id = config_.model_id;
    bundle.model_digest = ToBytes(model_digest_);
    bundle.release_id = config_.release_id;
    CMLN_ASSIGN_OR_RETURN(auto report_data, attest::ComputeReportData(bundle));
    CMLN_ASSIGN_OR_RETURN(attest::TsmReport report, attest::CollectTsmReport(report_data));
    bundle.cpu_evidence = std::move(report.outblob);
  }
  CMLN_ASSIGN_OR_RETURN(std::string json_text, attest::SerializeBundle(bundle));
  seal::envelope_v1::Identity identity;
  identity.provider = "cmln";
  identity.public_key = keys.hpke.public_key;
  identity.key_id = seal::envelope_v1::RecipientKeyId(keys.hpke.public_key);
  identity.quote = bundle.cpu_evidence;
  identity.measurement = measurement;
  identity.extra = {{"node_id", config_.node_id},
                    {"platform", config_.platform},
                    {"ohttp_key_id", keys.key_id},
                    {"bundle_sha256", HexEncode(seal::Sha256(AsBytes(json_text)))}};
  CMLN_ASSIGN_OR_RETURN(keys.identity_json, seal::envelope_v1::EncodeIdentity(identity));
  return json_text;
}

Result<std::shared_ptr<KeySet>> NodeServer::Attest() {
  const std::string endpoint = AdvertisedEndpoint(config_, port());
  std::shared_ptr<KeySet> keys;
  chain::ChainStatus epoch;
  TxOutcome tx;
  // The epoch may change between reading its nonce and the block that verifies the bundle
  // (binding_mismatch): build evidence for the new epoch, a few times at most.
  for (int attempt = 0;; ++attempt) {
    CMLN_ASSIGN_OR_RETURN(epoch, chain_->Status());
    CMLN_ASSIGN_OR_RETURN(uint8_t key_id, NextKeyId());
    CMLN_ASSIGN_OR_RETURN(keys, KeySet::Generate(key_id));
    keys->epoch = epoch.epoch;
    CMLN_ASSIGN_OR_RETURN(keys->bundle_json, BuildBundle(*keys, epoch));
    CMLN_ASSIGN_OR_RETURN(tx, chain_->SubmitAttestation(config_.node_id, config_.model_id, endpoint, keys->bundle_json));
    if (tx.code == ErrorCode::kOk) break;
    if (tx.code != ErrorCode::kBindingMismatch || attempt == 2) {
      return Error(tx.code, "attestation refused by the chain: " + tx.log);
    }
    log::Warn("attestation_epoch_raced", {{"epoch", epoch.epoch}, {"reason", tx.log}});
  }
  const uint8_t key_id = keys->key_id;
  // The chain verified it at delivery; wait until the record shows it with our key.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(config_.attestation_timeout_ms);
  const Bytes sign_pk = ToBytes(keys->sign_key.public_key());
  while (true) {
    auto rec = chain_->Attestation(config_.node_id);
    if (rec.ok() && rec->status == chain::kAttestationStatusVerified && rec->sign_public_key == sign_pk) break;
    if (std::chrono::steady_clock::now() > deadline) {
      return Error(ErrorCode::kNotFound, "attestation not shown VERIFIED by the chain in time");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  log::Info("attested", {{"node_id", config_.node_id}, {"epoch", epoch.epoch}, {"key_id", key_id},
                         {"platform", config_.platform}, {"height", tx.height}, {"endpoint", endpoint},
                         {"sign_pk", HexEncode(sign_pk)}});
  return keys;
}

Status NodeServer::Start() {
  // 2. The chain.
  CMLN_ASSIGN_OR_RETURN(chain::ChainStatus status, chain_->Status());
  chain_id_ = status.chain_id;
  CMLN_ASSIGN_OR_RETURN(uint64_t price, chain_->PricePerToken(config_.model_id));
  uint64_t last_batch_seq = 0;
  auto record = chain_->Attestation(config_.node_id);
  if (record.ok()) {
    last_batch_seq = record->last_batch_seq;
  } else if (record.error().code() != ErrorCode::kNotFound) {
    return record.error().WithContext("reading the node's attestation record");
  }
  std::error_code ec;
  fs::create_directories(config_.data_dir, ec);
  if (ec) return Error(ErrorCode::kIoError, "data_dir " + config_.data_dir + ": " + ec.message());

  ledger_ = std::make_unique<QuotaLedger>([this](uint64_t id) { return chain_->Escrow(id); },
                                          std::chrono::milliseconds(config_.escrow_cache_ms));
  replay_ = std::make_unique<ReplayCache>(config_.replay_cache_entries);
  ServiceOptions so;
  so.chain_id = chain_id_;
  so.node_id = config_.node_id;
  so.model_id = config_.model_id;
  so.price_per_token = price;
  so.max_clock_skew_s = config_.max_clock_skew_s;
  so.default_max_tokens = config_.default_max_tokens;
  so.max_tokens_limit = config_.max_tokens_limit;
  so.max_in_flight = config_.max_in_flight;
  so.max_request_bytes = config_.max_request_bytes;
  service_ = std::make_unique<InferenceService>(so, *engine_, *ledger_, *replay_, usage_, metrics_);

  // 3. The usage log and the journal: usage billed before a crash replayed, batches whose segment files
  // survived released, settled batches dropped, pending ones submitted before anything new.
  usage_.set_max_entries(config_.batch_max_entries);
  CMLN_TRY(usage_.OpenDurable((fs::path(config_.data_dir) / kUsageDir).string()));
  CMLN_ASSIGN_OR_RETURN(BatchJournal journal, BatchJournal::Open((fs::path(config_.data_dir) / kBatchDir).string()));
  SettlementOptions sopt;
  sopt.chain_id = chain_id_;
  sopt.node_id = config_.node_id;
  sopt.batch_interval = std::chrono::milliseconds(config_.batch_interval_ms);
  sopt.max_entries = config_.batch_max_entries;
  sopt.backoff_initial = std::chrono::milliseconds(config_.submit_backoff_initial_ms);
  sopt.backoff_max = std::chrono::milliseconds(config_.submit_backoff_max_ms);
  settlement_ = std::make_unique<Settlement>(
      sopt, std::move(journal), *chain_, *ledger_, usage_, metrics_,
      [this](ByteView batch) -> Result<std::pair<seal::Ed25519PublicKey, seal::Ed25519Signature>> {
        auto k = keys();
        if (!k) return Error(ErrorCode::kInternal, "no TEE key yet");
        CMLN_ASSIGN_OR_RETURN(seal::Ed25519Signature sig, chain::SignUsageBatch(k->sign_key, batch));
        return std::make_pair(k->sign_key.public_key(), sig);
      });
  CMLN_TRY(settlement_->Recover(last_batch_seq));
  if (settlement_->pending() > 0) {
    const bool all = settlement_->SubmitPendingOnce();
    log::Info("journal_recovered", {{"all_submitted", all}, {"still_pending", settlement_->pending()}});
  }

  // 4. The listener (keys are served only once attested; until then encrypted paths answer 503).
  FrontendOptions fo;
  fo.host = config_.listen_host;
  fo.port = config_.listen_port;
  fo.max_request_bytes = config_.max_request_bytes;
  fo.worker_threads = config_.max_in_flight + 8;
  frontend_ = std::make_unique<HttpFrontend>(fo, *service_, metrics_, [this] { return keys(); });
  CMLN_TRY(frontend_->Start());

  // 5. Attestation.
  auto attested = Attest();
  if (!attested.ok()) {
    frontend_->Stop();
    return attested.error();
  }
  {
    std::lock_guard<std::mutex> lock(keys_mu_);
    keys_ = *attested;
  }
  // 6. Background work.
  settlement_->Start();
  epoch_thread_ = std::thread([this] { WatchEpochs(); });
  log::Info("serving", {{"node_id", config_.node_id}, {"port", port()}, {"chain_id", chain_id_},
                        {"price_per_token", price}, {"next_batch_seq", settlement_->next_batch_seq()}});
  return OkStatus();
}

void NodeServer::WatchEpochs() {
  std::unique_lock<std::mutex> lock(stop_mu_);
  while (!stopping_) {
    stop_cv_.wait_for(lock, std::chrono::milliseconds(config_.epoch_poll_ms), [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    auto current = keys();
    auto status = chain_->Status();
    if (status.ok() && current && status->epoch != current->epoch) {
      log::Info("epoch_changed", {{"from", current->epoch}, {"to", status->epoch}});
      if (auto price = chain_->PricePerToken(config_.model_id); price.ok()) service_->set_price_per_token(*price);
      auto fresh = Attest();
      if (fresh.ok()) {
        std::lock_guard<std::mutex> kl(keys_mu_);
        keys_ = *fresh;
      } else {
        log::Err("reattestation_failed", {{"code", ErrorCodeName(fresh.error().code())}, {"reason", fresh.error().message()}});
      }
    }
    lock.lock();
  }
}

void NodeServer::Wait() {
  std::unique_lock<std::mutex> lock(stop_mu_);
  stop_cv_.wait(lock, [this] { return stopping_; });
}

void NodeServer::Stop() {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    if (stopped_) return;
    stopping_ = true;
    stopped_ = true;
  }
  stop_cv_.notify_all();
  if (frontend_) frontend_->Stop();
  if (epoch_thread_.joinable()) epoch_thread_.join();
  if (settlement_) settlement_->Stop();
  log::Info("stopped", {{"node_id", config_.node_id}});
}

}  // namespace cmln::node
