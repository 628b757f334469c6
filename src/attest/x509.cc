#include "attest/x509.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstring>

namespace cmln::attest {

namespace {

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct CrlFree {
  void operator()(X509_CRL* c) const { X509_CRL_free(c); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct StoreFree {
  void operator()(X509_STORE* s) const { X509_STORE_free(s); }
};
struct StoreCtxFree {
  void operator()(X509_STORE_CTX* s) const { X509_STORE_CTX_free(s); }
};
struct CertStackFree {
  void operator()(STACK_OF(X509) * s) const { sk_X509_pop_free(s, X509_free); }
};
struct CrlStackFree {
  void operator()(STACK_OF(X509_CRL) * s) const { sk_X509_CRL_pop_free(s, X509_CRL_free); }
};

int64_t AsnTimeToUnix(const ASN1_TIME* t) {
  if (t == nullptr) return 0;
  struct tm tm_value;
  std::memset(&tm_value, 0, sizeof(tm_value));
  if (ASN1_TIME_to_tm(t, &tm_value) != 1) return 0;
  int64_t secs = 0;
  // OPENSSL_gmtime-compatible inverse without the process time zone.
  const int64_t y = tm_value.tm_year + 1900;
  const int64_t m = tm_value.tm_mon + 1;
  const int64_t d = tm_value.tm_mday;
  // Days from civil (Howard Hinnant's algorithm).
  const int64_t yy = y - (m <= 2 ? 1 : 0);
  const int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
  const int64_t yoe = yy - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const int64_t days = era * 146097 + doe - 719468;
  secs = days * 86400 + tm_value.tm_hour * 3600 + tm_value.tm_min * 60 + tm_value.tm_sec;
  return secs;
}

bool LooksLikePem(ByteView b) {
  static constexpr std::string_view kBegin = "-----BEGIN";
  std::string_view s = AsChars(b);
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t')) ++i;
  return s.substr(i, kBegin.size()) == kBegin;
}

Error ChainError(int err, int depth, X509* cert) {
  ErrorCode code = ErrorCode::kChainUntrusted;
  switch (err) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
      code = ErrorCode::kCertExpired;
      break;
    case X509_V_ERR_CERT_NOT_YET_VALID:
      code = ErrorCode::kCertNotYetValid;
      break;
    case X509_V_ERR_CERT_REVOKED:
      code = ErrorCode::kCertRevoked;
      break;
    case X509_V_ERR_CRL_HAS_EXPIRED:
      code = ErrorCode::kCrlExpired;
      break;
    case X509_V_ERR_CRL_NOT_YET_VALID:
      code = ErrorCode::kCrlNotYetValid;
      break;
    case X509_V_ERR_CRL_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
      code = ErrorCode::kCrlBadSignature;
      break;
    default:
      break;
  }
  std::string msg = "certificate at depth " + std::to_string(depth);
  if (cert != nullptr) msg += " (" + Certificate(X509_dup(cert)).Subject() + ")";
  msg += ": ";
  msg += X509_verify_cert_error_string(err);
  return Error(code, msg);
}

}  // namespace

// --- Certificate / Crl / PublicKey ------------------------------------------------------------------

Certificate::Certificate(X509* x) : x_(x, X509Free()) {}

Bytes Certificate::Der() const {
  if (!x_) return {};
  unsigned char* out = nullptr;
  const int n = i2d_X509(x_.get(), &out);
  if (n <= 0) return {};
  Bytes b(out, out + n);
  OPENSSL_free(out);
  return b;
}

Bytes Certificate::SerialNumber() const {
  if (!x_) return {};
  const ASN1_INTEGER* serial = X509_get0_serialNumber(x_.get());
  BIGNUM* bn = ASN1_INTEGER_to_BN(serial, nullptr);
  if (bn == nullptr) return {};
  Bytes b(static_cast<size_t>(BN_num_bytes(bn)));
  BN_bn2bin(bn, b.data());
  BN_free(bn);
  if (b.empty()) b.push_back(0);
  return b;
}

std::string Certificate::Subject() const {
  if (!x_) return {};
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  if (!bio) return {};
  X509_NAME_print_ex(bio.get(), X509_get_subject_name(x_.get()), 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string();
}

int64_t Certificate::NotBefore() const { return x_ ? AsnTimeToUnix(X509_get0_notBefore(x_.get())) : 0; }
int64_t Certificate::NotAfter() const { return x_ ? AsnTimeToUnix(X509_get0_notAfter(x_.get())) : 0; }

Crl::Crl(X509_CRL* c) : c_(c, CrlFree()) {}

Bytes Crl::Der() const {
  if (!c_) return {};
  unsigned char* out = nullptr;
  const int n = i2d_X509_CRL(c_.get(), &out);
  if (n <= 0) return {};
  Bytes b(out, out + n);
  OPENSSL_free(out);
  return b;
}

int64_t Crl::ThisUpdate() const { return c_ ? AsnTimeToUnix(X509_CRL_get0_lastUpdate(c_.get())) : 0; }
int64_t Crl::NextUpdate() const { return c_ ? AsnTimeToUnix(X509_CRL_get0_nextUpdate(c_.get())) : 0; }

PublicKey::PublicKey(EVP_PKEY* k) : k_(k, PkeyFree()) {}

ChainOptions DefaultChainOptions() { return ChainOptions{}; }

// --- parsing -------------------------------------------------------------------------------------------

Result<Certificate> ParseCertificateDer(ByteView der) {
  if (der.size() > kMaxCertificateDer) {
    return Error(ErrorCode::kLengthTooLarge, "certificate: " + std::to_string(der.size()) + " bytes exceeds cap");
  }
  const unsigned char* p = der.data();
  X509* x = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  if (x == nullptr) return Error(ErrorCode::kBadEncoding, "certificate: DER does not parse");
  Certificate cert(x);
  if (p != der.data() + der.size()) {
    return Error(ErrorCode::kTrailingData, "certificate: bytes after the DER certificate");
  }
  return cert;
}

Result<Certificate> ParseCertificate(ByteView der_or_pem) {
  if (!LooksLikePem(der_or_pem)) return ParseCertificateDer(der_or_pem);
  CMLN_ASSIGN_OR_RETURN(auto chain, ParsePemChain(AsChars(der_or_pem)));
  if (chain.size() != 1) {
    return Error(ErrorCode::kMalformed, "certificate: expected one PEM block, found " + std::to_string(chain.size()));
  }
  return chain[0];
}

Result<std::vector<Certificate>> ParsePemChain(std::string_view pem) {
  if (pem.size() > kMaxPemChainText) {
    return Error(ErrorCode::kLengthTooLarge, "PEM chain: " + std::to_string(pem.size()) + " bytes exceeds cap");
  }
  // Intel's quotes carry the PCK chain followed by a NUL terminator.
  while (!pem.empty() && pem.back() == '\0') pem.remove_suffix(1);
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return Error(ErrorCode::kInternal, "PEM chain: BIO_new_mem_buf");
  std::vector<Certificate> out;
  for (;;) {
    char* name = nullptr;
    char* header = nullptr;
    unsigned char* data = nullptr;
    long len = 0;
    if (PEM_read_bio(bio.get(), &name, &header, &data, &len) != 1) {
      ERR_clear_error();
      break;
    }
    const std::string block_name = name;
    OPENSSL_free(name);
    OPENSSL_free(header);
    Bytes der(data, data + len);
    OPENSSL_free(data);
    if (block_name != "CERTIFICATE") {
      return Error(ErrorCode::kMalformed, "PEM chain: block " + std::to_string(out.size()) + " is " + block_name);
    }
    if (out.size() == kMaxChainLength) {
      return Error(ErrorCode::kLengthTooLarge, "PEM chain: more than " + std::to_string(kMaxChainLength) + " certificates");
    }
    auto cert = ParseCertificateDer(der);
    if (!cert.ok()) return cert.error().WithContext("PEM chain block " + std::to_string(out.size()));
    out.push_back(std::move(cert).value());
  }
  if (out.empty()) return Error(ErrorCode::kBadEncoding, "PEM chain: no CERTIFICATE block");
  return out;
}

Result<Crl> ParseCrlDer(ByteView der) {
  if (der.size() > kMaxCrlDer) {
    return Error(ErrorCode::kLengthTooLarge, "CRL: " + std::to_string(der.size()) + " bytes exceeds cap");
  }
  const unsigned char* p = der.data();
  X509_CRL* c = d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size()));
  if (c == nullptr) return Error(ErrorCode::kBadEncoding, "CRL: DER does not parse");
  Crl crl(c);
  if (p != der.data() + der.size()) return Error(ErrorCode::kTrailingData, "CRL: bytes after the DER CRL");
  return crl;
}

Result<Crl> ParseCrl(ByteView der_or_pem) {
  if (!LooksLikePem(der_or_pem)) return ParseCrlDer(der_or_pem);
  if (der_or_pem.size() > kMaxCrlDer * 2) return Error(ErrorCode::kLengthTooLarge, "CRL: PEM text exceeds cap");
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(der_or_pem.data(), static_cast<int>(der_or_pem.size())));
  if (!bio) return Error(ErrorCode::kInternal, "CRL: BIO_new_mem_buf");
  X509_CRL* c = PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr);
  if (c == nullptr) {
    ERR_clear_error();
    return Error(ErrorCode::kBadEncoding, "CRL: PEM does not parse");
  }
  return Crl(c);
}

// --- chain verification --------------------------------------------------------------------------------

Result<std::vector<Certificate>> VerifyChain(const std::vector<Certificate>& chain,
                                             const std::vector<Certificate>& roots, int64_t now,
                                             const std::vector<Crl>& crls, const ChainOptions& options) {
  if (chain.empty() || chain[0].empty()) return Error(ErrorCode::kInvalidArgument, "chain: no leaf certificate");
  if (roots.empty()) return Error(ErrorCode::kInvalidArgument, "chain: no pinned root");
  std::unique_ptr<X509_STORE, StoreFree> store(X509_STORE_new());
  std::unique_ptr<STACK_OF(X509), CertStackFree> untrusted(sk_X509_new_null());
  std::unique_ptr<STACK_OF(X509_CRL), CrlStackFree> crl_stack(sk_X509_CRL_new_null());
  std::unique_ptr<X509_STORE_CTX, StoreCtxFree> ctx(X509_STORE_CTX_new());
  if (!store || !untrusted || !crl_stack || !ctx) return Error(ErrorCode::kInternal, "chain: allocation");
  for (const auto& root : roots) {
    if (root.empty() || X509_STORE_add_cert(store.get(), root.get()) != 1) {
      ERR_clear_error();
      return Error(ErrorCode::kInvalidArgument, "chain: pinned root not usable");
    }
  }
  for (size_t i = 1; i < chain.size(); ++i) {
    if (chain[i].empty()) return Error(ErrorCode::kInvalidArgument, "chain: empty certificate");
    X509_up_ref(chain[i].get());
    if (sk_X509_push(untrusted.get(), chain[i].get()) <= 0) {
      X509_free(chain[i].get());
      return Error(ErrorCode::kInternal, "chain: sk_X509_push");
    }
  }
  for (const auto& crl : crls) {
    if (crl.get() == nullptr) return Error(ErrorCode::kInvalidArgument, "chain: empty CRL");
    X509_CRL_up_ref(crl.get());
    if (sk_X509_CRL_push(crl_stack.get(), crl.get()) <= 0) {
      X509_CRL_free(crl.get());
      return Error(ErrorCode::kInternal, "chain: sk_X509_CRL_push");
    }
  }
  if (X509_STORE_CTX_init(ctx.get(), store.get(), chain[0].get(), untrusted.get()) != 1) {
    ERR_clear_error();
    return Error(ErrorCode::kInternal, "chain: X509_STORE_CTX_init");
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(now));
  unsigned long flags = 0;
  if (options.x509_strict) flags |= X509_V_FLAG_X509_STRICT;
  if (!crls.empty()) {
    flags |= X509_V_FLAG_CRL_CHECK;
    if (options.crl_check_all) flags |= X509_V_FLAG_CRL_CHECK_ALL;
    X509_STORE_CTX_set0_crls(ctx.get(), crl_stack.get());
  }
  X509_VERIFY_PARAM_set_flags(param, flags);
  X509_VERIFY_PARAM_clear_flags(param, X509_V_FLAG_PARTIAL_CHAIN);

  const int rc = X509_verify_cert(ctx.get());
  if (rc != 1) {
    const int err = X509_STORE_CTX_get_error(ctx.get());
    const int depth = X509_STORE_CTX_get_error_depth(ctx.get());
    X509* bad = X509_STORE_CTX_get_current_cert(ctx.get());
    ERR_clear_error();
    Error error = ChainError(err == X509_V_OK ? X509_V_ERR_UNSPECIFIED : err, depth, bad);
    // OpenSSL checks revocation before the signatures of the chain, so an impostor root (right name,
    // wrong key) first shows up as a bad CRL signature. Report the chain's own defect when it has one.
    if (!crls.empty()) {
      auto without_crls = VerifyChain(chain, roots, now, {}, options);
      if (!without_crls.ok()) return without_crls.error();
    }
    return error;
  }
  std::vector<Certificate> path;
  STACK_OF(X509)* verified = X509_STORE_CTX_get0_chain(ctx.get());
  for (int i = 0; i < sk_X509_num(verified); ++i) {
    X509* x = sk_X509_value(verified, i);
    X509_up_ref(x);
    path.emplace_back(x);
  }
  return path;
}

// --- extensions and keys ----------------------------------------------------------------------------------

Result<Bytes> ExtensionDer(const Certificate& cert, std::string_view oid) {
  if (cert.empty()) return Error(ErrorCode::kInvalidArgument, "extension: empty certificate");
  const std::string oid_text(oid);
  ASN1_OBJECT* obj = OBJ_txt2obj(oid_text.c_str(), 1);
  if (obj == nullptr) {
    ERR_clear_error();
    return Error(ErrorCode::kInvalidArgument, "extension: bad OID " + oid_text);
  }
  const int idx = X509_get_ext_by_OBJ(cert.get(), obj, -1);
  const int again = idx >= 0 ? X509_get_ext_by_OBJ(cert.get(), obj, idx) : -1;
  ASN1_OBJECT_free(obj);
  if (idx < 0) return Error(ErrorCode::kNotFound, "extension " + oid_text + " absent");
  if (again >= 0) return Error(ErrorCode::kMalformed, "extension " + oid_text + " appears twice");
  X509_EXTENSION* ext = X509_get_ext(cert.get(), idx);
  const ASN1_OCTET_STRING* value = X509_EXTENSION_get_data(ext);
  if (value == nullptr) return Error(ErrorCode::kMalformed, "extension " + oid_text + " has no value");
  const unsigned char* d = ASN1_STRING_get0_data(value);
  return Bytes(d, d + ASN1_STRING_length(value));
}

Result<PublicKey> CertificatePublicKey(const Certificate& cert) {
  if (cert.empty()) return Error(ErrorCode::kInvalidArgument, "public key: empty certificate");
  EVP_PKEY* k = X509_get_pubkey(cert.get());
  if (k == nullptr) {
    ERR_clear_error();
    return Error(ErrorCode::kInvalidKey, "public key: certificate key does not decode");
  }
  return PublicKey(k);
}

Result<PublicKey> EcPublicKeyFromRaw(std::string_view curve, ByteView xy) {
  const char* group = nullptr;
  size_t want = 0;
  if (curve == "P-256") {
    group = "prime256v1";
    want = 64;
  } else if (curve == "P-384") {
    group = "secp384r1";
    want = 96;
  } else {
    return Error(ErrorCode::kInvalidArgument, "EC key: unknown curve " + std::string(curve));
  }
  if (xy.size() != want) {
    return Error(ErrorCode::kInvalidKey, "EC key: " + std::to_string(xy.size()) + " bytes, want " + std::to_string(want));
  }
  Bytes point;
  point.reserve(want + 1);
  point.push_back(0x04);  // uncompressed
  Append(point, xy);
  EVP_PKEY_CTX* pctx = EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr);
  OSSL_PARAM params[3];
  params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, const_cast<char*>(group), 0);
  params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
  params[2] = OSSL_PARAM_construct_end();
  EVP_PKEY* k = nullptr;
  const bool ok = pctx != nullptr && EVP_PKEY_fromdata_init(pctx) == 1 &&
                  EVP_PKEY_fromdata(pctx, &k, EVP_PKEY_PUBLIC_KEY, params) == 1;
  EVP_PKEY_CTX_free(pctx);
  if (!ok || k == nullptr) {
    ERR_clear_error();
    EVP_PKEY_free(k);
    return Error(ErrorCode::kInvalidKey, "EC key: point is not on " + std::string(curve));
  }
  // The import decodes the point with EC_POINT_oct2point, which refuses coordinates >= p and points off
  // the curve (EC_POINT_set_affine_coordinates checks EC_POINT_is_on_curve); with cofactor 1 that is
  // the whole public-key validation (SP 800-56A 5.6.2.3.4), so no EVP_PKEY_public_check (an extra
  // multiplication by the order, ~50 µs) is needed. x509_test's RawEcdsa shows both refusals.
  return PublicKey(k);
}

namespace {

// One signature (in the algorithm's own encoding, DER for ECDSA) over `message` under `key`.
bool DigestVerify(EVP_PKEY* key, HashAlg hash, ByteView message, ByteView signature) {
  const EVP_MD* md = hash == HashAlg::kSha256 ? EVP_sha256() : hash == HashAlg::kSha384 ? EVP_sha384() : EVP_sha512();
  EVP_MD_CTX* mctx = EVP_MD_CTX_new();
  const bool ok = mctx != nullptr && EVP_DigestVerifyInit(mctx, nullptr, md, nullptr, key) == 1 &&
                  EVP_DigestVerify(mctx, signature.data(), signature.size(), message.data(), message.size()) == 1;
  EVP_MD_CTX_free(mctx);
  ERR_clear_error();
  return ok;
}

}  // namespace

Status VerifyEcdsaRaw(const PublicKey& key, HashAlg hash, ByteView message, ByteView raw_rs) {
  if (key.get() == nullptr || EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_EC) {
    return Error(ErrorCode::kInvalidKey, "ECDSA: key is not an EC key");
  }
  if (raw_rs.empty() || raw_rs.size() % 2 != 0 || raw_rs.size() > 132) {
    return Error(ErrorCode::kBadSignature, "ECDSA: raw r||s has " + std::to_string(raw_rs.size()) + " bytes");
  }
  const size_t half = raw_rs.size() / 2;
  ECDSA_SIG* sig = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(raw_rs.data(), static_cast<int>(half), nullptr);
  BIGNUM* s = BN_bin2bn(raw_rs.data() + half, static_cast<int>(half), nullptr);
  if (sig == nullptr || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig, r, s) != 1) {
    ECDSA_SIG_free(sig);
    BN_free(r);
    BN_free(s);
    return Error(ErrorCode::kInternal, "ECDSA: allocation");
  }
  unsigned char* der = nullptr;
  const int der_len = i2d_ECDSA_SIG(sig, &der);
  ECDSA_SIG_free(sig);
  if (der_len <= 0) return Error(ErrorCode::kInternal, "ECDSA: i2d_ECDSA_SIG");
  const bool ok = DigestVerify(key.get(), hash, message, ByteView(der, static_cast<size_t>(der_len)));
  OPENSSL_free(der);
  if (!ok) return Error(ErrorCode::kBadSignature, "ECDSA: signature does not verify");
  return OkStatus();
}

// --- bounded DER reading ---------------------------------------------------------------------------------

Result<der::Tlv> der::ReadTlv(ByteReader& r, std::string_view field) {
  const size_t at = r.offset();
  const ByteView start = r.rest();
  CMLN_ASSIGN_OR_RETURN(uint8_t tag, r.U8(field));
  if ((tag & 0x1f) == 0x1f) {
    return Error(ErrorCode::kMalformed, std::string(field) + ": multi-byte tag at offset " + std::to_string(at));
  }
  CMLN_ASSIGN_OR_RETURN(uint8_t first, r.U8(field));
  size_t len = first;
  if (first & 0x80) {
    const size_t n = first & 0x7f;
    if (n == 0 || n > 4) {
      return Error(ErrorCode::kMalformed, std::string(field) + ": unsupported length form at offset " + std::to_string(at));
    }
    len = 0;
    for (size_t i = 0; i < n; ++i) {
      CMLN_ASSIGN_OR_RETURN(uint8_t b, r.U8(field));
      len = (len << 8) | b;
    }
  }
  if (len > r.remaining()) {
    return Error(ErrorCode::kLengthTooLarge, std::string(field) + ": length " + std::to_string(len) + " exceeds the " +
                                                 std::to_string(r.remaining()) + " bytes left at offset " +
                                                 std::to_string(at));
  }
  const size_t header = start.size() - r.remaining();
  CMLN_ASSIGN_OR_RETURN(ByteReader value, r.Child(len, field));
  return Tlv{tag, start.subspan(0, header + len), value};
}

Result<ByteReader> der::Expect(ByteReader& r, uint8_t tag, std::string_view field) {
  const size_t at = r.offset();
  CMLN_ASSIGN_OR_RETURN(Tlv t, ReadTlv(r, field));
  if (t.tag != tag) {
    return Error(ErrorCode::kMalformed, std::string(field) + ": tag 0x" + HexEncode(ByteView(&t.tag, 1)) +
                                            " at offset " + std::to_string(at));
  }
  return t.value;
}

// --- leaf certificates under a prepared issuer --------------------------------------------------------------

namespace {

// AlgorithmIdentifier { ecdsa-with-SHA256 } without parameters (RFC 5758 3.2).
constexpr uint8_t kEcdsaWithSha256Alg[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
// SubjectPublicKeyInfo { id-ecPublicKey, prime256v1 } up to and including the uncompressed-point byte 0x04;
// the 64 bytes x||y follow.
constexpr uint8_t kP256SpkiPrefix[] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06,
                                       0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04};
constexpr size_t kP256SpkiSize = sizeof(kP256SpkiPrefix) + 64;
constexpr uint8_t kDerContext0 = 0xa0;  // [0] EXPLICIT version
constexpr uint8_t kDerContext3 = 0xa3;  // [3] EXPLICIT extensions
// Bodies of the extension OIDs the leaf check understands (2.5.29.x).
constexpr uint8_t kOidSkid[] = {0x55, 0x1d, 0x0e};
constexpr uint8_t kOidKeyUsage[] = {0x55, 0x1d, 0x0f};
constexpr uint8_t kOidBasicConstraints[] = {0x55, 0x1d, 0x13};
constexpr uint8_t kOidCrlDp[] = {0x55, 0x1d, 0x1f};
constexpr uint8_t kOidAkid[] = {0x55, 0x1d, 0x23};
constexpr size_t kMaxSerialBytes = 20;  // RFC 5280 4.1.2.2

bool Equal(ByteView a, ByteView b) { return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin()); }
template <size_t N>
bool Equal(ByteView a, const uint8_t (&b)[N]) {
  return Equal(a, ByteView(b, N));
}

Bytes Magnitude(ByteView b) {
  while (b.size() > 1 && b[0] == 0) b = b.subspan(1);
  return Bytes(b.begin(), b.end());
}

// UTCTime "YYMMDDhhmmssZ" or GeneralizedTime "YYYYMMDDhhmmssZ" (RFC 5280 4.1.2.5) as unix seconds, through
// ParseRfc3339Utc; nullopt for any other form and for dates OpenSSL's time parser refuses (second 60,
// 29 February of a common year).
std::optional<int64_t> DerTime(const der::Tlv& t) {
  const std::string_view text = AsChars(t.value.rest());
  std::string year;
  std::string_view rest;
  if (t.tag == der::kUtcTime && text.size() == 13) {
    year = (text[0] >= '5' ? "19" : "20") + std::string(text.substr(0, 2));
    rest = text.substr(2);
  } else if (t.tag == der::kGeneralizedTime && text.size() == 15) {
    year = std::string(text.substr(0, 4));
    rest = text.substr(4);
  } else {
    return std::nullopt;
  }
  if (rest.back() != 'Z') return std::nullopt;
  const std::string rfc3339 = year + "-" + std::string(rest.substr(0, 2)) + "-" + std::string(rest.substr(2, 2)) + "T" +
                              std::string(rest.substr(4, 2)) + ":" + std::string(rest.substr(6, 2)) + ":" +
                              std::string(rest.substr(8, 2)) + "Z";
  auto secs = ParseRfc3339Utc(rfc3339);
  if (!secs.ok() || rest.substr(8, 2) == "60") return std::nullopt;
  if (rest.substr(0, 4) == "0229") {
    const int y = std::stoi(year);
    if (y % 4 != 0 || (y % 100 == 0 && y % 400 != 0)) return std::nullopt;
  }
  return *secs;
}

template <typename T, typename D2i, typename Free>
std::unique_ptr<T, Free> Decode(D2i d2i, Free free_fn, ByteView der) {
  const unsigned char* p = der.data();
  std::unique_ptr<T, Free> out(d2i(nullptr, &p, static_cast<long>(der.size())), free_fn);
  if (out && p != der.data() + der.size()) out.reset();
  ERR_clear_error();
  return out;
}

using AkidPtr = std::unique_ptr<AUTHORITY_KEYID, void (*)(AUTHORITY_KEYID*)>;

bool NoUnmodelledPathExtension(X509* x) {
  for (int nid : {NID_name_constraints, NID_policy_constraints, NID_policy_mappings, NID_inhibit_any_policy}) {
    if (X509_get_ext_by_NID(x, nid, -1) >= 0) return false;
  }
  return true;
}

}  // namespace

Result<PreparedIssuer> PreparedIssuer::Prepare(std::vector<Certificate> path, Crl crl) {
  auto unsupported = [](const std::string& why) { return Error(ErrorCode::kUnsupported, "prepared issuer: " + why); };
  if (path.size() < 2 || crl.get() == nullptr) return unsupported("needs a CA under a root and its CRL");
  for (const auto& c : path) {
    if (c.empty()) return Error(ErrorCode::kInvalidArgument, "prepared issuer: empty certificate");
  }
  X509* ca = path[0].get();
  // As an intermediate of a leaf's chain, X509_STRICT wants a real CA (basicConstraints CA:TRUE).
  if (X509_check_ca(ca) != 1) return unsupported("the issuer is not a CA under X509_STRICT");
  const uint32_t flags = X509_get_extension_flags(ca);
  if (flags & (EXFLAG_INVALID | EXFLAG_CRITICAL | EXFLAG_PROXY)) return unsupported("the issuer's extensions");
  if ((flags & EXFLAG_KUSAGE) == 0 || (X509_get_key_usage(ca) & (KU_KEY_CERT_SIGN | KU_CRL_SIGN)) !=
                                          (KU_KEY_CERT_SIGN | KU_CRL_SIGN)) {
    return unsupported("the issuer's key usage lacks keyCertSign or cRLSign");
  }
  const ASN1_OCTET_STRING* skid = X509_get0_subject_key_id(ca);
  if (skid == nullptr || ASN1_STRING_length(skid) <= 0) return unsupported("the issuer has no subject key identifier");
  EVP_PKEY* key = X509_get0_pubkey(ca);
  if (key == nullptr || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) {
    ERR_clear_error();
    return unsupported("the issuer's key is not an EC key");
  }
  // Path length as check_extensions counts it with the leaf at depth 0 and the issuer at depth 1.
  int below = 0;  // non-self-issued CAs under path[i]
  for (size_t i = 0; i < path.size(); ++i) {
    X509* x = path[i].get();
    if (!NoUnmodelledPathExtension(x)) return unsupported("name or policy constraints in the issuer's path");
    const long pathlen = X509_get_pathlen(x);
    if (i > 0 && pathlen >= 0 && below > pathlen) return unsupported("a pathLen constraint in the issuer's path");
    if ((X509_get_extension_flags(x) & EXFLAG_SI) == 0) ++below;
  }
  const X509_NAME* subject = X509_get_subject_name(ca);
  if (X509_NAME_entry_count(subject) == 0) return unsupported("the issuer's subject is empty");

  // The CRL must be the one OpenSSL would pick for a leaf of this issuer and score fully.
  X509_CRL* c = crl.get();
  if (X509_NAME_cmp(X509_CRL_get_issuer(c), subject) != 0) return unsupported("the CRL names another issuer");
  if (X509_CRL_get_ext_by_NID(c, NID_issuing_distribution_point, -1) >= 0 ||
      X509_CRL_get_ext_by_NID(c, NID_delta_crl, -1) >= 0 || X509_CRL_get_ext_by_critical(c, 1, -1) >= 0) {
    return unsupported("the CRL has a distribution point, delta indicator or critical extension");
  }
  int crit = 0;
  AkidPtr crl_akid(static_cast<AUTHORITY_KEYID*>(X509_CRL_get_ext_d2i(c, NID_authority_key_identifier, &crit, nullptr)),
                   AUTHORITY_KEYID_free);
  ERR_clear_error();
  if (!crl_akid && crit != -1) return unsupported("the CRL's authority key identifier does not decode");
  if (crl_akid && (crl_akid->keyid == nullptr || crl_akid->issuer != nullptr || crl_akid->serial != nullptr ||
                   ASN1_OCTET_STRING_cmp(crl_akid->keyid, skid) != 0)) {
    return unsupported("the CRL's authority key identifier is not the issuer's key id");
  }

  PreparedIssuer out;
  out.crl_this_update_ = crl.ThisUpdate();
  out.crl_next_update_ = crl.NextUpdate();
  if (out.crl_next_update_ == 0) return unsupported("the CRL has no nextUpdate");
  STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(c);
  for (int i = 0; i < sk_X509_REVOKED_num(revoked); ++i) {
    const ASN1_INTEGER* serial = X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(revoked, i));
    // Negative serials are listed by magnitude too: a false "listed" only sends a leaf to the full check.
    out.revoked_serials_.push_back(
        Magnitude(ByteView(ASN1_STRING_get0_data(serial), static_cast<size_t>(ASN1_STRING_length(serial)))));
  }
  std::sort(out.revoked_serials_.begin(), out.revoked_serials_.end());

  unsigned char* der = nullptr;
  const int n = i2d_X509_NAME(subject, &der);
  if (n <= 0) {
    ERR_clear_error();
    return Error(ErrorCode::kInternal, "prepared issuer: i2d_X509_NAME");
  }
  out.subject_der_.assign(der, der + n);
  OPENSSL_free(der);
  const unsigned char* k = ASN1_STRING_get0_data(skid);
  out.skid_.assign(k, k + ASN1_STRING_length(skid));
  EVP_PKEY_up_ref(key);
  out.key_ = PublicKey(key);
  out.path_ = std::move(path);
  out.crl_ = std::move(crl);
  return out;
}

std::optional<CheckedLeaf> CheckLeafUnder(const PreparedIssuer& issuer, ByteView leaf_der, int64_t now,
                                          ByteView private_oid_der) {
  if (issuer.path_.empty() || leaf_der.size() > kMaxCertificateDer) return std::nullopt;
  // Every failure below, of parsing or of a check, is only "not shown here".
  auto run = [&]() -> Result<CheckedLeaf> {
    const Error decline(ErrorCode::kUnsupported, "leaf: declined");
    CheckedLeaf out;
    ByteReader r(leaf_der);
    CMLN_ASSIGN_OR_RETURN(ByteReader cert, der::Expect(r, der::kSequence, "certificate"));
    CMLN_TRY(r.ExpectEnd("certificate"));
    CMLN_ASSIGN_OR_RETURN(der::Tlv tbs_tlv, der::ReadTlv(cert, "tbsCertificate"));
    CMLN_ASSIGN_OR_RETURN(der::Tlv outer_alg, der::ReadTlv(cert, "signatureAlgorithm"));
    CMLN_ASSIGN_OR_RETURN(ByteReader sig_bits, der::Expect(cert, der::kBitString, "signatureValue"));
    CMLN_TRY(cert.ExpectEnd("certificate"));
    if (tbs_tlv.tag != der::kSequence || !Equal(outer_alg.whole, kEcdsaWithSha256Alg)) return decline;
    CMLN_ASSIGN_OR_RETURN(uint8_t unused_bits, sig_bits.U8("signatureValue"));
    if (unused_bits != 0) return decline;
    const ByteView signature = sig_bits.TakeRest();

    ByteReader tbs = tbs_tlv.value;
    CMLN_ASSIGN_OR_RETURN(ByteReader version_box, der::Expect(tbs, kDerContext0, "version"));
    CMLN_ASSIGN_OR_RETURN(ByteReader version, der::Expect(version_box, der::kInteger, "version"));
    if (!Equal(version.rest(), ByteView(reinterpret_cast<const uint8_t*>("\x02"), 1)) || !version_box.empty()) {
      return decline;
    }
    CMLN_ASSIGN_OR_RETURN(ByteReader serial, der::Expect(tbs, der::kInteger, "serialNumber"));
    const ByteView serial_bytes = serial.rest();
    // Positive, minimally encoded, non-zero, at most 20 bytes of magnitude.
    if (serial_bytes.empty() || (serial_bytes[0] & 0x80) ||
        (serial_bytes[0] == 0 && (serial_bytes.size() == 1 || (serial_bytes[1] & 0x80) == 0))) {
      return decline;
    }
    out.serial = Magnitude(serial_bytes);
    if (out.serial.size() > kMaxSerialBytes) return decline;
    CMLN_ASSIGN_OR_RETURN(der::Tlv inner_alg, der::ReadTlv(tbs, "signature"));
    CMLN_ASSIGN_OR_RETURN(der::Tlv issuer_name, der::ReadTlv(tbs, "issuer"));
    CMLN_ASSIGN_OR_RETURN(ByteReader validity, der::Expect(tbs, der::kSequence, "validity"));
    CMLN_ASSIGN_OR_RETURN(der::Tlv subject_name, der::ReadTlv(tbs, "subject"));
    CMLN_ASSIGN_OR_RETURN(der::Tlv spki, der::ReadTlv(tbs, "subjectPublicKeyInfo"));
    CMLN_ASSIGN_OR_RETURN(ByteReader ext_box, der::Expect(tbs, kDerContext3, "extensions"));  // no unique ids
    CMLN_TRY(tbs.ExpectEnd("tbsCertificate"));
    CMLN_ASSIGN_OR_RETURN(ByteReader extensions, der::Expect(ext_box, der::kSequence, "extensions"));
    CMLN_TRY(ext_box.ExpectEnd("extensions"));
    if (!Equal(inner_alg.whole, kEcdsaWithSha256Alg) || !Equal(issuer_name.whole, issuer.subject_der_) ||
        subject_name.tag != der::kSequence || spki.whole.size() != kP256SpkiSize ||
        !Equal(spki.whole.subspan(0, sizeof(kP256SpkiPrefix)), kP256SpkiPrefix)) {
      return decline;
    }

    CMLN_ASSIGN_OR_RETURN(der::Tlv not_before, der::ReadTlv(validity, "notBefore"));
    CMLN_ASSIGN_OR_RETURN(der::Tlv not_after, der::ReadTlv(validity, "notAfter"));
    CMLN_TRY(validity.ExpectEnd("validity"));
    const auto nb = DerTime(not_before);
    const auto na = DerTime(not_after);
    if (!nb || !na) return decline;
    out.not_before = *nb;
    out.not_after = *na;

    // The subject as OpenSSL reads it: parses, is not empty, and does not make the leaf self-issued.
    auto subject = Decode<X509_NAME>(d2i_X509_NAME, X509_NAME_free, subject_name.whole);
    if (!subject || X509_NAME_entry_count(subject.get()) == 0 ||
        X509_NAME_cmp(subject.get(), X509_get_subject_name(issuer.path_[0].get())) == 0) {
      return decline;
    }

    enum : uint32_t { kAkid = 1, kSkid = 2, kKeyUsage = 4, kBasic = 8, kCrlDp = 16, kPrivate = 32 };
    uint32_t seen = 0;
    while (!extensions.empty()) {
      CMLN_ASSIGN_OR_RETURN(ByteReader ext, der::Expect(extensions, der::kSequence, "extension"));
      CMLN_ASSIGN_OR_RETURN(ByteReader oid_reader, der::Expect(ext, der::kOid, "extnID"));
      const ByteView oid = oid_reader.rest();
      bool critical = false;
      if (!ext.empty() && ext.rest()[0] == der::kBoolean) {
        CMLN_ASSIGN_OR_RETURN(ByteReader flag, der::Expect(ext, der::kBoolean, "critical"));
        // DER: DEFAULT FALSE is omitted, so an explicit flag must be TRUE (0xff).
        if (flag.remaining() != 1 || flag.rest()[0] != 0xff) return decline;
        critical = true;
      }
      CMLN_ASSIGN_OR_RETURN(ByteReader value_reader, der::Expect(ext, der::kOctetString, "extnValue"));
      CMLN_TRY(ext.ExpectEnd("extension"));
      const ByteView value = value_reader.rest();
      uint32_t bit = 0;
      if (Equal(oid, kOidAkid)) {
        bit = kAkid;
        auto akid = Decode<AUTHORITY_KEYID>(d2i_AUTHORITY_KEYID, AUTHORITY_KEYID_free, value);
        if (critical || !akid || akid->keyid == nullptr || akid->issuer != nullptr || akid->serial != nullptr ||
            !Equal(ByteView(ASN1_STRING_get0_data(akid->keyid), static_cast<size_t>(ASN1_STRING_length(akid->keyid))),
                   issuer.skid_)) {
          return decline;
        }
      } else if (Equal(oid, kOidSkid)) {
        bit = kSkid;
        if (critical || !Decode<ASN1_OCTET_STRING>(d2i_ASN1_OCTET_STRING, ASN1_OCTET_STRING_free, value)) return decline;
      } else if (Equal(oid, kOidKeyUsage)) {
        bit = kKeyUsage;
        auto usage = Decode<ASN1_BIT_STRING>(d2i_ASN1_BIT_STRING, ASN1_BIT_STRING_free, value);
        // OpenSSL's ex_kusage is the first two bytes; a non-CA must not claim keyCertSign.
        if (!usage || (ASN1_STRING_length(usage.get()) > 0 && (ASN1_STRING_get0_data(usage.get())[0] & KU_KEY_CERT_SIGN))) {
          return decline;
        }
      } else if (Equal(oid, kOidBasicConstraints)) {
        bit = kBasic;
        auto bc = Decode<BASIC_CONSTRAINTS>(d2i_BASIC_CONSTRAINTS, BASIC_CONSTRAINTS_free, value);
        if (!bc || bc->ca != 0 || bc->pathlen != nullptr) return decline;
      } else if (Equal(oid, kOidCrlDp)) {
        bit = kCrlDp;
        auto dps = Decode<CRL_DIST_POINTS>(d2i_CRL_DIST_POINTS, CRL_DIST_POINTS_free, value);
        if (critical || !dps) return decline;
        for (int i = 0; i < sk_DIST_POINT_num(dps.get()); ++i) {
          const DIST_POINT* dp = sk_DIST_POINT_value(dps.get(), i);
          if (dp->CRLissuer != nullptr || (dp->distpoint != nullptr && dp->distpoint->type != 0)) return decline;
        }
      } else if (!private_oid_der.empty() && Equal(oid, private_oid_der)) {
        bit = kPrivate;
        if (critical) return decline;
        out.private_extension.assign(value.begin(), value.end());
      } else {
        return decline;  // an extension this check does not model, critical or not
      }
      if (seen & bit) return decline;  // RFC 5280 4.2: at most once
      seen |= bit;
    }
    if ((seen & kAkid) == 0) return decline;  // X509_STRICT wants an AKID on a certificate with an issuer

    // Dates, then revocation, then the two expensive steps.
    if (now < out.not_before || now >= out.not_after) return decline;
    if (now < issuer.crl_this_update_ || now >= issuer.crl_next_update_) return decline;
    if (std::binary_search(issuer.revoked_serials_.begin(), issuer.revoked_serials_.end(), out.serial)) return decline;
    CMLN_ASSIGN_OR_RETURN(out.key, EcPublicKeyFromRaw("P-256", spki.whole.subspan(sizeof(kP256SpkiPrefix))));
    if (!DigestVerify(issuer.key_.get(), HashAlg::kSha256, tbs_tlv.whole, signature)) return decline;
    return out;
  };
  auto result = run();
  if (!result.ok()) return std::nullopt;
  return std::move(result).value();
}

// --- time ----------------------------------------------------------------------------------------------

Result<int64_t> ParseRfc3339Utc(std::string_view text) {
  auto bad = [&] { return Error(ErrorCode::kBadEncoding, "date: not YYYY-MM-DDThh:mm:ssZ"); };
  if (text.size() < 20 || text.size() > 40) return bad();
  auto num = [&](size_t pos, size_t len, int64_t* out) {
    int64_t v = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      v = v * 10 + (text[i] - '0');
    }
    *out = v;
    return true;
  };
  int64_t y, mo, d, h, mi, s;
  if (!num(0, 4, &y) || text[4] != '-' || !num(5, 2, &mo) || text[7] != '-' || !num(8, 2, &d) ||
      (text[10] != 'T' && text[10] != 't') || !num(11, 2, &h) || text[13] != ':' || !num(14, 2, &mi) ||
      text[16] != ':' || !num(17, 2, &s)) {
    return bad();
  }
  size_t pos = 19;
  if (text[pos] == '.') {
    ++pos;
    const size_t start = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
    if (pos == start) return bad();
  }
  if (pos + 1 != text.size() || (text[pos] != 'Z' && text[pos] != 'z')) return bad();
  static constexpr int kDaysIn[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mo < 1 || mo > 12 || d < 1 || d > kDaysIn[mo - 1] || h > 23 || mi > 59 || s > 60) return bad();
  const int64_t yy = y - (mo <= 2 ? 1 : 0);
  const int64_t era = yy / 400;
  const int64_t yoe = yy - era * 400;
  const int64_t doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const int64_t days = era * 146097 + doe - 719468;
  return days * 86400 + h * 3600 + mi * 60 + s;
}

}  // namespace cmln::attest
