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
  // A coordinate equal to the field prime p (x = p, y = 0 would be (0, 0) reduced) is refused too.
  Bytes x_is_p = *HexDecode("ffffffff00000001000000000000000000000000ffffffffffffffffffffffff");
  x_is_p.resize(64, 0);
  EXPECT_EQ(EcPublicKeyFromRaw("P-256", x_is_p).error().code(), ErrorCode::kInvalidKey);
  TestPki pki;
  auto pub = CertificatePublicKey(pki.leaf);
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(VerifyEcdsaRaw(*pub, HashAlg::kSha256, AsBytes("m"), Bytes(64, 7)).error().code(), ErrorCode::kBadSignature);
  EXPECT_EQ(VerifyEcdsaRaw(*pub, HashAlg::kSha256, AsBytes("m"), Bytes(63, 7)).error().code(), ErrorCode::kBadSignature);
}

// --- the leaf check under a prepared issuer (CheckLeafUnder) -------------------------------------------------

// A private extension OID for the tests (the SGX one; its value is opaque here).
const Bytes kPrivateOid = {0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01};

Certificate MakeLeaf(const TestPki& pki, const Key& signer, long serial, int64_t not_before, int64_t not_after,
                     std::vector<RawExtension> extensions = {{"1.2.840.113741.1.13.1", Bytes{0x30, 0x00}, false}}) {
  CertificateSpec spec{{{"CN", "Test Leaf"}}, SerialBytes(serial), not_before, not_after, false};
  spec.extensions = std::move(extensions);
  auto c = MintCertificate(spec, pki.leaf_key.k, &pki.inter, signer.k);
  EXPECT_TRUE(c.ok()) << c.error().ToString();
  return c.ok() ? *c : Certificate();
}

PreparedIssuer Prepare(const TestPki& pki, const Crl& crl) {
  auto path = VerifyChain({pki.inter}, {pki.root}, kNow, {pki.root_crl});
  EXPECT_TRUE(path.ok()) << path.error().ToString();
  auto prepared = PreparedIssuer::Prepare(path.ok() ? *path : std::vector<Certificate>{}, crl);
  EXPECT_TRUE(prepared.ok()) << prepared.error().ToString();
  return prepared.ok() ? *prepared : PreparedIssuer();
}

TEST(X509, PreparedIssuerAcceptsWhatVerifyChainAccepts) {
  TestPki pki;
  const Certificate leaf = MakeLeaf(pki, pki.inter_key, 0x1234, kNow - 10 * kDay, kNow + 10 * kDay);
  ASSERT_TRUE(VerifyChain({leaf, pki.inter}, {pki.root}, kNow, {pki.root_crl, pki.inter_crl}).ok());
  const PreparedIssuer issuer = Prepare(pki, pki.inter_crl);
  auto checked = CheckLeafUnder(issuer, leaf.Der(), kNow, kPrivateOid);
  ASSERT_TRUE(checked.has_value());
  EXPECT_EQ(checked->serial, leaf.SerialNumber());
  EXPECT_EQ(checked->not_before, leaf.NotBefore());
  EXPECT_EQ(checked->not_after, leaf.NotAfter());
  EXPECT_EQ(HexEncode(checked->private_extension), "3000");
  // The returned key is the leaf's: it verifies what the leaf key signs.
  auto sig = SignEcdsaRaw(pki.leaf_key.k, HashAlg::kSha256, AsBytes("qe report"));
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(VerifyEcdsaRaw(checked->key, HashAlg::kSha256, AsBytes("qe report"), *sig).ok());
  // notAfter itself is outside, as OpenSSL has it ([notBefore, notAfter)).
  EXPECT_TRUE(CheckLeafUnder(issuer, leaf.Der(), kNow + 10 * kDay - 1, kPrivateOid).has_value());
  EXPECT_FALSE(CheckLeafUnder(issuer, leaf.Der(), kNow + 10 * kDay, kPrivateOid).has_value());
  // Without the private extension the check still runs; the caller sees it absent.
  const Certificate plain = MakeLeaf(pki, pki.inter_key, 0x1235, kNow - kDay, kNow + kDay, {});
  auto no_ext = CheckLeafUnder(issuer, plain.Der(), kNow, kPrivateOid);
  ASSERT_TRUE(no_ext.has_value());
  EXPECT_TRUE(no_ext->private_extension.empty());
}

TEST(X509, A2_LeafSignedByAnotherKeyUnderTheSameIssuerNameIsDeclined) {
  TestPki pki;
  TestPki other;  // same names ("Test Intermediate"), other keys
  const PreparedIssuer issuer = Prepare(pki, pki.inter_crl);
  const Certificate forged = MakeLeaf(pki, other.inter_key, 0x1234, kNow - kDay, kNow + kDay);
  EXPECT_FALSE(CheckLeafUnder(issuer, forged.Der(), kNow, kPrivateOid).has_value());
  EXPECT_EQ(CodeOf(VerifyChain({forged, pki.inter}, {pki.root}, kNow, {pki.root_crl, pki.inter_crl})),
            ErrorCode::kChainUntrusted);
  // The other PKI's own leaf (its AKID names the other intermediate's key).
  EXPECT_FALSE(CheckLeafUnder(issuer, other.leaf.Der(), kNow, kPrivateOid).has_value());
  // One bit of the signed part changed.
  const Certificate leaf = MakeLeaf(pki, pki.inter_key, 0x1234, kNow - kDay, kNow + kDay);
  ASSERT_TRUE(CheckLeafUnder(issuer, leaf.Der(), kNow, kPrivateOid).has_value());
  Bytes flipped = leaf.Der();
  flipped[flipped.size() / 2] ^= 0x01;
  EXPECT_FALSE(CheckLeafUnder(issuer, flipped, kNow, kPrivateOid).has_value());
}

TEST(X509, A3_RevokedLeafIsDeclinedAndVerifyChainRefusesIt) {
  TestPki pki;
  const Certificate leaf = MakeLeaf(pki, pki.inter_key, 0x1234, kNow - kDay, kNow + kDay);
  Crl revoking = MakeCrl(pki.inter, pki.inter_key, {0x77, 0x1234, 0x99999}, kNow - kDay, kNow + 30 * kDay);
  const PreparedIssuer issuer = Prepare(pki, revoking);
  EXPECT_FALSE(CheckLeafUnder(issuer, leaf.Der(), kNow, kPrivateOid).has_value());
  EXPECT_EQ(CodeOf(VerifyChain({leaf, pki.inter}, {pki.root}, kNow, {pki.root_crl, revoking})), ErrorCode::kCertRevoked);
  // A neighbouring serial is not revoked.
  const Certificate neighbour = MakeLeaf(pki, pki.inter_key, 0x1233, kNow - kDay, kNow + kDay);
  EXPECT_TRUE(CheckLeafUnder(issuer, neighbour.Der(), kNow, kPrivateOid).has_value());
}

TEST(X509, A4_LeafAndCrlDatesAreCheckedPerLeaf) {
  TestPki pki;
  const Certificate leaf = MakeLeaf(pki, pki.inter_key, 0x1234, kNow - kDay, kNow + kDay);
  const PreparedIssuer issuer = Prepare(pki, pki.inter_crl);  // CRL valid on [kNow - 1d, kNow + 30d)
  EXPECT_TRUE(CheckLeafUnder(issuer, leaf.Der(), kNow - kDay, kPrivateOid).has_value());       // both start here
  EXPECT_FALSE(CheckLeafUnder(issuer, leaf.Der(), kNow + kDay, kPrivateOid).has_value());      // leaf expired
  EXPECT_FALSE(CheckLeafUnder(issuer, leaf.Der(), kNow - kDay - 1, kPrivateOid).has_value());  // not yet valid
  const Certificate long_leaf = MakeLeaf(pki, pki.inter_key, 0x1234, kNow - 100 * kDay, kNow + 100 * kDay);
  EXPECT_TRUE(CheckLeafUnder(issuer, long_leaf.Der(), kNow + 30 * kDay - 1, kPrivateOid).has_value());
  EXPECT_FALSE(CheckLeafUnder(issuer, long_leaf.Der(), kNow + 30 * kDay, kPrivateOid).has_value());  // CRL stale
  EXPECT_FALSE(CheckLeafUnder(issuer, long_leaf.Der(), kNow - kDay - 1, kPrivateOid).has_value());   // CRL future
}

TEST(X509, UnusualLeavesAreLeftToVerifyChain) {
  TestPki pki;
  const PreparedIssuer issuer = Prepare(pki, pki.inter_crl);
  // An unknown critical extension: VerifyChain refuses it, the fast check declines it.
  const Certificate critical = MakeLeaf(pki, pki.inter_key, 0x1234, kNow - kDay, kNow + kDay,
                                        {{"1.2.3.4.5", Bytes{0x05, 0x00}, true}});
  EXPECT_EQ(CodeOf(VerifyChain({critical, pki.inter}, {pki.root}, kNow, {})), ErrorCode::kChainUntrusted);
  EXPECT_FALSE(CheckLeafUnder(issuer, critical.Der(), kNow, kPrivateOid).has_value());
  // An unknown non-critical extension is not modelled either.
  const Certificate unknown = MakeLeaf(pki, pki.inter_key, 0x1234, kNow - kDay, kNow + kDay,
                                       {{"1.2.3.4.5", Bytes{0x05, 0x00}, false}});
  EXPECT_FALSE(CheckLeafUnder(issuer, unknown.Der(), kNow, kPrivateOid).has_value());
  // The private extension marked critical, or twice.
  const Certificate critical_private = MakeLeaf(pki, pki.inter_key, 0x1234, kNow - kDay, kNow + kDay,
                                                {{"1.2.840.113741.1.13.1", Bytes{0x30, 0x00}, true}});
  EXPECT_FALSE(CheckLeafUnder(issuer, critical_private.Der(), kNow, kPrivateOid).has_value());
  // A CA certificate in the leaf position, trailing bytes, truncation, garbage.
  EXPECT_FALSE(CheckLeafUnder(issuer, pki.inter.Der(), kNow, kPrivateOid).has_value());
  const Certificate leaf = MakeLeaf(pki, pki.inter_key, 0x1234, kNow - kDay, kNow + kDay);
  Bytes extra = leaf.Der();
  extra.push_back(0);
  EXPECT_FALSE(CheckLeafUnder(issuer, extra, kNow, kPrivateOid).has_value());
  const Bytes der = leaf.Der();
  for (size_t n = 0; n < der.size(); n += 7) {
    EXPECT_FALSE(CheckLeafUnder(issuer, ByteView(der).first(n), kNow, kPrivateOid).has_value()) << n;
  }
  // A leaf whose issuer is the root, not the prepared CA.
  EXPECT_FALSE(CheckLeafUnder(issuer, pki.root.Der(), kNow, kPrivateOid).has_value());
}

TEST(X509, PrepareRefusesWhatTheFastCheckDoesNotModel) {
  TestPki pki;
  // path[0] is not a CA.
  auto leaf_path = VerifyChain(pki.chain(), {pki.root}, kNow, {});
  ASSERT_TRUE(leaf_path.ok());
  EXPECT_EQ(PreparedIssuer::Prepare(*leaf_path, pki.inter_crl).error().code(), ErrorCode::kUnsupported);
  // The CRL of another issuer.
  auto path = VerifyChain({pki.inter}, {pki.root}, kNow, {pki.root_crl});
  ASSERT_TRUE(path.ok());
  EXPECT_EQ(PreparedIssuer::Prepare(*path, pki.root_crl).error().code(), ErrorCode::kUnsupported);
  // A path that is only a root.
  EXPECT_EQ(PreparedIssuer::Prepare({pki.root}, pki.root_crl).error().code(), ErrorCode::kUnsupported);
  EXPECT_TRUE(PreparedIssuer::Prepare(*path, pki.inter_crl).ok());
}

TEST(X509, DerReader) {
  const Bytes ok = {0x30, 0x03, 0x02, 0x01, 0x05};
  ByteReader r(ok);
  auto seq = der::Expect(r, der::kSequence, "seq");
  ASSERT_TRUE(seq.ok());
  auto tlv = der::ReadTlv(*seq, "int");
  ASSERT_TRUE(tlv.ok());
  EXPECT_EQ(tlv->tag, der::kInteger);
  EXPECT_EQ(HexEncode(tlv->whole), "020105");
  const Bytes long_len = {0x04, 0x81, 0x01, 0xaa};
  ByteReader lr(long_len);
  EXPECT_EQ(HexEncode(der::Expect(lr, der::kOctetString, "os")->rest()), "aa");
  const Bytes indefinite = {0x30, 0x80, 0x00, 0x00};
  ByteReader ir(indefinite);
  EXPECT_EQ(der::ReadTlv(ir, "seq").error().code(), ErrorCode::kMalformed);
  const Bytes too_long = {0x30, 0x05, 0x02, 0x01};
  ByteReader tr(too_long);
  EXPECT_EQ(der::ReadTlv(tr, "seq").error().code(), ErrorCode::kLengthTooLarge);
  const Bytes wrong_tag = {0x31, 0x00};
  ByteReader wr(wrong_tag);
  EXPECT_EQ(der::Expect(wr, der::kSequence, "seq").error().code(), ErrorCode::kMalformed);
  const Bytes multi_byte_tag = {0x1f, 0x01, 0x00};
  ByteReader mr(multi_byte_tag);
  EXPECT_EQ(der::ReadTlv(mr, "x").error().code(), ErrorCode::kMalformed);
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
