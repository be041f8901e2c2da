#pragma once

// The socket types of the transport, bound to the io_context's own executor rather than the polymorphic
// any_io_executor. Every pending operation stores its socket's executor (twice: the I/O executor and the
// handler's), and each socket stores one: with any_io_executor an idle websocket's read wait was 208 bytes and
// its socket 88; the loop is a single io_context, so nothing is lost by naming its executor.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>

namespace yunity::socketio {

using Executor = boost::asio::io_context::executor_type;
using Socket = boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor>;
using Acceptor = boost::asio::basic_socket_acceptor<boost::asio::ip::tcp, Executor>;
using TcpStream = boost::beast::basic_stream<boost::asio::ip::tcp, Executor, boost::beast::unlimited_rate_policy>;

}  // namespace yunity::socketio
