#include "client/client.h"

#include <algorithm>
#include <chrono>
#include <set>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "chain/proto/tx.pb.h"

namespace cmln::client {

namespace {

// Body cap of a non-streamed answer or a plaintext error from a node (streams are capped by the
// chunked OHTTP and BHTTP limits instead).
constexpr size_t kMaxAnswerBytes = 16 * 1024 * 1024;
constexpr size_t kMaxErrorBodyBytes = 64 * 1024;
constexpr uint64_t kDefaultEscrowAmount = 100000;
constexpr std::string_view kOhttpPath = "/v1/ohttp";

// The machine-readable code of an error body: OpenAI's {"error": {"code"}} or RFC 9457 {"code"}.
std::string ErrorCodeOfBody(std::string_view body) {
  auto j = nlohmann::json::parse(body.begin(), body.end(), nullptr, false);
  if (!j.is_object()) return "";
  if (j.contains("error") && j["error"].is_object() && j["error"].contains("code") && j["error"]["code"].is_string()) {
    return j["error"]["code"].get<std::string>();
  }
  if (j.contains("code") && j["code"].is_string()) return j["code"].get<std::string>();
  return "";
}

bool IsFailoverStatus(int status) { return status >= 500 || status == 429; }

}  // namespace

Client::Client(ClientConfig config, seal::AccountPrivateKey key, std::string chain_id)
    : config_(std::move(config)),
      key_(std::move(key)),
      address_(seal::AccountAddressToString(seal::AccountAddressFromPublicKey(key_.public_key()))),
      chain_id_(std::move(chain_id)),
      reader_(config_.chain_url) {}

Result<std::unique_ptr<Client>> Client::Create(ClientConfig config, seal::AccountPrivateKey key) {
  if (config.chain_url.empty()) return Error(ErrorCode::kInvalidArgument, "client: chain_url is empty");
  if (config.trust.allow_simulated && config.trust.sim_trust_dir.empty()) {
    return Error(ErrorCode::kInvalidArgument, "client: allow_simulated needs sim_trust_dir");
  }
  ChainReader reader(config.chain_url);
  CMLN_ASSIGN_OR_RETURN(ChainStatus status, reader.Status());
  // The trust must load now, not at the first request.
  CMLN_TRY(MakeBundleTrust(config.trust, {}));
  return std::unique_ptr<Client>(new Client(std::move(config), std::move(key), status.chain_id));
}

int64_t Client::Now() const {
  if (config_.now) return config_.now();
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

uint64_t Client::locked() const {
  std::lock_guard<std::mutex> lock(escrow_mu_);
  return locked_;
}

std::vector<uint64_t> Client::created_escrows() const {
  std::lock_guard<std::mutex> lock(escrow_mu_);
  return created_;
}

// ---------------------------------------------------------------------------------------------
// Discovery.

Status Client::Refresh(const std::string& model, ModelState& state) {
  CMLN_ASSIGN_OR_RETURN(ChainStatus status, reader_.Status());
  if (status.chain_id != chain_id_) {
    return Error(ErrorCode::kBindingMismatch, "chain id changed from " + chain_id_ + " to " + status.chain_id);
  }
  CMLN_ASSIGN_OR_RETURN(ChainParams params, reader_.Params());
  CMLN_ASSIGN_OR_RETURN(std::vector<ReleaseInfo> releases, reader_.Releases());
  CMLN_ASSIGN_OR_RETURN(std::vector<CollateralDoc> collateral, reader_.Collateral());
  CMLN_ASSIGN_OR_RETURN(std::vector<AttestationRecord> records, reader_.Attestations(model));
  CMLN_ASSIGN_OR_RETURN(attest::BundleTrust trust, MakeBundleTrust(config_.trust, collateral));

  const int64_t now = Now();
  std::vector<VerifiedNode> nodes;
  std::vector<std::pair<std::string, Error>> refused;
  for (const AttestationRecord& rec : records) {
    if (Status s = CheckRecord(rec, model, status.epoch); !s.ok()) {
      refused.emplace_back(rec.node_id, s.error());
      continue;
    }
    const std::string key = HexEncode(rec.bundle_hash);
    auto it = bundle_cache_.find(key);
    if (it == bundle_cache_.end() || now - it->second.verified_at >= config_.cache_ttl_s) {
      CachedBundle entry;
      entry.verified = attest::VerifyBundle(rec.bundle_json, trust, now);
      entry.verified_at = now;
      it = bundle_cache_.insert_or_assign(key, std::move(entry)).first;
    }
    if (!it->second.verified.ok()) {
      refused.emplace_back(rec.node_id, it->second.verified.error().WithContext("node " + rec.node_id + ": bundle"));
      continue;
    }
    auto node = CheckVerifiedRecord(rec, *it->second.verified, model, releases, chain_id_, status.epoch);
    if (!node.ok()) {
      refused.emplace_back(rec.node_id, node.error());
      continue;
    }
    nodes.push_back(std::move(*node));
  }
  // Drop verifications past their time to live (collateral and clocks move on; a record still listed is
  // verified again at the next refresh).
  for (auto c = bundle_cache_.begin(); c != bundle_cache_.end();) {
    c = now - c->second.verified_at >= config_.cache_ttl_s ? bundle_cache_.erase(c) : std::next(c);
  }
  auto price = params.model_prices.find(model);
  state.price_per_token = price == params.model_prices.end() ? 0 : price->second;
  state.nodes = std::move(nodes);
  state.refused = std::move(refused);
  state.listed = true;
  state.listed_at = now;
  return OkStatus();
}

Result<std::vector<VerifiedNode>> Client::VerifiedNodes(const std::string& model, bool force_refresh) {
  std::lock_guard<std::mutex> lock(discovery_mu_);
  ModelState& state = models_[model];
  if (force_refresh || !state.listed || Now() - state.listed_at >= config_.refresh_interval_s) {
    Status s = Refresh(model, state);
    // The chain being unreachable does not stop serving the nodes verified before (DESIGN D5).
    if (!s.ok() && !state.listed) return s.error();
  }
  return state.nodes;
}

std::vector<std::pair<std::string, Error>> Client::RefusedNodes(const std::string& model) {
  std::lock_guard<std::mutex> lock(discovery_mu_);
  return models_[model].refused;
}

Result<uint64_t> Client::PricePerToken(const std::string& model) {
  std::lock_guard<std::mutex> lock(discovery_mu_);
  return models_[model].price_per_token;
}

Result<std::vector<std::string>> Client::Models() {
  CMLN_ASSIGN_OR_RETURN(ChainParams params, reader_.Params());
  std::vector<std::string> out;
  for (const auto& [model, price] : params.model_prices) {
    auto nodes = VerifiedNodes(model);
    if (nodes.ok() && !nodes->empty()) out.push_back(model);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Quota.

Result<uint64_t> Client::EnsureEscrow(const std::string& model, std::optional<uint64_t> replace) {
  std::lock_guard<std::mutex> lock(escrow_mu_);
  auto current = escrow_of_model_.find(model);
  if (!replace) {
    if (current != escrow_of_model_.end()) return current->second;
    // An OPEN escrow of ours from an earlier run: the one with the most left.
    CMLN_ASSIGN_OR_RETURN(std::vector<EscrowInfo> mine, reader_.EscrowsOf(address_));
    const EscrowInfo* best = nullptr;
    for (const EscrowInfo& e : mine) {
      if (e.model_id == model && e.status == chain::kEscrowStatusOpen && e.remaining > 0 &&
          (best == nullptr || e.remaining > best->remaining)) {
        best = &e;
      }
    }
    if (best != nullptr) {
      escrow_of_model_[model] = best->id;
      return best->id;
    }
  } else if (current != escrow_of_model_.end() && current->second != *replace) {
    return current->second;  // another request already replaced it
  }

  CMLN_ASSIGN_OR_RETURN(ChainParams params, reader_.Params());
  const uint64_t left = config_.budget > locked_ ? config_.budget - locked_ : 0;
  uint64_t amount = config_.escrow_amount != 0 ? config_.escrow_amount : std::min(kDefaultEscrowAmount, left);
  amount = std::max(amount, params.min_escrow_amount);
  if (params.max_escrow_amount != 0) amount = std::min(amount, params.max_escrow_amount);
  if (amount == 0 || amount > left) {
    return Error(ErrorCode::kInsufficientFunds, "client budget " + std::to_string(config_.budget) +
                                                    " ngonka exhausted (" + std::to_string(locked_) + " locked)");
  }
  chain::v1::Msg msg;
  auto* create = msg.mutable_create_confidential_escrow();
  create->set_creator(address_);
  create->set_amount(amount);
  create->set_model_id(model);
  CMLN_ASSIGN_OR_RETURN(nlohmann::json tx, reader_.rest().SignAndBroadcast(key_, {msg}, params.min_tx_fee, true));
  const int code = tx.value("code", -1);
  if (code != 0) {
    return Error(code > 0 ? static_cast<ErrorCode>(code) : ErrorCode::kInternal,
                 "create escrow: " + tx.value("log", std::string("refused")));
  }
  uint64_t id = 0;
  if (tx.contains("events") && tx["events"].is_array()) {
    for (const auto& ev : tx["events"]) {
      if (ev.value("type", "") == "escrow_created" && ev.contains("attributes")) {
        id = std::strtoull(ev["attributes"].value("escrow_id", std::string("0")).c_str(), nullptr, 10);
      }
    }
  }
  if (id == 0) return Error(ErrorCode::kMalformed, "create escrow: committed tx has no escrow_created event");
  locked_ += amount;
  created_.push_back(id);
  escrow_of_model_[model] = id;
  return id;
}

// ---------------------------------------------------------------------------------------------
// One attempt on one node.

Client::Attempt Client::TryNode(const VerifiedNode& node, uint64_t escrow_id, uint64_t price, ByteView request,
                                bool stream, const StreamSink* sink) {
  Attempt a;
  auto done = [&](Result<Completion> r) {
    a.outcome = Outcome::kDone;
    a.result = std::move(r);
    return a;
  };
  auto failover = [&](std::string why) {
    a.outcome = Outcome::kFailover;
    a.failure = "node " + node.node_id + ": " + why;
    return a;
  };
  auto sealed = SealedRequest::Create(node, key_, chain_id_, escrow_id, static_cast<uint64_t>(Now()), request, stream);
  if (!sealed.ok()) return done(sealed.error());

  // Straight to the node's gateway, or through the configured relay, which forwards to that gateway.
  const bool relayed = !config_.relay_url.empty();
  httplib::Client http(relayed ? config_.relay_url : node.endpoint);
  http.set_connection_timeout(config_.connect_timeout_ms / 1000, (config_.connect_timeout_ms % 1000) * 1000);
  http.set_read_timeout(config_.read_timeout_s, 0);
  http.set_write_timeout(30, 0);
  http.set_keep_alive(false);

  httplib::Request req;
  req.method = "POST";
  req.path = relayed ? "/v1/relay/" + node.node_id : std::string(kOhttpPath);
  req.set_header("Content-Type", std::string(sealed->media_type()));
  req.body.assign(sealed->body().begin(), sealed->body().end());

  int outer_status = 0;
  std::string outer_body;
  std::optional<Error> stream_error;
  std::optional<int> failover_status;
  bool delivered = false;  // the sink got the head (and content): no failover any more
  auto deliver = [&](ByteView content) {
    if (sealed->answer().status != 200) return;
    if (!delivered) {
      delivered = true;
      if (sink != nullptr && sink->on_head) sink->on_head(node, sealed->answer());
    }
    if (!content.empty() && sink != nullptr && sink->on_content) sink->on_content(content);
  };
  req.response_handler = [&](const httplib::Response& r) {
    outer_status = r.status;
    return true;
  };
  req.content_receiver = [&](const char* data, size_t len, uint64_t, uint64_t) {
    if (outer_status != 200 || !stream) {
      const size_t cap = outer_status != 200 ? kMaxErrorBodyBytes : kMaxAnswerBytes;
      if (outer_body.size() + len > cap) {
        stream_error = Error(ErrorCode::kLengthTooLarge, "node " + node.node_id + ": answer above " + std::to_string(cap));
        return false;
      }
      outer_body.append(data, len);
      return true;
    }
    auto ev = sealed->PushStream(ByteView(reinterpret_cast<const uint8_t*>(data), len));
    if (!ev.ok()) {
      stream_error = ev.error();
      return false;
    }
    const uint16_t inner = sealed->answer().status;
    if (ev->head && IsFailoverStatus(inner)) {
      failover_status = inner;
      return false;
    }
    // Content goes out only from the first content byte on: a node that fails after its head but before
    // any content can still be replaced.
    if (!ev->content.empty()) deliver(ev->content);
    return true;
  };

  httplib::Response res;
  httplib::Error err = httplib::Error::Success;
  const bool sent = http.send(req, res, err);
  if (stream_error) {
    return done(stream_error->WithContext("node " + node.node_id));  // B5: integrity, never retried
  }
  if (failover_status) return failover("HTTP " + std::to_string(*failover_status) + " inside the encryption");
  if (!sent) {
    if (delivered) {
      return done(Error(ErrorCode::kTruncated, "node " + node.node_id + ": connection lost mid-stream (" +
                                                   httplib::to_string(err) + ")"));
    }
    return failover(httplib::to_string(err));
  }
  if (outer_status != 200) {
    const std::string code = ErrorCodeOfBody(outer_body);
    if (code == "stale_key") {
      a.outcome = Outcome::kStaleKey;
      a.failure = "node " + node.node_id + ": stale_key";
      return a;
    }
    if (IsFailoverStatus(outer_status)) return failover("HTTP " + std::to_string(outer_status));
    // A plaintext refusal before decryption (bad_encapsulation, request_too_large, 415): returned as is.
    Completion c;
    c.answer.status = static_cast<uint16_t>(outer_status);
    c.answer.content_type = "application/json";
    c.answer.content = ToBytes(outer_body);
    c.node_id = node.node_id;
    c.escrow_id = escrow_id;
    return done(std::move(c));
  }

  NodeAnswer answer;
  if (stream) {
    auto fin = sealed->FinishStream();
    if (!fin.ok()) {
      if (!delivered && fin.error().code() == ErrorCode::kTruncated && sealed->answer().content.empty()) {
        return failover("stream ended before any content");
      }
      return done(fin.error().WithContext("node " + node.node_id));
    }
    if (IsFailoverStatus(sealed->answer().status) && !delivered) {
      return failover("HTTP " + std::to_string(sealed->answer().status) + " inside the encryption");
    }
    deliver(fin->content);
    answer = sealed->answer();
  } else {
    auto opened = sealed->Open(ToBytes(outer_body));
    if (!opened.ok()) return done(opened.error().WithContext("node " + node.node_id));
    answer = std::move(*opened);
    if (IsFailoverStatus(answer.status)) return failover("HTTP " + std::to_string(answer.status) + " inside the encryption");
  }

  Completion c;
  c.node_id = node.node_id;
  c.escrow_id = escrow_id;
  if (answer.status != 200) {
    const std::string code = ErrorCodeOfBody(AsChars(answer.content));
    c.answer = std::move(answer);
    if (code == "quota_exhausted" || code == "escrow_closed") {
      a.outcome = Outcome::kTopUp;
      a.result = std::move(c);
      return a;
    }
    return done(std::move(c));
  }
  ReceiptExpectation want;
  want.chain_id = chain_id_;
  want.node_id = node.node_id;
  want.escrow_id = escrow_id;
  want.requester_public_key = key_.public_key();
  want.request_digest = sealed->request_digest();
  want.response_content = answer.content;
  want.price_per_token = price;
  want.sign_public_key = node.sign_public_key;
  auto usage = stream ? UsageOfSseStream(answer.content) : UsageOfCompletion(answer.content);
  if (!usage.ok()) return done(usage.error().WithContext("node " + node.node_id));
  want.usage = *usage;
  auto receipt = VerifyReceiptField(stream ? answer.trailers : answer.headers, want);
  if (!receipt.ok()) return done(receipt.error().WithContext("node " + node.node_id + ": receipt"));
  c.receipt = std::move(*receipt);
  c.answer = std::move(answer);
  return done(std::move(c));
}

// ---------------------------------------------------------------------------------------------
// A completion with failover.

Result<Completion> Client::Complete(ByteView request_json, const StreamSink* sink) {
  auto j = nlohmann::json::parse(request_json.begin(), request_json.end(), nullptr, false);
  if (!j.is_object()) return Error(ErrorCode::kInvalidArgument, "request: not a JSON object");
  if (!j.contains("model") || !j["model"].is_string() || j["model"].get<std::string>().empty()) {
    return Error(ErrorCode::kInvalidArgument, "request: \"model\" missing");
  }
  const std::string model = j["model"].get<std::string>();
  const bool stream = j.contains("stream") && j["stream"].is_boolean() && j["stream"].get<bool>();

  CMLN_ASSIGN_OR_RETURN(std::vector<VerifiedNode> nodes, VerifiedNodes(model));
  if (nodes.empty()) {
    std::string why;
    for (const auto& [id, e] : RefusedNodes(model)) why += "; " + e.ToString();
    return Error(ErrorCode::kNotFound, "no verified node serves model " + model + why);
  }
  CMLN_ASSIGN_OR_RETURN(uint64_t price, PricePerToken(model));
  CMLN_ASSIGN_OR_RETURN(uint64_t escrow_id, EnsureEscrow(model, std::nullopt));

  // Spread load: start at a rotating index; nodes that failed recently go last.
  const size_t start = static_cast<size_t>(round_robin_.fetch_add(1) % nodes.size());
  std::rotate(nodes.begin(), nodes.begin() + static_cast<std::ptrdiff_t>(start), nodes.end());
  {
    std::lock_guard<std::mutex> lock(discovery_mu_);
    const int64_t now = Now();
    std::stable_partition(nodes.begin(), nodes.end(), [&](const VerifiedNode& n) {
      auto it = failed_at_.find(n.node_id);
      return it == failed_at_.end() || now - it->second >= config_.failure_cooldown_s;
    });
  }

  std::vector<std::string> failures;
  bool topped_up = false;
  int attempts = 0;
  for (size_t i = 0; i < nodes.size(); ++i) {
    VerifiedNode node = nodes[i];
    bool reattested = false;
    for (;;) {
      ++attempts;
      Attempt a = TryNode(node, escrow_id, price, request_json, stream, sink);
      if (a.outcome == Outcome::kDone) {
        if (a.result.ok()) a.result->attempts = attempts;
        return std::move(a.result);
      }
      if (a.outcome == Outcome::kTopUp) {
        if (topped_up) {
          a.result->attempts = attempts;
          return std::move(a.result);
        }
        topped_up = true;
        auto next = EnsureEscrow(model, escrow_id);
        if (!next.ok()) {
          a.result->attempts = attempts;
          return std::move(a.result);  // the node's quota error is the answer
        }
        escrow_id = *next;
        continue;
      }
      if (a.outcome == Outcome::kStaleKey && !reattested) {
        // B4: the node restarted with new keys. Re-read the chain, re-verify, retry once with the new key.
        reattested = true;
        auto fresh = VerifiedNodes(model, /*force_refresh=*/true);
        if (fresh.ok()) {
          auto it = std::find_if(fresh->begin(), fresh->end(), [&](const VerifiedNode& n) { return n.node_id == node.node_id; });
          if (it != fresh->end() && it->key_config != node.key_config) {
            node = *it;
            continue;
          }
        }
      }
      failures.push_back(a.failure);
      std::lock_guard<std::mutex> lock(discovery_mu_);
      failed_at_[node.node_id] = Now();
      break;
    }
  }
  std::string why;
  for (const std::string& f : failures) why += "; " + f;
  return Error(ErrorCode::kIoError, "every verified node of " + model + " failed" + why);
}

}  // namespace cmln::client
