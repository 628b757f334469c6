// ChildProcess: the spawner `cmln devnet` and the end-to-end tests run real processes with.
#include "common/child_process.h"

#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

namespace cmln {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;

class ChildProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cmln-child-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Log(const std::string& name) const { return (dir_ / (name + ".log")).string(); }
  fs::path dir_;
};

TEST_F(ChildProcessTest, ListeningLineOfThisRunOnly) {
  ChildProcess p("sh", Log("sh"));
  ASSERT_TRUE(p.Start({"/bin/sh", "-c", "echo 'not json'; echo '{\"listening\":\"127.0.0.1:1111\"}'; exit 3"}).ok());
  EXPECT_EQ(p.WaitListening(seconds(10)).value_or(""), "http://127.0.0.1:1111");
  auto status = p.WaitExit(seconds(10));
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 3);
  EXPECT_FALSE(p.Running());
  // A second run appends to the same log; the first run's line must not count.
  ASSERT_TRUE(p.Start({"/bin/sh", "-c", "echo '{\"listening\":\"127.0.0.1:2222\"}'; sleep 30"}).ok());
  EXPECT_EQ(p.WaitListening(seconds(10)).value_or(""), "http://127.0.0.1:2222");
  EXPECT_NE(p.RunLog().find("2222"), std::string::npos);
  EXPECT_EQ(p.RunLog().find("1111"), std::string::npos);
  const int st = p.Stop(seconds(10));
  EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM) << st;
}

TEST_F(ChildProcessTest, WaitListeningGivesUpWhenTheChildExits) {
  ChildProcess p("sh", Log("sh"));
  ASSERT_TRUE(p.Start({"/bin/sh", "-c", "echo starting; exit 1"}).ok());
  EXPECT_FALSE(p.WaitListening(seconds(30)).has_value());
  EXPECT_FALSE(p.Running());
  EXPECT_EQ(WEXITSTATUS(p.exit_status()), 1);
}

TEST_F(ChildProcessTest, MissingExecutableIsAnErrorOrExit127) {
  ChildProcess p("nothing", Log("nothing"));
  Status s = p.Start({(dir_ / "no-such-binary").string()});
  if (s.ok()) {  // glibc reports exec failures of posix_spawn as exit 127 on some versions
    auto st = p.WaitExit(seconds(10));
    ASSERT_TRUE(st.has_value());
    EXPECT_EQ(WEXITSTATUS(*st), 127);
  } else {
    EXPECT_EQ(s.error().code(), ErrorCode::kIoError);
  }
}

TEST_F(ChildProcessTest, StartWhileRunningIsRefused) {
  ChildProcess p("sleep", Log("sleep"));
  ASSERT_TRUE(p.Start({"/bin/sleep", "30"}).ok());
  Status again = p.Start({"/bin/sleep", "30"});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), ErrorCode::kInvalidArgument);
  const int st = p.Kill();
  EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
}

// The parent blocks SIGTERM (as `cmln devnet` does to sigwait it); the child must still die of it.
TEST_F(ChildProcessTest, ChildGetsSigtermEvenWhenTheParentBlocksIt) {
  sigset_t term, old;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &term, &old);
  ChildProcess p("sleep", Log("sleep"));
  ASSERT_TRUE(p.Start({"/bin/sleep", "30"}).ok());
  const int st = p.Stop(seconds(10));
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM) << "status " << st;
}

TEST_F(ChildProcessTest, ExtraEnvironmentOverridesInherited) {
  ::setenv("CMLN_CHILD_TEST_VAR", "parent", 1);
  ChildProcess p("env", Log("env"));
  ASSERT_TRUE(p.Start({"/bin/sh", "-c", "echo \"var=$CMLN_CHILD_TEST_VAR other=$CMLN_CHILD_OTHER\""},
                      {"CMLN_CHILD_TEST_VAR=child", "CMLN_CHILD_OTHER=x"})
                  .ok());
  ASSERT_TRUE(p.WaitExit(seconds(10)).has_value());
  EXPECT_NE(p.RunLog().find("var=child other=x"), std::string::npos) << p.RunLog();
  ::unsetenv("CMLN_CHILD_TEST_VAR");
}

TEST_F(ChildProcessTest, DestructorKillsARunningChild) {
  pid_t pid = -1;
  {
    ChildProcess p("sleep", Log("sleep"));
    ASSERT_TRUE(p.Start({"/bin/sleep", "30"}).ok());
    pid = p.pid();
    ASSERT_GT(pid, 0);
  }
  EXPECT_EQ(::kill(pid, 0), -1);  // reaped: no such process
}

}  // namespace
}  // namespace cmln
