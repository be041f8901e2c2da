// Writes one JSON line per delivery to a file: when, which event, to how many connections, how many bytes.
//   {"time":"2024-05-01T12:00:00.123Z","event":"message","connections":3,"bytes":42}
// Its config section: {"file": "<path>"} (required; appended to, created if missing), declared with the SDK's
// settings table, which checks it and describes it to `yunity-sockets --config-reference`.
#include <yunity/plugin.hpp>
#include <yunity/settings_table.hpp>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace {

// ISO 8601 in UTC with milliseconds, which log tools sort and parse as they are.
std::string utc_now() {
    const auto now = std::chrono::system_clock::now();
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    char text[32];
    const auto n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
    char millis[8];
    std::snprintf(millis, sizeof millis, ".%03dZ", static_cast<int>(ms % 1000));
    return std::string(text, n) + millis;
}

struct Settings {
    std::string file;
};

const yunity::SettingsTable<Settings>& settings_table() {
    static const yunity::SettingsTable<Settings> table{
        yunity::Setting<Settings>{"file", &Settings::file, "the file the lines are appended to (created if missing)"}
            .non_empty()
            .required(),
    };
    return table;
}

class DeliveryLog : public yunity::Plugin {
public:
    // Settings are checked and the file opened here: a wrong path stops the server at startup, with
    // "plugin delivery-log: ..." and exit status 2, instead of losing lines later.
    explicit DeliveryLog(yunity::PluginContext& context)
        : context_(context), path_(settings_table().parse(context.config()).file) {
        out_.open(path_, std::ios::app);
        if (!out_) throw std::runtime_error("cannot open " + path_ + " for appending: " + std::strerror(errno));
    }

    void start() override {
        context_.bus().subscribe<yunity::events::Deliver>(context_.plugin_name(),
                                                         [this](const yunity::events::Deliver& d) { write(d); });
        context_.logger()->info("writing deliveries to {}", path_);
    }

    void stop() override {
        out_.flush();
        context_.logger()->info("wrote {} deliveries to {}", lines_, path_);
    }

private:
    // Runs on the core's loop. A short append to a local file is cheap enough there; a plugin writing to a
    // slow disk or over the network would hand the lines to a thread of its own instead.
    void write(const yunity::events::Deliver& d) {
        rapidjson::StringBuffer line;
        rapidjson::Writer<rapidjson::StringBuffer> w(line);
        w.StartObject();
        w.Key("time");
        const auto time = utc_now();
        w.String(time.data(), static_cast<rapidjson::SizeType>(time.size()));
        w.Key("event");
        w.String(d.event.data(), static_cast<rapidjson::SizeType>(d.event.size()));
        w.Key("connections");
        w.Uint64(d.connections.size());
        w.Key("bytes");
        w.Uint64(d.payload ? d.payload->size() : 0);
        w.EndObject();
        // Flushed per line, so that a reader (tail -f, a log shipper) sees each delivery as it happens and a
        // crash loses none that were logged.
        out_.write(line.GetString(), static_cast<std::streamsize>(line.GetSize())).put('\n').flush();
        if (out_) {
            ++lines_;
        } else if (!failed_) {
            // Once: a full disk would otherwise log as often as it delivers.
            failed_ = true;
            context_.logger()->error("cannot write to {}: {}", path_, std::strerror(errno));
        }
    }

    yunity::PluginContext& context_;
    std::string path_;
    std::ofstream out_;
    std::uint64_t lines_ = 0;
    bool failed_ = false;
};

}  // namespace

YUNITY_PLUGIN(DeliveryLog, "delivery-log", "writes one JSON line per delivery to a file")
YUNITY_PLUGIN_SETTINGS(settings_table())
