// cmln engine serve --model FILE [--listen HOST:PORT] [--threads N] [--ctx N] [--model-name NAME]
//                   [--max-concurrent N] [--max-tokens N]
//
// Serves the built-in CPU engine over an OpenAI-compatible HTTP API (engine/openai_server.h) on a
// loopback address, the way llama.cpp's server runs next to the node inside the CVM. Prints one JSON
// line {"listening": "HOST:PORT", "model", "sha256"} once bound, then serves until SIGINT/SIGTERM
// (exit 0). Exit 1 if the model cannot be loaded or the address bound, 2 for bad usage.
#include <pthread.h>

#include <csignal>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "common/bytes.h"
#include "engine/local_engine.h"
#include "engine/openai_server.h"

namespace cmln::cli {

namespace {

struct ServeArgs {
  std::string model;
  std::string listen = "127.0.0.1:8080";
  std::string model_name;
  size_t threads = 0;
  uint32_t ctx = 2048;
  size_t max_concurrent = 4;
  uint32_t max_tokens = 4096;
};
ServeArgs g_serve;

void Fail(const Error& e) {
  std::cerr << "error: " << e.ToString() << "\n";
  SetExitCode(1);
}

void RunServe() {
  const auto colon = g_serve.listen.rfind(':');
  int port = -1;
  if (colon != std::string::npos) {
    try {
      port = std::stoi(g_serve.listen.substr(colon + 1));
    } catch (const std::exception&) {
      port = -1;
    }
  }
  if (port < 0 || port > 65535) {
    std::cerr << "error: --listen wants HOST:PORT\n";
    SetExitCode(2);
    return;
  }
  std::string host = g_serve.listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);

  // SIGINT/SIGTERM are blocked in every thread and taken with sigwait below, so the server threads
  // never run a signal handler.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  engine::LocalEngineOptions eo;
  eo.model_path = g_serve.model;
  eo.n_threads = g_serve.threads;
  eo.n_ctx = g_serve.ctx;
  eo.model_name = g_serve.model_name;
  auto engine = engine::LocalEngine::Load(eo);
  if (!engine.ok()) return Fail(engine.error());

  engine::OpenAiServerOptions so;
  so.host = host;
  so.port = port;
  so.max_concurrent = g_serve.max_concurrent;
  so.limits.max_tokens = g_serve.max_tokens;
  auto server = engine::OpenAiServer::Start(**engine, so);
  if (!server.ok()) return Fail(server.error());

  const bool v6 = host.find(':') != std::string::npos;
  const std::string bound = (v6 ? "[" + host + "]" : host) + ":" + std::to_string((*server)->port());
  nlohmann::json j = {{"listening", bound},
                      {"model", (*server)->model_name()},
                      {"sha256", HexEncode(*(*engine)->ModelDigest())}};
  std::cout << j.dump() << std::endl;

  int sig = 0;
  sigwait(&signals, &sig);
  (*server)->Stop();
}

}  // namespace

void RegisterEngine(CLI::App& app) {
  auto* cmd = app.add_subcommand("engine", "The built-in CPU inference engine");
  cmd->require_subcommand(1);
  auto* serve = cmd->add_subcommand("serve", "Serve a GGUF model over an OpenAI-compatible HTTP API (loopback only)");
  serve->add_option("--model", g_serve.model, "GGUF weights file (llama family)")->required();
  serve->add_option("--listen", g_serve.listen, "HOST:PORT on a loopback address (port 0 = any free port)");
  serve->add_option("--threads", g_serve.threads, "Threads for the matrix products (0 = all)");
  serve->add_option("--ctx", g_serve.ctx, "Context window in tokens");
  serve->add_option("--model-name", g_serve.model_name, "Served model name (default: general.name from the file)");
  serve->add_option("--max-concurrent", g_serve.max_concurrent, "Completions in flight before answering 429")
      ->check(CLI::Range(1, 1024));
  serve->add_option("--max-tokens", g_serve.max_tokens, "Largest max_tokens a request may ask for")
      ->check(CLI::Range(1, 1 << 20));
  serve->callback(RunServe);
}

}  // namespace cmln::cli
