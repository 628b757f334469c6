#include "common/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include <nlohmann/json.hpp>

extern char** environ;

namespace cmln {

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kPoll = std::chrono::milliseconds(20);

size_t FileSize(const std::string& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  return ec ? 0 : static_cast<size_t>(size);
}

// The environment for the child: ours, with `extra` entries replacing same-named ones.
std::vector<std::string> ChildEnvironment(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view entry(*e);
    const std::string_view name = entry.substr(0, entry.find('='));
    bool overridden = false;
    for (const std::string& x : extra) overridden = overridden || x.compare(0, name.size() + 1, std::string(name) + "=") == 0;
    if (!overridden) env.emplace_back(entry);
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

}  // namespace

ChildProcess::ChildProcess(std::string name, std::string log_path)
    : name_(std::move(name)), log_path_(std::move(log_path)) {}

ChildProcess::~ChildProcess() { Kill(); }

Status ChildProcess::Start(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env) {
  if (Running()) return Error(ErrorCode::kInvalidArgument, name_ + ": already running");
  if (argv.empty()) return Error(ErrorCode::kInvalidArgument, name_ + ": empty argv");
  log_start_ = FileSize(log_path_);

  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, 1, log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&files, 1, 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<std::string> args = argv;
  std::vector<char*> arg_ptrs;
  for (auto& a : args) arg_ptrs.push_back(a.data());
  arg_ptrs.push_back(nullptr);
  std::vector<std::string> env = ChildEnvironment(extra_env);
  std::vector<char*> env_ptrs;
  for (auto& e : env) env_ptrs.push_back(e.data());
  env_ptrs.push_back(nullptr);

  pid_t pid = -1;
  const int rc = posix_spawn(&pid, args[0].c_str(), &files, &attr, arg_ptrs.data(), env_ptrs.data());
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&files);
  if (rc != 0) return Error(ErrorCode::kIoError, name_ + ": cannot start " + args[0] + ": " + std::strerror(rc));
  pid_ = pid;
  exit_status_ = 0;
  return OkStatus();
}

bool ChildProcess::Running() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    exit_status_ = status;
    pid_ = -1;
    return false;
  }
  return true;
}

std::optional<std::string> ChildProcess::WaitListening(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    std::ifstream in(log_path_);
    in.seekg(static_cast<std::streamoff>(log_start_));
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] != '{') continue;
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_object() && j.contains("listening") && j["listening"].is_string()) {
        return "http://" + j["listening"].get<std::string>();
      }
    }
    if (!Running() || Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(kPoll);
  }
}

std::optional<int> ChildProcess::WaitExit(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (!Running()) return exit_status_;
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(kPoll);
  }
}

void ChildProcess::Signal(int signo) {
  if (pid_ > 0) ::kill(pid_, signo);
}

int ChildProcess::Stop(std::chrono::milliseconds grace) {
  if (!Running()) return 0;
  ::kill(pid_, SIGTERM);
  if (auto status = WaitExit(grace)) return *status;
  return Kill();
}

int ChildProcess::Kill() {
  if (pid_ <= 0) return 0;
  ::kill(pid_, SIGCONT);
  ::kill(pid_, SIGKILL);
  return Reap();
}

int ChildProcess::Reap() {
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  exit_status_ = status;
  pid_ = -1;
  return status;
}

std::string ChildProcess::RunLog() const {
  std::ifstream in(log_path_, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(log_start_));
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string SelfExecutablePath() {
  std::error_code ec;
  const auto path = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("/proc/self/exe") : path.string();
}

}  // namespace cmln
