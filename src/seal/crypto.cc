#include "seal/crypto.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstring>

namespace cmln::seal {

namespace {

// Explicitly fetched algorithms, cached for the process: implicit fetches on every call cost more
// than the AEAD itself for short messages.
const EVP_MD* Sha256Md() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}
const EVP_MD* Sha512Md() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA512", nullptr);
  return md;
}
const EVP_CIPHER* CipherFor(AeadAlgorithm alg) {
  static EVP_CIPHER* aes128 = EVP_CIPHER_fetch(nullptr, "AES-128-GCM", nullptr);
  static EVP_CIPHER* aes256 = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  static EVP_CIPHER* chacha = EVP_CIPHER_fetch(nullptr, "ChaCha20-Poly1305", nullptr);
  switch (alg) {
    case AeadAlgorithm::kAes128Gcm: return aes128;
    case AeadAlgorithm::kAes256Gcm: return aes256;
    case AeadAlgorithm::kChaCha20Poly1305: return chacha;
  }
  return nullptr;
}

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct PkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct PkeyCtxDeleter {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

template <size_t N>
std::array<uint8_t, N> DigestWith(const EVP_MD* md, ByteView data) {
  std::array<uint8_t, N> out{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &len, md, nullptr);
  return out;
}

}  // namespace

Digest32 Sha256(ByteView data) { return DigestWith<32>(Sha256Md(), data); }
Digest64 Sha512(ByteView data) { return DigestWith<64>(Sha512Md(), data); }

struct Sha256Hasher::Impl {
  MdCtxPtr ctx{EVP_MD_CTX_new()};
};
Sha256Hasher::Sha256Hasher() : impl_(std::make_unique<Impl>()) { EVP_DigestInit_ex(impl_->ctx.get(), Sha256Md(), nullptr); }
Sha256Hasher::~Sha256Hasher() = default;
void Sha256Hasher::Update(ByteView data) { EVP_DigestUpdate(impl_->ctx.get(), data.data(), data.size()); }
Digest32 Sha256Hasher::Finish() {
  Digest32 out{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(impl_->ctx.get(), out.data(), &len);
  return out;
}

// HMAC-SHA256 (RFC 2104) on the cached digest: cheaper than EVP_MAC's per-call fetch and
// context setup, which dominates HPKE's key schedule of ten short HMACs.
Digest32 HmacSha256(ByteView key, ByteView data) {
  constexpr size_t kBlock = 64;
  uint8_t k[kBlock] = {0};
  if (key.size() > kBlock) {
    Digest32 kh = Sha256(key);
    std::memcpy(k, kh.data(), kh.size());
    SecureZero(kh.data(), kh.size());
  } else if (!key.empty()) {
    std::memcpy(k, key.data(), key.size());
  }
  uint8_t pad[kBlock];
  thread_local MdCtxPtr ctx{EVP_MD_CTX_new()};
  Digest32 inner{};
  unsigned int len = 0;
  for (size_t i = 0; i < kBlock; ++i) pad[i] = k[i] ^ 0x36;
  EVP_DigestInit_ex(ctx.get(), Sha256Md(), nullptr);
  EVP_DigestUpdate(ctx.get(), pad, kBlock);
  EVP_DigestUpdate(ctx.get(), data.data(), data.size());
  EVP_DigestFinal_ex(ctx.get(), inner.data(), &len);
  for (size_t i = 0; i < kBlock; ++i) pad[i] = k[i] ^ 0x5c;
  Digest32 out{};
  EVP_DigestInit_ex(ctx.get(), Sha256Md(), nullptr);
  EVP_DigestUpdate(ctx.get(), pad, kBlock);
  EVP_DigestUpdate(ctx.get(), inner.data(), inner.size());
  EVP_DigestFinal_ex(ctx.get(), out.data(), &len);
  SecureZero(k, sizeof(k));
  SecureZero(pad, sizeof(pad));
  SecureZero(inner.data(), inner.size());
  return out;
}

SecretBytes HkdfExtract(ByteView salt, ByteView ikm) {
  // RFC 5869: an absent salt is HashLen zero bytes, which HMAC pads to the same key as empty.
  Digest32 prk = HmacSha256(salt, ikm);
  SecretBytes out(ByteView(prk.data(), prk.size()));
  SecureZero(prk.data(), prk.size());
  return out;
}

Result<SecretBytes> HkdfExpand(ByteView prk, ByteView info, size_t length) {
  if (length > 255 * 32) {
    return Error(ErrorCode::kInvalidArgument, "HKDF-Expand length " + std::to_string(length) + " exceeds 255*HashLen");
  }
  SecretBytes out(length);
  Bytes block;
  block.reserve(32 + info.size() + 1);
  Digest32 t{};
  size_t done = 0;
  for (uint8_t counter = 1; done < length; ++counter) {
    block.clear();
    if (counter > 1) block.insert(block.end(), t.begin(), t.end());
    block.insert(block.end(), info.begin(), info.end());
    block.push_back(counter);
    t = HmacSha256(prk, block);
    size_t n = std::min<size_t>(32, length - done);
    std::memcpy(out.data() + done, t.data(), n);
    done += n;
  }
  SecureZero(t.data(), t.size());
  SecureZero(block.data(), block.size());
  return out;
}

void RandomBytes(std::span<uint8_t> out) {
  if (out.empty()) return;
  // RAND_bytes fails only if the DRBG cannot be seeded; continuing would produce predictable keys.
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) std::abort();
}

size_t AeadKeySize(AeadAlgorithm alg) {
  switch (alg) {
    case AeadAlgorithm::kAes128Gcm: return 16;
    case AeadAlgorithm::kAes256Gcm: return 32;
    case AeadAlgorithm::kChaCha20Poly1305: return 32;
  }
  return 0;
}

struct Aead::Impl {
  AeadAlgorithm alg;
  EVP_CIPHER_CTX* enc = nullptr;
  EVP_CIPHER_CTX* dec = nullptr;
  ~Impl() {
    EVP_CIPHER_CTX_free(enc);
    EVP_CIPHER_CTX_free(dec);
  }
};

Aead::Aead(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Aead::Aead(Aead&&) noexcept = default;
Aead& Aead::operator=(Aead&&) noexcept = default;
Aead::~Aead() = default;
AeadAlgorithm Aead::algorithm() const { return impl_->alg; }

Result<Aead> Aead::Create(AeadAlgorithm alg, ByteView key) {
  const EVP_CIPHER* cipher = CipherFor(alg);
  if (cipher == nullptr) return Error(ErrorCode::kUnsupported, "AEAD algorithm not available");
  if (key.size() != AeadKeySize(alg)) {
    return Error(ErrorCode::kInvalidKey, "AEAD key is " + std::to_string(key.size()) + " bytes, want " +
                                             std::to_string(AeadKeySize(alg)));
  }
  auto impl = std::make_unique<Impl>();
  impl->alg = alg;
  impl->enc = EVP_CIPHER_CTX_new();
  impl->dec = EVP_CIPHER_CTX_new();
  if (impl->enc == nullptr || impl->dec == nullptr ||
      EVP_EncryptInit_ex2(impl->enc, cipher, key.data(), nullptr, nullptr) != 1 ||
      EVP_DecryptInit_ex2(impl->dec, cipher, key.data(), nullptr, nullptr) != 1) {
    return Error(ErrorCode::kInternal, "AEAD context setup failed");
  }
  return Aead(std::move(impl));
}

Result<Bytes> Aead::Seal(ByteView nonce, ByteView aad, ByteView plaintext) {
  if (nonce.size() != kAeadNonceSize) return Error(ErrorCode::kInvalidArgument, "AEAD nonce must be 12 bytes");
  EVP_CIPHER_CTX* c = impl_->enc;
  Bytes out(plaintext.size() + kAeadTagSize);
  int len = 0;
  int total = 0;
  if (EVP_EncryptInit_ex2(c, nullptr, nullptr, nonce.data(), nullptr) != 1 ||
      (!aad.empty() && EVP_EncryptUpdate(c, nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1) ||
      EVP_EncryptUpdate(c, out.data(), &len, plaintext.data(), static_cast<int>(plaintext.size())) != 1) {
    return Error(ErrorCode::kInternal, "AEAD encrypt failed");
  }
  total = len;
  if (EVP_EncryptFinal_ex(c, out.data() + total, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, kAeadTagSize, out.data() + plaintext.size()) != 1) {
    return Error(ErrorCode::kInternal, "AEAD finalize failed");
  }
  return out;
}

Result<Bytes> Aead::Open(ByteView nonce, ByteView aad, ByteView ciphertext) {
  if (nonce.size() != kAeadNonceSize) return Error(ErrorCode::kInvalidArgument, "AEAD nonce must be 12 bytes");
  if (ciphertext.size() < kAeadTagSize) return Error(ErrorCode::kDecryptFailed, "AEAD authentication failed");
  EVP_CIPHER_CTX* c = impl_->dec;
  const size_t ct_len = ciphertext.size() - kAeadTagSize;
  Bytes out(ct_len);
  int len = 0;
  // OpenSSL takes a non-const tag pointer but only reads it.
  uint8_t tag[kAeadTagSize];
  std::memcpy(tag, ciphertext.data() + ct_len, kAeadTagSize);
  if (EVP_DecryptInit_ex2(c, nullptr, nullptr, nonce.data(), nullptr) != 1 ||
      (!aad.empty() && EVP_DecryptUpdate(c, nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1) ||
      EVP_DecryptUpdate(c, out.data(), &len, ciphertext.data(), static_cast<int>(ct_len)) != 1 ||
      EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, kAeadTagSize, tag) != 1 ||
      EVP_DecryptFinal_ex(c, out.data() + len, &len) != 1) {
    SecureZero(out.data(), out.size());
    return Error(ErrorCode::kDecryptFailed, "AEAD authentication failed");
  }
  return out;
}

namespace {
PkeyPtr RawPrivate(int type, ByteView sk) {
  return PkeyPtr(EVP_PKEY_new_raw_private_key(type, nullptr, sk.data(), sk.size()));
}
}  // namespace

X25519KeyPair X25519Generate() {
  SecretBytes sk(32);
  RandomBytes(sk.span());
  auto kp = X25519FromPrivate(sk.view());
  if (!kp.ok()) std::abort();  // 32 random bytes are always a valid X25519 private key.
  return std::move(kp).value();
}

Result<X25519KeyPair> X25519FromPrivate(ByteView private_key) {
  if (private_key.size() != kX25519KeySize) {
    return Error(ErrorCode::kInvalidKey, "X25519 private key must be 32 bytes, got " + std::to_string(private_key.size()));
  }
  PkeyPtr pkey = RawPrivate(EVP_PKEY_X25519, private_key);
  X25519KeyPair kp;
  size_t len = kp.public_key.size();
  if (!pkey || EVP_PKEY_get_raw_public_key(pkey.get(), kp.public_key.data(), &len) != 1 || len != 32) {
    return Error(ErrorCode::kInternal, "X25519 public key derivation failed");
  }
  kp.private_key = SecretBytes(private_key);
  return kp;
}

Result<SecretBytes> X25519(ByteView private_key, ByteView peer_public_key) {
  CMLN_ASSIGN_OR_RETURN(X25519PrivateKey sk, X25519PrivateKey::FromBytes(private_key));
  return sk.SharedSecret(peer_public_key);
}

struct X25519PrivateKey::Impl {
  PkeyPtr pkey;
};

X25519PrivateKey::X25519PrivateKey(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {
  size_t len = public_key_.size();
  EVP_PKEY_get_raw_public_key(impl_->pkey.get(), public_key_.data(), &len);
}
X25519PrivateKey::X25519PrivateKey(X25519PrivateKey&&) noexcept = default;
X25519PrivateKey& X25519PrivateKey::operator=(X25519PrivateKey&&) noexcept = default;
X25519PrivateKey::~X25519PrivateKey() = default;

X25519PrivateKey X25519PrivateKey::Generate() {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_X25519, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 || EVP_PKEY_keygen(ctx.get(), &raw) != 1) std::abort();
  auto impl = std::make_unique<Impl>();
  impl->pkey.reset(raw);
  return X25519PrivateKey(std::move(impl));
}

Result<X25519PrivateKey> X25519PrivateKey::FromBytes(ByteView private_key) {
  if (private_key.size() != kX25519KeySize) {
    return Error(ErrorCode::kInvalidKey, "X25519 private key must be 32 bytes, got " + std::to_string(private_key.size()));
  }
  auto impl = std::make_unique<Impl>();
  impl->pkey = RawPrivate(EVP_PKEY_X25519, private_key);
  if (!impl->pkey) return Error(ErrorCode::kInternal, "X25519 key import failed");
  return X25519PrivateKey(std::move(impl));
}

SecretBytes X25519PrivateKey::PrivateBytes() const {
  SecretBytes out(32);
  size_t len = out.size();
  EVP_PKEY_get_raw_private_key(impl_->pkey.get(), out.data(), &len);
  return out;
}

namespace {
Result<SecretBytes> DeriveShared(EVP_PKEY* sk, ByteView peer_public_key) {
  if (peer_public_key.size() != kX25519KeySize) return Error(ErrorCode::kInvalidKey, "X25519 public key must be 32 bytes");
  PkeyPtr pk(EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, peer_public_key.data(), peer_public_key.size()));
  if (!pk) return Error(ErrorCode::kInvalidKey, "X25519 key rejected");
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new(sk, nullptr));
  SecretBytes out(32);
  size_t len = out.size();
  // OpenSSL's X25519 derive fails when the result is all zero (a small-order peer point); the explicit
  // check below keeps that property independent of the OpenSSL version.
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 || EVP_PKEY_derive_set_peer_ex(ctx.get(), pk.get(), 0) != 1 ||
      EVP_PKEY_derive(ctx.get(), out.data(), &len) != 1 || len != 32) {
    return Error(ErrorCode::kInvalidKey, "X25519 peer key gives an all-zero shared secret");
  }
  static const uint8_t kZero[32] = {0};
  if (ConstantTimeEqual(out.view(), ByteView(kZero, 32))) {
    return Error(ErrorCode::kInvalidKey, "X25519 peer key gives an all-zero shared secret");
  }
  return out;
}
}  // namespace

Result<SecretBytes> X25519PrivateKey::SharedSecret(ByteView peer_public_key) const {
  return DeriveShared(impl_->pkey.get(), peer_public_key);
}

Ed25519PrivateKey Ed25519PrivateKey::Generate() {
  SecretBytes seed(32);
  RandomBytes(seed.span());
  auto k = FromSeed(seed.view());
  if (!k.ok()) std::abort();  // any 32 bytes are a valid seed
  return std::move(k).value();
}

Result<Ed25519PrivateKey> Ed25519PrivateKey::FromSeed(ByteView seed) {
  if (seed.size() != 32) return Error(ErrorCode::kInvalidKey, "Ed25519 seed must be 32 bytes");
  PkeyPtr pkey = RawPrivate(EVP_PKEY_ED25519, seed);
  Ed25519PrivateKey key;
  size_t len = key.public_key_.size();
  if (!pkey || EVP_PKEY_get_raw_public_key(pkey.get(), key.public_key_.data(), &len) != 1) {
    return Error(ErrorCode::kInternal, "Ed25519 public key derivation failed");
  }
  key.seed_ = SecretBytes(seed);
  return key;
}

Result<Ed25519Signature> Ed25519PrivateKey::Sign(ByteView message) const {
  PkeyPtr pkey = RawPrivate(EVP_PKEY_ED25519, seed_.view());
  MdCtxPtr ctx(EVP_MD_CTX_new());
  Ed25519Signature sig{};
  size_t len = sig.size();
  if (!pkey || !ctx || EVP_DigestSignInit_ex(ctx.get(), nullptr, nullptr, nullptr, nullptr, pkey.get(), nullptr) != 1 ||
      EVP_DigestSign(ctx.get(), sig.data(), &len, message.data(), message.size()) != 1) {
    return Error(ErrorCode::kInternal, "Ed25519 signing failed");
  }
  return sig;
}

Status Ed25519Verify(ByteView public_key, ByteView message, ByteView signature) {
  if (public_key.size() != kEd25519PublicKeySize) {
    return Error(ErrorCode::kInvalidKey, "Ed25519 public key must be 32 bytes");
  }
  if (signature.size() != kEd25519SignatureSize) {
    return Error(ErrorCode::kBadSignature, "Ed25519 signature must be 64 bytes");
  }
  PkeyPtr pkey(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, public_key.data(), public_key.size()));
  if (!pkey) return Error(ErrorCode::kInvalidKey, "Ed25519 public key rejected");
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit_ex(ctx.get(), nullptr, nullptr, nullptr, nullptr, pkey.get(), nullptr) != 1 ||
      EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), message.data(), message.size()) != 1) {
    return Error(ErrorCode::kBadSignature, "Ed25519 signature does not verify");
  }
  return OkStatus();
}

}  // namespace cmln::seal
