#include "redis_process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <hiredis/hiredis.h>

namespace yunity::test {
namespace {

// Asks the kernel for a free port. Another process could take it before redis binds it; for tests on one
// machine that is rare enough, and start() then fails loudly with redis' own bind error.
std::uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const int e = errno;
    ::close(fd);
    throw std::runtime_error(std::string("cannot find a free port: ") + std::strerror(e));
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::filesystem::path make_temp_dir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "yunity-redis-XXXXXX").string();
  if (!::mkdtemp(pattern.data())) throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
  return pattern;
}

SyncReply convert(const redisReply& r) {
  SyncReply out;
  switch (r.type) {
    case REDIS_REPLY_STRING:
      out.type = SyncReply::Type::string;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = SyncReply::Type::status;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = SyncReply::Type::error;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = SyncReply::Type::integer;
      out.integer = r.integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = SyncReply::Type::array;
      for (std::size_t i = 0; i < r.elements; ++i) out.elements.push_back(convert(*r.element[i]));
      break;
    default:
      break;
  }
  return out;
}

timeval to_timeval(std::chrono::milliseconds d) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(d.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((d.count() % 1000) * 1000);
  return tv;
}

struct ContextDeleter {
  void operator()(redisContext* c) const { redisFree(c); }
};
using Context = std::unique_ptr<redisContext, ContextDeleter>;

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

ReplyPtr run(redisContext* c, const std::vector<std::string>& argv) {
  std::vector<const char*> args;
  std::vector<std::size_t> lengths;
  for (const auto& a : argv) {
    args.push_back(a.data());
    lengths.push_back(a.size());
  }
  return ReplyPtr(static_cast<redisReply*>(
      redisCommandArgv(c, static_cast<int>(args.size()), args.data(), lengths.data())));
}

}  // namespace

RedisProcess::RedisProcess(RedisProcessOptions options)
    : options_(std::move(options)), dir_(make_temp_dir()), port_(free_port()) {
  if (options_.binary.empty()) {
    const char* env = std::getenv("REDIS_SERVER");
    options_.binary = env && *env ? env : "redis-server";
  }
}

RedisProcess::~RedisProcess() {
  if (running()) kill();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string RedisProcess::url(int db) const {
  std::string u = "redis://";
  if (!options_.password.empty()) u += ":" + options_.password + "@";
  u += "127.0.0.1:" + std::to_string(port_);
  if (db != 0) u += "/" + std::to_string(db);
  return u;
}

std::string RedisProcess::log() const {
  std::ifstream in(dir_ / "redis.log");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void RedisProcess::fail(const std::string& what) const {
  throw std::runtime_error("redis-server on port " + std::to_string(port_) + ": " + what + "\n--- log ---\n" + log());
}

void RedisProcess::start() {
  if (running()) return;
  std::vector<std::string> args{options_.binary,
                                "--port", std::to_string(port_),
                                "--bind", "127.0.0.1",
                                "--save", "",
                                "--appendonly", "no",
                                "--daemonize", "no",
                                "--dir", dir_.string(),
                                "--logfile", (dir_ / "redis.log").string()};
  if (!options_.password.empty()) {
    args.push_back("--requirepass");
    args.push_back(options_.password);
  }
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
  // Built before fork: between fork and exec only async-signal-safe calls are allowed.
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) fail(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    const int null = ::open("/dev/null", O_RDWR);
    if (null >= 0) {
      ::dup2(null, STDIN_FILENO);
      ::dup2(null, STDOUT_FILENO);
    }
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  pid_ = pid;
  paused_ = false;

  const auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      fail("exited while starting (status " + std::to_string(status) + "; is " + options_.binary + " installed?)");
    }
    const timeval tv = to_timeval(std::chrono::milliseconds(200));
    Context c(redisConnectWithTimeout("127.0.0.1", port_, tv));
    if (c && !c->err) {
      redisSetTimeout(c.get(), tv);
      // Any answer will do, NOAUTH included: the server is up.
      if (run(c.get(), {"PING"})) return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill();
  fail("did not answer within " + std::to_string(options_.start_timeout.count()) + " ms");
}

bool RedisProcess::wait_exit(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  do {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_ || (r < 0 && errno == ECHILD)) {
      pid_ = -1;
      paused_ = false;
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  } while (std::chrono::steady_clock::now() < deadline);
  return false;
}

void RedisProcess::stop() {
  if (!running()) return;
  if (paused_) resume();
  {
    const timeval tv = to_timeval(std::chrono::milliseconds(1000));
    Context c(redisConnectWithTimeout("127.0.0.1", port_, tv));
    if (c && !c->err) {
      redisSetTimeout(c.get(), tv);
      if (!options_.password.empty()) run(c.get(), {"AUTH", options_.password});
      run(c.get(), {"SHUTDOWN", "NOSAVE"});  // no reply: the server closes the connection as it exits
    }
  }
  if (!wait_exit(std::chrono::milliseconds(5000))) kill();
}

void RedisProcess::kill() {
  if (!running()) return;
  ::kill(pid_, SIGKILL);
  if (!wait_exit(std::chrono::milliseconds(5000))) fail("did not die from SIGKILL");
}

void RedisProcess::pause() {
  if (!running() || paused_) return;
  if (::kill(pid_, SIGSTOP) != 0) fail(std::string("SIGSTOP: ") + std::strerror(errno));
  // Wait until it is really stopped, so that the test's next step meets a frozen server.
  int status = 0;
  if (::waitpid(pid_, &status, WUNTRACED) != pid_ || !WIFSTOPPED(status)) fail("did not stop on SIGSTOP");
  paused_ = true;
}

void RedisProcess::resume() {
  if (!running() || !paused_) return;
  if (::kill(pid_, SIGCONT) != 0) fail(std::string("SIGCONT: ") + std::strerror(errno));
  paused_ = false;
}

void RedisProcess::restart() {
  stop();
  start();
}

SyncReply RedisProcess::command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) const {
  const timeval tv = to_timeval(timeout);
  Context c(redisConnectWithTimeout("127.0.0.1", port_, tv));
  if (!c || c->err) fail("cannot connect: " + std::string(c ? c->errstr : "out of memory"));
  redisSetTimeout(c.get(), tv);
  if (!options_.password.empty()) {
    ReplyPtr auth = run(c.get(), {"AUTH", options_.password});
    if (!auth || auth->type == REDIS_REPLY_ERROR) fail("AUTH failed");
  }
  ReplyPtr reply = run(c.get(), argv);
  if (!reply) fail("no reply to " + (argv.empty() ? std::string() : argv[0]) + ": " + c->errstr);
  return convert(*reply);
}

}  // namespace yunity::test
