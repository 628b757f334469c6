// Gonka account keys: secp256k1 ECDSA as the Cosmos SDK uses it, on libsecp256k1.
//
//   private key  32-byte big-endian scalar in [1, n-1]
//   public key   33-byte SEC1 compressed point (0x02/0x03 || X)
//   signature    64-byte compact r || s (big-endian), S normalized to the lower half (s <= n/2);
//                nonces per RFC 6979 (libsecp256k1's default), so signing is deterministic
//   address      RIPEMD-160(SHA-256(compressed public key)), 20 bytes, shown as bech32 "gonka1…"
//
// Verification accepts only low-S signatures (libsecp256k1 rejects the high-S twin), as the Cosmos
// SDK does, so a signature cannot be malleated into a second valid one.
//
// Thread safety: all functions and const methods are thread-safe. They share one process-wide
// libsecp256k1 context, created and randomized (side-channel blinding) once, then used read-only.
// Secrets: the scalar lives in SecretBytes; AccountPrivateKey is move-only.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/status.h"
#include "seal/crypto.h"

namespace cmln::seal {

constexpr size_t kAccountPrivateKeySize = 32;
constexpr size_t kAccountPublicKeySize = 33;
constexpr size_t kAccountSignatureSize = 64;
constexpr size_t kAccountAddressSize = 20;
constexpr std::string_view kAccountAddressHrp = "gonka";

using AccountPublicKey = std::array<uint8_t, kAccountPublicKeySize>;
using AccountSignature = std::array<uint8_t, kAccountSignatureSize>;
using AccountAddress = std::array<uint8_t, kAccountAddressSize>;
using Ripemd160Digest = std::array<uint8_t, 20>;

// RIPEMD-160 (OpenSSL 3; from the default provider where it has it, as in 3.0.7 and later, otherwise
// from the legacy provider loaded into a private library context).
Ripemd160Digest Ripemd160(ByteView data);

class AccountPrivateKey {
 public:
  // A fresh key from the OS CSPRNG, drawn again in the (negligible) case it is outside [1, n-1].
  static AccountPrivateKey Generate();
  // kInvalidKey unless `scalar` is 32 bytes encoding a value in [1, n-1].
  static Result<AccountPrivateKey> FromBytes(ByteView scalar);

  AccountPrivateKey(AccountPrivateKey&&) noexcept = default;
  AccountPrivateKey& operator=(AccountPrivateKey&&) noexcept = default;

  // The secret scalar; valid while this object lives.
  ByteView scalar() const { return scalar_.view(); }
  const AccountPublicKey& public_key() const { return public_key_; }

  // Signs a 32-byte digest: compact r || s, low-S, RFC 6979 nonce. kInternal only if libsecp256k1
  // fails, which does not happen for a valid key.
  Result<AccountSignature> Sign(const Digest32& digest) const;
  // Signs SHA-256(message).
  Result<AccountSignature> SignMessage(ByteView message) const;

 private:
  AccountPrivateKey(SecretBytes scalar, const AccountPublicKey& public_key)
      : scalar_(std::move(scalar)), public_key_(public_key) {}

  SecretBytes scalar_;
  AccountPublicKey public_key_{};
};

// Verifies a compact signature over a 32-byte digest.
// kInvalidKey: public key not 33 bytes or not a valid compressed point.
// kInvalidArgument: digest not 32 bytes.
// kBadSignature: signature not 64 bytes, r or s not below n, high S, or not valid for key and digest.
Status Secp256k1Verify(ByteView public_key, ByteView digest, ByteView signature);
// Verifies a signature over SHA-256(message); errors as Secp256k1Verify.
Status Secp256k1VerifyMessage(ByteView public_key, ByteView message, ByteView signature);

// RIPEMD-160(SHA-256(public_key)).
AccountAddress AccountAddressFromPublicKey(const AccountPublicKey& public_key);
// bech32 with hrp "gonka", e.g. "gonka1…".
std::string AccountAddressToString(const AccountAddress& address);
// Parses a "gonka1…" address: bech32 errors as bech32::Decode (kMalformed for another hrp);
// kMalformed if the data is not 20 bytes.
Result<AccountAddress> AccountAddressFromString(std::string_view text);

}  // namespace cmln::seal
