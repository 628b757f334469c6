// Known answers for NVIDIA GPU evidence through the real binary: MANIFEST case N1 under
// `cmln attest verify --gpu-evidence … --gpu-chain … --gpu-nonce … --json` is accepted with its nonce and
// rejected with binding_mismatch under any other; the three Nneg chains are rejected with their distinct
// codes; a GPU rejection rejects the overall verdict also when CPU evidence is given and accepted on its own.
// GPU-only verification (no --evidence) is supported: the top-level verdict is then the GPUs'.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "testing/test_util.h"

namespace cmln {
namespace {

using nlohmann::json;

constexpr char kN1Nonce[] = "931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb";
constexpr char kNow[] = "2025-02-19T00:00:00Z";

std::string Binary() { return std::string(CMLN_BINARY_DIR) + "/cmln"; }
std::string Nv(const std::string& name) { return "'" + testing::DataPath("attestation/nvidia/" + name) + "'"; }

struct CliVerdict {
  int exit_code = -1;
  json j;
};

CliVerdict Verify(const std::string& args, const std::string& now = kNow) {
  auto r = testing::RunProcess("'" + Binary() + "' attest verify " + args + " --now " + now + " --json 2>/dev/null");
  CliVerdict v{r.exit_code, json::parse(r.out, nullptr, false)};
  EXPECT_FALSE(v.j.is_discarded()) << "not one JSON object: " << r.out;
  return v;
}

std::string N1Args(const std::string& chain, const std::string& nonce) {
  return "--gpu-evidence " + Nv("nvtrust_hopperAttestationReport.txt") + " --gpu-chain " + Nv(chain) + " --gpu-nonce " +
         nonce;
}

const json& OnlyGpu(const CliVerdict& v) {
  static const json kNull;
  EXPECT_TRUE(v.j.contains("gpu") && v.j.at("gpu").is_array() && v.j.at("gpu").size() == 1) << v.j.dump();
  return v.j.contains("gpu") && v.j.at("gpu").size() == 1 ? v.j.at("gpu")[0] : kNull;
}

TEST(AttestGpuCliVectors, N1_AcceptedWithItsNonce) {
  const CliVerdict v = Verify(N1Args("nvtrust_hopperCertChain.txt", kN1Nonce));
  EXPECT_EQ(v.exit_code, 0) << v.j.dump();
  EXPECT_EQ(v.j.at("verdict"), "accepted");
  EXPECT_EQ(v.j.at("platform"), "nvidia-cc");
  EXPECT_EQ(v.j.at("simulated"), false);
  EXPECT_TRUE(v.j.at("reasons").empty());
  const json& g = OnlyGpu(v);
  EXPECT_EQ(g.at("verdict"), "accepted");
  EXPECT_EQ(g.at("platform"), "nvidia-cc");
  EXPECT_EQ(g.at("arch"), "HOPPER");
  EXPECT_EQ(g.at("driver_version"), "550.90.07");
  EXPECT_EQ(g.at("vbios_version"), "96.00.9F.00.01");
  EXPECT_EQ(g.at("report_data"), kN1Nonce);
  EXPECT_EQ(g.at("revocation"), "not_checked");
  EXPECT_EQ(g.at("rim_checked"), false);
  EXPECT_EQ(g.at("measurements").at("fwid").get<std::string>().size(), 96u);
  EXPECT_EQ(g.at("measurements").size(), 65u);  // fwid + 64 SPDM blocks
}

TEST(AttestGpuCliVectors, N1_RejectedWithAnyOtherNonce) {
  std::string other = kN1Nonce;
  for (size_t i : {size_t{0}, size_t{31}, size_t{63}}) {
    std::string n = other;
    n[i] = n[i] == '0' ? '1' : '0';
    const CliVerdict v = Verify(N1Args("nvtrust_hopperCertChain.txt", n));
    EXPECT_EQ(v.exit_code, 1) << i;
    EXPECT_EQ(v.j.at("verdict"), "rejected");
    ASSERT_EQ(v.j.at("reasons").size(), 1u);
    EXPECT_EQ(v.j.at("reasons")[0].at("code"), "gpu_rejected");
    const json& g = OnlyGpu(v);
    EXPECT_EQ(g.at("verdict"), "rejected");
    ASSERT_EQ(g.at("reasons").size(), 1u);
    EXPECT_EQ(g.at("reasons")[0].at("code"), "binding_mismatch") << g.dump();
  }
}

TEST(AttestGpuCliVectors, Nneg_ChainsRejectedWithTheirCodes) {
  const std::pair<const char*, const char*> cases[] = {
      {"trustee_nvidia_hopper_cert_chain_case2.txt", "malformed"},        // root only
      {"trustee_nvidia_hopper_cert_chain_case3.txt", "chain_untrusted"},  // missing intermediate
      {"trustee_nvidia_hopper_cert_chain_case4.txt", "not_found"},        // missing leaf
  };
  for (const auto& [chain, code] : cases) {
    const CliVerdict v = Verify(N1Args(chain, kN1Nonce));
    EXPECT_EQ(v.exit_code, 1) << chain;
    EXPECT_EQ(v.j.at("verdict"), "rejected") << chain;
    const json& g = OnlyGpu(v);
    ASSERT_EQ(g.at("reasons").size(), 1u) << chain;
    EXPECT_EQ(g.at("reasons")[0].at("code"), code) << chain << ": " << g.dump();
  }
}

TEST(AttestGpuCliVectors, GpuRejectionRejectsAcceptedCpuEvidence) {
  // MANIFEST T1 (TDX, UpToDate) inside its window; N1's device chain is valid then too (notAfter 9999).
  const std::string now = "2025-07-01T00:00:00Z";
  const std::string base = "--evidence '" + testing::DataPath("attestation/tdx/dcapqvl_tdx_quote") +
                           "' --collateral '" + testing::DataPath("attestation/tdx/dcapqvl_tdx_quote_collateral.json") +
                           "'";
  const CliVerdict cpu_only = Verify(base, now);
  ASSERT_EQ(cpu_only.j.at("verdict"), "accepted") << cpu_only.j.dump();
  EXPECT_FALSE(cpu_only.j.contains("gpu"));
  const CliVerdict both_ok = Verify(base + " " + N1Args("nvtrust_hopperCertChain.txt", kN1Nonce), now);
  EXPECT_EQ(both_ok.exit_code, 0) << both_ok.j.dump();
  EXPECT_EQ(both_ok.j.at("verdict"), "accepted");
  EXPECT_EQ(both_ok.j.at("platform"), "tdx");
  EXPECT_EQ(OnlyGpu(both_ok).at("verdict"), "accepted");
  std::string wrong = kN1Nonce;
  wrong[0] = '0';
  const CliVerdict gpu_bad = Verify(base + " " + N1Args("nvtrust_hopperCertChain.txt", wrong), now);
  EXPECT_EQ(gpu_bad.exit_code, 1);
  EXPECT_EQ(gpu_bad.j.at("verdict"), "rejected");
  EXPECT_EQ(gpu_bad.j.at("platform"), "tdx");
  ASSERT_FALSE(gpu_bad.j.at("reasons").empty());
  EXPECT_EQ(gpu_bad.j.at("reasons").back().at("code"), "gpu_rejected");
  EXPECT_EQ(OnlyGpu(gpu_bad).at("reasons")[0].at("code"), "binding_mismatch");
}

TEST(AttestGpuCliVectors, UsageErrors) {
  const std::string bin = "'" + Binary() + "' attest verify ";
  // Neither --evidence nor --gpu-evidence; --gpu-evidence without --gpu-nonce; a short nonce; GPU flags alone.
  EXPECT_EQ(testing::RunProcess(bin + "--json 2>/dev/null").exit_code, 2);
  EXPECT_EQ(testing::RunProcess(bin + "--gpu-evidence " + Nv("nvtrust_hopperAttestationReport.txt") + " 2>/dev/null")
                .exit_code,
            2);
  EXPECT_EQ(testing::RunProcess(bin + N1Args("nvtrust_hopperCertChain.txt", "abcd") + " 2>/dev/null").exit_code, 2);
  EXPECT_EQ(testing::RunProcess(bin + "--evidence x --gpu-nonce " + kN1Nonce + " 2>/dev/null").exit_code, 2);
  EXPECT_EQ(testing::RunProcess(bin + N1Args("nvtrust_hopperCertChain.txt", kN1Nonce) + " --rim " +
                                Nv("nvtrust_Driver_RIM_test_no_gpu.swidtag") + " 2>/dev/null")
                .exit_code,
            2);  // one RIM only
}

}  // namespace
}  // namespace cmln
