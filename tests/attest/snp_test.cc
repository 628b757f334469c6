// Unit negatives for the SEV-SNP parse / verify / validate steps: each must-be-zero field and each
// refused value at its named offset asserting the exact ErrorCode, the KDS extension decoders, the
// report-versus-certificate comparison on parsed values, v5 and Turin layouts, and the CRL branch.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <string>

#include "attest/snp_policy.h"
#include "attest/snp_report.h"
#include "attest/snp_verify.h"
#include "attest/x509.h"
#include "testing/test_util.h"

namespace cmln::attest::snp {
namespace {

using testing::DataPath;
using testing::Hex;
using testing::ReadFileOrDie;

Bytes S1Report() { return ToBytes(ReadFileOrDie(DataPath("attestation/snp/gosev_attestation.bin"))); }
Bytes S3Report() { return ToBytes(ReadFileOrDie(DataPath("attestation/snp/trustee_snp_test-vlek-report.bin"))); }

SnpCollateral S1Collateral() {
  SnpCollateral c;
  c.endorsement_cert = ToBytes(ReadFileOrDie(DataPath("attestation/snp/gosev_vcek.testcer")));
  c.chain_pem = ReadFileOrDie(DataPath("attestation/snp/gosev_ask_ark_milan.pem"));
  return c;
}

SnpTrustAnchors MilanAnchors() {
  SnpTrustAnchors a;
  EXPECT_TRUE(a.AddArkFromPem(SnpProduct::kMilan, ReadFileOrDie(DataPath("attestation/snp/gosev_ask_ark_milan.pem")))
                  .ok());
  return a;
}

constexpr int64_t kS1Now = 1700000000;  // 2023-11-14, inside S1's window

void PutU32(Bytes& b, size_t off, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[off + i] = static_cast<uint8_t>(v >> (8 * i));
}
void PutU64(Bytes& b, size_t off, uint64_t v) {
  for (int i = 0; i < 8; ++i) b[off + i] = static_cast<uint8_t>(v >> (8 * i));
}

ErrorCode ParseCode(const Bytes& b) {
  auto r = ParseSnpReport(b);
  return r.ok() ? ErrorCode::kOk : r.error().code();
}

// --- parse ----------------------------------------------------------------------------------------------

TEST(SnpReport, ParsesS1Fields) {
  auto r = ParseSnpReport(S1Report());
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->version, 2u);
  EXPECT_EQ(r->policy, 0xb0000u);
  EXPECT_TRUE(r->debug());
  EXPECT_TRUE(r->smt_allowed());
  EXPECT_FALSE(r->migrate_ma());
  EXPECT_EQ(r->signature_algo, 1u);
  EXPECT_EQ(r->signing_key, SigningKey::kVcek);
  EXPECT_FALSE(r->has_cpuid);
  EXPECT_EQ(r->product, SnpProduct::kUnknown);
  EXPECT_EQ(r->reported_tcb.layout, TcbLayout::kMilanGenoa);
  EXPECT_EQ(r->reported_tcb.raw, 0x4405000000000002ull);
  EXPECT_EQ(r->reported_tcb.ToString(), "bl=2 tee=0 snp=5 ucode=68");
  EXPECT_EQ(r->report_data[0], 0x01);
  EXPECT_EQ(r->current_major, 1);
  EXPECT_EQ(r->current_minor, 0x31);
  EXPECT_EQ(r->current_build, 3);
}

TEST(SnpReport, A16_RefusedVersions) {
  for (uint32_t version : {0u, 1u, 4u, 6u, 0xffffffffu}) {
    Bytes b = S1Report();
    PutU32(b, kOffVersion, version);
    EXPECT_EQ(ParseCode(b), ErrorCode::kUnsupported) << version;
  }
}

TEST(SnpReport, A16_SignatureAlgoMustBeEcdsaP384) {
  for (uint32_t algo : {0u, 2u, 0x100u}) {
    Bytes b = S1Report();
    PutU32(b, kOffSignatureAlgo, algo);
    EXPECT_EQ(ParseCode(b), ErrorCode::kUnsupported) << algo;
  }
}

TEST(SnpReport, A16_PolicyReservedBits) {
  Bytes b = S1Report();
  b[kOffPolicy + 2] &= static_cast<uint8_t>(~0x02);  // bit 17 must be one
  EXPECT_EQ(ParseCode(b), ErrorCode::kMalformed);
  b = S1Report();
  b[kOffPolicy + 3] |= 0x04;  // bit 26
  EXPECT_EQ(ParseCode(b), ErrorCode::kMalformed);
  b = S1Report();
  b[kOffPolicy + 7] |= 0x80;  // bit 63
  EXPECT_EQ(ParseCode(b), ErrorCode::kMalformed);
}

TEST(SnpReport, A16_KeyInfoReservedBitsAndSigningKeys) {
  Bytes b = S1Report();
  b[kOffKeyInfo] |= 0x20;  // bit 5
  EXPECT_EQ(ParseCode(b), ErrorCode::kMalformed);
  for (uint32_t key = 2; key <= 6; ++key) {
    b = S1Report();
    PutU32(b, kOffKeyInfo, key << kKeyInfoSigningKeyShift);
    EXPECT_EQ(ParseCode(b), ErrorCode::kMalformed) << key;
  }
  b = S1Report();
  PutU32(b, kOffKeyInfo, 7u << kKeyInfoSigningKeyShift);
  auto r = ParseSnpReport(b);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->signing_key, SigningKey::kNone);
  // Parse accepts an unsigned report; verify refuses it.
  auto v = VerifySnpReport(b, S1Collateral(), MilanAnchors(), kS1Now);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().code(), ErrorCode::kUnsupported);
}

TEST(SnpReport, A16_EveryMustBeZeroRangeOfV2) {
  struct Range {
    size_t begin, end;
  };
  const Range ranges[] = {{kOffReserved0, kOffReportData},
                          {kOffCpuidFamily, kOffChipId},  // v2: CPUID bytes are reserved too
                          {kOffCurrentBuild + 3, kOffCurrentBuild + 4},
                          {kOffCommittedBuild + 3, kOffCommittedBuild + 4},
                          {kOffLaunchMitVector, kOffSignatureR},  // v2: mitigation vectors reserved
                          {kOffSignatureReserved, kReportSize}};
  for (const Range& range : ranges) {
    for (size_t off = range.begin; off < range.end; ++off) {
      Bytes b = S1Report();
      b[off] = 0x01;
      auto r = ParseSnpReport(b);
      ASSERT_FALSE(r.ok()) << off;
      EXPECT_EQ(r.error().code(), ErrorCode::kMalformed) << off;
    }
  }
}

TEST(SnpReport, V3CpuidAndReservedTail) {
  auto r = ParseSnpReport(S3Report());
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_TRUE(r->has_cpuid);
  EXPECT_EQ(r->cpuid_family, 0x19);
  EXPECT_EQ(r->cpuid_model, 0x01);
  EXPECT_EQ(r->cpuid_stepping, 0x01);
  EXPECT_EQ(r->product, SnpProduct::kMilan);
  EXPECT_EQ(r->signing_key, SigningKey::kVlek);
  EXPECT_EQ(r->vmpl, 1u);
  Bytes b = S3Report();
  b[kOffReserved1] = 1;
  EXPECT_EQ(ParseCode(b), ErrorCode::kMalformed);
  b = S3Report();
  b[kOffLaunchMitVector] = 1;  // v3 has no mitigation vectors
  EXPECT_EQ(ParseCode(b), ErrorCode::kMalformed);
}

TEST(SnpReport, V5MitigationVectors) {
  Bytes b = S3Report();
  PutU32(b, kOffVersion, 5);
  PutU64(b, kOffLaunchMitVector, 0x0102030405060708ull);
  PutU64(b, kOffCurrentMitVector, 0x1112131415161718ull);
  auto r = ParseSnpReport(b);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_TRUE(r->has_mit_vectors);
  EXPECT_EQ(r->launch_mit_vector, 0x0102030405060708ull);
  EXPECT_EQ(r->current_mit_vector, 0x1112131415161718ull);
  b[kOffReserved3] = 1;
  EXPECT_EQ(ParseCode(b), ErrorCode::kMalformed);
  b[kOffReserved3] = 0;
  b[kSignedSize - 1] = 1;
  EXPECT_EQ(ParseCode(b), ErrorCode::kMalformed);
}

TEST(SnpReport, TurinTcbLayoutFromCpuidFamily) {
  Bytes b = S3Report();
  b[kOffCpuidFamily] = kCpuidFamilyZen5;
  b[kOffCpuidModel] = 0x02;
  // FMC 1, BL 2, TEE 3, SNP 4, reserved 0, UCODE 0x55.
  PutU64(b, kOffReportedTcb, 0x5500000004030201ull);
  auto r = ParseSnpReport(b);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->product, SnpProduct::kTurin);
  const TcbVersion& t = r->reported_tcb;
  EXPECT_EQ(t.layout, TcbLayout::kTurin);
  EXPECT_EQ(t.fmc, 1);
  EXPECT_EQ(t.boot_loader, 2);
  EXPECT_EQ(t.tee, 3);
  EXPECT_EQ(t.snp, 4);
  EXPECT_EQ(t.microcode, 0x55);
  EXPECT_EQ(t.ToString(), "fmc=1 bl=2 tee=3 snp=4 ucode=85");
  // The same bytes in the Milan/Genoa layout mean something else.
  const TcbVersion m = DecodeTcbVersion(t.raw, TcbLayout::kMilanGenoa);
  EXPECT_EQ(m.boot_loader, 1);
  EXPECT_EQ(m.tee, 2);
  EXPECT_EQ(m.snp, 0);
}

TEST(SnpReport, ProductFromCpuid) {
  EXPECT_EQ(ProductFromCpuid(0x19, 0x01), SnpProduct::kMilan);
  EXPECT_EQ(ProductFromCpuid(0x19, 0x11), SnpProduct::kGenoa);
  EXPECT_EQ(ProductFromCpuid(0x19, 0xA0), SnpProduct::kGenoa);
  EXPECT_EQ(ProductFromCpuid(0x1A, 0x02), SnpProduct::kTurin);
  EXPECT_EQ(ProductFromCpuid(0x19, 0x50), SnpProduct::kUnknown);
  EXPECT_EQ(ProductFromCpuid(0x17, 0x01), SnpProduct::kUnknown);
}

// --- KDS extension decoders ------------------------------------------------------------------------------

TEST(SnpKdsExtensions, A16_SplIntegerEncodings) {
  EXPECT_EQ(*ParseKdsSpl(Hex("020100"), "x"), 0);
  EXPECT_EQ(*ParseKdsSpl(Hex("02017f"), "x"), 127);
  EXPECT_EQ(*ParseKdsSpl(Hex("020200d9"), "x"), 0xd9);
  const struct {
    const char* hex;
    ErrorCode code;
  } bad[] = {
      {"", ErrorCode::kTruncated},           {"02", ErrorCode::kTruncated},
      {"0201", ErrorCode::kTruncated},       {"020180", ErrorCode::kMalformed},    // negative
      {"0202007f", ErrorCode::kMalformed},   {"02020100", ErrorCode::kMalformed},  // non-minimal, > 255
      {"0200", ErrorCode::kMalformed},       {"030100", ErrorCode::kMalformed},    // empty, wrong tag
      {"02030000ff", ErrorCode::kLengthTooLarge}, {"02010000", ErrorCode::kTrailingData},
      {"028101ff", ErrorCode::kMalformed},  // non-minimal length
  };
  for (const auto& c : bad) {
    auto r = ParseKdsSpl(Hex(c.hex), "blSPL");
    ASSERT_FALSE(r.ok()) << c.hex;
    EXPECT_EQ(r.error().code(), c.code) << c.hex << ": " << r.error().ToString();
  }
}

TEST(SnpKdsExtensions, A16_StringsAndHwid) {
  EXPECT_EQ(*ParseKdsIa5String(Hex("16084d696c616e2d4230"), "productName"), "Milan-B0");
  EXPECT_EQ(ParseKdsIa5String(Hex("160180"), "x").error().code(), ErrorCode::kMalformed);
  EXPECT_EQ(ParseKdsIa5String(Hex("0c0141"), "x").error().code(), ErrorCode::kMalformed);  // UTF8String
  EXPECT_EQ(ParseKdsIa5String(Hex("16820200"), "x").error().code(), ErrorCode::kLengthTooLarge);
  const Bytes raw(64, 0x5a);
  EXPECT_EQ(*ParseKdsHwid(raw), raw);
  EXPECT_EQ(*ParseKdsHwid(Concat(Hex("0440"), raw)), raw);
  EXPECT_EQ(ParseKdsHwid(Bytes(5, 0)).error().code(), ErrorCode::kMalformed);
  EXPECT_EQ(ParseKdsHwid(Concat(Hex("0420"), Bytes(32, 0))).error().code(), ErrorCode::kMalformed);
  EXPECT_EQ(ProductFromName("Genoa"), SnpProduct::kGenoa);
  EXPECT_EQ(ProductFromName("Turin-B0"), SnpProduct::kTurin);
  EXPECT_EQ(ProductFromName("Venice-A0"), SnpProduct::kUnknown);
}

TEST(SnpKdsExtensions, S1VcekExtensions) {
  auto cert = ParseCertificate(S1Collateral().endorsement_cert);
  ASSERT_TRUE(cert.ok());
  auto e = ParseEndorsementExtensions(*cert);
  ASSERT_TRUE(e.ok()) << e.error().ToString();
  EXPECT_EQ(e->kind, SigningKey::kVcek);
  EXPECT_EQ(e->product, SnpProduct::kMilan);
  EXPECT_EQ(e->bl_spl, 2);
  EXPECT_EQ(e->snp_spl, 5);
  EXPECT_EQ(e->ucode_spl, 0x44);
  EXPECT_FALSE(e->fmc_spl.has_value());
  EXPECT_EQ(e->hwid.size(), 64u);
  EXPECT_EQ(e->Tcb(TcbLayout::kMilanGenoa).raw, 0x4405000000000002ull);
}

TEST(SnpKdsExtensions, A16_CertificateWithoutKdsExtensionsIsNotFound) {
  // The ARK has no productName.
  auto chain = ParsePemChain(ReadFileOrDie(DataPath("attestation/snp/gosev_ask_ark_milan.pem")));
  ASSERT_TRUE(chain.ok());
  auto e = ParseEndorsementExtensions(chain->back());
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().code(), ErrorCode::kNotFound);
  SnpCollateral c = S1Collateral();
  c.endorsement_cert = chain->back().Der();
  auto p = PrepareSnpCollateral(c);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code(), ErrorCode::kNotFound);
}

// --- report versus certificate, on parsed values ------------------------------------------------------
// A changed REPORTED_TCB or CHIP_ID byte in a real report breaks the signature first (A1), so the
// comparison of step 6 is tested here directly on parsed values.

struct Parsed {
  SnpReport report;
  EndorsementExtensions ext;
};
Parsed ParsedS1() {
  Parsed p;
  auto r = ParseSnpReport(S1Report());
  EXPECT_TRUE(r.ok());
  p.report = *r;
  auto cert = ParseCertificate(S1Collateral().endorsement_cert);
  EXPECT_TRUE(cert.ok());
  auto e = ParseEndorsementExtensions(*cert);
  EXPECT_TRUE(e.ok());
  p.ext = *e;
  return p;
}

TEST(SnpEndorsementMatch, S1MatchesItsVcek) {
  const Parsed p = ParsedS1();
  EXPECT_TRUE(CheckReportMatchesEndorsement(p.report, p.ext).ok());
}

TEST(SnpEndorsementMatch, A6_EveryTcbComponentMismatchIsCollateralMismatch) {
  const struct {
    uint8_t EndorsementExtensions::*field;
    const char* name;
  } fields[] = {{&EndorsementExtensions::bl_spl, "blSPL"},   {&EndorsementExtensions::tee_spl, "teeSPL"},
                {&EndorsementExtensions::snp_spl, "snpSPL"}, {&EndorsementExtensions::ucode_spl, "ucodeSPL"},
                {&EndorsementExtensions::spl4, "spl4"},      {&EndorsementExtensions::spl7, "spl7"}};
  for (const auto& f : fields) {
    Parsed p = ParsedS1();
    p.ext.*(f.field) += 1;
    Status s = CheckReportMatchesEndorsement(p.report, p.ext);
    ASSERT_FALSE(s.ok()) << f.name;
    EXPECT_EQ(s.error().code(), ErrorCode::kCollateralMismatch);
    EXPECT_NE(s.error().message().find(f.name), std::string::npos) << s.error().message();
  }
}

TEST(SnpEndorsementMatch, A6_ChipIdNotHwidIsCollateralMismatch) {
  Parsed p = ParsedS1();
  p.ext.hwid[63] ^= 1;
  Status s = CheckReportMatchesEndorsement(p.report, p.ext);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), ErrorCode::kCollateralMismatch);
  EXPECT_NE(s.error().message().find("CHIP_ID"), std::string::npos);
  // With MASK_CHIP_KEY the chip id is zero by design and not compared.
  p.report.mask_chip_key = true;
  p.report.chip_id.fill(0);
  EXPECT_TRUE(CheckReportMatchesEndorsement(p.report, p.ext).ok());
}

TEST(SnpEndorsementMatch, A6_KindMismatch) {
  Parsed p = ParsedS1();
  p.ext.kind = SigningKey::kVlek;
  EXPECT_EQ(CheckReportMatchesEndorsement(p.report, p.ext).error().code(), ErrorCode::kCollateralMismatch);
}

TEST(SnpEndorsementMatch, TurinComparesFmcAndEightByteHwid) {
  Parsed p = ParsedS1();
  p.report.reported_tcb = DecodeTcbVersion(0x5500000004030201ull, TcbLayout::kTurin);
  p.report.chip_id.fill(0);
  for (int i = 0; i < 8; ++i) p.report.chip_id[i] = static_cast<uint8_t>(0xa0 + i);
  p.ext.product = SnpProduct::kTurin;
  p.ext.fmc_spl = 1;
  p.ext.bl_spl = 2;
  p.ext.tee_spl = 3;
  p.ext.snp_spl = 4;
  p.ext.ucode_spl = 0x55;
  p.ext.hwid = Bytes(p.report.chip_id.begin(), p.report.chip_id.begin() + 8);
  EXPECT_TRUE(CheckReportMatchesEndorsement(p.report, p.ext).ok());
  p.ext.fmc_spl = 2;
  Status s = CheckReportMatchesEndorsement(p.report, p.ext);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find("fmcSPL"), std::string::npos) << s.error().message();
  p.ext.fmc_spl = 1;
  p.report.chip_id[8] = 1;  // beyond the 8-byte Turin hwID must be zero
  EXPECT_EQ(CheckReportMatchesEndorsement(p.report, p.ext).error().code(), ErrorCode::kCollateralMismatch);
}

// --- CRL ----------------------------------------------------------------------------------------------

// A CRL naming the Milan ARK as issuer but signed by a key of our own.
Bytes ForgedCrlDer() {
  auto chain = ParsePemChain(ReadFileOrDie(DataPath("attestation/snp/gosev_ask_ark_milan.pem")));
  EXPECT_TRUE(chain.ok());
  EVP_PKEY* key = EVP_RSA_gen(2048);
  X509_CRL* crl = X509_CRL_new();
  X509_CRL_set_version(crl, 1);
  X509_CRL_set_issuer_name(crl, X509_get_subject_name(chain->back().get()));
  ASN1_TIME* t = ASN1_TIME_set(nullptr, kS1Now - 3600);
  ASN1_TIME* n = ASN1_TIME_set(nullptr, kS1Now + 3600);
  X509_CRL_set1_lastUpdate(crl, t);
  X509_CRL_set1_nextUpdate(crl, n);
  X509_CRL_sign(crl, key, EVP_sha384());
  unsigned char* der = nullptr;
  const int len = i2d_X509_CRL(crl, &der);
  Bytes out(der, der + (len > 0 ? len : 0));
  OPENSSL_free(der);
  ASN1_TIME_free(t);
  ASN1_TIME_free(n);
  X509_CRL_free(crl);
  EVP_PKEY_free(key);
  return out;
}

TEST(SnpCrl, A3_CrlNotSignedByPinnedArkIsRefused) {
  SnpCollateral c = S1Collateral();
  c.crl = ForgedCrlDer();
  ASSERT_FALSE(c.crl.empty());
  auto v = VerifySnpReport(S1Report(), c, MilanAnchors(), kS1Now);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().code(), ErrorCode::kCrlBadSignature) << v.error().ToString();
}

TEST(SnpCrl, A16_UnparseableCrlIsBadEncoding) {
  SnpCollateral c = S1Collateral();
  c.crl = Bytes{0x30, 0x03, 0x02, 0x01, 0x00};
  auto v = VerifySnpReport(S1Report(), c, MilanAnchors(), kS1Now);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().code(), ErrorCode::kBadEncoding) << v.error().ToString();
}

// --- policy and verdicts -------------------------------------------------------------------------------

TEST(SnpPolicy, VerificationErrorBecomesOneReasonNamedAfterTheCode) {
  Bytes forged = S1Report();
  forged[kOffMeasurement] ^= 1;
  auto v = VerifySnpReport(forged, S1Collateral(), MilanAnchors(), kS1Now);
  const Verdict verdict = MakeSnpVerdict(v, DefaultSnpPolicy());
  EXPECT_FALSE(verdict.accepted);
  ASSERT_EQ(verdict.reasons.size(), 1u);
  EXPECT_EQ(verdict.reasons[0].code, "bad_signature");
  EXPECT_EQ(verdict.platform, "snp");
}

TEST(SnpPolicy, A8_DebugAndMigrationAgentAndVmpl) {
  auto v = VerifySnpReport(S1Report(), S1Collateral(), MilanAnchors(), kS1Now);
  ASSERT_TRUE(v.ok()) << v.error().ToString();
  VerifiedSnpReport modified = *v;
  modified.report.policy |= 1ull << kPolicyBitMigrateMa;
  modified.report.vmpl = 2;
  SnpPolicy policy = DefaultSnpPolicy();
  policy.allow_migrate_ma = false;
  policy.max_vmpl = 1;
  const Verdict verdict = ValidateSnpReport(modified, policy);
  ASSERT_EQ(verdict.reasons.size(), 3u) << verdict.ToJson().dump();
  EXPECT_EQ(verdict.reasons[0].code, "debug_enabled");
  EXPECT_NE(verdict.reasons[0].message.find("0x00000000000f0000"), std::string::npos) << verdict.reasons[0].message;
  EXPECT_EQ(verdict.reasons[1].code, "vmpl_not_allowed");
  EXPECT_EQ(verdict.reasons[2].code, "migrate_ma_not_allowed");
  EXPECT_EQ(verdict.tcb_status, TcbStatus::kUnknown);  // no minimum given
}

TEST(SnpPolicy, A7_TurinFmcBelowMinimum) {
  auto v = VerifySnpReport(S1Report(), S1Collateral(), MilanAnchors(), kS1Now);
  ASSERT_TRUE(v.ok());
  VerifiedSnpReport turin = *v;
  turin.report.reported_tcb = DecodeTcbVersion(0x5500000004030201ull, TcbLayout::kTurin);
  SnpPolicy policy = DefaultSnpPolicy();
  policy.allow_debug_for_testing = true;
  policy.minimum_tcb = SnpMinimumTcb{.boot_loader = 2, .tee = 3, .snp = 4, .microcode = 0x55, .fmc = 2};
  const Verdict verdict = ValidateSnpReport(turin, policy);
  ASSERT_EQ(verdict.reasons.size(), 1u) << verdict.ToJson().dump();
  EXPECT_EQ(verdict.reasons[0].code, "tcb_below_minimum");
  EXPECT_NE(verdict.reasons[0].message.find("fmc is 0x01, wanted at least 0x02"), std::string::npos);
  EXPECT_EQ(verdict.tcb_status, TcbStatus::kOutOfDate);
}

}  // namespace
}  // namespace cmln::attest::snp
