// Known answers through the real binary: every TDX and SNP case of tests/data/attestation/MANIFEST.json
// reaches its stated verdict under `cmln attest verify --json` with --now at the start, middle and last
// second of its window, with the exit code of the verdict (0 accepted, 1 rejected), and every field of the
// JSON verdict is checked against the evidence as the library parses it. One second past the window the
// same evidence is rejected for a date. Also: the trust anchors compiled into cmln are exactly the vendor
// files the MANIFEST names.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "attest/pinned_roots.h"
#include "attest/snp_report.h"
#include "attest/tdx_quote.h"
#include "attest/x509.h"
#include "testing/test_util.h"

namespace cmln {
namespace {

using nlohmann::json;
using testing::DataPath;
using testing::ReadFileOrDie;

std::string Binary() { return std::string(CMLN_BINARY_DIR) + "/cmln"; }
std::string Att(const std::string& rel) { return DataPath("attestation/" + rel); }

int64_t Unix(const std::string& rfc3339) {
  auto t = attest::ParseRfc3339Utc(rfc3339);
  EXPECT_TRUE(t.ok()) << rfc3339;
  return t.ok() ? *t : 0;
}

std::string Rfc3339(int64_t unix_seconds) {
  const time_t t = static_cast<time_t>(unix_seconds);
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[32];
  strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

struct CliVerdict {
  int exit_code = -1;
  json j;
};

CliVerdict Verify(const std::string& args) {
  auto r = testing::RunProcess("'" + Binary() + "' attest verify " + args + " --json 2>/dev/null");
  CliVerdict v{r.exit_code, json::parse(r.out, nullptr, false)};
  EXPECT_FALSE(v.j.is_discarded()) << "not one JSON object: " << r.out;
  return v;
}

bool IsLowerHex(const std::string& s, size_t bytes) {
  if (s.size() != 2 * bytes) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// The shape every verdict has (verdict.h), whatever it says.
void ExpectVerdictShape(const json& j) {
  ASSERT_TRUE(j.is_object());
  const std::set<std::string> want = {"verdict",      "platform",     "simulated",   "tcb_status",
                                      "advisory_ids", "measurements", "report_data", "reasons"};
  std::set<std::string> got;
  for (const auto& [k, v] : j.items()) {
    (void)v;
    got.insert(k);
  }
  EXPECT_EQ(got, want);
  EXPECT_TRUE(j["verdict"] == "accepted" || j["verdict"] == "rejected") << j["verdict"];
  EXPECT_TRUE(j["simulated"].is_boolean());
  EXPECT_TRUE(j["tcb_status"].is_string());
  EXPECT_TRUE(j["advisory_ids"].is_array());
  EXPECT_TRUE(j["measurements"].is_object());
  EXPECT_TRUE(j["report_data"].is_string());
  ASSERT_TRUE(j["reasons"].is_array());
  for (const auto& r : j["reasons"]) {
    EXPECT_TRUE(r["code"].is_string() && !r["code"].get<std::string>().empty()) << r;
    EXPECT_TRUE(r["message"].is_string() && !r["message"].get<std::string>().empty()) << r;
  }
  // The exit code and the verdict agree, and an accepted verdict has no reason.
  if (j["verdict"] == "accepted") {
    EXPECT_TRUE(j["reasons"].empty());
  } else {
    EXPECT_FALSE(j["reasons"].empty());
  }
}

std::vector<std::string> Codes(const json& j) {
  std::vector<std::string> out;
  for (const auto& r : j["reasons"]) out.push_back(r["code"]);
  return out;
}

// Measurements and report data of the verdict equal the quote's own fields.
void ExpectTdxFieldsMatch(const json& j, const Bytes& quote_bytes) {
  auto q = attest::ParseTdxQuote(quote_bytes);
  ASSERT_TRUE(q.ok()) << q.error().ToString();
  const auto& b = q->body;
  const json& m = j["measurements"];
  EXPECT_EQ(m.size(), 9u) << m;
  EXPECT_EQ(m["mrtd"], HexEncode(b.mr_td));
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(m["rtmr" + std::to_string(i)], HexEncode(b.rtmr[i]));
  EXPECT_EQ(m["mrconfigid"], HexEncode(b.mr_config_id));
  EXPECT_EQ(m["mrowner"], HexEncode(b.mr_owner));
  EXPECT_EQ(m["mrownerconfig"], HexEncode(b.mr_owner_config));
  EXPECT_EQ(m["mrseam"], HexEncode(b.mr_seam));
  EXPECT_EQ(j["report_data"], HexEncode(b.report_data));
  for (const auto& [k, v] : m.items()) EXPECT_TRUE(IsLowerHex(v, 48)) << k;
}

void ExpectSnpFieldsMatch(const json& j, const Bytes& report_bytes) {
  auto r = attest::snp::ParseSnpReport(report_bytes);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  const json& m = j["measurements"];
  EXPECT_EQ(m.size(), 2u) << m;
  EXPECT_EQ(m["measurement"], HexEncode(r->measurement));
  EXPECT_EQ(m["host_data"], HexEncode(r->host_data));
  EXPECT_EQ(j["report_data"], HexEncode(r->report_data));
  EXPECT_TRUE(IsLowerHex(j["report_data"], 64));
}

Bytes QuoteBytes(const json& c) {
  if (c.contains("quote_hex")) return testing::Hex(ReadFileOrDie(Att(c["quote_hex"])));
  return ToBytes(ReadFileOrDie(Att(c["quote"])));
}

bool IsDateCode(const std::string& code) {
  return code == "crl_expired" || code == "collateral_expired" || code == "cert_expired";
}

class AttestCliVectors : public ::testing::Test {
 protected:
  void SetUp() override { manifest_ = testing::ReadJsonOrDie(Att("MANIFEST.json")); }
  json manifest_;
};

// The accepted TCB statuses of the default policy (no --policy).
bool DefaultAccepts(const std::string& status) { return status == "UpToDate" || status == "SWHardeningNeeded"; }

TEST_F(AttestCliVectors, EveryTdxCaseReachesItsVerdict) {
  std::set<std::string> seen;
  for (const auto& c : manifest_["tdx"]) {
    const std::string id = c["id"];
    SCOPED_TRACE(id);
    seen.insert(id);
    if (id == "SGX1") {
      // Optional SGX v3 quote: not copied into tests/data (we verify TDX only); the CLI's refusal of an SGX
      // header is tested in attest_cli_e2e_test.cc.
      continue;
    }
    const std::string evidence = "--evidence '" + Att(c.contains("quote_hex") ? c["quote_hex"] : c["quote"]) + "'";
    const Bytes quote = QuoteBytes(c);
    if (!c.contains("collateral")) {
      // T10: no collateral. Signatures verify (no cryptographic reason), the TCB is not evaluated, so the
      // default policy rejects with exactly these two reasons.
      ASSERT_EQ(id, "T10");
      auto q = attest::ParseTdxQuote(quote);
      ASSERT_TRUE(q.ok());
      auto chain = attest::ParsePemChain(q->pck_chain_pem);
      ASSERT_TRUE(chain.ok());
      const int64_t now = (*chain)[0].NotBefore() + 86400;
      auto v = Verify(evidence + " --now " + Rfc3339(now));
      ExpectVerdictShape(v.j);
      EXPECT_EQ(v.exit_code, 1);
      EXPECT_EQ(v.j["verdict"], "rejected");
      EXPECT_EQ(v.j["platform"], "tdx");
      EXPECT_EQ(v.j["simulated"], false);
      EXPECT_EQ(v.j["tcb_status"], "Unknown");
      EXPECT_EQ(Codes(v.j), (std::vector<std::string>{"tcb_status_not_accepted", "collateral_missing"}));
      ExpectTdxFieldsMatch(v.j, quote);
      // The manifest's report data file is the quote's REPORTDATA.
      EXPECT_EQ(v.j["report_data"], HexEncode(AsBytes(ReadFileOrDie(Att(c["report_data"])))));
      continue;
    }
    const std::string status = c["expect"];
    const std::string args = evidence + " --collateral '" + Att(c["collateral"]) + "'";
    const int64_t start = Unix(c["now_window"][0]);
    const int64_t end = Unix(c["now_window"][1]);
    for (const int64_t now : {start, (start + end) / 2, end - 1}) {
      SCOPED_TRACE(Rfc3339(now));
      auto v = Verify(args + " --now " + Rfc3339(now));
      ExpectVerdictShape(v.j);
      EXPECT_EQ(v.j["platform"], "tdx");
      EXPECT_EQ(v.j["simulated"], false);
      EXPECT_EQ(v.j["tcb_status"], status);
      if (c.contains("advisories")) {
        EXPECT_EQ(v.j["advisory_ids"], c["advisories"]);
      }
      ExpectTdxFieldsMatch(v.j, quote);
      if (DefaultAccepts(status)) {
        EXPECT_EQ(v.exit_code, 0);
        EXPECT_EQ(v.j["verdict"], "accepted");
        EXPECT_TRUE(v.j["reasons"].empty());
      } else {
        // T2, T4: every signature valid, but the default policy does not accept the status.
        EXPECT_EQ(v.exit_code, 1);
        EXPECT_EQ(v.j["verdict"], "rejected");
        EXPECT_EQ(Codes(v.j), std::vector<std::string>{"tcb_status_not_accepted"});
        EXPECT_NE(v.j["reasons"][0]["message"].get<std::string>().find("seen " + status), std::string::npos);
      }
    }
    // At the window end the evidence is stale: rejected for a date, nothing else.
    auto late = Verify(args + " --now " + Rfc3339(end));
    ExpectVerdictShape(late.j);
    EXPECT_EQ(late.exit_code, 1);
    ASSERT_EQ(late.j["reasons"].size(), 1u) << late.j;
    EXPECT_TRUE(IsDateCode(late.j["reasons"][0]["code"])) << late.j;
  }
  EXPECT_EQ(seen, (std::set<std::string>{"T1", "T2", "T4", "T8", "T10", "SGX1"}))
      << "a MANIFEST case was added or removed: give it its expectation here";
}

TEST_F(AttestCliVectors, EverySnpCaseReachesItsVerdict) {
  // The manifest states these verdicts in prose; spelled out here (default policy: debug forbidden).
  struct Expect {
    bool accepted;
    std::vector<std::string> codes;
  };
  const std::map<std::string, Expect> expect = {
      {"S1", {false, {"debug_enabled"}}},  // signature and chain valid; DEBUG set
      {"S3", {true, {}}},                  // VLEK, v3, VMPL 1: valid
  };
  std::set<std::string> seen;
  for (const auto& c : manifest_["snp"]) {
    const std::string id = c["id"];
    SCOPED_TRACE(id);
    seen.insert(id);
    ASSERT_EQ(expect.count(id), 1u) << "no expectation for MANIFEST case " << id;
    const Expect& e = expect.at(id);
    const std::string cert = c.contains("vcek") ? c["vcek"] : c["vlek"];
    const Bytes report = ToBytes(ReadFileOrDie(Att(c["report"])));
    const std::string base = "--evidence '" + Att(c["report"]) + "' --vcek '" + Att(cert) + "'";
    const int64_t start = Unix(c["now_window"][0]);
    const int64_t end = Unix(c["now_window"][1]);
    // With the manifest's chain file, and with no --chain (cmln's built-in ASK/ASVK for the product).
    for (const std::string& chain : {" --chain '" + Att(c["chain"]) + "'", std::string()}) {
      // The window's end is the certificate's notAfter, which OpenSSL counts as expired (docs/attestation-snp.md).
      for (const int64_t now : {start, (start + end) / 2, end - 1}) {
        SCOPED_TRACE(Rfc3339(now) + chain);
        auto v = Verify(base + chain + " --now " + Rfc3339(now));
        ExpectVerdictShape(v.j);
        EXPECT_EQ(v.exit_code, e.accepted ? 0 : 1);
        EXPECT_EQ(v.j["verdict"], e.accepted ? "accepted" : "rejected");
        EXPECT_EQ(v.j["platform"], "snp");
        EXPECT_EQ(v.j["simulated"], false);
        EXPECT_EQ(v.j["tcb_status"], "Unknown");  // the default policy sets no minimum TCB
        EXPECT_TRUE(v.j["advisory_ids"].empty());
        EXPECT_EQ(Codes(v.j), e.codes);
        ExpectSnpFieldsMatch(v.j, report);
      }
      auto late = Verify(base + chain + " --now " + Rfc3339(end));
      EXPECT_EQ(late.exit_code, 1);
      EXPECT_EQ(Codes(late.j), std::vector<std::string>{"cert_expired"}) << late.j;
    }
  }
  EXPECT_EQ(seen, (std::set<std::string>{"S1", "S3"}));
}

TEST_F(AttestCliVectors, S1DebugIsTheOnlyObjection) {
  // With debug allowed by a policy file, S1 is accepted: the signature, chain and TCB checks all pass.
  const json& c = manifest_["snp"][0];
  ASSERT_EQ(c["id"], "S1");
  const std::string policy = ::testing::TempDir() + "/attest_cli_vectors_allow_debug.json";
  {
    FILE* f = fopen(policy.c_str(), "w");
    ASSERT_NE(f, nullptr);
    fputs("{\"allow_debug_for_testing\": true}", f);
    fclose(f);
  }
  auto v = Verify("--evidence '" + Att(c["report"]) + "' --vcek '" + Att(c["vcek"]) + "' --chain '" + Att(c["chain"]) +
                  "' --now " + c["now_window"][0].get<std::string>() + " --policy '" + policy + "'");
  EXPECT_EQ(v.exit_code, 0) << v.j;
  EXPECT_EQ(v.j["verdict"], "accepted");
}

// The anchors compiled into cmln (attest/pinned_roots.h) are exactly the vendor certificates the MANIFEST
// names as trust anchors.
TEST_F(AttestCliVectors, PinnedRootsAreTheManifestAnchors) {
  const json& anchors = manifest_["trust_anchors"];
  auto intel = attest::PinnedIntelRoots();
  ASSERT_TRUE(intel.ok());
  ASSERT_EQ(intel->size(), 1u);
  const std::string der_path = anchors["intel_sgx_root_ca"][0];
  EXPECT_EQ((*intel)[0].Der(), ToBytes(ReadFileOrDie(Att(der_path))));

  auto arks = attest::PinnedAmdArks();
  ASSERT_TRUE(arks.ok());
  const std::map<std::string, attest::snp::SnpProduct> products = {{"milan", attest::snp::SnpProduct::kMilan},
                                                                   {"genoa", attest::snp::SnpProduct::kGenoa},
                                                                   {"turin", attest::snp::SnpProduct::kTurin}};
  for (const auto& [name, product] : products) {
    SCOPED_TRACE(name);
    auto file_chain = attest::ParsePemChain(ReadFileOrDie(Att(anchors["amd_ark_ask"][name])));
    ASSERT_TRUE(file_chain.ok());
    ASSERT_EQ(file_chain->size(), 2u);
    ASSERT_EQ(arks->arks.count(product), 1u);
    EXPECT_EQ(arks->arks.at(product).Der(), (*file_chain)[1].Der()) << "ARK";
    auto built_in = attest::ParsePemChain(attest::AmdKdsChainPem(product, attest::snp::SigningKey::kVcek));
    ASSERT_TRUE(built_in.ok());
    ASSERT_EQ(built_in->size(), 2u);
    EXPECT_EQ((*built_in)[0].Der(), (*file_chain)[0].Der()) << "ASK";
    EXPECT_EQ((*built_in)[1].Der(), (*file_chain)[1].Der());
    // The VLEK chain files (Turin's is not copied into tests/data) share the ARK and carry the ASVK.
    const std::string vlek_key = name + "_vlek";
    const std::string vlek_path = Att(anchors["amd_ark_ask"][vlek_key]);
    if (FILE* f = fopen(vlek_path.c_str(), "rb")) {
      fclose(f);
      auto vlek_chain = attest::ParsePemChain(ReadFileOrDie(vlek_path));
      ASSERT_TRUE(vlek_chain.ok());
      auto built_vlek = attest::ParsePemChain(attest::AmdKdsChainPem(product, attest::snp::SigningKey::kVlek));
      ASSERT_TRUE(built_vlek.ok());
      ASSERT_EQ(built_vlek->size(), 2u);
      EXPECT_EQ((*built_vlek)[0].Der(), (*vlek_chain)[0].Der()) << "ASVK";
      EXPECT_EQ((*built_vlek)[1].Der(), (*vlek_chain)[1].Der());
    }
  }
  EXPECT_TRUE(attest::AmdArkPem(attest::snp::SnpProduct::kUnknown).empty());
  EXPECT_TRUE(attest::AmdKdsChainPem(attest::snp::SnpProduct::kUnknown, attest::snp::SigningKey::kVcek).empty());
}

}  // namespace
}  // namespace cmln
