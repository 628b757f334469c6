// A child process whose stdout and stderr are appended to a log file: how `cmln devnet` runs the chain,
// CometBFT, the nodes and the proxy, and how end-to-end tests run real processes.
//
// Contract:
//  - Start spawns argv[0] (a path; no PATH search) with the parent's environment plus `extra_env`
//    ("NAME=value" entries, which win over inherited ones). The child starts with an empty signal mask
//    and default SIGINT/SIGTERM handling even when the parent blocks them to sigwait (as `cmln devnet`
//    and the servers do), so Stop reaches it.
//  - The log is opened O_APPEND and shared across restarts; WaitListening reads only what this run
//    wrote (from the log size at Start).
//  - Stop/Kill reap the child; the destructor kills (SIGKILL) a child that is still running, so an
//    early return or a failed test leaks no process.
//  - Not thread-safe: one owner drives one ChildProcess.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace cmln {

class ChildProcess {
 public:
  ChildProcess(std::string name, std::string log_path);
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  // Spawns argv (argv[0] is the executable's path). kInvalidArgument if this one is still running;
  // kIoError if the spawn fails.
  Status Start(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env = {});

  // False once the child has exited (the exit is reaped here, see exit_status()).
  bool Running();
  // The "listening" member of the first JSON line of this run's log as "http://HOST:PORT", or nullopt
  // when the child exits or the timeout passes first.
  std::optional<std::string> WaitListening(std::chrono::milliseconds timeout);
  // Waits up to `timeout` for the child to exit by itself; its wait status, or nullopt if still running.
  std::optional<int> WaitExit(std::chrono::milliseconds timeout);
  // Sends a signal (no-op when not running).
  void Signal(int signo);
  // SIGTERM, then SIGKILL after `grace`; reaps. Returns the wait status (0 if it was not running).
  int Stop(std::chrono::milliseconds grace);
  // SIGKILL (after SIGCONT, in case it was stopped) and reap. Returns the wait status.
  int Kill();

  pid_t pid() const { return pid_; }
  const std::string& name() const { return name_; }
  const std::string& log_path() const { return log_path_; }
  // This run's part of the log (what was appended since Start), or the whole log before any Start.
  std::string RunLog() const;
  // The wait status of the last exit observed (meaningful once Running() returned false).
  int exit_status() const { return exit_status_; }

 private:
  int Reap();

  std::string name_;
  std::string log_path_;
  pid_t pid_ = -1;
  size_t log_start_ = 0;
  int exit_status_ = 0;
};

// The path of the running executable (/proc/self/exe resolved), so `cmln` can spawn itself.
std::string SelfExecutablePath();

}  // namespace cmln
