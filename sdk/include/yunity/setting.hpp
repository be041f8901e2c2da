// One setting of a plugin's config section, declared once: its name, the member of the plugin's settings struct
// it fills, what a value must be, its default (that member's initial value) and one line saying what it is for.
// A SettingsTable of them both reads the section and describes it for `yunity-sockets --config-reference`, so
// the reference is made from the very declaration the checks are made from and cannot drift from them.
//
// Light on purpose (RapidJSON and the standard library only): every plugin includes it, and unit tests of a
// plugin's settings need nothing else.
#pragma once

#include <yunity/settings_description.hpp>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace yunity {

// Looks an environment variable up: the process's environment in a plugin, a map in tests. Null: not set.
using Getenv = std::function<const char*(const char*)>;

inline const char* process_environment(const char* name) { return std::getenv(name); }

template <class Config>
class Setting {
public:
    using Strings = std::vector<std::string>;
    // Checks one item of an array setting and may rewrite it (to normalize it); false refuses the setting.
    using ItemRule = std::function<bool(std::string&)>;

    Setting(std::string name, bool Config::*field, std::string description)
        : name_(std::move(name)), description_(std::move(description)), field_(field) {}
    Setting(std::string name, std::string Config::*field, std::string description)
        : name_(std::move(name)), description_(std::move(description)), field_(field) {}
    Setting(std::string name, Strings Config::*field, std::string description)
        : name_(std::move(name)), description_(std::move(description)), field_(field) {}
    // Integers are positive: every count, size and timeout the stock plugins take is, and 0 as "off" or
    // "unlimited" is better said with a separate setting than guessed.
    template <std::unsigned_integral T>
        requires(!std::same_as<T, bool>)
    Setting(std::string name, T Config::*field, std::string description)
        : name_(std::move(name)),
          description_(std::move(description)),
          field_(Integer{[field](Config& c, std::uint64_t v) { c.*field = static_cast<T>(v); },
                         [field](const Config& c) { return static_cast<std::uint64_t>(c.*field); }}),
          max_(std::numeric_limits<T>::max()) {}
    // A duration is written as a count of its own unit: name such a setting after the unit ("timeout_ms"). It is
    // at most 2^31-1 milliseconds (24.8 days), the bound of Node's timers that socket.io users know: a timer
    // converts it to the clock's nanoseconds and adds it to now, which overflows for values near the type's
    // maximum (a "timeout" of INT64_MAX ms would fire at once, or never).
    template <class Rep, class Period>
    Setting(std::string name, std::chrono::duration<Rep, Period> Config::*field, std::string description)
        : name_(std::move(name)),
          description_(std::move(description)),
          field_(Integer{[field](Config& c, std::uint64_t v) {
                             c.*field = std::chrono::duration<Rep, Period>(static_cast<Rep>(v));
                         },
                         [field](const Config& c) { return static_cast<std::uint64_t>((c.*field).count()); }}),
          max_(static_cast<std::uint64_t>(std::min<Rep>(
              std::numeric_limits<Rep>::max(),
              std::chrono::duration_cast<std::chrono::duration<Rep, Period>>(
                  std::chrono::milliseconds(std::numeric_limits<std::int32_t>::max()))
                  .count()))) {}

    // The refinements below are chained onto the declaration: Setting<C>{"file", &C::file, "..."}.non_empty().
    // One that does not fit the setting's type is a mistake in the plugin, refused with std::logic_error when
    // the table is built (at the plugin's first use, so its tests find it).

    // A string must not be "" (and a default "" reads "none"); an array must not be [].
    Setting non_empty() && {
        if (!holds<std::string Config::*>() && !holds<Strings Config::*>())
            misuse("non_empty() fits strings and arrays");
        non_empty_ = true;
        return std::move(*this);
    }
    Setting at_most(std::uint64_t limit) && {
        if (!holds<Integer>()) misuse("at_most() fits integers");
        max_ = std::min(max_, limit);
        return std::move(*this);
    }
    // What the items of an array are ("paths starting with '/'"), and the rule that checks each of them.
    Setting each(std::string items, ItemRule rule) && {
        if (!holds<Strings Config::*>()) misuse("each() fits arrays");
        items_ = std::move(items);
        rule_ = std::move(rule);
        return std::move(*this);
    }
    // Must be given, in the section or the environment: there is no sensible default.
    Setting required() && {
        required_ = true;
        return std::move(*this);
    }
    // A variable that wins over the config file when set and not empty, for what differs per deployment or is
    // secret. A string setting takes its text as it is; any other reads it as JSON (`25000`, `["a","b"]`).
    Setting env(std::string variable) && {
        environment_ = std::move(variable);
        return std::move(*this);
    }
    // Says the default in words where its value would mislead ("any" for an empty list of allowed origins).
    Setting default_text(std::string text) && {
        default_text_ = std::move(text);
        return std::move(*this);
    }

    const std::string& name() const { return name_; }
    const std::string& description() const { return description_; }
    const std::string& environment() const { return environment_; }
    bool is_required() const { return required_; }

    // What a value must be, as the refusal says it and the reference prints it.
    std::string type() const {
        if (holds<bool Config::*>()) return "true or false";
        if (holds<std::string Config::*>()) return non_empty_ ? "a non-empty string" : "a string";
        if (holds<Integer>()) {
            // Bounds far beyond any count or duration are left unsaid.
            if (max_ >= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
                return "a positive integer";
            return "a positive integer, at most " + std::to_string(max_);
        }
        return (non_empty_ ? "a non-empty array of " : "an array of ") + items_;
    }

    // The default as it would be written in the config file, from `defaults` (a value-initialized Config).
    std::string default_value(const Config& defaults) const {
        if (!default_text_.empty()) return default_text_;
        if (required_) return "required";
        rapidjson::StringBuffer out;
        rapidjson::Writer<rapidjson::StringBuffer> w(out);
        if (auto* f = std::get_if<bool Config::*>(&field_)) return defaults.**f ? "true" : "false";
        if (auto* f = std::get_if<Integer>(&field_)) return std::to_string(f->get(defaults));
        if (auto* f = std::get_if<std::string Config::*>(&field_)) {
            const std::string& s = defaults.**f;
            if (s.empty() && non_empty_) return "none";
            w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
            return {out.GetString(), out.GetSize()};
        }
        std::string text = "[";
        for (const auto& item : defaults.*std::get<Strings Config::*>(field_)) {
            if (text.size() > 1) text += ", ";
            out.Clear();
            w.Reset(out);
            w.String(item.data(), static_cast<rapidjson::SizeType>(item.size()));
            text.append(out.GetString(), out.GetSize());
        }
        return text + "]";
    }

    // Stores `value` into `config`, or throws std::runtime_error: setting "<name>" must be <type>.
    void read(const rapidjson::Value& value, Config& config) const {
        if (!assign(value, config)) throw std::runtime_error("setting \"" + name_ + "\" must be " + type());
    }

    // Stores the environment variable's value, if the setting has one and it is set; says whether it did.
    bool read_environment(const Getenv& getenv, Config& config) const {
        if (environment_.empty()) return false;
        const char* text = getenv(environment_.c_str());
        if (text == nullptr || *text == '\0') return false;
        rapidjson::Document value;
        const bool verbatim = holds<std::string Config::*>();
        if (verbatim) value.SetString(text, value.GetAllocator());
        else value.Parse(text);
        if (value.HasParseError() || !assign(value, config))
            throw std::runtime_error("environment variable " + environment_ + " (setting \"" + name_ +
                                     "\") must be " + type() + (verbatim ? "" : ", written as JSON"));
        return true;
    }

private:
    struct Integer {
        std::function<void(Config&, std::uint64_t)> set;
        std::function<std::uint64_t(const Config&)> get;
    };
    using Field = std::variant<bool Config::*, std::string Config::*, Integer, Strings Config::*>;

    template <class F>
    bool holds() const {
        return std::holds_alternative<F>(field_);
    }

    [[noreturn]] void misuse(const char* what) const {
        throw std::logic_error("setting \"" + name_ + "\": " + what);
    }

    bool assign(const rapidjson::Value& v, Config& c) const {
        if (auto* f = std::get_if<bool Config::*>(&field_)) {
            if (!v.IsBool()) return false;
            c.**f = v.GetBool();
        } else if (auto* f = std::get_if<std::string Config::*>(&field_)) {
            if (!v.IsString() || (non_empty_ && v.GetStringLength() == 0)) return false;
            (c.**f).assign(v.GetString(), v.GetStringLength());
        } else if (auto* f = std::get_if<Integer>(&field_)) {
            if (!v.IsUint64() || v.GetUint64() == 0 || v.GetUint64() > max_) return false;
            f->set(c, v.GetUint64());
        } else {
            if (!v.IsArray() || (non_empty_ && v.Empty())) return false;
            Strings items;
            for (const auto& item : v.GetArray()) {
                if (!item.IsString()) return false;
                std::string s(item.GetString(), item.GetStringLength());
                if (rule_ && !rule_(s)) return false;
                items.push_back(std::move(s));
            }
            c.*std::get<Strings Config::*>(field_) = std::move(items);
        }
        return true;
    }

    std::string name_;
    std::string description_;
    Field field_;
    std::uint64_t max_ = std::numeric_limits<std::uint64_t>::max();
    bool non_empty_ = false;
    bool required_ = false;
    std::string items_ = "strings";
    ItemRule rule_;
    std::string environment_;
    std::string default_text_;
};

}  // namespace yunity
