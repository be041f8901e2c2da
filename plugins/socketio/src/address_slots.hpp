// Counts of things held per client address group, each held as a Slot that gives itself back when its holder
// lets go, even after the table's owner is gone (a connection's handlers may outlive the plugin). The client
// port counts with it the connections that have not carried a request for a session yet
// (max_unbound_per_address). Free of Asio: unit tested alone.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

namespace yunity::socketio {

class AddressSlots : public std::enable_shared_from_this<AddressSlots> {
public:
    // One thing counted under one address group, until release() or destruction.
    class Slot {
    public:
        Slot() = default;
        Slot(const Slot&) = delete;
        Slot& operator=(const Slot&) = delete;
        Slot(Slot&& other) noexcept : table_(std::move(other.table_)), group_(std::move(other.group_)) {}
        Slot& operator=(Slot&& other) noexcept {
            if (this != &other) {
                release();
                table_ = std::move(other.table_);
                group_ = std::move(other.group_);
            }
            return *this;
        }
        ~Slot() { release(); }

        // Gives the slot back (once; then the slot is empty).
        void release() {
            if (auto table = std::exchange(table_, nullptr)) table->give_back(group_);
        }
        bool held() const { return table_ != nullptr; }

    private:
        friend class AddressSlots;
        Slot(std::shared_ptr<AddressSlots> table, std::string group)
            : table_(std::move(table)), group_(std::move(group)) {}

        std::shared_ptr<AddressSlots> table_;
        std::string group_;
    };

    // A slot of `group` while it holds fewer than `max` (0: no bound); nullopt when it holds that many.
    std::optional<Slot> take(const std::string& group, std::size_t max) {
        auto& count = counts_[group];
        if (max != 0 && count >= max) return std::nullopt;  // count is at least 1: the entry was there
        ++count;
        ++total_;
        return Slot(shared_from_this(), group);
    }

    std::size_t count(const std::string& group) const {
        auto it = counts_.find(group);
        return it == counts_.end() ? 0 : it->second;
    }
    std::size_t total() const { return total_; }
    // Address groups holding a slot: an entry lives while its count is above zero.
    std::size_t groups() const { return counts_.size(); }

private:
    void give_back(const std::string& group) {
        auto it = counts_.find(group);
        if (it == counts_.end()) return;
        if (--it->second == 0) counts_.erase(it);
        --total_;
    }

    std::unordered_map<std::string, std::size_t> counts_;
    std::size_t total_ = 0;
};

}  // namespace yunity::socketio
