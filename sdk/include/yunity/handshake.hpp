// What a client sent when it opened its connection: kept as long as the connection lives, for the admin report
// and for plugins (a session cookie, a query parameter).
#pragma once

#include <boost/url/parse.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace yunity {

// Held once per connection, so it stores little and parses on demand: the header fields as one block, the query
// inside `url`. A string per header name and value, and a decoded copy of the query, were about 0.8 KB of each
// idle connection's memory; a report or a cookie lookup is rare next to the connections held.
class Handshake {
public:
    std::string address;         // the peer's IP address
    std::string url;             // the request target as sent
    std::int64_t issued_ms = 0;  // epoch milliseconds of the handshake
    bool xdomain = false;        // an Origin header was sent
    bool secure = false;         // TLS

    // Appends a field (the name is lower-cased). HTTP parsers refuse CR and LF inside a field; should one come
    // through anyway it is kept as a space, so that it cannot split the block.
    void add_header(std::string_view name, std::string_view value) {
        for (char ch : name) header_block_ += ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch - 'A' + 'a') : ch;
        header_block_ += ':';
        for (char ch : value) header_block_ += ch == '\r' || ch == '\n' ? ' ' : ch;
        header_block_ += '\n';
    }

    // Room for fields of these many bytes of names and values in all, so that the block is allocated once and
    // at its size (appending field after field doubles it as it goes, up to twice the size).
    void reserve_headers(std::size_t name_and_value_bytes, std::size_t fields) {
        header_block_.reserve(name_and_value_bytes + 2 * fields);
    }

    // Visits the fields in arrival order, names lower-case: visit(name, value).
    template <class Visit>
    void for_each_header(Visit&& visit) const {
        std::string_view rest = header_block_;
        while (!rest.empty()) {
            const auto end = rest.find('\n');
            const auto line = rest.substr(0, end);
            rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 1);
            const auto colon = line.find(':');  // names hold no colon: the first one ends the name
            visit(line.substr(0, colon), colon == std::string_view::npos ? std::string_view{} : line.substr(colon + 1));
        }
    }

    // The first field of this name (give it lower-case), or none.
    std::optional<std::string_view> header(std::string_view lower_name) const {
        std::optional<std::string_view> found;
        for_each_header([&](std::string_view name, std::string_view value) {
            if (!found && name == lower_name) found = value;
        });
        return found;
    }

    std::vector<std::pair<std::string_view, std::string_view>> headers() const {
        std::vector<std::pair<std::string_view, std::string_view>> out;
        for_each_header([&](std::string_view name, std::string_view value) { out.emplace_back(name, value); });
        return out;
    }

    // Every query parameter of `url`, Engine.IO's own included, in order and repeats kept, percent-decoded with
    // '+' read as a space: socket.io's `handshake.query`.
    std::vector<std::pair<std::string, std::string>> query() const {
        std::vector<std::pair<std::string, std::string>> out;
        auto parsed = boost::urls::parse_origin_form(url);
        if (!parsed) return out;
        for (auto param : parsed->params()) out.emplace_back(std::move(param.key), std::move(param.value));
        return out;
    }

    // The first value of a query parameter, or none.
    std::optional<std::string> query_value(std::string_view key) const {
        auto parsed = boost::urls::parse_origin_form(url);
        if (!parsed) return std::nullopt;
        for (auto param : parsed->params())
            if (param.key == key) return std::move(param.value);
        return std::nullopt;
    }

private:
    std::string header_block_;  // "name:value\n" per field, in arrival order
};

}  // namespace yunity
