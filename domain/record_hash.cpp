#include "domain/record_hash.h"

#include "core/crypto.h"
#include "domain/canonical_json.h"

namespace domain {

std::string record_hash_canonical(std::string_view canonical_data, std::string_view schema_type,
                                  std::string_view schema_version) {
    // The wrapper is written by hand rather than built as a rapidjson object (which would
    // copy `data`): its keys are already in RFC 8785 order, "data" < "schemaType" <
    // "schemaVersion" by UTF-16 code units. A unit test checks this equals canonicalizing
    // the whole object.
    std::string doc;
    doc.reserve(canonical_data.size() + schema_type.size() + schema_version.size() + 48);
    doc.append("{\"data\":");
    doc.append(canonical_data);
    doc.append(",\"schemaType\":");
    canonical_json_string(schema_type, doc);
    doc.append(",\"schemaVersion\":");
    canonical_json_string(schema_version, doc);
    doc.push_back('}');
    return core::sha256_hex(doc);
}

std::string record_hash(const rapidjson::Value& data, std::string_view schema_type,
                        std::string_view schema_version) {
    return record_hash_canonical(canonical_json(data), schema_type, schema_version);
}

}  // namespace domain
