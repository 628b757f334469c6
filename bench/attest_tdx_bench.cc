// Offline verification of a TDX quote (case T1: v4 quote, Intel collateral parsed once, `now` pinned inside
// the window). BM_VerifyTdxT1: per quote against collateral verified once (VerifyTdxCollateral), as a chain
// storing verified collateral does. Cached with the collateral (depends only on it and the pinned root, so
// dcap-qvl could cache it too): the TCB info / QE identity chains and signatures, the PCK CRL issuer chain
// and the PCK CRL's signature, and the PCK CA prepared for leaf checks. Per quote: parse, every window again,
// the PCK leaf (CA signature, dates, shape, PCK CRL window and serial), the QE report signature and binding,
// the attestation key and quote signature, collateral platform, QE identity, TDX module and TCB matching.
// The bench refuses to run if the PCK CA was not prepared (it would silently time the full OpenSSL path).
// BM_VerifyTdxT1Cold: the one-call form, which also verifies the collateral chains, signatures and CRLs.
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

struct T1 {
  std::string quote;
  cmln::attest::TdxCollateral collateral;
  std::vector<cmln::attest::Certificate> roots;
  int64_t now = 0;
};

bool LoadT1(T1* t) {
  using namespace cmln::attest;
  t->quote = ReadData("dcapqvl_tdx_quote");
  auto collateral = ParseTdxCollateral(ReadData("dcapqvl_tdx_quote_collateral.json"));
  auto root = ParseCertificate(cmln::AsBytes(ReadData("dcapqvl_TrustedRootCA.der")));
  if (!collateral.ok() || !root.ok()) return false;
  t->collateral = *collateral;
  t->roots = {*root};
  t->now = *ParseRfc3339Utc("2025-06-20T00:00:00Z");
  return true;
}

void BM_VerifyTdxT1(benchmark::State& state) {
  using namespace cmln;
  using namespace cmln::attest;
  T1 t;
  if (!LoadT1(&t)) {
    state.SkipWithError("test data missing");
    return;
  }
  auto verified = VerifyTdxCollateral(t.collateral, t.roots, t.now);
  if (!verified.ok() || verified->pck_issuer == nullptr) {
    state.SkipWithError("collateral verification failed or the PCK CA was not prepared");
    return;
  }
  state.SetLabel("collateral+PCK CA verified once; PCK leaf, QE report, quote, TCB per quote");
  for (auto _ : state) {
    auto r = VerifyTdxQuote(AsBytes(t.quote), *verified, t.roots, t.now);
    if (!r.ok() || r->tcb_status != TcbStatus::kUpToDate) {
      state.SkipWithError("verification failed");
      return;
    }
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_VerifyTdxT1)->Unit(benchmark::kMicrosecond);

void BM_VerifyTdxT1Cold(benchmark::State& state) {
  using namespace cmln;
  using namespace cmln::attest;
  T1 t;
  if (!LoadT1(&t)) {
    state.SkipWithError("test data missing");
    return;
  }
  for (auto _ : state) {
    auto r = VerifyTdxQuote(AsBytes(t.quote), t.collateral, t.roots, t.now);
    if (!r.ok() || r->tcb_status != TcbStatus::kUpToDate) {
      state.SkipWithError("verification failed");
      return;
    }
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_VerifyTdxT1Cold)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
