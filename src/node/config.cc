#include "node/config.h"

#include <functional>
#include <type_traits>
#include <limits>
#include <set>

#include <nlohmann/json.hpp>

#include "attest/evidence_file.h"

namespace cmln::node {

namespace {

using json = nlohmann::json;

Error Bad(const std::string& key, const std::string& why) {
  return Error(ErrorCode::kMalformed, "config." + key + ": " + why);
}

bool PrintableId(std::string_view s, size_t max) {
  if (s.empty() || s.size() > max) return false;
  for (char c : s) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

// Expected byte size of each simulated measurement name.
size_t MeasurementSize(const std::string& name) {
  static const std::map<std::string, size_t> sizes = {
      {"MRTD", 48},   {"RTMR0", 48},       {"RTMR1", 48},    {"RTMR2", 48},
      {"RTMR3", 48},  {"MRCONFIGID", 48},  {"MEASUREMENT", 48}, {"HOST_DATA", 32}};
  auto it = sizes.find(name);
  return it == sizes.end() ? 0 : it->second;
}

}  // namespace

Result<NodeConfig> ParseNodeConfig(std::string_view json_text) {
  if (json_text.size() > kMaxConfigBytes) {
    return Error(ErrorCode::kLengthTooLarge, "config: " + std::to_string(json_text.size()) + " bytes exceeds the cap of " +
                                                 std::to_string(kMaxConfigBytes));
  }
  const json j = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Error(ErrorCode::kBadEncoding, "config: not JSON");
  if (!j.is_object()) return Error(ErrorCode::kMalformed, "config: not a JSON object");

  NodeConfig c;
  std::set<std::string> seen;
  // Each reader checks the type and range of one key; unknown keys are refused below.
  using Reader = std::function<Status(const json&)>;
  auto str = [](std::string& out) -> Reader {
    return [&out](const json& v) -> Status {
      if (!v.is_string()) return Error(ErrorCode::kMalformed, "must be a string");
      out = v.get<std::string>();
      return OkStatus();
    };
  };
  auto unsigned_in = [](auto& out, uint64_t min, uint64_t max) -> Reader {
    return [&out, min, max](const json& v) -> Status {
      if (!v.is_number_unsigned() || v.get<uint64_t>() < min || v.get<uint64_t>() > max) {
        return Error(ErrorCode::kMalformed, "must be an integer in " + std::to_string(min) + ".." + std::to_string(max));
      }
      out = static_cast<std::remove_reference_t<decltype(out)>>(v.get<uint64_t>());
      return OkStatus();
    };
  };
  constexpr uint64_t kDay = 86'400'000;
  const std::map<std::string, Reader> readers = {
      {"node_id", str(c.node_id)},
      {"chain_rest_url", str(c.chain_rest_url)},
      {"host_key_file", str(c.host_key_file)},
      {"tx_fee", unsigned_in(c.tx_fee, 0, std::numeric_limits<uint64_t>::max())},
      {"listen_host", str(c.listen_host)},
      {"listen_port", unsigned_in(c.listen_port, 0, 65535)},
      {"public_endpoint", str(c.public_endpoint)},
      {"max_request_bytes", unsigned_in(c.max_request_bytes, 1024, 64u << 20)},
      {"max_in_flight", unsigned_in(c.max_in_flight, 1, 4096)},
      {"default_max_tokens", unsigned_in(c.default_max_tokens, 1, 1u << 20)},
      {"max_tokens_limit", unsigned_in(c.max_tokens_limit, 1, 1u << 20)},
      {"max_clock_skew_s", unsigned_in(c.max_clock_skew_s, 1, 86400)},
      {"replay_cache_entries", unsigned_in(c.replay_cache_entries, 1, 1u << 26)},
      {"model_id", str(c.model_id)},
      {"model_path", str(c.model_path)},
      {"upstream_url", str(c.upstream_url)},
      {"upstream_model", str(c.upstream_model)},
      {"engine_threads", unsigned_in(c.engine_threads, 0, 1024)},
      {"engine_context", unsigned_in(c.engine_context, 16, 1u << 20)},
      {"platform", str(c.platform)},
      {"release_id", str(c.release_id)},
      {"sim_pki_dir", str(c.sim_pki_dir)},
      {"sim_measurements",
       [&c](const json& v) -> Status {
         if (!v.is_object()) return Error(ErrorCode::kMalformed, "must be an object of name -> hex");
         for (const auto& [name, value] : v.items()) {
           const size_t want = MeasurementSize(name);
           if (want == 0) return Error(ErrorCode::kMalformed, "unknown measurement " + name);
           if (!value.is_string()) return Error(ErrorCode::kMalformed, name + " must be a hex string");
           auto bytes = HexDecode(value.get<std::string>());
           if (!bytes.ok() || bytes->size() != want) {
             return Error(ErrorCode::kMalformed, name + " must be " + std::to_string(want) + " bytes of hex");
           }
           c.sim_measurements[name] = std::move(*bytes);
         }
         return OkStatus();
       }},
      {"attestation_timeout_ms", unsigned_in(c.attestation_timeout_ms, 100, kDay)},
      {"epoch_poll_ms", unsigned_in(c.epoch_poll_ms, 10, kDay)},
      {"data_dir", str(c.data_dir)},
      {"batch_interval_ms", unsigned_in(c.batch_interval_ms, 10, kDay)},
      {"batch_max_entries", unsigned_in(c.batch_max_entries, 1, 4096)},
      {"submit_backoff_initial_ms", unsigned_in(c.submit_backoff_initial_ms, 1, kDay)},
      {"submit_backoff_max_ms", unsigned_in(c.submit_backoff_max_ms, 1, kDay)},
      {"escrow_cache_ms", unsigned_in(c.escrow_cache_ms, 0, kDay)},
      {"log_level", str(c.log_level)},
  };
  for (const auto& [key, value] : j.items()) {
    auto it = readers.find(key);
    if (it == readers.end()) return Bad(key, "unknown key");
    Status st = it->second(value);
    if (!st.ok()) return Bad(key, st.error().message());
  }

  auto required = [](const std::string& v, const char* key) -> Status {
    if (v.empty()) return Error(ErrorCode::kInvalidArgument, std::string("config.") + key + ": required");
    return OkStatus();
  };
  CMLN_TRY(required(c.node_id, "node_id"));
  CMLN_TRY(required(c.host_key_file, "host_key_file"));
  CMLN_TRY(required(c.model_id, "model_id"));
  CMLN_TRY(required(c.release_id, "release_id"));
  CMLN_TRY(required(c.data_dir, "data_dir"));
  if (!PrintableId(c.node_id, 128)) return Bad("node_id", "1..128 printable ASCII characters without spaces");
  if (!PrintableId(c.model_id, 128)) return Bad("model_id", "1..128 printable ASCII characters without spaces");
  if (!PrintableId(c.release_id, 128)) return Bad("release_id", "1..128 printable ASCII characters without spaces");
  if (c.model_path.empty() && c.upstream_url.empty()) {
    return Error(ErrorCode::kInvalidArgument, "config: model_path or upstream_url is required");
  }
  if (c.platform != "sim-tdx" && c.platform != "sim-snp" && c.platform != "tdx" && c.platform != "snp") {
    return Bad("platform", "must be sim-tdx, sim-snp, tdx or snp");
  }
  const bool simulated = c.platform.rfind("sim-", 0) == 0;
  if (simulated && c.sim_pki_dir.empty()) {
    return Error(ErrorCode::kInvalidArgument, "config.sim_pki_dir: required for platform " + c.platform);
  }
  if (!simulated && !c.sim_measurements.empty()) return Bad("sim_measurements", "only for sim-tdx / sim-snp");
  if (c.default_max_tokens > c.max_tokens_limit) return Bad("default_max_tokens", "above max_tokens_limit");
  if (c.submit_backoff_initial_ms > c.submit_backoff_max_ms) {
    return Bad("submit_backoff_initial_ms", "above submit_backoff_max_ms");
  }
  static const std::set<std::string> levels = {"debug", "info", "warn", "error"};
  if (levels.count(c.log_level) == 0) return Bad("log_level", "must be debug, info, warn or error");
  if (c.upstream_model.empty()) c.upstream_model = c.model_id;
  return c;
}

Result<NodeConfig> LoadNodeConfig(const std::string& path) {
  CMLN_ASSIGN_OR_RETURN(Bytes text, attest::ReadFileCapped(path, kMaxConfigBytes));
  return ParseNodeConfig(AsChars(text));
}

std::string AdvertisedEndpoint(const NodeConfig& config, int bound_port) {
  if (!config.public_endpoint.empty()) return config.public_endpoint;
  return "http://" + config.listen_host + ":" + std::to_string(bound_port);
}

}  // namespace cmln::node
