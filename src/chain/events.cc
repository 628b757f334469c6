#include "chain/events.h"

namespace cmln::chain {

nlohmann::json Event::ToJson() const {
  nlohmann::json attrs = nlohmann::json::object();
  for (const auto& [k, v] : attributes) attrs[k] = v;
  return nlohmann::json{{"type", type}, {"attributes", attrs}};
}

}  // namespace cmln::chain
