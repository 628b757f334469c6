#include "seal/hpke.h"

#include <cstring>

#include "common/byte_reader.h"

namespace cmln::seal::hpke {

namespace {

constexpr size_t kNh = 32;  // HKDF-SHA256 output size
constexpr std::string_view kVersionLabel = "HPKE-v1";

size_t AeadNk(AeadId a) {
  switch (a) {
    case AeadId::kAes128Gcm: return 16;
    case AeadId::kAes256Gcm: return 32;
    case AeadId::kChaCha20Poly1305: return 32;
    case AeadId::kExportOnly: return 0;
  }
  return 0;
}
size_t AeadNn(AeadId a) { return a == AeadId::kExportOnly ? 0 : 12; }

Bytes KemSuiteId() { return Bytes{'K', 'E', 'M', 0x00, 0x20}; }

Bytes HpkeSuiteId(const Suite& s) {
  ByteWriter w(10);
  w.Bytes(std::string_view("HPKE"));
  w.U16BE(static_cast<uint16_t>(s.kem));
  w.U16BE(static_cast<uint16_t>(s.kdf));
  w.U16BE(static_cast<uint16_t>(s.aead));
  return w.Take();
}

SecretBytes LabeledExtract(ByteView suite_id, ByteView salt, std::string_view label, ByteView ikm) {
  Bytes labeled_ikm;
  labeled_ikm.reserve(kVersionLabel.size() + suite_id.size() + label.size() + ikm.size());
  Append(labeled_ikm, kVersionLabel);
  Append(labeled_ikm, suite_id);
  Append(labeled_ikm, label);
  Append(labeled_ikm, ikm);
  SecretBytes prk = HkdfExtract(salt, labeled_ikm);
  SecureZero(labeled_ikm.data(), labeled_ikm.size());
  return prk;
}

Result<SecretBytes> LabeledExpand(ByteView suite_id, ByteView prk, std::string_view label, ByteView info,
                                  size_t length) {
  if (length > 0xffff) return Error(ErrorCode::kInvalidArgument, "HPKE LabeledExpand length exceeds 2^16-1");
  ByteWriter w(2 + kVersionLabel.size() + suite_id.size() + label.size() + info.size());
  w.U16BE(static_cast<uint16_t>(length));
  w.Bytes(kVersionLabel);
  w.Bytes(suite_id);
  w.Bytes(label);
  w.Bytes(info);
  return HkdfExpand(prk, w.bytes(), length);
}

// DHKEM ExtractAndExpand (RFC 9180 section 4.1).
Result<SecretBytes> ExtractAndExpand(ByteView dh, ByteView kem_context) {
  const Bytes suite_id = KemSuiteId();
  SecretBytes eae_prk = LabeledExtract(suite_id, {}, "eae_prk", dh);
  return LabeledExpand(suite_id, eae_prk.view(), "shared_secret", kem_context, kNh);
}

struct Encapsulation {
  SecretBytes shared_secret;
  Bytes enc;
};

// Encap / AuthEncap (RFC 9180 section 4.1) with a prepared ephemeral key; `sender` is null in base mode.
Result<Encapsulation> Encap(ByteView pk_r, const X25519PrivateKey& eph, const X25519PrivateKey* sender) {
  if (pk_r.size() != kX25519KeySize) return Error(ErrorCode::kInvalidKey, "recipient public key must be 32 bytes");
  CMLN_ASSIGN_OR_RETURN(SecretBytes dh1, eph.SharedSecret(pk_r));
  Bytes enc(eph.public_key().begin(), eph.public_key().end());
  Bytes kem_context = Concat(enc, pk_r);
  if (sender == nullptr) {
    CMLN_ASSIGN_OR_RETURN(SecretBytes ss, ExtractAndExpand(dh1.view(), kem_context));
    return Encapsulation{std::move(ss), std::move(enc)};
  }
  CMLN_ASSIGN_OR_RETURN(SecretBytes dh2, sender->SharedSecret(pk_r));
  SecretBytes dh(dh1.size() + dh2.size());
  std::memcpy(dh.data(), dh1.data(), dh1.size());
  std::memcpy(dh.data() + dh1.size(), dh2.data(), dh2.size());
  Append(kem_context, ByteView(sender->public_key()));
  CMLN_ASSIGN_OR_RETURN(SecretBytes ss, ExtractAndExpand(dh.view(), kem_context));
  return Encapsulation{std::move(ss), std::move(enc)};
}

// Decap / AuthDecap; `pk_s` is empty in base mode.
Result<SecretBytes> Decap(ByteView enc, const X25519PrivateKey& sk_r, ByteView pk_s) {
  if (enc.size() != kEncSize) {
    return Error(ErrorCode::kInvalidKey, "encapsulated key must be 32 bytes, got " + std::to_string(enc.size()));
  }
  CMLN_ASSIGN_OR_RETURN(SecretBytes dh1, sk_r.SharedSecret(enc));
  Bytes kem_context = Concat(enc, ByteView(sk_r.public_key()));
  if (pk_s.empty()) return ExtractAndExpand(dh1.view(), kem_context);
  CMLN_ASSIGN_OR_RETURN(SecretBytes dh2, sk_r.SharedSecret(pk_s));
  SecretBytes dh(dh1.size() + dh2.size());
  std::memcpy(dh.data(), dh1.data(), dh1.size());
  std::memcpy(dh.data() + dh1.size(), dh2.data(), dh2.size());
  Append(kem_context, pk_s);
  return ExtractAndExpand(dh.view(), kem_context);
}

}  // namespace

// Builds a Context from a shared secret: the key schedule of RFC 9180 section 5.1 (psk = psk_id = "").
struct ContextBuilder {
  static Result<Context> Build(const Suite& suite, Mode mode, Context::Role role, ByteView shared_secret,
                               ByteView info) {
    const Bytes suite_id = HpkeSuiteId(suite);
    SecretBytes psk_id_hash = LabeledExtract(suite_id, {}, "psk_id_hash", {});
    SecretBytes info_hash = LabeledExtract(suite_id, {}, "info_hash", info);
    Bytes ksc;
    ksc.reserve(1 + 2 * kNh);
    ksc.push_back(static_cast<uint8_t>(mode));
    Append(ksc, psk_id_hash.view());
    Append(ksc, info_hash.view());
    SecretBytes secret = LabeledExtract(suite_id, shared_secret, "secret", {});

    Context ctx(suite, role);
    if (suite.aead != AeadId::kExportOnly) {
      CMLN_ASSIGN_OR_RETURN(SecretBytes key, LabeledExpand(suite_id, secret.view(), "key", ksc, AeadNk(suite.aead)));
      CMLN_ASSIGN_OR_RETURN(ctx.base_nonce_,
                            LabeledExpand(suite_id, secret.view(), "base_nonce", ksc, AeadNn(suite.aead)));
      CMLN_ASSIGN_OR_RETURN(Aead aead, Aead::Create(static_cast<AeadAlgorithm>(suite.aead), key.view()));
      ctx.aead_.emplace(std::move(aead));
    }
    CMLN_ASSIGN_OR_RETURN(ctx.exporter_secret_, LabeledExpand(suite_id, secret.view(), "exp", ksc, kNh));
    return ctx;
  }
};

Status CheckSuite(uint16_t kem, uint16_t kdf, uint16_t aead) {
  if (kem != 0x0020) return Error(ErrorCode::kUnsupported, "unsupported HPKE KEM id " + std::to_string(kem));
  if (kdf != 0x0001) return Error(ErrorCode::kUnsupported, "unsupported HPKE KDF id " + std::to_string(kdf));
  if (aead != 0x0001 && aead != 0x0002 && aead != 0x0003 && aead != 0xFFFF) {
    return Error(ErrorCode::kUnsupported, "unsupported HPKE AEAD id " + std::to_string(aead));
  }
  return OkStatus();
}

Result<Suite> MakeSuite(uint16_t kem, uint16_t kdf, uint16_t aead) {
  CMLN_TRY(CheckSuite(kem, kdf, aead));
  return Suite{static_cast<KemId>(kem), static_cast<KdfId>(kdf), static_cast<AeadId>(aead)};
}

Context::Context(Suite suite, Role role) : suite_(suite), role_(role) {}
Context::Context(Context&&) noexcept = default;
Context& Context::operator=(Context&&) noexcept = default;
Context::~Context() = default;

Result<Bytes> Context::ComputeNonce() const {
  Bytes nonce(base_nonce_.view().begin(), base_nonce_.view().end());
  // XOR the 96-bit big-endian sequence number into the low-order bytes of base_nonce.
  uint8_t seq[12];
  seq[0] = static_cast<uint8_t>(seq_hi_ >> 24);
  seq[1] = static_cast<uint8_t>(seq_hi_ >> 16);
  seq[2] = static_cast<uint8_t>(seq_hi_ >> 8);
  seq[3] = static_cast<uint8_t>(seq_hi_);
  StoreU64BE(seq + 4, seq_lo_);
  for (size_t i = 0; i < 12; ++i) nonce[i] ^= seq[i];
  return nonce;
}

Status Context::IncrementSequence() {
  // RFC 9180: the sequence number must not reach 2^96 - 1 ... we refuse before the value that would wrap.
  if (seq_hi_ == 0xffffffffu && seq_lo_ == ~uint64_t{0}) {
    return Error(ErrorCode::kSequenceOverflow, "HPKE sequence number exhausted");
  }
  if (++seq_lo_ == 0) ++seq_hi_;
  return OkStatus();
}

Result<Bytes> Context::Seal(ByteView aad, ByteView plaintext) {
  if (role_ != Role::kSender) return Error(ErrorCode::kInvalidArgument, "Seal on a recipient context");
  if (!aead_) return Error(ErrorCode::kInvalidArgument, "Seal on an export-only context");
  if (seq_hi_ == 0xffffffffu && seq_lo_ == ~uint64_t{0}) {
    return Error(ErrorCode::kSequenceOverflow, "HPKE sequence number exhausted");
  }
  CMLN_ASSIGN_OR_RETURN(Bytes nonce, ComputeNonce());
  CMLN_ASSIGN_OR_RETURN(Bytes ct, aead_->Seal(nonce, aad, plaintext));
  CMLN_TRY(IncrementSequence());
  return ct;
}

Result<Bytes> Context::Open(ByteView aad, ByteView ciphertext) {
  if (role_ != Role::kRecipient) return Error(ErrorCode::kInvalidArgument, "Open on a sender context");
  if (!aead_) return Error(ErrorCode::kInvalidArgument, "Open on an export-only context");
  if (seq_hi_ == 0xffffffffu && seq_lo_ == ~uint64_t{0}) {
    return Error(ErrorCode::kSequenceOverflow, "HPKE sequence number exhausted");
  }
  CMLN_ASSIGN_OR_RETURN(Bytes nonce, ComputeNonce());
  CMLN_ASSIGN_OR_RETURN(Bytes pt, aead_->Open(nonce, aad, ciphertext));
  CMLN_TRY(IncrementSequence());
  return pt;
}

Result<SecretBytes> Context::Export(ByteView exporter_context, size_t length) const {
  if (length > 255 * kNh) return Error(ErrorCode::kInvalidArgument, "HPKE export length exceeds 255*Nh");
  return LabeledExpand(HpkeSuiteId(suite_), exporter_secret_.view(), "sec", exporter_context, length);
}

void Context::SetSequenceForTesting(uint64_t high32, uint64_t low64) {
  seq_hi_ = static_cast<uint32_t>(high32);
  seq_lo_ = low64;
}

namespace {
Status CheckSuiteOf(const Suite& suite) {
  return CheckSuite(static_cast<uint16_t>(suite.kem), static_cast<uint16_t>(suite.kdf),
                    static_cast<uint16_t>(suite.aead));
}

Result<SenderSetup> SenderWith(Suite suite, Mode mode, ByteView pk_r, ByteView info, const X25519PrivateKey* sender,
                               const X25519PrivateKey& eph) {
  CMLN_TRY(CheckSuiteOf(suite));
  CMLN_ASSIGN_OR_RETURN(Encapsulation e, Encap(pk_r, eph, sender));
  CMLN_ASSIGN_OR_RETURN(Context ctx,
                        ContextBuilder::Build(suite, mode, Context::Role::kSender, e.shared_secret.view(), info));
  return SenderSetup{std::move(e.enc), std::move(ctx)};
}

Result<Context> RecipientWith(Suite suite, Mode mode, ByteView enc, const X25519PrivateKey& sk_r, ByteView info,
                              ByteView pk_s) {
  CMLN_TRY(CheckSuiteOf(suite));
  CMLN_ASSIGN_OR_RETURN(SecretBytes ss, Decap(enc, sk_r, pk_s));
  return ContextBuilder::Build(suite, mode, Context::Role::kRecipient, ss.view(), info);
}
}  // namespace

Result<SenderSetup> SetupBaseSender(Suite suite, ByteView pk_r, ByteView info) {
  return SenderWith(suite, Mode::kBase, pk_r, info, nullptr, X25519PrivateKey::Generate());
}

Result<Context> SetupBaseRecipient(Suite suite, ByteView enc, const X25519PrivateKey& sk_r, ByteView info) {
  return RecipientWith(suite, Mode::kBase, enc, sk_r, info, {});
}

Result<Context> SetupBaseRecipient(Suite suite, ByteView enc, ByteView sk_r, ByteView info) {
  CMLN_ASSIGN_OR_RETURN(X25519PrivateKey key, X25519PrivateKey::FromBytes(sk_r));
  return SetupBaseRecipient(suite, enc, key, info);
}

Result<SenderSetup> SetupAuthSender(Suite suite, ByteView pk_r, ByteView info, const X25519PrivateKey& sk_s) {
  return SenderWith(suite, Mode::kAuth, pk_r, info, &sk_s, X25519PrivateKey::Generate());
}

Result<SenderSetup> SetupAuthSender(Suite suite, ByteView pk_r, ByteView info, ByteView sk_s) {
  CMLN_ASSIGN_OR_RETURN(X25519PrivateKey key, X25519PrivateKey::FromBytes(sk_s));
  return SetupAuthSender(suite, pk_r, info, key);
}

Result<Context> SetupAuthRecipient(Suite suite, ByteView enc, const X25519PrivateKey& sk_r, ByteView info,
                                   ByteView pk_s) {
  if (pk_s.size() != kX25519KeySize) return Error(ErrorCode::kInvalidKey, "sender public key must be 32 bytes");
  return RecipientWith(suite, Mode::kAuth, enc, sk_r, info, pk_s);
}

Result<Context> SetupAuthRecipient(Suite suite, ByteView enc, ByteView sk_r, ByteView info, ByteView pk_s) {
  CMLN_ASSIGN_OR_RETURN(X25519PrivateKey key, X25519PrivateKey::FromBytes(sk_r));
  return SetupAuthRecipient(suite, enc, key, info, pk_s);
}

Result<SenderSetup> SetupBaseSenderForTesting(Suite suite, ByteView pk_r, ByteView info, ByteView sk_e) {
  CMLN_ASSIGN_OR_RETURN(X25519PrivateKey eph, X25519PrivateKey::FromBytes(sk_e));
  return SenderWith(suite, Mode::kBase, pk_r, info, nullptr, eph);
}

Result<SenderSetup> SetupAuthSenderForTesting(Suite suite, ByteView pk_r, ByteView info, ByteView sk_s, ByteView sk_e) {
  CMLN_ASSIGN_OR_RETURN(X25519PrivateKey sender, X25519PrivateKey::FromBytes(sk_s));
  CMLN_ASSIGN_OR_RETURN(X25519PrivateKey eph, X25519PrivateKey::FromBytes(sk_e));
  return SenderWith(suite, Mode::kAuth, pk_r, info, &sender, eph);
}

Result<X25519KeyPair> DeriveKeyPair(ByteView ikm) {
  const Bytes suite_id = KemSuiteId();
  SecretBytes dkp_prk = LabeledExtract(suite_id, {}, "dkp_prk", ikm);
  CMLN_ASSIGN_OR_RETURN(SecretBytes sk, LabeledExpand(suite_id, dkp_prk.view(), "sk", {}, 32));
  return X25519FromPrivate(sk.view());
}

}  // namespace cmln::seal::hpke
