// Full offline verification of a TDX quote (case T1: v4 quote, Intel collateral parsed once, `now` pinned
// inside the window): PCK chain + CRLs, collateral chains and signatures, QE report, quote signature, TCB.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "attest/tdx_collateral.h"
#include "attest/tdx_verify.h"
#include "attest/x509.h"

namespace {

std::string ReadData(const std::string& name) {
  const auto path =
      std::filesystem::path(__FILE__).parent_path().parent_path() / "tests/data/attestation/tdx" / name;
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

void BM_VerifyTdxT1(benchmark::State& state) {
  using namespace cmln;
  using namespace cmln::attest;
  const std::string quote = ReadData("dcapqvl_tdx_quote");
  auto collateral = ParseTdxCollateral(ReadData("dcapqvl_tdx_quote_collateral.json"));
  auto root = ParseCertificate(AsBytes(ReadData("dcapqvl_TrustedRootCA.der")));
  if (!collateral.ok() || !root.ok()) {
    state.SkipWithError("test data missing");
    return;
  }
  const std::vector<Certificate> roots = {*root};
  const int64_t now = *ParseRfc3339Utc("2025-06-20T00:00:00Z");
  for (auto _ : state) {
    auto r = VerifyTdxQuote(AsBytes(quote), *collateral, roots, now);
    if (!r.ok() || r->tcb_status != TcbStatus::kUpToDate) {
      state.SkipWithError("verification failed");
      return;
    }
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_VerifyTdxT1)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
