// Oblivious HTTP (RFC 9458): key configurations, request and response encapsulation.
//
// Client: EncapsulateRequest(key config, suite, BHTTP request) → encapsulated request + ClientContext;
//         ClientContext::DecapsulateResponse(encapsulated response) → BHTTP response.
// Gateway: Gateway holds key configs with their X25519 private keys; DecapsulateRequest(bytes) → BHTTP
//         request + ServerContext; ServerContext::EncapsulateResponse(BHTTP response) → bytes.
// Chunked OHTTP (streaming) is in seal/chunked_ohttp.h and reuses the building blocks at the end.
//
// Errors a gateway returns for an encapsulated request (THREATS B2: no decryption oracle; messages name
// the failing step only, never key material, plaintext or the offending values):
//   kTruncated      shorter than the 7-byte header plus the 32-byte encapsulated key;
//   kUnknownKeyId   the key id is not one of the gateway's;
//   kUnsupported    the KEM, KDF or AEAD is not supported or not offered in that key's config;
//   kDecryptFailed  anything wrong with the encapsulated key or the ciphertext.
// A client gets kTruncated for a response shorter than its nonce and kDecryptFailed for any tampering.
//
// Thread safety: KeyConfig functions are pure. A Gateway is immutable after its keys are added, and
// its const methods may be called from many threads. Contexts are values owned by one exchange.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "common/byte_reader.h"
#include "common/bytes.h"
#include "common/status.h"
#include "seal/crypto.h"
#include "seal/hpke.h"

namespace cmln::seal::ohttp {

inline constexpr std::string_view kRequestMediaType = "message/ohttp-req";
inline constexpr std::string_view kResponseMediaType = "message/ohttp-res";
inline constexpr std::string_view kChunkedRequestMediaType = "message/ohttp-chunked-req";
inline constexpr std::string_view kChunkedResponseMediaType = "message/ohttp-chunked-res";
inline constexpr std::string_view kKeysMediaType = "application/ohttp-keys";

// HPKE info and export labels (RFC 9458 sections 4.3 and 4.4).
inline constexpr std::string_view kRequestLabel = "message/bhttp request";
inline constexpr std::string_view kResponseLabel = "message/bhttp response";

// Header of an encapsulated request: key id (1) || kem id (2) || kdf id (2) || aead id (2).
inline constexpr size_t kRequestHeaderSize = 7;

// One (KDF, AEAD) pair offered by a key configuration. Kept as raw ids so configs offering algorithms we
// do not implement still parse; SelectSuite skips those.
struct SymmetricAlgorithm {
  uint16_t kdf_id = 0;
  uint16_t aead_id = 0;
  bool operator==(const SymmetricAlgorithm&) const = default;
};

// RFC 9458 section 3.1.
struct KeyConfig {
  uint8_t key_id = 0;
  uint16_t kem_id = 0;
  Bytes public_key;  // Npk bytes for kem_id (32 for X25519)
  std::vector<SymmetricAlgorithm> algorithms;  // at least one
  bool operator==(const KeyConfig&) const = default;
};

// Key config wire form. Decode: kUnsupported for a KEM other than DHKEM(X25519, HKDF-SHA256) (its key
// size is unknown), kTruncated, kMalformed for an algorithms length that is zero or not a multiple of
// 4, kTrailingData for bytes after the config. Encode: kInvalidArgument for an unusable config.
Result<KeyConfig> DecodeKeyConfig(ByteView bytes);
Result<Bytes> EncodeKeyConfig(const KeyConfig& config);

// "application/ohttp-keys": a sequence of configs each prefixed by a 2-byte length (RFC 9458 section
// 3.2). Configs with an unsupported KEM are skipped (a client ignores what it cannot use); any other
// error in any config fails the whole list. More than kMaxKeyConfigsInList entries is kLengthTooLarge.
inline constexpr size_t kMaxKeyConfigsInList = 256;
Result<std::vector<KeyConfig>> DecodeKeyConfigList(ByteView bytes);
Result<Bytes> EncodeKeyConfigList(std::span<const KeyConfig> configs);

// The first algorithm pair of `config`, in its order, that we support with an AEAD (not export-only).
// kUnsupported if the KEM or every pair is unsupported.
Result<hpke::Suite> SelectSuite(const KeyConfig& config);
// OkStatus if `suite` is supported and offered by `config` (KEM matches, pair listed); else kUnsupported.
Status CheckSuiteOffered(const KeyConfig& config, const hpke::Suite& suite);

// The response key schedule (RFC 9458 section 4.4), exposed so known-answer tests can check each value.
struct ResponseKeys {
  SecretBytes secret;      // HPKE Export(label, export_length)
  Bytes salt;              // enc || response_nonce
  SecretBytes prk;         // Extract(salt, secret)
  SecretBytes aead_key;    // Expand(prk, "key", Nk)
  SecretBytes aead_nonce;  // Expand(prk, "nonce", Nn)
};
// Nk, Nn and the response nonce size max(Nn, Nk) of an AEAD; 0 for export-only.
size_t AeadKeyLength(hpke::AeadId aead);
size_t AeadNonceLength(hpke::AeadId aead);
size_t ResponseNonceLength(hpke::AeadId aead);
// From an already exported `secret`. kInvalidArgument if response_nonce is not ResponseNonceLength.
Result<ResponseKeys> DeriveResponseKeys(hpke::AeadId aead, const SecretBytes& secret, ByteView enc,
                                        ByteView response_nonce);

// Client side of one exchange: what is needed to open the response. Move-only (holds a secret).
class ClientContext {
 public:
  // kTruncated if shorter than the response nonce, kDecryptFailed on any authentication failure.
  Result<Bytes> DecapsulateResponse(ByteView encapsulated_response) const;
  const hpke::Suite& suite() const { return suite_; }
  Result<ResponseKeys> DeriveResponseKeysForTesting(ByteView response_nonce) const;

 private:
  friend struct ContextAccess;
  ClientContext() = default;
  hpke::Suite suite_;
  Bytes enc_;
  SecretBytes secret_;  // Export("message/bhttp response", Nk)
};

struct ClientRequest {
  Bytes encapsulated_request;  // hdr || enc || ct, media type message/ohttp-req
  ClientContext context;
};

// Seals `bhttp_request` to `config` with `suite`. kUnsupported unless CheckSuiteOffered; kInvalidKey
// for a bad public key.
Result<ClientRequest> EncapsulateRequest(const KeyConfig& config, const hpke::Suite& suite, ByteView bhttp_request);
// Deterministic variant with a given ephemeral X25519 private key: known-answer tests only.
Result<ClientRequest> EncapsulateRequestForTesting(const KeyConfig& config, const hpke::Suite& suite,
                                                   ByteView bhttp_request, ByteView ephemeral_private_key);

// Gateway side of one exchange: what is needed to seal the response. Move-only (holds a secret).
class ServerContext {
 public:
  // Seals with a fresh random response nonce of ResponseNonceLength bytes.
  Result<Bytes> EncapsulateResponse(ByteView bhttp_response) const;
  // Deterministic variant with a given response nonce: known-answer tests only.
  Result<Bytes> EncapsulateResponseForTesting(ByteView bhttp_response, ByteView response_nonce) const;
  const hpke::Suite& suite() const { return suite_; }
  uint8_t key_id() const { return key_id_; }
  Result<ResponseKeys> DeriveResponseKeysForTesting(ByteView response_nonce) const;

 private:
  friend struct ContextAccess;
  ServerContext() = default;
  hpke::Suite suite_;
  uint8_t key_id_ = 0;
  Bytes enc_;
  SecretBytes secret_;
};

struct GatewayRequest {
  Bytes bhttp_request;
  ServerContext context;
};

// The result of reading a request header and setting up HPKE: shared by plain and chunked requests.
struct RecipientSetup {
  uint8_t key_id = 0;
  hpke::Suite suite;
  Bytes enc;
  hpke::Context context;
};

class Gateway {
 public:
  Gateway() = default;
  Gateway(Gateway&&) noexcept = default;
  Gateway& operator=(Gateway&&) noexcept = default;

  // Adds a key. kUnsupported for a KEM other than X25519 or a config without a supported suite,
  // kInvalidKey if `private_key` is not the private half of config.public_key, kAlreadyExists for a key
  // id already present. Not thread-safe: add every key before sharing the Gateway.
  Status AddKey(const KeyConfig& config, SecretBytes private_key);

  // One-shot request (message/ohttp-req). Errors as at the top of this file.
  Result<GatewayRequest> DecapsulateRequest(ByteView encapsulated_request) const;

  // Reads hdr || enc (exactly kRequestHeaderSize + 32 bytes) and sets up the HPKE recipient context
  // with info = label || 0x00 || hdr. Errors as at the top of this file.
  Result<RecipientSetup> SetupRecipient(ByteView header_and_enc, std::string_view info_label) const;
  // Same, reading hdr || enc from the front of `reader` (which advances past them).
  Result<RecipientSetup> SetupRecipientFrom(ByteReader& reader, std::string_view info_label) const;

  // The "application/ohttp-keys" list of every key added, in order.
  Result<Bytes> EncodedKeyConfigs() const;
  size_t key_count() const { return keys_.size(); }

 private:
  struct Key {
    KeyConfig config;
    X25519PrivateKey private_key;
  };
  std::vector<Key> keys_;
};

// hdr = key_id || kem || kdf || aead; info = label || 0x00 || hdr.
Bytes EncodeRequestHeader(uint8_t key_id, const hpke::Suite& suite);
Bytes RequestInfo(std::string_view label, ByteView header);

}  // namespace cmln::seal::ohttp
