#include "node/usage_aggregator.h"

#include <cstdio>
#include <filesystem>

#include "attest/evidence_file.h"
#include "common/byte_reader.h"
#include "node/log.h"

namespace cmln::node {

namespace fs = std::filesystem;

namespace {

constexpr size_t kRecordBody = kUsageRecordSize - 8;
constexpr size_t kMaxSegmentFileBytes = size_t{1} << 30;  // ~15M requests in one batch interval

// "usage-00000000000000000042.log" -> 42; 0 for any other name.
uint64_t SegmentIdOf(const std::string& name) {
  if (name.size() != 6 + 20 + 4 || name.rfind("usage-", 0) != 0 || name.substr(26) != ".log") return 0;
  uint64_t id = 0;
  for (size_t i = 6; i < 26; ++i) {
    if (name[i] < '0' || name[i] > '9') return 0;
    id = id * 10 + static_cast<uint64_t>(name[i] - '0');
  }
  return id;
}

}  // namespace

UsageAggregator::UsageAggregator(size_t max_entries) : max_entries_(max_entries == 0 ? 1 : max_entries) {}

void UsageAggregator::set_max_entries(size_t max_entries) {
  std::lock_guard<std::mutex> lock(mu_);
  max_entries_ = max_entries == 0 ? 1 : max_entries;
}

Bytes UsageAggregator::EncodeRecord(uint64_t escrow_id, const seal::Digest32& requester_key_hash, uint64_t prompt_tokens,
                                    uint64_t completion_tokens, uint64_t cost) {
  ByteWriter w(kUsageRecordSize);
  w.U64BE(escrow_id);
  w.Bytes(requester_key_hash);
  w.U64BE(prompt_tokens);
  w.U64BE(completion_tokens);
  w.U64BE(cost);
  const seal::Digest32 check = seal::Sha256(w.bytes());
  w.Bytes(ByteView(check).first(8));
  return w.Take();
}

Result<chain::UsageEntry> UsageAggregator::DecodeRecord(ByteView record) {
  ByteReader r(record);
  chain::UsageEntry e;
  CMLN_ASSIGN_OR_RETURN(e.escrow_id, r.U64BE("usage.escrow_id"));
  CMLN_TRY(r.Array(e.requester_key_hash, "usage.requester_key_hash"));
  CMLN_ASSIGN_OR_RETURN(e.prompt_tokens, r.U64BE("usage.prompt_tokens"));
  CMLN_ASSIGN_OR_RETURN(e.completion_tokens, r.U64BE("usage.completion_tokens"));
  CMLN_ASSIGN_OR_RETURN(e.cost, r.U64BE("usage.cost"));
  CMLN_ASSIGN_OR_RETURN(ByteView check, r.Bytes(8, "usage.check"));
  if (!ConstantTimeEqual(check, ByteView(seal::Sha256(record.first(kRecordBody))).first(8))) {
    return Error(ErrorCode::kChecksumMismatch, "usage record: check bytes do not match");
  }
  e.requests = 1;
  return e;
}

void UsageAggregator::Merge(std::map<uint64_t, chain::UsageEntry>& into, const chain::UsageEntry& r) {
  chain::UsageEntry& e = into[r.escrow_id];
  e.escrow_id = r.escrow_id;
  e.requester_key_hash = r.requester_key_hash;
  e.requests += r.requests;
  e.prompt_tokens += r.prompt_tokens;
  e.completion_tokens += r.completion_tokens;
  e.cost += r.cost;
}

std::string UsageAggregator::PathOf(uint64_t segment_id) const {
  char name[40];
  std::snprintf(name, sizeof(name), "usage-%020llu.log", static_cast<unsigned long long>(segment_id));
  return (fs::path(dir_) / name).string();
}

Status UsageAggregator::OpenDurable(const std::string& dir) {
  std::lock_guard<std::mutex> lock(mu_);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Error(ErrorCode::kIoError, "usage directory " + dir + ": " + ec.message());
  dir_ = dir;
  std::map<uint64_t, std::string> files;
  for (const auto& f : fs::directory_iterator(dir, ec)) {
    if (!f.is_regular_file()) continue;
    if (const uint64_t id = SegmentIdOf(f.path().filename().string()); id != 0) files[id] = f.path().string();
  }
  if (ec) return Error(ErrorCode::kIoError, "usage directory " + dir + ": " + ec.message());
  for (const auto& [id, path] : files) {
    next_id_ = std::max(next_id_, id + 1);
    CMLN_ASSIGN_OR_RETURN(Bytes bytes, attest::ReadFileCapped(path, kMaxSegmentFileBytes));
    std::map<uint64_t, chain::UsageEntry> entries;
    const std::string name = fs::path(path).filename().string();
    if (bytes.size() >= kUsageLogMagic.size() && AsChars(ByteView(bytes).first(kUsageLogMagic.size())) != kUsageLogMagic) {
      log::Err("usage_log_unreadable", {{"file", name}, {"reason", "magic"}});
      continue;  // kept on disk for the operator, never billed
    }
    size_t off = kUsageLogMagic.size();
    size_t records = 0;
    while (bytes.size() >= off + kUsageRecordSize) {
      auto rec = DecodeRecord(ByteView(bytes).subspan(off, kUsageRecordSize));
      if (!rec.ok()) {
        const bool last = bytes.size() - off < 2 * kUsageRecordSize;
        if (!last) log::Err("usage_log_corrupt", {{"file", name}, {"record", records}});
        break;  // the last record torn by a crash mid-append: its receipt never left
      }
      Merge(entries, *rec);
      off += kUsageRecordSize;
      ++records;
    }
    if (entries.empty()) {
      CMLN_TRY(RemoveDurably(path));
      continue;
    }
    log::Info("usage_log_replayed", {{"segment", id}, {"records", records}, {"escrows", entries.size()}});
    closed_[id] = std::move(entries);
  }
  return OkStatus();
}

Status UsageAggregator::Add(uint64_t escrow_id, const seal::Digest32& requester_key_hash, uint64_t prompt_tokens,
                            uint64_t completion_tokens, uint64_t cost) {
  std::lock_guard<std::mutex> lock(mu_);
  if (open_.id != 0 && open_.entries.size() >= max_entries_ && open_.entries.count(escrow_id) == 0) CloseLocked();
  if (open_.id == 0) open_.id = next_id_++;
  if (!dir_.empty()) {
    if (!open_.file) {
      auto file = AppendFile::Open(PathOf(open_.id), AsBytes(kUsageLogMagic));
      if (!file.ok()) return file.error();
      open_.file = std::make_unique<AppendFile>(std::move(*file));
    }
    Status st = open_.file->Append(EncodeRecord(escrow_id, requester_key_hash, prompt_tokens, completion_tokens, cost));
    if (!st.ok()) {
      CloseLocked();  // the file may end in a torn record now: later usage goes to a fresh file
      return st;
    }
  }
  chain::UsageEntry e;
  e.escrow_id = escrow_id;
  e.requester_key_hash = requester_key_hash;
  e.requests = 1;
  e.prompt_tokens = prompt_tokens;
  e.completion_tokens = completion_tokens;
  e.cost = cost;
  Merge(open_.entries, e);
  return OkStatus();
}

void UsageAggregator::CloseLocked() {
  if (open_.id == 0) return;
  if (!open_.entries.empty()) {
    closed_[open_.id] = std::move(open_.entries);
  } else if (open_.file) {
    const std::string path = open_.file->path();
    open_.file.reset();
    Status st = RemoveDurably(path);  // created, but nothing in it was ever billed
    if (!st.ok()) log::Warn("usage_log_remove_failed", {{"reason", st.error().message()}});
  }
  open_ = Open{};
}

uint64_t UsageAggregator::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  CloseLocked();
  return closed_.empty() ? 0 : closed_.rbegin()->first;
}

std::optional<UsageAggregator::Segment> UsageAggregator::TakeSegment(uint64_t up_to) {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_.empty() || closed_.begin()->first > up_to) return std::nullopt;
  Segment s;
  s.id = closed_.begin()->first;
  for (auto& [escrow, entry] : closed_.begin()->second) s.entries.push_back(entry);
  closed_.erase(closed_.begin());
  return s;
}

void UsageAggregator::Return(Segment segment) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& entries = closed_[segment.id];
  for (const auto& e : segment.entries) Merge(entries, e);
}

Status UsageAggregator::Release(uint64_t segment_id) {
  std::lock_guard<std::mutex> lock(mu_);
  closed_.erase(segment_id);
  if (dir_.empty()) return OkStatus();
  return RemoveDurably(PathOf(segment_id));
}

std::vector<UsageAggregator::Segment> UsageAggregator::Pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Segment> out;
  for (const auto& [id, entries] : closed_) {
    Segment s{id, {}};
    for (const auto& [escrow, e] : entries) s.entries.push_back(e);
    out.push_back(std::move(s));
  }
  if (!open_.entries.empty()) {
    Segment s{open_.id, {}};
    for (const auto& [escrow, e] : open_.entries) s.entries.push_back(e);
    out.push_back(std::move(s));
  }
  return out;
}

bool UsageAggregator::empty() const {
  std::lock_guard<std::mutex> lock(mu_);
  return closed_.empty() && open_.entries.empty();
}

}  // namespace cmln::node
