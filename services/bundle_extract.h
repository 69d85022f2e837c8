// Extraction of an app bundle ZIP (contract section 4) into a version directory:
// libzip reads the archive, the files are written with openat (never following a
// symlink); what is refused is decided by the rules of domain/bundle_zip.h.
#pragma once
#include <map>
#include <string>

#include "domain/bundle_zip.h"

namespace services {

// Validates the ZIP at zip_path against every rule of contract section 4 and only
// then extracts its regular files into dest_dir, which the caller created empty
// and removes again when this throws. Throws domain::BundleError for anything refused.
domain::ExtractedBundle extract_bundle(const std::string& zip_path, const std::string& dest_dir,
                                       const domain::BundleLimits& limits = {});

// The forms of a stored version, as its directory holds them (for bundle diffs and
// the core-field rule of a push). Throws std::runtime_error when a file cannot be read.
std::map<std::string, domain::FormDef> read_forms_from_dir(const std::string& version_dir);

}  // namespace services
