#include "testing/test_util.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

namespace cmln::testing {

std::string DataPath(const std::string& relative) { return std::string(CMLN_TEST_DATA_DIR) + "/" + relative; }

std::string ReadFileOrDie(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    std::cerr << "cannot read " << path << "\n";
    std::abort();
  }
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

nlohmann::json ReadJsonOrDie(const std::string& path) { return nlohmann::json::parse(ReadFileOrDie(path)); }

Bytes Hex(std::string_view hex) {
  auto r = HexDecode(hex);
  if (!r.ok()) {
    std::cerr << "bad hex in test data: " << r.error().ToString() << "\n";
    std::abort();
  }
  return *r;
}

const std::string& VectorBlock::Get(const std::string& key) const {
  auto it = attrs_.find(key);
  if (it == attrs_.end()) {
    std::cerr << "vector attribute missing: " << key << "\n";
    std::abort();
  }
  used_.insert(key);
  return it->second;
}

uint64_t VectorBlock::GetInt(const std::string& key) const { return std::stoull(Get(key), nullptr, 0); }

std::vector<std::string> VectorBlock::Unused() const {
  std::vector<std::string> out;
  for (const auto& [k, v] : attrs_) {
    if (!used_.count(k)) out.push_back(k);
  }
  return out;
}

std::vector<std::string> VectorCase::Unused() const {
  std::vector<std::string> out = attrs.Unused();
  for (const auto& [name, blocks] : groups) {
    for (size_t i = 0; i < blocks.size(); ++i) {
      for (const auto& k : blocks[i].Unused()) out.push_back(name + "[" + std::to_string(i) + "]." + k);
    }
  }
  return out;
}

namespace {
std::string Trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t\r");
  if (a == std::string::npos) return "";
  size_t b = s.find_last_not_of(" \t\r");
  return s.substr(a, b - a + 1);
}
}  // namespace

std::vector<VectorCase> ReadVectorFile(const std::string& path) {
  std::istringstream in(ReadFileOrDie(path));
  std::vector<VectorCase> cases;
  VectorCase current;
  VectorBlock* target = nullptr;
  bool open = false;
  std::string line;
  int lineno = 0;
  auto flush = [&] {
    if (open) cases.push_back(std::move(current));
    current = VectorCase();
    target = nullptr;
    open = false;
  };
  while (std::getline(in, line)) {
    ++lineno;
    std::string t = Trim(line);
    if (t.empty()) {
      flush();
      continue;
    }
    if (!open) {
      open = true;
      current.line = lineno;
      target = &current.attrs;
    }
    if (t[0] == '#') {
      // "# name[i]" starts a group block.
      std::string body = Trim(t.substr(1));
      size_t lb = body.find('[');
      if (lb != std::string::npos && body.back() == ']') {
        auto& vec = current.groups[body.substr(0, lb)];
        vec.emplace_back();
        target = &vec.back();
      }
      continue;
    }
    size_t eq = t.find('=');
    if (eq == std::string::npos) {
      std::cerr << path << ":" << lineno << ": not key = value\n";
      std::abort();
    }
    target->Set(Trim(t.substr(0, eq)), Trim(t.substr(eq + 1)));
  }
  flush();
  return cases;
}

ProcessResult RunProcess(const std::string& command, const std::string& stdin_data) {
  int in_pipe[2];
  int out_pipe[2];
  if (pipe(in_pipe) != 0 || pipe(out_pipe) != 0) return {};
  pid_t pid = fork();
  if (pid == 0) {
    dup2(in_pipe[0], 0);
    dup2(out_pipe[1], 1);
    close(in_pipe[1]);
    close(out_pipe[0]);
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(in_pipe[0]);
  close(out_pipe[1]);
  std::thread writer([&] {
    size_t off = 0;
    while (off < stdin_data.size()) {
      ssize_t n = write(in_pipe[1], stdin_data.data() + off, stdin_data.size() - off);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    close(in_pipe[1]);
  });
  ProcessResult r;
  char buf[65536];
  ssize_t n;
  while ((n = read(out_pipe[0], buf, sizeof(buf))) > 0) r.out.append(buf, static_cast<size_t>(n));
  close(out_pipe[0]);
  writer.join();
  int status = 0;
  waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

}  // namespace cmln::testing
