// `cmln chat`: one encrypted chat completion through the client library (src/client/client.h), streamed
// to the terminal, then a receipt summary.
//
//   cmln chat [--model M] [--max-tokens N] [--no-stream] --chain URL --key FILE [--budget N]
//             [--allow-simulated --sim-trust DIR] [--relay URL] [--config FILE] "prompt"
//
// stdout: the model's answer as it arrives, then a newline. stderr: one line
//   receipt: node=ID escrow=E prompt_tokens=P completion_tokens=C cost=X ngonka verified=yes
// Exit 0 with a verified receipt; 1 if the completion failed or was refused (the reason on stderr, with
// the node's OpenAI error when it refused); 2 for bad flags. Without --model: the first model that has a
// verified node.
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "client/client.h"
#include "client/client_options.h"
#include "client/sse.h"

namespace cmln::cli {

namespace {

client::ClientOptions g_chat;
std::string g_chat_config;
std::string g_prompt;
uint32_t g_max_tokens = 128;
bool g_no_stream = false;

void RunChat() {
  if (!g_chat_config.empty()) {
    client::ClientOptions file;
    Status st = client::LoadClientOptionsFile(g_chat_config, file);
    if (!st.ok()) {
      std::cerr << "error: " << st.error().ToString() << "\n";
      return SetExitCode(2);
    }
    client::ClientOptions def;
    if (g_chat.chain.empty()) g_chat.chain = file.chain;
    if (g_chat.key.empty()) g_chat.key = file.key;
    if (g_chat.budget == def.budget) g_chat.budget = file.budget;
    if (g_chat.escrow_amount == 0) g_chat.escrow_amount = file.escrow_amount;
    if (!g_chat.allow_simulated) g_chat.allow_simulated = file.allow_simulated;
    if (g_chat.sim_trust.empty()) g_chat.sim_trust = file.sim_trust;
    if (g_chat.model.empty()) g_chat.model = file.model;
    if (g_chat.relay.empty()) g_chat.relay = file.relay;
  }
  auto config = client::ToClientConfig(g_chat);
  if (!config.ok()) {
    std::cerr << "error: " << config.error().ToString() << "\n";
    return SetExitCode(2);
  }
  auto key = client::LoadUserKey(g_chat.key);
  if (!key.ok()) {
    std::cerr << "error: key: " << key.error().ToString() << "\n";
    return SetExitCode(1);
  }
  auto cl = client::Client::Create(std::move(*config), std::move(*key));
  if (!cl.ok()) {
    std::cerr << "error: " << cl.error().ToString() << "\n";
    return SetExitCode(1);
  }
  std::string model = g_chat.model;
  if (model.empty()) {
    auto models = (*cl)->Models();
    if (!models.ok() || models->empty()) {
      std::cerr << "error: no model has a verified node"
                << (models.ok() ? "" : ": " + models.error().ToString()) << "\n";
      return SetExitCode(1);
    }
    model = models->front();
  }
  nlohmann::json request = {{"model", model},
                            {"messages", {{{"role", "user"}, {"content", g_prompt}}}},
                            {"max_tokens", g_max_tokens},
                            {"stream", !g_no_stream}};
  const std::string body = request.dump();

  client::SseEventSplitter splitter;
  client::StreamSink sink;
  sink.on_content = [&](ByteView content) {
    for (const std::string& event : splitter.Push(content)) std::cout << client::DeltaContentOfEvent(event) << std::flush;
  };
  auto r = (*cl)->Complete(AsBytes(body), &sink);
  if (!r.ok()) {
    std::cout << std::endl;
    std::cerr << "error: " << r.error().ToString() << "\n";
    return SetExitCode(1);
  }
  if (r->answer.status != 200) {
    std::cerr << "error: node " << r->node_id << " answered HTTP " << r->answer.status << ": "
              << AsChars(r->answer.content) << "\n";
    return SetExitCode(1);
  }
  if (g_no_stream) {
    auto j = nlohmann::json::parse(r->answer.content.begin(), r->answer.content.end(), nullptr, false);
    if (j.is_object() && j.contains("choices") && j["choices"].is_array() && !j["choices"].empty() &&
        j["choices"][0].contains("message") && j["choices"][0]["message"].contains("content") &&
        j["choices"][0]["message"]["content"].is_string()) {
      std::cout << j["choices"][0]["message"]["content"].get<std::string>();
    }
  }
  std::cout << std::endl;
  const seal::Receipt& rc = *r->receipt;
  std::cerr << "receipt: node=" << r->node_id << " escrow=" << rc.escrow_id << " prompt_tokens=" << rc.prompt_tokens
            << " completion_tokens=" << rc.completion_tokens << " cost=" << rc.cost << " ngonka verified=yes"
            << (r->attempts > 1 ? " (after " + std::to_string(r->attempts - 1) + " failover)" : "") << "\n";
  SetExitCode(0);
}

}  // namespace

void RegisterChat(CLI::App& app) {
  CLI::App* chat = app.add_subcommand("chat", "One encrypted chat completion, streamed, with its verified receipt");
  chat->add_option("prompt", g_prompt, "the user message")->required();
  chat->add_option("--model", g_chat.model, "model id (default: the first with a verified node)");
  chat->add_option("--max-tokens", g_max_tokens, "completion tokens at most");
  chat->add_flag("--no-stream", g_no_stream, "one OHTTP request instead of a stream");
  chat->add_option("--chain", g_chat.chain, "chain REST URL, e.g. http://127.0.0.1:26657");
  chat->add_option("--key", g_chat.key, "account key: a `cmln chain init` key file or a keyring key name");
  chat->add_option("--budget", g_chat.budget, "ngonka this command may lock in a new escrow");
  chat->add_option("--escrow-amount", g_chat.escrow_amount, "ngonka per escrow (0: automatic)");
  chat->add_flag("--allow-simulated", g_chat.allow_simulated, "accept simulated TEE evidence (devnets only)");
  chat->add_option("--sim-trust", g_chat.sim_trust, "the development PKI directory that signs simulated evidence");
  chat->add_option("--relay", g_chat.relay,
                   "a network node URL to relay the encrypted request through (the node never sees your address)");
  chat->add_option("--config", g_chat_config, "JSON config file (docs/client.md); flags override it");
  chat->callback(RunChat);
}

}  // namespace cmln::cli
