// Comparing the forms of two app bundle versions: the core-field guard of a push
// and the /app-bundle/changes report (contract section 4).
//
// "Field" means an entry of the top-level `properties` object of a form's
// schema.json (JSON Schema), which is how the forms describe their data; a
// property is a core field when it has "x-core": true or its name starts with
// "core_". JSON is compared parsed, so key order and spacing are not changes.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "domain/bundle_zip.h"

namespace domain {

// "form.field" for every core field of the active version that the incoming
// bundle changes or drops, sorted. Only forms present in both count: dropping a
// whole form is not a core-field change. Coreness is judged in the active
// version, so a field newly marked core is not a change to a core field.
// Throws std::runtime_error when a schema is not valid JSON (both were
// validated by extract_bundle, so that means damaged storage).
std::vector<std::string> changed_core_fields(const std::map<std::string, FormDef>& active,
                                             const std::map<std::string, FormDef>& incoming);

struct FieldRef {
    std::string field;
    std::string type;  // the property's "type"; an array joined with "|"; "" when absent
};

struct FormChange {
    std::string form;
    bool schema_changed = false;
    bool ui_changed = false;
    bool core_changed = false;
    std::vector<FieldRef> added_fields;    // in current only, or with another type there
    std::vector<FieldRef> removed_fields;  // in target only, or with another type there
};

struct BundleChanges {
    std::string compare_version_a;  // current
    std::string compare_version_b;  // target
    bool form_changes = false;      // any new, removed or schema-modified form
    bool ui_changes = false;        // any modified ui.json
    std::vector<std::string> new_forms;      // in current, not in target
    std::vector<std::string> removed_forms;  // in target, not in current
    std::vector<FormChange> modified_forms;
};

// Target (b, by default the version before current) is the base and current (a)
// the newer state: what current adds, removes and modifies relative to target.
// Every list is sorted by name.
BundleChanges diff_bundles(const std::string& version_a, const std::map<std::string, FormDef>& forms_a,
                           const std::string& version_b, const std::map<std::string, FormDef>& forms_b);

// {compare_version_a, compare_version_b, form_changes, ui_changes, new_forms: [{form}],
//  removed_forms: [{form}], modified_forms: [{form, schema_changed, ui_changed,
//  core_changed, added_fields: [{field, type}], removed_fields: [{field, type}]}]}
std::string changes_json(const BundleChanges& changes);


}  // namespace domain
