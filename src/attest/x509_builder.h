// Minting certificates and CRLs, and signing with a private key: the issuing side of x509.h, for the
// development PKI of the TEE simulator (sim_pki.h) and for tests that need chains Intel or AMD cannot
// re-sign (revocation, CRL dates). Nothing here is used to verify production evidence, and no key made
// here may ever be pinned as a production root.
//
// The certificates minted are RFC 5280 v3 certificates that pass OpenSSL's X509_STRICT checks (subject
// and authority key identifiers, critical basicConstraints, keyUsage), so the verifiers check them
// exactly as they check Intel's and AMD's.
//
// Errors: kInvalidArgument for unusable specs (unknown curve, empty subject, bad OID), kInvalidKey for
// key bytes that do not load, kInternal when OpenSSL fails unexpectedly. Never throws.
// Thread safety: PrivateKey is immutable after construction and may be shared; every function is pure
// apart from drawing randomness (key generation, ECDSA nonces) from OpenSSL's DRBG.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "attest/x509.h"
#include "common/bytes.h"
#include "common/status.h"

namespace cmln::attest {

// An EC (P-256, P-384) or RSA private key. Copying shares the underlying immutable OpenSSL key; the
// key material is freed (and cleansed by OpenSSL) with the last copy.
class PrivateKey {
 public:
  PrivateKey() = default;
  explicit PrivateKey(EVP_PKEY* k);  // takes ownership of one reference

  // A fresh EC key on "P-256" or "P-384".
  static Result<PrivateKey> GenerateEc(std::string_view curve);
  // A deterministic EC key: the scalar is HKDF-SHA256(salt "cmln-ec-key", ikm = seed, info = label)
  // reduced into [1, n-1]. For reproducible test and development fixtures only. REQUIRES: seed is at
  // least 16 bytes (else kInvalidArgument).
  static Result<PrivateKey> DeriveEc(std::string_view curve, ByteView seed, std::string_view label);
  // A fresh RSA key of `bits` bits (2048..8192), public exponent 65537.
  static Result<PrivateKey> GenerateRsa(int bits);
  // An unencrypted PKCS#8 (or traditional) PEM private key, as ToPem writes. kInvalidKey otherwise.
  static Result<PrivateKey> FromPem(std::string_view pem);

  EVP_PKEY* get() const { return k_.get(); }
  bool empty() const { return k_ == nullptr; }
  bool is_rsa() const;
  // The public half.
  Result<PublicKey> Public() const;
  // Unencrypted PKCS#8 PEM. The caller owns the secret text (see SecretBytes use in sim_pki).
  Result<SecretBytes> ToPem() const;
  // For EC keys: the public point as raw x||y (64 bytes on P-256, 96 on P-384). kInvalidKey for RSA.
  Result<Bytes> RawEcPublicKey() const;

 private:
  std::shared_ptr<EVP_PKEY> k_;
};

// How a certificate or CRL is signed.
enum class SignatureScheme {
  kEcdsaSha256,  // Intel's PCK, TCB signing and root certificates
  kEcdsaSha384,
  kRsaPssSha384,  // AMD's ARK/ASK/VCEK chain: RSASSA-PSS, SHA-384, MGF1-SHA-384, salt 48
};

// An extension carried verbatim: `der` is the extnValue contents (what ExtensionDer returns).
struct RawExtension {
  std::string oid;  // dotted
  Bytes der;
  bool critical = false;
};

struct CertificateSpec {
  // Subject RDNs in order, e.g. {{"CN", "..."}, {"O", "..."}, {"C", "US"}}. At least one.
  std::vector<std::pair<std::string, std::string>> subject;
  Bytes serial;  // big-endian magnitude, 1..20 bytes, first byte non-zero
  int64_t not_before = 0;
  int64_t not_after = 0;
  bool ca = false;
  std::optional<int> path_length;  // CA only
  // Key usage: CA -> keyCertSign, cRLSign; leaf -> digitalSignature, nonRepudiation.
  bool authority_key_id = true;  // AMD's VCEK/VLEK carry none; everything else should
  std::vector<RawExtension> extensions;
  SignatureScheme scheme = SignatureScheme::kEcdsaSha256;
};

// Mints a certificate for `subject_key` (only its public half is used). `issuer` null means
// self-signed by `issuer_key` (which must then be `subject_key`'s private key).
Result<Certificate> MintCertificate(const CertificateSpec& spec, const PrivateKey& subject_key,
                                    const Certificate* issuer, const PrivateKey& issuer_key);

struct CrlSpec {
  int64_t this_update = 0;
  int64_t next_update = 0;
  uint64_t crl_number = 1;
  std::vector<Bytes> revoked_serials;  // big-endian magnitudes; revocation date = this_update
  SignatureScheme scheme = SignatureScheme::kEcdsaSha256;
};

// Mints a v2 CRL issued by `issuer` (carrying the CRL number and authority key identifier extensions).
Result<Crl> MintCrl(const CrlSpec& spec, const Certificate& issuer, const PrivateKey& issuer_key);

// PEM text of a certificate ("-----BEGIN CERTIFICATE-----...").
std::string CertificatePem(const Certificate& cert);
// PEM text of a CRL ("-----BEGIN X509 CRL-----...").
std::string CrlPem(const Crl& crl);

// ECDSA over `message` hashed with `hash`, as raw big-endian r||s (each half the curve's field size:
// 32 bytes on P-256, 48 on P-384). kInvalidKey if `key` is not an EC key.
Result<Bytes> SignEcdsaRaw(const PrivateKey& key, HashAlg hash, ByteView message);

}  // namespace cmln::attest
