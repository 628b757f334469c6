// Oblivious HTTP (RFC 9458).
//
//   Key Config (section 3.1)      = Key Identifier (8) || HPKE KEM ID (16) || HPKE Public Key (8 * Npk)
//                                   || Symmetric Algorithms Length (16) = 4..65532
//                                   || (HPKE KDF ID (16) || HPKE AEAD ID (16))*
//   application/ohttp-keys (3.2)  = (Length (16) || Key Config)*
//   Encapsulated Request (4.1)    = hdr || enc (8 * Nenc) || ct
//       hdr                       = Key Identifier (8) || KEM ID (16) || KDF ID (16) || AEAD ID (16)
//       info                      = "message/bhttp request" || 0x00 || hdr
//       ct                        = HPKE Seal(aad = "", BHTTP request)
//   Encapsulated Response (4.2)   = response_nonce (8 * max(Nn, Nk)) || ct
//       secret = Export("message/bhttp response", Nk); salt = enc || response_nonce
//       prk = Extract(salt, secret); key = Expand(prk, "key", Nk); nonce = Expand(prk, "nonce", Nn)
//       ct = AEAD Seal(key, nonce, aad = "", BHTTP response)
#include "seal/ohttp.h"

#include <algorithm>

namespace cmln::seal::ohttp {

namespace {

constexpr uint16_t kKemX25519 = static_cast<uint16_t>(hpke::KemId::kX25519HkdfSha256);
constexpr size_t kSymmetricAlgorithmSize = 4;  // KDF ID (16) || AEAD ID (16)
constexpr size_t kMaxSymmetricAlgorithmsLength = 65532;
constexpr std::string_view kKeyLabel = "key";
constexpr std::string_view kNonceLabel = "nonce";

// Npk of the KEMs we know; 0 for others.
size_t PublicKeySize(uint16_t kem_id) { return kem_id == kKemX25519 ? kX25519KeySize : 0; }

bool SupportedWithAead(uint16_t kem, uint16_t kdf, uint16_t aead) {
  return hpke::CheckSuite(kem, kdf, aead).ok() && aead != static_cast<uint16_t>(hpke::AeadId::kExportOnly);
}

Error UnknownKeyId() { return Error(ErrorCode::kUnknownKeyId, "ohttp: request key id not recognized"); }
Error UnsupportedSuite() {
  return Error(ErrorCode::kUnsupported, "ohttp: request algorithms not supported or not offered for this key");
}
Error DecryptFailed() { return Error(ErrorCode::kDecryptFailed, "ohttp: request decryption failed"); }

Result<Bytes> SealResponse(hpke::AeadId aead_id, const SecretBytes& secret, ByteView enc, ByteView response_nonce,
                           ByteView plaintext) {
  CMLN_ASSIGN_OR_RETURN(ResponseKeys keys, DeriveResponseKeys(aead_id, secret, enc, response_nonce));
  CMLN_ASSIGN_OR_RETURN(Aead aead, Aead::Create(static_cast<AeadAlgorithm>(aead_id), keys.aead_key.view()));
  CMLN_ASSIGN_OR_RETURN(Bytes ct, aead.Seal(keys.aead_nonce.view(), {}, plaintext));
  return Concat(response_nonce, ct);
}

}  // namespace

// Builds the contexts whose constructors are private.
struct ContextAccess {
  static ClientContext MakeClient(const hpke::Suite& suite, Bytes enc, SecretBytes secret) {
    ClientContext c;
    c.suite_ = suite;
    c.enc_ = std::move(enc);
    c.secret_ = std::move(secret);
    return c;
  }
  static ServerContext MakeServer(const hpke::Suite& suite, uint8_t key_id, Bytes enc, SecretBytes secret) {
    ServerContext s;
    s.suite_ = suite;
    s.key_id_ = key_id;
    s.enc_ = std::move(enc);
    s.secret_ = std::move(secret);
    return s;
  }
};

// ---------------------------------------------------------------------------------------------
// Key configurations.

Result<KeyConfig> DecodeKeyConfig(ByteView bytes) {
  ByteReader r(bytes);
  KeyConfig config;
  CMLN_ASSIGN_OR_RETURN(config.key_id, r.U8("key config key id"));
  const size_t kem_at = r.offset();
  CMLN_ASSIGN_OR_RETURN(config.kem_id, r.U16BE("key config kem id"));
  const size_t npk = PublicKeySize(config.kem_id);
  if (npk == 0) {
    return Error(ErrorCode::kUnsupported,
                 "ohttp key config: kem id " + std::to_string(config.kem_id) + " at offset " + std::to_string(kem_at) +
                     " not supported");
  }
  CMLN_ASSIGN_OR_RETURN(ByteView pk, r.Bytes(npk, "key config public key"));
  config.public_key = ToBytes(pk);
  const size_t len_at = r.offset();
  CMLN_ASSIGN_OR_RETURN(uint16_t algorithms_len, r.U16BE("key config algorithms length"));
  if (algorithms_len == 0 || algorithms_len % kSymmetricAlgorithmSize != 0) {
    return Error(ErrorCode::kMalformed, "ohttp key config: algorithms length " + std::to_string(algorithms_len) +
                                            " at offset " + std::to_string(len_at) +
                                            " is not a positive multiple of 4");
  }
  CMLN_ASSIGN_OR_RETURN(ByteReader algs, r.Child(algorithms_len, "key config algorithms"));
  while (!algs.empty()) {
    SymmetricAlgorithm a;
    CMLN_ASSIGN_OR_RETURN(a.kdf_id, algs.U16BE("key config kdf id"));
    CMLN_ASSIGN_OR_RETURN(a.aead_id, algs.U16BE("key config aead id"));
    config.algorithms.push_back(a);
  }
  CMLN_TRY(r.ExpectEnd("ohttp key config"));
  return config;
}

Result<Bytes> EncodeKeyConfig(const KeyConfig& config) {
  const size_t npk = PublicKeySize(config.kem_id);
  if (npk == 0) return Error(ErrorCode::kInvalidArgument, "ohttp key config: kem id not supported");
  if (config.public_key.size() != npk) {
    return Error(ErrorCode::kInvalidArgument, "ohttp key config: public key must be " + std::to_string(npk) + " bytes");
  }
  const size_t algorithms_len = config.algorithms.size() * kSymmetricAlgorithmSize;
  if (algorithms_len == 0 || algorithms_len > kMaxSymmetricAlgorithmsLength) {
    return Error(ErrorCode::kInvalidArgument, "ohttp key config: needs 1..16383 algorithm pairs");
  }
  ByteWriter w;
  w.U8(config.key_id);
  w.U16BE(config.kem_id);
  w.Bytes(config.public_key);
  w.U16BE(static_cast<uint16_t>(algorithms_len));
  for (const SymmetricAlgorithm& a : config.algorithms) {
    w.U16BE(a.kdf_id);
    w.U16BE(a.aead_id);
  }
  return w.Take();
}

Result<std::vector<KeyConfig>> DecodeKeyConfigList(ByteView bytes) {
  ByteReader r(bytes);
  std::vector<KeyConfig> out;
  size_t entries = 0;
  while (!r.empty()) {
    const size_t at = r.offset();
    if (++entries > kMaxKeyConfigsInList) {
      return Error(ErrorCode::kLengthTooLarge, "ohttp-keys: more than " + std::to_string(kMaxKeyConfigsInList) +
                                                   " key configs at offset " + std::to_string(at));
    }
    CMLN_ASSIGN_OR_RETURN(uint16_t len, r.U16BE("ohttp-keys config length"));
    CMLN_ASSIGN_OR_RETURN(ByteView one, r.Bytes(len, "ohttp-keys config"));
    auto config = DecodeKeyConfig(one);
    if (!config.ok()) {
      if (config.error().code() == ErrorCode::kUnsupported) continue;  // a KEM we cannot use
      return config.error().WithContext("ohttp-keys entry at offset " + std::to_string(at));
    }
    out.push_back(std::move(config).value());
  }
  return out;
}

Result<Bytes> EncodeKeyConfigList(std::span<const KeyConfig> configs) {
  ByteWriter w;
  for (const KeyConfig& c : configs) {
    CMLN_ASSIGN_OR_RETURN(Bytes one, EncodeKeyConfig(c));
    w.U16BE(static_cast<uint16_t>(one.size()));  // at most 1 + 2 + 32 + 2 + 65532 bytes
    w.Bytes(one);
  }
  return w.Take();
}

Result<hpke::Suite> SelectSuite(const KeyConfig& config) {
  for (const SymmetricAlgorithm& a : config.algorithms) {
    if (SupportedWithAead(config.kem_id, a.kdf_id, a.aead_id)) {
      return hpke::MakeSuite(config.kem_id, a.kdf_id, a.aead_id);
    }
  }
  return Error(ErrorCode::kUnsupported, "ohttp key config: no supported KEM/KDF/AEAD combination");
}

Status CheckSuiteOffered(const KeyConfig& config, const hpke::Suite& suite) {
  const auto kem = static_cast<uint16_t>(suite.kem);
  const auto kdf = static_cast<uint16_t>(suite.kdf);
  const auto aead = static_cast<uint16_t>(suite.aead);
  if (!SupportedWithAead(kem, kdf, aead) || kem != config.kem_id ||
      std::find(config.algorithms.begin(), config.algorithms.end(), SymmetricAlgorithm{kdf, aead}) ==
          config.algorithms.end()) {
    return Error(ErrorCode::kUnsupported, "ohttp: suite not supported or not offered by the key config");
  }
  return OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Response keys.

size_t AeadKeyLength(hpke::AeadId aead) {
  return aead == hpke::AeadId::kExportOnly ? 0 : AeadKeySize(static_cast<AeadAlgorithm>(aead));
}
size_t AeadNonceLength(hpke::AeadId aead) { return aead == hpke::AeadId::kExportOnly ? 0 : kAeadNonceSize; }
size_t ResponseNonceLength(hpke::AeadId aead) { return std::max(AeadKeyLength(aead), AeadNonceLength(aead)); }

Result<ResponseKeys> DeriveResponseKeys(hpke::AeadId aead, const SecretBytes& secret, ByteView enc,
                                        ByteView response_nonce) {
  if (aead == hpke::AeadId::kExportOnly) return Error(ErrorCode::kInvalidArgument, "ohttp: export-only AEAD");
  if (response_nonce.size() != ResponseNonceLength(aead)) {
    return Error(ErrorCode::kInvalidArgument, "ohttp: response nonce must be " +
                                                  std::to_string(ResponseNonceLength(aead)) + " bytes");
  }
  ResponseKeys keys;
  keys.secret = secret.Clone();
  keys.salt = Concat(enc, response_nonce);
  keys.prk = HkdfExtract(keys.salt, secret.view());
  CMLN_ASSIGN_OR_RETURN(keys.aead_key, HkdfExpand(keys.prk.view(), AsBytes(kKeyLabel), AeadKeyLength(aead)));
  CMLN_ASSIGN_OR_RETURN(keys.aead_nonce, HkdfExpand(keys.prk.view(), AsBytes(kNonceLabel), AeadNonceLength(aead)));
  return keys;
}

Bytes EncodeRequestHeader(uint8_t key_id, const hpke::Suite& suite) {
  ByteWriter w(kRequestHeaderSize);
  w.U8(key_id);
  w.U16BE(static_cast<uint16_t>(suite.kem));
  w.U16BE(static_cast<uint16_t>(suite.kdf));
  w.U16BE(static_cast<uint16_t>(suite.aead));
  return w.Take();
}

Bytes RequestInfo(std::string_view label, ByteView header) {
  Bytes info = ToBytes(label);
  info.push_back(0x00);
  Append(info, header);
  return info;
}

// ---------------------------------------------------------------------------------------------
// Client.

namespace {

Result<ClientRequest> Encapsulate(const KeyConfig& config, const hpke::Suite& suite, ByteView bhttp_request,
                                  const ByteView* ephemeral_private_key) {
  CMLN_TRY(CheckSuiteOffered(config, suite));
  if (config.public_key.size() != kX25519KeySize) {
    return Error(ErrorCode::kInvalidKey, "ohttp key config: public key must be 32 bytes");
  }
  const Bytes hdr = EncodeRequestHeader(config.key_id, suite);
  const Bytes info = RequestInfo(kRequestLabel, hdr);
  CMLN_ASSIGN_OR_RETURN(hpke::SenderSetup sender,
                        ephemeral_private_key == nullptr
                            ? hpke::SetupBaseSender(suite, config.public_key, info)
                            : hpke::SetupBaseSenderForTesting(suite, config.public_key, info, *ephemeral_private_key));
  CMLN_ASSIGN_OR_RETURN(Bytes ct, sender.context.Seal({}, bhttp_request));
  CMLN_ASSIGN_OR_RETURN(SecretBytes secret, sender.context.Export(AsBytes(kResponseLabel), AeadKeyLength(suite.aead)));
  Bytes wire = Concat(hdr, sender.enc, ct);
  return ClientRequest{std::move(wire), ContextAccess::MakeClient(suite, std::move(sender.enc), std::move(secret))};
}

}  // namespace

Result<ClientRequest> EncapsulateRequest(const KeyConfig& config, const hpke::Suite& suite, ByteView bhttp_request) {
  return Encapsulate(config, suite, bhttp_request, nullptr);
}

Result<ClientRequest> EncapsulateRequestForTesting(const KeyConfig& config, const hpke::Suite& suite,
                                                   ByteView bhttp_request, ByteView ephemeral_private_key) {
  return Encapsulate(config, suite, bhttp_request, &ephemeral_private_key);
}

Result<Bytes> ClientContext::DecapsulateResponse(ByteView encapsulated_response) const {
  ByteReader r(encapsulated_response);
  CMLN_ASSIGN_OR_RETURN(ByteView nonce, r.Bytes(ResponseNonceLength(suite_.aead), "ohttp response nonce"));
  const ByteView ct = r.TakeRest();
  CMLN_ASSIGN_OR_RETURN(ResponseKeys keys, DeriveResponseKeys(suite_.aead, secret_, enc_, nonce));
  CMLN_ASSIGN_OR_RETURN(Aead aead, Aead::Create(static_cast<AeadAlgorithm>(suite_.aead), keys.aead_key.view()));
  auto pt = aead.Open(keys.aead_nonce.view(), {}, ct);
  if (!pt.ok()) return Error(ErrorCode::kDecryptFailed, "ohttp: response decryption failed");
  return std::move(pt).value();
}

Result<ResponseKeys> ClientContext::DeriveResponseKeysForTesting(ByteView response_nonce) const {
  return DeriveResponseKeys(suite_.aead, secret_, enc_, response_nonce);
}

// ---------------------------------------------------------------------------------------------
// Gateway.

Result<Bytes> ServerContext::EncapsulateResponse(ByteView bhttp_response) const {
  Bytes nonce(ResponseNonceLength(suite_.aead));
  RandomBytes(nonce);
  return SealResponse(suite_.aead, secret_, enc_, nonce, bhttp_response);
}

Result<Bytes> ServerContext::EncapsulateResponseForTesting(ByteView bhttp_response, ByteView response_nonce) const {
  return SealResponse(suite_.aead, secret_, enc_, response_nonce, bhttp_response);
}

Result<ResponseKeys> ServerContext::DeriveResponseKeysForTesting(ByteView response_nonce) const {
  return DeriveResponseKeys(suite_.aead, secret_, enc_, response_nonce);
}

Status Gateway::AddKey(const KeyConfig& config, SecretBytes private_key) {
  if (config.kem_id != kKemX25519) return Error(ErrorCode::kUnsupported, "ohttp gateway: kem id not supported");
  CMLN_TRY(SelectSuite(config));
  for (const Key& k : keys_) {
    if (k.config.key_id == config.key_id) {
      return Error(ErrorCode::kAlreadyExists, "ohttp gateway: key id " + std::to_string(config.key_id) + " already present");
    }
  }
  CMLN_ASSIGN_OR_RETURN(X25519PrivateKey key, X25519PrivateKey::FromBytes(private_key.view()));
  if (!ConstantTimeEqual(key.public_key(), config.public_key)) {
    return Error(ErrorCode::kInvalidKey, "ohttp gateway: private key does not match the key config's public key");
  }
  keys_.push_back(Key{config, std::move(key)});
  return OkStatus();
}

Result<RecipientSetup> Gateway::SetupRecipientFrom(ByteReader& r, std::string_view info_label) const {
  const ByteView rest = r.rest();
  CMLN_ASSIGN_OR_RETURN(uint8_t key_id, r.U8("ohttp request key id"));
  CMLN_ASSIGN_OR_RETURN(uint16_t kem, r.U16BE("ohttp request kem id"));
  CMLN_ASSIGN_OR_RETURN(uint16_t kdf, r.U16BE("ohttp request kdf id"));
  CMLN_ASSIGN_OR_RETURN(uint16_t aead, r.U16BE("ohttp request aead id"));
  const ByteView hdr = rest.first(kRequestHeaderSize);

  const Key* key = nullptr;
  for (const Key& k : keys_) {
    if (k.config.key_id == key_id) key = &k;
  }
  if (key == nullptr) return UnknownKeyId();
  if (!SupportedWithAead(kem, kdf, aead)) return UnsupportedSuite();
  CMLN_ASSIGN_OR_RETURN(hpke::Suite suite, hpke::MakeSuite(kem, kdf, aead));
  if (!CheckSuiteOffered(key->config, suite).ok()) return UnsupportedSuite();

  CMLN_ASSIGN_OR_RETURN(ByteView enc, r.Bytes(hpke::kEncSize, "ohttp request encapsulated key"));
  auto context = hpke::SetupBaseRecipient(suite, enc, key->private_key, RequestInfo(info_label, hdr));
  // A small-order or otherwise unusable enc is reported like a failed decryption: no oracle.
  if (!context.ok()) return DecryptFailed();
  return RecipientSetup{key_id, suite, ToBytes(enc), std::move(context).value()};
}

Result<RecipientSetup> Gateway::SetupRecipient(ByteView header_and_enc, std::string_view info_label) const {
  ByteReader r(header_and_enc);
  CMLN_ASSIGN_OR_RETURN(RecipientSetup setup, SetupRecipientFrom(r, info_label));
  if (!r.empty()) {
    return Error(ErrorCode::kInvalidArgument, "ohttp gateway: SetupRecipient given more than header and enc");
  }
  return setup;
}

Result<GatewayRequest> Gateway::DecapsulateRequest(ByteView encapsulated_request) const {
  ByteReader r(encapsulated_request);
  CMLN_ASSIGN_OR_RETURN(RecipientSetup setup, SetupRecipientFrom(r, kRequestLabel));
  auto pt = setup.context.Open({}, r.TakeRest());
  if (!pt.ok()) return DecryptFailed();
  CMLN_ASSIGN_OR_RETURN(SecretBytes secret,
                        setup.context.Export(AsBytes(kResponseLabel), AeadKeyLength(setup.suite.aead)));
  return GatewayRequest{std::move(pt).value(), ContextAccess::MakeServer(setup.suite, setup.key_id,
                                                                          std::move(setup.enc), std::move(secret))};
}

Result<Bytes> Gateway::EncodedKeyConfigs() const {
  std::vector<KeyConfig> configs;
  configs.reserve(keys_.size());
  for (const Key& k : keys_) configs.push_back(k.config);
  return EncodeKeyConfigList(configs);
}

}  // namespace cmln::seal::ohttp
