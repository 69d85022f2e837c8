#include "domain/manifest.h"

#include "core/crypto.h"
#include "core/time_util.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <stdexcept>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace domain {

namespace {

std::vector<const BundleFile*> sorted_by_path(const std::vector<BundleFile>& files) {
    std::vector<const BundleFile*> out;
    out.reserve(files.size());
    for (const auto& f : files) out.push_back(&f);
    // std::string compares as unsigned char, i.e. bytewise ("B" < "a").
    std::sort(out.begin(), out.end(), [](const BundleFile* a, const BundleFile* b) { return a->path < b->path; });
    return out;
}

int64_t seconds_of(int64_t ms) { return ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000); }

int64_t parse_rfc3339_ms(const std::string& s) {
    auto ms = core::parse_rfc3339_ms(s);
    if (!ms) throw std::runtime_error("manifest: bad time " + s);
    return *ms;
}

const rapidjson::Value& member(const rapidjson::Value& obj, const char* name) {
    auto it = obj.FindMember(name);
    if (it == obj.MemberEnd()) throw std::runtime_error(std::string("manifest: missing ") + name);
    return it->value;
}

std::string string_member(const rapidjson::Value& obj, const char* name) {
    const auto& v = member(obj, name);
    if (!v.IsString()) throw std::runtime_error(std::string("manifest: ") + name + " is not a string");
    return std::string(v.GetString(), v.GetStringLength());
}

}  // namespace

std::string manifest_hash(const std::vector<BundleFile>& sorted_files, const std::string& version) {
    core::Sha256 sha;
    for (const BundleFile* f : sorted_by_path(sorted_files)) {
        sha.update(f->path);
        sha.update(f->sha256);
        sha.update(std::to_string(f->size));
    }
    sha.update(version);
    return sha.final_hex();
}

std::string manifest_json(const Manifest& manifest) {
    const std::string pushed = core::rfc3339(seconds_of(manifest.pushed_at_ms));
    rapidjson::StringBuffer sb;
    rapidjson::Writer<rapidjson::StringBuffer> w(sb);
    w.StartObject();
    w.Key("files");
    w.StartArray();
    for (const BundleFile* f : sorted_by_path(manifest.files)) {
        w.StartObject();
        w.Key("path");
        w.String(f->path);
        w.Key("size");
        w.Uint64(f->size);
        w.Key("hash");
        w.String(f->sha256);
        w.Key("mimeType");
        w.String(mime_type_for(f->path));
        w.Key("modTime");
        w.String(pushed);
        w.EndObject();
    }
    w.EndArray();
    w.Key("version");
    w.String(manifest.version);
    w.Key("generatedAt");
    w.String(pushed);
    w.Key("hash");
    w.String(manifest.hash);
    w.EndObject();
    return std::string(sb.GetString(), sb.GetSize());
}

Manifest parse_manifest_json(const std::string& json) {
    rapidjson::Document doc;
    doc.Parse(json.data(), json.size());
    if (doc.HasParseError() || !doc.IsObject()) throw std::runtime_error("manifest: not a JSON object");
    Manifest m;
    m.version = string_member(doc, "version");
    m.hash = string_member(doc, "hash");
    m.pushed_at_ms = parse_rfc3339_ms(string_member(doc, "generatedAt"));
    const auto& files = member(doc, "files");
    if (!files.IsArray()) throw std::runtime_error("manifest: files is not an array");
    for (const auto& f : files.GetArray()) {
        if (!f.IsObject()) throw std::runtime_error("manifest: a file is not an object");
        const auto& size = member(f, "size");
        if (!size.IsUint64()) throw std::runtime_error("manifest: bad file size");
        m.files.push_back({string_member(f, "path"), size.GetUint64(), string_member(f, "hash")});
    }
    return m;
}

}  // namespace domain
