#include "domain/bundle_diff.h"

#include <algorithm>
#include <stdexcept>
#include <string_view>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace domain {

namespace {


rapidjson::Document parse_stored(const std::string& form, const char* file, const std::string& text) {
    auto doc = parse_form_json(text);
    if (!doc) throw std::runtime_error("stored " + std::string(file) + " of form " + form + " is not valid JSON");
    return std::move(*doc);
}

const rapidjson::Value* properties_of(const rapidjson::Value& schema) {
    if (!schema.IsObject()) return nullptr;
    auto it = schema.FindMember("properties");
    return it != schema.MemberEnd() && it->value.IsObject() ? &it->value : nullptr;
}

std::string_view name_of(const rapidjson::Value& key) { return {key.GetString(), key.GetStringLength()}; }

bool is_core(std::string_view name, const rapidjson::Value& definition) {
    if (name.substr(0, 5) == "core_") return true;
    if (!definition.IsObject()) return false;
    auto it = definition.FindMember("x-core");
    return it != definition.MemberEnd() && it->value.IsBool() && it->value.GetBool();
}

std::string type_of(const rapidjson::Value& definition) {
    if (!definition.IsObject()) return "";
    auto it = definition.FindMember("type");
    if (it == definition.MemberEnd()) return "";
    if (it->value.IsString()) return std::string(name_of(it->value));
    std::string joined;
    if (it->value.IsArray())
        for (const auto& t : it->value.GetArray()) {
            if (!t.IsString()) continue;
            if (!joined.empty()) joined += '|';
            joined.append(name_of(t));
        }
    return joined;
}

// Core fields of `old_schema` that `new_schema` drops or defines differently.
std::vector<std::string> core_changes(const rapidjson::Value& old_schema, const rapidjson::Value& new_schema) {
    std::vector<std::string> out;
    const rapidjson::Value* old_props = properties_of(old_schema);
    if (!old_props) return out;
    const rapidjson::Value* new_props = properties_of(new_schema);
    for (const auto& m : old_props->GetObject()) {
        if (!is_core(name_of(m.name), m.value)) continue;
        bool kept = false;
        if (new_props) {
            auto it = new_props->FindMember(m.name);
            kept = it != new_props->MemberEnd() && it->value == m.value;
        }
        if (!kept) out.emplace_back(name_of(m.name));
    }
    return out;
}

// Fields of `from` missing in `other` or typed differently there.
std::vector<FieldRef> fields_not_in(const rapidjson::Value& from, const rapidjson::Value& other) {
    std::vector<FieldRef> out;
    const rapidjson::Value* from_props = properties_of(from);
    if (!from_props) return out;
    const rapidjson::Value* other_props = properties_of(other);
    for (const auto& m : from_props->GetObject()) {
        std::string type = type_of(m.value);
        bool present = false;
        if (other_props) {
            auto it = other_props->FindMember(m.name);
            present = it != other_props->MemberEnd() && type_of(it->value) == type;
        }
        if (!present) out.push_back({std::string(name_of(m.name)), type});
    }
    std::sort(out.begin(), out.end(), [](const FieldRef& a, const FieldRef& b) { return a.field < b.field; });
    return out;
}

void write_form_list(rapidjson::Writer<rapidjson::StringBuffer>& w, const char* key,
                     const std::vector<std::string>& forms) {
    w.Key(key);
    w.StartArray();
    for (const auto& f : forms) {
        w.StartObject();
        w.Key("form");
        w.String(f);
        w.EndObject();
    }
    w.EndArray();
}

void write_field_list(rapidjson::Writer<rapidjson::StringBuffer>& w, const char* key,
                      const std::vector<FieldRef>& fields) {
    w.Key(key);
    w.StartArray();
    for (const auto& f : fields) {
        w.StartObject();
        w.Key("field");
        w.String(f.field);
        w.Key("type");
        w.String(f.type);
        w.EndObject();
    }
    w.EndArray();
}


}  // namespace

std::vector<std::string> changed_core_fields(const std::map<std::string, FormDef>& active,
                                             const std::map<std::string, FormDef>& incoming) {
    std::vector<std::string> out;
    for (const auto& [form, old_def] : active) {
        auto it = incoming.find(form);
        if (it == incoming.end()) continue;
        rapidjson::Document old_schema = parse_stored(form, "schema.json", old_def.schema_json);
        rapidjson::Document new_schema = parse_stored(form, "schema.json", it->second.schema_json);
        for (const auto& field : core_changes(old_schema, new_schema)) out.push_back(form + "." + field);
    }
    std::sort(out.begin(), out.end());
    return out;
}

BundleChanges diff_bundles(const std::string& version_a, const std::map<std::string, FormDef>& forms_a,
                           const std::string& version_b, const std::map<std::string, FormDef>& forms_b) {
    BundleChanges c;
    c.compare_version_a = version_a;
    c.compare_version_b = version_b;
    for (const auto& [form, def] : forms_a)
        if (!forms_b.count(form)) c.new_forms.push_back(form);
    for (const auto& [form, def] : forms_b)
        if (!forms_a.count(form)) c.removed_forms.push_back(form);

    for (const auto& [form, current] : forms_a) {
        auto it = forms_b.find(form);
        if (it == forms_b.end()) continue;
        const FormDef& target = it->second;
        rapidjson::Document schema_a = parse_stored(form, "schema.json", current.schema_json);
        rapidjson::Document schema_b = parse_stored(form, "schema.json", target.schema_json);
        rapidjson::Document ui_a = parse_stored(form, "ui.json", current.ui_json);
        rapidjson::Document ui_b = parse_stored(form, "ui.json", target.ui_json);
        FormChange fc;
        fc.form = form;
        fc.schema_changed = schema_a != schema_b;
        fc.ui_changed = ui_a != ui_b;
        if (!fc.schema_changed && !fc.ui_changed) continue;
        fc.core_changed = !core_changes(schema_b, schema_a).empty();
        fc.added_fields = fields_not_in(schema_a, schema_b);
        fc.removed_fields = fields_not_in(schema_b, schema_a);
        c.form_changes = c.form_changes || fc.schema_changed;
        c.ui_changes = c.ui_changes || fc.ui_changed;
        c.modified_forms.push_back(std::move(fc));
    }
    c.form_changes = c.form_changes || !c.new_forms.empty() || !c.removed_forms.empty();
    return c;
}

std::string changes_json(const BundleChanges& c) {
    rapidjson::StringBuffer sb;
    rapidjson::Writer<rapidjson::StringBuffer> w(sb);
    w.StartObject();
    w.Key("compare_version_a");
    w.String(c.compare_version_a);
    w.Key("compare_version_b");
    w.String(c.compare_version_b);
    w.Key("form_changes");
    w.Bool(c.form_changes);
    w.Key("ui_changes");
    w.Bool(c.ui_changes);
    write_form_list(w, "new_forms", c.new_forms);
    write_form_list(w, "removed_forms", c.removed_forms);
    w.Key("modified_forms");
    w.StartArray();
    for (const auto& fc : c.modified_forms) {
        w.StartObject();
        w.Key("form");
        w.String(fc.form);
        w.Key("schema_changed");
        w.Bool(fc.schema_changed);
        w.Key("ui_changed");
        w.Bool(fc.ui_changed);
        w.Key("core_changed");
        w.Bool(fc.core_changed);
        write_field_list(w, "added_fields", fc.added_fields);
        write_field_list(w, "removed_fields", fc.removed_fields);
        w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    return std::string(sb.GetString(), sb.GetSize());
}


}  // namespace domain
