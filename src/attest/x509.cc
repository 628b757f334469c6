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
  // fromdata does not always validate the point; do it explicitly.
  EVP_PKEY_CTX* check = EVP_PKEY_CTX_new_from_pkey(nullptr, k, nullptr);
  const bool valid = check != nullptr && EVP_PKEY_public_check(check) == 1;
  EVP_PKEY_CTX_free(check);
  if (!valid) {
    ERR_clear_error();
    EVP_PKEY_free(k);
    return Error(ErrorCode::kInvalidKey, "EC key: point is not on " + std::string(curve));
  }
  return PublicKey(k);
}

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
  const EVP_MD* md = hash == HashAlg::kSha256 ? EVP_sha256() : hash == HashAlg::kSha384 ? EVP_sha384() : EVP_sha512();
  EVP_MD_CTX* mctx = EVP_MD_CTX_new();
  const bool ok = mctx != nullptr && EVP_DigestVerifyInit(mctx, nullptr, md, nullptr, key.get()) == 1 &&
                  EVP_DigestVerify(mctx, der, static_cast<size_t>(der_len), message.data(), message.size()) == 1;
  EVP_MD_CTX_free(mctx);
  OPENSSL_free(der);
  ERR_clear_error();
  if (!ok) return Error(ErrorCode::kBadSignature, "ECDSA: signature does not verify");
  return OkStatus();
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
