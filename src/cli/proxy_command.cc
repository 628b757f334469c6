// `cmln proxy`: an OpenAI-compatible API on localhost in front of the confidential network
// (src/client/client.h, docs/client.md). Any OpenAI SDK works unchanged against it.
//
//   cmln proxy --listen 127.0.0.1:8080 --chain URL --key FILE [--budget N] [--escrow-amount N]
//              [--allow-simulated --sim-trust DIR] [--relay URL] [--config FILE]
//
//   POST /v1/chat/completions   non-streamed: the node's decrypted JSON, unchanged; streamed: the node's
//                               decrypted SSE events as they arrive, `data: [DONE]` only after the receipt
//                               verified (B5: otherwise an error event and the connection is cut)
//   GET  /v1/models             the models with a price on chain and at least one node verified locally
// Every answer from a node carries `x-gonka-node: NODE_ID` (and, non-streamed, `x-gonka-escrow`,
// `x-gonka-cost`). Errors are OpenAI-shaped {"error": {"message", "type", "param", "code"}}:
//   400 invalid_request_error   body not JSON / no model
//   402 budget_exhausted        the configured budget cannot fund an escrow
//   404 model_not_available     no verified node serves the model (the message lists why each was refused)
//   502 upstream_unavailable    every verified node failed (connect, 5xx, stale key)
//   502 verification_failed     an answer failed its integrity or receipt check (B5)
// and a node's own refusal (inside the encryption) is passed through with its status.
//
// Prints one JSON line {"listening": "HOST:PORT", "chain", "address"} once bound, then serves until
// SIGINT/SIGTERM (exit 0). Exit 2 for bad flags, 1 if the chain or key cannot be used.
#include <pthread.h>
#include <signal.h>

#include <condition_variable>
#include <deque>
#include <iostream>
#include <memory>
#include <mutex>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "client/client.h"
#include "client/client_options.h"
#include "client/sse.h"
#include "common/http_listen.h"

namespace cmln::cli {

namespace {

client::ClientOptions g_opts;
std::string g_config_file;

nlohmann::json OpenAiError(const std::string& message, const std::string& type, const std::string& code) {
  return {{"error", {{"message", message}, {"type", type}, {"param", nullptr}, {"code", code}}}};
}

void SendError(httplib::Response& res, int status, const std::string& message, const std::string& type,
               const std::string& code) {
  res.status = status;
  res.set_content(OpenAiError(message, type, code).dump(), "application/json");
}

// The HTTP status and OpenAI error code for a client library error.
void SendClientError(httplib::Response& res, const Error& e) {
  switch (e.code()) {
    case ErrorCode::kInvalidArgument:
      return SendError(res, 400, e.message(), "invalid_request_error", "invalid_request");
    case ErrorCode::kInsufficientFunds:
      return SendError(res, 402, e.message(), "insufficient_quota", "budget_exhausted");
    case ErrorCode::kNotFound:
      return SendError(res, 404, e.message(), "invalid_request_error", "model_not_available");
    case ErrorCode::kIoError:
      return SendError(res, 502, e.message(), "server_error", "upstream_unavailable");
    default:
      return SendError(res, 502, e.ToString(), "server_error", "verification_failed");
  }
}

void SetNodeHeaders(httplib::Response& res, const client::Completion& c) {
  res.set_header("x-gonka-node", c.node_id);
  res.set_header("x-gonka-escrow", std::to_string(c.escrow_id));
  if (c.receipt) res.set_header("x-gonka-cost", std::to_string(c.receipt->cost));
}

// A streamed completion runs on its own thread; the HTTP handler waits here for its head (to choose the
// status) and then drains its events into the chunked response.
struct StreamChannel {
  std::mutex mu;
  std::condition_variable cv;
  bool head = false;
  bool finished = false;
  std::string node_id;
  std::deque<std::string> events;
  std::optional<Result<client::Completion>> result;
};

void HandleStream(client::Client& cl, const std::string& body, httplib::Response& res) {
  auto ch = std::make_shared<StreamChannel>();
  std::thread([ch, &cl, body]() {
    client::SseEventSplitter splitter;
    client::StreamSink sink;
    sink.on_head = [&](const client::VerifiedNode& node, const client::NodeAnswer&) {
      std::lock_guard<std::mutex> lock(ch->mu);
      ch->head = true;
      ch->node_id = node.node_id;
      ch->cv.notify_all();
    };
    sink.on_content = [&](ByteView content) {
      std::vector<std::string> ready = splitter.Push(content);
      std::lock_guard<std::mutex> lock(ch->mu);
      for (auto& e : ready) ch->events.push_back(std::move(e));
      ch->cv.notify_all();
    };
    auto result = cl.Complete(AsBytes(body), &sink);
    std::lock_guard<std::mutex> lock(ch->mu);
    // The stream is confirmed only now: [DONE] goes out after the receipt verified.
    if (result.ok() && result->receipt && splitter.done_seen() && splitter.pending().empty()) {
      ch->events.push_back(std::string(client::kSseDone));
    }
    ch->result = std::move(result);
    ch->finished = true;
    ch->cv.notify_all();
  }).detach();

  std::unique_lock<std::mutex> lock(ch->mu);
  ch->cv.wait(lock, [&] { return ch->head || ch->finished; });
  if (!ch->head) {
    const Result<client::Completion>& r = *ch->result;
    if (!r.ok()) return SendClientError(res, r.error());
    // A refusal from the node (no stream started): its OpenAI error, its status.
    res.status = r->answer.status;
    SetNodeHeaders(res, *r);
    res.set_content(std::string(AsChars(r->answer.content)),
                    r->answer.content_type.empty() ? "application/json" : r->answer.content_type);
    return;
  }
  res.status = 200;
  res.set_header("x-gonka-node", ch->node_id);
  res.set_header("Cache-Control", "no-cache");
  lock.unlock();
  res.set_chunked_content_provider("text/event-stream", [ch](size_t, httplib::DataSink& out) {
    std::unique_lock<std::mutex> l(ch->mu);
    ch->cv.wait(l, [&] { return !ch->events.empty() || ch->finished; });
    while (!ch->events.empty()) {
      std::string e = std::move(ch->events.front());
      ch->events.pop_front();
      if (!out.write(e.data(), e.size())) return false;
    }
    if (!ch->finished) return true;
    const Result<client::Completion>& r = *ch->result;
    if (r.ok() && r->receipt) {
      out.done();
      return true;
    }
    // B5: tell the SDK in its own terms, then cut the connection without the terminating chunk.
    const std::string why = r.ok() ? "stream ended without a verified receipt" : r.error().ToString();
    const std::string event = "data: " + OpenAiError(why, "server_error", "verification_failed").dump() + "\n\n";
    out.write(event.data(), event.size());
    return false;
  });
}


void RunProxy() {
  if (!g_config_file.empty()) {
    // Flags beat the file: reload the file under the flags given.
    client::ClientOptions from_file;
    Status st = client::LoadClientOptionsFile(g_config_file, from_file);
    if (!st.ok()) {
      std::cerr << "error: " << st.error().ToString() << "\n";
      return SetExitCode(2);
    }
    client::ClientOptions defaults;
    auto pick = [](auto& flag, const auto& file, const auto& def) {
      if (flag == def) flag = file;
    };
    pick(g_opts.chain, from_file.chain, defaults.chain);
    pick(g_opts.key, from_file.key, defaults.key);
    pick(g_opts.budget, from_file.budget, defaults.budget);
    pick(g_opts.escrow_amount, from_file.escrow_amount, defaults.escrow_amount);
    pick(g_opts.allow_simulated, from_file.allow_simulated, defaults.allow_simulated);
    pick(g_opts.sim_trust, from_file.sim_trust, defaults.sim_trust);
    pick(g_opts.listen, from_file.listen, defaults.listen);
    pick(g_opts.relay, from_file.relay, defaults.relay);
  }
  std::string host;
  int port = 0;
  auto config = client::ToClientConfig(g_opts);
  Status hp = client::ParseHostPort(g_opts.listen, host, port);
  if (!config.ok() || !hp.ok()) {
    std::cerr << "error: " << (config.ok() ? hp.error() : config.error()).ToString() << "\n";
    return SetExitCode(2);
  }
  auto key = client::LoadUserKey(g_opts.key);
  if (!key.ok()) {
    std::cerr << "error: key: " << key.error().ToString() << "\n";
    return SetExitCode(1);
  }
  // Every thread inherits this mask; one thread waits for the signals and stops the server.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto cl = client::Client::Create(std::move(*config), std::move(*key));
  if (!cl.ok()) {
    std::cerr << "error: " << cl.error().ToString() << "\n";
    return SetExitCode(1);
  }
  client::Client& c = **cl;

  httplib::Server server;
  server.Post("/v1/chat/completions", [&](const httplib::Request& req, httplib::Response& res) {
    auto j = nlohmann::json::parse(req.body, nullptr, false);
    if (!j.is_object()) return SendError(res, 400, "body is not a JSON object", "invalid_request_error", "invalid_json");
    if (j.contains("stream") && j["stream"].is_boolean() && j["stream"].get<bool>()) {
      return HandleStream(c, req.body, res);
    }
    auto r = c.Complete(AsBytes(req.body));
    if (!r.ok()) return SendClientError(res, r.error());
    res.status = r->answer.status;
    SetNodeHeaders(res, *r);
    res.set_content(std::string(AsChars(r->answer.content)),
                    r->answer.content_type.empty() ? "application/json" : r->answer.content_type);
  });
  server.Get("/v1/models", [&](const httplib::Request&, httplib::Response& res) {
    auto models = c.Models();
    if (!models.ok()) return SendClientError(res, models.error());
    nlohmann::json data = nlohmann::json::array();
    for (const std::string& m : *models) data.push_back({{"id", m}, {"object", "model"}, {"created", 0}, {"owned_by", "gonka"}});
    res.set_content(nlohmann::json{{"object", "list"}, {"data", data}}.dump(), "application/json");
  });
  server.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    const std::string code = res.status == 404 ? "not_found" : "http_" + std::to_string(res.status);
    SendError(res, res.status, req.method + " " + req.path + " is not served by cmln proxy", "invalid_request_error", code);
  });

  auto bound_or = BindServer(server, host, port);
  if (!bound_or.ok()) {
    std::cerr << "error: cannot listen on " << g_opts.listen << "\n";
    return SetExitCode(1);
  }
  const int bound = *bound_or;
  std::thread listener = ListenInBackground(server);
  std::cout << nlohmann::json{{"listening", host + ":" + std::to_string(bound)},
                              {"chain", g_opts.chain},
                              {"address", c.address()}}
                   .dump()
            << std::endl;
  int sig = 0;
  sigwait(&signals, &sig);
  server.stop();
  listener.join();
  SetExitCode(0);
}

}  // namespace

void RegisterProxy(CLI::App& app) {
  CLI::App* proxy = app.add_subcommand("proxy", "OpenAI-compatible API on localhost over the confidential network");
  proxy->add_option("--listen", g_opts.listen, "HOST:PORT to serve on (port 0: any free port)");
  proxy->add_option("--chain", g_opts.chain, "chain REST URL, e.g. http://127.0.0.1:26657");
  proxy->add_option("--key", g_opts.key, "account key: a `cmln chain init` key file or a keyring key name");
  proxy->add_option("--budget", g_opts.budget, "ngonka this proxy may lock in new escrows");
  proxy->add_option("--escrow-amount", g_opts.escrow_amount, "ngonka per escrow (0: automatic)");
  proxy->add_flag("--allow-simulated", g_opts.allow_simulated, "accept simulated TEE evidence (devnets only)");
  proxy->add_option("--sim-trust", g_opts.sim_trust, "the development PKI directory that signs simulated evidence");
  proxy->add_option("--relay", g_opts.relay,
                    "a network node URL to relay every encrypted request through (nodes never see your address)");
  proxy->add_option("--config", g_config_file, "JSON config file (docs/client.md); flags override it");
  proxy->callback(RunProxy);
}

}  // namespace cmln::cli
