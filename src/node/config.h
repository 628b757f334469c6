// The Confidential MLNode configuration file (`cmln node start --config FILE`): one JSON object.
// docs/node.md lists every key with its default; NodeConfig below holds the same defaults.
//
// Parsing is strict: an unknown key, a value of the wrong JSON type or out of range is refused
// (kMalformed naming the key), text that is not JSON is kBadEncoding, a file over kMaxConfigBytes is
// kLengthTooLarge, a missing required key is kInvalidArgument naming it. No key material is ever read
// from or written to this file: the host account key lives in its own key file (`host_key_file`), and
// the TEE keys exist only in memory.
//
// Thread safety: pure functions; NodeConfig is a plain value.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/status.h"

namespace cmln::node {

inline constexpr size_t kMaxConfigBytes = 64 * 1024;

struct NodeConfig {
  // Identity and chain.
  std::string node_id;                                    // required; printable ASCII, no spaces, <= 128
  std::string chain_rest_url = "http://127.0.0.1:26657";  // a network node's REST API
  std::string host_key_file;                              // required; the host account key (signs txs)
  uint64_t tx_fee = 0;                                    // ngonka per transaction the host submits
  // Serving.
  std::string listen_host = "127.0.0.1";
  int listen_port = 8443;       // 0: a free port (announced on stdout)
  std::string public_endpoint;  // advertised on chain; default "http://LISTEN_HOST:PORT"
  size_t max_request_bytes = 1 << 20;
  size_t max_in_flight = 64;        // encrypted requests being served at once; more get 429 overloaded
  uint32_t default_max_tokens = 256;
  uint32_t max_tokens_limit = 4096;  // largest max_tokens a request may ask for
  int64_t max_clock_skew_s = 300;
  size_t replay_cache_entries = 1 << 20;
  // Model and engine: the built-in GGUF engine on model_path, or (upstream_url set) an OpenAI-compatible
  // server on a loopback address "http://127.0.0.1:PORT" whose weights file model_path is hashed.
  std::string model_id;  // required; the chain's model id (escrows and releases name it)
  std::string model_path;
  std::string upstream_url;
  std::string upstream_model;  // model name the upstream serves; default model_id
  size_t engine_threads = 0;   // 0: all hardware threads
  uint32_t engine_context = 2048;
  // Attestation.
  std::string platform = "sim-tdx";  // "sim-tdx" | "sim-snp" | "tdx" | "snp"
  std::string release_id;            // required; the governance release this image is
  std::string sim_pki_dir;           // required for sim-*: the devnet's development PKI (HOME/sim-pki)
  // Simulated measurements (sim-* only), name -> lowercase hex: TDX "MRTD" (48 bytes), "RTMR0".."RTMR3"
  // (48), "MRCONFIGID" (48); SNP "MEASUREMENT" (48), "HOST_DATA" (32). Missing names are all zero.
  std::map<std::string, Bytes> sim_measurements;
  int64_t attestation_timeout_ms = 60000;  // waiting for the chain to show the attestation VERIFIED
  int64_t epoch_poll_ms = 1000;            // how often the chain's epoch is read (re-attestation)
  // Settlement.
  std::string data_dir;  // required; the batch journal (data_dir/batches) and the last OHTTP key id
  int64_t batch_interval_ms = 5000;
  size_t batch_max_entries = 1024;  // escrows per batch (the chain caps it at params.max_batch_entries)
  int64_t submit_backoff_initial_ms = 500;
  int64_t submit_backoff_max_ms = 30000;
  int64_t escrow_cache_ms = 2000;  // how long an escrow read from the chain is trusted
  // Logging: "debug" | "info" | "warn" | "error".
  std::string log_level = "info";
};

// Parses the JSON text of a configuration (see the file comment for the errors).
Result<NodeConfig> ParseNodeConfig(std::string_view json_text);
// Reads and parses FILE (kNotFound / kIoError for the file).
Result<NodeConfig> LoadNodeConfig(const std::string& path);
// The endpoint advertised on chain: public_endpoint or "http://LISTEN_HOST:PORT" with the bound port.
std::string AdvertisedEndpoint(const NodeConfig& config, int bound_port);

}  // namespace cmln::node
