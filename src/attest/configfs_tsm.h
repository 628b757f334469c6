// Evidence from real hardware through Linux configfs-tsm (Documentation/ABI/testing/configfs-tsm): the
// one kernel interface for TDX quotes and SEV-SNP reports inside a confidential VM.
//
// Protocol, per report: mkdir <root>/<entry>; read `generation` (g0); write `privlevel` (SNP only, optional)
// and `inblob` (exactly 64 bytes of report data) — each write increments `generation`; read `outblob`
// (the kernel produces the quote/report on first read) and `auxblob` (SNP certificate table, if any);
// read `generation` again and require it to equal g0 + the number of our writes. Any other value means
// another process wrote to the same entry between our write and read (the race the kernel exposes
// `generation` for), so the outblob may belong to someone else's report data: we retry from the start,
// up to `max_attempts`, and then fail with kReplay. The entry is removed (rmdir) afterwards.
//
// Thread safety: each call uses its own uniquely named entry; concurrent calls are safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/bytes.h"
#include "common/status.h"

namespace cmln::attest {

struct TsmOptions {
  // The configfs-tsm report directory. Default: the kernel's mount point.
  std::string root = "/sys/kernel/config/tsm/report";
  // SEV-SNP VMPL to request (0-3); unset leaves the kernel default. Ignored by TDX.
  std::optional<uint32_t> privlevel;
  // Attempts before giving up when `generation` shows a concurrent writer.
  int max_attempts = 3;
  // Name prefix of the entry directory; a unique suffix (pid and counter) is appended.
  std::string entry_prefix = "cmln";
  // Use exactly this entry name instead of prefix-pid-counter (the directory may already exist).
  // For tests on an emulated tree, and for operators who pre-create the entry.
  std::string entry_name;
  // Remove the entry after reading.
  bool remove_entry = true;
};

struct TsmReport {
  std::string provider;  // "tdx_guest" or "sev_guest" as the kernel reports it
  Bytes outblob;         // the TDX quote or SNP attestation report
  Bytes auxblob;         // SNP: certificate table (VCEK/VLEK, ASK, ARK) when the host supplies it; may be empty
  uint64_t generation = 0;
};

// Collects one report binding `report_data` (exactly 64 bytes, else kInvalidArgument).
// kNotFound if configfs-tsm is absent (not in a CVM or the kernel lacks TSM_REPORTS), kIoError for other
// filesystem failures, kReplay if every attempt raced with another writer.
Result<TsmReport> CollectTsmReport(ByteView report_data, const TsmOptions& options = TsmOptions());

}  // namespace cmln::attest
