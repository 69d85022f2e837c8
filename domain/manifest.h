// The manifest of an app bundle version (contract section 4): what clients read
// to learn which files to download. Built once per version at push time.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "domain/bundle_zip.h"

namespace domain {

struct Manifest {
    std::string version;     // "0003"
    int64_t pushed_at_ms = 0;
    std::vector<BundleFile> files;  // sorted bytewise by path
    std::string hash;        // manifest_hash(files, version)
};

// Lowercase hex SHA-256 of path + file sha256 + decimal size over the files in
// bytewise path order, then the version name. The files are sorted here too, so
// the hash cannot depend on the caller's order.
std::string manifest_hash(const std::vector<BundleFile>& sorted_files, const std::string& version);

// {"files":[{path,size,hash,mimeType,modTime}],"version","generatedAt","hash"}.
// modTime and generatedAt are the push time in whole seconds (RFC 3339 with Z, no
// fraction): the contract's example format, and a manifest that never changes.
std::string manifest_json(const Manifest& manifest);

// Reads manifest_json's output back; pushed_at_ms comes from generatedAt, so it
// is whole seconds. Throws std::runtime_error on anything malformed.
Manifest parse_manifest_json(const std::string& json);

}  // namespace domain
