// Which attachments a record's data names (CONTRACT section 8): every string value,
// at any depth, that has the form of an attachment file name. Pushes store the
// result in attachment_refs; GET /admin/records/{id} shows it with presence.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace domain {

// A record naming more attachments than this has the first ones (in sorted order)
// kept: the table must not grow without bound from one hostile record.
inline constexpr size_t kMaxRefsPerRecord = 200;

// The form of an attachment id as clients name files: a valid attachment id
// (domain/path_rules.h) that is a UUID, or a name with an extension of 1 to 16
// letters and digits holding at least one letter ("<uuid>.jpg", "photo-1.m4a").
// Plain words and numbers ("yes", "3.5") are valid ids too but name no file, and
// recording every one would make the table as large as the data.
bool looks_like_attachment_id(std::string_view s);

// The distinct values of that form in `data_json` (a JSON document, as stored),
// sorted, at most kMaxRefsPerRecord. Object keys are not values. Malformed JSON
// names nothing.
std::vector<std::string> attachment_refs(std::string_view data_json);

}  // namespace domain
