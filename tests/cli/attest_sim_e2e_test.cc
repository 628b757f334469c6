// `cmln attest sim` end to end: the built binary generates a development PKI, a sim-tdx quote with its
// collateral and a sim-snp report with its VCEK and chain; the library's production verifiers accept
// the files under the PKI's trust (LoadSimTrust) with the measurements and report data given on the
// command line, and refuse them under the production roots (A15). Also exit codes, file modes and
// hex output.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "attest/sim_pki.h"
#include "attest/snp_policy.h"
#include "attest/tdx_policy.h"
#include "attest/tdx_verify.h"
#include "testing/test_util.h"

namespace cmln::attest {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::DataPath;
using testing::ReadFileOrDie;
using testing::RunProcess;

std::string Rep(const std::string& byte_hex, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s += byte_hex;
  return s;
}

class AttestSimE2e : public ::testing::Test {
 protected:
  // One PKI for the suite (RSA-4096 generation takes a few seconds).
  static void SetUpTestSuite() {
    std::string tmpl = (fs::temp_directory_path() / "cmln-attest-sim-e2e-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = new std::string(tmpl);
    auto r = Sim("pki --out '" + Pki() + "' --json");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    json j = json::parse(r.out, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << r.out;
    EXPECT_EQ(j["dir"], Pki());
    EXPECT_EQ(j["snp_product"], "Milan-B0");
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(*root_, ec);
    delete root_;
    root_ = nullptr;
  }

  static std::string Pki() { return *root_ + "/pki"; }
  static std::string File(const std::string& name) { return *root_ + "/" + name; }
  static testing::ProcessResult Sim(const std::string& args, bool merge_stderr = false) {
    return RunProcess("'" + std::string(CMLN_BINARY_DIR) + "/cmln' attest sim " + args +
                      (merge_stderr ? " 2>&1" : " 2>/dev/null"));
  }
  static mode_t ModeOf(const std::string& path) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return 0;
    return st.st_mode & 07777;
  }
  static int64_t Now() { return static_cast<int64_t>(std::time(nullptr)); }

  static std::string* root_;
};
std::string* AttestSimE2e::root_ = nullptr;

TEST_F(AttestSimE2e, PkiDirectoryHasPrivateKeysOnlyReadableByTheOwner) {
  EXPECT_EQ(ModeOf(Pki()), 0700u);
  for (const char* key : {"tdx/root_ca.key", "tdx/pck.key", "tdx/tcb_signing.key", "snp/ark.key", "snp/vcek.key"}) {
    EXPECT_EQ(ModeOf(Pki() + "/" + key), 0600u) << key;
  }
  EXPECT_NE(ReadFileOrDie(Pki() + "/README.txt").find("NOT FOR PRODUCTION"), std::string::npos);
  // ARK and ASK are RSA-4096 like AMD's.
  for (const char* cert : {"snp/ark.pem", "snp/ask.pem"}) {
    auto c = ParseCertificate(AsBytes(ReadFileOrDie(Pki() + "/" + cert)));
    ASSERT_TRUE(c.ok()) << cert;
    EXPECT_EQ(EVP_PKEY_get_bits(X509_get0_pubkey(c->get())), 4096) << cert;
  }
  // A second run into the same directory refuses to overwrite it.
  auto again = Sim("pki --out '" + Pki() + "'", true);
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.out.find("already_exists"), std::string::npos) << again.out;
}

TEST_F(AttestSimE2e, TdxQuoteAndCollateralVerifyUnderTheSimTrust) {
  const std::string rd = Rep("ab", 64);
  const std::string mrtd = Rep("11", 48);
  const std::string rtmr2 = Rep("22", 48);
  const std::string mrconfigid = Rep("33", 48);
  auto r =
      Sim("tdx --pki '" + Pki() + "' --report-data " + rd + " --mrtd " + mrtd + " --rtmr2 " + rtmr2 + " --mrconfigid " +
          mrconfigid + " --out '" + File("q.bin") + "' --collateral-out '" + File("c.json") + "' --json");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const Bytes quote = ToBytes(ReadFileOrDie(File("q.bin")));

  auto trust = LoadSimTrust(Pki());
  ASSERT_TRUE(trust.ok()) << trust.error().ToString();
  ASSERT_TRUE(trust->simulated);
  for (const std::string& collateral_json : {ReadFileOrDie(File("c.json")), trust->tdx_collateral_json}) {
    auto collateral = ParseTdxCollateral(collateral_json);
    ASSERT_TRUE(collateral.ok()) << collateral.error().ToString();
    auto v = VerifyTdxQuote(quote, *collateral, trust->tdx_roots, Now());
    ASSERT_TRUE(v.ok()) << v.error().ToString();
    EXPECT_EQ(v->tcb_status, TcbStatus::kUpToDate);
    Verdict verdict = TdxVerdict(*v, DefaultTdxPolicy());
    LabelSimulated(verdict);
    EXPECT_TRUE(verdict.accepted);
    EXPECT_EQ(verdict.platform, "sim-tdx");
    EXPECT_TRUE(verdict.simulated);
    EXPECT_EQ(verdict.report_data, rd);
    EXPECT_EQ(verdict.measurements["mrtd"], mrtd);
    EXPECT_EQ(verdict.measurements["rtmr2"], rtmr2);
    EXPECT_EQ(verdict.measurements["rtmr0"], Rep("00", 48));
    EXPECT_EQ(verdict.measurements["mrconfigid"], mrconfigid);
  }
  // Production trust: the Intel root refuses it.
  auto intel = ParseCertificate(AsBytes(ReadFileOrDie(DataPath("attestation/tdx/dcapqvl_TrustedRootCA.der"))));
  ASSERT_TRUE(intel.ok());
  auto refused = VerifyTdxQuote(quote, trust->tdx_collateral, {*intel}, Now());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), ErrorCode::kChainUntrusted);
}

TEST_F(AttestSimE2e, A8_TdxDebugFlagGivesADebugQuoteThatPolicyRefuses) {
  auto r = Sim("tdx --pki '" + Pki() + "' --report-data 01 --debug --hex --out '" + File("qd.hex") + "'");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  std::string hex = ReadFileOrDie(File("qd.hex"));
  ASSERT_FALSE(hex.empty());
  ASSERT_EQ(hex.back(), '\n');
  hex.pop_back();
  auto quote = HexDecode(hex);
  ASSERT_TRUE(quote.ok());
  auto trust = LoadSimTrust(Pki());
  ASSERT_TRUE(trust.ok());
  auto v = VerifyTdxQuote(*quote, trust->tdx_collateral, trust->tdx_roots, Now());
  ASSERT_TRUE(v.ok()) << v.error().ToString();
  EXPECT_EQ(v->quote.body.report_data[0], 0x01);
  EXPECT_EQ(v->quote.body.report_data[1], 0x00);
  const Verdict verdict = TdxVerdict(*v, DefaultTdxPolicy());
  EXPECT_FALSE(verdict.accepted);
  ASSERT_EQ(verdict.reasons.size(), 1u);
  EXPECT_EQ(verdict.reasons[0].code, kReasonDebugEnabled);
}

TEST_F(AttestSimE2e, SnpReportWithVcekAndChainVerifiesUnderTheSimTrust) {
  const std::string rd = Rep("cd", 32);
  const std::string measurement = Rep("44", 48);
  const std::string host_data = Rep("55", 32);
  auto r = Sim("snp --pki '" + Pki() + "' --report-data " + rd + " --measurement " + measurement + " --host-data " +
               host_data + " --vmpl 2 --out '" + File("r.bin") + "' --vcek-out '" + File("vcek.pem") +
               "' --chain-out '" + File("chain.pem") + "' --json");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  json j = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_EQ(j["platform"], "sim-snp");
  EXPECT_EQ(j["bytes"], 0x4A0);

  const Bytes report = ToBytes(ReadFileOrDie(File("r.bin")));
  auto trust = LoadSimTrust(Pki());
  ASSERT_TRUE(trust.ok());
  snp::SnpCollateral from_files{ToBytes(ReadFileOrDie(File("vcek.pem"))), ReadFileOrDie(File("chain.pem")), {}};
  for (const snp::SnpCollateral& collateral : {from_files, trust->snp_collateral}) {
    auto v = snp::VerifySnpReport(report, collateral, trust->snp_anchors, Now());
    ASSERT_TRUE(v.ok()) << v.error().ToString();
    EXPECT_EQ(v->report.vmpl, 2u);
    Verdict verdict = snp::MakeSnpVerdict(v, snp::DefaultSnpPolicy());
    LabelSimulated(verdict);
    EXPECT_TRUE(verdict.accepted);
    EXPECT_EQ(verdict.platform, "sim-snp");
    EXPECT_TRUE(verdict.simulated);
    EXPECT_EQ(verdict.report_data, rd + Rep("00", 32));
    EXPECT_EQ(verdict.measurements["measurement"], measurement);
    EXPECT_EQ(verdict.measurements["host_data"], host_data);
  }
  // Production trust: AMD's Milan ARK refuses it.
  snp::SnpTrustAnchors amd;
  ASSERT_TRUE(
      amd.AddArkFromPem(snp::SnpProduct::kMilan, ReadFileOrDie(DataPath("attestation/snp/gosev_ask_ark_milan.pem")))
          .ok());
  auto refused = snp::VerifySnpReport(report, from_files, amd, Now());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), ErrorCode::kChainUntrusted);

  // --debug gives a report the default policy refuses.
  ASSERT_EQ(Sim("snp --pki '" + Pki() + "' --report-data 00 --debug --out '" + File("rd.bin") + "'").exit_code, 0);
  auto dv = snp::VerifySnpReport(ToBytes(ReadFileOrDie(File("rd.bin"))), from_files, trust->snp_anchors, Now());
  ASSERT_TRUE(dv.ok()) << dv.error().ToString();
  const Verdict debug_verdict = snp::MakeSnpVerdict(dv, snp::DefaultSnpPolicy());
  EXPECT_FALSE(debug_verdict.accepted);
  ASSERT_EQ(debug_verdict.reasons.size(), 1u);
  EXPECT_EQ(debug_verdict.reasons[0].code, "debug_enabled");
}

TEST_F(AttestSimE2e, BadArgumentsAreUsageErrors) {
  const std::string pki = " --pki '" + Pki() + "'";
  const std::string out = " --out '" + File("x.bin") + "'";
  EXPECT_EQ(Sim("tdx" + pki + " --report-data zz" + out).exit_code, 2);
  EXPECT_EQ(Sim("tdx" + pki + " --report-data " + Rep("00", 65) + out).exit_code, 2);
  EXPECT_EQ(Sim("tdx" + pki + " --report-data 00 --mrtd " + Rep("11", 47) + out).exit_code, 2);
  EXPECT_EQ(Sim("tdx" + pki + " --report-data 00").exit_code, 2);  // --out missing
  EXPECT_EQ(Sim("snp" + pki + " --report-data 00 --host-data " + Rep("11", 48) + out).exit_code, 2);
  EXPECT_EQ(Sim("snp" + pki + " --report-data 00 --vmpl 4" + out).exit_code, 2);
  EXPECT_EQ(Sim("snp" + pki + " --report-data 00 --report-version 5" + out).exit_code, 2);
  EXPECT_EQ(Sim("pki --out '" + File("p2") + "' --product rome").exit_code, 2);
  EXPECT_FALSE(fs::exists(File("x.bin")));
  EXPECT_FALSE(fs::exists(File("p2")));
  // Operation failures exit 1.
  auto missing = Sim("tdx --pki '" + File("nope") + "' --report-data 00" + out, true);
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.out.find("not_found"), std::string::npos) << missing.out;
}

}  // namespace
}  // namespace cmln::attest
