// scripts/bench node-overhead: what the Confidential MLNode's encrypted path adds to an inference request,
// against the same engine called in plaintext, in the same process and run.
//
//   plaintext: POST /v1/chat/completions on an httplib server configured exactly like the node's (thread
//              pool, TCP_NODELAY, keep-alive), parsing and rendering with the engine's OpenAI functions
//              (engine::ParseChatRequest / RenderChatCompletion, as `cmln engine serve` does)
//   encrypted: node::HttpFrontend + InferenceService over the SAME engine object; the client side signs a
//              gonka authorization, seals BHTTP in OHTTP (X25519, AES-128-GCM), the node opens it, checks the
//              authorization, replay cache and quota (escrow state served from memory: no chain in the
//              loop), runs the engine, signs the receipt, seals the answer; the client opens and decodes it.
// Both over loopback HTTP/1.1 with httplib, one connection per client thread. Every request has its own
// prompt (so the engine's prefix cache helps neither side more), the same sequence for both paths.
// Concurrency 1 (latency: added microseconds per request) and 32 (throughput: per-request wall time).
// Each configuration runs twice, interleaved, and the faster round counts (the machine is shared).
//
// Environment: CMLN_NODE_BENCH_MODEL (GGUF; default models/SmolLM2-135M-Instruct.Q4_1.gguf; "tiny" = the
// tests' 2-layer model, where the engine costs about a millisecond and the overhead dominates),
// CMLN_NODE_BENCH_THREADS (engine threads, default 2), CMLN_NODE_BENCH_REQUESTS (per configuration at
// concurrency 32, default 64; concurrency 1 runs a quarter of it), CMLN_NODE_BENCH_MAX_TOKENS (default 8),
// CMLN_NODE_BENCH_USAGE_DIR (where the durable usage log goes; default the temp directory; "memory" keeps
// usage in memory only, as before the usage log, for an A/B of its cost).
// Last line: {"name":"node-overhead","ours_us":encrypted per request at c=32,"peer":"plaintext","peer_us":…,
// "ratio":…, c=1 figures, "added_us_c1", "throughput_loss_pct"}.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "../tests/engine/gguf_writer.h"  // CMLN_NODE_BENCH_MODEL=tiny: the test suite's tiny llama model
#include "common/http_listen.h"
#include "engine/local_engine.h"
#include "engine/openai_server.h"
#include "node/http_frontend.h"
#include "node/ledger.h"
#include "node/service.h"
#include "seal/account_key.h"
#include "seal/bhttp.h"
#include "seal/inference_protocol.h"
#include "seal/ohttp.h"

namespace {

using namespace cmln;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string Env(const char* name, const std::string& def) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : def;
}

int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string Content(size_t i, uint32_t max_tokens) {
  json j = {{"model", "bench-model"},
            {"messages", {{{"role", "user"}, {"content", "Request " + std::to_string(i) + ": name a colour and a fruit."}}}},
            {"max_tokens", max_tokens},
            {"temperature", 0}};
  return j.dump();
}

struct Setup {
  std::unique_ptr<engine::Engine> engine;
  std::unique_ptr<httplib::Server> plain;
  std::thread plain_thread;
  int plain_port = 0;
  seal::AccountPrivateKey user = seal::AccountPrivateKey::Generate();
  std::unique_ptr<node::QuotaLedger> ledger;
  std::unique_ptr<node::ReplayCache> replay;
  node::UsageAggregator usage;
  node::Metrics metrics;
  std::unique_ptr<node::InferenceService> service;
  std::shared_ptr<node::KeySet> keys;
  std::unique_ptr<node::HttpFrontend> frontend;
};

// One request over plaintext HTTP; false on any failure.
std::atomic<size_t> g_transport_retries{0};

// A keep-alive connection the server closed between two requests fails at the transport level; httplib's
// client does not retry, so the bench does, once, for both paths alike (and counts it).
template <typename F>
httplib::Result PostWithRetry(F&& post) {
  auto r = post();
  if (!r) {
    g_transport_retries.fetch_add(1);
    r = post();
  }
  return r;
}

bool PlainRequest(httplib::Client& c, const std::string& content) {
  auto r = PostWithRetry([&] { return c.Post("/v1/chat/completions", content, "application/json"); });
  if (!r || r->status != 200) {
    std::cerr << "plaintext: " << (r ? "HTTP " + std::to_string(r->status) : httplib::to_string(r.error())) << "\n";
    return false;
  }
  return r->body.find("chat.completion") != std::string::npos;
}

// One encrypted request, everything a client does included.
bool EncryptedRequest(httplib::Client& c, Setup& s, const std::string& content) {
  auto auth = seal::SignAuthorization(s.user, "bench-chain", "bench-node", 1, static_cast<uint64_t>(UnixNow()),
                                      AsBytes(content));
  if (!auth.ok()) return false;
  seal::bhttp::Request req;
  req.method = "POST";
  req.scheme = "https";
  req.path = "/v1/chat/completions";
  req.headers = {{"content-type", "application/json"},
                 {std::string(seal::kAuthorizationHeader), Base64Encode(*seal::EncodeAuthorization(*auth))}};
  req.content = ToBytes(content);
  auto inner = seal::bhttp::EncodeRequest(req);
  auto sealed = seal::ohttp::EncapsulateRequest(s.keys->key_config, *seal::ohttp::SelectSuite(s.keys->key_config), *inner);
  if (!sealed.ok()) return false;
  const std::string body(AsChars(sealed->encapsulated_request));
  auto r = PostWithRetry([&] { return c.Post("/v1/ohttp", body, std::string(seal::ohttp::kRequestMediaType)); });
  if (!r || r->status != 200) {
    std::cerr << "encrypted: " << (r ? "HTTP " + std::to_string(r->status) : httplib::to_string(r.error())) << "\n";
    return false;
  }
  auto opened = sealed->context.DecapsulateResponse(AsBytes(r->body));
  if (!opened.ok()) return false;
  auto resp = seal::bhttp::DecodeResponse(*opened);
  if (!resp.ok() || resp->status != 200) {
    std::cerr << "encrypted: inner " << (resp.ok() ? std::string(AsChars(resp->content)) : resp.error().ToString()) << "\n";
    return false;
  }
  return true;
}

// Runs `n` requests with `concurrency` client threads; returns wall microseconds per request.
double Run(Setup& s, bool encrypted, int port, size_t concurrency, size_t n, size_t first_index, uint32_t max_tokens) {
  std::atomic<size_t> next{0};
  std::atomic<size_t> failures{0};
  const auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (size_t t = 0; t < concurrency; ++t) {
    threads.emplace_back([&] {
      httplib::Client c("127.0.0.1", port);
      c.set_read_timeout(600, 0);
      c.set_keep_alive(true);
      c.set_tcp_nodelay(true);
      for (size_t i; (i = next.fetch_add(1)) < n;) {
        const std::string content = Content(first_index + i, max_tokens);
        const bool ok = encrypted ? EncryptedRequest(c, s, content) : PlainRequest(c, content);
        if (!ok) failures.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  const double us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
  if (failures.load() != 0) {
    std::cerr << (encrypted ? "encrypted" : "plaintext") << ": " << failures.load() << " requests failed\n";
    std::exit(1);
  }
  return us / static_cast<double>(n);
}

}  // namespace

int main() {
  const std::string model = Env("CMLN_NODE_BENCH_MODEL", "models/SmolLM2-135M-Instruct.Q4_1.gguf");
  const size_t threads = std::stoul(Env("CMLN_NODE_BENCH_THREADS", "2"));
  const size_t n32 = std::stoul(Env("CMLN_NODE_BENCH_REQUESTS", "64"));
  const size_t n1 = std::max<size_t>(4, n32 / 4);
  const uint32_t max_tokens = static_cast<uint32_t>(std::stoul(Env("CMLN_NODE_BENCH_MAX_TOKENS", "8")));

  Setup s;
  engine::LocalEngineOptions eo;
  eo.model_path = model;
  if (model == "tiny") {
    // A 2-layer, 64-wide model: inference takes about a millisecond, so the overhead is what is measured.
    engine::testing::TinyModelSpec spec;
    spec.weight_type = engine::TensorType::kQ8_0;
    spec.embd_type = engine::TensorType::kQ8_0;
    const Bytes bytes = engine::testing::BuildTinyModel(spec);
    eo.model_path = "/tmp/cmln-node-bench-tiny.gguf";
    FILE* f = std::fopen(eo.model_path.c_str(), "wb");
    if (f == nullptr || std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size()) return 1;
    std::fclose(f);
  }
  eo.n_threads = threads;
  eo.model_name = "bench-model";
  auto loaded = engine::LocalEngine::Load(eo);
  if (!loaded.ok()) {
    std::cerr << "model " << model << ": " << loaded.error().ToString() << "\n";
    return 1;
  }
  s.engine = std::move(*loaded);

  s.plain = std::make_unique<httplib::Server>();
  s.plain->new_task_queue = [] { return new httplib::ThreadPool(72); };
  s.plain->set_tcp_nodelay(true);
  s.plain->set_keep_alive_max_count(100);
  s.plain->set_payload_max_length(1 << 20);
  s.plain->Post("/v1/chat/completions", [&s](const httplib::Request& req, httplib::Response& res) {
    engine::OpenAiLimits limits;
    auto parsed = engine::ParseChatRequest(req.body, limits);
    if (!parsed.ok()) {
      res.status = 400;
      return;
    }
    auto out = s.engine->Complete(parsed->completion);
    if (!out.ok()) {
      res.status = 500;
      return;
    }
    engine::ResponseMeta meta{"chatcmpl-plain", parsed->model, UnixNow()};
    res.set_content(engine::RenderChatCompletion(meta, *out, false), "application/json");
  });
  auto plain_port = BindServer(*s.plain, "127.0.0.1", 0);  // as the node's frontend binds
  if (!plain_port.ok()) {
    std::cerr << plain_port.error().ToString() << "\n";
    return 1;
  }
  s.plain_port = *plain_port;
  s.plain_thread = std::thread([&s] { s.plain->listen_after_bind(); });

  const seal::Digest32 user_hash = seal::RequesterKeyHash(s.user.public_key());
  s.ledger = std::make_unique<node::QuotaLedger>(
      [user_hash](uint64_t id) -> Result<node::EscrowState> {
        return node::EscrowState{id, true, "bench-model", UINT64_MAX / 4, user_hash};
      },
      std::chrono::milliseconds(2000));
  s.replay = std::make_unique<node::ReplayCache>(1 << 20);
  node::ServiceOptions so;
  so.chain_id = "bench-chain";
  so.node_id = "bench-node";
  so.model_id = "bench-model";
  so.price_per_token = 1;
  so.max_in_flight = 64;
  // Usage is recorded durably as in the node (one fdatasync per request into the usage log), on the
  // filesystem of CMLN_NODE_BENCH_USAGE_DIR (default: the system temp directory).
  const std::filesystem::path usage_dir =
      std::filesystem::path(Env("CMLN_NODE_BENCH_USAGE_DIR", std::filesystem::temp_directory_path().string())) /
      ("cmln-node-bench-usage-" + std::to_string(::getpid()));
  const bool durable = Env("CMLN_NODE_BENCH_USAGE_DIR", "") != "memory";  // "memory": the pre-log behaviour, for A/B
  if (Status st = durable ? s.usage.OpenDurable(usage_dir.string()) : OkStatus(); !st.ok()) {
    std::cerr << "usage log: " << st.error().ToString() << "\n";
    return 1;
  }
  s.service = std::make_unique<node::InferenceService>(so, *s.engine, *s.ledger, *s.replay, s.usage, s.metrics);
  s.keys = std::move(*node::KeySet::Generate(1));
  std::shared_ptr<const node::KeySet> keys = s.keys;
  node::FrontendOptions fo;
  fo.worker_threads = 72;
  s.frontend = std::make_unique<node::HttpFrontend>(fo, *s.service, s.metrics, [keys] { return keys; });
  if (!s.frontend->Start().ok()) return 1;

  // Warm-up: load pages, fill caches, open nothing that would favour one side.
  Run(s, false, s.plain_port, 1, 2, 1'000'000, max_tokens);
  Run(s, true, s.frontend->port(), 1, 2, 1'000'000, max_tokens);

  double plain1 = 1e300, enc1 = 1e300, plain32 = 1e300, enc32 = 1e300;
  size_t index = 0;
  for (int round = 0; round < 2; ++round) {
    plain1 = std::min(plain1, Run(s, false, s.plain_port, 1, n1, index, max_tokens));
    enc1 = std::min(enc1, Run(s, true, s.frontend->port(), 1, n1, index, max_tokens));
    index += n1;
    plain32 = std::min(plain32, Run(s, false, s.plain_port, 32, n32, index, max_tokens));
    enc32 = std::min(enc32, Run(s, true, s.frontend->port(), 32, n32, index, max_tokens));
    index += n32;
    std::cerr << "round " << round << ": c=1 plain " << plain1 << " us, encrypted " << enc1 << " us; c=32 plain "
              << plain32 << " us, encrypted " << enc32 << " us per request\n";
  }
  s.frontend->Stop();
  s.plain->stop();
  s.plain_thread.join();

  const double added_c1 = enc1 - plain1;
  const double loss_pct = (1.0 - plain32 / enc32) * 100.0;
  std::printf("c=1   plaintext %10.1f us/request   encrypted %10.1f us/request   added %8.1f us\n", plain1, enc1, added_c1);
  std::printf("c=32  plaintext %10.1f us/request   encrypted %10.1f us/request   throughput loss %.2f %%\n", plain32,
              enc32, loss_pct);
  json result = {{"name", "node-overhead"},
                 {"ours_us", std::round(enc32 * 10) / 10},
                 {"peer", "plaintext"},
                 {"peer_us", std::round(plain32 * 10) / 10},
                 {"ratio", std::round(enc32 / plain32 * 1000) / 1000},
                 {"ours_c1_us", std::round(enc1 * 10) / 10},
                 {"peer_c1_us", std::round(plain1 * 10) / 10},
                 {"added_us_c1", std::round(added_c1 * 10) / 10},
                 {"throughput_loss_pct", std::round(loss_pct * 100) / 100},
                 {"requests_c32", n32},
                 {"transport_retries", g_transport_retries.load()},
                 {"requests_c1", n1},
                 {"max_tokens", max_tokens},
                 {"usage_log", durable ? "durable" : "memory"}};
  std::error_code ec;
  std::filesystem::remove_all(usage_dir, ec);
  std::cout << result.dump() << std::endl;
  return 0;
}
