// HPKE (RFC 9180) built on the primitives of seal/crypto.h.
//
// Supported: KEM DHKEM(X25519, HKDF-SHA256) (0x0020), KDF HKDF-SHA256 (0x0001), AEADs AES-128-GCM (1),
// AES-256-GCM (2), ChaCha20-Poly1305 (3) and export-only (0xFFFF); modes base (0) and auth (2).
// PSK modes are not offered: nothing in Confidential MLNode has a pre-shared key.
//
// A Context is the result of a setup. Sender contexts Seal, recipient contexts Open; both Export.
// Each Seal/Open uses the next sequence number; when the 96-bit sequence would wrap, the context
// refuses with kSequenceOverflow (RFC 9180 section 5.2) instead of reusing a nonce. A failed Open does
// not advance the sequence number.
//
// Thread safety: a Context is not thread-safe. Setup functions are.
#pragma once

#include <cstdint>
#include <optional>

#include "common/bytes.h"
#include "common/status.h"
#include "seal/crypto.h"

namespace cmln::seal::hpke {

enum class KemId : uint16_t { kX25519HkdfSha256 = 0x0020 };
enum class KdfId : uint16_t { kHkdfSha256 = 0x0001 };
enum class AeadId : uint16_t {
  kAes128Gcm = 0x0001,
  kAes256Gcm = 0x0002,
  kChaCha20Poly1305 = 0x0003,
  kExportOnly = 0xFFFF,
};
enum class Mode : uint8_t { kBase = 0x00, kAuth = 0x02 };

struct Suite {
  KemId kem = KemId::kX25519HkdfSha256;
  KdfId kdf = KdfId::kHkdfSha256;
  AeadId aead = AeadId::kAes128Gcm;
  bool operator==(const Suite&) const = default;
};

// kUnsupported unless every id is one listed above.
Status CheckSuite(uint16_t kem, uint16_t kdf, uint16_t aead);
Result<Suite> MakeSuite(uint16_t kem, uint16_t kdf, uint16_t aead);

constexpr size_t kEncSize = 32;  // Nenc for DHKEM(X25519)

class Context {
 public:
  enum class Role { kSender, kRecipient };

  Context(Context&&) noexcept;
  Context& operator=(Context&&) noexcept;
  ~Context();

  const Suite& suite() const { return suite_; }
  Role role() const { return role_; }

  // REQUIRES: role() == kSender, AEAD not export-only (else kInvalidArgument).
  Result<Bytes> Seal(ByteView aad, ByteView plaintext);
  // REQUIRES: role() == kRecipient. kDecryptFailed on any authentication failure.
  Result<Bytes> Open(ByteView aad, ByteView ciphertext);
  // Secret export (RFC 9180 section 5.3). kInvalidArgument if length > 255 * 32.
  Result<SecretBytes> Export(ByteView exporter_context, size_t length) const;

  // Sets the sequence number; only for tests of overflow handling.
  void SetSequenceForTesting(uint64_t high32, uint64_t low64);

 private:
  friend struct ContextBuilder;
  Context(Suite suite, Role role);

  Result<Bytes> ComputeNonce() const;
  Status IncrementSequence();

  Suite suite_;
  Role role_;
  std::optional<Aead> aead_;
  SecretBytes base_nonce_;
  SecretBytes exporter_secret_;
  // 96-bit sequence number: seq_hi_ (32 bits) || seq_lo_ (64 bits).
  uint32_t seq_hi_ = 0;
  uint64_t seq_lo_ = 0;
};

struct SenderSetup {
  Bytes enc;  // the encapsulated key to send to the recipient
  Context context;
};

// Base mode sender: fresh ephemeral key from the CSPRNG.
Result<SenderSetup> SetupBaseSender(Suite suite, ByteView recipient_public_key, ByteView info);
// Recipients should hold their key as an X25519PrivateKey: the ByteView overloads re-import the key
// (an extra scalar multiplication) on every call.
Result<Context> SetupBaseRecipient(Suite suite, ByteView enc, const X25519PrivateKey& recipient_key, ByteView info);
Result<Context> SetupBaseRecipient(Suite suite, ByteView enc, ByteView recipient_private_key, ByteView info);

// Auth mode: the sender authenticates with its static X25519 key.
Result<SenderSetup> SetupAuthSender(Suite suite, ByteView recipient_public_key, ByteView info,
                                    const X25519PrivateKey& sender_key);
Result<SenderSetup> SetupAuthSender(Suite suite, ByteView recipient_public_key, ByteView info,
                                    ByteView sender_private_key);
Result<Context> SetupAuthRecipient(Suite suite, ByteView enc, const X25519PrivateKey& recipient_key, ByteView info,
                                   ByteView sender_public_key);
Result<Context> SetupAuthRecipient(Suite suite, ByteView enc, ByteView recipient_private_key, ByteView info,
                                   ByteView sender_public_key);

// Deterministic senders with a given ephemeral private key: known-answer tests only.
Result<SenderSetup> SetupBaseSenderForTesting(Suite suite, ByteView recipient_public_key, ByteView info,
                                              ByteView ephemeral_private_key);
Result<SenderSetup> SetupAuthSenderForTesting(Suite suite, ByteView recipient_public_key, ByteView info,
                                              ByteView sender_private_key, ByteView ephemeral_private_key);

// DeriveKeyPair (RFC 9180 section 7.1.3) for DHKEM(X25519).
Result<X25519KeyPair> DeriveKeyPair(ByteView ikm);

}  // namespace cmln::seal::hpke
