// The chain's key-value state: an ordered map of byte-string keys to byte-string values, read through
// StateReader and written through layered CacheStores (after cosmos-sdk's CacheKVStore).
//
// A block runs in a CacheStore over the committed state; each transaction runs in a CacheStore over the
// block's, which is merged into the block only if every message of the transaction succeeded. So a
// rejected message leaves no trace. The block's write set (sorted, since it is a std::map) is what the
// app hash commits to and what SQLite persists in one SQL transaction.
//
// Iteration is always in key byte order (std::map), never hash order. Not thread-safe: one writer.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace cmln::chain {

using StateMap = std::map<std::string, std::string>;
// key -> new value, or nullopt for a deletion.
using WriteSet = std::map<std::string, std::optional<std::string>>;
// Return false to stop the scan.
using ScanFn = std::function<bool(const std::string& key, const std::string& value)>;

class StateReader {
 public:
  virtual ~StateReader() = default;
  virtual std::optional<std::string> Get(const std::string& key) const = 0;
  // Visits every key starting with `prefix` in ascending key order.
  virtual void Scan(std::string_view prefix, const ScanFn& fn) const = 0;
};

// A reader over a StateMap it does not own.
class MapReader final : public StateReader {
 public:
  explicit MapReader(const StateMap* map) : map_(map) {}
  std::optional<std::string> Get(const std::string& key) const override;
  void Scan(std::string_view prefix, const ScanFn& fn) const override;

 private:
  const StateMap* map_;
};

class CacheStore final : public StateReader {
 public:
  // `parent` must outlive this store.
  explicit CacheStore(const StateReader* parent) : parent_(parent) {}

  std::optional<std::string> Get(const std::string& key) const override;
  void Scan(std::string_view prefix, const ScanFn& fn) const override;
  void Set(const std::string& key, std::string value) { writes_[key] = std::move(value); }
  void Delete(const std::string& key) { writes_[key] = std::nullopt; }

  const WriteSet& writes() const { return writes_; }
  // Applies this store's writes on top of `target` (typically the parent cache).
  void MergeInto(CacheStore& target) const;
  // The same, moving the values; this store is left empty.
  void MoveInto(CacheStore& target);
  // ApplyWrites(writes(), map), moving the values; this store is left empty (commit).
  void MoveIntoMap(StateMap& map);
  void Clear() { writes_.clear(); }

 private:
  const StateReader* parent_;
  WriteSet writes_;
};

// Applies a write set to a map (commit).
void ApplyWrites(const WriteSet& writes, StateMap& map);

}  // namespace cmln::chain
