// Derived negatives on real evidence (case T1 of tests/data/attestation/MANIFEST.json): one byte flipped
// in each signed region at a named offset, `now` one second past each nextUpdate or before issueDate,
// another platform's collateral, tampered collateral text, a forged CRL, policy rejections and every
// truncation. Each asserts the exact error code (THREATS A1-A8, A16). The per-quote PCK leaf check under the
// collateral's prepared CA (VerifiedTdxCollateral::pck_issuer) is shown equal to the full chain check on T1
// and, on the simulated PKI (which, unlike Intel's, can be re-signed), to refuse a revoked PCK, a PCK signed
// by another key under the cached CA's name and a PCK under a different CA of the same name.
#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "attest/ccel.h"
#include "attest/pck_extensions.h"
#include "attest/sim_pki.h"
#include "attest/sim_tdx.h"
#include "attest/tdx_collateral.h"
#include "attest/tdx_policy.h"
#include "attest/tdx_verify.h"
#include "testing/test_util.h"

namespace cmln::attest {
namespace {

using testing::DataPath;
using testing::ReadFileOrDie;

std::string TdxFile(const std::string& name) { return ReadFileOrDie(DataPath("attestation/tdx/" + name)); }

int64_t Unix(const std::string& s) { return *ParseRfc3339Utc(s); }

class TdxNegatives : public ::testing::Test {
 protected:
  void SetUp() override {
    auto root = ParseCertificate(AsBytes(TdxFile("dcapqvl_TrustedRootCA.der")));
    ASSERT_TRUE(root.ok());
    roots_ = {*root};
    quote_ = ToBytes(TdxFile("dcapqvl_tdx_quote"));
    collateral_json_ = TdxFile("dcapqvl_tdx_quote_collateral.json");
    auto c = ParseTdxCollateral(collateral_json_);
    ASSERT_TRUE(c.ok()) << c.error().ToString();
    collateral_ = *c;
    auto q = ParseTdxQuote(quote_);
    ASSERT_TRUE(q.ok());
    parsed_ = *q;
    auto ok = VerifyTdxQuote(quote_, collateral_, roots_, now_);
    ASSERT_TRUE(ok.ok()) << ok.error().ToString();
    verified_ = *ok;
  }

  ErrorCode VerifyCode(ByteView quote, const TdxCollateral& c, int64_t now) {
    auto r = VerifyTdxQuote(quote, c, roots_, now);
    last_message_ = r.ok() ? "" : r.error().message();
    return r.ok() ? ErrorCode::kOk : r.error().code();
  }
  ErrorCode FlipAndVerify(size_t offset) {
    Bytes q = quote_;
    q.at(offset) ^= 0x01;
    return VerifyCode(q, collateral_, now_);
  }

  std::vector<Certificate> roots_;
  Bytes quote_;
  std::string collateral_json_;
  TdxCollateral collateral_;
  TdxQuote parsed_;
  VerifiedTdxReport verified_;
  int64_t now_ = Unix("2025-06-20T00:00:00Z");  // inside T1's window
  std::string last_message_;
};

TEST_F(TdxNegatives, A1_HeaderByteFlipBreaksQuoteSignature) {
  EXPECT_EQ(FlipAndVerify(kHdrUserData), ErrorCode::kBadSignature) << last_message_;
  EXPECT_EQ(FlipAndVerify(kHdrQeVendorId + 3), ErrorCode::kBadSignature) << last_message_;
}

TEST_F(TdxNegatives, A1_BodyByteFlipBreaksQuoteSignature) {
  EXPECT_EQ(FlipAndVerify(parsed_.body_offset + kTdMrTd), ErrorCode::kBadSignature) << last_message_;
  EXPECT_EQ(FlipAndVerify(parsed_.body_offset + kTdRtmr0 + 48 * 2), ErrorCode::kBadSignature);
  EXPECT_EQ(FlipAndVerify(parsed_.body_offset + kTdReportData), ErrorCode::kBadSignature);
  // The debug bit is signed too: setting it in the quote is a forgery, not a debug TD.
  EXPECT_EQ(FlipAndVerify(parsed_.body_offset + kTdAttributes), ErrorCode::kBadSignature);
}

TEST_F(TdxNegatives, A1_QuoteSignatureByteFlip) {
  EXPECT_EQ(FlipAndVerify(parsed_.sig_data_offset), ErrorCode::kBadSignature);
}

TEST_F(TdxNegatives, A1_QeReportByteFlipBreaksPckSignature) {
  EXPECT_EQ(FlipAndVerify(parsed_.qe_report_offset + kSgxMrEnclave), ErrorCode::kQeReportBadSignature) << last_message_;
  EXPECT_EQ(FlipAndVerify(parsed_.qe_report_offset + kSgxReportData), ErrorCode::kQeReportBadSignature);
}

TEST_F(TdxNegatives, A1_QeAuthDataByteFlipBreaksBinding) {
  ASSERT_GT(parsed_.qe_auth_data.size(), 0u);
  EXPECT_EQ(FlipAndVerify(parsed_.qe_auth_data_offset), ErrorCode::kQeReportDataMismatch) << last_message_;
  // The attestation key is bound the same way.
  EXPECT_EQ(FlipAndVerify(parsed_.sig_data_offset + kEcdsaP256SigSize), ErrorCode::kQeReportDataMismatch);
}

TEST_F(TdxNegatives, A4_OneSecondPastEachNextUpdate) {
  // Order of expiry in T1: PCK CRL, then TCB info, then QE identity.
  EXPECT_EQ(VerifyCode(quote_, collateral_, collateral_.pck_crl.NextUpdate() + 1), ErrorCode::kCrlExpired) << last_message_;
  EXPECT_NE(last_message_.find("PCK chain"), std::string::npos) << last_message_;
  EXPECT_EQ(VerifyCode(quote_, collateral_, collateral_.tcb_info.next_update + 1), ErrorCode::kCollateralExpired);
  EXPECT_NE(last_message_.find("tcb_info.nextUpdate"), std::string::npos) << last_message_;
  EXPECT_EQ(VerifyCode(quote_, collateral_, collateral_.qe_identity.next_update + 1), ErrorCode::kCollateralExpired);
  EXPECT_NE(last_message_.find("qe_identity.nextUpdate"), std::string::npos) << last_message_;
  // And the last valid second of each is still fine where nothing earlier expired.
  EXPECT_EQ(VerifyCode(quote_, collateral_, collateral_.pck_crl.NextUpdate() - 1), ErrorCode::kOk);
}

TEST_F(TdxNegatives, A4_VerifiedCollateralReusedPastNextUpdateStillExpires) {
  // Collateral verified once, then quotes checked against it later: every window is re-checked per quote.
  auto vc = VerifyTdxCollateral(collateral_, roots_, now_);
  ASSERT_TRUE(vc.ok()) << vc.error().ToString();
  auto fresh = VerifyTdxQuote(quote_, *vc, roots_, now_);
  ASSERT_TRUE(fresh.ok()) << fresh.error().ToString();
  EXPECT_EQ(fresh->tcb_status, verified_.tcb_status);
  EXPECT_EQ(fresh->advisory_ids, verified_.advisory_ids);
  EXPECT_EQ(fresh->checks, verified_.checks);
  auto code_at = [&](int64_t now) {
    auto r = VerifyTdxQuote(quote_, *vc, roots_, now);
    last_message_ = r.ok() ? "" : r.error().message();
    return r.ok() ? ErrorCode::kOk : r.error().code();
  };
  EXPECT_EQ(code_at(collateral_.pck_crl.NextUpdate() + 1), ErrorCode::kCrlExpired) << last_message_;
  EXPECT_NE(last_message_.find("PCK chain"), std::string::npos) << last_message_;
  EXPECT_EQ(code_at(collateral_.tcb_info.next_update + 1), ErrorCode::kCollateralExpired);
  EXPECT_NE(last_message_.find("tcb_info.nextUpdate"), std::string::npos) << last_message_;
  EXPECT_EQ(code_at(collateral_.qe_identity.next_update + 1), ErrorCode::kCollateralExpired);
  EXPECT_NE(last_message_.find("qe_identity.nextUpdate"), std::string::npos) << last_message_;
  EXPECT_EQ(code_at(collateral_.root_ca_crl.NextUpdate()), VerifyCode(quote_, collateral_, collateral_.root_ca_crl.NextUpdate()));
  EXPECT_EQ(code_at(collateral_.qe_identity.issue_date - 1), ErrorCode::kCollateralNotYetValid);
  EXPECT_EQ(code_at(collateral_.pck_crl.NextUpdate() - 1), ErrorCode::kOk) << last_message_;
}

TEST_F(TdxNegatives, A4_BeforeIssueDate) {
  EXPECT_EQ(VerifyCode(quote_, collateral_, collateral_.qe_identity.issue_date - 1), ErrorCode::kCollateralNotYetValid);
  EXPECT_NE(last_message_.find("qe_identity.issueDate"), std::string::npos) << last_message_;
  EXPECT_EQ(VerifyCode(quote_, collateral_, collateral_.tcb_info.issue_date - 1), ErrorCode::kCollateralNotYetValid);
}

TEST_F(TdxNegatives, A5_TcbInfoTextWithOneMoreSpaceFailsSignature) {
  // Edit the JSON document as a relay could: one space inside the signed tcb_info text.
  auto doc = nlohmann::json::parse(collateral_json_);
  std::string text = doc["tcb_info"];
  text.insert(1, " ");
  doc["tcb_info"] = text;
  auto edited = ParseTdxCollateral(doc.dump());
  ASSERT_TRUE(edited.ok()) << edited.error().ToString();  // still valid JSON with the same content
  EXPECT_EQ(edited->tcb_info.fmspc, collateral_.tcb_info.fmspc);
  EXPECT_EQ(VerifyCode(quote_, *edited, now_), ErrorCode::kCollateralBadSignature) << last_message_;
  EXPECT_NE(last_message_.find("tcb_info"), std::string::npos);
}

TEST_F(TdxNegatives, A5_QeIdentityTextEditedFailsSignature) {
  TdxCollateral c = collateral_;
  c.qe_identity_text += "\n";
  EXPECT_EQ(VerifyCode(quote_, c, now_), ErrorCode::kCollateralBadSignature);
  EXPECT_NE(last_message_.find("qe_identity"), std::string::npos);
  TdxCollateral s = collateral_;
  s.tcb_info_signature[5] ^= 1;
  EXPECT_EQ(VerifyCode(quote_, s, now_), ErrorCode::kCollateralBadSignature);
}

TEST_F(TdxNegatives, A6_AnotherPlatformsCollateral) {
  // T8's collateral (FMSPC 20A06F000000) with T1's quote (B0C06F000000), at a time inside T8's window.
  auto t8 = ParseTdxCollateral(TdxFile("dcapqvl_near_quote_collateral.json"));
  ASSERT_TRUE(t8.ok());
  ASSERT_NE(t8->tcb_info.fmspc, collateral_.tcb_info.fmspc);
  EXPECT_EQ(VerifyCode(quote_, *t8, Unix("2025-09-03T00:00:00Z")), ErrorCode::kCollateralMismatch) << last_message_;
  EXPECT_NE(last_message_.find("FMSPC"), std::string::npos);
  // The same check on T1's own collateral with the parsed FMSPC edited (the signature covers the text,
  // which is unchanged, so this isolates the comparison).
  TdxCollateral c = collateral_;
  c.tcb_info.fmspc[0] ^= 0x01;
  EXPECT_EQ(VerifyCode(quote_, c, now_), ErrorCode::kCollateralMismatch);
  TdxCollateral p = collateral_;
  p.tcb_info.pce_id[1] ^= 0x01;
  EXPECT_EQ(VerifyCode(quote_, p, now_), ErrorCode::kCollateralMismatch);
}

TEST_F(TdxNegatives, A2_UntrustedRoot) {
  // The PCK chain and collateral chains lead to Intel's root; pinning any other root fails.
  auto other = ParseCertificate(AsBytes(TdxFile("dcapqvl_TrustedRootCA.der")));
  ASSERT_TRUE(other.ok());
  // A self-signed certificate with Intel's name but another key: mint one with the test key.
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  X509* x = X509_dup(other->get());
  X509_set_pubkey(x, key);
  X509_sign(x, key, EVP_sha256());
  EVP_PKEY_free(key);
  auto r = VerifyTdxQuote(quote_, collateral_, {Certificate(x)}, now_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kChainUntrusted) << r.error().ToString();
}

TEST_F(TdxNegatives, A3_ForgedPckCrlIsRefused) {
  // Intel's PCK CRL cannot be re-signed, so we cannot show Intel revoking this PCK. What we show here: a CRL
  // naming the PCK Platform CA as issuer and listing this PCK's serial, but signed by another key, is not
  // accepted as revocation evidence nor silently skipped: the chain fails with crl_bad_signature. The
  // revocation mechanism itself (serial on a correctly signed CRL -> cert_revoked) is shown on a test PKI in
  // x509_test (X509.A3_SerialOnCrlIsRevoked), through the same VerifyChain call.
  auto chain = ParsePemChain(parsed_.pck_chain_pem);
  ASSERT_TRUE(chain.ok());
  X509_CRL* crl = X509_CRL_new();
  X509_CRL_set_version(crl, 1);
  X509_CRL_set_issuer_name(crl, X509_get_issuer_name((*chain)[0].get()));
  ASN1_TIME* t = ASN1_TIME_new();
  ASN1_TIME_set(t, static_cast<time_t>(now_ - 3600));
  X509_CRL_set1_lastUpdate(crl, t);
  ASN1_TIME_set(t, static_cast<time_t>(now_ + 86400));
  X509_CRL_set1_nextUpdate(crl, t);
  X509_REVOKED* rev = X509_REVOKED_new();
  X509_REVOKED_set_serialNumber(rev, X509_get_serialNumber((*chain)[0].get()));
  X509_REVOKED_set_revocationDate(rev, t);
  X509_CRL_add0_revoked(crl, rev);
  ASN1_TIME_free(t);
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  X509_CRL_sign(crl, key, EVP_sha256());
  EVP_PKEY_free(key);
  TdxCollateral c = collateral_;
  c.pck_crl = Crl(crl);
  EXPECT_EQ(VerifyCode(quote_, c, now_), ErrorCode::kCrlBadSignature) << last_message_;
}

TEST_F(TdxNegatives, A8_DebugTdRejectedByPolicy) {
  // The debug bit is inside the signed body, so a real debug TD is needed to reach policy; we set the bit
  // on the verified report to exercise the policy layer alone.
  EXPECT_TRUE(ValidateTdx(verified_, DefaultTdxPolicy()).empty());
  VerifiedTdxReport debug = verified_;
  debug.quote.body.td_attributes[0] |= 0x01;
  auto mismatches = ValidateTdx(debug, DefaultTdxPolicy());
  ASSERT_EQ(mismatches.size(), 1u);
  EXPECT_EQ(mismatches[0].code, kReasonDebugEnabled);
  EXPECT_EQ(mismatches[0].field, "td_attributes");
  TdxPolicy allow = DefaultTdxPolicy();
  allow.allow_debug_for_testing = true;
  EXPECT_TRUE(ValidateTdx(debug, allow).empty());
}

TEST_F(TdxNegatives, A9_WrongMeasurementsAllListedAtOnce) {
  TdxPolicy p = DefaultTdxPolicy();
  Mr48 other{};
  other.fill(0xab);
  p.allowed_mrtd = {other};
  p.allowed_rtmr[1] = {verified_.quote.body.rtmr[1]};  // matches
  p.allowed_rtmr[2] = {other, other};
  std::array<uint8_t, 64> rd{};
  p.expected_report_data = rd;
  p.accepted_tcb_statuses = {TcbStatus::kOutOfDate};
  auto m = ValidateTdx(verified_, p);
  ASSERT_EQ(m.size(), 4u);
  EXPECT_EQ(m[0].code, kReasonMeasurementMismatch);
  EXPECT_EQ(m[0].field, "mrtd");
  EXPECT_EQ(m[0].seen, HexEncode(verified_.quote.body.mr_td));
  EXPECT_EQ(m[0].wanted, HexEncode(other));
  EXPECT_EQ(m[1].field, "rtmr2");
  EXPECT_EQ(m[2].code, kReasonTcbStatusNotAccepted);
  EXPECT_EQ(m[2].seen, "UpToDate");
  EXPECT_EQ(m[3].code, kReasonReportDataMismatch);
  Verdict v = TdxVerdict(verified_, p);
  EXPECT_FALSE(v.accepted);
  EXPECT_EQ(v.reasons.size(), 4u);
  EXPECT_EQ(v.ToJson()["verdict"], "rejected");
  EXPECT_EQ(v.ToJson()["measurements"]["mrtd"], HexEncode(verified_.quote.body.mr_td));
  EXPECT_TRUE(TdxVerdict(verified_, DefaultTdxPolicy()).accepted);
}

TEST_F(TdxNegatives, A7_TcbStatusIsAResultNotAnError) {
  // Raising every level's PCESVN above the platform's makes no level match: TcbNotSupported, no error.
  TdxCollateral c = collateral_;
  for (auto& l : c.tcb_info.levels) l.pcesvn = 0xffff;
  auto r = VerifyTdxQuote(quote_, c, roots_, now_);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->tcb_status, TcbStatus::kTcbNotSupported);
  // The default policy refuses it.
  auto m = ValidateTdx(*r, DefaultTdxPolicy());
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].code, kReasonTcbStatusNotAccepted);
}

TEST_F(TdxNegatives, QeIdentityMismatch) {
  TdxCollateral c = collateral_;
  c.qe_identity.mrsigner[0] ^= 1;
  EXPECT_EQ(VerifyCode(quote_, c, now_), ErrorCode::kQeIdentityMismatch);
  TdxCollateral p = collateral_;
  p.qe_identity.isvprodid += 1;
  EXPECT_EQ(VerifyCode(quote_, p, now_), ErrorCode::kQeIdentityMismatch);
}

TEST_F(TdxNegatives, A16_EveryTruncationIsAParseError) {
  ASSERT_EQ(parsed_.quote_size + parsed_.trailing_bytes, quote_.size());
  for (size_t n = 0; n < parsed_.quote_size; ++n) {
    auto r = ParseTdxQuote(ByteView(quote_).first(n));
    ASSERT_FALSE(r.ok()) << n;
    ASSERT_EQ(r.error().code(), ErrorCode::kTruncated) << n << ": " << r.error().ToString();
    ASSERT_FALSE(VerifyTdxQuote(ByteView(quote_).first(n), collateral_, roots_, now_).ok());
  }
  // Lying lengths: sig_data_len beyond the cap, and one more than what is there.
  Bytes q = quote_;
  const size_t len_at = parsed_.sig_data_offset - 4;
  q[len_at + 3] = 0x7f;
  EXPECT_EQ(ParseTdxQuote(q).error().code(), ErrorCode::kLengthTooLarge);
  q.assign(quote_.begin(), quote_.begin() + static_cast<std::ptrdiff_t>(parsed_.quote_size));  // no padding
  q[len_at] = static_cast<uint8_t>(q[len_at] + 1);
  EXPECT_EQ(ParseTdxQuote(q).error().code(), ErrorCode::kTruncated);
}

TEST_F(TdxNegatives, UnsupportedHeaderFields) {
  Bytes q = quote_;
  q[kHdrVersion] = 3;
  EXPECT_EQ(ParseTdxQuote(q).error().code(), ErrorCode::kUnsupported);
  q = quote_;
  q[kHdrAttKeyType] = 3;
  EXPECT_EQ(ParseTdxQuote(q).error().code(), ErrorCode::kUnsupported);
  q = quote_;
  q[kHdrTeeType] = 0;
  EXPECT_EQ(ParseTdxQuote(q).error().code(), ErrorCode::kUnsupported);
}

TEST_F(TdxNegatives, NonZeroTrailingBytesRefusedByDefault) {
  Bytes q = quote_;
  q.back() = 1;
  EXPECT_EQ(VerifyCode(q, collateral_, now_), ErrorCode::kTrailingData);
  TdxVerifyOptions o = DefaultTdxVerifyOptions();
  o.trailing = TrailingBytesPolicy::kIgnore;
  EXPECT_TRUE(VerifyTdxQuote(q, collateral_, roots_, now_, o).ok());
}

TEST_F(TdxNegatives, PreparedPckCaGivesTheFullChainResult) {
  auto vc = VerifyTdxCollateral(collateral_, roots_, now_);
  ASSERT_TRUE(vc.ok()) << vc.error().ToString();
  ASSERT_NE(vc->pck_issuer, nullptr);  // Intel's PCK Platform CA and PCK CRL are what the fast check models
  auto fast = VerifyTdxQuote(quote_, *vc, roots_, now_);
  ASSERT_TRUE(fast.ok()) << fast.error().ToString();
  VerifiedTdxCollateral full_only = *vc;
  full_only.pck_issuer = nullptr;
  auto full = VerifyTdxQuote(quote_, full_only, roots_, now_);
  ASSERT_TRUE(full.ok()) << full.error().ToString();
  EXPECT_EQ(fast->checks, full->checks);
  EXPECT_EQ(fast->tcb_status, full->tcb_status);
  EXPECT_EQ(fast->pck.fmspc, full->pck.fmspc);
  EXPECT_EQ(fast->pck.ppid, full->pck.ppid);
  EXPECT_EQ(fast->pck.sgx_tcb_components, full->pck.sgx_tcb_components);
  EXPECT_EQ(fast->pck.pcesvn, full->pck.pcesvn);
  EXPECT_EQ(fast->pck.cpusvn, full->pck.cpusvn);
  // The fast check keeps the windows: past the PCK CRL's nextUpdate it declines and the full path says why.
  EXPECT_EQ(VerifyTdxQuote(quote_, *vc, roots_, collateral_.pck_crl.NextUpdate()).error().code(), ErrorCode::kCrlExpired);
  // A QE report flip is still caught with the fast check's PCK key.
  Bytes q = quote_;
  q.at(parsed_.qe_report_offset + 100) ^= 0x01;
  EXPECT_EQ(VerifyTdxQuote(q, *vc, roots_, now_).error().code(), ErrorCode::kQeReportBadSignature);
}

// --- the prepared PCK CA on the simulated PKI ----------------------------------------------------------------

constexpr int64_t kSimCreated = 1750000000;
constexpr int64_t kSimNow = kSimCreated + 3600;

class TdxPreparedPck : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    SimPkiOptions o;
    o.now = kSimCreated;
    o.rsa_bits = 2048;
    o.seed_for_testing = Bytes(32, 0x7d);
    auto pki = GenerateSimPki(o);
    ASSERT_TRUE(pki.ok()) << pki.error().ToString();
    pki_ = new SimPki(*pki);
  }
  static void TearDownTestSuite() {
    delete pki_;
    pki_ = nullptr;
  }

  static Result<VerifiedTdxCollateral> Collateral(const std::vector<Bytes>& revoked_pck_serials) {
    SimCollateralOptions c;
    c.issue_time = kSimCreated;
    c.validity = 30 * kSimDay;
    c.revoked_pck_serials = revoked_pck_serials;
    CMLN_ASSIGN_OR_RETURN(std::string json, BuildSimTdxCollateral(*pki_, c));
    CMLN_ASSIGN_OR_RETURN(TdxCollateral parsed, ParseTdxCollateral(json));
    return VerifyTdxCollateral(parsed, {pki_->intel_root}, kSimNow);
  }

  // `cert` with its public key replaced by `subject_key`'s (when given) and re-signed by `signer`.
  static Certificate Resigned(const Certificate& cert, const PrivateKey& signer, const PrivateKey* subject_key = nullptr) {
    X509* x = X509_dup(cert.get());
    if (subject_key != nullptr) {
      EXPECT_EQ(X509_set_pubkey(x, subject_key->get()), 1);
    }
    EXPECT_GT(X509_sign(x, signer.get(), EVP_sha256()), 0);
    return Certificate(x);
  }

  static ErrorCode CodeOf(const Result<VerifiedTdxReport>& r) { return r.ok() ? ErrorCode::kOk : r.error().code(); }

  static SimPki* pki_;
};
SimPki* TdxPreparedPck::pki_ = nullptr;

TEST_F(TdxPreparedPck, SimulatedQuoteAcceptedWithAndWithoutThePreparedCa) {
  auto vc = Collateral({});
  ASSERT_TRUE(vc.ok()) << vc.error().ToString();
  ASSERT_NE(vc->pck_issuer, nullptr);
  auto quote = GenerateSimTdxQuote(*pki_, SimTdxQuoteSpec{});
  ASSERT_TRUE(quote.ok());
  auto fast = VerifyTdxQuote(*quote, *vc, {pki_->intel_root}, kSimNow);
  ASSERT_TRUE(fast.ok()) << fast.error().ToString();
  VerifiedTdxCollateral full_only = *vc;
  full_only.pck_issuer = nullptr;
  auto full = VerifyTdxQuote(*quote, full_only, {pki_->intel_root}, kSimNow);
  ASSERT_TRUE(full.ok()) << full.error().ToString();
  EXPECT_EQ(fast->checks, full->checks);
  EXPECT_EQ(fast->pck.ppid, pki_->tdx.ppid);
  EXPECT_EQ(fast->tcb_status, full->tcb_status);
}

TEST_F(TdxPreparedPck, A3_RevokedPckIsRefusedWithThePreparedCa) {
  auto vc = Collateral({Bytes{0x01}, pki_->pck.SerialNumber()});
  ASSERT_TRUE(vc.ok()) << vc.error().ToString();
  ASSERT_NE(vc->pck_issuer, nullptr);
  auto quote = GenerateSimTdxQuote(*pki_, SimTdxQuoteSpec{});
  ASSERT_TRUE(quote.ok());
  auto r = VerifyTdxQuote(*quote, *vc, {pki_->intel_root}, kSimNow);
  EXPECT_EQ(CodeOf(r), ErrorCode::kCertRevoked) << (r.ok() ? "" : r.error().message());
  // And the one-call form agrees.
  auto parsed = ParseTdxCollateral(*BuildSimTdxCollateral(
      *pki_, SimCollateralOptions{kSimCreated, 30 * kSimDay, {pki_->pck.SerialNumber()}, {}}));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(CodeOf(VerifyTdxQuote(*quote, *parsed, {pki_->intel_root}, kSimNow)), ErrorCode::kCertRevoked);
}

TEST_F(TdxPreparedPck, A2_PckSignedByAnotherKeyUnderTheCachedCaIsRefused) {
  // The quote carries the cached CA and root text after the leaf, so the fast check runs on the leaf; its
  // name and authority key id are the cached CA's, but another key signed it.
  auto vc = Collateral({});
  ASSERT_TRUE(vc.ok());
  ASSERT_NE(vc->pck_issuer, nullptr);
  auto other = PrivateKey::GenerateEc("P-256");
  ASSERT_TRUE(other.ok());
  SimPki forged = *pki_;
  forged.pck = Resigned(pki_->pck, *other);
  auto quote = GenerateSimTdxQuote(forged, SimTdxQuoteSpec{});
  ASSERT_TRUE(quote.ok());
  auto parsed = ParseTdxQuote(*quote);
  ASSERT_TRUE(parsed.ok());
  ASSERT_NE(parsed->pck_chain_pem.find(vc->pck_crl_issuer_chain_pem), std::string::npos);
  auto r = VerifyTdxQuote(*quote, *vc, {pki_->intel_root}, kSimNow);
  EXPECT_EQ(CodeOf(r), ErrorCode::kChainUntrusted) << (r.ok() ? "" : r.error().message());
}

TEST_F(TdxPreparedPck, A2_PckUnderAnotherCaOfTheSameNameIsVerifiedInFull) {
  // A second PCK CA with the cached CA's name and key id, validly signed by the root, and the PCK re-issued
  // under it: the cached CA and its CRL must not be taken for it. The PCK CRL (signed by the cached CA) does
  // not verify under the other CA's key, so the full check refuses the chain.
  auto vc = Collateral({});
  ASSERT_TRUE(vc.ok());
  ASSERT_NE(vc->pck_issuer, nullptr);
  auto other_ca_key = PrivateKey::GenerateEc("P-256");
  ASSERT_TRUE(other_ca_key.ok());
  SimPki other = *pki_;
  other.pck_ca = Resigned(pki_->pck_ca, pki_->intel_root_key, &*other_ca_key);
  other.pck_ca_key = *other_ca_key;
  other.pck = Resigned(pki_->pck, *other_ca_key);
  ASSERT_TRUE(VerifyChain({other.pck, other.pck_ca}, {pki_->intel_root}, kSimNow, {}).ok());
  auto quote = GenerateSimTdxQuote(other, SimTdxQuoteSpec{});
  ASSERT_TRUE(quote.ok());
  auto r = VerifyTdxQuote(*quote, *vc, {pki_->intel_root}, kSimNow);
  EXPECT_EQ(CodeOf(r), ErrorCode::kCrlBadSignature) << (r.ok() ? "" : r.error().message());
}

TEST(PckExtensions, T1LeafExtension) {
  auto q = ParseTdxQuote(ToBytes(TdxFile("dcapqvl_tdx_quote")));
  ASSERT_TRUE(q.ok());
  auto chain = ParsePemChain(q->pck_chain_pem);
  ASSERT_TRUE(chain.ok());
  auto der = ExtensionDer((*chain)[0], kSgxExtensionsOid);
  ASSERT_TRUE(der.ok());
  auto ext = ParsePckExtensions(*der);
  ASSERT_TRUE(ext.ok()) << ext.error().ToString();
  EXPECT_EQ(HexEncode(ext->fmspc), "b0c06f000000");
  EXPECT_EQ(HexEncode(ext->pce_id), "0000");
  // Every truncation and every single-byte change either parses or fails cleanly (no crash, bounded).
  for (size_t n = 0; n < der->size(); ++n) {
    EXPECT_FALSE(ParsePckExtensions(ByteView(*der).first(n)).ok()) << n;
  }
  for (size_t i = 0; i < der->size(); ++i) {
    Bytes b = *der;
    b[i] ^= 0x80;
    (void)ParsePckExtensions(b).ok();
  }
}

TEST(Ccel, MalformedLogs) {
  const std::string log = TdxFile("gotdx_ccel_ccel_data.dat");
  auto full = ReplayCcel(AsBytes(log));
  ASSERT_TRUE(full.ok());
  Bytes b = ToBytes(log);
  b[16] ^= 1;  // spec event's digest area is fine, but the signature at 32 is not
  b[32] ^= 1;
  EXPECT_EQ(ReplayCcel(b).error().code(), ErrorCode::kMalformed);
  // A log cut in the middle of an event.
  EXPECT_EQ(ReplayCcel(ByteView(AsBytes(log)).first(full->log_size - 3)).error().code(), ErrorCode::kTruncated);
  // An RTMR mismatch is reported with both values.
  TdReport report;
  auto st = CheckCcelAgainstReport(*full, report);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), ErrorCode::kChecksumMismatch);
  EXPECT_NE(st.error().message().find("rtmr0"), std::string::npos);
  EXPECT_EQ(ParseCcelAcpiTable(AsBytes(std::string(56, 'x'))).error().code(), ErrorCode::kMalformed);
}

}  // namespace
}  // namespace cmln::attest
