#include "node/service.h"

#include <chrono>

#include <nlohmann/json.hpp>

#include "engine/local_engine.h"
#include "node/log.h"

namespace cmln::node {

namespace {

using json = nlohmann::json;

// OpenAI's error "type" for each status class, and a fixed message per code: the peer learns the code
// and nothing else (the precise reason is logged locally).
std::string_view ErrorType(int status) {
  switch (status) {
    case 401: return "authentication_error";
    case 402: return "insufficient_quota";
    case 403: return "permission_error";
    case 429: return "rate_limit_error";
    default: return status >= 500 ? "server_error" : "invalid_request_error";
  }
}

std::string_view MessageFor(std::string_view code) {
  static const std::map<std::string_view, std::string_view> messages = {
      {codes::kBadAuthorization, "missing or malformed gonka-authorization"},
      {codes::kWrongNode, "authorization is for another chain or node"},
      {codes::kStaleTimestamp, "authorization timestamp outside the accepted clock skew"},
      {codes::kDigestMismatch, "authorization does not cover this request content"},
      {codes::kBadSignature, "authorization signature invalid"},
      {codes::kReplayedRequest, "authorization already used"},
      {codes::kInvalidRequest, "not a valid chat completion request for this node"},
      {codes::kStreamUnsupported, "streaming needs a chunked OHTTP request"},
      {codes::kEscrowNotFound, "escrow not found"},
      {codes::kEscrowClosed, "escrow closed"},
      {codes::kWrongModel, "escrow is for another model"},
      {codes::kNotEscrowOwner, "requester is not the escrow's owner"},
      {codes::kQuotaExhausted, "escrow quota exhausted"},
      {codes::kOverloaded, "too many requests in flight"},
      {codes::kChainUnavailable, "chain unavailable"},
      {codes::kEngineError, "inference failed"},
  };
  auto it = messages.find(code);
  return it == messages.end() ? std::string_view("request refused") : it->second;
}

int64_t SystemUnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Saturating (a + b) * c: an absurd request must not wrap into a cheap one.
uint64_t CostOf(uint64_t tokens_a, uint64_t tokens_b, uint64_t price) {
  const uint64_t tokens = tokens_a + tokens_b < tokens_a ? UINT64_MAX : tokens_a + tokens_b;
  if (price != 0 && tokens > UINT64_MAX / price) return UINT64_MAX;
  return tokens * price;
}

}  // namespace

// --- KeySet --------------------------------------------------------------------------------------------

Result<std::shared_ptr<KeySet>> KeySet::Generate(uint8_t key_id) {
  auto keys = std::make_shared<KeySet>();
  keys->key_id = key_id;
  keys->hpke = seal::X25519Generate();
  keys->key_config.key_id = key_id;
  keys->key_config.kem_id = static_cast<uint16_t>(seal::hpke::KemId::kX25519HkdfSha256);
  keys->key_config.public_key = ToBytes(keys->hpke.public_key);
  keys->key_config.algorithms = {{0x0001, 0x0001}, {0x0001, 0x0002}, {0x0001, 0x0003}};
  CMLN_ASSIGN_OR_RETURN(keys->key_config_bytes, seal::ohttp::EncodeKeyConfig(keys->key_config));
  CMLN_TRY(keys->gateway.AddKey(keys->key_config, keys->hpke.private_key.Clone()));
  return keys;
}

// --- Refusal / AdmittedRequest -------------------------------------------------------------------------

std::string Refusal::Body() const {
  json j = {{"error", {{"message", MessageFor(code)}, {"type", ErrorType(status)}, {"code", code}}}};
  return j.dump();
}

AdmittedRequest::AdmittedRequest(AdmittedRequest&& o) noexcept
    : service_(o.service_),
      auth_(std::move(o.auth_)),
      chat_(std::move(o.chat_)),
      reservation_(o.reservation_),
      live_(o.live_) {
  o.live_ = false;
}

AdmittedRequest::~AdmittedRequest() {
  if (live_ && service_ != nullptr) service_->Abandon(*this);
}

// --- InferenceService ----------------------------------------------------------------------------------

InferenceService::InferenceService(ServiceOptions options, engine::Engine& engine, QuotaLedger& ledger,
                                   ReplayCache& replay, UsageAggregator& usage, Metrics& metrics, UnixClock clock)
    : options_(std::move(options)),
      engine_(engine),
      ledger_(ledger),
      replay_(replay),
      usage_(usage),
      metrics_(metrics),
      clock_(clock ? std::move(clock) : UnixClock(SystemUnixNow)) {
  limits_.max_body_bytes = options_.max_request_bytes;
  limits_.max_tokens = options_.max_tokens_limit;
  limits_.default_max_tokens = options_.default_max_tokens;
  price_.store(options_.price_per_token);
  Bytes r(6);
  seal::RandomBytes(r);
  response_id_prefix_ = "chatcmpl-" + HexEncode(r) + "-";
}

Refusal InferenceService::Refuse(int status, std::string_view code, std::string_view transport, std::string_view reason) {
  log::Info("request_refused", {{"transport", transport}, {"code", code}, {"status", status}, {"reason", reason}});
  metrics_.CountRequest(std::string(transport), std::string(code));
  return Refusal{status, std::string(code)};
}

void InferenceService::Abandon(AdmittedRequest& request) {
  ledger_.Release(request.reservation_);
  in_flight_.fetch_sub(1);
  metrics_.SetInFlight(static_cast<int64_t>(in_flight_.load()));
  request.live_ = false;
}

engine::ResponseMeta InferenceService::NewMeta() {
  return engine::ResponseMeta{response_id_prefix_ + std::to_string(next_response_id_.fetch_add(1)), options_.model_id,
                              clock_()};
}

std::variant<AdmittedRequest, Refusal> InferenceService::Admit(std::string_view authorization_b64, ByteView content,
                                                               bool stream_allowed, std::string_view transport) {
  // 1. The authorization's layout.
  if (authorization_b64.empty()) return Refuse(401, codes::kBadAuthorization, transport, "header missing");
  auto raw = Base64Decode(authorization_b64);
  if (!raw.ok()) return Refuse(401, codes::kBadAuthorization, transport, raw.error().ToString());
  auto auth = seal::DecodeAuthorization(*raw);
  if (!auth.ok()) return Refuse(401, codes::kBadAuthorization, transport, auth.error().ToString());
  // 2. Bound to this chain and node.
  if (auth->chain_id != options_.chain_id || auth->node_id != options_.node_id) {
    return Refuse(401, codes::kWrongNode, transport, "chain id or node id differs");
  }
  // 3. Fresh.
  const int64_t now = clock_();
  const int64_t ts = auth->timestamp > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(auth->timestamp);
  if (ts > now + options_.max_clock_skew_s || ts < now - options_.max_clock_skew_s) {
    return Refuse(401, codes::kStaleTimestamp, transport, "timestamp " + std::to_string(ts - now) + " s from node clock");
  }
  // 4. Covers this content.
  if (!ConstantTimeEqual(seal::Sha256(content), auth->request_digest)) {
    return Refuse(401, codes::kDigestMismatch, transport, "request_digest != SHA-256(content)");
  }
  // 5. Signed by the requester key it names.
  Status sig = seal::VerifyAuthorizationSignature(*auth);
  if (!sig.ok()) return Refuse(401, codes::kBadSignature, transport, sig.error().ToString());
  // 6. Not seen before (recorded only now, so unauthenticated requests cannot fill the cache).
  Status fresh = replay_.Accept(seal::Sha256(*raw), ts + options_.max_clock_skew_s, now);
  if (!fresh.ok()) {
    if (fresh.error().code() == ErrorCode::kReplay) return Refuse(409, codes::kReplayedRequest, transport, "replay");
    return Refuse(429, codes::kOverloaded, transport, fresh.error().ToString());
  }
  // 7. An OpenAI chat request for this node's model.
  std::string param;
  auto chat = engine::ParseChatRequest(AsChars(content), limits_, &param);
  if (!chat.ok()) return Refuse(400, codes::kInvalidRequest, transport, chat.error().ToString());
  if (chat->model != options_.model_id) return Refuse(400, codes::kInvalidRequest, transport, "unknown model");
  if (chat->stream && !stream_allowed) return Refuse(400, codes::kStreamUnsupported, transport, "stream on this transport");
  // 8. The escrow and the quota: (prompt_tokens + max_tokens) x price reserved.
  uint64_t prompt_tokens = 0;
  if (auto* local = dynamic_cast<engine::LocalEngine*>(&engine_)) {
    prompt_tokens = local->PromptTokens(chat->completion.messages).size();  // exact: the template applied
  } else {
    for (const auto& m : chat->completion.messages) {
      auto n = engine_.CountTokens(m.content);
      if (!n.ok()) return Refuse(500, codes::kEngineError, transport, n.error().ToString());
      // An upstream engine applies its own template: a few tokens per message around the content.
      prompt_tokens += *n + 8;
    }
  }
  const uint64_t amount = CostOf(prompt_tokens, chat->completion.max_tokens, price_.load());
  auto reserved = ledger_.Reserve(auth->escrow_id, seal::RequesterKeyHash(auth->requester_public_key),
                                  options_.model_id, amount);
  if (!reserved.ok()) {
    const std::string reason = reserved.error().ToString();
    switch (reserved.error().code()) {
      case ErrorCode::kNotFound: return Refuse(404, codes::kEscrowNotFound, transport, reason);
      case ErrorCode::kNotActive: return Refuse(403, codes::kEscrowClosed, transport, reason);
      case ErrorCode::kModelMismatch: return Refuse(403, codes::kWrongModel, transport, reason);
      case ErrorCode::kUnauthorized: return Refuse(403, codes::kNotEscrowOwner, transport, reason);
      case ErrorCode::kInsufficientFunds: return Refuse(402, codes::kQuotaExhausted, transport, reason);
      default: return Refuse(503, codes::kChainUnavailable, transport, reason);
    }
  }
  // 9. Concurrency.
  if (in_flight_.fetch_add(1) >= options_.max_in_flight) {
    in_flight_.fetch_sub(1);
    ledger_.Release(*reserved);
    return Refuse(429, codes::kOverloaded, transport, "max_in_flight reached");
  }
  metrics_.SetInFlight(static_cast<int64_t>(in_flight_.load()));
  AdmittedRequest out;
  out.service_ = this;
  out.auth_ = std::move(*auth);
  out.chat_ = std::move(*chat);
  out.reservation_ = *reserved;
  out.live_ = true;
  return std::variant<AdmittedRequest, Refusal>(std::in_place_index<0>, std::move(out));
}

namespace {

// No receipt: the request is not billed. The reason (a disk error recording usage, with paths) goes to
// the log, not to the client; the client's message says only that.
std::string_view ReceiptFailure(const Error& e) {
  log::Err("receipt_failed", {{"code", ErrorCodeName(e.code())}, {"reason", e.message()}});
  return "the receipt could not be issued; nothing was charged";
}

}  // namespace

Result<Bytes> InferenceService::Bill(AdmittedRequest& request, const KeySet& keys, const engine::Usage& usage,
                                     const seal::Digest32& response_digest) {
  const uint64_t cost = CostOf(usage.prompt_tokens, usage.completion_tokens, price_.load());
  seal::Receipt r;
  r.chain_id = options_.chain_id;
  r.node_id = options_.node_id;
  r.escrow_id = request.auth_.escrow_id;
  r.requester_key_hash = seal::RequesterKeyHash(request.auth_.requester_public_key);
  r.request_digest = request.auth_.request_digest;
  r.response_digest = response_digest;
  r.prompt_tokens = usage.prompt_tokens;
  r.completion_tokens = usage.completion_tokens;
  r.cost = cost;
  r.sequence = keys.receipt_sequence.fetch_add(1) + 1;
  // The usage is recorded (durably, node/usage_aggregator.h) before the receipt leaves: a receipt the node
  // issued is always billed. If it cannot be recorded no receipt is issued and nothing is charged.
  Status recorded = usage_.Add(r.escrow_id, r.requester_key_hash, usage.prompt_tokens, usage.completion_tokens, cost);
  if (recorded.ok()) {
    ledger_.Commit(request.reservation_, cost);
    metrics_.AddTokens(usage.prompt_tokens, usage.completion_tokens);
  } else {
    ledger_.Release(request.reservation_);
  }
  in_flight_.fetch_sub(1);
  metrics_.SetInFlight(static_cast<int64_t>(in_flight_.load()));
  request.live_ = false;
  if (!recorded.ok()) return recorded.error().WithContext("recording usage");
  CMLN_ASSIGN_OR_RETURN(seal::Receipt signed_receipt, seal::SignReceipt(keys.sign_key, std::move(r)));
  return seal::EncodeReceipt(signed_receipt);
}

std::variant<Answer, Refusal> InferenceService::Complete(AdmittedRequest request, const KeySet& keys) {
  engine::CompletionRequest creq = request.chat_.completion;
  auto out = engine_.Complete(creq);
  if (!out.ok()) return Refuse(500, codes::kEngineError, "engine", out.error().ToString());
  Answer answer;
  answer.content = engine::RenderChatCompletion(NewMeta(), *out, /*with_token_ids=*/false);
  auto receipt = Bill(request, keys, out->usage, seal::Sha256(AsBytes(answer.content)));
  if (!receipt.ok()) return Refuse(500, codes::kEngineError, "receipt", ReceiptFailure(receipt.error()));
  answer.receipt = std::move(*receipt);
  return answer;
}

std::variant<Bytes, Refusal> InferenceService::Stream(AdmittedRequest request, const KeySet& keys,
                                                      const std::function<bool(std::string_view event)>& emit) {
  const engine::ResponseMeta meta = NewMeta();
  seal::Sha256Hasher digest;
  bool peer_alive = true;
  auto send = [&](const std::string& payload) {
    const std::string event = "data: " + payload + "\n\n";
    digest.Update(AsBytes(event));
    if (peer_alive) peer_alive = emit(event);
    return peer_alive;
  };
  // Every chunk carries "usage": null except the last, which carries the usage (stream_options.include_usage).
  send(engine::RenderRoleChunk(meta, /*usage_null=*/true));
  engine::CompletionRequest creq = request.chat_.completion;
  creq.on_text = [&](std::string_view delta) { return send(engine::RenderContentChunk(meta, delta, true)); };
  auto out = engine_.Complete(creq);
  if (!out.ok()) return Refuse(500, codes::kEngineError, "engine", out.error().ToString());
  send(engine::RenderFinishChunk(meta, out->finish_reason, nullptr, true));
  send(engine::RenderUsageChunk(meta, out->usage));
  send("[DONE]");
  auto receipt = Bill(request, keys, out->usage, digest.Finish());
  if (!receipt.ok()) return Refuse(500, codes::kEngineError, "receipt", ReceiptFailure(receipt.error()));
  return std::move(*receipt);
}

Result<std::string> SpliceReceipt(std::string_view completion_json, ByteView receipt) {
  if (completion_json.size() < 2 || completion_json.back() != '}') {
    return Error(ErrorCode::kInvalidArgument, "completion JSON does not end with '}'");
  }
  std::string out(completion_json.substr(0, completion_json.size() - 1));
  out += ",\"gonka_receipt\":\"" + Base64Encode(receipt) + "\"}";
  return out;
}

}  // namespace cmln::node
