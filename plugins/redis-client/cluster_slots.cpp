#include "cluster_slots.hpp"

#include "whole_number.hpp"

namespace yunity::redis {

// CRC-16/XMODEM (polynomial 0x1021, initial value 0), bit by bit: a key is short, and this runs once per
// lookup, so a table buys nothing worth its 512 bytes.
std::uint16_t crc16(std::string_view data) {
    std::uint16_t crc = 0;
    for (const char c : data) {
        crc ^= static_cast<std::uint16_t>(static_cast<unsigned char>(c) << 8);
        for (int bit = 0; bit < 8; ++bit) {
            crc =
                (crc & 0x8000) ? static_cast<std::uint16_t>((crc << 1) ^ 0x1021) : static_cast<std::uint16_t>(crc << 1);
        }
    }
    return crc;
}

std::uint16_t key_slot(std::string_view key) {
    const auto open = key.find('{');
    if (open != std::string_view::npos) {
        const auto close = key.find('}', open + 1);
        if (close != std::string_view::npos && close > open + 1) key = key.substr(open + 1, close - open - 1);
    }
    return static_cast<std::uint16_t>(crc16(key) % cluster_slot_count);
}

std::optional<std::vector<SlotRange>> parse_cluster_slots(const Reply& reply, const std::string& default_host) {
    if (!reply.is_array()) return std::nullopt;
    std::vector<SlotRange> out;
    for (const Reply& entry : reply.elements) {
        if (!entry.is_array() || entry.elements.size() < 3) return std::nullopt;
        const Reply& first = entry.elements[0];
        const Reply& last = entry.elements[1];
        const Reply& master = entry.elements[2];
        if (!first.is_integer() || !last.is_integer() || first.integer < 0 || last.integer < first.integer ||
            last.integer >= cluster_slot_count) {
            return std::nullopt;
        }
        if (!master.is_array() || master.elements.size() < 2 || !master.elements[0].is_string() ||
            !master.elements[1].is_integer() || master.elements[1].integer <= 0 || master.elements[1].integer > 65535) {
            return std::nullopt;
        }
        SlotRange range;
        range.first = static_cast<std::uint16_t>(first.integer);
        range.last = static_cast<std::uint16_t>(last.integer);
        range.host = master.elements[0].str.empty() ? default_host : master.elements[0].str;
        range.port = static_cast<std::uint16_t>(master.elements[1].integer);
        out.push_back(std::move(range));
    }
    return out;
}

std::optional<Redirect> parse_redirect(std::string_view error) {
    Redirect r;
    if (error.substr(0, 6) == "MOVED ") {
        error.remove_prefix(6);
    } else if (error.substr(0, 4) == "ASK ") {
        r.ask = true;
        error.remove_prefix(4);
    } else {
        return std::nullopt;
    }
    const auto space = error.find(' ');
    if (space == std::string_view::npos || !parse_whole_number(error.substr(0, space), r.slot) ||
        r.slot >= cluster_slot_count)
        return std::nullopt;
    const std::string_view address = error.substr(space + 1);
    const auto colon = address.rfind(':');
    if (colon == std::string_view::npos || colon == 0 || !parse_whole_number(address.substr(colon + 1), r.port) ||
        r.port == 0) {
        return std::nullopt;
    }
    std::string_view host = address.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    r.host = std::string(host);
    return r;
}

}  // namespace yunity::redis
