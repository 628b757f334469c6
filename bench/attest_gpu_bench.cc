// NVIDIA GPU evidence verification cost. BM_VerifyGpuN1: the full VerifyGpuReport of MANIFEST case N1
// (SPDM parse, five-certificate P-384 chain to the pinned NVIDIA Device Identity CA, FWID extension, ECDSA
// P-384 / SHA-384 report signature, FWID and nonce comparison) per report. BM_ParseGpuN1: the parse step
// alone. BM_CompareN1WithRims: the RIM comparison of N1 against NVIDIA's sample RIMs (parsed and verified
// once, as a verifier that caches RIMs per version does).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "attest/nvidia_rim.h"
#include "attest/nvidia_verify.h"
#include "attest/spdm.h"

namespace cmln::attest::nvidia {
namespace {

std::string ReadData(const std::string& name) {
  const auto path = std::filesystem::path(__FILE__).parent_path().parent_path() / "tests/data/attestation/nvidia" / name;
  std::ifstream in(path, std::ios::binary);
  if (!in) std::abort();
  return std::string(std::istreambuf_iterator<char>(in), {});
}

constexpr int64_t kNow = 1740000000;  // 2025-02-19: chain and RIM signers valid

Bytes N1() {
  std::string hex = ReadData("nvtrust_hopperAttestationReport.txt");
  while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r')) hex.pop_back();
  auto b = HexDecode(hex);
  if (!b.ok()) std::abort();
  return *b;
}

Bytes N1Nonce() {
  auto b = HexDecode("931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb");
  if (!b.ok()) std::abort();
  return *b;
}

void BM_VerifyGpuN1(benchmark::State& state) {
  const Bytes report = N1();
  const Bytes nonce = N1Nonce();
  const GpuCollateral collateral{ReadData("nvtrust_hopperCertChain.txt"), {}};
  auto anchors = ProductionGpuAnchors(ReadData("nvtrust_verifier_device_root.pem"));
  if (!anchors.ok()) std::abort();
  for (auto _ : state) {
    auto v = VerifyGpuReport(report, collateral, nonce, *anchors, kNow);
    if (!v.ok()) std::abort();
    benchmark::DoNotOptimize(v);
  }
}
BENCHMARK(BM_VerifyGpuN1)->Unit(benchmark::kMicrosecond);

void BM_ParseGpuN1(benchmark::State& state) {
  const Bytes report = N1();
  for (auto _ : state) {
    auto p = spdm::ParseGpuAttestationReport(report);
    if (!p.ok()) std::abort();
    benchmark::DoNotOptimize(p);
  }
}
BENCHMARK(BM_ParseGpuN1)->Unit(benchmark::kMicrosecond);

void BM_CompareN1WithRims(benchmark::State& state) {
  auto parsed = spdm::ParseGpuAttestationReport(N1());
  auto roots = ParsePemChain(ReadData("nvtrust_verifier_RIM_root.pem"));
  if (!parsed.ok() || !roots.ok()) std::abort();
  auto driver = VerifyRim(ReadData("nvtrust_Driver_RIM_test_no_gpu.swidtag"), *roots, kNow);
  auto vbios = VerifyRim(ReadData("nvtrust_1010_0200_882_96005E0001_PROD.swidtag"), *roots, kNow);
  if (!driver.ok() || !vbios.ok()) std::abort();
  for (auto _ : state) {
    auto reasons = CompareWithRims(*parsed, *driver, *vbios);
    benchmark::DoNotOptimize(reasons);
  }
}
BENCHMARK(BM_CompareN1WithRims)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace cmln::attest::nvidia

BENCHMARK_MAIN();
