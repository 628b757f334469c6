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
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/byte_reader.h"
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
// curve: "P-256" (64 bytes) or "P-384" (96 bytes). kInvalidKey if not on the curve, a coordinate is not
// below the field prime, or the size is wrong. (Both curves have cofactor 1: a point on the curve is in
// the prime-order group, so no multiplication by the order is needed.)
Result<PublicKey> EcPublicKeyFromRaw(std::string_view curve, ByteView xy);

enum class HashAlg { kSha256, kSha384, kSha512 };

// Verifies an ECDSA signature given as raw big-endian r||s (each half the length of `raw_rs`, at most 66
// bytes) over `message` hashed with `hash`. kBadSignature if it does not verify or is malformed;
// kInvalidKey if `key` is not an EC key.
Status VerifyEcdsaRaw(const PublicKey& key, HashAlg hash, ByteView message, ByteView raw_rs);

// --- bounded DER reading ------------------------------------------------------------------------------
// One TLV at a time on a ByteReader: single-byte tags only, definite lengths (short form or 1..4 length
// bytes), every length checked against what is left before anything is taken (namespace der). Shared by the leaf check
// below and the SGX extension parser (pck_extensions.h).

namespace der {
inline constexpr uint8_t kBoolean = 0x01;
inline constexpr uint8_t kInteger = 0x02;
inline constexpr uint8_t kBitString = 0x03;
inline constexpr uint8_t kOctetString = 0x04;
inline constexpr uint8_t kOid = 0x06;
inline constexpr uint8_t kEnumerated = 0x0a;
inline constexpr uint8_t kUtcTime = 0x17;
inline constexpr uint8_t kGeneralizedTime = 0x18;
inline constexpr uint8_t kSequence = 0x30;

struct Tlv {
  uint8_t tag = 0;
  ByteView whole;    // tag, length and value, as received
  ByteReader value;  // the value, as a child reader (offsets stay absolute)
};
// kMalformed for a multi-byte tag or an indefinite / over-long length form; kTruncated / kLengthTooLarge
// when the length runs past the end. `field` names the element in messages.
Result<Tlv> ReadTlv(ByteReader& r, std::string_view field);
// ReadTlv, then kMalformed unless the tag is `tag`; returns the value reader.
Result<ByteReader> Expect(ByteReader& r, uint8_t tag, std::string_view field);
}  // namespace der

// --- leaf certificates under a CA verified once -----------------------------------------------------------
//
// Why: OpenSSL 3.0 decodes every parsed certificate's public key through its provider decoders (~100 µs
// for one P-256 PCK certificate, more than an ECDSA verification) and X509_verify_cert re-verifies the CA's
// own signature each time. Quotes from many platforms share one PCK CA, verified once with the collateral.
//
// A PreparedIssuer is that CA, from a path VerifyChain accepted, with the CRL it signed. CheckLeafUnder
// then accepts a DER leaf certificate only when it has exactly the shape VerifyChain({leaf, CA}, roots,
// now, {root CRL, crl}) with X509_STRICT accepts, and every check that call makes on the leaf holds:
//   * Certificate ::= SEQUENCE { tbs, ecdsa-with-SHA256, BIT STRING }, nothing after it; tbs is v3, a
//     positive serial of 1..20 bytes, signature ecdsa-with-SHA256 (no parameters, equal to the outer one),
//     issuer byte-equal to the CA's subject (and different from the leaf's subject), UTCTime or
//     GeneralizedTime validity in seconds with "Z", a non-empty subject that OpenSSL parses, an EC P-256
//     named-curve key whose point is on the curve, no unique ids, and extensions:
//       authorityKeyIdentifier (required, non-critical, keyIdentifier only, equal to the CA's SKID),
//       subjectKeyIdentifier (non-critical), keyUsage (no keyCertSign), basicConstraints (CA:FALSE, no
//       pathLen), cRLDistributionPoints (non-critical, full names only), and the caller's own
//       non-critical `private_oid` (returned); each at most once, each value parsed by OpenSSL's own
//       decoder; any other extension makes the check decline;
//   * the CA's ECDSA signature over the tbs bytes as received;
//   * notBefore <= now < notAfter (OpenSSL's convention);
//   * the CRL is inside [thisUpdate, nextUpdate) at now and does not list the leaf's serial.
// What it declines is never a verdict: nullopt means "not shown here" (malformed, unusual, expired,
// revoked, forged, another issuer ...) and the caller must run VerifyChain with the CRLs, which gives the
// verdict and its code. So everything it accepts, the full check accepts too, at a fraction of the cost.
class PreparedIssuer {
 public:
  // `path`: a path VerifyChain accepted with the root CRL, path[0] the issuing CA, path.back() the pinned
  // root. `crl`: a CRL whose signature by path[0] the caller verified. kUnsupported when the fast check
  // does not model the CA or CRL (then keep VerifyChain): the CA is not a CA under X509_STRICT (basic
  // constraints CA:TRUE, keyCertSign and cRLSign when key usage is present), has no SKID or no EC key, the
  // path carries name or policy constraints or policy mappings, the root's pathLen forbids a CA under it,
  // or the CRL names another issuer, has an issuing distribution point, delta indicator, critical
  // extension or an authority key id other than the CA's SKID.
  static Result<PreparedIssuer> Prepare(std::vector<Certificate> path, Crl crl);

  const std::vector<Certificate>& path() const { return path_; }
  const Crl& crl() const { return crl_; }

 private:
  friend std::optional<struct CheckedLeaf> CheckLeafUnder(const PreparedIssuer& issuer, ByteView leaf_der,
                                                          int64_t now, ByteView private_oid_der);
  std::vector<Certificate> path_;
  Crl crl_;
  Bytes subject_der_;  // path_[0]'s subject Name, DER
  Bytes skid_;         // path_[0]'s subjectKeyIdentifier
  PublicKey key_;      // path_[0]'s public key
  int64_t crl_this_update_ = 0;
  int64_t crl_next_update_ = 0;
  std::vector<Bytes> revoked_serials_;  // big-endian magnitudes, sorted
};

struct CheckedLeaf {
  Bytes serial;            // big-endian magnitude
  int64_t not_before = 0;  // unix seconds
  int64_t not_after = 0;
  PublicKey key;           // the leaf's P-256 key, on the curve
  Bytes private_extension; // extnValue contents of `private_oid`; empty if the leaf has none
};

// See PreparedIssuer. `private_oid_der` is the body of the caller's extension OID (no tag or length).
// Thread-safe; `issuer` is only read.
std::optional<CheckedLeaf> CheckLeafUnder(const PreparedIssuer& issuer, ByteView leaf_der, int64_t now,
                                          ByteView private_oid_der);

// Converts "YYYY-MM-DDThh:mm:ssZ" (RFC 3339 in UTC, optional fractional seconds) to unix seconds.
// kBadEncoding otherwise. Used for collateral dates and the test windows.
Result<int64_t> ParseRfc3339Utc(std::string_view text);

}  // namespace cmln::attest
