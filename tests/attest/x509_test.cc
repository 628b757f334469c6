// Every chain-validation branch of attest/x509 has a failing case, built with the certificate and CRL
// builder of attest/x509_builder.h (Intel's and AMD's chains cannot be re-signed, so revocation, CRL
// signatures and dates are shown on chains we mint here; the real chains are exercised by tdx_vectors_test).
#include <gtest/gtest.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "attest/x509.h"
#include "attest/x509_builder.h"
#include "testing/test_util.h"

namespace cmln::attest {
namespace {

constexpr int64_t kNow = 1750000000;  // 2025-06-15
constexpr int64_t kDay = 86400;

// Keys, certificates and CRLs come from the library builder (attest/x509_builder.h); these wrappers keep
// the tests short.
struct Key {
  PrivateKey k;
  bool pss = false;  // RSASSA-PSS-SHA384 (salt 48) as AMD signs; otherwise ECDSA-SHA256
};

Key NewEcKey() { return Key{*PrivateKey::GenerateEc("P-256")}; }
Key NewRsaPssKey() { return Key{*PrivateKey::GenerateRsa(2048), true}; }

Bytes SerialBytes(long serial) {
  Bytes b;
  for (unsigned long v = static_cast<unsigned long>(serial); v != 0; v >>= 8) b.insert(b.begin(), static_cast<uint8_t>(v));
  return b;
}

SignatureScheme SchemeOf(const Key& key) {
  return key.pss ? SignatureScheme::kRsaPssSha384 : SignatureScheme::kEcdsaSha256;
}

// `issuer` null means self-signed.
Certificate MakeCert(const std::string& cn, const Key& key, const Certificate* issuer, const Key& issuer_key,
                     long serial, int64_t not_before, int64_t not_after, bool ca) {
  const Key& signer = issuer ? issuer_key : key;
  CertificateSpec spec{{{"CN", cn}}, SerialBytes(serial), not_before, not_after, ca};
  spec.scheme = SchemeOf(signer);
  auto c = MintCertificate(spec, key.k, issuer, signer.k);
  EXPECT_TRUE(c.ok()) << c.error().ToString();
  return c.ok() ? *c : Certificate();
}

Crl MakeCrl(const Certificate& issuer, const Key& signing_key, const std::vector<long>& revoked, int64_t this_update,
            int64_t next_update) {
  CrlSpec spec{this_update, next_update, 1, {}, SchemeOf(signing_key)};
  for (long serial : revoked) spec.revoked_serials.push_back(SerialBytes(serial));
  auto c = MintCrl(spec, issuer, signing_key.k);
  EXPECT_TRUE(c.ok()) << c.error().ToString();
  return c.ok() ? *c : Crl();
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
