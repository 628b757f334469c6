// SEV-SNP verification cost. BM_VerifySnpS1: the full VerifySnpReport of MANIFEST case S1 (parse,
// VCEK -> ASK -> pinned ARK chain with RSA-PSS, ECDSA P-384 report signature, TCB and chip id
// comparison) per report, with the collateral parsed once (PrepareSnpCollateral), as a verifier that
// caches AMD's chain per product does. Target: below 1 ms. BM_ParseSnpReport: the parse step alone.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "attest/snp_verify.h"

namespace cmln::attest::snp {
namespace {

std::string ReadData(const std::string& name) {
  const auto path = std::filesystem::path(__FILE__).parent_path().parent_path() / "tests/data/attestation/snp" / name;
  std::ifstream in(path, std::ios::binary);
  if (!in) std::abort();
  return std::string(std::istreambuf_iterator<char>(in), {});
}

constexpr int64_t kS1Now = 1700000000;  // inside S1's window

void BM_VerifySnpS1(benchmark::State& state) {
  const Bytes report = ToBytes(ReadData("gosev_attestation.bin"));
  SnpCollateral collateral;
  collateral.endorsement_cert = ToBytes(ReadData("gosev_vcek.testcer"));
  collateral.chain_pem = ReadData("gosev_ask_ark_milan.pem");
  auto prepared = PrepareSnpCollateral(collateral);
  SnpTrustAnchors anchors;
  if (!prepared.ok() || !anchors.AddArkFromPem(SnpProduct::kMilan, collateral.chain_pem).ok()) std::abort();
  for (auto _ : state) {
    auto v = VerifySnpReport(report, *prepared, anchors, kS1Now);
    if (!v.ok()) std::abort();
    benchmark::DoNotOptimize(v);
  }
}
BENCHMARK(BM_VerifySnpS1)->Unit(benchmark::kMicrosecond);

void BM_ParseSnpReport(benchmark::State& state) {
  const Bytes report = ToBytes(ReadData("gosev_attestation.bin"));
  for (auto _ : state) {
    auto r = ParseSnpReport(report);
    if (!r.ok()) std::abort();
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_ParseSnpReport)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace cmln::attest::snp

BENCHMARK_MAIN();
