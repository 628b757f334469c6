#include "seal/account_key.h"

#include <openssl/evp.h>
#include <openssl/provider.h>
#include <secp256k1.h>

#include <algorithm>
#include <array>
#include <cstdlib>

#include "seal/bech32.h"

namespace cmln::seal {

namespace {

// One context for the process. Created with no flags (libsecp256k1 >= 0.2 needs none for signing
// or verifying) and randomized once before any use, after which sign and verify only read it, so it
// is safe to share between threads. The function-local static makes creation itself thread-safe.
const secp256k1_context* Context() {
  static const secp256k1_context* ctx = [] {
    secp256k1_context* c = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    if (c == nullptr) std::abort();  // allocation failure at startup; nothing sensible to return
    std::array<uint8_t, 32> seed{};
    RandomBytes(seed);
    const int ok = secp256k1_context_randomize(c, seed.data());
    SecureZero(seed.data(), seed.size());
    if (ok != 1) std::abort();
    return c;
  }();
  return ctx;
}

// RIPEMD-160 moved to OpenSSL 3.0's legacy provider and came back to the default provider in 3.0.7.
// Try the default fetch first; otherwise load the legacy provider into a private library context so
// the process-wide provider configuration is left untouched.
const EVP_MD* Ripemd160Md() {
  static const EVP_MD* md = [] {
    EVP_MD* m = EVP_MD_fetch(nullptr, "RIPEMD160", nullptr);
    if (m != nullptr) return m;
    OSSL_LIB_CTX* lib = OSSL_LIB_CTX_new();
    if (lib == nullptr) return m;
    if (OSSL_PROVIDER_load(lib, "legacy") == nullptr) return m;
    return EVP_MD_fetch(lib, "RIPEMD160", nullptr);
  }();
  if (md == nullptr) std::abort();  // a broken OpenSSL install; addresses cannot be computed at all
  return md;
}

Result<AccountPublicKey> DerivePublicKey(ByteView scalar) {
  secp256k1_pubkey pk;
  if (secp256k1_ec_pubkey_create(Context(), &pk, scalar.data()) != 1) {
    return Error(ErrorCode::kInvalidKey, "secp256k1 private key: scalar outside [1, n-1]");
  }
  AccountPublicKey out{};
  size_t len = out.size();
  secp256k1_ec_pubkey_serialize(secp256k1_context_static, out.data(), &len, &pk, SECP256K1_EC_COMPRESSED);
  return out;
}

}  // namespace

Ripemd160Digest Ripemd160(ByteView data) {
  Ripemd160Digest out{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, Ripemd160Md(), nullptr) != 1 || len != out.size()) {
    std::abort();
  }
  return out;
}

AccountPrivateKey AccountPrivateKey::Generate() {
  SecretBytes scalar(kAccountPrivateKeySize);
  // A uniformly random 32-byte string is >= n with probability about 2^-128; draw again if so.
  do {
    RandomBytes(scalar.span());
  } while (secp256k1_ec_seckey_verify(Context(), scalar.data()) != 1);
  auto pub = DerivePublicKey(scalar.view());
  if (!pub.ok()) std::abort();  // cannot happen: the scalar was just verified
  return AccountPrivateKey(std::move(scalar), *pub);
}

Result<AccountPrivateKey> AccountPrivateKey::FromBytes(ByteView scalar) {
  if (scalar.size() != kAccountPrivateKeySize) {
    return Error(ErrorCode::kInvalidKey,
                 "secp256k1 private key: " + std::to_string(scalar.size()) + " bytes, expected 32");
  }
  if (secp256k1_ec_seckey_verify(Context(), scalar.data()) != 1) {
    return Error(ErrorCode::kInvalidKey, "secp256k1 private key: scalar outside [1, n-1]");
  }
  CMLN_ASSIGN_OR_RETURN(AccountPublicKey pub, DerivePublicKey(scalar));
  return AccountPrivateKey(SecretBytes(scalar), pub);
}

Result<AccountSignature> AccountPrivateKey::Sign(const Digest32& digest) const {
  secp256k1_ecdsa_signature sig;
  // nullptr nonce function = secp256k1_nonce_function_rfc6979 (deterministic).
  if (secp256k1_ecdsa_sign(Context(), &sig, digest.data(), scalar_.data(), nullptr, nullptr) != 1) {
    return Error(ErrorCode::kInternal, "secp256k1_ecdsa_sign failed");
  }
  // libsecp256k1 already emits low-S; normalizing again keeps the Cosmos rule explicit here.
  secp256k1_ecdsa_signature_normalize(secp256k1_context_static, &sig, &sig);
  AccountSignature out{};
  secp256k1_ecdsa_signature_serialize_compact(secp256k1_context_static, out.data(), &sig);
  return out;
}

Result<AccountSignature> AccountPrivateKey::SignMessage(ByteView message) const { return Sign(Sha256(message)); }

Status Secp256k1Verify(ByteView public_key, ByteView digest, ByteView signature) {
  if (public_key.size() != kAccountPublicKeySize) {
    return Error(ErrorCode::kInvalidKey,
                 "secp256k1 public key: " + std::to_string(public_key.size()) + " bytes, expected 33 (compressed)");
  }
  if (digest.size() != 32) {
    return Error(ErrorCode::kInvalidArgument, "secp256k1 digest: " + std::to_string(digest.size()) + " bytes, expected 32");
  }
  if (signature.size() != kAccountSignatureSize) {
    return Error(ErrorCode::kBadSignature,
                 "secp256k1 signature: " + std::to_string(signature.size()) + " bytes, expected 64");
  }
  secp256k1_pubkey pk;
  if (secp256k1_ec_pubkey_parse(Context(), &pk, public_key.data(), public_key.size()) != 1) {
    return Error(ErrorCode::kInvalidKey, "secp256k1 public key: not a valid compressed point");
  }
  secp256k1_ecdsa_signature sig;
  if (secp256k1_ecdsa_signature_parse_compact(Context(), &sig, signature.data()) != 1) {
    return Error(ErrorCode::kBadSignature, "secp256k1 signature: r or s not below the group order");
  }
  // secp256k1_ecdsa_verify returns 0 for a high-S signature even if it is otherwise valid.
  if (secp256k1_ecdsa_verify(Context(), &sig, digest.data(), &pk) != 1) {
    return Error(ErrorCode::kBadSignature, "secp256k1 signature: does not verify (or S is not low)");
  }
  return OkStatus();
}

Status Secp256k1VerifyMessage(ByteView public_key, ByteView message, ByteView signature) {
  const Digest32 digest = Sha256(message);
  return Secp256k1Verify(public_key, digest, signature);
}

AccountAddress AccountAddressFromPublicKey(const AccountPublicKey& public_key) {
  const Digest32 sha = Sha256(public_key);
  return Ripemd160(sha);
}

std::string AccountAddressToString(const AccountAddress& address) {
  auto s = bech32::Encode(kAccountAddressHrp, address);
  // 5 + 1 + 32 + 6 = 44 characters with a fixed valid hrp: encoding cannot fail.
  if (!s.ok()) std::abort();
  return *std::move(s);
}

Result<AccountAddress> AccountAddressFromString(std::string_view text) {
  CMLN_ASSIGN_OR_RETURN(Bytes data, bech32::Decode(text, kAccountAddressHrp));
  if (data.size() != kAccountAddressSize) {
    return Error(ErrorCode::kMalformed, "account address: " + std::to_string(data.size()) + " bytes, expected 20");
  }
  AccountAddress out{};
  std::copy(data.begin(), data.end(), out.begin());
  return out;
}

}  // namespace cmln::seal
