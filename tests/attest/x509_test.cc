// Every chain-validation branch of attest/x509 has a failing case, built with a test-only certificate
// and CRL builder (Intel's and AMD's chains cannot be re-signed, so revocation, CRL signatures and dates
// are shown on chains we mint here; the real chains are exercised by tdx_vectors_test).
#include <gtest/gtest.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "attest/x509.h"
#include "testing/test_util.h"

namespace cmln::attest {
namespace {

constexpr int64_t kNow = 1750000000;  // 2025-06-15
constexpr int64_t kDay = 86400;

struct Key {
  std::shared_ptr<EVP_PKEY> k;
  bool pss = false;
};

Key NewEcKey() { return Key{std::shared_ptr<EVP_PKEY>(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"), EVP_PKEY_free)}; }
Key NewRsaPssKey() {
  return Key{std::shared_ptr<EVP_PKEY>(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048}), EVP_PKEY_free), true};
}

// Signs with ECDSA-SHA256, or RSASSA-PSS-SHA384 (salt 48) as AMD does.
void Sign(X509* cert, X509_CRL* crl, const Key& key) {
  EVP_MD_CTX* m = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  ASSERT_EQ(EVP_DigestSignInit(m, &pctx, key.pss ? EVP_sha384() : EVP_sha256(), nullptr, key.k.get()), 1);
  if (key.pss) {
    ASSERT_EQ(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
    ASSERT_EQ(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 48), 1);
  }
  if (cert) {
    ASSERT_GT(X509_sign_ctx(cert, m), 0);
  }
  if (crl) {
    ASSERT_GT(X509_CRL_sign_ctx(crl, m), 0);
  }
  EVP_MD_CTX_free(m);
}

void AddExt(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  ASSERT_NE(ext, nullptr);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// Test-only certificate builder. `issuer` null means self-signed.
Certificate MakeCert(const std::string& cn, const Key& key, const Certificate* issuer, const Key& issuer_key,
                     long serial, int64_t not_before, int64_t not_after, bool ca) {
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
  X509_NAME* name = X509_NAME_new();
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_subject_name(x, name);
  X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer->get()) : name);
  X509_NAME_free(name);
  ASN1_TIME_set(X509_getm_notBefore(x), static_cast<time_t>(not_before));
  ASN1_TIME_set(X509_getm_notAfter(x), static_cast<time_t>(not_after));
  X509_set_pubkey(x, key.k.get());
  X509* issuer_x = issuer ? issuer->get() : x;
  AddExt(x, issuer_x, NID_subject_key_identifier, "hash");
  AddExt(x, issuer_x, NID_authority_key_identifier, "keyid:always");
  AddExt(x, issuer_x, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  AddExt(x, issuer_x, NID_key_usage, ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
  Sign(x, nullptr, issuer ? issuer_key : key);
  return Certificate(x);
}

Crl MakeCrl(const Certificate& issuer, const Key& signing_key, const std::vector<long>& revoked, int64_t this_update,
            int64_t next_update) {
  X509_CRL* c = X509_CRL_new();
  X509_CRL_set_version(c, 1);
  X509_CRL_set_issuer_name(c, X509_get_subject_name(issuer.get()));
  ASN1_TIME* t = ASN1_TIME_new();
  ASN1_TIME_set(t, static_cast<time_t>(this_update));
  X509_CRL_set1_lastUpdate(c, t);
  ASN1_TIME_set(t, static_cast<time_t>(next_update));
  X509_CRL_set1_nextUpdate(c, t);
  for (long serial : revoked) {
    X509_REVOKED* r = X509_REVOKED_new();
    ASN1_INTEGER* s = ASN1_INTEGER_new();
    ASN1_INTEGER_set(s, serial);
    X509_REVOKED_set_serialNumber(r, s);
    ASN1_TIME_set(t, static_cast<time_t>(this_update));
    X509_REVOKED_set_revocationDate(r, t);
    X509_CRL_add0_revoked(c, r);
    ASN1_INTEGER_free(s);
  }
  ASN1_TIME_free(t);
  X509_CRL_sort(c);
  Sign(nullptr, c, signing_key);
  return Crl(c);
}

// root -> intermediate -> leaf, all valid around kNow, plus CRLs from root and intermediate.
struct TestPki {
  explicit TestPki(bool pss = false) {
    root_key = pss ? NewRsaPssKey() : NewEcKey();
    inter_key = pss ? NewRsaPssKey() : NewEcKey();
    leaf_key = NewEcKey();
    root = MakeCert("Test Root", root_key, nullptr, root_key, 1, kNow - 365 * kDay, kNow + 365 * kDay, true);
    inter = MakeCert("Test Intermediate", inter_key, &root, root_key, 2, kNow - 300 * kDay, kNow + 300 * kDay, true);
    leaf = MakeCert("Test Leaf", leaf_key, &inter, inter_key, 0x1234, kNow - 10 * kDay, kNow + 10 * kDay, false);
    root_crl = MakeCrl(root, root_key, {}, kNow - kDay, kNow + 30 * kDay);
    inter_crl = MakeCrl(inter, inter_key, {}, kNow - kDay, kNow + 30 * kDay);
  }
  std::vector<Certificate> chain() const { return {leaf, inter}; }
  Key root_key, inter_key, leaf_key;
  Certificate root, inter, leaf;
  Crl root_crl, inter_crl;
};

ErrorCode CodeOf(const Result<std::vector<Certificate>>& r) { return r.ok() ? ErrorCode::kOk : r.error().code(); }

TEST(X509, ValidChainWithCrlsVerifiesAndReturnsPath) {
  TestPki pki;
  auto r = VerifyChain(pki.chain(), {pki.root}, kNow, {pki.root_crl, pki.inter_crl});
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[2].Subject(), "CN=Test Root");
  EXPECT_TRUE(VerifyChain(pki.chain(), {pki.root}, kNow, {}).ok());
}

TEST(X509, A2_ForeignRootIsUntrusted) {
  TestPki pki;
  TestPki other;
  EXPECT_EQ(CodeOf(VerifyChain(pki.chain(), {other.root}, kNow, {})), ErrorCode::kChainUntrusted);
  // Missing intermediate.
  EXPECT_EQ(CodeOf(VerifyChain({pki.leaf}, {pki.root}, kNow, {})), ErrorCode::kChainUntrusted);
  // Leaf re-signed by a different key under the same issuer name.
  Certificate forged = MakeCert("Test Leaf", pki.leaf_key, &pki.inter, other.inter_key, 0x1234, kNow - kDay,
                                kNow + kDay, false);
  EXPECT_EQ(CodeOf(VerifyChain({forged, pki.inter}, {pki.root}, kNow, {})), ErrorCode::kChainUntrusted);
}

TEST(X509, CertificateDates) {
  TestPki pki;
  EXPECT_EQ(CodeOf(VerifyChain(pki.chain(), {pki.root}, kNow + 11 * kDay, {})), ErrorCode::kCertExpired);
  EXPECT_EQ(CodeOf(VerifyChain(pki.chain(), {pki.root}, kNow - 11 * kDay, {})), ErrorCode::kCertNotYetValid);
  EXPECT_EQ(pki.leaf.NotAfter(), kNow + 10 * kDay);
  EXPECT_EQ(pki.leaf.NotBefore(), kNow - 10 * kDay);
}

TEST(X509, A3_SerialOnCrlIsRevoked) {
  TestPki pki;
  Crl revoking = MakeCrl(pki.inter, pki.inter_key, {0x1234}, kNow - kDay, kNow + 30 * kDay);
  auto r = VerifyChain(pki.chain(), {pki.root}, kNow, {pki.root_crl, revoking});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kCertRevoked);
  EXPECT_NE(r.error().message().find("depth 0"), std::string::npos) << r.error().message();
  // The intermediate revoked on the root CRL.
  Crl root_revoking = MakeCrl(pki.root, pki.root_key, {2}, kNow - kDay, kNow + 30 * kDay);
  EXPECT_EQ(CodeOf(VerifyChain(pki.chain(), {pki.root}, kNow, {root_revoking, pki.inter_crl})), ErrorCode::kCertRevoked);
}

TEST(X509, A4_CrlDatesAndSignature) {
  TestPki pki;
  Crl stale = MakeCrl(pki.inter, pki.inter_key, {}, kNow - 40 * kDay, kNow - kDay);
  EXPECT_EQ(CodeOf(VerifyChain(pki.chain(), {pki.root}, kNow, {pki.root_crl, stale})), ErrorCode::kCrlExpired);
  Crl future = MakeCrl(pki.inter, pki.inter_key, {}, kNow + kDay, kNow + 30 * kDay);
  EXPECT_EQ(CodeOf(VerifyChain(pki.chain(), {pki.root}, kNow, {pki.root_crl, future})), ErrorCode::kCrlNotYetValid);
  // A CRL naming the intermediate as issuer but signed by another key.
  TestPki other;
  Crl forged = MakeCrl(pki.inter, other.inter_key, {}, kNow - kDay, kNow + 30 * kDay);
  EXPECT_EQ(CodeOf(VerifyChain(pki.chain(), {pki.root}, kNow, {pki.root_crl, forged})), ErrorCode::kCrlBadSignature);
  // With CRL checking on, a certificate without a CRL from its issuer is not accepted.
  EXPECT_EQ(CodeOf(VerifyChain(pki.chain(), {pki.root}, kNow, {pki.root_crl})), ErrorCode::kChainUntrusted);
}

TEST(X509, RsaPssChainVerifies) {
  TestPki pki(/*pss=*/true);
  auto r = VerifyChain(pki.chain(), {pki.root}, kNow, {pki.root_crl, pki.inter_crl});
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  Crl revoking = MakeCrl(pki.inter, pki.inter_key, {0x1234}, kNow - kDay, kNow + 30 * kDay);
  EXPECT_EQ(CodeOf(VerifyChain(pki.chain(), {pki.root}, kNow, {pki.root_crl, revoking})), ErrorCode::kCertRevoked);
}

TEST(X509, ParsingAndExtensions) {
  TestPki pki;
  const Bytes der = pki.leaf.Der();
  auto back = ParseCertificateDer(der);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->Der(), der);
  EXPECT_EQ(HexEncode(back->SerialNumber()), "1234");
  Bytes extra = der;
  extra.push_back(0);
  EXPECT_EQ(ParseCertificateDer(extra).error().code(), ErrorCode::kTrailingData);
  EXPECT_EQ(ParseCertificateDer(ByteView(der).first(der.size() - 1)).error().code(), ErrorCode::kBadEncoding);
  EXPECT_EQ(ParsePemChain("no pem here").error().code(), ErrorCode::kBadEncoding);
  auto bc = ExtensionDer(pki.leaf, "2.5.29.19");
  ASSERT_TRUE(bc.ok());
  EXPECT_EQ(HexEncode(*bc), "3000");  // basicConstraints CA:FALSE
  EXPECT_EQ(ExtensionDer(pki.leaf, "1.2.840.113741.1.13.1").error().code(), ErrorCode::kNotFound);
  auto crl = ParseCrlDer(pki.inter_crl.Der());
  ASSERT_TRUE(crl.ok());
  EXPECT_EQ(crl->NextUpdate(), kNow + 30 * kDay);
}

TEST(X509, RawEcdsa) {
  auto key = EcPublicKeyFromRaw("P-256", Bytes(64, 1));
  EXPECT_EQ(key.error().code(), ErrorCode::kInvalidKey);  // (1..1, 1..1) is not on the curve
  EXPECT_EQ(EcPublicKeyFromRaw("P-256", Bytes(63, 1)).error().code(), ErrorCode::kInvalidKey);
  TestPki pki;
  auto pub = CertificatePublicKey(pki.leaf);
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(VerifyEcdsaRaw(*pub, HashAlg::kSha256, AsBytes("m"), Bytes(64, 7)).error().code(), ErrorCode::kBadSignature);
  EXPECT_EQ(VerifyEcdsaRaw(*pub, HashAlg::kSha256, AsBytes("m"), Bytes(63, 7)).error().code(), ErrorCode::kBadSignature);
}

TEST(X509, Rfc3339) {
  EXPECT_EQ(*ParseRfc3339Utc("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(*ParseRfc3339Utc("2025-06-19T10:32:27Z"), 1750329147);
  EXPECT_EQ(*ParseRfc3339Utc("2000-03-01T00:00:00.123Z"), 951868800);
  EXPECT_EQ(ParseRfc3339Utc("2025-06-19 10:32:27Z").error().code(), ErrorCode::kBadEncoding);
  EXPECT_EQ(ParseRfc3339Utc("2025-13-19T10:32:27Z").error().code(), ErrorCode::kBadEncoding);
  EXPECT_EQ(ParseRfc3339Utc("2025-06-19T10:32:27+01:00").error().code(), ErrorCode::kBadEncoding);
}

}  // namespace
}  // namespace cmln::attest
