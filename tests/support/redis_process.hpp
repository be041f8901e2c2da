#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace yunity::test {

struct RedisProcessOptions {
  // Extra server arguments, e.g. {"--notify-keyspace-events", "KEA"}.
  std::vector<std::string> extra_args;
  // Non-empty: the server is started with --requirepass and command() authenticates with it.
  std::string password;
  // Empty: $REDIS_SERVER if set, else redis-server from PATH.
  std::string binary;
  std::chrono::milliseconds start_timeout{5000};
};

// A reply from RedisProcess::command(), independent of any client library under test.
struct SyncReply {
  enum class Type { nil, integer, string, status, error, array };
  Type type = Type::nil;
  long long integer = 0;
  std::string str;
  std::vector<SyncReply> elements;
  bool is_error() const { return type == Type::error; }
};

// A throw-away redis-server for tests: its own free port on 127.0.0.1 and its own temporary directory, no
// persistence. The server dies with the test process (PR_SET_PDEATHSIG) even if the test crashes.
// Failures throw std::runtime_error carrying the server's log.
class RedisProcess {
 public:
  // Picks the port and the directory; does not start the server, so a test can point a client at a server
  // that is not there yet.
  explicit RedisProcess(RedisProcessOptions options = {});
  ~RedisProcess();  // kills the server, removes the directory
  RedisProcess(const RedisProcess&) = delete;
  RedisProcess& operator=(const RedisProcess&) = delete;

  // Starts the server (on the same port every time) and returns once it answers.
  void start();
  // SHUTDOWN NOSAVE and waits for the exit (SIGKILL if it takes longer than 5 s).
  void stop();
  // SIGKILL and waits for the exit.
  void kill();
  // SIGSTOP / SIGCONT: the server keeps its connections but answers nothing.
  void pause();
  void resume();
  // stop() then start(): the same port, an empty dataset.
  void restart();

  bool running() const { return pid_ > 0; }
  bool paused() const { return paused_; }
  std::uint16_t port() const { return port_; }
  const std::filesystem::path& dir() const { return dir_; }
  // redis://[:password@]127.0.0.1:<port>[/db]
  std::string url(int db = 0) const;
  // The server's log file so far.
  std::string log() const;

  // Runs one command on a fresh blocking connection (authenticated when a password is set) and returns the
  // reply; throws if the server cannot be reached or does not answer within `timeout`.
  SyncReply command(const std::vector<std::string>& argv,
                    std::chrono::milliseconds timeout = std::chrono::milliseconds(2000)) const;

 private:
  bool wait_exit(std::chrono::milliseconds timeout);
  [[noreturn]] void fail(const std::string& what) const;

  RedisProcessOptions options_;
  std::filesystem::path dir_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
  bool paused_ = false;
};

}  // namespace yunity::test
