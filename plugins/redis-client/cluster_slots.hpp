#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "redis_link.hpp"

namespace yunity::redis {

// Redis Cluster's key space: 16384 slots, a key's slot being CRC16 (XMODEM) of the key, or of its hash tag (the
// part between the first '{' and the next '}', when not empty), modulo 16384.
inline constexpr std::uint16_t cluster_slot_count = 16384;

std::uint16_t crc16(std::string_view data);
std::uint16_t key_slot(std::string_view key);

// Which master serves which slots, as CLUSTER SLOTS answers it (replicas are ignored: reads go to masters).
struct SlotRange {
    std::uint16_t first = 0;
    std::uint16_t last = 0;
    std::string host;
    std::uint16_t port = 0;
};

// Parses a CLUSTER SLOTS reply: [[first, last, [host, port, id...], replicas...], ...]. An empty host (a node
// that does not know its own address) is taken as `default_host`, the address the question went to. Returns
// nullopt for a reply of another shape.
std::optional<std::vector<SlotRange>> parse_cluster_slots(const Reply& reply, const std::string& default_host);

// A MOVED or ASK error ("MOVED 3999 127.0.0.1:6381", "ASK 3999 127.0.0.1:6381").
struct Redirect {
    bool ask = false;  // ASK: this one command goes to the node, preceded by ASKING; MOVED: the slot moved for good
    std::uint16_t slot = 0;
    std::string host;
    std::uint16_t port = 0;
};

std::optional<Redirect> parse_redirect(std::string_view error);

}  // namespace yunity::redis
