// `cmln attest verify|inspect` end to end through the built binary: usage errors exit 2 with a message;
// malformed or tampered evidence and collateral are rejected (exit 1) with the precise reason code; policy
// files flow into the verdict; inspect prints every parsed field of TDX quotes and SNP reports, equal to what
// the library parses.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "attest/sim_pki.h"
#include "attest/sim_snp.h"
#include "attest/sim_tdx.h"
#include "attest/snp_report.h"
#include "attest/tdx_quote.h"
#include "testing/test_util.h"

namespace cmln {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::DataPath;
using testing::ReadFileOrDie;

std::string Att(const std::string& rel) { return DataPath("attestation/" + rel); }
const std::string kT1 = Att("tdx/dcapqvl_tdx_quote");
const std::string kT1Collateral = Att("tdx/dcapqvl_tdx_quote_collateral.json");
const std::string kT1Now = "2025-06-20T00:00:00Z";
const std::string kS1 = Att("snp/gosev_attestation.bin");
const std::string kS1Vcek = Att("snp/gosev_vcek.testcer");
const std::string kS1Chain = Att("snp/gosev_ask_ark_milan.pem");
const std::string kS3 = Att("snp/trustee_snp_test-vlek-report.bin");
const std::string kS3Vlek = Att("snp/trustee_snp_test-vlek.der");
const std::string kS3Now = "2025-01-01T00:00:00Z";

std::string Q(const std::string& s) { return "'" + s + "'"; }

class AttestCliE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "cmln-attest-e2e-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  static std::string Binary() { return std::string(CMLN_BINARY_DIR) + "/cmln"; }

  // Runs `cmln attest ARGS`; with `merge_stderr` stderr is captured too.
  static testing::ProcessResult Attest(const std::string& args, bool merge_stderr = false) {
    return testing::RunProcess("'" + Binary() + "' attest " + args + (merge_stderr ? " 2>&1" : " 2>/dev/null"));
  }

  struct Run {
    int exit_code;
    json j;
  };
  static Run VerifyJson(const std::string& args) {
    auto r = Attest("verify " + args + " --json");
    json j = json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.out;
    return {r.exit_code, j};
  }

  std::string Write(const std::string& name, const std::string& content) {
    const std::string path = dir_ + "/" + name;
    FILE* f = fopen(path.c_str(), "wb");
    EXPECT_NE(f, nullptr);
    fwrite(content.data(), 1, content.size(), f);
    fclose(f);
    return path;
  }

  // Expects exit 1 with exactly one reason of `code` whose message contains `needle`.
  void ExpectRejected(const std::string& args, const std::string& code, const std::string& needle = "") {
    SCOPED_TRACE(args);
    Run r = VerifyJson(args);
    EXPECT_EQ(r.exit_code, 1) << r.j;
    EXPECT_EQ(r.j["verdict"], "rejected");
    ASSERT_EQ(r.j["reasons"].size(), 1u) << r.j;
    EXPECT_EQ(r.j["reasons"][0]["code"], code) << r.j;
    EXPECT_NE(r.j["reasons"][0]["message"].get<std::string>().find(needle), std::string::npos) << r.j;
  }

  // Expects exit 2 with `needle` on stderr and nothing on stdout.
  void ExpectUsage(const std::string& args, const std::string& needle) {
    SCOPED_TRACE(args);
    auto only_out = Attest(args);
    EXPECT_EQ(only_out.exit_code, 2);
    EXPECT_EQ(only_out.out, "");
    auto merged = Attest(args, true);
    EXPECT_NE(merged.out.find(needle), std::string::npos) << merged.out;
  }

  std::string dir_;
};

TEST_F(AttestCliE2e, UsageErrorsExit2) {
  ExpectUsage("verify --json", "--evidence is required");
  ExpectUsage("verify --evidence", "--evidence");
  ExpectUsage("verify --evidence " + Q(kT1) + " --bogus", "bogus");
  ExpectUsage("", "A subcommand is required");
  ExpectUsage("inspect", "file is required");
  ExpectUsage("verify --evidence /nonexistent/quote --json", "--evidence /nonexistent/quote: no such file");
  ExpectUsage("verify --evidence " + Q(dir_) + " --json", "not a regular file");
  ExpectUsage("verify --evidence " + Q(kT1) + " --now yesterday --json", "--now");
  ExpectUsage("verify --evidence " + Q(kT1) + " --now 2025-06-20 --json", "--now");
  ExpectUsage("verify --evidence " + Q(kT1) + " --collateral /nonexistent/c.json --json", "--collateral");
  // Flags of the other platform.
  ExpectUsage("verify --evidence " + Q(kT1) + " --vcek " + Q(kS1Vcek) + " --json", "apply to SEV-SNP evidence");
  ExpectUsage("verify --evidence " + Q(kS1) + " --collateral " + Q(kT1Collateral) + " --json", "applies to TDX quotes");
  ExpectUsage("verify --evidence " + Q(kS1) + " --json", "needs --vcek");
  ExpectUsage("verify --evidence " + Q(kS1) + " --vcek /nonexistent/vcek --json", "--vcek");
  ExpectUsage("verify --evidence " + Q(kS1) + " --vcek " + Q(kS1Vcek) + " --chain /nonexistent/chain --json",
              "--chain");
  ExpectUsage("inspect /nonexistent/quote --json", "no such file");
}

// Simulated evidence (sim_pki.h, sim_tdx.h, sim_snp.h) round-trips through `verify --trust-sim DIR`, labelled
// simulated; the production trust settings (no --trust-sim) refuse it (THREATS A15); and --trust-sim never
// vouches for production evidence.
TEST_F(AttestCliE2e, A15_SimulatedEvidenceOnlyUnderTrustSim) {
  const int64_t now = 1767225600;  // 2026-01-01T00:00:00Z
  const std::string at = "--now 2026-01-01T01:00:00Z";
  attest::SimPkiOptions options;
  options.now = now;
  options.rsa_bits = 2048;  // test speed; the CLI uses AMD's 4096
  auto pki = attest::GenerateSimPki(options);
  ASSERT_TRUE(pki.ok()) << pki.error().ToString();
  const std::string pki_dir = dir_ + "/pki";
  ASSERT_TRUE(attest::WriteSimPki(*pki, pki_dir).ok());
  const std::string trust = " --trust-sim " + Q(pki_dir) + " ";

  attest::SimTdxQuoteSpec tdx_spec;
  tdx_spec.report_data[0] = 0xAB;
  tdx_spec.mr_td[0] = 0x11;
  auto quote = attest::GenerateSimTdxQuote(*pki, tdx_spec);
  ASSERT_TRUE(quote.ok()) << quote.error().ToString();
  const std::string quote_file = Write("sim.quote", std::string(AsChars(*quote)));
  Run sim_tdx = VerifyJson("--evidence " + Q(quote_file) + trust + at);
  EXPECT_EQ(sim_tdx.exit_code, 0) << sim_tdx.j;
  EXPECT_EQ(sim_tdx.j["verdict"], "accepted");
  EXPECT_EQ(sim_tdx.j["platform"], "sim-tdx");
  EXPECT_EQ(sim_tdx.j["simulated"], true);
  EXPECT_EQ(sim_tdx.j["tcb_status"], "UpToDate");
  EXPECT_EQ(sim_tdx.j["report_data"].get<std::string>().substr(0, 4), "ab00");
  EXPECT_EQ(sim_tdx.j["measurements"]["mrtd"].get<std::string>().substr(0, 4), "1100");
  // The same quote as hex text.
  EXPECT_EQ(VerifyJson("--evidence " + Q(Write("sim.hex", HexEncode(*quote))) + trust + at).exit_code, 0);
  // Production trust: the development root is not Intel's.
  ExpectRejected("--evidence " + Q(quote_file) + " --collateral " + Q(pki_dir + "/tdx/collateral.json") + " " + at,
                 "chain_untrusted");
  // A debug simulated TD is still refused by the default policy, and the verdict still says simulated.
  tdx_spec.debug = true;
  auto debug_quote = attest::GenerateSimTdxQuote(*pki, tdx_spec);
  ASSERT_TRUE(debug_quote.ok());
  Run debug = VerifyJson("--evidence " + Q(Write("debug.quote", std::string(AsChars(*debug_quote)))) + trust + at);
  EXPECT_EQ(debug.exit_code, 1);
  EXPECT_EQ(debug.j["platform"], "sim-tdx");
  EXPECT_EQ(debug.j["simulated"], true);
  ASSERT_EQ(debug.j["reasons"].size(), 1u) << debug.j;
  EXPECT_EQ(debug.j["reasons"][0]["code"], "debug_enabled");
  // --trust-sim does not vouch for production evidence: T1 under the development roots is refused.
  Run real = VerifyJson("--evidence " + Q(kT1) + " --collateral " + Q(kT1Collateral) + trust + "--now " + kT1Now);
  EXPECT_EQ(real.exit_code, 1);
  EXPECT_EQ(real.j["simulated"], true);
  ASSERT_EQ(real.j["reasons"].size(), 1u) << real.j;
  EXPECT_EQ(real.j["reasons"][0]["code"], "chain_untrusted");

  attest::SimSnpReportSpec snp_spec;
  snp_spec.report_data[1] = 0xCD;
  snp_spec.vmpl = 2;
  auto report = attest::GenerateSimSnpReport(*pki, snp_spec);
  ASSERT_TRUE(report.ok()) << report.error().ToString();
  const std::string report_file = Write("sim.report", std::string(AsChars(*report)));
  Run sim_snp = VerifyJson("--evidence " + Q(report_file) + trust + at);
  EXPECT_EQ(sim_snp.exit_code, 0) << sim_snp.j;
  EXPECT_EQ(sim_snp.j["platform"], "sim-snp");
  EXPECT_EQ(sim_snp.j["simulated"], true);
  EXPECT_EQ(sim_snp.j["report_data"].get<std::string>().substr(0, 4), "00cd");
  // Production trust with the simulated VCEK and chain: the simulated ARK is not AMD's.
  ExpectRejected("--evidence " + Q(report_file) + " --vcek " + Q(pki_dir + "/snp/vcek.pem") + " --chain " +
                     Q(pki_dir + "/snp/cert_chain.pem") + " " + at,
                 "chain_untrusted");
  ExpectRejected("--evidence " + Q(report_file) + " --vcek " + Q(pki_dir + "/snp/vcek.pem") + " " + at,
                 "chain_untrusted");
  // Policy still applies under sim trust.
  Run vmpl = VerifyJson("--evidence " + Q(report_file) + trust + at + " --policy " +
                        Q(Write("vmpl.json", R"({"snp": {"max_vmpl": 1}})")));
  EXPECT_EQ(vmpl.exit_code, 1);
  EXPECT_EQ(vmpl.j["reasons"][0]["code"], "vmpl_not_allowed");

  // A directory that is not a development PKI is a usage error.
  ExpectUsage("verify --evidence " + Q(quote_file) + " --trust-sim " + Q(dir_ + "/nothing") + " --json", "--trust-sim");
}

TEST_F(AttestCliE2e, InvalidPolicyFileIsAUsageError) {
  const std::string unknown = Write("unknown.json", R"({"tdx": {"mrtdd": []}})");
  ExpectUsage(
      "verify --evidence " + Q(kT1) + " --collateral " + Q(kT1Collateral) + " --policy " + Q(unknown) + " --json",
      "tdx.mrtdd: unknown key");
  const std::string not_json = Write("bad.json", "{\"tdx\": ");
  ExpectUsage("verify --evidence " + Q(kT1) + " --policy " + Q(not_json) + " --json", "not JSON at byte");
  ExpectUsage("verify --evidence " + Q(kT1) + " --policy /nonexistent/p.json --json", "no such file");
}

TEST_F(AttestCliE2e, MalformedEvidenceIsRejectedWithAPreciseReason) {
  const std::string t1 = ReadFileOrDie(kT1);
  const std::string s1 = ReadFileOrDie(kS1);
  // Platform cannot be told.
  ExpectRejected("--evidence " + Q(Write("empty", "")) + " --now " + kT1Now, "truncated", "evidence header");
  ExpectRejected("--evidence " + Q(Write("short", "\x04\x00\x02")) + " --now " + kT1Now, "truncated");
  ExpectRejected("--evidence " + Q(Write("text", "hello, world, this is not evidence")) + " --now " + kT1Now,
                 "malformed", "neither a TDX quote header");
  ExpectRejected("--evidence " +
                     Q(Write("sgx", std::string("\x03\x00\x02\x00\x00\x00\x00\x00", 8) + std::string(600, '\0'))) +
                     " --now " + kT1Now,
                 "unsupported", "SGX quote");
  // A truncated TDX quote names what did not fit; platform is known.
  {
    Run r = VerifyJson("--evidence " + Q(Write("t1_cut", t1.substr(0, 700))) + " --collateral " + Q(kT1Collateral) +
                       " --now " + kT1Now);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.j["platform"], "tdx");
    ASSERT_EQ(r.j["reasons"].size(), 1u);
    EXPECT_EQ(r.j["reasons"][0]["code"], "truncated");
    EXPECT_TRUE(r.j["measurements"].empty()) << "nothing unverified is reported as a measurement";
  }
  // The same through hex text.
  ExpectRejected(
      "--evidence " + Q(Write("t1_cut.hex", HexEncode(AsBytes(t1.substr(0, 100))) + "\n")) + " --now " + kT1Now,
      "truncated");
  // TEE type other than TDX in a v4 header.
  {
    std::string sgx_tee = t1;
    sgx_tee[4] = 0x00;
    ExpectRejected(
        "--evidence " + Q(Write("t1_tee0", sgx_tee)) + " --collateral " + Q(kT1Collateral) + " --now " + kT1Now,
        "unsupported");
  }
  // SNP report one byte short / one byte long.
  ExpectRejected("--evidence " + Q(Write("s1_cut", s1.substr(0, s1.size() - 1))) + " --vcek " + Q(kS1Vcek) +
                     " --now 2023-01-01T00:00:00Z",
                 "truncated");
  ExpectRejected(
      "--evidence " + Q(Write("s1_long", s1 + "x")) + " --vcek " + Q(kS1Vcek) + " --now 2023-01-01T00:00:00Z",
      "trailing_data");
  // Over the evidence size cap: a property of the input, so a rejection.
  ExpectRejected("--evidence " + Q(Write("huge", std::string(1024 * 1024 + 1, '\x04'))) + " --now " + kT1Now,
                 "length_too_large", "at most 1048576");
}

TEST_F(AttestCliE2e, TamperedEvidenceAndCollateralAreRejected) {
  std::string t1 = ReadFileOrDie(kT1);
  auto q = attest::ParseTdxQuote(AsBytes(t1));
  ASSERT_TRUE(q.ok());
  // One byte of MRTD flipped: the quote signature fails.
  std::string flipped = t1;
  flipped[q->body_offset + attest::kTdMrTd] ^= 0x01;
  ExpectRejected(
      "--evidence " + Q(Write("t1_mrtd", flipped)) + " --collateral " + Q(kT1Collateral) + " --now " + kT1Now,
      "bad_signature");
  // One byte of the QE report: the PCK signature over it fails.
  std::string qe = t1;
  qe[q->qe_report_offset + 10] ^= 0x01;
  ExpectRejected("--evidence " + Q(Write("t1_qe", qe)) + " --collateral " + Q(kT1Collateral) + " --now " + kT1Now,
                 "qe_report_bad_signature");
  // Collateral that is not JSON / of another platform.
  ExpectRejected("--evidence " + Q(kT1) + " --collateral " + Q(Write("c.json", "{not json")) + " --now " + kT1Now,
                 "bad_encoding", "collateral");
  ExpectRejected("--evidence " + Q(kT1) + " --collateral " + Q(Att("tdx/dcapqvl_near_quote_collateral.json")) +
                     " --now 2025-09-10T00:00:00Z",  // inside T8's window
                 "collateral_mismatch", "FMSPC b0c06f000000");
  // Before the collateral was issued.
  ExpectRejected("--evidence " + Q(kT1) + " --collateral " + Q(kT1Collateral) + " --now 2020-01-01T00:00:00Z",
                 "collateral_not_yet_valid");
  // SNP: S1 with S3's VLEK, a flipped signed byte, the wrong product's chain, garbage certificate.
  const std::string s1 = ReadFileOrDie(kS1);
  ExpectRejected("--evidence " + Q(kS1) + " --vcek " + Q(kS3Vlek) + " --now " + kS3Now, "collateral_mismatch");
  std::string s1_flip = s1;
  s1_flip[attest::snp::kOffMeasurement] ^= 0x80;
  ExpectRejected("--evidence " + Q(Write("s1_flip", s1_flip)) + " --vcek " + Q(kS1Vcek) + " --now 2023-01-01T00:00:00Z",
                 "bad_signature");
  ExpectRejected("--evidence " + Q(kS1) + " --vcek " + Q(kS1Vcek) + " --chain " +
                     Q(Att("snp/gosev_ask_ark_genoa.pem")) + " --now 2023-01-01T00:00:00Z",
                 "chain_untrusted");
  ExpectRejected(
      "--evidence " + Q(kS1) + " --vcek " + Q(Write("vcek.der", "not a certificate")) + " --now 2023-01-01T00:00:00Z",
      "bad_encoding", "VCEK/VLEK certificate");
}

TEST_F(AttestCliE2e, PolicyFileDecidesTheVerdict) {
  const std::string t1_args = "--evidence " + Q(kT1) + " --collateral " + Q(kT1Collateral) + " --now " + kT1Now;
  Run base = VerifyJson(t1_args);
  ASSERT_EQ(base.exit_code, 0) << base.j;
  const json& m = base.j["measurements"];
  // Pinning every measurement and the report data of T1: still accepted.
  const json exact = {{"report_data", base.j["report_data"]},
                      {"tdx",
                       {{"mrtd", {m["mrtd"]}},
                        {"rtmr0", {m["rtmr0"]}},
                        {"rtmr1", {m["rtmr1"]}},
                        {"rtmr2", {m["rtmr2"]}},
                        {"rtmr3", {m["rtmr3"]}},
                        {"mrconfigid", {m["mrconfigid"]}}}}};
  Run pinned = VerifyJson(t1_args + " --policy " + Q(Write("exact.json", exact.dump())));
  EXPECT_EQ(pinned.exit_code, 0) << pinned.j;
  // Another MRTD and another report data: both mismatches listed at once.
  const json other = {{"report_data", std::string(128, '0')}, {"tdx", {{"mrtd", {std::string(96, 'a')}}}}};
  Run wrong = VerifyJson(t1_args + " --policy " + Q(Write("other.json", other.dump())));
  EXPECT_EQ(wrong.exit_code, 1);
  ASSERT_EQ(wrong.j["reasons"].size(), 2u) << wrong.j;
  EXPECT_EQ(wrong.j["reasons"][0]["code"], "measurement_mismatch");
  EXPECT_NE(wrong.j["reasons"][0]["message"].get<std::string>().find("mrtd: seen " + m["mrtd"].get<std::string>()),
            std::string::npos);
  EXPECT_EQ(wrong.j["reasons"][1]["code"], "report_data_mismatch");
  // T2 (TcbNotSupported) is accepted by a policy that accepts that status.
  const std::string t2_args = "--evidence " + Q(Att("tdx/dcapqvl_tdx_quote_outdated")) + " --collateral " +
                              Q(Att("tdx/dcapqvl_tdx_quote_outdated_collateral.json")) + " --now 2026-03-01T00:00:00Z";
  EXPECT_EQ(VerifyJson(t2_args).exit_code, 1);
  const std::string lax = Write("lax.json", R"({"tdx": {"accepted_tcb_statuses": ["UpToDate", "TcbNotSupported"]}})");
  Run t2 = VerifyJson(t2_args + " --policy " + Q(lax));
  EXPECT_EQ(t2.exit_code, 0) << t2.j;
  EXPECT_EQ(t2.j["tcb_status"], "TcbNotSupported");

  // SNP: S3 is VMPL 1.
  const std::string s3_args = "--evidence " + Q(kS3) + " --vcek " + Q(kS3Vlek) + " --now " + kS3Now;
  Run s3 = VerifyJson(s3_args);
  ASSERT_EQ(s3.exit_code, 0) << s3.j;
  Run vmpl0 = VerifyJson(s3_args + " --policy " + Q(Write("vmpl0.json", R"({"snp": {"max_vmpl": 0}})")));
  EXPECT_EQ(vmpl0.exit_code, 1);
  ASSERT_EQ(vmpl0.j["reasons"].size(), 1u);
  EXPECT_EQ(vmpl0.j["reasons"][0]["code"], "vmpl_not_allowed");
  const json snp_exact = {{"report_data", s3.j["report_data"]},
                          {"snp",
                           {{"measurement", {s3.j["measurements"]["measurement"]}},
                            {"host_data", {s3.j["measurements"]["host_data"]}},
                            {"required_vmpl", 1},
                            {"minimum_tcb", {{"snp", 0}}}}}};
  Run s3_exact = VerifyJson(s3_args + " --policy " + Q(Write("s3.json", snp_exact.dump())));
  EXPECT_EQ(s3_exact.exit_code, 0) << s3_exact.j;
  EXPECT_EQ(s3_exact.j["tcb_status"], "UpToDate");  // a minimum TCB was set and met
  const json snp_other = {{"snp", {{"measurement", {std::string(96, 'b')}}, {"minimum_tcb", {{"microcode", 255}}}}}};
  Run s3_other = VerifyJson(s3_args + " --policy " + Q(Write("s3o.json", snp_other.dump())));
  EXPECT_EQ(s3_other.exit_code, 1);
  ASSERT_EQ(s3_other.j["reasons"].size(), 2u) << s3_other.j;
  EXPECT_EQ(s3_other.j["reasons"][0]["code"], "measurement_not_approved");
  EXPECT_EQ(s3_other.j["reasons"][1]["code"], "tcb_below_minimum");
  EXPECT_EQ(s3_other.j["tcb_status"], "OutOfDate");
}

TEST_F(AttestCliE2e, TextOutputWithoutJson) {
  auto ok = Attest("verify --evidence " + Q(kT1) + " --collateral " + Q(kT1Collateral) + " --now " + kT1Now);
  EXPECT_EQ(ok.exit_code, 0);
  EXPECT_NE(ok.out.find("verdict: accepted\nplatform: tdx\ntcb_status: UpToDate\n"), std::string::npos) << ok.out;
  auto s1 = Attest("verify --evidence " + Q(kS1) + " --vcek " + Q(kS1Vcek) + " --now 2023-01-01T00:00:00Z");
  EXPECT_EQ(s1.exit_code, 1);
  EXPECT_NE(s1.out.find("reason: debug_enabled: "), std::string::npos) << s1.out;
}

TEST_F(AttestCliE2e, NowDefaultsToTheClock) {
  // T1's collateral expired in July 2025, so verifying it "now" is rejected for a date, not a usage error.
  Run r = VerifyJson("--evidence " + Q(kT1) + " --collateral " + Q(kT1Collateral));
  EXPECT_EQ(r.exit_code, 1);
  ASSERT_EQ(r.j["reasons"].size(), 1u) << r.j;
  const std::string code = r.j["reasons"][0]["code"];
  EXPECT_TRUE(code == "collateral_expired" || code == "crl_expired" || code == "cert_expired") << code;
}

std::set<std::string> Keys(const json& j) {
  std::set<std::string> out;
  for (const auto& [k, v] : j.items()) {
    (void)v;
    out.insert(k);
  }
  return out;
}

TEST_F(AttestCliE2e, InspectTdxPrintsEveryParsedField) {
  auto r = Attest("inspect " + Q(kT1) + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const json j = json::parse(r.out);
  auto q = attest::ParseTdxQuote(AsBytes(ReadFileOrDie(kT1)));
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(j["platform"], "tdx");
  EXPECT_EQ(j["encoding"], "binary");
  EXPECT_EQ(j["verified"], false);
  EXPECT_EQ(j["size"], 5006);
  const json& quote = j["quote"];
  EXPECT_EQ(Keys(quote), (std::set<std::string>{"header", "body", "signature", "attestation_key", "qe_report",
                                                "qe_report_signature", "qe_auth_data", "pck_chain", "offsets",
                                                "quote_size", "trailing_bytes", "trailing_all_zero"}));
  EXPECT_EQ(quote["header"]["version"], 4);
  EXPECT_EQ(quote["header"]["att_key_type"], 2);
  EXPECT_EQ(quote["header"]["tee_type"], 0x81);
  EXPECT_EQ(quote["header"]["qe_vendor_id"], HexEncode(q->qe_vendor_id));
  EXPECT_EQ(quote["header"]["user_data"], HexEncode(q->user_data));
  const json& body = quote["body"];
  EXPECT_EQ(Keys(body),
            (std::set<std::string>{"body_type", "tee_tcb_svn", "mr_seam", "mr_signer_seam", "seam_attributes",
                                   "td_attributes", "debug", "xfam", "mr_td", "mr_config_id", "mr_owner",
                                   "mr_owner_config", "rtmr0", "rtmr1", "rtmr2", "rtmr3", "report_data"}));
  EXPECT_EQ(body["tee_tcb_svn"], HexEncode(q->body.tee_tcb_svn));
  EXPECT_EQ(body["mr_signer_seam"], HexEncode(q->body.mr_signer_seam));
  EXPECT_EQ(body["xfam"], HexEncode(q->body.xfam));
  EXPECT_EQ(body["mr_td"], HexEncode(q->body.mr_td));
  EXPECT_EQ(body["rtmr2"], HexEncode(q->body.rtmr[2]));
  EXPECT_EQ(body["report_data"], HexEncode(q->body.report_data));
  EXPECT_EQ(body["debug"], false);
  EXPECT_EQ(quote["signature"], HexEncode(q->signature));
  EXPECT_EQ(quote["attestation_key"], HexEncode(q->attestation_key));
  EXPECT_EQ(Keys(quote["qe_report"]), (std::set<std::string>{"cpu_svn", "misc_select", "attributes", "mr_enclave",
                                                             "mr_signer", "isv_prod_id", "isv_svn", "report_data"}));
  EXPECT_EQ(quote["qe_report"]["mr_signer"], HexEncode(q->qe_report.mr_signer));
  EXPECT_EQ(quote["qe_report"]["isv_svn"], q->qe_report.isv_svn);
  EXPECT_EQ(quote["qe_report_signature"], HexEncode(q->qe_report_signature));
  EXPECT_EQ(quote["qe_auth_data"], HexEncode(q->qe_auth_data));
  const json& pck = quote["pck_chain"];
  ASSERT_EQ(pck["certificates"].size(), 3u);
  EXPECT_NE(pck["certificates"][2]["subject"].get<std::string>().find("Intel SGX Root CA"), std::string::npos);
  EXPECT_EQ(pck["extensions"]["fmspc"], "b0c06f000000");  // MANIFEST: "FMSPC B0C06F000000"
  EXPECT_EQ(pck["pem"], q->pck_chain_pem);
  EXPECT_EQ(quote["offsets"]["body"], q->body_offset);
  EXPECT_EQ(quote["offsets"]["qe_report"], q->qe_report_offset);
  // The sample file carries 70 zero bytes after the quote (zero padding, accepted by every verifier).
  EXPECT_EQ(quote["quote_size"], q->quote_size);
  EXPECT_EQ(quote["trailing_bytes"], q->trailing_bytes);
  EXPECT_EQ(quote["quote_size"].get<size_t>() + quote["trailing_bytes"].get<size_t>(), 5006u);
  EXPECT_EQ(quote["trailing_all_zero"], true);
}

TEST_F(AttestCliE2e, InspectReportsTrailingBytesAndHex) {
  // T4: 39 bytes of text after the quote, counted and flagged as non-zero; verify ignores them.
  auto t4 = Attest("inspect " + Q(Att("tdx/gotdx_tdx_prod_quote_SPR_E4.dat")) + " --json");
  ASSERT_EQ(t4.exit_code, 0);
  const json j4 = json::parse(t4.out);
  EXPECT_EQ(j4["quote"]["trailing_bytes"], 39);
  EXPECT_EQ(j4["quote"]["trailing_all_zero"], false);
  EXPECT_EQ(j4["quote"]["quote_size"].get<size_t>() + 39, j4["size"].get<size_t>());
  // T10: zero padding up to the configfs buffer size.
  auto t10 = Attest("inspect " + Q(Att("tdx/gotdx_ccel_cos-113-tdx-quote.dat")) + " --json");
  ASSERT_EQ(t10.exit_code, 0);
  const json j10 = json::parse(t10.out);
  EXPECT_EQ(j10["quote"]["trailing_all_zero"], true);
  EXPECT_GT(j10["quote"]["trailing_bytes"].get<size_t>(), 0u);
  // T2: v5 with a TDX 1.5 body carries the two extra fields.
  auto t2 = Attest("inspect " + Q(Att("tdx/dcapqvl_tdx_quote_outdated")) + " --json");
  ASSERT_EQ(t2.exit_code, 0);
  const json j2 = json::parse(t2.out);
  EXPECT_EQ(j2["quote"]["header"]["version"], 5);
  EXPECT_EQ(j2["quote"]["body"]["body_type"], 3);
  EXPECT_TRUE(j2["quote"]["body"].contains("tee_tcb_svn2"));
  EXPECT_TRUE(j2["quote"]["body"].contains("mr_service_td"));
  // T8: hex text.
  auto t8 = Attest("inspect " + Q(Att("tdx/dcapqvl_near_quote_hex.txt")) + " --json");
  ASSERT_EQ(t8.exit_code, 0);
  const json j8 = json::parse(t8.out);
  EXPECT_EQ(j8["encoding"], "hex");
  EXPECT_EQ(j8["size"], 5006);
  // Without --json: indented JSON, same content.
  auto pretty = Attest("inspect " + Q(kT1));
  ASSERT_EQ(pretty.exit_code, 0);
  EXPECT_EQ(json::parse(pretty.out), json::parse(Attest("inspect " + Q(kT1) + " --json").out));
  EXPECT_NE(pretty.out.find("\n  \"platform\": \"tdx\""), std::string::npos);
}

TEST_F(AttestCliE2e, InspectSnpPrintsEveryParsedField) {
  auto s1 = Attest("inspect " + Q(kS1) + " --json");
  ASSERT_EQ(s1.exit_code, 0) << s1.out;
  const json j = json::parse(s1.out);
  auto r = attest::snp::ParseSnpReport(AsBytes(ReadFileOrDie(kS1)));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(j["platform"], "snp");
  const json& rep = j["report"];
  EXPECT_EQ(Keys(rep), (std::set<std::string>{
                           "version",     "guest_svn",      "policy",          "family_id",         "image_id",
                           "vmpl",        "signature_algo", "current_tcb",     "platform_info",     "key_info",
                           "report_data", "measurement",    "host_data",       "id_key_digest",     "author_key_digest",
                           "report_id",   "report_id_ma",   "reported_tcb",    "product",           "tcb_layout",
                           "chip_id",     "committed_tcb",  "current_version", "committed_version", "launch_tcb",
                           "signature_r", "signature_s"}))
      << "S1 is a v2 report: no CPUID, no mitigation vectors";
  EXPECT_EQ(rep["version"], 2);
  EXPECT_EQ(rep["policy"]["debug"], true);
  EXPECT_EQ(rep["policy"]["raw"], "00000000000b0000");
  EXPECT_EQ(rep["measurement"], HexEncode(r->measurement));
  EXPECT_EQ(rep["chip_id"], HexEncode(r->chip_id));
  EXPECT_EQ(rep["report_id"], HexEncode(r->report_id));
  EXPECT_EQ(rep["signature_r"], HexEncode(r->signature_r));
  EXPECT_EQ(rep["reported_tcb"]["microcode"], r->reported_tcb.microcode);
  EXPECT_EQ(rep["reported_tcb"]["snp"], r->reported_tcb.snp);
  EXPECT_EQ(rep["key_info"]["signing_key"], "VCEK");

  auto s3 = Attest("inspect " + Q(kS3) + " --json");
  ASSERT_EQ(s3.exit_code, 0);
  const json j3 = json::parse(s3.out);
  EXPECT_EQ(j3["report"]["version"], 3);
  EXPECT_EQ(j3["report"]["vmpl"], 1);
  EXPECT_EQ(j3["report"]["key_info"]["signing_key"], "VLEK");
  EXPECT_TRUE(j3["report"].contains("cpuid_family"));
  EXPECT_EQ(j3["report"]["product"], "Milan");
}

TEST_F(AttestCliE2e, InspectMalformedEvidenceExits1WithTheError) {
  auto r = Attest("inspect " + Q(Write("cut", ReadFileOrDie(kT1).substr(0, 200))) + " --json");
  EXPECT_EQ(r.exit_code, 1);
  const json j = json::parse(r.out);
  EXPECT_EQ(j["platform"], "tdx");
  EXPECT_EQ(j["error"]["code"], "truncated");
  auto junk = Attest("inspect " + Q(Write("junk", "definitely not evidence")) + " --json");
  EXPECT_EQ(junk.exit_code, 1);
  EXPECT_EQ(json::parse(junk.out)["error"]["code"], "malformed");
}

}  // namespace
}  // namespace cmln
