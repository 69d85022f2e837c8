// The server-assigned record hash of the sync contract: lowercase hex SHA-256 of the
// RFC 8785 canonical JSON of {"data": …, "schemaType": …, "schemaVersion": …}.
#pragma once
#include <string>
#include <string_view>

#include <rapidjson/document.h>

namespace domain {

// Throws std::invalid_argument where canonical_json does.
std::string record_hash(const rapidjson::Value& data, std::string_view schema_type,
                        std::string_view schema_version);

// The same hash from data already in canonical form (canonical_json(data)), so a push
// that stores the canonical data does not canonicalize it twice.
std::string record_hash_canonical(std::string_view canonical_data, std::string_view schema_type,
                                  std::string_view schema_version);

}  // namespace domain
