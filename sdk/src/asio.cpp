// Boost.Asio's compiled part, once for the whole process: the core and every plugin link this library
// (BOOST_ASIO_SEPARATE_COMPILATION, BOOST_ASIO_DYN_LINK) instead of each carrying a header-only copy.
//
// Why: Asio keeps a per-thread call stack (which scheduler this thread is running) in a template static,
// hidden in each shared object. The core enters io_context::run(), so only the core's copy is set; a plugin's
// copy of the reactor then found its own empty and dereferenced null whenever a socket event completed no
// operation (e.g. a request that arrived before the read for it was started): any client could crash the
// process. With one compiled Asio there is one call stack.
#include <boost/asio/impl/src.hpp>
// Its TLS part too (the socketio transport serves https/wss with --tls-cert/--tls-key).
#include <boost/asio/ssl/impl/src.hpp>
