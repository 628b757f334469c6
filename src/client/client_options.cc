#include "client/client_options.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "chain/node.h"
#include "seal/keyring.h"

namespace cmln::client {

namespace {

constexpr size_t kMaxConfigBytes = 64 * 1024;

}  // namespace

Status ParseClientOptionsJson(std::string_view text, ClientOptions& out) {
  auto j = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded()) return Error(ErrorCode::kBadEncoding, "client config: not JSON");
  if (!j.is_object()) return Error(ErrorCode::kMalformed, "client config: not a JSON object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    const nlohmann::json& v = it.value();
    auto bad = [&](const char* want) { return Error(ErrorCode::kMalformed, "client config: \"" + k + "\" is not " + want); };
    if (k == "chain" || k == "key" || k == "sim_trust" || k == "listen" || k == "model" || k == "relay") {
      if (!v.is_string()) return bad("a string");
      std::string s = v.get<std::string>();
      (k == "chain"       ? out.chain
       : k == "key"       ? out.key
       : k == "sim_trust" ? out.sim_trust
       : k == "listen"    ? out.listen
       : k == "relay"     ? out.relay
                          : out.model) = s;
    } else if (k == "budget" || k == "escrow_amount") {
      if (!v.is_number_unsigned()) return bad("a non-negative integer");
      (k == "budget" ? out.budget : out.escrow_amount) = v.get<uint64_t>();
    } else if (k == "allow_simulated") {
      if (!v.is_boolean()) return bad("a boolean");
      out.allow_simulated = v.get<bool>();
    } else {
      return Error(ErrorCode::kMalformed, "client config: unknown key \"" + k + "\"");
    }
  }
  return OkStatus();
}

Status LoadClientOptionsFile(const std::string& path, ClientOptions& out) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return Error(ErrorCode::kNotFound, path + ": no such file");
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return Error(ErrorCode::kIoError, path + ": " + ec.message());
  if (size > kMaxConfigBytes) return Error(ErrorCode::kLengthTooLarge, path + ": larger than 64 KiB");
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  if (!in.good() && !in.eof()) return Error(ErrorCode::kIoError, path + ": read failed");
  Status parsed = ParseClientOptionsJson(ss.str(), out);
  if (!parsed.ok()) return parsed.error().WithContext(path);
  return OkStatus();
}

Result<seal::AccountPrivateKey> LoadUserKey(const std::string& key) {
  if (key.empty()) return Error(ErrorCode::kInvalidArgument, "no key: give --key FILE (or a keyring key name)");
  std::error_code ec;
  if (std::filesystem::is_regular_file(key, ec)) return chain::LoadKeyFile(key);
  CMLN_ASSIGN_OR_RETURN(std::string home, seal::Keyring::DefaultHome());
  CMLN_ASSIGN_OR_RETURN(seal::Keyring ring, seal::Keyring::Open(home));
  return ring.GetPrivateKey(key);
}

Result<ClientConfig> ToClientConfig(const ClientOptions& options) {
  if (options.chain.empty()) return Error(ErrorCode::kInvalidArgument, "no chain: give --chain URL");
  if (options.allow_simulated && options.sim_trust.empty()) {
    return Error(ErrorCode::kInvalidArgument, "--allow-simulated needs --sim-trust DIR (the devnet's sim-pki)");
  }
  ClientConfig c;
  c.chain_url = options.chain;
  c.budget = options.budget;
  c.escrow_amount = options.escrow_amount;
  c.trust.allow_simulated = options.allow_simulated;
  c.trust.sim_trust_dir = options.allow_simulated ? options.sim_trust : "";
  c.relay_url = options.relay;
  return c;
}

Status ParseHostPort(const std::string& text, std::string& host, int& port) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    return Error(ErrorCode::kInvalidArgument, "\"" + text + "\" is not HOST:PORT");
  }
  const std::string p = text.substr(colon + 1);
  if (p.find_first_not_of("0123456789") != std::string::npos || p.size() > 5 || std::stoi(p) > 65535) {
    return Error(ErrorCode::kInvalidArgument, "\"" + text + "\" has no valid port");
  }
  host = text.substr(0, colon);
  port = std::stoi(p);
  return OkStatus();
}

}  // namespace cmln::client
