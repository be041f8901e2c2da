#pragma once

#include "options.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <variant>
#include <vector>

namespace yunity::core {

// A value for a core option once checked: a port, a text, a list of plugin names or paths, a duration, or a
// whole number.
using OptionValue =
    std::variant<std::uint16_t, std::string, std::vector<std::string>, std::chrono::milliseconds, std::int64_t>;

// One option of the core, declared once with everything known of it: its command-line spelling, its member of
// the config file and its environment variable where it has them, its default and what it means. --help, the
// config file's checks, the order of precedence and --config-reference are all made from the one table
// (core_options()), so that none of them can say something the others do not.
struct CoreOption {
    // flag: a switch of the command line only; port: 0-65535; text: any string; plugin_list: names or paths,
    // comma-separated on the command line and an array in the config file; milliseconds: 1 to 2^31-1, as the
    // plugins' durations; whole_number: 0 to 2^31-1 (where 0 means off or none, as the description says).
    enum class Kind { flag, port, text, plugin_list, milliseconds, whole_number };

    std::string long_name{};  // --long-name
    char short_name = 0;      // -x, or none
    Kind kind = Kind::flag;
    std::string value_name{};   // as the help shows the value: PORT, ADDR, ...
    std::string config_key{};   // its member of the config file, or none
    std::string environment{};  // the variable that wins over the config file (the command line wins over it)
    bool required = false;      // in the config file or on the command line
    std::string default_value{};
    std::string description{};
    // Stores a checked value into the options; empty for what parse_options handles itself (the switches,
    // --config).
    std::function<void(Options&, const OptionValue&)> apply{};

    // "-w" or "--bind": how refusals name it.
    std::string flag() const { return short_name ? std::string{'-', short_name} : "--" + long_name; }
    // What a value in the config file must be, as its refusal says it.
    std::string config_type() const;
    // The description, with what every option of its kind has in common.
    std::string meaning() const;
};

// The core's options, in the order --help and the reference list them.
const std::vector<CoreOption>& core_options();

}  // namespace yunity::core
