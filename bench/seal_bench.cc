// scripts/bench seal: the cost of the sealed channel per request and per streamed chunk, beside the
// floor — OpenSSL's X25519 and AEAD alone, doing the public-key and bulk work any HPKE/OHTTP exchange
// must do (one ephemeral key generation, two Diffie-Hellman operations, request and response sealed
// and opened). The gap between the two is our overhead: key schedule, framing, copies.
#include <benchmark/benchmark.h>

#include <optional>

#include "seal/chunked_ohttp.h"
#include "seal/crypto.h"
#include "seal/hpke.h"
#include "seal/ohttp.h"

namespace cmln::seal {
namespace {

struct Setup {
  ohttp::Gateway gateway;
  ohttp::KeyConfig config;
  Setup() {
    X25519PrivateKey key = X25519PrivateKey::Generate();
    config.key_id = 1;
    config.kem_id = 0x0020;
    config.public_key = Bytes(key.public_key().begin(), key.public_key().end());
    config.algorithms = {{0x0001, 0x0001}};
    if (!gateway.AddKey(config, key.PrivateBytes()).ok()) std::abort();
  }
};

// One OHTTP exchange: client encapsulates the request, gateway decapsulates it and encapsulates the
// response (same size), client decapsulates the response.
void BM_OhttpRequest(benchmark::State& state) {
  Setup s;
  const Bytes body(static_cast<size_t>(state.range(0)), 0x61);
  const hpke::Suite suite{hpke::KemId::kX25519HkdfSha256, hpke::KdfId::kHkdfSha256, hpke::AeadId::kAes128Gcm};
  for (auto _ : state) {
    auto req = ohttp::EncapsulateRequest(s.config, suite, body);
    auto got = s.gateway.DecapsulateRequest(req->encapsulated_request);
    auto res = got->context.EncapsulateResponse(got->bhttp_request);
    auto out = req->context.DecapsulateResponse(*res);
    if (!out.ok() || out->size() != body.size()) state.SkipWithError("round trip failed");
    benchmark::DoNotOptimize(out);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0) * 2);
}
BENCHMARK(BM_OhttpRequest)->Arg(1024)->Arg(65536)->Unit(benchmark::kMicrosecond);

// The floor: X25519 keygen + DH on each side, AES-128-GCM seal+open of request and response.
void BM_Floor(benchmark::State& state) {
  X25519PrivateKey gateway_key = X25519PrivateKey::Generate();
  const Bytes body(static_cast<size_t>(state.range(0)), 0x61);
  const Bytes key(16, 7);
  const Bytes nonce(12, 9);
  auto aead = Aead::Create(AeadAlgorithm::kAes128Gcm, key);
  for (auto _ : state) {
    X25519PrivateKey eph = X25519PrivateKey::Generate();
    auto dh1 = eph.SharedSecret(gateway_key.public_key());
    auto dh2 = gateway_key.SharedSecret(eph.public_key());
    auto ct = aead->Seal(nonce, {}, body);
    auto pt = aead->Open(nonce, {}, *ct);
    auto rct = aead->Seal(nonce, {}, *pt);
    auto rpt = aead->Open(nonce, {}, *rct);
    benchmark::DoNotOptimize(dh1);
    benchmark::DoNotOptimize(dh2);
    benchmark::DoNotOptimize(rpt);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0) * 2);
}
BENCHMARK(BM_Floor)->Arg(1024)->Arg(65536)->Unit(benchmark::kMicrosecond);

// One streamed SSE event (100 bytes) through chunked OHTTP: the gateway seals a response chunk and the
// client opens it from the byte stream. The exchange setup is excluded (re-done every 4096 chunks, so
// the stream stays within the opener's size caps).
void BM_ChunkedSseEvent(benchmark::State& state) {
  Setup s;
  const hpke::Suite suite{hpke::KemId::kX25519HkdfSha256, hpke::KdfId::kHkdfSha256, hpke::AeadId::kAes128Gcm};
  const Bytes event(100, 0x62);
  std::optional<ohttp::ChunkedResponseSealer> sealer;
  std::optional<ohttp::ChunkedResponseOpener> opener;
  std::optional<ohttp::ChunkedRequestSealer> request;
  std::optional<ohttp::ChunkedRequestOpener> gateway_side;
  auto fresh_exchange = [&] {
    request.emplace(std::move(*ohttp::ChunkedRequestSealer::Create(s.config, suite)));
    gateway_side.emplace(s.gateway);
    auto first = request->SealFinalChunk(ToBytes(std::string_view("POST /v1/chat/completions")));
    if (!first.ok() || !gateway_side->Push(*first).ok()) std::abort();
    sealer.emplace(std::move(*gateway_side->NewResponseSealer()));
    opener.emplace(request->NewResponseOpener());
  };
  fresh_exchange();
  size_t n = 0;
  for (auto _ : state) {
    if (++n % 4096 == 0) {
      state.PauseTiming();
      fresh_exchange();
      state.ResumeTiming();
    }
    auto wire = sealer->SealChunk(event);
    auto chunks = opener->Push(*wire);
    if (!chunks.ok() || chunks->size() != 1) state.SkipWithError("chunk round trip failed");
    benchmark::DoNotOptimize(chunks);
  }
}
BENCHMARK(BM_ChunkedSseEvent)->Unit(benchmark::kMicrosecond);

// The floor for one streamed chunk: AES-128-GCM seal+open of a 100-byte SSE event.
void BM_FloorChunk(benchmark::State& state) {
  const Bytes event(100, 0x62);
  const Bytes key(16, 7);
  const Bytes nonce(12, 9);
  auto aead = Aead::Create(AeadAlgorithm::kAes128Gcm, key);
  for (auto _ : state) {
    auto ct = aead->Seal(nonce, {}, event);
    auto pt = aead->Open(nonce, {}, *ct);
    benchmark::DoNotOptimize(pt);
  }
}
BENCHMARK(BM_FloorChunk)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace cmln::seal

BENCHMARK_MAIN();
