// Cryptographic primitives on OpenSSL 3.0, shared by every part: hashes, HMAC/HKDF-SHA256,
// AEADs, X25519 and Ed25519. Everything above (HPKE, OHTTP, envelope, receipts) uses only these.
//
// Thread safety: free functions are thread-safe. An Aead object is not (it keeps a cipher context);
// use one per thread or per session.
// Secrets: private keys and derived keys are SecretBytes (zeroized). Comparisons of MACs and keys use
// ConstantTimeEqual.
#pragma once

#include <array>
#include <cstdint>
#include <memory>

#include "common/bytes.h"
#include "common/status.h"

namespace cmln::seal {

using Digest32 = std::array<uint8_t, 32>;
using Digest64 = std::array<uint8_t, 64>;

Digest32 Sha256(ByteView data);
Digest64 Sha512(ByteView data);

// Incremental SHA-256 (for hashing files and multi-part inputs without copying).
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;
  void Update(ByteView data);
  Digest32 Finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

Digest32 HmacSha256(ByteView key, ByteView data);

// RFC 5869 with SHA-256.
SecretBytes HkdfExtract(ByteView salt, ByteView ikm);
// REQUIRES: length <= 255 * 32, else kInvalidArgument.
Result<SecretBytes> HkdfExpand(ByteView prk, ByteView info, size_t length);

// Fills `out` from the OS CSPRNG (OpenSSL's DRBG).
void RandomBytes(std::span<uint8_t> out);

enum class AeadAlgorithm : uint16_t {
  kAes128Gcm = 0x0001,
  kAes256Gcm = 0x0002,
  kChaCha20Poly1305 = 0x0003,
};

constexpr size_t kAeadTagSize = 16;
constexpr size_t kAeadNonceSize = 12;
size_t AeadKeySize(AeadAlgorithm alg);

// An AEAD keyed once, used for many messages. Nonce uniqueness is the caller's job.
class Aead {
 public:
  // kInvalidKey if key size is wrong for `alg`.
  static Result<Aead> Create(AeadAlgorithm alg, ByteView key);
  Aead(Aead&&) noexcept;
  Aead& operator=(Aead&&) noexcept;
  ~Aead();

  AeadAlgorithm algorithm() const;

  // Returns ciphertext || 16-byte tag.
  Result<Bytes> Seal(ByteView nonce, ByteView aad, ByteView plaintext);
  // kDecryptFailed on any authentication failure (wrong key, nonce, aad, tag, or truncation).
  Result<Bytes> Open(ByteView nonce, ByteView aad, ByteView ciphertext);

 private:
  struct Impl;
  explicit Aead(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// X25519 (RFC 7748).
constexpr size_t kX25519KeySize = 32;
using X25519PublicKey = std::array<uint8_t, kX25519KeySize>;

struct X25519KeyPair {
  SecretBytes private_key;  // 32 bytes
  X25519PublicKey public_key{};
};

// A long-lived X25519 private key held as a prepared OpenSSL key, so each Diffie-Hellman costs one
// scalar multiplication (re-importing raw bytes would recompute the public key every time).
// Move-only; the key material is freed (and wiped by OpenSSL) on destruction.
class X25519PrivateKey {
 public:
  static X25519PrivateKey Generate();
  // kInvalidKey if not 32 bytes.
  static Result<X25519PrivateKey> FromBytes(ByteView private_key);
  X25519PrivateKey(X25519PrivateKey&&) noexcept;
  X25519PrivateKey& operator=(X25519PrivateKey&&) noexcept;
  ~X25519PrivateKey();

  const X25519PublicKey& public_key() const { return public_key_; }
  // Shared secret with a peer; same errors as X25519() below.
  Result<SecretBytes> SharedSecret(ByteView peer_public_key) const;
  // The raw 32 private bytes (for persistence in tests and key-file formats).
  SecretBytes PrivateBytes() const;

 private:
  struct Impl;
  explicit X25519PrivateKey(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  X25519PublicKey public_key_{};
};

X25519KeyPair X25519Generate();
// kInvalidKey if `private_key` is not 32 bytes.
Result<X25519KeyPair> X25519FromPrivate(ByteView private_key);
// Shared secret. kInvalidKey for wrong sizes or a peer key that yields the all-zero output
// (small-order points), as RFC 7748 section 6.1 and RFC 9180 section 7.1.4 require.
Result<SecretBytes> X25519(ByteView private_key, ByteView peer_public_key);

// Ed25519 (RFC 8032), pure (no prehash, no context).
constexpr size_t kEd25519PublicKeySize = 32;
constexpr size_t kEd25519SignatureSize = 64;
using Ed25519PublicKey = std::array<uint8_t, kEd25519PublicKeySize>;
using Ed25519Signature = std::array<uint8_t, kEd25519SignatureSize>;

class Ed25519PrivateKey {
 public:
  static Ed25519PrivateKey Generate();
  // From the 32-byte seed of RFC 8032. kInvalidKey for other sizes.
  static Result<Ed25519PrivateKey> FromSeed(ByteView seed);

  const Ed25519PublicKey& public_key() const { return public_key_; }
  ByteView seed() const { return seed_.view(); }
  Result<Ed25519Signature> Sign(ByteView message) const;

 private:
  SecretBytes seed_;
  Ed25519PublicKey public_key_{};
};

// kBadSignature for any signature that does not verify (including non-canonical S and wrong sizes);
// kInvalidKey for a public key of the wrong size.
Status Ed25519Verify(ByteView public_key, ByteView message, ByteView signature);

}  // namespace cmln::seal
