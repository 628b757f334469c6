// Generic X.509 for every attestation verifier (Intel PCK / TCB signing chains, AMD ARK/ASK/VCEK with
// RSA-PSS, NVIDIA device chains): parse PEM chains, DER certificates and CRLs; verify a chain to one of a
// set of pinned roots at a caller-given `now`; read an extension by OID; verify raw ECDSA signatures.
//
// Nothing here consults the system trust store, the clock or the network: the roots, the CRLs and the
// time are arguments, so the same inputs always give the same answer.
//
// Error codes (stable, see common/status.h): malformed input is kBadEncoding / kMalformed /
// kLengthTooLarge; chain problems map to exactly one of kChainUntrusted, kCertExpired, kCertNotYetValid,
// kCertRevoked, kCrlExpired, kCrlNotYetValid, kCrlBadSignature; a raw signature that does not verify is
// kBadSignature.
//
// Thread safety: Certificate, Crl and PublicKey are immutable after construction and may be shared
// between threads (they hold reference-counted OpenSSL objects); every function is thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"

typedef struct x509_st X509;
typedef struct X509_crl_st X509_CRL;
typedef struct evp_pkey_st EVP_PKEY;

namespace cmln::attest {

// Caps on outside input, checked before anything is parsed.
inline constexpr size_t kMaxCertificateDer = 16 * 1024;
inline constexpr size_t kMaxCrlDer = 4 * 1024 * 1024;
inline constexpr size_t kMaxPemChainText = 64 * 1024;
inline constexpr size_t kMaxChainLength = 8;

// One parsed certificate. Copying shares the underlying (immutable) OpenSSL object.
class Certificate {
 public:
  Certificate() = default;
  // Takes ownership of one reference to `x`.
  explicit Certificate(X509* x);

  X509* get() const { return x_.get(); }
  bool empty() const { return x_ == nullptr; }

  Bytes Der() const;
  // Serial number as big-endian magnitude bytes (no sign byte), e.g. for CRL look-ups and messages.
  Bytes SerialNumber() const;
  // RFC 2253 subject, for messages.
  std::string Subject() const;
  // notBefore / notAfter as unix seconds.
  int64_t NotBefore() const;
  int64_t NotAfter() const;

 private:
  std::shared_ptr<X509> x_;
};

class Crl {
 public:
  Crl() = default;
  explicit Crl(X509_CRL* c);  // takes ownership of one reference
  X509_CRL* get() const { return c_.get(); }
  Bytes Der() const;
  // thisUpdate / nextUpdate as unix seconds (nextUpdate is 0 when absent).
  int64_t ThisUpdate() const;
  int64_t NextUpdate() const;

 private:
  std::shared_ptr<X509_CRL> c_;
};

class PublicKey {
 public:
  PublicKey() = default;
  explicit PublicKey(EVP_PKEY* k);  // takes ownership of one reference
  EVP_PKEY* get() const { return k_.get(); }

 private:
  std::shared_ptr<EVP_PKEY> k_;
};

// One DER certificate, exactly (no trailing bytes). kBadEncoding if it does not parse.
Result<Certificate> ParseCertificateDer(ByteView der);
// A PEM certificate or a DER one (sniffed by the "-----BEGIN" prefix).
Result<Certificate> ParseCertificate(ByteView der_or_pem);
// Every "CERTIFICATE" block of a PEM text, in order; trailing NUL bytes (as Intel puts after the PCK
// chain in quotes) are ignored. kBadEncoding if a block does not parse or there is none;
// kLengthTooLarge beyond kMaxPemChainText or kMaxChainLength certificates.
Result<std::vector<Certificate>> ParsePemChain(std::string_view pem);
// One DER CRL, exactly. kBadEncoding if it does not parse.
Result<Crl> ParseCrlDer(ByteView der);
// A PEM or DER CRL (sniffed).
Result<Crl> ParseCrl(ByteView der_or_pem);

struct ChainOptions {
  // Sets X509_V_FLAG_X509_STRICT (RFC 5280 conformance checks on every certificate). Default on.
  bool x509_strict = true;
  // When CRLs are given, check every certificate of the chain (CRL_CHECK_ALL) rather than only the
  // leaf. Default on: Intel's root CRL covers the intermediates.
  bool crl_check_all = true;
};
ChainOptions DefaultChainOptions();

// Verifies `chain` (chain[0] is the leaf, then intermediates in any order; a copy of a root at the end is
// allowed) up to one of `roots` at unix time `now`. When `crls` is non-empty, revocation is checked
// (every certificate must then have a CRL from its issuer, and each CRL must be valid at `now` and
// correctly signed). On success returns the verified path leaf-first, ending with the pinned root.
// On failure returns one code (see the list at the top): a defect of the chain itself (signatures, dates,
// roots) takes precedence over revocation and CRL problems; the message names the depth and subject of the
// offending certificate.
Result<std::vector<Certificate>> VerifyChain(const std::vector<Certificate>& chain,
                                             const std::vector<Certificate>& roots, int64_t now,
                                             const std::vector<Crl>& crls,
                                             const ChainOptions& options = DefaultChainOptions());

// The extnValue contents (the DER inside the OCTET STRING) of the extension with dotted `oid`.
// kNotFound if absent; kMalformed if it appears twice.
Result<Bytes> ExtensionDer(const Certificate& cert, std::string_view oid);

// The certificate's subject public key.
Result<PublicKey> CertificatePublicKey(const Certificate& cert);
// An uncompressed EC point given as raw x||y (each coordinate `2*field bytes` long), on the named
// curve: "P-256" (64 bytes) or "P-384" (96 bytes). kInvalidKey if not on the curve or wrong size.
Result<PublicKey> EcPublicKeyFromRaw(std::string_view curve, ByteView xy);

enum class HashAlg { kSha256, kSha384, kSha512 };

// Verifies an ECDSA signature given as raw big-endian r||s (each half the length of `raw_rs`, at most 66
// bytes) over `message` hashed with `hash`. kBadSignature if it does not verify or is malformed;
// kInvalidKey if `key` is not an EC key.
Status VerifyEcdsaRaw(const PublicKey& key, HashAlg hash, ByteView message, ByteView raw_rs);

// Converts "YYYY-MM-DDThh:mm:ssZ" (RFC 3339 in UTC, optional fractional seconds) to unix seconds.
// kBadEncoding otherwise. Used for collateral dates and the test windows.
Result<int64_t> ParseRfc3339Utc(std::string_view text);

}  // namespace cmln::attest
