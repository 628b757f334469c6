// Gonka encrypted envelope v1: the JSON-over-HTTP wire format of the Gonka TEE experiment, implemented
// byte-compatibly so existing Gonka clients can talk to our nodes. The normative description is
// ENVELOPE_V1.md (shared reference); docs/seal-envelope-v1.md says what we implement and where it is weak.
//
// One request, one response, no streaming:
//   client                                         node
//   SealRequest(node pk, session, nonce, body) ──► OpenRequest(node key, json, replay guard)
//   OpenResponse(ctx, json)               ◄──────  SealResponse(ctx, body)
//
// HPKE base mode, suite (0x0020, 0x0001, 0x0003), info kHpkeInfo. The response key is the HPKE secret
// export (kResponseKeyExporterContext, 32 bytes) on both sides; the response body is ChaCha20-Poly1305 under
// that key with a random 12-byte nonce carried in the response.
//
// Contract:
// - Every function returns a value or an Error; nothing throws (JSON is parsed with exceptions disabled).
// - Parsing is strict: the JSON text is capped (kMaxJsonSize) and its nesting depth bounded before parsing;
//   the top level must be an object with exactly the fields of the format (unknown or duplicate keys are
//   refused); every field has one JSON type; base64 is the canonical padded RFC 4648 form; binary fields
//   have their exact sizes. Error messages name the field, never plaintext or keys.
// - Error codes of OpenRequest (the node turns them into HTTP statuses with HttpStatusFor):
//     kLengthTooLarge  JSON text or session_id above its cap
//     kBadEncoding     not JSON (or invalid UTF-8), or a field that is not canonical base64
//     kMalformed       not an object, unknown/duplicate/missing field, wrong JSON type, malformed key id,
//                      ciphertext shorter than the AEAD tag
//     kTruncated / kTrailingData   enc or prompt_hash decodes to too few / too many bytes
//     kUnsupported     version != 1, or a suite other than (0x0020, 0x0001, 0x0003)
//     kUnknownKeyId    well-formed recipient_key_id that is not the node's (HTTP 421: client re-attests)
//     kInvalidKey      enc is a small-order X25519 point
//     kDecryptFailed   authentication failed (any byte of ciphertext/enc/session_id/nonce/prompt_hash
//                      changed), or prompt_hash is not SHA-256 of the decrypted body
//     kReplay          nonce not strictly greater than the last one accepted in this session (HTTP 409)
//   OpenResponse uses the same codes (no kUnknownKeyId/kReplay; session_id/nonce that differ from the
//   request are kMalformed; response_nonce of the wrong size is kTruncated/kTrailingData).
// - Thread safety: free functions are thread-safe. ReplayGuard is internally synchronized and may be shared
//   by all request handlers. A ResponseContext is a plain value owned by its holder.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/bytes.h"
#include "common/status.h"
#include "seal/crypto.h"
#include "seal/hpke.h"

namespace cmln::seal::envelope_v1 {

// --- Labels and identifiers (ENVELOPE_V1.md) --------------------------------------------------------------
inline constexpr std::string_view kHpkeInfo = "gonka/devshard/hpke-info/v1";
inline constexpr std::string_view kRequestAadLabel = "gonka/devshard/req/v1";
inline constexpr std::string_view kResponseAadLabel = "gonka/devshard/resp/v1";
inline constexpr std::string_view kResponseKeyExporterContext = "gonka/devshard/response-key/v1";
inline constexpr std::string_view kEnvelopeVersionName = "v1";  // identity document's envelope_version
inline constexpr uint64_t kVersion = 1;                         // request/response "version"
inline constexpr uint16_t kKemId = 0x0020;                      // DHKEM(X25519, HKDF-SHA256)
inline constexpr uint16_t kKdfId = 0x0001;                      // HKDF-SHA256
inline constexpr uint16_t kAeadId = 0x0003;                     // ChaCha20-Poly1305
inline constexpr hpke::Suite kSuite{hpke::KemId::kX25519HkdfSha256, hpke::KdfId::kHkdfSha256,
                                    hpke::AeadId::kChaCha20Poly1305};

// --- Sizes and caps ----------------------------------------------------------------------------------------
inline constexpr size_t kEncSize = hpke::kEncSize;            // 32 raw bytes of the encapsulated key
inline constexpr size_t kPromptHashSize = 32;                 // SHA-256
inline constexpr size_t kResponseKeySize = 32;                // exporter length
inline constexpr size_t kResponseNonceSize = kAeadNonceSize;  // 12
inline constexpr size_t kKeyIdBytes = 8;                      // first 8 bytes of SHA-256(pk)...
inline constexpr size_t kKeyIdHexSize = 2 * kKeyIdBytes;      // ...as 16 lowercase hex characters
// Our caps (the format has none): the whole JSON text, checked before parsing, and the session id.
inline constexpr size_t kMaxJsonSize = 8u << 20;  // 8 MiB
inline constexpr size_t kMaxSessionIdSize = 256;
// Nesting allowed before parsing: requests and responses are flat objects; the identity's "extra" may nest.
inline constexpr size_t kMaxMessageDepth = 1;
inline constexpr size_t kMaxIdentityDepth = 16;

// Lowercase hex of the first 8 bytes of SHA-256(x25519 public key).
std::string RecipientKeyId(const X25519PublicKey& public_key);

// The associated data of the two messages: the parts joined by single 0x00 bytes.
//   request AAD  = kRequestAadLabel 0x00 session_id 0x00 uint64be(nonce) 0x00 prompt_hash[32]
//   response AAD = kResponseAadLabel 0x00 session_id 0x00 uint64be(nonce)
Bytes RequestAad(std::string_view session_id, uint64_t nonce, const Digest32& prompt_hash);
Bytes ResponseAad(std::string_view session_id, uint64_t nonce);

// --- Messages as data ---------------------------------------------------------------------------------------
// Field values exactly as on the wire, base64 already decoded. Parse* applies every check listed in the file
// comment except those needing a key (key id match, decryption); Serialize* writes the fields in the order of
// ENVELOPE_V1.md and never fails.
struct Request {
  uint64_t version = kVersion;
  std::string session_id;
  uint64_t nonce = 0;
  std::string recipient_key_id;
  uint16_t kem_id = kKemId;
  uint16_t kdf_id = kKdfId;
  uint16_t aead_id = kAeadId;
  Bytes enc;  // kEncSize after a successful parse
  Digest32 prompt_hash{};
  Bytes ciphertext;  // HPKE ciphertext || tag
};
Result<Request> ParseRequest(std::string_view json_text);
std::string SerializeRequest(const Request& request);

struct Response {
  uint64_t version = kVersion;
  std::string session_id;
  uint64_t nonce = 0;
  uint16_t aead_id = kAeadId;
  std::array<uint8_t, kResponseNonceSize> response_nonce{};
  Bytes ciphertext;  // ChaCha20-Poly1305 ciphertext || tag
};
Result<Response> ParseResponse(std::string_view json_text);
std::string SerializeResponse(const Response& response);

// --- The exchange -----------------------------------------------------------------------------------------
// What both sides keep between a request and its response: the request's session id and nonce (the response
// AAD) and the exported response key. Move-only (the key is a SecretBytes).
struct ResponseContext {
  std::string session_id;
  uint64_t nonce = 0;
  SecretBytes response_key;  // kResponseKeySize bytes
};

struct SealedRequest {
  std::string json;         // the request body to POST
  ResponseContext context;  // for OpenResponse
};

// Client: seals `body` to the node's X25519 public key with a fresh ephemeral key.
// kInvalidArgument for an empty session_id, kLengthTooLarge for a session_id above kMaxSessionIdSize or a
// request whose JSON would exceed kMaxJsonSize (the node would refuse it); kInvalidKey for a small-order key.
Result<SealedRequest> SealRequest(const X25519PublicKey& node_public_key, std::string_view session_id, uint64_t nonce,
                                  ByteView body);
// Deterministic variant with a given ephemeral private key: known-answer and interop tests only.
Result<SealedRequest> SealRequestForTesting(const X25519PublicKey& node_public_key, std::string_view session_id,
                                            uint64_t nonce, ByteView body, ByteView ephemeral_private_key);

// Per-session replay protection for the node (threat B3). For each session id it remembers the highest nonce
// accepted; a nonce is accepted only if it is strictly greater (nonces are monotonic per session, as the
// format requires). At most `max_sessions` sessions are remembered; when a new session would exceed that, the
// least recently used session is forgotten. Forgetting is the one weakness: a request of a forgotten session
// can be replayed once. It is bounded by the size (64 Ki sessions by default, well above the sessions a node
// serves between key rotations) and ends when the node key rotates: requests sealed to an old key fail with
// kUnknownKeyId. Thread-safe.
class ReplayGuard {
 public:
  static constexpr size_t kDefaultMaxSessions = 1u << 16;
  // REQUIRES: max_sessions >= 1 (0 is treated as 1).
  explicit ReplayGuard(size_t max_sessions = kDefaultMaxSessions);
  ReplayGuard(const ReplayGuard&) = delete;
  ReplayGuard& operator=(const ReplayGuard&) = delete;

  // OK and records `nonce` as the session's highest if it is new; kReplay (nothing changes) otherwise.
  Status Accept(std::string_view session_id, uint64_t nonce);
  size_t session_count() const;

 private:
  using Lru = std::list<std::pair<std::string, uint64_t>>;  // most recently used first
  mutable std::mutex mu_;
  const size_t max_sessions_;
  Lru lru_;
  std::unordered_map<std::string, Lru::iterator> index_;
};

struct OpenedRequest {
  Bytes body;               // the plaintext request body
  ResponseContext context;  // for SealResponse
};

// Node: parses and opens a request sealed to `node_key`, checks prompt_hash, and only then records the nonce
// in `replay_guard` (so unauthenticated requests cannot burn nonces). On failure nothing is recorded.
Result<OpenedRequest> OpenRequest(const X25519KeyPair& node_key, std::string_view request_json,
                                  ReplayGuard& replay_guard);

// Node: seals the response body under the context's key with 12 fresh random bytes as the nonce.
// kLengthTooLarge if the response JSON would exceed kMaxJsonSize.
Result<std::string> SealResponse(const ResponseContext& context, ByteView body);
// Deterministic variant with a given response nonce: tests only.
Result<std::string> SealResponseForTesting(const ResponseContext& context, ByteView body, ByteView response_nonce);

// Client: parses and opens the response to the request that produced `context`.
Result<Bytes> OpenResponse(const ResponseContext& context, std::string_view response_json);

// HTTP status a node answers for an OpenRequest error code: 421 kUnknownKeyId (client re-attests), 409 kReplay,
// 500 kInternal (our fault), 200 kOk, and 400 for every other failure to open (one generic status, so the peer
// learns nothing finer than "cannot open"; the precise code stays in the node's local log).
int HttpStatusFor(ErrorCode code);

// --- Identity document (GET /api/v1/encrypted/identity) ---------------------------------------------------
struct Identity {
  std::string provider;
  std::string envelope_version{kEnvelopeVersionName};
  X25519PublicKey public_key{};
  std::string key_id;                               // RecipientKeyId(public_key)
  Bytes quote;                                      // raw TEE quote (base64 on the wire)
  Bytes measurement;                                // MRTD (lowercase hex on the wire)
  nlohmann::json extra = nlohmann::json::object();  // any JSON value, passed through
};
// kInvalidArgument if envelope_version is not "v1" or key_id is not RecipientKeyId(public_key).
Result<std::string> EncodeIdentity(const Identity& identity);
// Strict like ParseRequest; kUnsupported for an envelope_version other than "v1", kChecksumMismatch when key_id
// is not RecipientKeyId(public_key), kBadEncoding for bad base64 or hex. Checks no quote (that is attest's job).
Result<Identity> DecodeIdentity(std::string_view json_text);

}  // namespace cmln::seal::envelope_v1
