// The inference service inside the encryption (docs/node-protocol.md): admission of one decrypted
// request (authorization, replay, OpenAI request, escrow and quota, concurrency), the engine run, and the
// receipt signed by the TEE key. Transports (OHTTP, chunked OHTTP, envelope v1: http_frontend.h) decrypt,
// call Admit then Complete or Stream, and encrypt what comes back.
//
// Every refusal is a Refusal {HTTP status, protocol code, generic message}: the peer learns the code of
// the table in docs/node-protocol.md and nothing finer; the precise reason goes to the local log without
// content (THREATS B2). Nothing is charged for a refused request.
//
// Thread safety: InferenceService methods may be called from many threads. A KeySet is immutable after
// construction except its receipt sequence (atomic); it is shared through std::shared_ptr so a request
// keeps the keys it was decrypted with while the node rotates to new ones.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "common/bytes.h"
#include "common/status.h"
#include "engine/engine.h"
#include "engine/openai_server.h"
#include "node/ledger.h"
#include "node/usage_aggregator.h"
#include "node/metrics.h"
#include "seal/crypto.h"
#include "seal/envelope_v1.h"
#include "seal/inference_protocol.h"
#include "seal/ohttp.h"

namespace cmln::node {

// The keys of one attestation (one boot or one epoch): never written to disk.
struct KeySet {
  // Generates a fresh X25519 HPKE key (OHTTP key config `key_id`, X25519 / HKDF-SHA256 with AES-128-GCM,
  // AES-256-GCM and ChaCha20-Poly1305) and a fresh Ed25519 signing key.
  static Result<std::shared_ptr<KeySet>> Generate(uint8_t key_id);

  uint8_t key_id = 0;
  uint64_t epoch = 0;
  seal::X25519KeyPair hpke;  // the OHTTP gateway's key, also the envelope v1 key
  seal::ohttp::Gateway gateway;
  seal::Ed25519PrivateKey sign_key = seal::Ed25519PrivateKey::Generate();
  seal::ohttp::KeyConfig key_config;
  Bytes key_config_bytes;         // EncodeKeyConfig(key_config)
  std::string bundle_json;        // the attestation bundle of these keys (set before serving)
  std::string identity_json;      // envelope v1 identity document (set before serving)
  std::unique_ptr<seal::envelope_v1::ReplayGuard> envelope_replay =
      std::make_unique<seal::envelope_v1::ReplayGuard>();
  mutable std::atomic<uint64_t> receipt_sequence{0};  // last receipt sequence signed with sign_key
};

struct ServiceOptions {
  std::string chain_id;
  std::string node_id;
  std::string model_id;
  uint64_t price_per_token = 0;
  int64_t max_clock_skew_s = 300;
  uint32_t default_max_tokens = 256;
  uint32_t max_tokens_limit = 4096;
  size_t max_in_flight = 64;
  size_t max_request_bytes = 1 << 20;
};

// What the peer sees of a refusal: inside the encryption, {"error": {"message", "type", "code"}}.
struct Refusal {
  int status = 500;
  std::string code;  // the protocol code, e.g. "quota_exhausted"
  std::string Body() const;
};

// Protocol codes (docs/node-protocol.md).
namespace codes {
inline constexpr std::string_view kBadAuthorization = "bad_authorization";
inline constexpr std::string_view kWrongNode = "wrong_node";
inline constexpr std::string_view kStaleTimestamp = "stale_timestamp";
inline constexpr std::string_view kDigestMismatch = "digest_mismatch";
inline constexpr std::string_view kBadSignature = "bad_signature";
inline constexpr std::string_view kReplayedRequest = "replayed_request";
inline constexpr std::string_view kInvalidRequest = "invalid_request";
inline constexpr std::string_view kStreamUnsupported = "stream_unsupported";
inline constexpr std::string_view kEscrowNotFound = "escrow_not_found";
inline constexpr std::string_view kEscrowClosed = "escrow_closed";
inline constexpr std::string_view kWrongModel = "wrong_model";
inline constexpr std::string_view kNotEscrowOwner = "not_escrow_owner";
inline constexpr std::string_view kQuotaExhausted = "quota_exhausted";
inline constexpr std::string_view kOverloaded = "overloaded";
inline constexpr std::string_view kChainUnavailable = "chain_unavailable";
inline constexpr std::string_view kEngineError = "engine_error";
}  // namespace codes

class InferenceService;

// A request that passed admission: its quota is reserved and it holds an in-flight slot until the
// Complete/Stream call that consumes it returns (or until it is destroyed unused, which releases both).
class AdmittedRequest {
 public:
  AdmittedRequest(AdmittedRequest&& o) noexcept;
  AdmittedRequest& operator=(AdmittedRequest&&) = delete;
  AdmittedRequest(const AdmittedRequest&) = delete;
  ~AdmittedRequest();

  bool stream() const { return chat_.stream; }
  const seal::RequestAuthorization& authorization() const { return auth_; }

 private:
  friend class InferenceService;
  AdmittedRequest() = default;

  InferenceService* service_ = nullptr;
  seal::RequestAuthorization auth_;
  engine::OpenAiChatRequest chat_;
  QuotaLedger::Reservation reservation_;
  bool live_ = false;  // holds the reservation and the in-flight slot
};

// A finished non-streamed answer: the OpenAI JSON and the encoded receipt over it.
struct Answer {
  std::string content;  // the chat.completion JSON
  Bytes receipt;        // EncodeReceipt
};

class InferenceService {
 public:
  using UnixClock = std::function<int64_t()>;
  InferenceService(ServiceOptions options, engine::Engine& engine, QuotaLedger& ledger, ReplayCache& replay,
                   UsageAggregator& usage, Metrics& metrics, UnixClock clock = nullptr);

  const ServiceOptions& options() const { return options_; }
  void set_price_per_token(uint64_t price) { price_.store(price); }

  // Admission, the checks of docs/node-protocol.md in their order. `authorization_b64` is the header
  // value (empty if absent); `content` the request content exactly as received. A streamed request is
  // refused with stream_unsupported unless `stream_allowed`.
  std::variant<AdmittedRequest, Refusal> Admit(std::string_view authorization_b64, ByteView content,
                                               bool stream_allowed, std::string_view transport);

  // Runs a non-streamed request (stream() false, or a transport that answers in one piece). Consumes it.
  std::variant<Answer, Refusal> Complete(AdmittedRequest request, const KeySet& keys);

  // Runs a streamed request: `emit` gets each SSE event ("data: {json}\n\n", ... "data: [DONE]\n\n") as
  // it is produced and returns false when the peer is gone (generation is then cancelled; the usage so
  // far is still billed and a receipt signed). Returns the encoded receipt over the concatenated events,
  // or a Refusal (engine failure, nothing charged) — which may come after events were emitted.
  std::variant<Bytes, Refusal> Stream(AdmittedRequest request, const KeySet& keys,
                                      const std::function<bool(std::string_view event)>& emit);

  size_t in_flight() const { return in_flight_.load(); }

 private:
  friend class AdmittedRequest;
  Refusal Refuse(int status, std::string_view code, std::string_view transport, std::string_view reason);
  void Abandon(AdmittedRequest& request);
  // Bills `usage` and signs the receipt over `response_digest`. Consumes the reservation.
  Result<Bytes> Bill(AdmittedRequest& request, const KeySet& keys, const engine::Usage& usage,
                     const seal::Digest32& response_digest);
  engine::ResponseMeta NewMeta();

  ServiceOptions options_;
  engine::Engine& engine_;
  QuotaLedger& ledger_;
  ReplayCache& replay_;
  UsageAggregator& usage_;
  Metrics& metrics_;
  UnixClock clock_;
  engine::OpenAiLimits limits_;
  std::atomic<uint64_t> price_{0};
  std::atomic<size_t> in_flight_{0};
  std::atomic<uint64_t> next_response_id_{0};
  std::string response_id_prefix_;
};

// The envelope v1 response body: `completion_json` with "gonka_receipt": base64(receipt) spliced in
// before its final '}' (docs/node-protocol.md). kInvalidArgument if the text does not end with '}'.
Result<std::string> SpliceReceipt(std::string_view completion_json, ByteView receipt);

}  // namespace cmln::node
