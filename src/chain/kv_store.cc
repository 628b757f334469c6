#include "chain/kv_store.h"

namespace cmln::chain {

namespace {
bool HasPrefix(const std::string& key, std::string_view prefix) {
  return key.size() >= prefix.size() && std::string_view(key).substr(0, prefix.size()) == prefix;
}
}  // namespace

std::optional<std::string> MapReader::Get(const std::string& key) const {
  auto it = map_->find(key);
  if (it == map_->end()) return std::nullopt;
  return it->second;
}

void MapReader::Scan(std::string_view prefix, const ScanFn& fn) const {
  for (auto it = map_->lower_bound(std::string(prefix)); it != map_->end() && HasPrefix(it->first, prefix); ++it) {
    if (!fn(it->first, it->second)) return;
  }
}

std::optional<std::string> CacheStore::Get(const std::string& key) const {
  auto it = writes_.find(key);
  if (it != writes_.end()) return it->second;
  return parent_->Get(key);
}

void CacheStore::Scan(std::string_view prefix, const ScanFn& fn) const {
  // Materialize the parent's range, overlay our writes, then visit in order. Simple and ordered; the
  // state of a single-node chain is small enough for this to be cheap.
  StateMap merged;
  parent_->Scan(prefix, [&](const std::string& k, const std::string& v) {
    merged.emplace(k, v);
    return true;
  });
  for (auto it = writes_.lower_bound(std::string(prefix)); it != writes_.end() && HasPrefix(it->first, prefix);
       ++it) {
    if (it->second) {
      merged[it->first] = *it->second;
    } else {
      merged.erase(it->first);
    }
  }
  for (const auto& [k, v] : merged) {
    if (!fn(k, v)) return;
  }
}

void CacheStore::MergeInto(CacheStore& target) const {
  for (const auto& [k, v] : writes_) target.writes_[k] = v;
}

void CacheStore::MoveInto(CacheStore& target) {
  if (target.writes_.empty()) {
    target.writes_.swap(writes_);
  } else {
    for (auto& [k, v] : writes_) target.writes_.insert_or_assign(k, std::move(v));
  }
  writes_.clear();
}

void CacheStore::MoveIntoMap(StateMap& map) {
  for (auto& [k, v] : writes_) {
    if (v) {
      map.insert_or_assign(k, std::move(*v));
    } else {
      map.erase(k);
    }
  }
  writes_.clear();
}

void ApplyWrites(const WriteSet& writes, StateMap& map) {
  for (const auto& [k, v] : writes) {
    if (v) {
      map[k] = *v;
    } else {
      map.erase(k);
    }
  }
}

}  // namespace cmln::chain
