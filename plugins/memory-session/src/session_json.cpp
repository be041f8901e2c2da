#include "session_json.hpp"

#include "json_reader.hpp"

#include <rapidjson/encodings.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

namespace yunity::memory_session {

namespace {

constexpr unsigned parse_flags = rapidjson::kParseValidateEncodingFlag | rapidjson::kParseCommentsFlag |
                                 rapidjson::kParseTrailingCommasFlag | rapidjson::kParseIterativeFlag;

std::string_view trim(std::string_view s) {
    constexpr std::string_view space = " \t\r\n";
    const auto first = s.find_first_not_of(space);
    if (first == std::string_view::npos) return {};
    return s.substr(first, s.find_last_not_of(space) - first + 1);
}

struct NullOut {
    using Ch = char;
    void Put(char) {}
};

void put(rapidjson::Writer<rapidjson::StringBuffer>& w, std::string_view s) {
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

}  // namespace

std::optional<std::string> user_id(const rapidjson::Value& value) {
    if (value.IsString()) return std::string(value.GetString(), value.GetStringLength());
    if (value.IsUint64()) return std::to_string(value.GetUint64());
    if (value.IsInt64()) return std::to_string(value.GetInt64());
    return std::nullopt;
}

SessionMap parse_session_map(std::string_view json) {
    rapidjson::Document doc;
    doc.Parse<parse_flags>(json.data(), json.size());
    if (doc.HasParseError())
        throw std::runtime_error(std::string("not JSON: ") + rapidjson::GetParseError_En(doc.GetParseError()) +
                                 " at offset " + std::to_string(doc.GetErrorOffset()));
    if (!doc.IsObject())
        throw std::runtime_error(R"(must be a JSON object {"<sessionId>": "<userId>", ...})");
    SessionMap sessions;
    // Duplicates are refused rather than resolved: either copy may be the one the operator meant.
    std::set<std::string_view> seen;
    for (const auto& m : doc.GetObject()) {
        const std::string session(m.name.GetString(), m.name.GetStringLength());
        if (session.empty()) throw std::runtime_error("a session id must not be empty");
        // Only a lone surrogate escape ("\udc00") gets past the parser's UTF-8 check, and the session id cannot
        // be quoted then: the message would not be UTF-8 either.
        if (!is_valid_utf8(session))
            throw std::runtime_error("a session id holds a lone surrogate escape (\\udc00...): it must be UTF-8");
        auto user = user_id(m.value);
        if (!user) throw std::runtime_error("session \"" + session + "\": the user must be a string or an integer");
        if (!is_valid_utf8(*user))
            throw std::runtime_error("session \"" + session + "\": the user holds a lone surrogate escape (\\udc00...)");
        if (!seen.emplace(m.name.GetString(), m.name.GetStringLength()).second)
            throw std::runtime_error("session \"" + session + "\" appears twice");
        if (!user->empty()) sessions.emplace(session, std::move(*user));
    }
    return sessions;
}

SessionMap load_session_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("sessions file \"" + path + "\": cannot open: " + std::strerror(errno));
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) throw std::runtime_error("sessions file \"" + path + "\": cannot read: " + std::strerror(errno));
    try {
        return parse_session_map(text.str());
    } catch (const std::runtime_error& e) {
        throw std::runtime_error("sessions file \"" + path + "\": " + e.what());
    }
}

std::optional<std::string> parse_user_body(std::string_view body, std::string& error) {
    const auto text = trim(body);
    if (text.empty()) {
        error = "the body must be the user id";
        return std::nullopt;
    }
    // The project's reader for untrusted JSON: no recursion, and nothing nested deeper than 64 levels (a user id
    // is a string or a number, so nothing deeper is ever needed; deeper is refused as what it is).
    rapidjson::Document doc;
    const auto parsed = json::parse(doc, text);
    if (!parsed.IsError()) {
        auto user = user_id(doc);
        if (!user) {
            error = "the user id must be a string or an integer";
            return std::nullopt;
        }
        if (user->empty()) {
            error = "the user id must not be empty (DELETE the session to log it out)";
            return std::nullopt;
        }
        // A lone surrogate escape ("\udc00") decodes to bytes that are not UTF-8, which every JSON answer
        // naming the user would then carry.
        if (!is_valid_utf8(*user)) {
            error = "the user id must be UTF-8 (it holds a lone surrogate escape)";
            return std::nullopt;
        }
        return user;
    }
    // What starts like JSON and is not is a mistake, not a user id that happens to begin with a quote.
    if (text.front() == '"' || text.front() == '{' || text.front() == '[') {
        error = "not JSON: " + json::describe(parsed);
        return std::nullopt;
    }
    if (!is_valid_utf8(text)) {
        error = "the user id must be UTF-8";
        return std::nullopt;
    }
    for (unsigned char ch : text) {
        if (ch < 0x20 || ch == 0x7f) {
            error = "the user id must not hold control characters";
            return std::nullopt;
        }
    }
    return std::string(text);
}

bool is_valid_utf8(std::string_view text) {
    rapidjson::MemoryStream in(text.data(), text.size());
    NullOut out;
    while (in.Tell() < text.size())
        if (!rapidjson::UTF8<>::Validate(in, out)) return false;
    return true;
}

std::string session_map_json(const SessionMap& sessions) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
    w.StartObject();
    for (const auto& [session, user] : sessions) {
        put(w, session);
        put(w, user);
    }
    w.EndObject();
    return {buffer.GetString(), buffer.GetSize()};
}

std::string error_json(std::string_view message) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
    w.StartObject();
    w.Key("error");
    put(w, message);
    w.EndObject();
    return {buffer.GetString(), buffer.GetSize()};
}

}  // namespace yunity::memory_session
