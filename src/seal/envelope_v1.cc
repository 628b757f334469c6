// Gonka encrypted envelope v1 (see envelope_v1.h and ENVELOPE_V1.md).
//
// Wire grammar (JSON, UTF-8; every listed field required, no others; order free on input, this order on output):
//   request  = { "version": 1, "session_id": string, "nonce": uint64, "recipient_key_id": hex16,
//                "kem_id": 32, "kdf_id": 1, "aead_id": 3, "enc": b64(32 bytes),
//                "prompt_hash": b64(32 bytes), "ciphertext": b64(HPKE ct || 16-byte tag) }
//   response = { "version": 1, "session_id": string, "nonce": uint64, "aead_id": 3,
//                "response_nonce": b64(12 bytes), "ciphertext": b64(ChaCha20-Poly1305 ct || tag) }
//   identity = { "provider": string, "envelope_version": "v1", "public_key": b64(32 bytes),
//                "key_id": hex16, "quote": b64(bytes), "measurement": hex(bytes), "extra": any JSON }
//   hex16    = 16 lowercase hex characters; b64 = RFC 4648 base64 with padding (canonical)
//   uint64   = a JSON integer in [0, 2^64-1] (no fraction, no exponent, no sign)
//
// The JSON text is capped and scanned for nesting depth through a ByteReader before nlohmann::json parses it
// (with exceptions disabled and a callback that detects duplicate keys, which parsers resolve differently).
// Decoded binary fields are read back through a ByteReader so a wrong size is kTruncated or kTrailingData.
#include "seal/envelope_v1.h"

#include <initializer_list>
#include <set>
#include <vector>

#include "common/byte_reader.h"

namespace cmln::seal::envelope_v1 {

namespace {

using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;

constexpr uint8_t kAadSeparator = 0x00;

// Field names, one place.
constexpr std::string_view kFieldVersion = "version";
constexpr std::string_view kFieldSessionId = "session_id";
constexpr std::string_view kFieldNonce = "nonce";
constexpr std::string_view kFieldRecipientKeyId = "recipient_key_id";
constexpr std::string_view kFieldKemId = "kem_id";
constexpr std::string_view kFieldKdfId = "kdf_id";
constexpr std::string_view kFieldAeadId = "aead_id";
constexpr std::string_view kFieldEnc = "enc";
constexpr std::string_view kFieldPromptHash = "prompt_hash";
constexpr std::string_view kFieldCiphertext = "ciphertext";
constexpr std::string_view kFieldResponseNonce = "response_nonce";
constexpr std::string_view kFieldProvider = "provider";
constexpr std::string_view kFieldEnvelopeVersion = "envelope_version";
constexpr std::string_view kFieldPublicKey = "public_key";
constexpr std::string_view kFieldKeyId = "key_id";
constexpr std::string_view kFieldQuote = "quote";
constexpr std::string_view kFieldMeasurement = "measurement";
constexpr std::string_view kFieldExtra = "extra";

// Serialization never throws: strings that are not UTF-8 (possible only from a caller, never from a parse) are
// written with U+FFFD instead of raising nlohmann's type_error.
template <typename J>
std::string Dump(const J& j) {
  return j.dump(-1, ' ', false, J::error_handler_t::replace);
}

bool IsUtf8(std::string_view s) {
  const std::string written = Dump(json(std::string(s)));
  const json back = json::parse(written, nullptr, /*allow_exceptions=*/false);
  const auto* str = back.template get_ptr<const std::string*>();
  return str != nullptr && *str == s;
}

// Rejects nesting deeper than `max_depth` containers before a parser allocates one node per bracket.
Status CheckJsonDepth(std::string_view text, size_t max_depth, std::string_view what) {
  ByteReader r(AsBytes(text));
  size_t depth = 0;
  bool in_string = false;
  while (!r.empty()) {
    CMLN_ASSIGN_OR_RETURN(const uint8_t c, r.U8(what));
    if (in_string) {
      if (c == '\\') {
        CMLN_TRY(r.Skip(1, what));  // the escaped character cannot close the string
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > max_depth) {
        return Error(ErrorCode::kMalformed, std::string(what) + ": JSON nested deeper than " +
                                                std::to_string(max_depth) + " at offset " +
                                                std::to_string(r.offset() - 1));
      }
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return OkStatus();
}

// Parses `text` as one JSON object: size cap, depth cap, valid JSON, no duplicate keys at any level.
Result<json> ParseObject(std::string_view text, size_t max_depth, std::string_view what) {
  if (text.size() > kMaxJsonSize) {
    return Error(ErrorCode::kLengthTooLarge, std::string(what) + ": " + std::to_string(text.size()) +
                                                 " bytes exceed the cap of " + std::to_string(kMaxJsonSize));
  }
  CMLN_TRY(CheckJsonDepth(text, max_depth, what));
  std::vector<std::set<std::string>> open_objects;
  std::string duplicate;
  json::parser_callback_t on_event = [&](int /*depth*/, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start: open_objects.emplace_back(); break;
      case json::parse_event_t::object_end:
        if (!open_objects.empty()) open_objects.pop_back();
        break;
      case json::parse_event_t::key:
        if (const auto* key = parsed.get_ptr<const std::string*>();
            key != nullptr && !open_objects.empty() && !open_objects.back().insert(*key).second && duplicate.empty()) {
          duplicate = *key;
        }
        break;
      default: break;
    }
    return true;
  };
  json j = json::parse(text.begin(), text.end(), on_event, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Error(ErrorCode::kBadEncoding, std::string(what) + ": not valid JSON text");
  if (!j.is_object()) return Error(ErrorCode::kMalformed, std::string(what) + ": top level is not a JSON object");
  if (!duplicate.empty()) {
    return Error(ErrorCode::kMalformed, std::string(what) + ": duplicate key \"" + duplicate + "\"");
  }
  return j;
}

// Typed, error-returning access to the fields of a parsed object.
class Fields {
 public:
  Fields(const json& object, std::string_view what) : object_(object), what_(what) {}

  // kMalformed naming the first key that is not in `allowed`.
  Status OnlyKeys(std::initializer_list<std::string_view> allowed) const {
    for (const auto& item : object_.items()) {
      bool known = false;
      for (std::string_view a : allowed) known = known || item.key() == a;
      if (!known) return Err(ErrorCode::kMalformed, item.key(), "unknown field");
    }
    return OkStatus();
  }

  Result<const json*> Any(std::string_view name) const {
    auto it = object_.find(std::string(name));
    if (it == object_.end()) return Err(ErrorCode::kMalformed, name, "missing field");
    return &*it;
  }

  Result<std::string> String(std::string_view name) const {
    CMLN_ASSIGN_OR_RETURN(const json* v, Any(name));
    const auto* s = v->get_ptr<const std::string*>();
    if (s == nullptr) return Err(ErrorCode::kMalformed, name, "must be a JSON string");
    return *s;
  }

  Result<uint64_t> Uint64(std::string_view name) const {
    CMLN_ASSIGN_OR_RETURN(const json* v, Any(name));
    const auto* u = v->get_ptr<const json::number_unsigned_t*>();
    if (u == nullptr) return Err(ErrorCode::kMalformed, name, "must be a non-negative JSON integer");
    return static_cast<uint64_t>(*u);
  }

  Result<uint16_t> Uint16(std::string_view name) const {
    CMLN_ASSIGN_OR_RETURN(const uint64_t v, Uint64(name));
    if (v > 0xffff) return Err(ErrorCode::kMalformed, name, "exceeds 16 bits");
    return static_cast<uint16_t>(v);
  }

  Result<Bytes> Base64(std::string_view name) const {
    CMLN_ASSIGN_OR_RETURN(const std::string text, String(name));
    auto decoded = Base64Decode(text);
    if (!decoded.ok()) return decoded.error().WithContext(Path(name));
    return std::move(decoded).value();
  }

  // Base64 that must decode to exactly N bytes: too few is kTruncated, too many kTrailingData.
  template <size_t N>
  Result<std::array<uint8_t, N>> Base64Exact(std::string_view name) const {
    CMLN_ASSIGN_OR_RETURN(const Bytes raw, Base64(name));
    ByteReader r(raw);
    const std::string path = Path(name);
    CMLN_ASSIGN_OR_RETURN(const ByteView v, r.Bytes(N, path));
    CMLN_TRY(r.ExpectEnd(path));
    std::array<uint8_t, N> out{};
    std::copy(v.begin(), v.end(), out.begin());
    return out;
  }

  Error Err(ErrorCode code, std::string_view name, std::string_view why) const {
    return Error(code, Path(name) + ": " + std::string(why));
  }

 private:
  std::string Path(std::string_view name) const { return std::string(what_) + "." + std::string(name); }

  const json& object_;
  std::string_view what_;
};

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Status CheckKeyIdSyntax(const Fields& f, std::string_view name, const std::string& key_id) {
  if (key_id.size() != kKeyIdHexSize || !IsLowerHex(key_id)) {
    return f.Err(ErrorCode::kMalformed, name, "must be 16 lowercase hex characters");
  }
  return OkStatus();
}

Status CheckSessionIdSyntax(const Fields& f, const std::string& session_id) {
  if (session_id.empty()) return f.Err(ErrorCode::kMalformed, kFieldSessionId, "must not be empty");
  if (session_id.size() > kMaxSessionIdSize) {
    return f.Err(ErrorCode::kLengthTooLarge, kFieldSessionId,
                 std::to_string(session_id.size()) + " bytes exceed the cap of " + std::to_string(kMaxSessionIdSize));
  }
  return OkStatus();
}

// Checks a caller-supplied session id against what the node accepts, so we never seal what it refuses.
Status CheckOutgoingSessionId(std::string_view session_id) {
  if (session_id.empty()) return Error(ErrorCode::kInvalidArgument, "session_id must not be empty");
  if (session_id.size() > kMaxSessionIdSize) {
    return Error(ErrorCode::kLengthTooLarge, "session_id of " + std::to_string(session_id.size()) +
                                                 " bytes exceeds the cap of " + std::to_string(kMaxSessionIdSize));
  }
  if (!IsUtf8(session_id)) return Error(ErrorCode::kInvalidArgument, "session_id is not valid UTF-8");
  return OkStatus();
}

Status CheckOutgoingSize(const std::string& json_text, std::string_view what) {
  if (json_text.size() > kMaxJsonSize) {
    return Error(ErrorCode::kLengthTooLarge, std::string(what) + " of " + std::to_string(json_text.size()) +
                                                 " bytes would exceed the cap of " + std::to_string(kMaxJsonSize));
  }
  return OkStatus();
}

Result<SecretBytes> ExportResponseKey(const hpke::Context& context) {
  return context.Export(AsBytes(kResponseKeyExporterContext), kResponseKeySize);
}

Result<SealedRequest> SealRequestImpl(const X25519PublicKey& node_public_key, std::string_view session_id,
                                      uint64_t nonce, ByteView body, const ByteView* ephemeral_private_key) {
  CMLN_TRY(CheckOutgoingSessionId(session_id));
  const Digest32 prompt_hash = Sha256(body);
  Result<hpke::SenderSetup> setup =
      ephemeral_private_key == nullptr
          ? hpke::SetupBaseSender(kSuite, node_public_key, AsBytes(kHpkeInfo))
          : hpke::SetupBaseSenderForTesting(kSuite, node_public_key, AsBytes(kHpkeInfo), *ephemeral_private_key);
  if (!setup.ok()) return setup.error();
  CMLN_ASSIGN_OR_RETURN(Bytes ciphertext, setup->context.Seal(RequestAad(session_id, nonce, prompt_hash), body));
  CMLN_ASSIGN_OR_RETURN(SecretBytes response_key, ExportResponseKey(setup->context));

  Request request;
  request.session_id = std::string(session_id);
  request.nonce = nonce;
  request.recipient_key_id = RecipientKeyId(node_public_key);
  request.enc = std::move(setup->enc);
  request.prompt_hash = prompt_hash;
  request.ciphertext = std::move(ciphertext);
  std::string text = SerializeRequest(request);
  CMLN_TRY(CheckOutgoingSize(text, "request JSON"));
  return SealedRequest{std::move(text), ResponseContext{request.session_id, nonce, std::move(response_key)}};
}

Result<std::string> SealResponseImpl(const ResponseContext& context, ByteView body, ByteView response_nonce) {
  if (response_nonce.size() != kResponseNonceSize) {
    return Error(ErrorCode::kInvalidArgument, "response_nonce must be 12 bytes");
  }
  CMLN_ASSIGN_OR_RETURN(Aead aead, Aead::Create(AeadAlgorithm::kChaCha20Poly1305, context.response_key.view()));
  CMLN_ASSIGN_OR_RETURN(Bytes ciphertext,
                        aead.Seal(response_nonce, ResponseAad(context.session_id, context.nonce), body));
  Response response;
  response.session_id = context.session_id;
  response.nonce = context.nonce;
  std::copy(response_nonce.begin(), response_nonce.end(), response.response_nonce.begin());
  response.ciphertext = std::move(ciphertext);
  std::string text = SerializeResponse(response);
  CMLN_TRY(CheckOutgoingSize(text, "response JSON"));
  return text;
}

}  // namespace

std::string RecipientKeyId(const X25519PublicKey& public_key) {
  const Digest32 digest = Sha256(public_key);
  return HexEncode(ByteView(digest.data(), kKeyIdBytes));
}

Bytes RequestAad(std::string_view session_id, uint64_t nonce, const Digest32& prompt_hash) {
  ByteWriter w(kRequestAadLabel.size() + session_id.size() + 8 + kPromptHashSize + 3);
  w.Bytes(kRequestAadLabel);
  w.U8(kAadSeparator);
  w.Bytes(session_id);
  w.U8(kAadSeparator);
  w.U64BE(nonce);
  w.U8(kAadSeparator);
  w.Bytes(ByteView(prompt_hash));
  return w.Take();
}

Bytes ResponseAad(std::string_view session_id, uint64_t nonce) {
  ByteWriter w(kResponseAadLabel.size() + session_id.size() + 8 + 2);
  w.Bytes(kResponseAadLabel);
  w.U8(kAadSeparator);
  w.Bytes(session_id);
  w.U8(kAadSeparator);
  w.U64BE(nonce);
  return w.Take();
}

// --- Request -------------------------------------------------------------------------------------------------

Result<Request> ParseRequest(std::string_view json_text) {
  constexpr std::string_view kWhat = "request";
  CMLN_ASSIGN_OR_RETURN(const json object, ParseObject(json_text, kMaxMessageDepth, kWhat));
  const Fields f(object, kWhat);
  Request r;
  // Version and suite first: they decide what the other fields mean.
  CMLN_ASSIGN_OR_RETURN(r.version, f.Uint64(kFieldVersion));
  if (r.version != kVersion) {
    return f.Err(ErrorCode::kUnsupported, kFieldVersion, "version " + std::to_string(r.version) + " is not 1");
  }
  CMLN_ASSIGN_OR_RETURN(r.kem_id, f.Uint16(kFieldKemId));
  CMLN_ASSIGN_OR_RETURN(r.kdf_id, f.Uint16(kFieldKdfId));
  CMLN_ASSIGN_OR_RETURN(r.aead_id, f.Uint16(kFieldAeadId));
  if (r.kem_id != kKemId || r.kdf_id != kKdfId || r.aead_id != kAeadId) {
    return Error(ErrorCode::kUnsupported, "request: suite (kem_id " + std::to_string(r.kem_id) + ", kdf_id " +
                                              std::to_string(r.kdf_id) + ", aead_id " + std::to_string(r.aead_id) +
                                              ") is not (32, 1, 3)");
  }
  CMLN_TRY(f.OnlyKeys({kFieldVersion, kFieldSessionId, kFieldNonce, kFieldRecipientKeyId, kFieldKemId, kFieldKdfId,
                       kFieldAeadId, kFieldEnc, kFieldPromptHash, kFieldCiphertext}));
  CMLN_ASSIGN_OR_RETURN(r.session_id, f.String(kFieldSessionId));
  CMLN_TRY(CheckSessionIdSyntax(f, r.session_id));
  CMLN_ASSIGN_OR_RETURN(r.nonce, f.Uint64(kFieldNonce));
  CMLN_ASSIGN_OR_RETURN(r.recipient_key_id, f.String(kFieldRecipientKeyId));
  CMLN_TRY(CheckKeyIdSyntax(f, kFieldRecipientKeyId, r.recipient_key_id));
  CMLN_ASSIGN_OR_RETURN(const auto enc, f.Base64Exact<kEncSize>(kFieldEnc));
  r.enc.assign(enc.begin(), enc.end());
  CMLN_ASSIGN_OR_RETURN(r.prompt_hash, f.Base64Exact<kPromptHashSize>(kFieldPromptHash));
  CMLN_ASSIGN_OR_RETURN(r.ciphertext, f.Base64(kFieldCiphertext));
  if (r.ciphertext.size() < kAeadTagSize) {
    return f.Err(ErrorCode::kMalformed, kFieldCiphertext, "shorter than the 16-byte AEAD tag");
  }
  return r;
}

std::string SerializeRequest(const Request& r) {
  ordered_json j;
  j[kFieldVersion] = r.version;
  j[kFieldSessionId] = r.session_id;
  j[kFieldNonce] = r.nonce;
  j[kFieldRecipientKeyId] = r.recipient_key_id;
  j[kFieldKemId] = r.kem_id;
  j[kFieldKdfId] = r.kdf_id;
  j[kFieldAeadId] = r.aead_id;
  j[kFieldEnc] = Base64Encode(r.enc);
  j[kFieldPromptHash] = Base64Encode(r.prompt_hash);
  j[kFieldCiphertext] = Base64Encode(r.ciphertext);
  return Dump(j);
}

// --- Response ------------------------------------------------------------------------------------------------

Result<Response> ParseResponse(std::string_view json_text) {
  constexpr std::string_view kWhat = "response";
  CMLN_ASSIGN_OR_RETURN(const json object, ParseObject(json_text, kMaxMessageDepth, kWhat));
  const Fields f(object, kWhat);
  Response r;
  CMLN_ASSIGN_OR_RETURN(r.version, f.Uint64(kFieldVersion));
  if (r.version != kVersion) {
    return f.Err(ErrorCode::kUnsupported, kFieldVersion, "version " + std::to_string(r.version) + " is not 1");
  }
  CMLN_ASSIGN_OR_RETURN(r.aead_id, f.Uint16(kFieldAeadId));
  if (r.aead_id != kAeadId) {
    return f.Err(ErrorCode::kUnsupported, kFieldAeadId, "aead_id " + std::to_string(r.aead_id) + " is not 3");
  }
  CMLN_TRY(
      f.OnlyKeys({kFieldVersion, kFieldSessionId, kFieldNonce, kFieldAeadId, kFieldResponseNonce, kFieldCiphertext}));
  CMLN_ASSIGN_OR_RETURN(r.session_id, f.String(kFieldSessionId));
  CMLN_TRY(CheckSessionIdSyntax(f, r.session_id));
  CMLN_ASSIGN_OR_RETURN(r.nonce, f.Uint64(kFieldNonce));
  CMLN_ASSIGN_OR_RETURN(r.response_nonce, f.Base64Exact<kResponseNonceSize>(kFieldResponseNonce));
  CMLN_ASSIGN_OR_RETURN(r.ciphertext, f.Base64(kFieldCiphertext));
  if (r.ciphertext.size() < kAeadTagSize) {
    return f.Err(ErrorCode::kMalformed, kFieldCiphertext, "shorter than the 16-byte AEAD tag");
  }
  return r;
}

std::string SerializeResponse(const Response& r) {
  ordered_json j;
  j[kFieldVersion] = r.version;
  j[kFieldSessionId] = r.session_id;
  j[kFieldNonce] = r.nonce;
  j[kFieldAeadId] = r.aead_id;
  j[kFieldResponseNonce] = Base64Encode(r.response_nonce);
  j[kFieldCiphertext] = Base64Encode(r.ciphertext);
  return Dump(j);
}

// --- Exchange ------------------------------------------------------------------------------------------------

Result<SealedRequest> SealRequest(const X25519PublicKey& node_public_key, std::string_view session_id, uint64_t nonce,
                                  ByteView body) {
  return SealRequestImpl(node_public_key, session_id, nonce, body, nullptr);
}

Result<SealedRequest> SealRequestForTesting(const X25519PublicKey& node_public_key, std::string_view session_id,
                                            uint64_t nonce, ByteView body, ByteView ephemeral_private_key) {
  return SealRequestImpl(node_public_key, session_id, nonce, body, &ephemeral_private_key);
}

ReplayGuard::ReplayGuard(size_t max_sessions) : max_sessions_(max_sessions == 0 ? 1 : max_sessions) {}

Status ReplayGuard::Accept(std::string_view session_id, uint64_t nonce) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string key(session_id);
  auto it = index_.find(key);
  if (it != index_.end()) {
    if (nonce <= it->second->second) {
      return Error(ErrorCode::kReplay,
                   "nonce " + std::to_string(nonce) + " is not above the last accepted nonce of the session");
    }
    it->second->second = nonce;
    lru_.splice(lru_.begin(), lru_, it->second);
    return OkStatus();
  }
  if (lru_.size() >= max_sessions_) {
    index_.erase(lru_.back().first);
    lru_.pop_back();
  }
  lru_.emplace_front(key, nonce);
  index_.emplace(std::move(key), lru_.begin());
  return OkStatus();
}

size_t ReplayGuard::session_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lru_.size();
}

Result<OpenedRequest> OpenRequest(const X25519KeyPair& node_key, std::string_view request_json,
                                  ReplayGuard& replay_guard) {
  CMLN_ASSIGN_OR_RETURN(const Request request, ParseRequest(request_json));
  // Key ids are public (derived from the public key), so a plain comparison is fine.
  if (request.recipient_key_id != RecipientKeyId(node_key.public_key)) {
    return Error(ErrorCode::kUnknownKeyId, "request.recipient_key_id: not this node's key");
  }
  CMLN_ASSIGN_OR_RETURN(hpke::Context context,
                        hpke::SetupBaseRecipient(kSuite, request.enc, node_key.private_key.view(), AsBytes(kHpkeInfo)));
  auto body = context.Open(RequestAad(request.session_id, request.nonce, request.prompt_hash), request.ciphertext);
  if (!body.ok()) return body.error().WithContext("request.ciphertext");
  const Digest32 actual_hash = Sha256(*body);
  if (!ConstantTimeEqual(actual_hash, request.prompt_hash)) {
    return Error(ErrorCode::kDecryptFailed, "request.prompt_hash: does not match the decrypted body");
  }
  CMLN_ASSIGN_OR_RETURN(SecretBytes response_key, ExportResponseKey(context));
  CMLN_TRY(replay_guard.Accept(request.session_id, request.nonce));
  return OpenedRequest{std::move(body).value(),
                       ResponseContext{request.session_id, request.nonce, std::move(response_key)}};
}

Result<std::string> SealResponse(const ResponseContext& context, ByteView body) {
  std::array<uint8_t, kResponseNonceSize> nonce{};
  RandomBytes(nonce);
  return SealResponseImpl(context, body, nonce);
}

Result<std::string> SealResponseForTesting(const ResponseContext& context, ByteView body, ByteView response_nonce) {
  return SealResponseImpl(context, body, response_nonce);
}

Result<Bytes> OpenResponse(const ResponseContext& context, std::string_view response_json) {
  CMLN_ASSIGN_OR_RETURN(const Response response, ParseResponse(response_json));
  if (response.session_id != context.session_id) {
    return Error(ErrorCode::kMalformed, "response.session_id: does not match the request");
  }
  if (response.nonce != context.nonce) {
    return Error(ErrorCode::kMalformed, "response.nonce: does not match the request");
  }
  CMLN_ASSIGN_OR_RETURN(Aead aead, Aead::Create(AeadAlgorithm::kChaCha20Poly1305, context.response_key.view()));
  auto body = aead.Open(response.response_nonce, ResponseAad(context.session_id, context.nonce), response.ciphertext);
  if (!body.ok()) return body.error().WithContext("response.ciphertext");
  return std::move(body).value();
}

int HttpStatusFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk: return 200;
    case ErrorCode::kUnknownKeyId: return 421;
    case ErrorCode::kReplay: return 409;
    case ErrorCode::kInternal: return 500;
    default: return 400;
  }
}

// --- Identity ------------------------------------------------------------------------------------------------

Result<std::string> EncodeIdentity(const Identity& identity) {
  if (identity.envelope_version != kEnvelopeVersionName) {
    return Error(ErrorCode::kInvalidArgument, "identity.envelope_version must be \"v1\"");
  }
  if (identity.key_id != RecipientKeyId(identity.public_key)) {
    return Error(ErrorCode::kInvalidArgument, "identity.key_id is not the key id of identity.public_key");
  }
  if (!IsUtf8(identity.provider)) return Error(ErrorCode::kInvalidArgument, "identity.provider is not valid UTF-8");
  ordered_json j;
  j[kFieldProvider] = identity.provider;
  j[kFieldEnvelopeVersion] = identity.envelope_version;
  j[kFieldPublicKey] = Base64Encode(identity.public_key);
  j[kFieldKeyId] = identity.key_id;
  j[kFieldQuote] = Base64Encode(identity.quote);
  j[kFieldMeasurement] = HexEncode(identity.measurement);
  j[kFieldExtra] = ordered_json(identity.extra);
  std::string text = Dump(j);
  CMLN_TRY(CheckOutgoingSize(text, "identity JSON"));
  return text;
}

Result<Identity> DecodeIdentity(std::string_view json_text) {
  constexpr std::string_view kWhat = "identity";
  CMLN_ASSIGN_OR_RETURN(const json object, ParseObject(json_text, kMaxIdentityDepth, kWhat));
  const Fields f(object, kWhat);
  Identity id;
  CMLN_ASSIGN_OR_RETURN(id.envelope_version, f.String(kFieldEnvelopeVersion));
  if (id.envelope_version != kEnvelopeVersionName) {
    return f.Err(ErrorCode::kUnsupported, kFieldEnvelopeVersion, "is not \"v1\"");
  }
  CMLN_TRY(f.OnlyKeys({kFieldProvider, kFieldEnvelopeVersion, kFieldPublicKey, kFieldKeyId, kFieldQuote,
                       kFieldMeasurement, kFieldExtra}));
  CMLN_ASSIGN_OR_RETURN(id.provider, f.String(kFieldProvider));
  CMLN_ASSIGN_OR_RETURN(id.public_key, f.Base64Exact<kX25519KeySize>(kFieldPublicKey));
  CMLN_ASSIGN_OR_RETURN(id.key_id, f.String(kFieldKeyId));
  CMLN_TRY(CheckKeyIdSyntax(f, kFieldKeyId, id.key_id));
  if (id.key_id != RecipientKeyId(id.public_key)) {
    return f.Err(ErrorCode::kChecksumMismatch, kFieldKeyId, "is not the key id of public_key");
  }
  CMLN_ASSIGN_OR_RETURN(id.quote, f.Base64(kFieldQuote));
  CMLN_ASSIGN_OR_RETURN(const std::string measurement_hex, f.String(kFieldMeasurement));
  auto measurement = HexDecode(measurement_hex);
  if (!measurement.ok()) return measurement.error().WithContext("identity.measurement");
  id.measurement = std::move(measurement).value();
  CMLN_ASSIGN_OR_RETURN(const json* extra, f.Any(kFieldExtra));
  id.extra = *extra;
  return id;
}

}  // namespace cmln::seal::envelope_v1
