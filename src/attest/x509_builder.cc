// Issuing side of x509.h: keys, certificates, CRLs and raw ECDSA signatures (see x509_builder.h).
#include "attest/x509_builder.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "seal/crypto.h"

namespace cmln::attest {

namespace {

constexpr size_t kMinDeriveSeed = 16;
constexpr size_t kMaxSerialBytes = 20;

struct BnFree {
  void operator()(BIGNUM* b) const { BN_clear_free(b); }
};
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

Error OpensslError(std::string_view what) {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  char buf[256] = {};
  if (e != 0) ERR_error_string_n(e, buf, sizeof(buf));
  return Error(ErrorCode::kInternal, std::string(what) + (e != 0 ? std::string(": ") + buf : std::string()));
}

Result<const char*> GroupName(std::string_view curve) {
  if (curve == "P-256") return "prime256v1";
  if (curve == "P-384") return "secp384r1";
  return Error(ErrorCode::kInvalidArgument, "EC key: unknown curve " + std::string(curve));
}

std::string BioText(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string();
}

// Signs a certificate or CRL (exactly one of them non-null) under `scheme`.
Status SignObject(X509* cert, X509_CRL* crl, const PrivateKey& key, SignatureScheme scheme) {
  const bool rsa = scheme == SignatureScheme::kRsaPssSha384;
  if (rsa != key.is_rsa()) {
    return Error(ErrorCode::kInvalidArgument, "signature scheme does not fit the issuer key type");
  }
  const EVP_MD* md = scheme == SignatureScheme::kEcdsaSha256 ? EVP_sha256() : EVP_sha384();
  EVP_MD_CTX* m = EVP_MD_CTX_new();
  if (m == nullptr) return OpensslError("EVP_MD_CTX_new");
  EVP_PKEY_CTX* pctx = nullptr;
  bool ok = EVP_DigestSignInit(m, &pctx, md, nullptr, key.get()) == 1;
  if (ok && rsa) {
    // AMD's chain: RSASSA-PSS with SHA-384, MGF1-SHA-384 and a 48-byte salt.
    ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha384()) == 1 && EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 48) == 1;
  }
  if (ok) ok = cert != nullptr ? X509_sign_ctx(cert, m) > 0 : X509_CRL_sign_ctx(crl, m) > 0;
  EVP_MD_CTX_free(m);
  if (!ok) return OpensslError("signing certificate/CRL");
  return OkStatus();
}

Status AddConfExtension(X509* cert, X509* issuer, X509_CRL* crl, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, crl, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) return OpensslError(std::string("extension ") + OBJ_nid2sn(nid));
  const int ok = cert != nullptr ? X509_add_ext(cert, ext, -1) : X509_CRL_add_ext(crl, ext, -1);
  X509_EXTENSION_free(ext);
  if (ok != 1) return OpensslError(std::string("adding extension ") + OBJ_nid2sn(nid));
  return OkStatus();
}

Status AddRawExtension(X509* cert, const RawExtension& e) {
  ASN1_OBJECT* obj = OBJ_txt2obj(e.oid.c_str(), /*no_name=*/1);
  if (obj == nullptr) {
    ERR_clear_error();
    return Error(ErrorCode::kInvalidArgument, "extension OID '" + e.oid + "' is not dotted");
  }
  ASN1_OCTET_STRING* os = ASN1_OCTET_STRING_new();
  X509_EXTENSION* ext = nullptr;
  bool ok = os != nullptr && ASN1_OCTET_STRING_set(os, e.der.data(), static_cast<int>(e.der.size())) == 1;
  if (ok) ext = X509_EXTENSION_create_by_OBJ(nullptr, obj, e.critical ? 1 : 0, os);
  ok = ok && ext != nullptr && X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  ASN1_OCTET_STRING_free(os);
  ASN1_OBJECT_free(obj);
  if (!ok) return OpensslError("extension " + e.oid);
  return OkStatus();
}

Result<ASN1_INTEGER*> SerialInteger(ByteView serial) {
  if (serial.empty() || serial.size() > kMaxSerialBytes || serial[0] == 0) {
    return Error(ErrorCode::kInvalidArgument, "serial: want 1..20 bytes with a non-zero first byte");
  }
  BnPtr bn(BN_bin2bn(serial.data(), static_cast<int>(serial.size()), nullptr));
  ASN1_INTEGER* i = bn ? BN_to_ASN1_INTEGER(bn.get(), nullptr) : nullptr;
  if (i == nullptr) return OpensslError("serial");
  return i;
}

Status SetTime(ASN1_TIME* t, int64_t when) {
  if (ASN1_TIME_set(t, static_cast<time_t>(when)) == nullptr) return OpensslError("ASN1_TIME_set");
  return OkStatus();
}

}  // namespace

// --- PrivateKey ------------------------------------------------------------------------------------------

PrivateKey::PrivateKey(EVP_PKEY* k) : k_(k, EVP_PKEY_free) {}

bool PrivateKey::is_rsa() const { return k_ != nullptr && EVP_PKEY_is_a(k_.get(), "RSA"); }

Result<PrivateKey> PrivateKey::GenerateEc(std::string_view curve) {
  CMLN_ASSIGN_OR_RETURN(const char* group, GroupName(curve));
  EVP_PKEY* k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", group);
  if (k == nullptr) return OpensslError("EC key generation");
  return PrivateKey(k);
}

Result<PrivateKey> PrivateKey::DeriveEc(std::string_view curve, ByteView seed, std::string_view label) {
  CMLN_ASSIGN_OR_RETURN(const char* group_name, GroupName(curve));
  if (seed.size() < kMinDeriveSeed) {
    return Error(ErrorCode::kInvalidArgument, "DeriveEc: seed shorter than 16 bytes");
  }
  const SecretBytes prk = seal::HkdfExtract(AsBytes("cmln-ec-key"), seed);
  // 64 bytes reduced modulo n-1 leaves a bias below 2^-128 on both curves.
  CMLN_ASSIGN_OR_RETURN(SecretBytes okm, seal::HkdfExpand(prk.view(), AsBytes(label), 64));

  EC_GROUP* group = EC_GROUP_new_by_curve_name(OBJ_txt2nid(group_name));
  BN_CTX* bctx = BN_CTX_new();
  BnPtr d(BN_bin2bn(okm.data(), static_cast<int>(okm.size()), nullptr));
  BnPtr n_minus_1(BN_new());
  EC_POINT* q = group != nullptr ? EC_POINT_new(group) : nullptr;
  unsigned char point[1 + 2 * 48];
  size_t point_len = 0;
  bool ok = group != nullptr && bctx != nullptr && d && n_minus_1 && q != nullptr &&
            BN_copy(n_minus_1.get(), EC_GROUP_get0_order(group)) != nullptr && BN_sub_word(n_minus_1.get(), 1) == 1 &&
            BN_nnmod(d.get(), d.get(), n_minus_1.get(), bctx) == 1 && BN_add_word(d.get(), 1) == 1 &&
            EC_POINT_mul(group, q, d.get(), nullptr, nullptr, bctx) == 1;
  if (ok) {
    point_len = EC_POINT_point2oct(group, q, POINT_CONVERSION_UNCOMPRESSED, point, sizeof(point), bctx);
    ok = point_len > 0;
  }
  EVP_PKEY* k = nullptr;
  if (ok) {
    OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM* params = nullptr;
    EVP_PKEY_CTX* pctx = EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr);
    ok = bld != nullptr && pctx != nullptr &&
         OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group_name, 0) == 1 &&
         OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d.get()) == 1 &&
         OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, point_len) == 1 &&
         (params = OSSL_PARAM_BLD_to_param(bld)) != nullptr && EVP_PKEY_fromdata_init(pctx) == 1 &&
         EVP_PKEY_fromdata(pctx, &k, EVP_PKEY_KEYPAIR, params) == 1;
    OSSL_PARAM_free(params);  // OSSL_PARAM_BLD_to_param allocates in secure memory for BNs
    OSSL_PARAM_BLD_free(bld);
    EVP_PKEY_CTX_free(pctx);
  }
  OPENSSL_cleanse(point, sizeof(point));
  EC_POINT_free(q);
  BN_CTX_free(bctx);
  EC_GROUP_free(group);
  if (!ok || k == nullptr) {
    EVP_PKEY_free(k);
    return OpensslError("DeriveEc");
  }
  return PrivateKey(k);
}

Result<PrivateKey> PrivateKey::GenerateRsa(int bits) {
  if (bits < 2048 || bits > 8192) return Error(ErrorCode::kInvalidArgument, "RSA key: bits out of 2048..8192");
  EVP_PKEY* k = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits));
  if (k == nullptr) return OpensslError("RSA key generation");
  return PrivateKey(k);
}

Result<PrivateKey> PrivateKey::FromPem(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EVP_PKEY* k = bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  if (k == nullptr) {
    ERR_clear_error();
    return Error(ErrorCode::kInvalidKey, "private key: not an unencrypted PEM private key");
  }
  return PrivateKey(k);
}

Result<PublicKey> PrivateKey::Public() const {
  if (!k_) return Error(ErrorCode::kInvalidKey, "empty private key");
  unsigned char* der = nullptr;
  const int n = i2d_PUBKEY(k_.get(), &der);
  if (n <= 0) return OpensslError("i2d_PUBKEY");
  const unsigned char* p = der;
  EVP_PKEY* pub = d2i_PUBKEY(nullptr, &p, n);
  OPENSSL_free(der);
  if (pub == nullptr) return OpensslError("d2i_PUBKEY");
  return PublicKey(pub);
}

Result<SecretBytes> PrivateKey::ToPem() const {
  if (!k_) return Error(ErrorCode::kInvalidKey, "empty private key");
  // Secure-heap BIO: its buffer is cleansed when freed.
  BioPtr bio(BIO_new(BIO_s_secmem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), k_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return OpensslError("PEM_write_bio_PrivateKey");
  }
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  if (n <= 0) return OpensslError("PEM private key");
  return SecretBytes(ByteView(reinterpret_cast<const uint8_t*>(data), static_cast<size_t>(n)));
}

Result<Bytes> PrivateKey::RawEcPublicKey() const {
  if (!k_ || !EVP_PKEY_is_a(k_.get(), "EC")) return Error(ErrorCode::kInvalidKey, "not an EC key");
  unsigned char buf[1 + 2 * 66];
  size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(k_.get(), OSSL_PKEY_PARAM_PUB_KEY, buf, sizeof(buf), &len) != 1 || len < 3 ||
      buf[0] != 0x04) {
    ERR_clear_error();
    // Some providers keep the point compressed; ask for the uncompressed encoding explicitly.
    if (EVP_PKEY_set_utf8_string_param(k_.get(), OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, "uncompressed") != 1 ||
        EVP_PKEY_get_octet_string_param(k_.get(), OSSL_PKEY_PARAM_PUB_KEY, buf, sizeof(buf), &len) != 1 || len < 3 ||
        buf[0] != 0x04) {
      return OpensslError("EC public point");
    }
  }
  return Bytes(buf + 1, buf + len);
}

// --- certificates and CRLs -------------------------------------------------------------------------------

Result<Certificate> MintCertificate(const CertificateSpec& spec, const PrivateKey& subject_key,
                                    const Certificate* issuer, const PrivateKey& issuer_key) {
  if (spec.subject.empty()) return Error(ErrorCode::kInvalidArgument, "certificate: empty subject");
  if (subject_key.empty() || issuer_key.empty()) return Error(ErrorCode::kInvalidKey, "certificate: empty key");
  CMLN_ASSIGN_OR_RETURN(ASN1_INTEGER * serial, SerialInteger(spec.serial));
  Certificate out(X509_new());  // owns the X509 from here on, also on every error path
  X509* x = out.get();
  if (x == nullptr) {
    ASN1_INTEGER_free(serial);
    return OpensslError("X509_new");
  }
  const bool serial_ok = X509_set_serialNumber(x, serial) == 1;
  ASN1_INTEGER_free(serial);
  if (!serial_ok || X509_set_version(x, 2) != 1) return OpensslError("certificate version/serial");

  X509_NAME* name = X509_NAME_new();
  bool ok = name != nullptr;
  for (const auto& [field, value] : spec.subject) {
    ok = ok && X509_NAME_add_entry_by_txt(name, field.c_str(), MBSTRING_UTF8,
                                          reinterpret_cast<const unsigned char*>(value.data()),
                                          static_cast<int>(value.size()), -1, 0) == 1;
  }
  ok = ok && X509_set_subject_name(x, name) == 1 &&
       X509_set_issuer_name(x, issuer != nullptr ? X509_get_subject_name(issuer->get()) : name) == 1;
  X509_NAME_free(name);
  if (!ok) {
    ERR_clear_error();
    return Error(ErrorCode::kInvalidArgument, "certificate: subject attribute rejected (unknown field or too long)");
  }
  CMLN_TRY(SetTime(X509_getm_notBefore(x), spec.not_before));
  CMLN_TRY(SetTime(X509_getm_notAfter(x), spec.not_after));
  if (X509_set_pubkey(x, subject_key.get()) != 1) return OpensslError("X509_set_pubkey");

  X509* issuer_x = issuer != nullptr ? issuer->get() : x;
  CMLN_TRY(AddConfExtension(x, issuer_x, nullptr, NID_subject_key_identifier, "hash"));
  if (spec.authority_key_id) {
    CMLN_TRY(AddConfExtension(x, issuer_x, nullptr, NID_authority_key_identifier, "keyid:always"));
  }
  std::string bc = spec.ca ? "critical,CA:TRUE" : "critical,CA:FALSE";
  if (spec.ca && spec.path_length) bc += ",pathlen:" + std::to_string(*spec.path_length);
  CMLN_TRY(AddConfExtension(x, issuer_x, nullptr, NID_basic_constraints, bc.c_str()));
  CMLN_TRY(AddConfExtension(x, issuer_x, nullptr, NID_key_usage,
                            spec.ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature,nonRepudiation"));
  for (const RawExtension& e : spec.extensions) CMLN_TRY(AddRawExtension(x, e));
  CMLN_TRY(SignObject(x, nullptr, issuer_key, spec.scheme));
  return out;
}

Result<Crl> MintCrl(const CrlSpec& spec, const Certificate& issuer, const PrivateKey& issuer_key) {
  Crl out(X509_CRL_new());
  X509_CRL* c = out.get();
  if (c == nullptr) return OpensslError("X509_CRL_new");
  if (X509_CRL_set_version(c, 1) != 1 || X509_CRL_set_issuer_name(c, X509_get_subject_name(issuer.get())) != 1) {
    return OpensslError("CRL issuer");
  }
  ASN1_TIME* t = ASN1_TIME_new();
  bool ok = t != nullptr && ASN1_TIME_set(t, static_cast<time_t>(spec.this_update)) != nullptr &&
            X509_CRL_set1_lastUpdate(c, t) == 1 && ASN1_TIME_set(t, static_cast<time_t>(spec.next_update)) != nullptr &&
            X509_CRL_set1_nextUpdate(c, t) == 1;
  for (size_t i = 0; ok && i < spec.revoked_serials.size(); ++i) {
    auto serial = SerialInteger(spec.revoked_serials[i]);
    if (!serial.ok()) {
      ASN1_TIME_free(t);
      return serial.error().WithContext("revoked serial " + std::to_string(i));
    }
    X509_REVOKED* r = X509_REVOKED_new();
    ok = r != nullptr && X509_REVOKED_set_serialNumber(r, *serial) == 1 &&
         ASN1_TIME_set(t, static_cast<time_t>(spec.this_update)) != nullptr &&
         X509_REVOKED_set_revocationDate(r, t) == 1 && X509_CRL_add0_revoked(c, r) == 1;
    if (!ok) X509_REVOKED_free(r);
    ASN1_INTEGER_free(*serial);
  }
  ASN1_TIME_free(t);
  if (!ok) return OpensslError("CRL dates/entries");
  X509_CRL_sort(c);
  ASN1_INTEGER* number = ASN1_INTEGER_new();
  ok = number != nullptr && ASN1_INTEGER_set_uint64(number, spec.crl_number) == 1 &&
       X509_CRL_add1_ext_i2d(c, NID_crl_number, number, 0, 0) == 1;
  ASN1_INTEGER_free(number);
  if (!ok) return OpensslError("CRL number");
  CMLN_TRY(AddConfExtension(nullptr, issuer.get(), c, NID_authority_key_identifier, "keyid:always"));
  CMLN_TRY(SignObject(nullptr, c, issuer_key, spec.scheme));
  return out;
}

std::string CertificatePem(const Certificate& cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || cert.empty() || PEM_write_bio_X509(bio.get(), cert.get()) != 1) return {};
  return BioText(bio.get());
}

std::string CrlPem(const Crl& crl) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || crl.get() == nullptr || PEM_write_bio_X509_CRL(bio.get(), crl.get()) != 1) return {};
  return BioText(bio.get());
}

Result<Bytes> SignEcdsaRaw(const PrivateKey& key, HashAlg hash, ByteView message) {
  if (key.empty() || !EVP_PKEY_is_a(key.get(), "EC")) return Error(ErrorCode::kInvalidKey, "ECDSA: not an EC key");
  const EVP_MD* md = hash == HashAlg::kSha256 ? EVP_sha256() : hash == HashAlg::kSha384 ? EVP_sha384() : EVP_sha512();
  const size_t half = static_cast<size_t>((EVP_PKEY_get_bits(key.get()) + 7) / 8);
  EVP_MD_CTX* m = EVP_MD_CTX_new();
  Bytes der(static_cast<size_t>(EVP_PKEY_get_size(key.get())));
  size_t der_len = der.size();
  const bool ok = m != nullptr && EVP_DigestSignInit(m, nullptr, md, nullptr, key.get()) == 1 &&
                  EVP_DigestSign(m, der.data(), &der_len, message.data(), message.size()) == 1;
  EVP_MD_CTX_free(m);
  if (!ok) return OpensslError("ECDSA sign");
  const unsigned char* p = der.data();
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_len));
  if (sig == nullptr) return OpensslError("ECDSA signature DER");
  Bytes raw(2 * half);
  const bool conv = BN_bn2binpad(ECDSA_SIG_get0_r(sig), raw.data(), static_cast<int>(half)) > 0 &&
                    BN_bn2binpad(ECDSA_SIG_get0_s(sig), raw.data() + half, static_cast<int>(half)) > 0;
  ECDSA_SIG_free(sig);
  if (!conv) return OpensslError("ECDSA r||s");
  return raw;
}

}  // namespace cmln::attest
