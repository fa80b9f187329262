// The browser UI's HTTP server (tools/http_server.h) on 127.0.0.1: the request parser, and the
// limits that keep hostile or slow clients from holding it or growing its memory.
#include "http_server.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

namespace grapevine::tools {
namespace {

TEST(HttpRequestParse, RequestLineQueryAndHost) {
  HttpRequest r;
  ASSERT_TRUE(parse_http_request(
      "GET /api/members?token=a%20b+c&x HTTP/1.1\r\nhOsT:  127.0.0.1:8080 \r\nAccept: */*\r\n\r\n",
      r));
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.path, "/api/members");
  EXPECT_EQ(r.query.at("token"), "a b c");
  EXPECT_EQ(r.query.at("x"), "");
  EXPECT_EQ(r.host, "127.0.0.1:8080");
  ASSERT_TRUE(parse_http_request("HEAD /a%2Fb HTTP/1.0\n\n", r));
  EXPECT_EQ(r.path, "/a/b");
}

TEST(HttpRequestParse, RejectsMalformed) {
  HttpRequest r;
  for (const char* bad : {"", "GET", "GET /", "GET / FTP/1.0\r\n\r\n", "GET x HTTP/1.1\r\n\r\n",
                          "GET /%zz HTTP/1.1\r\n\r\n", "GET /% HTTP/1.1\r\n\r\n",
                          "GET /a%00 HTTP/1.1\r\n\r\n", "GET /?t=%4 HTTP/1.1\r\n\r\n",
                          "GET / HTTP/1.1\r\nno colon\r\n\r\n", " / HTTP/1.1\r\n\r\n"}) {
    EXPECT_FALSE(parse_http_request(bad, r)) << bad;
  }
}

int connect_to(const Address& a) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(a.port);
  sa.sin_addr.s_addr = htonl(0x7f000001);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  return fd;
}

std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) out.append(buf, std::size_t(n));
  return out;
}

std::string http_exchange(const Address& a, const std::string& request) {
  int fd = connect_to(a);
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string out = read_all(fd);
  ::close(fd);
  return out;
}

class HttpServerTest : public ::testing::Test {
 protected:
  void start(HttpOptions o) {
    server_ = std::make_unique<HttpServer>(
        [](const HttpRequest& req) {
          HttpResponse r;
          r.body = "hello " + req.path;
          r.event_stream = req.path == "/events";
          return r;
        },
        o);
    ASSERT_EQ(server_->start(*Address::parse("127.0.0.1:0")), "");
  }
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, AnswersGetRefusesTheRest) {
  start({});
  const Address a = server_->address();
  EXPECT_NE(http_exchange(a, "GET /x HTTP/1.1\r\nHost: h\r\n\r\n").find("200 OK"), std::string::npos);
  EXPECT_NE(http_exchange(a, "GET /x HTTP/1.1\r\n\r\n").find("\r\n\r\nhello /x"), std::string::npos);
  EXPECT_NE(http_exchange(a, "DELETE /x HTTP/1.1\r\n\r\n").find(" 405 "), std::string::npos);
  EXPECT_NE(http_exchange(a, "garbage\r\n\r\n").find(" 400 "), std::string::npos);
  EXPECT_NE(http_exchange(a, "GET /" + std::string(10000, 'a')).find(" 431 "), std::string::npos);
  EXPECT_EQ(server_->stats().requests.load(), 2u);
  EXPECT_EQ(server_->stats().bad_requests.load(), 3u);
}

TEST_F(HttpServerTest, SilentClientsTimeOutAndExtraClientsAreRefused) {
  HttpOptions o;
  o.clients_max = 4;
  o.request_timeout_ms = 300;
  start(o);
  int silent[4];
  for (int& fd : silent) fd = connect_to(server_->address());
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_NE(http_exchange(server_->address(), "").find(" 503 "), std::string::npos);
  EXPECT_EQ(server_->stats().clients_refused.load(), 1u);
  for (int fd : silent) {
    EXPECT_EQ(read_all(fd), "");  // closed by the server after request_timeout_ms
    ::close(fd);
  }
  EXPECT_EQ(server_->stats().timeouts.load(), 4u);
  EXPECT_NE(http_exchange(server_->address(), "GET / HTTP/1.1\r\n\r\n").find("200 OK"),
            std::string::npos);
}

// A stream client that never reads is dropped once stream_bytes_max is queued for it: the
// server's memory stays bounded however much is published.
TEST_F(HttpServerTest, SlowStreamClientIsDropped) {
  HttpOptions o;
  o.stream_bytes_max = 256 << 10;
  start(o);
  int fd = connect_to(server_->address());
  int small = 4096;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  const std::string req = "GET /events HTTP/1.1\r\n\r\n";
  ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  const auto t0 = std::chrono::steady_clock::now();
  while (server_->stats().streams_open.load() == 0 &&
         std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const std::string data(1000, 'x');
  for (int i = 0; i < 20000 && server_->stats().slow_clients_dropped.load() == 0; ++i) {
    server_->publish("e", data);  // 20 MB offered in all
    if (i % 100 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const auto t1 = std::chrono::steady_clock::now();
  while (server_->stats().slow_clients_dropped.load() == 0 &&
         std::chrono::steady_clock::now() - t1 < std::chrono::seconds(5)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(server_->stats().slow_clients_dropped.load(), 1u);
  ::close(fd);
  EXPECT_NE(http_exchange(server_->address(), "GET / HTTP/1.1\r\n\r\n").find("200 OK"),
            std::string::npos);
}

TEST_F(HttpServerTest, StreamGetsPublishedEvents) {
  start({});
  int fd = connect_to(server_->address());
  const std::string req = "GET /events HTTP/1.1\r\n\r\n";
  ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  const auto t0 = std::chrono::steady_clock::now();
  while (server_->stats().streams_open.load() == 0 &&
         std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  server_->publish("member", "{\"a\":1}\nsecond line");  // newlines cannot split an event
  std::string got;
  char buf[4096];
  while (got.find("second line") == std::string::npos) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    ASSERT_GT(n, 0);
    got.append(buf, std::size_t(n));
  }
  EXPECT_NE(got.find("text/event-stream"), std::string::npos);
  EXPECT_NE(got.find("event: member\ndata: {\"a\":1} second line\n\n"), std::string::npos);
  ::close(fd);
}

}  // namespace
}  // namespace grapevine::tools
