// The usage the node billed (a receipt left for each request) and has not yet sealed into a usage batch
// (DESIGN section 3 step 8), summed per escrow, in segments.
//
// Segments: usage accumulates in the open segment; sealing closes it (Close) and takes closed segments
// whole, oldest first, one batch each (TakeSegment). A segment never holds more than max_entries escrows
// (a new escrow past that opens the next segment), so one batch always fits it.
//
// Durable mode (OpenDurable, what the node runs): every Add appends one record to the segment's file
// DIR/usage-<segment id, 20 digits>.log and fdatasyncs it before returning, so usage a receipt billed
// survives a crash before its batch is journaled (THREATS D2, "never loses billable work"). A segment's
// file is deleted (Release) only once a journaled batch holds that segment's usage; the journal record
// names the segment, so recovery after a crash between the two deletes the file instead of billing twice.
// File: magic "CMLNUSG1", then 72-byte records
//   escrow_id:u64 requester_key_hash:32 prompt_tokens:u64 completion_tokens:u64 cost:u64
//   check:8 (the first 8 bytes of SHA-256 over the 64 bytes before it)   (big-endian)
// A short or mismatching last record is a torn append (its Add failed, so its receipt never left) and is
// ignored; a mismatch before the last record stops the replay of that file there (logged: usage lost).
// After a failed append the segment is closed, so the next Add writes a fresh file.
//
// Thread safety: internally synchronized.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "chain/usage_batch.h"
#include "common/durable_file.h"
#include "common/status.h"
#include "seal/crypto.h"

namespace cmln::node {

inline constexpr std::string_view kUsageLogMagic = "CMLNUSG1";
inline constexpr size_t kUsageRecordSize = 72;

class UsageAggregator {
 public:
  struct Segment {
    uint64_t id = 0;
    std::vector<chain::UsageEntry> entries;  // increasing escrow id (the batch order)
  };

  explicit UsageAggregator(size_t max_entries = 1024);

  // Replays DIR's segment files (each becomes a closed segment) and makes every later Add durable.
  // Call once, before the first Add. kIoError if DIR cannot be created or read.
  Status OpenDurable(const std::string& dir);
  void set_max_entries(size_t max_entries);

  // Records one billed request. Durable mode: returns only after the record is on disk; on kIoError
  // nothing was recorded and no receipt may be issued for it.
  Status Add(uint64_t escrow_id, const seal::Digest32& requester_key_hash, uint64_t prompt_tokens,
             uint64_t completion_tokens, uint64_t cost);

  // Closes the open segment if it holds usage (new usage starts the next one); returns the highest
  // closed segment id (0 if none), the bound a sealing pass takes up to.
  uint64_t Close();
  // Removes and returns the oldest closed segment with id <= up_to, or nullopt.
  std::optional<Segment> TakeSegment(uint64_t up_to);
  // A taken segment whose batch could not be journaled: closed again, taken first next time.
  void Return(Segment segment);
  // The segment's usage is in a journaled batch: its file is deleted (and, at recovery, a replayed copy
  // of it is forgotten). Idempotent.
  Status Release(uint64_t segment_id);

  // Every segment's usage not yet taken (recovery: counted as unsettled in the quota ledger).
  std::vector<Segment> Pending() const;
  bool empty() const;

  // The 72-byte record codec (exposed for tests and fuzzing). Decode: kTruncated / kChecksumMismatch.
  static Bytes EncodeRecord(uint64_t escrow_id, const seal::Digest32& requester_key_hash, uint64_t prompt_tokens,
                            uint64_t completion_tokens, uint64_t cost);
  static Result<chain::UsageEntry> DecodeRecord(ByteView record);

 private:
  struct Open {
    uint64_t id = 0;
    std::map<uint64_t, chain::UsageEntry> entries;
    std::unique_ptr<AppendFile> file;  // durable mode, once the first Add opened it
  };
  static void Merge(std::map<uint64_t, chain::UsageEntry>& into, const chain::UsageEntry& e);
  std::string PathOf(uint64_t segment_id) const;
  void CloseLocked();

  mutable std::mutex mu_;
  size_t max_entries_;
  std::string dir_;  // empty: in memory only
  uint64_t next_id_ = 1;
  Open open_;
  std::map<uint64_t, std::map<uint64_t, chain::UsageEntry>> closed_;
};

}  // namespace cmln::node
