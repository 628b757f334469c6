// The settings `cmln proxy` and `cmln chat` share, from flags or a JSON config file (docs/client.md):
//
//   { "chain": "http://127.0.0.1:26657",      the chain REST URL (required)
//     "key": "HOME/keys/alice.json",          a key file of `cmln chain init`, or the name of a key in the
//                                             `cmln keys` keyring (required)
//     "budget": 1000000,                      ngonka this client may lock in new escrows
//     "escrow_amount": 0,                     per escrow; 0 = automatic
//     "allow_simulated": false,               accept simulated TEE evidence ...
//     "sim_trust": "HOME/sim-pki",            ... signed by this development PKI (required with it)
//     "listen": "127.0.0.1:8080",             proxy only
//     "model": "smollm2-135m-instruct" }      chat only: the default model
// Unknown keys and mistyped values are kMalformed naming the key; text that is not JSON kBadEncoding.
// Flags given on the command line override the file.
//
// Thread safety: pure functions (LoadUserKey reads files).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "client/client.h"
#include "common/status.h"
#include "seal/account_key.h"

namespace cmln::client {

struct ClientOptions {
  std::string chain;
  std::string key;
  uint64_t budget = 1'000'000;
  uint64_t escrow_amount = 0;
  bool allow_simulated = false;
  std::string sim_trust;
  std::string listen = "127.0.0.1:8080";
  std::string model;
  std::string relay;  // a network node's base URL to relay OHTTP through (RFC 9458); empty = direct
};

// Parses a config file's text into `out` (keys present override `out`).
Status ParseClientOptionsJson(std::string_view text, ClientOptions& out);
// Reads FILE (kNotFound / kIoError) and parses it.
Status LoadClientOptionsFile(const std::string& path, ClientOptions& out);
// The user's account key: a `cmln chain init` key file if `key` names a file, else a key of the default
// `cmln keys` keyring ($CMLN_HOME or ~/.cmln). kInvalidArgument when empty.
Result<seal::AccountPrivateKey> LoadUserKey(const std::string& key);
// The ClientConfig for `options` (kInvalidArgument: no chain URL, or allow_simulated without sim_trust).
Result<ClientConfig> ToClientConfig(const ClientOptions& options);
// "HOST:PORT" -> host and port (kInvalidArgument otherwise; port 0 = any free port).
Status ParseHostPort(const std::string& text, std::string& host, int& port);

}  // namespace cmln::client
