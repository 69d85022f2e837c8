#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "domain/bundle_diff.h"
#include "services/bundle_extract.h"

namespace fs = std::filesystem;
using domain::FormDef;
using Forms = std::map<std::string, FormDef>;

namespace {

const std::string kUi = R"({"type":"VerticalLayout","elements":[{"type":"Control","scope":"#/properties/name"}]})";

FormDef form(const std::string& properties, const std::string& ui = kUi) {
    return {R"({"type":"object","properties":{)" + properties + "}}", ui};
}

std::vector<std::string> field_names(const std::vector<domain::FieldRef>& fields) {
    std::vector<std::string> out;
    for (const auto& f : fields) out.push_back(f.field + ":" + f.type);
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(bundle_diff)

BOOST_AUTO_TEST_CASE(core_field_unchanged_passes_even_when_reformatted) {
    Forms active{{"person", form(R"("core_id":{"type":"string","maxLength":36},"name":{"type":"string"})")}};
    // Same definition, other key order and spacing; a non-core field changes.
    Forms incoming{{"person", form(R"("name":{"type":"integer"}, "core_id": { "maxLength": 36, "type": "string" })")}};
    BOOST_CHECK(domain::changed_core_fields(active, incoming).empty());
}

BOOST_AUTO_TEST_CASE(core_field_changed_or_removed_is_named) {
    Forms active{
        {"person", form(R"("core_id":{"type":"string"},"dob":{"type":"string","x-core":true},"name":{"type":"string"})")},
        {"visit", form(R"("core_site":{"type":"string"})")},
    };
    Forms incoming{
        {"person", form(R"("core_id":{"type":"integer"},"name":{"type":"string"})")},  // changed + dob removed
        {"visit", form(R"("core_site":{"type":"string"})")},
    };
    const std::vector<std::string> expected = {"person.core_id", "person.dob"};
    auto got = domain::changed_core_fields(active, incoming);
    BOOST_CHECK_EQUAL_COLLECTIONS(got.begin(), got.end(), expected.begin(), expected.end());
}

BOOST_AUTO_TEST_CASE(core_rules_scope) {
    // Removing a whole form is not a core-field change; neither is a new form.
    Forms active{{"person", form(R"("core_id":{"type":"string"})")}};
    Forms incoming{{"visit", form(R"("core_site":{"type":"string"})")}};
    BOOST_CHECK(domain::changed_core_fields(active, incoming).empty());

    // Coreness is judged in the active version: marking a field core is allowed,
    // and x-core false or a nested core_ name does not make a core field.
    Forms before{{"f", form(R"("a":{"type":"string"},"b":{"type":"string","x-core":false},)"
                            R"("c":{"type":"object","properties":{"core_x":{"type":"string"}}})")}};
    Forms after{{"f", form(R"("a":{"type":"string","x-core":true},"b":{"type":"integer"},)"
                           R"("c":{"type":"object","properties":{"core_x":{"type":"number"}}})")}};
    BOOST_CHECK(domain::changed_core_fields(before, after).empty());

    // Dropping x-core from a core field changes its definition.
    auto got = domain::changed_core_fields(after, before);
    BOOST_REQUIRE_EQUAL(got.size(), 1u);
    BOOST_CHECK_EQUAL(got[0], "f.a");
}

BOOST_AUTO_TEST_CASE(new_removed_and_modified_forms) {
    Forms target{
        {"gone", form(R"("x":{"type":"string"})")},
        {"person", form(R"("age":{"type":"integer"},"name":{"type":"string"},"old":{"type":["string","null"]})")},
        {"same", form(R"("x":{"type":"string"})")},
    };
    Forms current{
        {"fresh", form(R"("x":{"type":"string"})")},
        {"person", form(R"("age":{"type":"number"},"name":{"type":"string"},"nick":{"type":"string"},"any":{})")},
        {"same", form(R"( "x" : { "type" : "string" } )")},
    };
    auto c = domain::diff_bundles("0003", current, "0002", target);
    BOOST_CHECK_EQUAL(c.compare_version_a, "0003");
    BOOST_CHECK_EQUAL(c.compare_version_b, "0002");
    BOOST_CHECK(c.form_changes);
    BOOST_CHECK(!c.ui_changes);
    BOOST_CHECK(c.new_forms == std::vector<std::string>{"fresh"});
    BOOST_CHECK(c.removed_forms == std::vector<std::string>{"gone"});
    BOOST_REQUIRE_EQUAL(c.modified_forms.size(), 1u);
    const auto& p = c.modified_forms[0];
    BOOST_CHECK_EQUAL(p.form, "person");
    BOOST_CHECK(p.schema_changed);
    BOOST_CHECK(!p.ui_changed);
    BOOST_CHECK(!p.core_changed);
    // A type change shows in both lists, each with its own type.
    auto added = field_names(p.added_fields);
    auto removed = field_names(p.removed_fields);
    const std::vector<std::string> want_added = {"age:number", "any:", "nick:string"};
    const std::vector<std::string> want_removed = {"age:integer", "old:string|null"};
    BOOST_CHECK_EQUAL_COLLECTIONS(added.begin(), added.end(), want_added.begin(), want_added.end());
    BOOST_CHECK_EQUAL_COLLECTIONS(removed.begin(), removed.end(), want_removed.begin(), want_removed.end());

    BOOST_CHECK_EQUAL(domain::changes_json(c),
                      R"({"compare_version_a":"0003","compare_version_b":"0002","form_changes":true,"ui_changes":false,)"
                      R"("new_forms":[{"form":"fresh"}],"removed_forms":[{"form":"gone"}],)"
                      R"("modified_forms":[{"form":"person","schema_changed":true,"ui_changed":false,"core_changed":false,)"
                      R"("added_fields":[{"field":"age","type":"number"},{"field":"any","type":""},{"field":"nick","type":"string"}],)"
                      R"("removed_fields":[{"field":"age","type":"integer"},{"field":"old","type":"string|null"}]}]})");
}

BOOST_AUTO_TEST_CASE(ui_only_change) {
    Forms target{{"person", form(R"("name":{"type":"string"})")}};
    Forms current{{"person", form(R"("name":{"type":"string"})", R"({"type":"HorizontalLayout","elements":[]})")}};
    auto c = domain::diff_bundles("0002", current, "0001", target);
    BOOST_CHECK(!c.form_changes);
    BOOST_CHECK(c.ui_changes);
    BOOST_REQUIRE_EQUAL(c.modified_forms.size(), 1u);
    BOOST_CHECK(!c.modified_forms[0].schema_changed);
    BOOST_CHECK(c.modified_forms[0].ui_changed);
    BOOST_CHECK(c.modified_forms[0].added_fields.empty());
    BOOST_CHECK(c.modified_forms[0].removed_fields.empty());
}

BOOST_AUTO_TEST_CASE(core_changed_flag_in_report) {
    Forms target{{"person", form(R"("core_id":{"type":"string"},"name":{"type":"string"})")}};
    Forms changed{{"person", form(R"("core_id":{"type":"string","maxLength":10},"name":{"type":"string"})")}};
    Forms untouched{{"person", form(R"("core_id":{"type":"string"},"name":{"type":"integer"})")}};
    Forms removed{{"person", form(R"("name":{"type":"string"})")}};
    BOOST_CHECK(domain::diff_bundles("b", changed, "a", target).modified_forms.at(0).core_changed);
    BOOST_CHECK(!domain::diff_bundles("b", untouched, "a", target).modified_forms.at(0).core_changed);
    auto c = domain::diff_bundles("b", removed, "a", target);
    BOOST_CHECK(c.modified_forms.at(0).core_changed);
    BOOST_CHECK_EQUAL(field_names(c.modified_forms.at(0).removed_fields).at(0), "core_id:string");
}

BOOST_AUTO_TEST_CASE(identical_versions_and_empty_lists) {
    Forms f{{"person", form(R"("name":{"type":"string"})")}};
    auto c = domain::diff_bundles("0001", f, "0001", f);
    BOOST_CHECK(!c.form_changes);
    BOOST_CHECK(!c.ui_changes);
    BOOST_CHECK_EQUAL(domain::changes_json(c),
                      R"({"compare_version_a":"0001","compare_version_b":"0001","form_changes":false,)"
                      R"("ui_changes":false,"new_forms":[],"removed_forms":[],"modified_forms":[]})");
}

BOOST_AUTO_TEST_CASE(forms_are_read_from_a_version_directory) {
    char tmpl[] = "/tmp/synkronus-diff-test-XXXXXX";
    BOOST_REQUIRE(::mkdtemp(tmpl));
    const fs::path dir = tmpl;
    BOOST_CHECK(services::read_forms_from_dir(dir.string()).empty());  // no forms/ at all
    fs::create_directories(dir / "forms/person");
    fs::create_directories(dir / "forms/visit");
    fs::create_directories(dir / "app");
    std::ofstream(dir / "forms/person/schema.json") << R"({"a":1})";
    std::ofstream(dir / "forms/person/ui.json") << R"({"b":2})";
    std::ofstream(dir / "forms/visit/schema.json") << "{}";
    std::ofstream(dir / "forms/visit/ui.json") << "{}";
    auto forms = services::read_forms_from_dir(dir.string());
    BOOST_REQUIRE_EQUAL(forms.size(), 2u);
    BOOST_CHECK_EQUAL(forms.at("person").schema_json, R"({"a":1})");
    BOOST_CHECK_EQUAL(forms.at("person").ui_json, R"({"b":2})");
    fs::remove(dir / "forms/visit/ui.json");
    BOOST_CHECK_THROW(services::read_forms_from_dir(dir.string()), std::runtime_error);
    fs::remove_all(dir);
}

BOOST_AUTO_TEST_SUITE_END()
