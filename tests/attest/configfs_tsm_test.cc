// configfs-tsm provider against an emulated report entry. No TSM kernel is available here, so a test
// thread plays the kernel's part: `outblob` is a FIFO, and the "kernel" answers each read of it by
// bumping `generation` for the write it saw and returning a report over the inblob it was given. This
// exercises the provider's real file protocol and its race check; it does not prove the kernel's side.
#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "attest/configfs_tsm.h"

namespace cmln::attest {
namespace {

namespace fs = std::filesystem;

class EmulatedTsm {
 public:
  EmulatedTsm() {
    root_ = fs::temp_directory_path() / ("cmln-tsm-" + std::to_string(::getpid()) + "-" + std::to_string(++n_));
    entry_ = root_ / "e";
    fs::create_directories(entry_);
    Write("generation", "5\n");
    Write("provider", "tdx_guest\n");
    Write("inblob", "");
    ::mkfifo((entry_ / "outblob").c_str(), 0600);
  }
  ~EmulatedTsm() { fs::remove_all(root_); }

  // Plays the kernel for `rounds` writes of inblob: each write (seen through inotify) bumps generation by
  // bumps[i] (1 = only our write; more = a concurrent writer) and is answered on the outblob FIFO.
  // Rounds cannot overlap: the next one starts only at the provider's next inblob write, after it has
  // finished with the previous outblob.
  std::thread Serve(int rounds, std::vector<int> bumps) {
    int in = inotify_init1(IN_CLOEXEC);
    inotify_add_watch(in, (entry_ / "inblob").c_str(), IN_CLOSE_WRITE);
    return std::thread([this, in, rounds, bumps] {
      for (int i = 0; i < rounds; ++i) {
        alignas(inotify_event) char ev[sizeof(inotify_event) + 256];
        if (::read(in, ev, sizeof(ev)) <= 0) break;
        std::ifstream f(entry_ / "inblob", std::ios::binary);
        std::string inblob((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        generation_ += bumps[static_cast<size_t>(i)];
        Write("generation", std::to_string(generation_) + "\n");
        int fd = ::open((entry_ / "outblob").c_str(), O_WRONLY);  // blocks until the provider reads
        std::string report = "REPORT:" + inblob;
        ssize_t w = ::write(fd, report.data(), report.size());
        (void)w;
        ::close(fd);
      }
      ::close(in);
    });
  }

  TsmOptions Options() const {
    TsmOptions o;
    o.root = root_.string();
    o.entry_name = "e";
    o.remove_entry = false;
    return o;
  }

 private:
  void Write(const std::string& name, const std::string& content) {
    std::ofstream(entry_ / name, std::ios::binary | std::ios::trunc) << content;
  }
  static inline int n_ = 0;
  fs::path root_;
  fs::path entry_;
  uint64_t generation_ = 5;
};

TEST(ConfigfsTsm, CollectsReportBoundToReportData) {
  EmulatedTsm tsm;
  Bytes report_data(64, 0xab);
  std::thread kernel = tsm.Serve(1, {1});
  auto r = CollectTsmReport(report_data, tsm.Options());
  kernel.join();
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->provider, "tdx_guest");
  EXPECT_EQ(r->generation, 6u);
  EXPECT_EQ(r->outblob, ToBytes("REPORT:" + std::string(64, '\xab')));
}

TEST(ConfigfsTsm, RetriesWhenAnotherWriterRaces) {
  EmulatedTsm tsm;
  // First attempt: a racer wrote too (generation +2) -> retry; second attempt clean.
  std::thread kernel = tsm.Serve(2, {2, 1});
  auto r = CollectTsmReport(Bytes(64, 1), tsm.Options());
  kernel.join();
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->generation, 8u);
}

TEST(ConfigfsTsm, GivesUpWithReplayAfterRepeatedRaces) {
  EmulatedTsm tsm;
  TsmOptions o = tsm.Options();
  o.max_attempts = 2;
  std::thread kernel = tsm.Serve(2, {3, 2});
  auto r = CollectTsmReport(Bytes(64, 1), o);
  kernel.join();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kReplay);
}

TEST(ConfigfsTsm, RefusesReportDataOfWrongSize) {
  auto r = CollectTsmReport(Bytes(63, 0));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
}

TEST(ConfigfsTsm, AbsentInterfaceIsNotFound) {
  TsmOptions o;
  o.root = "/nonexistent/cmln/tsm";
  auto r = CollectTsmReport(Bytes(64, 0), o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace cmln::attest
