// OCSP revocation snapshots (attest/ocsp.h) and their use by the GPU verifier.
//
// What this proves: no real NVIDIA OCSP response is available offline, and NVIDIA's responder key cannot be
// re-signed, so every response here is minted by a test responder over a GPU-shaped chain we mint
// (root -> L2 CA -> device identity CA -> attestation leaf, P-384). The checks (signature, responder chain at
// `now`, responder authorization, certID look-up, thisUpdate/nextUpdate, good/revoked/unknown) are the
// ones production runs; the real N1 chain is only shown to reject a snapshot not signed under NVIDIA's root
// and to stay "not_checked" without one.
#include "attest/ocsp.h"

#include <gtest/gtest.h>

#include <string>

#include "attest/gpu_evidence.h"
#include "attest/nvidia_rim.h"
#include "attest/nvidia_verify.h"
#include "attest/x509.h"
#include "attest/x509_builder.h"
#include "testing/test_util.h"

namespace cmln::attest {
namespace {

constexpr int64_t kNow = 1740000000;  // 2025-02-19
constexpr int64_t kDay = 86400;
// extnValue of extKeyUsage = SEQUENCE { id-kp-OCSPSigning 1.3.6.1.5.5.7.3.9 }
const Bytes kEkuOcspSigning = {0x30, 0x0a, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x09};

PrivateKey NewKey() { return *PrivateKey::GenerateEc("P-384"); }

Certificate Mint(const std::string& cn, const PrivateKey& key, const Certificate* issuer, const PrivateKey& issuer_key,
                 uint8_t serial, bool ca, int64_t not_before = kNow - 365 * kDay, int64_t not_after = kNow + 365 * kDay,
                 bool ocsp_signing = false) {
  CertificateSpec spec{{{"CN", cn}}, Bytes{serial}, not_before, not_after, ca};
  spec.scheme = SignatureScheme::kEcdsaSha384;
  if (ocsp_signing) spec.extensions.push_back(RawExtension{"2.5.29.37", kEkuOcspSigning, false});
  auto c = MintCertificate(spec, key, issuer, issuer_key);
  EXPECT_TRUE(c.ok()) << c.error().ToString();
  return c.ok() ? *c : Certificate();
}

// A GPU-shaped PKI and an OCSP responder issued by its root.
struct Pki {
  Pki() {
    root = Mint("Test GPU Root", root_key, nullptr, root_key, 1, true);
    l2 = Mint("Test GPU L2 CA", l2_key, &root, root_key, 2, true);
    device = Mint("Test GPU Device Identity", device_key, &l2, l2_key, 3, true);
    leaf = Mint("Test GPU Attestation", leaf_key, &device, device_key, 4, false);
    responder =
        Mint("Test OCSP Responder", responder_key, &root, root_key, 5, false, kNow - 30 * kDay, kNow + 30 * kDay, true);
  }
  std::vector<Certificate> path() const { return {leaf, device, l2, root}; }
  std::vector<Certificate> roots() const { return {root}; }

  OcspSingleSpec Entry(const Certificate& subject, const Certificate& issuer,
                       OcspCertStatus status = OcspCertStatus::kGood) const {
    OcspSingleSpec e;
    e.subject = subject;
    e.issuer = issuer;
    e.status = status;
    e.this_update = kNow - kDay;
    e.next_update = kNow + 7 * kDay;
    return e;
  }
  // Good status for device and L2 (what NVIDIA's verifier asks for: the chain minus leaf and root).
  OcspResponseSpec GoodSpec() const { return OcspResponseSpec{{Entry(device, l2), Entry(l2, root)}}; }
  Bytes Sign(const OcspResponseSpec& spec) const { return Sign(spec, responder, responder_key); }
  Bytes Sign(const OcspResponseSpec& spec, const Certificate& by, const PrivateKey& key) const {
    auto r = MintOcspResponse(spec, by, key);
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    return r.ok() ? *r : Bytes{};
  }
  Result<OcspCheck> Check(const std::vector<Bytes>& responses, int64_t now = kNow) const {
    return CheckOcspRevocation(path(), kGpuChainOcspFirstIndex, responses, roots(), now);
  }

  PrivateKey root_key = NewKey(), l2_key = NewKey(), device_key = NewKey(), leaf_key = NewKey(),
             responder_key = NewKey();
  Certificate root, l2, device, leaf, responder;
};

template <typename T>
ErrorCode CodeOf(const Result<T>& r) {
  return r.ok() ? ErrorCode::kOk : r.error().code();
}

const Pki& SharedPki() {
  static const Pki* pki = new Pki();
  return *pki;
}

TEST(Ocsp, NoSnapshotIsNotChecked) {
  auto r = SharedPki().Check({});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->certificates_checked, 0u);
}

TEST(Ocsp, GoodSnapshotCoversChainBelowRoot) {
  const Pki& pki = SharedPki();
  auto r = pki.Check({pki.Sign(pki.GoodSpec())});
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->certificates_checked, 2u);  // device identity and L2; the leaf and the root are not asked
}

TEST(Ocsp, OneResponsePerCertificateAndSha256CertIds) {
  const Pki& pki = SharedPki();
  OcspResponseSpec a{{pki.Entry(pki.device, pki.l2)}};
  OcspResponseSpec b{{pki.Entry(pki.l2, pki.root)}};
  b.cert_id_hash = HashAlg::kSha256;
  auto r = pki.Check({pki.Sign(a), pki.Sign(b)});
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->certificates_checked, 2u);
}

TEST(Ocsp, IssuerMaySignForItsOwnCertificates) {
  const Pki& pki = SharedPki();
  // l2 signs for the device identity certificate it issued; root signs for l2. Neither has the OCSP EKU.
  auto r = pki.Check({pki.Sign(OcspResponseSpec{{pki.Entry(pki.device, pki.l2)}}, pki.l2, pki.l2_key),
                      pki.Sign(OcspResponseSpec{{pki.Entry(pki.l2, pki.root)}}, pki.root, pki.root_key)});
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->certificates_checked, 2u);
}

TEST(Ocsp, A3_RevokedCertificateIsRejected) {
  const Pki& pki = SharedPki();
  OcspResponseSpec spec = pki.GoodSpec();
  spec.entries[0].status = OcspCertStatus::kRevoked;
  spec.entries[0].revocation_time = kNow - 2 * kDay;
  spec.entries[0].revocation_reason = 1;  // keyCompromise
  auto r = pki.Check({pki.Sign(spec)});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kCertRevoked);
  EXPECT_NE(r.error().message().find("Test GPU Device Identity"), std::string::npos) << r.error().message();
  EXPECT_NE(r.error().message().find("keyCompromise"), std::string::npos) << r.error().message();
}

TEST(Ocsp, UnknownStatusIsRejected) {
  const Pki& pki = SharedPki();
  OcspResponseSpec spec = pki.GoodSpec();
  spec.entries[1].status = OcspCertStatus::kUnknown;
  EXPECT_EQ(CodeOf(pki.Check({pki.Sign(spec)})), ErrorCode::kCollateralMismatch);
}

TEST(Ocsp, SnapshotOfOtherCertificatesIsRejected) {
  const Pki& pki = SharedPki();
  // Covers the device identity certificate only: L2 has no status.
  EXPECT_EQ(CodeOf(pki.Check({pki.Sign(OcspResponseSpec{{pki.Entry(pki.device, pki.l2)}})})),
            ErrorCode::kCollateralMismatch);
  // Starting at the leaf (index 0), which the good snapshot does not cover.
  EXPECT_EQ(CodeOf(CheckOcspRevocation(pki.path(), 0, {pki.Sign(pki.GoodSpec())}, pki.roots(), kNow)),
            ErrorCode::kCollateralMismatch);
}

TEST(Ocsp, A4_StaleAndFutureSnapshots) {
  const Pki& pki = SharedPki();
  const Bytes good = pki.Sign(pki.GoodSpec());
  // nextUpdate is kNow + 7 days: a verifier pinned after it sees a stale snapshot.
  EXPECT_EQ(CodeOf(pki.Check({good}, kNow + 8 * kDay)), ErrorCode::kCollateralExpired);
  // thisUpdate is kNow - 1 day.
  EXPECT_EQ(CodeOf(pki.Check({good}, kNow - 2 * kDay)), ErrorCode::kCollateralNotYetValid);
  OcspResponseSpec no_next = pki.GoodSpec();
  no_next.entries[1].next_update = 0;
  EXPECT_EQ(CodeOf(pki.Check({pki.Sign(no_next)})), ErrorCode::kCollateralExpired);
}

TEST(Ocsp, A2_ForeignResponderIsRejected) {
  const Pki& pki = SharedPki();
  const Pki other;  // another root: its responder does not chain to ours
  EXPECT_EQ(CodeOf(pki.Check({pki.Sign(pki.GoodSpec(), other.responder, other.responder_key)})),
            ErrorCode::kCollateralBadSignature);
  // Responder certificate omitted and not in the chain: signer not found.
  OcspResponseSpec bare = pki.GoodSpec();
  bare.include_responder_cert = false;
  EXPECT_EQ(CodeOf(pki.Check({pki.Sign(bare)})), ErrorCode::kCollateralBadSignature);
}

TEST(Ocsp, ExpiredResponderIsRejected) {
  const Pki& pki = SharedPki();
  // The responder certificate ends kNow + 30 days; the snapshot itself is still fresh then.
  OcspResponseSpec spec = pki.GoodSpec();
  for (auto& e : spec.entries) e.next_update = kNow + 60 * kDay;
  auto r = pki.Check({pki.Sign(spec)}, kNow + 31 * kDay);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kCollateralBadSignature);
  EXPECT_NE(r.error().message().find("cert_expired"), std::string::npos) << r.error().message();
}

TEST(Ocsp, DeviceKeyMayNotVouchForItself) {
  const Pki& pki = SharedPki();
  // The attestation leaf chains to the root, but is neither the issuer nor an OCSP signer.
  auto r = pki.Check({pki.Sign(pki.GoodSpec(), pki.leaf, pki.leaf_key)});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kCollateralBadSignature);
  EXPECT_NE(r.error().message().find("id-kp-OCSPSigning"), std::string::npos) << r.error().message();
}

TEST(Ocsp, A1_TamperedResponseFailsSignature) {
  const Pki& pki = SharedPki();
  OcspResponseSpec spec = pki.GoodSpec();
  spec.entries[0].this_update = kNow - 3 * kDay - 17;  // a GeneralizedTime no other field carries
  Bytes der = pki.Sign(spec);
  ASSERT_TRUE(pki.Check({der}).ok());
  const std::string when = "20250216211943Z";  // kNow - 3 days - 17 s
  std::string text(der.begin(), der.end());
  const size_t at = text.find(when);
  ASSERT_NE(at, std::string::npos);
  der[at + 12] = '2';  // 43 s -> 42 s: still a valid time, before now
  EXPECT_EQ(CodeOf(pki.Check({der})), ErrorCode::kCollateralBadSignature);
}

TEST(Ocsp, A16_MalformedResponses) {
  const Pki& pki = SharedPki();
  const Bytes good = pki.Sign(pki.GoodSpec());
  EXPECT_EQ(CodeOf(pki.Check({Bytes{0x30, 0x03, 0x0a, 0x01, 0x06}})), ErrorCode::kMalformed);  // unauthorized
  EXPECT_EQ(CodeOf(pki.Check({Bytes{0x01, 0x02, 0x03}})), ErrorCode::kBadEncoding);
  Bytes trailing = good;
  trailing.push_back(0);
  EXPECT_EQ(CodeOf(pki.Check({trailing})), ErrorCode::kTrailingData);
  for (size_t n : {size_t{0}, size_t{1}, good.size() / 2, good.size() - 1}) {
    EXPECT_EQ(CodeOf(pki.Check({Bytes(good.begin(), good.begin() + static_cast<long>(n))})), ErrorCode::kBadEncoding)
        << n;
  }
  EXPECT_EQ(CodeOf(pki.Check({Bytes(kMaxOcspResponseDer + 1, 0x30)})), ErrorCode::kLengthTooLarge);
  EXPECT_EQ(CodeOf(pki.Check(std::vector<Bytes>(kMaxOcspResponses + 1, good))), ErrorCode::kLengthTooLarge);
  // Every response given is checked, even when another one covers the chain.
  EXPECT_EQ(CodeOf(pki.Check({good, Bytes{0x01}})), ErrorCode::kBadEncoding);
}

// --- carried through the GPU verifier (real N1 evidence) ------------------------------------------------

std::string Att(const std::string& rel) { return testing::ReadFileOrDie(testing::DataPath("attestation/" + rel)); }

struct N1 {
  N1() {
    const auto manifest = testing::ReadJsonOrDie(testing::DataPath("attestation/MANIFEST.json"));
    for (const auto& c : manifest.at("nvidia")) {
      if (c.at("id") != "N1") continue;
      std::string hex = Att(c.at("report_hex"));
      while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r' || hex.back() == ' ')) hex.pop_back();
      report = testing::Hex(hex);
      chain = Att(c.at("chain"));
      nonce = testing::Hex(c.at("nonce").get<std::string>());
    }
    anchors = *nvidia::ProductionGpuAnchors(Att(manifest.at("trust_anchors").at("nvidia_device_identity_ca")));
  }
  Bytes report, nonce;
  std::string chain;
  nvidia::GpuTrustAnchors anchors;
};

TEST(Ocsp, N1WithoutSnapshotIsNotChecked) {
  const N1 n1;
  auto v = nvidia::VerifyGpuReport(n1.report, nvidia::GpuCollateral{n1.chain, {}}, n1.nonce, n1.anchors, kNow);
  ASSERT_TRUE(v.ok()) << v.error().ToString();
  EXPECT_EQ(v->revocation, nvidia::Revocation::kNotChecked);
}

TEST(Ocsp, A2_N1WithSnapshotNotFromNvidiaIsRejected) {
  const N1 n1;
  const Pki& pki = SharedPki();
  auto path = ParsePemChain(n1.chain);
  ASSERT_TRUE(path.ok());
  ASSERT_GE(path->size(), 3u);
  // Good status for N1's own certificates, but signed by the test responder, not under NVIDIA's root.
  OcspResponseSpec spec;
  for (size_t i = 1; i + 1 < path->size(); ++i) spec.entries.push_back(pki.Entry((*path)[i], (*path)[i + 1]));
  const Bytes forged = pki.Sign(spec);
  auto v = nvidia::VerifyGpuReport(n1.report, nvidia::GpuCollateral{n1.chain, {forged}}, n1.nonce, n1.anchors, kNow);
  EXPECT_EQ(CodeOf(v), ErrorCode::kCollateralBadSignature);

  // The same through the evidence list: the GPU is rejected with that reason.
  auto list = nvidia::LoadGpuEvidence(HexEncode(n1.report), n1.chain);
  ASSERT_TRUE(list.ok());
  auto verdict = nvidia::VerifyGpuEvidenceList(*list, n1.nonce, n1.anchors, kNow, nullptr, nullptr, {forged});
  EXPECT_FALSE(verdict.accepted);
  ASSERT_EQ(verdict.gpus.size(), 1u);
  ASSERT_EQ(verdict.gpus[0].verdict.reasons.size(), 1u);
  EXPECT_EQ(verdict.gpus[0].verdict.reasons[0].code, "collateral_bad_signature");
  EXPECT_EQ(verdict.gpus[0].revocation, "not_checked");
}

TEST(Ocsp, RevokedBecomesRevocationRevokedInTheVerdict) {
  const Result<nvidia::VerifiedGpuReport> revoked = Error(ErrorCode::kCertRevoked, "ocsp: revoked");
  const nvidia::GpuVerdict v = nvidia::MakeGpuVerdict(revoked, nullptr, nullptr, "HOPPER");
  EXPECT_FALSE(v.verdict.accepted);
  EXPECT_EQ(v.revocation, "revoked");
  EXPECT_EQ(v.ToJson().at("revocation"), "revoked");
  EXPECT_EQ(v.verdict.reasons.at(0).code, "cert_revoked");
}

}  // namespace
}  // namespace cmln::attest
