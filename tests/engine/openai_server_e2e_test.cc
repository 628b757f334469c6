// The upstream engine against a real OpenAI-compatible server process: `cmln engine serve` is started
// on a tiny GGUF model written by the test (and on SmolLM2 when scripts/setup has fetched it), and the
// engine test cases run through UpstreamEngine must give exactly what LocalEngine gives in-process on
// the same file: text, token ids, usage and finish reason, streamed or not. Raw HTTP checks cover the
// non-streamed response, the endpoints and OpenAI's error shape.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "common/bytes.h"
#include "common/child_process.h"
#include "engine/gguf_writer.h"
#include "engine/local_engine.h"
#include "engine/upstream_engine.h"
#include "testing/test_util.h"

namespace cmln::engine {
namespace {

using nlohmann::json;

constexpr const char* kSmolLm = CMLN_SOURCE_DIR "/models/SmolLM2-135M-Instruct.Q4_1.gguf";

std::string Bin() { return std::string(CMLN_BINARY_DIR) + "/cmln"; }

// A `cmln engine serve` child; SIGTERM + wait on destruction so a failed assertion leaks nothing.
// A log path of this test process: ctest runs each test in its own process, several at once, and a shared
// log let one test read another's "listening" line (and talk to a server that was about to stop).
std::string LogPath(const std::string& name) {
  return ::testing::TempDir() + "/" + name + "_" + std::to_string(::getpid()) + ".log";
}

class ServeProcess {
 public:
  ServeProcess(const std::string& model, const std::string& log, int max_concurrent = 2)
      : process_("engine serve", log) {
    std::error_code ec;
    std::filesystem::remove(log, ec);  // a fresh log per run
    const Status started = process_.Start({Bin(), "engine", "serve", "--model", model, "--listen", "127.0.0.1:0",
                                           "--threads", "2", "--max-concurrent", std::to_string(max_concurrent)});
    EXPECT_TRUE(started.ok()) << (started.ok() ? "" : started.error().ToString());
    if (!started.ok()) return;
    // Up to 30 s: loading hashes the weights.
    const std::optional<std::string> url = process_.WaitListening(std::chrono::seconds(30));
    if (!url) return;
    port_ = std::stoi(url->substr(url->rfind(':') + 1));
    std::istringstream lines(process_.RunLog());
    for (std::string line; std::getline(lines, line);) {
      auto j = json::parse(line, nullptr, false);
      if (j.is_object() && j.contains("listening")) {
        model_ = j["model"];
        sha256_ = j["sha256"];
        break;
      }
    }
  }
  ~ServeProcess() { process_.Stop(std::chrono::seconds(30)); }
  // Sends SIGTERM and returns the exit code (the server exits 0 on SIGTERM), or -1 if it was killed by a
  // signal (SIGKILLed after two minutes) or already reaped.
  int Terminate() {
    if (process_.pid() <= 0) return -1;
    process_.Signal(SIGTERM);
    const std::optional<int> exited = process_.WaitExit(std::chrono::minutes(2));
    const int status = exited ? *exited : process_.Kill();
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  int port() const { return port_; }
  const std::string& model() const { return model_; }
  const std::string& sha256() const { return sha256_; }

 private:
  ChildProcess process_;
  int port_ = 0;
  std::string model_, sha256_;
};

std::string WriteTinyModel() {
  testing::TinyModelSpec spec;
  spec.weight_type = TensorType::kQ4_1;
  spec.embd_type = TensorType::kQ8_0;
  const Bytes b = testing::BuildTinyModel(spec);
  const std::string path = ::testing::TempDir() + "/serve_tiny_" + std::to_string(::getpid()) + ".gguf";
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  return path;
}

struct Case {
  std::string name;
  CompletionRequest request;
  bool stream_text = false;  // collect on_text pieces too
};

std::vector<Case> EngineCases() {
  std::vector<Case> cases;
  CompletionRequest greedy;
  greedy.messages = {{"user", "hello world"}};
  greedy.temperature = 0;
  greedy.max_tokens = 12;
  cases.push_back({"greedy", greedy, false});
  cases.push_back({"greedy_streamed", greedy, true});
  CompletionRequest sys = greedy;
  sys.messages = {{"system", "Be brief."}, {"user", "in the world"}, {"assistant", "hello"}, {"user", "again"}};
  cases.push_back({"conversation", sys, true});
  CompletionRequest seeded = greedy;
  seeded.temperature = 0.9;
  seeded.top_p = 0.8;
  seeded.seed = 42;
  seeded.max_tokens = 20;
  cases.push_back({"seeded_sampling", seeded, true});
  CompletionRequest one = greedy;
  one.max_tokens = 1;
  cases.push_back({"one_token", one, false});
  return cases;
}

// Text as JSON can carry it: the tiny model emits byte tokens that do not form UTF-8, which any
// OpenAI-compatible server sends as U+FFFD. Token ids and usage are compared exactly.
std::string JsonSafe(const std::string& text) {
  return json::parse(json(text).dump(-1, ' ', false, json::error_handler_t::replace)).get<std::string>();
}

void ExpectSame(const Completion& local, const Completion& up, const std::string& name) {
  EXPECT_EQ(up.text, JsonSafe(local.text)) << name;
  EXPECT_EQ(up.token_ids, local.token_ids) << name;
  EXPECT_EQ(up.usage.prompt_tokens, local.usage.prompt_tokens) << name;
  EXPECT_EQ(up.usage.completion_tokens, local.usage.completion_tokens) << name;
  EXPECT_EQ(up.finish_reason, local.finish_reason) << name;
}

class TinyServe : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    path_ = new std::string(WriteTinyModel());
    server_ = new ServeProcess(*path_, LogPath("serve_tiny"));
    LocalEngineOptions o;
    o.model_path = *path_;
    o.n_threads = 2;
    auto e = LocalEngine::Load(o);
    if (e.ok()) local_ = e->release();
  }
  static void TearDownTestSuite() {
    delete server_;
    delete local_;
    delete path_;
  }
  void SetUp() override {
    ASSERT_GT(server_->port(), 0) << "cmln engine serve did not start (log: " << LogPath("serve_tiny") << ")";
    ASSERT_NE(local_, nullptr);
  }
  static std::unique_ptr<UpstreamEngine> Upstream() {
    UpstreamOptions o;
    o.port = server_->port();
    o.model = server_->model();
    o.weights_path = *path_;
    auto u = UpstreamEngine::Create(o);
    EXPECT_TRUE(u.ok());
    return u.ok() ? std::move(*u) : nullptr;
  }
  static httplib::Client Client() { return httplib::Client("127.0.0.1", server_->port()); }

  static std::string* path_;
  static ServeProcess* server_;
  static LocalEngine* local_;
};
std::string* TinyServe::path_ = nullptr;
ServeProcess* TinyServe::server_ = nullptr;
LocalEngine* TinyServe::local_ = nullptr;

TEST_F(TinyServe, UpstreamGivesTheLocalEnginesTokensAndUsage) {
  auto up = Upstream();
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(up->model_name(), "tiny-test");
  for (Case& c : EngineCases()) {
    std::string local_stream, up_stream;
    CompletionRequest lr = c.request, ur = c.request;
    if (c.stream_text) {
      lr.on_text = [&](std::string_view d) { local_stream += d; return true; };
      ur.on_text = [&](std::string_view d) { up_stream += d; return true; };
    }
    auto l = local_->Complete(lr);
    ASSERT_TRUE(l.ok()) << c.name << ": " << l.error().ToString();
    auto u = up->Complete(ur);
    ASSERT_TRUE(u.ok()) << c.name << ": " << u.error().ToString();
    ExpectSame(*l, *u, c.name);
    EXPECT_FALSE(u->token_ids.empty()) << c.name;
    if (c.stream_text) {
      EXPECT_EQ(up_stream, JsonSafe(local_stream)) << c.name;
    }
  }
}

TEST_F(TinyServe, StopSequencesAndMaxTokensBehaveAsLocally) {
  auto up = Upstream();
  ASSERT_NE(up, nullptr);
  CompletionRequest r;
  r.messages = {{"user", "hello world"}};
  r.temperature = 0;
  r.max_tokens = 16;
  auto full = local_->Complete(r);
  ASSERT_TRUE(full.ok());
  ASSERT_GE(full->text.size(), 4u);
  // Stop on a piece of what greedy decoding produces: the text is cut before it, generation ends.
  r.stop = {full->text.substr(2, 2)};
  auto l = local_->Complete(r);
  auto u = up->Complete(r);
  ASSERT_TRUE(l.ok() && u.ok());
  ExpectSame(*l, *u, "stop");
  EXPECT_EQ(u->finish_reason, FinishReason::kStop);
  EXPECT_EQ(u->text.find(r.stop[0]), std::string::npos);
  r.stop.clear();
  r.max_tokens = 3;
  l = local_->Complete(r);
  u = up->Complete(r);
  ASSERT_TRUE(l.ok() && u.ok());
  ExpectSame(*l, *u, "max_tokens");
  EXPECT_EQ(u->usage.completion_tokens, 3u);
}

TEST_F(TinyServe, CountTokensAndDigestAgree) {
  auto up = Upstream();
  ASSERT_NE(up, nullptr);
  for (const char* text : {"hello world", "", "  the  world\n", "<|im_start|> not special here"}) {
    auto u = up->CountTokens(text);
    ASSERT_TRUE(u.ok()) << u.error().ToString();
    EXPECT_EQ(*u, *local_->CountTokens(text)) << text;
  }
  EXPECT_EQ(*up->ModelDigest(), *local_->ModelDigest());
  EXPECT_EQ(server_->sha256(), HexEncode(*local_->ModelDigest()));
}

TEST_F(TinyServe, NonStreamedResponseCarriesUsage) {
  auto cli = Client();
  const json body = {{"model", server_->model()},
                     {"messages", {{{"role", "user"}, {"content", "hello world"}}}},
                     {"temperature", 0},
                     {"max_tokens", 5},
                     {"return_token_ids", true}};
  auto res = cli.Post("/v1/chat/completions", body.dump(), "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const json j = json::parse(res->body);
  CompletionRequest r;
  r.messages = {{"user", "hello world"}};
  r.temperature = 0;
  r.max_tokens = 5;
  auto l = local_->Complete(r);
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(j["object"], "chat.completion");
  EXPECT_EQ(j["choices"][0]["message"]["content"], JsonSafe(l->text));
  EXPECT_EQ(j["choices"][0]["token_ids"].get<std::vector<int32_t>>(), l->token_ids);
  EXPECT_EQ(j["choices"][0]["finish_reason"], std::string(FinishReasonName(l->finish_reason)));
  EXPECT_EQ(j["usage"]["prompt_tokens"], l->usage.prompt_tokens);
  EXPECT_EQ(j["usage"]["completion_tokens"], l->usage.completion_tokens);
  EXPECT_EQ(j["usage"]["total_tokens"], l->usage.prompt_tokens + l->usage.completion_tokens);
}

TEST_F(TinyServe, StreamWithoutIncludeUsageHasNoUsageChunk) {
  auto cli = Client();
  const json body = {{"model", server_->model()},
                     {"messages", {{{"role", "user"}, {"content", "hello"}}}},
                     {"temperature", 0},
                     {"max_tokens", 4},
                     {"stream", true}};
  auto res = cli.Post("/v1/chat/completions", body.dump(), "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/event-stream");
  EXPECT_EQ(res->body.find("\"usage\""), std::string::npos);
  EXPECT_EQ(res->body.rfind("data: [DONE]\n\n"), res->body.size() - 14);
  // With include_usage the upstream engine gets its usage; without it, it must refuse the stream.
}

TEST_F(TinyServe, EndpointsAndErrorsFollowOpenAi) {
  auto cli = Client();
  auto health = cli.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(json::parse(health->body)["status"], "ok");
  auto models = cli.Get("/v1/models");
  ASSERT_TRUE(models);
  const json m = json::parse(models->body);
  EXPECT_EQ(m["object"], "list");
  EXPECT_EQ(m["data"][0]["id"], server_->model());

  const auto error_of = [](const httplib::Result& r) { return json::parse(r->body)["error"]; };
  auto bad_json = cli.Post("/v1/chat/completions", "{not json", "application/json");
  ASSERT_TRUE(bad_json);
  EXPECT_EQ(bad_json->status, 400);
  EXPECT_EQ(error_of(bad_json)["type"], "invalid_request_error");

  const json bad_top_p = {{"model", server_->model()}, {"messages", {{{"role", "user"}, {"content", "x"}}}}, {"top_p", 2}};
  auto r = cli.Post("/v1/chat/completions", bad_top_p.dump(), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(error_of(r)["param"], "top_p");

  const json other_model = {{"model", "gpt-4"}, {"messages", {{{"role", "user"}, {"content", "x"}}}}};
  r = cli.Post("/v1/chat/completions", other_model.dump(), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(error_of(r)["code"], "model_not_found");

  r = cli.Post("/v1/chat/completions", std::string(2 << 20, ' '), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(error_of(r)["code"], "too_large");

  r = cli.Get("/v1/nothing");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(error_of(r)["code"], "not_found");
}

TEST(ServeCli, RefusesNonLoopbackAndBadUsage) {
  const std::string model = WriteTinyModel();
  auto r = cmln::testing::RunProcess(Bin() + " engine serve --model " + model + " --listen 0.0.0.0:0 2>&1");
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("loopback"), std::string::npos) << r.out;
  r = cmln::testing::RunProcess(Bin() + " engine serve --model " + model + " --listen nowhere 2>&1");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  r = cmln::testing::RunProcess(Bin() + " engine serve --model /nonexistent.gguf --listen 127.0.0.1:0 2>&1");
  EXPECT_EQ(r.exit_code, 1) << r.out;
}

// A SIGTERM right after the "listening" line must stop the server (it once hung: httplib's stop() was lost
// when it came before the accept loop ran; common/http_listen.h).
TEST(ServeCli, ExitsCleanlyOnSigterm) {
  ServeProcess p(WriteTinyModel(), LogPath("serve_term"));
  ASSERT_GT(p.port(), 0);
  EXPECT_EQ(p.Terminate(), 0);
}

// The demo model through a real server: the tokens llama.cpp produces for reference chat 1 (see
// llama_cpp_vectors_test), through UpstreamEngine, equal to the in-process engine's.
TEST(SmolLmServe, UpstreamMatchesLocalAndLlamaCpp) {
  if (!std::filesystem::exists(kSmolLm)) GTEST_SKIP() << "run scripts/setup for " << kSmolLm;
  const json ref = cmln::testing::ReadJsonOrDie(cmln::testing::DataPath("engine/llama_cpp_reference.json"));
  const json& chat = ref["chats"][1];
  CompletionRequest r;
  for (const auto& m : chat["messages"]) r.messages.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
  r.temperature = 0;
  r.max_tokens = 16;
  ServeProcess p(kSmolLm, LogPath("serve_smollm"));
  ASSERT_GT(p.port(), 0);
  UpstreamOptions uo;
  uo.port = p.port();
  uo.model = p.model();
  auto up = UpstreamEngine::Create(uo);
  ASSERT_TRUE(up.ok());
  std::string streamed;
  CompletionRequest ur = r;
  ur.on_text = [&](std::string_view d) { streamed += d; return true; };
  auto u = (*up)->Complete(ur);
  ASSERT_TRUE(u.ok()) << u.error().ToString();
  LocalEngineOptions lo;
  lo.model_path = kSmolLm;
  lo.n_threads = 2;
  auto local = LocalEngine::Load(lo);
  ASSERT_TRUE(local.ok());
  auto l = (*local)->Complete(r);
  ASSERT_TRUE(l.ok());
  ExpectSame(*l, *u, "smollm");
  EXPECT_EQ(streamed, u->text);
  EXPECT_EQ(u->usage.prompt_tokens, chat["prompt_ids"].size());
  const std::vector<int32_t> want = chat["greedy_ids"].get<std::vector<int32_t>>();
  ASSERT_GE(want.size(), u->token_ids.size());
  EXPECT_EQ(u->token_ids, std::vector<int32_t>(want.begin(), want.begin() + static_cast<long>(u->token_ids.size())));
}

}  // namespace
}  // namespace cmln::engine
