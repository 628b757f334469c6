// InitHome (`cmln chain init`): a simulated-TEE devnet genesis carries the development PKI's roots and
// collateral that the real verifier accepts, the PKI is saved private under HOME/sim-pki or reused from
// --sim-pki, and a production genesis carries neither.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "attest/sim_pki.h"
#include "attest/x509_builder.h"
#include "chain/app.h"
#include "chain/attestation_verifier.h"
#include "chain/genesis.h"
#include "chain/node.h"

namespace cmln::chain {
namespace {

namespace fs = std::filesystem;
constexpr int64_t kGenesisTime = 1767225600;  // 2026-01-01
constexpr int64_t kValidity = 30 * 86400;

nlohmann::json ReadGenesis(const std::string& home) {
  return nlohmann::json::parse(std::ifstream(home + "/config/genesis.json"));
}

std::string FreshHome(const std::string& name) {
  std::string home = ::testing::TempDir() + "/chain_init_" + name;
  fs::remove_all(home);
  return home;
}

InitOptions SimOptions() {
  InitOptions o;
  o.allow_simulated_tee = true;
  o.genesis_time = kGenesisTime;
  o.sim_pki_rsa_bits = 2048;  // AMD's size (4096) is exercised by the e2e test through the CLI
  o.sim_collateral_validity = kValidity;
  return o;
}

TEST(ChainInit, SimulatedGenesisTrustsTheSavedPkiAndItsCollateral) {
  const std::string home = FreshHome("sim");
  Status st = InitHome(home, SimOptions());
  ASSERT_TRUE(st.ok()) << st.error().ToString();
  EXPECT_EQ(fs::status(home + "/sim-pki").permissions() & fs::perms::all, fs::perms::owner_all);
  EXPECT_EQ(fs::status(home + "/sim-pki/snp/ark.key").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  auto pki = attest::LoadSimPki(home + "/sim-pki");
  ASSERT_TRUE(pki.ok()) << pki.error().ToString();

  auto g = ReadGenesis(home);
  EXPECT_EQ(g["params"]["allow_simulated_tee"], true);
  EXPECT_EQ(g["tee_trust"]["sim"]["tdx_roots_pem"], attest::CertificatePem(pki->intel_root));
  EXPECT_EQ(g["tee_trust"]["sim"]["snp_arks_pem"]["Milan"], attest::CertificatePem(pki->ark));
  ASSERT_EQ(g["collateral"].size(), 2u);
  const auto& tdx = g["collateral"][0];
  EXPECT_EQ(tdx["platform"], "sim-tdx");
  EXPECT_EQ(tdx["kind"], "tdx_collateral_v3");
  EXPECT_EQ(tdx["id"], "C0DE51000000");
  EXPECT_EQ(tdx["issue_time"], kGenesisTime - 86400);
  EXPECT_EQ(tdx["next_update"], kGenesisTime + kValidity);
  const auto& snp = g["collateral"][1];
  EXPECT_EQ(snp["platform"], "sim-snp");
  EXPECT_EQ(snp["kind"], "snp_chain");
  EXPECT_EQ(snp["id"], "Milan");

  // The real verifier accepts both records under the genesis trust until next_update, not after.
  TrustSettings trust{true, g["tee_trust"].dump()};
  AttestLibraryVerifier verifier;
  for (const auto& c : g["collateral"]) {
    Bytes doc = *Base64Decode(c["collateral_base64"].get<std::string>());
    auto v = verifier.VerifyCollateral(c["platform"].get<std::string>(), doc, trust, kGenesisTime + kValidity - 1);
    EXPECT_TRUE(v.ok()) << c["platform"] << ": " << v.error().ToString();
  }
  Bytes tdx_doc = *Base64Decode(tdx["collateral_base64"].get<std::string>());
  auto late = verifier.VerifyCollateral("sim-tdx", tdx_doc, trust, kGenesisTime + kValidity + 1);
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code(), ErrorCode::kCollateralExpired);

  // And the chain starts from it.
  auto app = App::Open(":memory:", &verifier);
  ASSERT_TRUE(app.ok());
  auto parsed = ParseGenesis(ReadGenesis(home).dump());
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE((*app)->InitChain(*parsed).ok());
  EXPECT_EQ((*(*app)->Query("collateral")).size(), 2u);
}

TEST(ChainInit, ReusedPkiIsNotCopiedAndGivesTheSameRoots) {
  const std::string first = FreshHome("reuse_a"), second = FreshHome("reuse_b");
  ASSERT_TRUE(InitHome(first, SimOptions()).ok());
  InitOptions o = SimOptions();
  o.sim_pki_dir = first + "/sim-pki";
  o.chain_id = "cmln-devnet-2";
  Status st = InitHome(second, o);
  ASSERT_TRUE(st.ok()) << st.error().ToString();
  EXPECT_FALSE(fs::exists(second + "/sim-pki"));
  EXPECT_EQ(ReadGenesis(first)["tee_trust"], ReadGenesis(second)["tee_trust"]);
}

TEST(ChainInit, ProductionGenesisHasNoSimulatedTrust) {
  const std::string home = FreshHome("prod");
  InitOptions o;
  o.genesis_time = kGenesisTime;
  ASSERT_TRUE(InitHome(home, o).ok());
  auto g = ReadGenesis(home);
  EXPECT_EQ(g["params"]["allow_simulated_tee"], false);
  EXPECT_EQ(g["tee_trust"], nlohmann::json::object());
  EXPECT_EQ(g["collateral"].size(), 0u);
  EXPECT_FALSE(fs::exists(home + "/sim-pki"));
}

TEST(ChainInit, RefusedOptions) {
  InitOptions o;
  o.sim_pki_dir = "/nonexistent";
  Status st = InitHome(FreshHome("bad_pki"), o);  // a PKI without allow_simulated_tee
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), ErrorCode::kInvalidArgument);

  InitOptions sim = SimOptions();
  sim.sim_pki_dir = FreshHome("missing_pki");
  st = InitHome(FreshHome("missing"), sim);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), ErrorCode::kNotFound);

  for (const char* name : {"../evil", "", "Alice", "host"}) {
    InitOptions k;
    k.hosts = {"host", name};
    st = InitHome(FreshHome("bad_name"), k);
    ASSERT_FALSE(st.ok()) << name;
    EXPECT_EQ(st.error().code(), ErrorCode::kInvalidArgument) << name;
  }

  const std::string home = FreshHome("twice");
  ASSERT_TRUE(InitHome(home, InitOptions{}).ok());
  st = InitHome(home, InitOptions{});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), ErrorCode::kAlreadyExists);
}

}  // namespace
}  // namespace cmln::chain
