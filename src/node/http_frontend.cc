#include "node/http_frontend.h"

#include <chrono>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "common/http_listen.h"
#include "node/log.h"
#include "seal/bhttp.h"
#include "seal/chunked_ohttp.h"

namespace cmln::node {

namespace {

using json = nlohmann::json;
namespace bhttp = seal::bhttp;
namespace ohttp = seal::ohttp;

constexpr const char* kJson = "application/json";
constexpr const char* kInnerPath = "/v1/chat/completions";
constexpr const char* kEnvelopeAuthorizationHeader = "Gonka-Authorization";

void PlainError(httplib::Response& res, int status, std::string_view code) {
  res.status = status;
  res.set_content(json{{"error", {{"code", code}}}}.dump(), kJson);
}

// RFC 9458 section 5.3: the key identifier is unknown (a previous epoch's or boot's key).
void StaleKey(httplib::Response& res) {
  res.status = 400;
  res.set_content(json{{"type", "https://iana.org/assignments/http-problem-types#ohttp-key"},
                       {"title", "key identifier unknown"},
                       {"code", "stale_key"}}
                      .dump(),
                  "application/problem+json");
}

// Pre-decryption failures of an encapsulated request: stale_key for an unknown key id, otherwise one
// generic answer whatever failed (B2); the precise code is logged without content.
void EncapsulationError(httplib::Response& res, Metrics& metrics, const std::string& transport, const Error& e) {
  const bool stale = e.code() == ErrorCode::kUnknownKeyId;
  log::Info("request_refused", {{"transport", transport},
                                {"code", stale ? "stale_key" : "bad_encapsulation"},
                                {"reason", std::string(ErrorCodeName(e.code()))}});
  metrics.CountRequest(transport, stale ? "stale_key" : "bad_encapsulation");
  if (stale) return StaleKey(res);
  PlainError(res, 400, "bad_encapsulation");
}

bhttp::Response JsonResponse(int status, std::string body) {
  bhttp::Response r;
  r.status = static_cast<uint16_t>(status);
  r.headers = {{"content-type", kJson}};
  r.content = ToBytes(body);
  return r;
}

bhttp::Response RefusalResponse(const Refusal& refusal) { return JsonResponse(refusal.status, refusal.Body()); }

const std::string* FindField(const bhttp::Fields& fields, std::string_view name) {
  for (const auto& f : fields) {
    if (f.name == name) return &f.value;
  }
  return nullptr;
}

// The decoded inner request: the chat completion POST, or the refusal to answer inside the encryption.
struct Inner {
  bhttp::Request request;
  std::optional<Refusal> refusal;
};

Inner DecodeInner(ByteView bhttp_bytes, size_t max_content) {
  Inner out;
  bhttp::DecodeOptions o;
  o.max_content_size = max_content;
  auto decoded = bhttp::DecodeRequest(bhttp_bytes, o);
  if (!decoded.ok()) {
    log::Info("request_refused", {{"code", "invalid_request"}, {"reason", decoded.error().ToString()}});
    out.refusal = Refusal{400, std::string(codes::kInvalidRequest)};
    return out;
  }
  if (decoded->method != "POST" || decoded->path != kInnerPath) {
    log::Info("request_refused", {{"code", "invalid_request"}, {"reason", "inner request is not POST " + std::string(kInnerPath)}});
    out.refusal = Refusal{404, std::string(codes::kInvalidRequest)};
    return out;
  }
  out.request = std::move(*decoded);
  return out;
}

double Since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

HttpFrontend::HttpFrontend(FrontendOptions options, InferenceService& service, Metrics& metrics, KeyProvider keys)
    : options_(std::move(options)), service_(service), metrics_(metrics), keys_(std::move(keys)) {}

HttpFrontend::~HttpFrontend() { Stop(); }

Status HttpFrontend::Start() {
  http_ = std::make_unique<httplib::Server>();
  const size_t threads = options_.worker_threads;
  http_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http_->set_payload_max_length(options_.max_request_bytes);
  http_->set_read_timeout(30, 0);
  // Each sealed SSE chunk must leave at once (no Nagle delay behind the previous small write).
  http_->set_tcp_nodelay(true);
  http_->set_keep_alive_max_count(100);
  http_->set_write_timeout(30, 0);
  Route();
  CMLN_ASSIGN_OR_RETURN(port_, BindServer(*http_, options_.host, options_.port));
  thread_ = ListenInBackground(*http_);
  return OkStatus();
}

void HttpFrontend::Stop() {
  if (http_) http_->stop();
  if (thread_.joinable()) thread_.join();
}

void HttpFrontend::Route() {
  httplib::Server& s = *http_;
  s.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    if (res.status == 413) return PlainError(res, 413, "request_too_large");
    if (res.status == 404) return PlainError(res, 404, "not_found");
    PlainError(res, res.status, "bad_request");
  });

  s.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    auto keys = keys_();
    json j = {{"status", keys ? "ok" : "starting"}, {"node_id", service_.options().node_id}};
    if (keys) {
      j["epoch"] = keys->epoch;
      j["key_id"] = keys->key_id;
    }
    res.status = keys ? 200 : 503;
    res.set_content(j.dump(), kJson);
  });
  s.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics_.Render(), "text/plain; version=0.0.4");
  });
  s.Get("/v1/attestation", [this](const httplib::Request&, httplib::Response& res) {
    auto keys = keys_();
    if (!keys) return PlainError(res, 503, "starting");
    res.set_content(keys->bundle_json, kJson);
  });
  s.Get("/.well-known/ohttp-gateway", [this](const httplib::Request&, httplib::Response& res) {
    auto keys = keys_();
    if (!keys) return PlainError(res, 503, "starting");
    auto list = keys->gateway.EncodedKeyConfigs();
    if (!list.ok()) return PlainError(res, 500, "internal");
    res.set_content(std::string(AsChars(*list)), std::string(ohttp::kKeysMediaType));
  });
  s.Get("/api/v1/encrypted/identity", [this](const httplib::Request&, httplib::Response& res) {
    auto keys = keys_();
    if (!keys) return PlainError(res, 503, "starting");
    res.set_content(keys->identity_json, kJson);
  });

  // B1: plaintext inference is refused before anything is parsed; nothing reaches the engine.
  const auto refuse_plaintext = [this](const httplib::Request& req, httplib::Response& res) {
    log::Info("request_refused", {{"transport", "plaintext"}, {"code", "plaintext_refused"}, {"path", req.path}});
    metrics_.CountRequest("plaintext", "plaintext_refused");
    res.status = 403;
    res.set_content(json{{"error",
                          {{"message", "this node accepts only encrypted requests (OHTTP or envelope v1)"},
                           {"type", "invalid_request_error"},
                           {"code", "plaintext_refused"}}}}
                        .dump(),
                    kJson);
  };
  s.Post(R"(/(v1/)?(chat/completions|completions|embeddings|responses|tokenize))", refuse_plaintext);
  s.Post(R"(/api/v1/(chat/completions|completions))", refuse_plaintext);

  s.Post("/v1/ohttp", [this](const httplib::Request& req, httplib::Response& res) {
    const auto t0 = std::chrono::steady_clock::now();
    const std::string type = req.get_header_value("Content-Type");
    const bool chunked = type == ohttp::kChunkedRequestMediaType;
    if (!chunked && type != ohttp::kRequestMediaType) {
      metrics_.CountRequest("ohttp", "unsupported_media_type");
      return PlainError(res, 415, "unsupported_media_type");
    }
    const std::string transport = chunked ? "ohttp_chunked" : "ohttp";
    auto keys = keys_();
    if (!keys) return PlainError(res, 503, "starting");
    const ByteView body = AsBytes(req.body);

    if (!chunked) {
      auto opened = keys->gateway.DecapsulateRequest(body);
      if (!opened.ok()) return EncapsulationError(res, metrics_, transport, opened.error());
      auto seal_answer = [&](const bhttp::Response& inner) {
        auto bytes = bhttp::EncodeResponse(inner);
        auto sealed = bytes.ok() ? opened->context.EncapsulateResponse(*bytes) : Result<Bytes>(bytes.error());
        if (!sealed.ok()) return PlainError(res, 500, "internal");
        res.set_content(std::string(AsChars(*sealed)), std::string(ohttp::kResponseMediaType));
      };
      Inner inner = DecodeInner(opened->bhttp_request, options_.max_request_bytes);
      if (inner.refusal) return seal_answer(RefusalResponse(*inner.refusal));
      const std::string* auth = FindField(inner.request.headers, seal::kAuthorizationHeader);
      auto admitted = service_.Admit(auth ? *auth : "", inner.request.content, /*stream_allowed=*/false, transport);
      if (auto* r = std::get_if<Refusal>(&admitted)) return seal_answer(RefusalResponse(*r));
      auto result = service_.Complete(std::move(std::get<AdmittedRequest>(admitted)), *keys);
      if (auto* r = std::get_if<Refusal>(&result)) return seal_answer(RefusalResponse(*r));
      Answer& answer = std::get<Answer>(result);
      bhttp::Response ok = JsonResponse(200, std::move(answer.content));
      ok.headers.push_back({std::string(seal::kReceiptHeader), Base64Encode(answer.receipt)});
      seal_answer(ok);
      metrics_.CountRequest(transport, "ok");
      metrics_.ObserveLatency(transport, Since(t0));
      return;
    }

    // Chunked OHTTP: the whole request is read (bounded by max_request_bytes), then answered chunk by chunk.
    ohttp::ChunkedOptions copts;
    copts.max_total_plaintext = options_.max_request_bytes;
    ohttp::ChunkedRequestOpener opener(keys->gateway, copts);
    auto chunks = opener.Push(body);
    Result<Bytes> last = chunks.ok() ? opener.Finish() : Result<Bytes>(chunks.error());
    if (!last.ok()) return EncapsulationError(res, metrics_, transport, last.error());
    Bytes plaintext;
    for (const auto& c : *chunks) Append(plaintext, c);
    Append(plaintext, *last);
    auto sealer = opener.NewResponseSealer();
    if (!sealer.ok()) return PlainError(res, 500, "internal");
    auto answer_once = [&](const bhttp::Response& inner) {
      auto bytes = bhttp::EncodeResponse(inner);
      auto sealed = bytes.ok() ? sealer->SealFinalChunk(*bytes) : Result<Bytes>(bytes.error());
      if (!sealed.ok()) return PlainError(res, 500, "internal");
      res.set_content(std::string(AsChars(*sealed)), std::string(ohttp::kChunkedResponseMediaType));
    };
    Inner inner = DecodeInner(plaintext, options_.max_request_bytes);
    if (inner.refusal) return answer_once(RefusalResponse(*inner.refusal));
    const std::string* auth = FindField(inner.request.headers, seal::kAuthorizationHeader);
    auto admitted = service_.Admit(auth ? *auth : "", inner.request.content, /*stream_allowed=*/true, transport);
    if (auto* r = std::get_if<Refusal>(&admitted)) return answer_once(RefusalResponse(*r));
    AdmittedRequest& request = std::get<AdmittedRequest>(admitted);
    if (!request.stream()) {
      auto result = service_.Complete(std::move(request), *keys);
      if (auto* r = std::get_if<Refusal>(&result)) return answer_once(RefusalResponse(*r));
      Answer& answer = std::get<Answer>(result);
      bhttp::Response ok = JsonResponse(200, std::move(answer.content));
      ok.headers.push_back({std::string(seal::kReceiptHeader), Base64Encode(answer.receipt)});
      answer_once(ok);
      metrics_.CountRequest(transport, "ok");
      metrics_.ObserveLatency(transport, Since(t0));
      return;
    }

    // A stream: the head, each SSE event and the trailer each sealed as its own chunk, written as produced.
    struct Job {
      AdmittedRequest request;
      ohttp::ChunkedResponseSealer sealer;
      std::shared_ptr<const KeySet> keys;
    };
    auto job = std::make_shared<Job>(Job{std::move(request), std::move(*sealer), keys});
    res.set_chunked_content_provider(
        std::string(ohttp::kChunkedResponseMediaType),
        [this, job, transport, t0](size_t, httplib::DataSink& sink) {
          auto write_chunk = [&](const Result<Bytes>& sealed) {
            return sealed.ok() && sink.write(reinterpret_cast<const char*>(sealed->data()), sealed->size());
          };
          bhttp::Response head;
          head.status = 200;
          head.headers = {{"content-type", "text/event-stream"}};
          auto head_bytes = bhttp::EncodeIndeterminateResponseHead(head);
          if (!head_bytes.ok() || !write_chunk(job->sealer.SealChunk(*head_bytes))) return false;
          auto result = service_.Stream(std::move(job->request), *job->keys, [&](std::string_view event) {
            auto chunk = bhttp::EncodeIndeterminateContentChunk(AsBytes(event));
            return chunk.ok() && write_chunk(job->sealer.SealChunk(*chunk));
          });
          bhttp::Fields trailers;
          if (auto* receipt = std::get_if<Bytes>(&result)) {
            trailers.push_back({std::string(seal::kReceiptHeader), Base64Encode(*receipt)});
          } else {
            // The engine failed mid-stream: an error event, no receipt, nothing charged.
            const std::string event = "data: " + std::get<Refusal>(result).Body() + "\n\n";
            auto chunk = bhttp::EncodeIndeterminateContentChunk(AsBytes(event));
            if (chunk.ok()) write_chunk(job->sealer.SealChunk(*chunk));
          }
          auto tail = bhttp::EncodeIndeterminateResponseTail(trailers);
          if (!tail.ok() || !write_chunk(job->sealer.SealFinalChunk(*tail))) return false;
          sink.done();
          if (std::holds_alternative<Bytes>(result)) {
            metrics_.CountRequest(transport, "ok");
            metrics_.ObserveLatency(transport, Since(t0));
          }
          return true;
        });
  });

  s.Post("/api/v1/encrypted/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
    const auto t0 = std::chrono::steady_clock::now();
    const std::string transport = "envelope_v1";
    auto keys = keys_();
    if (!keys) return PlainError(res, 503, "starting");
    auto opened = seal::envelope_v1::OpenRequest(keys->hpke, req.body, *keys->envelope_replay);
    if (!opened.ok()) {
      const ErrorCode c = opened.error().code();
      const int status = seal::envelope_v1::HttpStatusFor(c);
      const char* code = c == ErrorCode::kUnknownKeyId ? "stale_key"
                         : c == ErrorCode::kReplay    ? "replayed_request"
                                                      : "bad_encapsulation";
      log::Info("request_refused", {{"transport", transport}, {"code", code}, {"reason", std::string(ErrorCodeName(c))}});
      metrics_.CountRequest(transport, code);
      return PlainError(res, status, code);
    }
    auto seal_answer = [&](int status, const std::string& body) {
      auto sealed = seal::envelope_v1::SealResponse(opened->context, AsBytes(body));
      if (!sealed.ok()) return PlainError(res, 500, "internal");
      res.status = status;
      res.set_content(*sealed, kJson);
    };
    auto admitted = service_.Admit(req.get_header_value(kEnvelopeAuthorizationHeader), opened->body,
                                   /*stream_allowed=*/false, transport);
    if (auto* r = std::get_if<Refusal>(&admitted)) return seal_answer(r->status, r->Body());
    auto result = service_.Complete(std::move(std::get<AdmittedRequest>(admitted)), *keys);
    if (auto* r = std::get_if<Refusal>(&result)) return seal_answer(r->status, r->Body());
    Answer& answer = std::get<Answer>(result);
    auto body = SpliceReceipt(answer.content, answer.receipt);
    if (!body.ok()) return PlainError(res, 500, "internal");
    seal_answer(200, *body);
    metrics_.CountRequest(transport, "ok");
    metrics_.ObserveLatency(transport, Since(t0));
  });
}

}  // namespace cmln::node
