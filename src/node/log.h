// Structured logs of the node: one JSON object per line on stderr,
//   {"ts": "2024-01-01T00:00:00.123Z", "level": "info", "event": "request_refused", ...fields}
// Callers pass only counts, ids, codes and durations: never prompt or completion text, never key
// material or ciphertext (DESIGN section 6, THREATS B2: the precise reason of a refusal is logged here,
// the peer gets one generic error).
//
// Thread safety: every function may be called from any thread (lines never interleave).
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

namespace cmln::node::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// "debug" | "info" | "warn" | "error"; anything else is kInfo.
Level ParseLevel(std::string_view name);
void SetLevel(Level level);
bool Enabled(Level level);
// Writes one line when `level` is enabled. `fields` must be a JSON object (or null for none).
void Write(Level level, std::string_view event, const nlohmann::json& fields = nullptr);

inline void Debug(std::string_view event, const nlohmann::json& fields = nullptr) { Write(Level::kDebug, event, fields); }
inline void Info(std::string_view event, const nlohmann::json& fields = nullptr) { Write(Level::kInfo, event, fields); }
inline void Warn(std::string_view event, const nlohmann::json& fields = nullptr) { Write(Level::kWarn, event, fields); }
inline void Err(std::string_view event, const nlohmann::json& fields = nullptr) { Write(Level::kError, event, fields); }

}  // namespace cmln::node::log
